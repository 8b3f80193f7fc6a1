// End-to-end (issue 4): a host chairs a live meeting from the console's live view. Two bridge
// points join, each camera one solid colour (the hall red, the commune blue); the host mutes one
// (its page says the chair muted it), the other raises its hand, gets the floor (its page shows
// it, its hand comes down), the layout goes to active speaker (the console draws the big tile and
// the other room's composite has the floor holder's colour in the big pane), "everyone sees" and a
// pinned pane move the colours too, a roll call is answered with one click, and a shared screen
// (the offer's third m-line) turns the layout to presenter until it stops. Then the chair locks
// the meeting, removes a room (its unattended page waits and comes back by itself when invited
// back and unlocked) and shows a notice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, launchBrowser, closePagesAfter, openPage, waitForState, waitGrowing, until, api,
  adminToken, dumpLogs, SHOT_DIR, solidCamera, compositeColours, hueOf,
} from './harness.mjs';

const TEST_TIMEOUT = 240000;
const HOUR = 3600 * 1000;
const HOST = { username: 'chu-tri', password: 'mat-khau-chu-tri-2026' };
const TECH = { username: 'ky-thuat', password: 'mat-khau-ky-thuat-2026' };
const UNITS = { hall: 'lc.so.yt', commune: 'lc.xa.ban-lau' };
const shot = (page, name) => page.screenshot({ path: path.join(SHOT_DIR, `mcu-chair-${name}.png`) });
const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

const CAMERAS = { hall: { css: '#e00000', hue: 'red' }, commune: { css: '#0000e0', hue: 'blue' } };

let server;
let browser;
let meeting; // {id, code, …} as the REST API returns it
let hostToken;
const links = {}; // unit id -> room-link path

// Both bridge points join from their room links, each camera one colour; → pages and their ids.
async function joinRooms(pages) {
  for (const name of ['hall', 'commune']) {
    pages[name] = await openPage(browser, `${server.base}${links[UNITS[name]]}`,
      { initScript: solidCamera, initArg: CAMERAS[name].css });
  }
  await waitForState(pages.hall, 'connected', 60000);
  await waitForState(pages.commune, 'connected', 60000);
  const ids = {
    hall: await pages.hall.evaluate(() => window.mcuRoom.participantId),
    commune: await pages.commune.evaluate(() => window.mcuRoom.participantId),
  };
  assert.ok(ids.hall && ids.commune);
  return ids;
}

// The host logs in and opens the live view from the meeting's detail view.
async function openLiveView(pages) {
  pages.host = await openPage(browser, `${server.base}/host`);
  const { host } = pages;
  await byTestId(host, 'login-username').fill(HOST.username);
  await byTestId(host, 'login-password').fill(HOST.password);
  await byTestId(host, 'login-submit').click();
  await byTestId(host, 'tab-meetings').waitFor({ state: 'visible', timeout: 30000 });
  await host.evaluate((id) => { location.hash = `#/meeting/${id}`; }, meeting.id);
  await byTestId(host, 'meeting-head').locator('[data-testid="live-open"]').click();
  await waitLiveConnected(host);
  assert.equal(await host.evaluate(() => window.mcuHost.view), 'live');
  return host;
}

async function waitLiveConnected(host) {
  await host.locator('[data-testid="live-state"][data-state="connected"]').waitFor({ timeout: 30000 });
  await until('a meeting-state', () => host.evaluate(() => window.mcuHost.live?.meeting));
}

const liveRow = (host, id) => host.locator(`[data-testid="live-room"][data-room-id="${id}"]`);

