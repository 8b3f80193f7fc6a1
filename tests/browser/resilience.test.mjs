// End-to-end: the room page without a camera or microphone, muting, the name form, and
// reconnecting after the WebSocket drops — against the real mcu-server.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, waitForState, waitGrowing, until, rosterNames,
  dumpLogs, SHOT_DIR,
} from './harness.mjs';

const TEST_TIMEOUT = 180000;
const joinUrl = (base, name) => `${base}/join/demo${name ? `?name=${encodeURIComponent(name)}` : ''}`;

// Makes getUserMedia fail for the listed kinds, as on a PC without (or denying) them.
function denyDevices(kinds) {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) =>
    kinds.some((k) => c && c[k])
      ? Promise.reject(new DOMException('no device (test)', 'NotFoundError'))
      : real(c);
}

// Records every WebSocket the page opens, so a test can drop the signaling connection.
function recordSockets() {
  const Real = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Real {
    constructor(...a) {
      super(...a);
      window.__sockets.push(this);
    }
  };
}

let server;
let browser;
const opened = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(t, name, url, opts) {
  const page = await openPage(browser, url, opts);
  opened.push(page);
  t.after(async () => {
    if (!t.passed) {
      dumpLogs(name, page);
      console.log(`--- server log tail ---\n${server.tail()}`);
    }
    await page.context().close();
  });
  return page;
}

describe('room page resilience', { timeout: TEST_TIMEOUT }, () => {
  test('a room without a camera joins with its mic and still sees the composite', async (t) => {
    const page = await open(t, 'nocam', joinUrl(server.base, 'Xã Tả Van'),
      { initScript: denyDevices, initArg: ['video'] });
    await waitForState(page, 'connected');
    await waitGrowing(page, 'video framesDecoded', (s) => s?.video?.framesDecoded);
    await waitGrowing(page, 'audio packetsReceived', (s) => s?.audio?.packetsReceived);
    await page.locator('.notice[data-key="media.noCam"]').waitFor({ state: 'visible', timeout: 10000 });
    assert.ok(await page.locator('#btn-cam').isDisabled());
    assert.ok(await page.locator('#btn-mic').isEnabled());
    // Its mic is sent: the audio sender has a track and packets leave.
    await until('outbound audio packets', () => page.evaluate(async () => {
      let n = 0;
      (await window.mcuRoom.pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'audio') n = s.packetsSent;
      });
      return n > 0;
    }));
  });

  test('a room with neither camera nor mic receives only', async (t) => {
    const page = await open(t, 'none', joinUrl(server.base, 'Phòng Văn thư'),
      { initScript: denyDevices, initArg: ['video', 'audio'] });
    await waitForState(page, 'connected');
    await waitGrowing(page, 'video framesDecoded', (s) => s?.video?.framesDecoded);
    await waitGrowing(page, 'audio packetsReceived', (s) => s?.audio?.packetsReceived);
    await page.locator('.notice[data-key="media.none"]').waitFor({ state: 'visible', timeout: 10000 });
    await page.screenshot({ path: path.join(SHOT_DIR, 'mcu-browser-receive-only.png') });
  });

  test('muting shows in the other room’s roster', async (t) => {
    const a = await open(t, 'A', joinUrl(server.base, 'UBND tỉnh Lào Cai'));
    const b = await open(t, 'B', joinUrl(server.base, 'Sở Giáo dục'));
    await waitForState(a, 'connected');
    await waitForState(b, 'connected');
    const aId = await a.evaluate(() => window.mcuRoom.participantId);
    const flag = (cls) => `#roster [data-participant-id="${aId}"] .${cls}`;
    await b.locator(`#roster [data-participant-id="${aId}"]`).waitFor();

    await a.click('#btn-mic');
    assert.equal(await a.locator('#btn-mic').getAttribute('aria-pressed'), 'true');
    assert.equal(await a.evaluate(() =>
      window.mcuRoom.pc.getSenders().find((s) => s.track?.kind === 'audio').track.enabled), false);
    await b.locator(flag('mic-muted')).waitFor({ timeout: 30000 });
    // The server's offer asks for DTX (usedtx=1), so a muted room's encoder sends a packet every
    // 400 ms or so instead of fifty a second: most rooms of a meeting cost the server almost no
    // audio. Rate over three seconds of the stats' own clock, from a second after muting.
    const audioSent = () => a.evaluate(async () => {
      let out = null;
      (await window.mcuRoom.pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'audio') out = { n: s.packetsSent, t: s.timestamp };
      });
      return out;
    });
    const after = (from, ms) => until(`${ms} ms of outbound audio stats`, async () => {
      const now = await audioSent();
      return now && (!from || now.t - from.t >= ms) ? now : null;
    });
    const first = await after(await after(null, 0), 1000);  // the encoder has seen the silence
    const later = await after(first, 3000);
    const rate = ((later.n - first.n) * 1000) / (later.t - first.t);
    assert.ok(rate < 10, `a muted room sends ${rate.toFixed(1)} audio packets a second (DTX: ~3)`);
    await a.click('#btn-cam');
    await b.locator(flag('cam-muted')).waitFor({ timeout: 30000 });
    await b.screenshot({ path: path.join(SHOT_DIR, 'mcu-browser-muted-roster.png') });

    await a.click('#btn-mic');
    await b.locator(flag('mic-muted')).waitFor({ state: 'detached', timeout: 30000 });
  });

  test('without ?name= the page asks for the room name', async (t) => {
    const page = await open(t, 'form', joinUrl(server.base));
    await page.locator('#name-screen').waitFor();
    await page.fill('#name-input', 'Phòng Tài chính');
    await page.click('#name-form button[type=submit]');
    await waitForState(page, 'connected');
    assert.ok((await rosterNames(page)).includes('Phòng Tài chính'));
    assert.match(page.url(), /name=Ph%C3%B2ng/);
    assert.equal(await page.evaluate(() => localStorage.getItem('mcu.roomName')), 'Phòng Tài chính');
  });

  test('after the WebSocket drops the page reconnects by itself', async (t) => {
    const page = await open(t, 'reconnect', joinUrl(server.base, 'Huyện Bát Xát'),
      { initScript: recordSockets });
    await waitForState(page, 'connected');
    const firstId = await page.evaluate(() => window.mcuRoom.participantId);
    await page.evaluate(() => window.__sockets.at(-1).close());
    await waitForState(page, 'reconnecting', 10000);
    await waitForState(page, 'connected');
    await waitGrowing(page, 'video framesDecoded after reconnect', (s) => s?.video?.framesDecoded);
    const names = await until('roster after reconnect', async () => {
      const n = await rosterNames(page);
      return n.includes('Huyện Bát Xát') ? n : null;
    });
    assert.equal(names.filter((n) => n === 'Huyện Bát Xát').length, 1);
    assert.notEqual(await page.evaluate(() => window.mcuRoom.participantId), null);
    assert.equal(typeof firstId, 'string');
  });
});
