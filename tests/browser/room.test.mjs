// End-to-end: two rooms join meeting "demo" through the real mcu-server and Debian's Chromium
// (fake camera and microphone), see the composite, get the audio mix, and one leaves.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, waitForState, waitGrowing, until, rosterNames,
  stateOf, dumpLogs, outboundVideo, SHOT_DIR,
} from './harness.mjs';

const ROOM_A = 'Xã Bản Lầu';
const ROOM_B = 'Sở Y tế';
const TEST_TIMEOUT = 180000;

const joinUrl = (base, name, code = 'demo') =>
  `${base}/join/${encodeURIComponent(code)}?name=${encodeURIComponent(name)}`;
const shot = (page, name) => page.screenshot({ path: path.join(SHOT_DIR, `mcu-browser-${name}.png`) });

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('room page', { timeout: TEST_TIMEOUT }, () => {
  test('two rooms see the composite, get the mix, and one leaves', async (t) => {
    const pages = {};
    t.after(async () => {
      if (!t.passed) {
        for (const [n, p] of Object.entries(pages)) dumpLogs(n, p);
        console.log(`--- server log tail (${server.logPath}) ---\n${server.tail()}`);
      }
      for (const p of Object.values(pages)) await p.context().close();
    });
    pages.A = await openPage(browser, joinUrl(server.base, ROOM_A));
    pages.B = await openPage(browser, joinUrl(server.base, ROOM_B));
    const { A, B } = pages;

    for (const [n, p] of Object.entries(pages)) {
      await waitForState(p, 'connected').catch(async (e) => {
        throw new Error(`${n} did not connect (state ${await stateOf(p)}): ${e.message}`);
      });
      assert.equal(await p.locator('#conn-state .conn-label').textContent(), 'Đã kết nối');
    }

    for (const p of [A, B]) {
      await waitGrowing(p, 'video framesDecoded', (s) => s?.video?.framesDecoded);
      await waitGrowing(p, 'audio packetsReceived', (s) => s?.audio?.packetsReceived);
      await until('both rooms in the roster', async () => {
        const names = await rosterNames(p);
        return names.length === 2 && names.includes(ROOM_A) && names.includes(ROOM_B);
      });
    }
    // Exactly one incoming video (the composite) and one audio mix; the third m-line (the
    // room's screen share) only sends.
    const tracks = await B.evaluate(() => window.mcuRoom.pc.getTransceivers()
      .filter((t) => /recv/.test(t.currentDirection ?? '')).map((t) => t.receiver.track.kind).sort());
    assert.deepEqual(tracks, ['audio', 'video']);
    assert.ok(await B.evaluate(() => window.mcuRoom.participantId), 'participant id exposed');
    // The composite is playing in the big video element.
    await until('composite <video> playing', () =>
      B.evaluate(() => {
        const v = document.getElementById('composite');
        return v.videoWidth > 0 && !v.paused && v.readyState >= 2;
      }));
    await shot(B, 'room-connected');

    await A.click('#btn-leave');
    await waitForState(A, 'left');
    assert.equal(await A.locator('#conn-state .conn-label').textContent(), 'Đã rời phòng');
    await A.locator('#end-screen').waitFor({ state: 'visible', timeout: 10000 });
    await A.locator('#btn-rejoin').waitFor({ state: 'visible', timeout: 10000 });
    await shot(A, 'room-left');

    await until('B roster shrinks to one', async () => {
      const names = await rosterNames(B);
      return names.length === 1 && names[0] === ROOM_B;
    });
    assert.equal(await stateOf(B), 'connected');
    await waitGrowing(B, 'B video framesDecoded after A left', (s) => s?.video?.framesDecoded);
    await waitGrowing(B, 'B audio packetsReceived after A left', (s) => s?.audio?.packetsReceived);

    // Rejoin brings A back with a new session.
    await A.click('#btn-rejoin');
    await waitForState(A, 'connected');
    await waitGrowing(A, 'A video framesDecoded after rejoin', (s) => s?.video?.framesDecoded);
    await until('B roster grows back to two', async () => (await rosterNames(B)).length === 2);
  });

  test('a room told its camera is off the composite stops sending it, and sends it again when told', async (t) => {
    const page = await openPage(browser, joinUrl(server.base, 'Xã Tả Phìn'));
    t.after(async () => {
      if (!t.passed) dumpLogs('video-wanted', page);
      await page.context().close();
    });
    await waitForState(page, 'connected');
    // The camera's frames sent so far.
    const encoded = async () => (await outboundVideo(page)).framesEncoded ?? 0;
    const growing = async (what) => {
      const first = await until(`${what}: frames encoded`, encoded);
      return until(`${what}: more frames encoded`, async () => ((await encoded()) > first ? 1 : 0));
    };
    // Stopped: two samples a second apart agree, and go on agreeing.
    const stopped = () => until('the camera to stop', async () => {
      const a = await encoded();
      await page.waitForTimeout(1000);
      return (await encoded()) === a ? 1 : 0;
    });
    await growing('at first');
    await page.evaluate(() => window.mcuRoom.receive({ type: 'video-wanted', wanted: false }));
    assert.equal(await page.evaluate(() => window.mcuRoom.cameraWanted), false);
    await stopped();
    const held = await encoded();
    await page.waitForTimeout(1500);
    assert.equal(await encoded(), held, 'the camera stays off while not wanted');
    await page.evaluate(() => window.mcuRoom.receive({ type: 'video-wanted', wanted: true }));
    await growing('wanted again');
  });

  test('a shown room sends its camera no larger than its tile on the composite', async (t) => {
    const page = await openPage(browser, joinUrl(server.base, 'Xã Sín Chéng'));
    t.after(async () => {
      if (!t.passed) dumpLogs('camera-tile', page);
      await page.context().close();
    });
    await waitForState(page, 'connected');
    // The width of the camera frames the browser encodes now (the test camera is 640x360).
    const sentWidth = async () => (await outboundVideo(page)).frameWidth ?? 0;
    // Alone in the meeting, the server told it its tile is the whole composite.
    assert.deepEqual(await page.evaluate(() => window.mcuRoom.cameraTile), { width: 1280, height: 720 });
    // (The encoder may itself send less than 640 wide while its bandwidth estimate is low.)
    await until('the camera is sent unscaled', async () => ((await sentWidth()) > 300 ? 1 : 0));
    // A 5 x 5 grid's tile (a fifth of a 1280x720 composite, 256x144): the camera scaled down by
    // 2.5 covers it exactly; by no more, so the tile is never upscaled.
    await page.evaluate(() => window.mcuRoom.receive({ type: 'video-wanted', wanted: true, width: 256, height: 144 }));
    await until('the camera is scaled to its tile', async () => {
      const w = await sentWidth();
      return w >= 250 && w <= 256 ? 1 : 0;
    });
    // Back to the whole composite: the scaling is lifted at once; the encoder then grows the
    // picture as its bandwidth estimate allows.
    await page.evaluate(() => window.mcuRoom.receive({ type: 'video-wanted', wanted: true, width: 1280, height: 720 }));
    assert.equal(await page.evaluate(() => window.mcuRoom.pc.getTransceivers()
      .find((tr) => tr.sender.track?.kind === 'video')
      ?.sender.getParameters().encodings[0].scaleResolutionDownBy), 1);
    await until('a larger camera again', async () => ((await sentWidth()) > 256 ? 1 : 0));
  });

  test('the language switch changes the state label to English', async (t) => {
    const page = await openPage(browser, joinUrl(server.base, 'Phòng Nội vụ'));
    t.after(async () => {
      if (!t.passed) dumpLogs('lang', page);
      await page.context().close();
    });
    await waitForState(page, 'connected');
    const label = page.locator('#conn-state .conn-label');
    assert.equal(await label.textContent(), 'Đã kết nối');
    assert.equal(await page.locator('#btn-leave .ctl-label').textContent(), 'Rời phòng');

    await page.click('#lang-switch');
    assert.equal(await label.textContent(), 'Connected');
    assert.equal(await page.locator('#btn-leave .ctl-label').textContent(), 'Leave');
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.evaluate(() => localStorage.getItem('mcu.lang')), 'en');
    await shot(page, 'room-english');

    await page.click('#lang-switch');
    assert.equal(await label.textContent(), 'Đã kết nối');
  });

  test('an unknown meeting code ends in the failed state with a translated reason', async (t) => {
    const page = await openPage(browser, joinUrl(server.base, 'Phòng Tư pháp', 'khong-co-hop-nay'));
    t.after(async () => {
      if (!t.passed) dumpLogs('unknown', page);
      await page.context().close();
    });
    await waitForState(page, 'failed');
    await page.locator('#end-screen').waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await page.locator('#end-body').textContent(), /Không có cuộc họp/);
  });

  test('the landing page leads to the room page', async (t) => {
    const page = await openPage(browser, `${server.base}/`);
    t.after(() => page.context().close());
    await page.fill('#code-input', 'demo');
    await page.fill('#name-input', 'Huyện Mường Khương');
    await page.click('#join-form button[type=submit]');
    await page.waitForURL(/\/join\/demo\?name=/);
    await waitForState(page, 'connected');
    assert.deepEqual(
      (await rosterNames(page)).includes('Huyện Mường Khương'), true);
  });
});