// Whether `page`'s received composite has each room's colour (hues: room id → hue) at the centre
// of the tile the console's last meeting-state gives it: the room sees the chair's layout.
async function compositeFollows(page, host, hues) {
  const layout = await host.evaluate(() => window.mcuHost.live?.layout);
  const tiles = (layout?.tiles ?? []).filter((tile) => hues[tile.source]);
  if (!layout?.canvas || tiles.length !== Object.keys(hues).length) return false;
  const { width, height } = layout.canvas;
  const colours = await compositeColours(page,
    tiles.map((tile) => [(tile.x + tile.width / 2) / width, (tile.y + tile.height / 2) / height]));
  return !!colours && tiles.every((tile, i) => hueOf(colours[i]) === hues[tile.source]);
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The admin makes a host and a technician (their one-time passwords settled through the API)
  // and the bridge points' room links; the host schedules and opens the meeting.
  const admin = await adminToken(server);
  for (const [account, role] of [[HOST, 'host'], [TECH, 'technician']]) {
    let r = await api(server.base, 'POST', '/accounts', {
      token: admin, body: { username: account.username, role, password: 'tam-thoi-123456' } });
    assert.equal(r.status, 201, r.text);
    r = await api(server.base, 'POST', '/auth/login',
      { body: { username: account.username, password: 'tam-thoi-123456' } });
    assert.equal(r.status, 200, r.text);
    r = await api(server.base, 'POST', '/me/password', {
      token: r.json.token, body: { oldPassword: 'tam-thoi-123456', newPassword: account.password } });
    assert.equal(r.status, 204, r.text);
  }
  let r;
  const host = (await api(server.base, 'POST', '/auth/login', { body: HOST })).json.token;
  hostToken = host;
  for (const unit of Object.values(UNITS)) {
    const link = await api(server.base, 'POST', `/units/${unit}/room-link`, { token: admin });
    assert.equal(link.status, 201, link.text);
    links[unit] = link.json.url;
  }
  const start = Date.now() + 5 * 60 * 1000;
  r = await api(server.base, 'POST', '/meetings', { token: host, body: {
    title: 'Giao ban trực tuyến có điều hành',
    startsAt: rfc3339(start),
    endsAt: rfc3339(start + HOUR),
    invite: { units: Object.values(UNITS) },
  } });
  assert.equal(r.status, 201, r.text);
  meeting = r.json;
  r = await api(server.base, 'POST', `/meetings/${meeting.id}/open`, { token: host });
  assert.equal(r.status, 200, r.text);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the chair mutes a room, grants the floor, changes the layout and takes the roll',
  { timeout: TEST_TIMEOUT }, async (t) => {
    const pages = {};
    closePagesAfter(t, pages, server, 'chair');

    // ---- both bridge points join; the host opens the live view
    const ids = await joinRooms(pages);
    const { hall, commune } = pages;
    const host = await openLiveView(pages);
    const row = (id) => liveRow(host, id);
    await row(ids.hall).waitFor({ timeout: 30000 });
    await row(ids.commune).waitFor({ timeout: 30000 });
    const live = await host.evaluate(() => window.mcuHost.live);
    assert.equal(live.meeting, meeting.code);
    assert.deepEqual(live.rooms.map((r) => r.unitId).sort(), Object.values(UNITS).sort());
    const names = Object.fromEntries(live.rooms.map((r) => [r.id, r.name]));
    const hues = { [ids.hall]: CAMERAS.hall.hue, [ids.commune]: CAMERAS.commune.hue };
    await until('each room page shows the grid with both colours', async () =>
      (await compositeFollows(hall, host, hues)) && (await compositeFollows(commune, host, hues)),
    { timeoutMs: 45000 });
    await shot(host, 'live');

    // ---- mute the hall: its page says the chair muted it; the console row says so too
    await row(ids.hall).locator('[data-testid="live-mute"]').click();
    await hall.waitForFunction(() => window.mcuRoom.chairMuted === true, null, { timeout: 15000 });
    await host.locator(`[data-testid="live-room"][data-room-id="${ids.hall}"][data-chair-muted="true"]`)
      .waitFor({ timeout: 15000 });
    assert.equal(await hall.locator('#btn-mic').getAttribute('data-chair-muted'), 'true');
    // The room's own mic button does not lift the chair's mute.
    await hall.locator('#btn-mic').click();
    assert.equal(await hall.evaluate(() => window.mcuRoom.chairMuted), true);
    await until('the commune sees the hall muted by the chair', () => commune.evaluate((id) =>
      window.mcuRoom.roster.find((p) => p.id === id)?.chairMuted === true, ids.hall));
    await shot(hall, 'chair-muted');

    // ---- the commune raises its hand: it is queued on the console; the floor goes to it
    await commune.locator('#btn-hand').click();
    await until('the hand on the commune page', () => commune.evaluate(() => window.mcuRoom.handRaised));
    const hand = host.locator(`[data-testid="live-hands"] [data-testid="live-hand"][data-room-id="${ids.commune}"]`);
    await hand.waitFor({ timeout: 15000 });
    assert.equal(await row(ids.commune).getAttribute('data-hand'), 'true');
    await hand.locator('[data-testid="live-grant"]').click();
    await commune.waitForFunction(() => window.mcuRoom.floor === true && !window.mcuRoom.handRaised,
      null, { timeout: 15000 });
    await commune.locator('#floor-badge').waitFor({ state: 'visible' });
    assert.equal(await commune.locator('#btn-hand').getAttribute('aria-pressed'), 'false');
    await until('the console shows the floor and an empty queue', () => host.evaluate((id) =>
      window.mcuHost.live.floor === id && window.mcuHost.live.hands.length === 0, ids.commune));

    // ---- active speaker layout: the console draws the big tile (the floor holder, forced big)
    await byTestId(host, 'live-layout').selectOption('speaker');
    await until('layout speaker', () => host.evaluate(() => window.mcuHost.live?.layout?.kind === 'speaker'));
    const big = host.locator('[data-testid="live-tiles"] [data-testid="live-tile"][data-big="true"]');
    await big.first().waitFor({ timeout: 15000 });
    assert.equal(await big.count(), 1);
    assert.equal(await big.getAttribute('data-source'), ids.commune);
    await shot(host, 'speaker');
    // The other room's page sees that layout: the commune's colour fills the big pane.
    await until('the hall page shows the commune big', async () =>
      (await host.evaluate((id) => window.mcuHost.live.layout.tiles[0]?.source === id, ids.commune)) &&
      (await compositeFollows(hall, host, hues)));
    await shot(hall, 'speaker-composite');

    // ---- "everyone sees this room" from the room's row: the hall fills the big pane on the
    // commune's page; back to automatic
    await row(ids.hall).locator('[data-testid="live-force"]').click();
    await until('the hall forced big', () => host.evaluate((id) => window.mcuHost.live.forced === id &&
      window.mcuHost.live.layout.tiles[0]?.source === id, ids.hall));
    assert.equal(await row(ids.hall).getAttribute('data-forced'), 'true');
    await until('the commune page shows the hall big', () => compositeFollows(commune, host, hues));
    await byTestId(host, 'live-clear-forced').click();
    await until('no room forced', () => host.evaluate(() => window.mcuHost.live.forced === null));

    // ---- pin the commune to the second pane: the picture follows, and the console shows the
    // pin again after a reload (it comes from meeting-state)
    await byTestId(host, 'live-pin-seat').selectOption('1');
    await byTestId(host, 'live-pin').selectOption(ids.commune);
    await until('the commune pinned to pane 2', () => host.evaluate((id) => {
      const s = window.mcuHost.live;
      return s.pins.some((p) => p.seat === 1 && p.room === id) && s.layout.tiles[1]?.source === id;
    }, ids.commune));
    await until('the hall page shows the hall big, the commune in pane 2', () =>
      compositeFollows(hall, host, hues));
    await host.reload();
    await waitLiveConnected(host);
    await until('the pin listed after a reload', async () =>
      (await byTestId(host, 'live-pins').textContent()).includes(names[ids.commune]));
    assert.equal(await byTestId(host, 'live-pin-seat').inputValue(), '0'); // the first pane
    assert.equal(await byTestId(host, 'live-pin').inputValue(), '');
    await byTestId(host, 'live-pin-seat').selectOption('1');
    assert.equal(await byTestId(host, 'live-pin').inputValue(), ids.commune);
    await byTestId(host, 'live-pin').selectOption('');
    await until('unpinned', () => host.evaluate(() => window.mcuHost.live.pins.length === 0));

    // ---- roll call: both pages show "present"; one answers; the console counts it
    await byTestId(host, 'live-rollcall-open').click();
    for (const p of [hall, commune]) await p.locator('#btn-present').waitFor({ state: 'visible', timeout: 15000 });
    assert.equal(await hall.evaluate(() => window.mcuRoom.rollCallOpen), true);
    await commune.locator('#btn-present').click();
    await commune.locator('#rollcall-answered').waitFor({ state: 'visible', timeout: 15000 });
    await host.locator('[data-testid="live-rollcall-count"][data-count="1"]').waitFor({ timeout: 15000 });
    assert.equal(await byTestId(host, 'live-rollcall-count').getAttribute('data-total'), '2');
    assert.deepEqual(await host.evaluate(() => window.mcuHost.live.rollCall.answered), [ids.commune]);
    await shot(commune, 'rollcall');
    await byTestId(host, 'live-rollcall-close').click();
    await hall.locator('#rollcall').waitFor({ state: 'hidden', timeout: 15000 });

    // ---- the hall shares its screen (the offer's third m-line, Chromium's fake display): the
    // console sees it sharing in the presenter layout; stopping restores the layout
    await hall.locator('#btn-share').click();
    await until('the hall is sharing', () => hall.evaluate(() => window.mcuRoom.sharing));
    await host.locator(`[data-testid="live-room"][data-room-id="${ids.hall}"][data-sharing="true"]`)
      .waitFor({ timeout: 20000 });
    await until('presenter layout while sharing', () =>
      host.evaluate(() => window.mcuHost.live.layout.kind === 'presenter'));
    await shot(commune, 'sharing');
    await hall.locator('#btn-share').click();
    assert.equal(await hall.evaluate(() => window.mcuRoom.sharing), false);
    await host.locator(`[data-testid="live-room"][data-room-id="${ids.hall}"][data-sharing="false"]`)
      .waitFor({ timeout: 20000 });
    await until('the layout from before the share', () =>
      host.evaluate(() => window.mcuHost.live.layout.kind === 'speaker'));

    // ---- leaving the view closes the console's socket
    await byTestId(host, 'live-back').click();
    await until('back on the meeting view', () => host.evaluate(() => window.mcuHost.view === 'meeting'));
  });

