// The REST API of the real server (docs/openapi.yaml) over HTTPS: the first admin, accounts and
// roles, bad input, and meetings surviving a restart and a SIGKILL in the middle of writes.
// No browser: Node's fetch talks to the server directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api as call, adminToken } from './harness.mjs';

const HOUR = 3600 * 1000;

function meetingBody(title, units = ['lc.so.yt', 'lc.xa.ban-lau']) {
  const start = Date.now() + HOUR;
  return {
    title,
    startsAt: new Date(start).toISOString().replace(/\.\d+Z$/, 'Z'),
    endsAt: new Date(start + HOUR).toISOString().replace(/\.\d+Z$/, 'Z'),
    invite: { units },
  };
}

test('roles: the admin makes a host and a technician; each may do only its part', async () => {
  const server = await startServer();
  try {
    const admin = await adminToken(server);
    const accounts = {};
    for (const [username, role] of [['chu-tri', 'host'], ['ky-thuat', 'technician']]) {
      const r = await call(server.base, 'POST', '/accounts',
        { token: admin, body: { username, role, displayName: username } });
      assert.equal(r.status, 201, r.text);
      assert.ok(r.json.initialPassword, 'a generated password is returned once');
      const initial = r.json.initialPassword;
      let login = await call(server.base, 'POST', '/auth/login', { body: { username, password: initial } });
      assert.equal(login.status, 200, login.text);
      // The one-time password opens only its own replacement.
      const early = await call(server.base, 'GET', '/meetings', { token: login.json.token });
      assert.equal(early.status, 403);
      assert.equal(early.json.error.code, 'password_change_required');
      const password = `${username}-mat-khau-2026`;
      assert.equal((await call(server.base, 'POST', '/me/password', {
        token: login.json.token, body: { oldPassword: initial, newPassword: password } })).status, 204);
      login = await call(server.base, 'POST', '/auth/login', { body: { username, password } });
      assert.equal(login.status, 200, login.text);
      accounts[role] = login.json.token;
    }
    const created = await call(server.base, 'POST', '/meetings',
      { token: accounts.host, body: meetingBody('Giao ban') });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.state, 'scheduled');

    const tech = await call(server.base, 'POST', '/meetings',
      { token: accounts.technician, body: meetingBody('Không được') });
    assert.equal(tech.status, 403);
    assert.equal(tech.json.error.code, 'forbidden');
    assert.equal((await call(server.base, 'GET', '/meetings', { token: accounts.technician })).status, 200);
    assert.equal((await call(server.base, 'GET', '/accounts', { token: accounts.host })).status, 403);
    assert.equal((await call(server.base, 'GET', '/audit', { token: accounts.host })).status, 403);
    const audit = await call(server.base, 'GET', '/audit', { token: admin });
    assert.equal(audit.status, 200);
    assert.ok(audit.json.entries.some((e) => e.action === 'meeting.create'), audit.text);

    const none = await call(server.base, 'GET', '/meetings');
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, 'unauthorized');
    const forged = await call(server.base, 'GET', '/meetings', { token: `${accounts.host}x` });
    assert.equal(forged.status, 401);
    const out = await call(server.base, 'POST', '/auth/logout', { token: accounts.host });
    assert.equal(out.status, 204);
    assert.equal((await call(server.base, 'GET', '/me', { token: accounts.host })).status, 401);
  } finally {
    await server.stop();
  }
});

