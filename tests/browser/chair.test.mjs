// End-to-end (issue 4): a host chairs a live meeting from the console's live view. Two bridge
// points join; the host mutes one (its page says the chair muted it), the other raises its hand,
// gets the floor (its page shows it, its hand comes down), the layout goes to active speaker (the
// console draws the big tile), a roll call is answered with one click, and a shared screen
// (the offer's third m-line) turns the layout to presenter until it stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, launchBrowser, closePagesAfter, openPage, waitForState, until, api, adminToken, dumpLogs, SHOT_DIR,
} from './harness.mjs';

const TEST_TIMEOUT = 240000;
const HOUR = 3600 * 1000;
const HOST = { username: 'chu-tri', password: 'mat-khau-chu-tri-2026' };
const TECH = { username: 'ky-thuat', password: 'mat-khau-ky-thuat-2026' };
const UNITS = { hall: 'lc.so.yt', commune: 'lc.xa.ban-lau' };
const shot = (page, name) => page.screenshot({ path: path.join(SHOT_DIR, `mcu-chair-${name}.png`) });
const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);
const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

let server;
let browser;
let meeting; // {id, code, …} as the REST API returns it
const links = {}; // unit id -> room-link path

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

    // ---- both bridge points join from their room links
    pages.hall = await openPage(browser, `${server.base}${links[UNITS.hall]}`);
    pages.commune = await openPage(browser, `${server.base}${links[UNITS.commune]}`);
    const { hall, commune } = pages;
    await waitForState(hall, 'connected', 60000);
    await waitForState(commune, 'connected', 60000);
    const ids = {
      hall: await hall.evaluate(() => window.mcuRoom.participantId),
      commune: await commune.evaluate(() => window.mcuRoom.participantId),
    };
    assert.ok(ids.hall && ids.commune);

    // ---- the host logs in and opens the live view from the meeting's detail view
    pages.host = await openPage(browser, `${server.base}/host`);
    const { host } = pages;
    await byTestId(host, 'login-username').fill(HOST.username);
    await byTestId(host, 'login-password').fill(HOST.password);
    await byTestId(host, 'login-submit').click();
    await byTestId(host, 'tab-meetings').waitFor({ state: 'visible', timeout: 30000 });
    await host.evaluate((id) => { location.hash = `#/meeting/${id}`; }, meeting.id);
    await byTestId(host, 'meeting-head').locator('[data-testid="live-open"]').click();
    await host.locator('[data-testid="live-state"][data-state="connected"]').waitFor({ timeout: 30000 });
    assert.equal(await host.evaluate(() => window.mcuHost.view), 'live');
    const row = (id) => host.locator(`[data-testid="live-room"][data-room-id="${id}"]`);
    await row(ids.hall).waitFor({ timeout: 30000 });
    await row(ids.commune).waitFor({ timeout: 30000 });
    const live = await host.evaluate(() => window.mcuHost.live);
    assert.equal(live.meeting, meeting.code);
    assert.deepEqual(live.rooms.map((r) => r.unitId).sort(), Object.values(UNITS).sort());
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
  for (const id of ['live-layout', 'live-pin', 'live-rollcall-open', 'live-lock', 'live-notice-text']) {
    assert.equal(await byTestId(page, id).isDisabled(), true, `${id} is disabled`);
  }
});
