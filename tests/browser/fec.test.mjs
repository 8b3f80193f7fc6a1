// End-to-end: FEC toward a lossy viewer. The server loses every 10th video packet it sends the
// viewer, and every resend (MCU_TEST_VIDEO_LOSS_EVERY): only ULPFEC can repair what Chromium
// misses. With video.fecOnLossPercent 0 every viewer whose answer keeps RED and ULPFEC is
// protected from the start; at the default 2 % its first loss windows switch FEC on. Either way
// Chromium must keep decoding the composite without asking for keyframes; without FEC
// (MCU_TEST_FEC_PERCENT=100 runs the first test so) each loss breaks a frame and the picture stalls
// until the next keyframe. (Chromium counts only FlexFEC in fecPacketsReceived, so ULPFEC shows in
// what it repairs, not in that counter.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, waitForState, until, stateOf, closePagesAfter,
} from './harness.mjs';

const TEST_TIMEOUT = 120000;
const FEC_ON_LOSS_PERCENT = process.env.MCU_TEST_FEC_PERCENT ?? '0';  // 100: a run without FEC

let browser;
let configDir;

before(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'mcu-fec-config-'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

// A server that loses every 10th video packet to each viewer, and every resend.
async function lossyServer(fecOnLossPercent) {
  const config = path.join(configDir, `mcu-${fecOnLossPercent}.json`);
  writeFileSync(config, JSON.stringify({ video: { fecOnLossPercent } }));
  process.env.MCU_TEST_VIDEO_LOSS_EVERY = '10';
  try {
    return await startServer({ extraArgs: ['--config', config] });
  } finally {
    delete process.env.MCU_TEST_VIDEO_LOSS_EVERY;
  }
}

// The composite's inbound-rtp counters.
function composite(page) {
  return page.evaluate(async () => {
    let out = null;
    (await window.mcuRoom?.pc?.getStats())?.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out = {
          framesDecoded: s.framesDecoded ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          packetsLost: s.packetsLost ?? 0,
          pliCount: s.pliCount ?? 0,
          nackCount: s.nackCount ?? 0,
          retransmitted: s.retransmittedPacketsReceived ?? 0,
          freezeCount: s.freezeCount ?? 0,
        };
      }
    });
    return out;
  });
}

// Joins a room, checks its answer kept RED and ULPFEC, waits `settleMs` once frames decode, and
// returns the composite's counters before and after 10 s more.
async function watchLossyComposite(t, server, settleMs) {
  const pages = {};
  closePagesAfter(t, pages, server, 'fec');
  pages.A = await openPage(browser,
    `${server.base}/join/demo?name=${encodeURIComponent('Xã Bản Lầu')}`);
  const { A } = pages;
  await waitForState(A, 'connected').catch(async (e) => {
    throw new Error(`did not connect (state ${await stateOf(A)}): ${e.message}`);
  });
  const answer = await A.evaluate(() => window.mcuRoom.pc.localDescription.sdp);
  assert.match(answer, /a=rtpmap:100 red\/90000/);
  assert.match(answer, /a=rtpmap:101 ulpfec\/90000/);
  let last = null;
  await until('frames decoded', async () => {
    last = await composite(A);
    return last && last.framesDecoded > 10 ? last : null;
  }).catch((e) => { throw new Error(`${e.message}; stats ${JSON.stringify(last)}`); });
  // Spans to count over, not conditions to wait for.
  await new Promise((r) => setTimeout(r, settleMs));
  const first = await composite(A);
  await new Promise((r) => setTimeout(r, 10000));
  last = await composite(A);
  console.log(`# composite: from ${JSON.stringify(first)} to ${JSON.stringify(last)}`);
  return { first, last };
}

// Measured on 2 loaded cores: with FEC 250-262 frames (the full 25 fps) and no PLI in the 10 s,
// without it 8 frames (a keyframe's worth each time) and 2 PLIs.
function assertRepaired({ first, last }) {
  assert.ok(last.packetsLost - first.packetsLost >= 20, 'the viewer lost packets');
  assert.equal(last.retransmitted, 0, 'nothing was resent');
  assert.ok(last.framesDecoded - first.framesDecoded >= 100,
    `the picture kept decoding: ${JSON.stringify(last)}`);
  assert.ok(last.pliCount - first.pliCount <= 1, `no keyframes asked for: ${JSON.stringify(last)}`);
}

describe('forward error correction', { timeout: TEST_TIMEOUT }, () => {
  test('a viewer always protected (fecOnLossPercent 0) keeps decoding from ULPFEC', async (t) => {
    const server = await lossyServer(Number(FEC_ON_LOSS_PERCENT));
    try {
      assertRepaired(await watchLossyComposite(t, server, 0));
    } finally {
      await server.stop();
    }
  });

  test('a viewer whose loss reports cross the default 2 % gets FEC and keeps decoding', async (t) => {
    const server = await lossyServer(2);
    try {
      // Its first loss windows (about 0.9 s each) switch FEC on.
      assertRepaired(await watchLossyComposite(t, server, 3000));
    } finally {
      await server.stop();
    }
  });
});