test('bad input gets a clear 4xx and the server keeps serving', async () => {
  const server = await startServer();
  try {
    const admin = await adminToken(server);
    const bad = [
      [{ raw: '{"title": ', token: admin }, 400, 'bad_json'],
      [{ raw: '[1,2]', token: admin }, 400, null],
      [{ body: meetingBody('x'), type: 'text/plain', token: admin }, 415, 'unsupported_media_type'],
      [{ raw: JSON.stringify({ ...meetingBody('x'), pad: 'a'.repeat(70 * 1024) }), token: admin },
        413, 'too_large'],
      [{ body: { ...meetingBody('x'), colour: 'red' }, token: admin }, 400, 'bad_field'],
      [{ body: { ...meetingBody('x'), endsAt: '2020-01-01T00:00:00Z' }, token: admin }, 400, 'bad_time'],
      [{ body: { ...meetingBody('x'), startsAt: 'tomorrow' }, token: admin }, 400, null],
      [{ body: meetingBody('x', ['no.such.unit']), token: admin }, 400, 'bad_field'],
    ];
    for (const [opts, status, code] of bad) {
      const r = await call(server.base, 'POST', '/meetings', opts);
      assert.equal(r.status, status, `${JSON.stringify(opts).slice(0, 120)} → ${r.text.slice(0, 200)}`);
      assert.ok(r.json?.error?.message, `a message for ${status}`);
      if (code) assert.equal(r.json.error.code, code);
    }
    const twice = { ...meetingBody('Trùng mã'), code: 'trung-ma' };
    assert.equal((await call(server.base, 'POST', '/meetings', { token: admin, body: twice })).status, 201);
    const dup = await call(server.base, 'POST', '/meetings', { token: admin, body: twice });
    assert.equal(dup.status, 409);
    assert.equal(dup.json.error.code, 'duplicate_code');
    assert.equal((await call(server.base, 'GET', '/meetings/999999', { token: admin })).status, 404);
    assert.equal((await call(server.base, 'GET', '/meetings/abc', { token: admin })).status, 404);
    assert.equal((await call(server.base, 'GET', '/no-such-thing', { token: admin })).status, 404);
    const method = await call(server.base, 'DELETE', '/meetings', { token: admin });
    assert.equal(method.status, 405);
    assert.ok(method.headers.get('allow'));
    // Nothing half-written: exactly the one good meeting exists.
    const list = await call(server.base, 'GET', '/meetings', { token: admin });
    assert.deepEqual(list.json.meetings.map((m) => m.title), ['Trùng mã']);
    const health = await fetch(`${server.base}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await server.stop();
  }
});

test('login is rate-limited', async () => {
  const server = await startServer();
  try {
    let last;
    for (let i = 0; i < 8; i++) {
      last = await call(server.base, 'POST', '/auth/login',
        { body: { username: 'admin', password: `wrong-password-${i}` } });
      if (last.status === 429) break;
      assert.equal(last.status, 401);
      assert.equal(last.json.error.code, 'bad_credentials');
    }
    assert.equal(last.status, 429);
    assert.equal(last.json.error.code, 'rate_limited');
    assert.ok(Number(last.headers.get('retry-after')) > 0);
  } finally {
    await server.stop();
  }
});

test('meetings, accounts and room links survive a restart and a SIGKILL in the middle of writes', async () => {
  let server = await startServer();
  const stateDir = server.stateDir;
  const password = 'mat-khau-ben-vung-1';
  try {
    let admin = await adminToken(server, password);
    const link = await call(server.base, 'POST', '/units/lc.xa.ban-lau/room-link', { token: admin });
    assert.equal(link.status, 201, link.text);
    const first = await call(server.base, 'POST', '/meetings', { token: admin, body: meetingBody('Trước khi tắt') });
    assert.equal(first.status, 201);

    // A clean restart.
    await server.stop({ keepState: true });
    server = await startServer({ stateDir });
    assert.equal(server.adminPassword, null, 'the admin is created only once');
    admin = (await call(server.base, 'POST', '/auth/login',
      { body: { username: 'admin', password } })).json?.token;
    assert.ok(admin, 'the changed password still works after a restart');
    let got = await call(server.base, 'GET', `/meetings/${first.json.id}`, { token: admin });
    assert.equal(got.status, 200);
    assert.deepEqual(got.json, first.json);
    const room = await call(server.base, 'GET', `/room/${link.json.secret}`);
    assert.equal(room.status, 200, room.text);
    assert.equal(room.json.unit.id, 'lc.xa.ban-lau');

    // Writes in flight when the process is killed: every acknowledged one is there afterwards,
    // each complete with its invitations; the store opens cleanly.
    const acknowledged = [];
    let stop = false;
    const writer = async (n) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await call(server.base, 'POST', '/meetings', {
            token: admin, body: meetingBody(`Ghi ${n}-${i}`, ['lc.so.yt', 'lc.xa.ban-lau', 'lc.ubnd']) });
          if (r.status === 201) acknowledged.push(r.json);
        } catch { return; } // the connection died with the server
      }
    };
    const writers = [writer(1), writer(2), writer(3)];
    const deadline = Date.now() + 60000;
    while (acknowledged.length < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(acknowledged.length >= 15, `only ${acknowledged.length} writes acknowledged`);
    await server.kill();
    stop = true;
    await Promise.all(writers);

    server = await startServer({ stateDir });
    admin = (await call(server.base, 'POST', '/auth/login',
      { body: { username: 'admin', password } })).json?.token;
    assert.ok(admin);
    for (const m of acknowledged) {
      got = await call(server.base, 'GET', `/meetings/${m.id}`, { token: admin });
      assert.equal(got.status, 200, `meeting ${m.id} lost`);
      assert.deepEqual(got.json, m);
    }
    const all = await call(server.base, 'GET', '/meetings', { token: admin });
    for (const m of all.json.meetings) {
      if (m.title.startsWith('Ghi ')) assert.equal(m.invited.length, 3, `meeting ${m.id} is half-written`);
    }
  } finally {
    await server.stop({ keepState: false });
  }
});
