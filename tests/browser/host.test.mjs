// End-to-end (issue 3): a host logs in to the console, schedules a meeting for two bridge points
// by ticking them on the organisation tree and opens it; both units' bookmarked room links join it
// (one was already waiting), a third, uninvited unit is refused; the roll shows who is connected;
// closing the meeting sends the rooms away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startServer, launchBrowser, closePagesAfter, openPage, waitForState, until, api, adminToken, SHOT_DIR,
} from './harness.mjs';

const TEST_TIMEOUT = 240000;
const HOST = { username: 'chu-tri', password: 'mat-khau-chu-tri-2026' };
const INVITED = ['lc.so.yt', 'lc.xa.ban-lau'];
const UNINVITED = 'lc.xa.ta-van';
const shot = (page, name) => page.screenshot({ path: path.join(SHOT_DIR, `mcu-host-${name}.png`) });
const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

let server;
let browser;
const links = {}; // unit id -> room-link path

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The admin (first start) makes the host account and the bridge points' room links.
  const admin = await adminToken(server);
  const r = await api(server.base, 'POST', '/accounts', {
    token: admin, body: { username: HOST.username, role: 'host', displayName: 'Văn phòng UBND tỉnh', password: 'tam-thoi-123456' } });
  assert.equal(r.status, 201, r.text);
  for (const unit of [...INVITED, UNINVITED]) {
    const link = await api(server.base, 'POST', `/units/${unit}/room-link`, { token: admin });
    assert.equal(link.status, 201, link.text);
    links[unit] = link.json.url;
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a host schedules and opens a meeting; invited rooms join, an uninvited one is refused',
  { timeout: TEST_TIMEOUT }, async (t) => {
    const pages = {};
    closePagesAfter(t, pages, server, 'host');

    // ---- the host logs in; the temporary password must be changed first
    const host = await openPage(browser, `${server.base}/host`);
    pages.host = host;
    await byTestId(host, 'login-username').fill(HOST.username);
    await byTestId(host, 'login-password').fill('tam-thoi-123456');
    await byTestId(host, 'login-submit').click();
    await byTestId(host, 'password-form').waitFor({ state: 'visible' });
    await byTestId(host, 'pw-new').fill(HOST.password);
    await byTestId(host, 'pw-confirm').fill(HOST.password);
    await byTestId(host, 'pw-submit').click();
    await byTestId(host, 'tab-create').waitFor({ state: 'visible', timeout: 30000 });
    assert.equal(await byTestId(host, 'tab-accounts').isVisible(), false, 'accounts are for admins');

    // ---- schedule a meeting for two units ticked on the tree (default time: the next half hour)
    await byTestId(host, 'tab-create').click();
    await byTestId(host, 'create-title').fill('Giao ban trực tuyến tháng 11');
    for (const unit of INVITED) {
      const box = host.locator(`[data-testid="unit-checkbox"][data-unit-id="${unit}"]`);
      await box.waitFor({ state: 'visible' });
      await box.check();
    }
    await until('two units selected', async () =>
      (await byTestId(host, 'invite-count').getAttribute('data-count')) === '2');
    await byTestId(host, 'create-submit').click();
    const scheduled = host.locator('[data-testid="meeting-row"][data-state="scheduled"]');
    await scheduled.waitFor({ state: 'visible', timeout: 30000 });
    const meetingId = await scheduled.getAttribute('data-meeting-id');
    const row = host.locator(`[data-testid="meeting-row"][data-meeting-id="${meetingId}"]`);
    const token = (await api(server.base, 'POST', '/auth/login', { body: HOST })).json.token;
    const meeting = (await api(server.base, 'GET', `/meetings/${meetingId}`, { token })).json;
    assert.deepEqual(meeting.invited, [...INVITED].sort());
    await shot(host, 'scheduled');

    // ---- one bridge point is early: it waits for the host
    const early = await openPage(browser, `${server.base}${links['lc.so.yt']}`);
    pages.early = early;
    await waitForState(early, 'waiting');
    const waitingText = await early.locator('#waiting-text').textContent();
    assert.match(waitingText, /Giao ban trực tuyến tháng 11/);

    // ---- the host opens it: the waiting room joins by itself, the second joins from its link
    await row.locator('[data-testid="meeting-open"]').click();
    await host.locator(`[data-testid="meeting-row"][data-meeting-id="${meetingId}"][data-state="open"], `
      + `[data-testid="meeting-row"][data-meeting-id="${meetingId}"][data-state="live"]`)
      .waitFor({ timeout: 30000 });
    await waitForState(early, 'connected', 60000);
    const second = await openPage(browser, `${server.base}${links['lc.xa.ban-lau']}`);
    pages.second = second;
    await waitForState(second, 'connected', 60000);
    for (const [page, name] of [[early, 'Sở Y tế'], [second, 'xã Bản Lầu']]) {
      assert.equal(await page.evaluate(() => window.mcuRoom.meeting), meeting.code);
      assert.equal(await page.evaluate(() => window.mcuRoom.name), name);
    }
    await until('both rooms in each roster', async () =>
      (await second.evaluate(() => window.mcuRoom.roster.length)) === 2);

    // ---- a third unit is not invited: its link to this meeting is refused, and without a
    // meeting of its own it finds nothing to join
    const refused = await openPage(browser, `${server.base}${links[UNINVITED]}?meeting=${meeting.code}`);
    pages.refused = refused;
    await waitForState(refused, 'failed');
    assert.match(await refused.locator('#end-body').textContent(), /không được mời|not invited/i);
    const nothing = await openPage(browser, `${server.base}${links[UNINVITED]}`);
    pages.nothing = nothing;
    await waitForState(nothing, 'ended');
    assert.equal(await nothing.locator('#end-screen').isVisible(), true);

    // ---- the roll: two connected, nobody else
    await row.locator('[data-testid="meeting-detail"]').click();
    await until('roll shows both connected', async () =>
      (await host.locator('[data-testid="roll-entry"][data-status="connected"]').count()) === 2,
      { timeoutMs: 30000 });
    for (const unit of INVITED) {
      assert.equal(await host.locator(`[data-testid="roll-entry"][data-unit-id="${unit}"]`)
        .getAttribute('data-status'), 'connected');
    }
    assert.equal(await byTestId(host, 'roll-count-connected').textContent(), '2');
    await shot(host, 'roll');

    // ---- the roll notices a room leaving
    await second.locator('#btn-leave').click();
    await until('roll shows the room that left', async () =>
      (await host.locator('[data-testid="roll-entry"][data-unit-id="lc.xa.ban-lau"]')
        .getAttribute('data-status')) === 'left', { timeoutMs: 30000 });

    // ---- closing the meeting sends the remaining room away
    await byTestId(host, 'meeting-back').click();
    await row.locator('[data-testid="meeting-close"]').click();
    await row.locator('[data-testid="meeting-close-confirm"]').click();
    await waitForState(early, 'ended', 30000);
    assert.equal((await api(server.base, 'GET', `/meetings/${meetingId}`, { token })).json.state, 'ended');
  });