test('the chair locks the meeting, removes a room, invites it back and shows a notice',
  { timeout: TEST_TIMEOUT }, async (t) => {
    const pages = {};
    closePagesAfter(t, pages, server, 'chair-remove');
    const ids = await joinRooms(pages);
    const { hall, commune } = pages;
    const host = await openLiveView(pages);
    await liveRow(host, ids.commune).waitFor({ timeout: 30000 });

    // ---- lock: the console says so and the meeting is locked (REST)
    await byTestId(host, 'live-lock').click();
    await byTestId(host, 'live-locked').waitFor({ timeout: 15000 });
    await until('the meeting locked', async () => (await api(server.base, 'GET',
      `/meetings/${meeting.id}`, { token: hostToken })).json?.locked === true);

    // ---- remove the commune: its page waits (no button to press: nobody is there); the console
    // lists it from meeting-state, also after a reload
    await liveRow(host, ids.commune).locator('[data-testid="live-remove"]').click();
    await liveRow(host, ids.commune).locator('[data-testid="live-remove-confirm"]').click();
    await commune.waitForFunction(() => window.mcuRoom.state === 'removed', null, { timeout: 15000 });
    await commune.locator('#end-screen').waitFor({ state: 'visible' });
    assert.equal(await commune.locator('#btn-rejoin').isVisible(), false);
    await shot(commune, 'removed');
    const removed = host.locator(`[data-testid="live-removed-item"][data-unit-id="${UNITS.commune}"]`);
    await removed.waitFor({ timeout: 15000 });
    await liveRow(host, ids.commune).waitFor({ state: 'detached', timeout: 15000 });
    await host.reload();
    await waitLiveConnected(host);
    await removed.waitFor({ timeout: 30000 });

    // ---- invited back while locked, it keeps waiting: the server lifted the bar and let no one in
    await removed.locator('[data-testid="live-invite-back"]').click();
    await until('the bar lifted', () => host.evaluate(() => window.mcuHost.live.barred.length === 0));
    assert.deepEqual(await host.evaluate(() => window.mcuHost.live.rooms.map((r) => r.unitId)),
      [UNITS.hall]);
    assert.equal(await commune.evaluate(() => window.mcuRoom.state), 'removed');

    // ---- unlocking lets it in: the page comes back by itself and gets the picture again
    await byTestId(host, 'live-unlock').click();
    await waitForState(commune, 'connected', 60000);
    await commune.locator('#room-screen').waitFor({ state: 'visible' });
    const again = await commune.evaluate(() => window.mcuRoom.participantId);
    assert.ok(again && again !== ids.commune);
    await liveRow(host, again).waitFor({ timeout: 15000 });
    await waitGrowing(commune, 'composite frames decoded', (s) => s?.video?.framesDecoded);
    await until('the meeting unlocked', async () => (await api(server.base, 'GET',
      `/meetings/${meeting.id}`, { token: hostToken })).json?.locked === false);

    // ---- a notice: both pages show the line, the console says it is up; clearing removes it
    const text = 'Nghỉ giải lao 10 phút';
    await byTestId(host, 'live-notice-text').fill(text);
    await byTestId(host, 'live-notice-send').click();
    for (const p of [hall, commune]) {
      await p.locator('#chair-notice').waitFor({ state: 'visible', timeout: 15000 });
      assert.equal(await p.locator('#chair-notice-text').textContent(), text);
    }
    await until('the console shows the notice', async () =>
      (await byTestId(host, 'live-notice-current').textContent()).includes(text));
    await shot(hall, 'notice');
    await byTestId(host, 'live-notice-clear').click();
    for (const p of [hall, commune]) {
      await p.locator('#chair-notice').waitFor({ state: 'hidden', timeout: 15000 });
    }
  });

test('a technician watches the live view read-only', { timeout: TEST_TIMEOUT }, async (t) => {
  const page = await openPage(browser, `${server.base}/host`);
  t.after(async () => {
    if (!t.passed) {
      dumpLogs('technician', page);
      await shot(page, 'fail-technician').catch(() => {});
    }
    await page.context().close();
  });
  await byTestId(page, 'login-username').fill(TECH.username);
  await byTestId(page, 'login-password').fill(TECH.password);
  await byTestId(page, 'login-submit').click();
  await byTestId(page, 'tab-meetings').waitFor({ state: 'visible', timeout: 30000 });
  await page.evaluate((id) => { location.hash = `#/live/${id}`; }, meeting.id);
  await page.locator('[data-testid="live-state"][data-state="connected"]').waitFor({ timeout: 30000 });
  await until('a meeting-state', () => page.evaluate(() => window.mcuHost.live?.meeting));
  assert.equal(await byTestId(page, 'live-readonly').isVisible(), true);
  for (const id of ['live-layout', 'live-pin-seat', 'live-pin', 'live-rollcall-open', 'live-lock', 'live-notice-text']) {
    assert.equal(await byTestId(page, id).isDisabled(), true, `${id} is disabled`);
  }
});
