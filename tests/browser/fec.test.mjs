// End-to-end: FEC toward a lossy viewer. The server (video.fecOnLossPercent 0: every viewer whose
// answer keeps RED and ULPFEC is protected) loses every 10th video packet it sends the viewer, and
// every resend (MCU_TEST_VIDEO_LOSS_EVERY): only ULPFEC can repair what Chromium misses. It must
// keep decoding the composite without asking for keyframes; without FEC each loss breaks a frame
// and the picture stalls until the next keyframe. (Chromium counts only FlexFEC in
// fecPacketsReceived, so ULPFEC shows in what it repairs, not in that counter.)
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

let server;
let browser;
let configDir;

before(async () => {
  configDir = mkdtempSync(path.join(tmpdir(), 'mcu-fec-config-'));
  const config = path.join(configDir, 'mcu.json');
  writeFileSync(config, JSON.stringify({ video: { fecOnLossPercent: Number(FEC_ON_LOSS_PERCENT) } }));
  process.env.MCU_TEST_VIDEO_LOSS_EVERY = '10';
  try {
    server = await startServer({ extraArgs: ['--config', config] });
  } finally {
    delete process.env.MCU_TEST_VIDEO_LOSS_EVERY;
  }
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

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

describe('forward error correction', { timeout: TEST_TIMEOUT }, () => {
  test('a viewer losing every 10th packet keeps decoding from ULPFEC', async (t) => {
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
    const first = await until('frames decoded', async () => {
      last = await composite(A);
      return last && last.framesDecoded > 10 ? last : null;
    }).catch((e) => { throw new Error(`${e.message}; stats ${JSON.stringify(last)}`); });
    await new Promise((r) => setTimeout(r, 10000));  // a span to count over, not a condition
    last = await composite(A);
    console.log(`# composite: from ${JSON.stringify(first)} to ${JSON.stringify(last)}`);
    assert.ok(last.packetsLost - first.packetsLost >= 20, 'the viewer lost packets');
    assert.equal(last.retransmitted, 0, 'nothing was resent');
    // Measured on 2 loaded cores: with FEC 74-228 frames and no PLI in the 10 s, without it
    // 8 frames (a keyframe's worth each time) and 2 PLIs.
    assert.ok(last.framesDecoded - first.framesDecoded >= 50,
      `the picture kept decoding: ${JSON.stringify(last)}`);
    assert.ok(last.pliCount - first.pliCount <= 1, `no keyframes asked for: ${JSON.stringify(last)}`);
  });
});
