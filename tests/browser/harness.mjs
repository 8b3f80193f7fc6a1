// Shared pieces of the browser tests: the real mcu-server, Debian's Chromium, polling helpers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SHOT_DIR = process.env.MCU_SCREENSHOT_DIR || tmpdir();

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

// Polls fn() until it returns a truthy value; fails with `what` after timeoutMs.
export async function until(what, fn, { timeoutMs = 30000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${fmt(last)})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function fmt(v) {
  if (v instanceof Error) return v.message;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

// Starts `$MCU_SERVER_BIN --port 0 --state-dir <fresh> --web-root $MCU_ROOT/web-client` and
// resolves once it prints "mcu-server listening on https://HOST:PORT/". On a fresh state the
// server prints the first admin's one-time password: `adminPassword`.
// stateDir: reuse a previous run's state (a restart); the caller then removes it. extraArgs are
// appended to the command line.
export async function startServer({ stateDir: reuse, extraArgs = [] } = {}) {
  const bin = process.env.MCU_SERVER_BIN;
  const root = process.env.MCU_ROOT;
  if (!bin || !root) throw new Error('set MCU_SERVER_BIN (server binary) and MCU_ROOT (repo root)');
  const stateDir = reuse ?? mkdtempSync(path.join(tmpdir(), 'mcu-browser-state-'));
  const logPath = path.join(stateDir, 'server.log');
  const log = createWriteStream(logPath, { flags: 'a' });
  const args = ['--port', '0', '--state-dir', stateDir, '--web-root', path.join(root, 'web-client'),
    '--org-file', path.join(root, 'configs/org/lao-cai.json'), ...extraArgs];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      log.write(chunk);
      output += chunk.toString();
      if (output.length > 200000) output = output.slice(-100000);
      const m = output.match(/mcu-server listening on https:\/\/[^\s/]+:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (err) => reject(err));
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? sig}) before listening:\n${output}`));
    });
  });
  const password = output.match(/one-time password (\S+)/);
  return {
    port,
    base: `https://127.0.0.1:${port}`,
    stateDir,
    logPath,
    adminPassword: password ? password[1] : null,
    tail: (n = 60) => output.split('\n').slice(-n).join('\n'),
    // Kills the server at once (no clean shutdown), keeping its state for a restart.
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      log.end();
    },
    async stop({ keepState = !!reuse } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      if (!keepState && !process.env.MCU_KEEP_STATE) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

// args: Chromium's command line (default CHROMIUM_ARGS); executablePath: the binary to start
// (a wrapper can start it in another network namespace).
export async function launchBrowser(args = CHROMIUM_ARGS, executablePath = CHROMIUM) {
  return chromium.launch({ executablePath, headless: true, args });
}

// A fresh context (own storage) with one page; collects the page's console for diagnostics.
// initScript (a function) runs in the page before its own scripts.
export async function openPage(browser, url, { initScript, initArg } = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1366, height: 768 },
  });
  if (initScript) await context.addInitScript(initScript, initArg);
  const page = await context.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.logs = logs;
  // Chromium aborts loads in flight with ERR_NETWORK_CHANGED when its network watcher sees a
  // link or address change, as a fresh veth in a test host's namespace can give a moment after
  // it is up: the document may arrive and its modules not. A person would reload; so does the
  // test (the load event waits for the modules, so by then any such failure is logged).
  const aborted = () => logs.some((l) => l.includes('ERR_NETWORK_CHANGED'));
  for (let attempt = 1; ; attempt += 1) {
    try {
      await page.goto(url);
      if (!aborted() || attempt >= 3) break;
    } catch (e) {
      if (attempt >= 3 || !/ERR_NETWORK_CHANGED/.test(String(e))) throw e;
    }
    console.log(`# ${url}: the network changed under the load; loading it again`);
    logs.length = 0;
  }
  return page;
}

export function stateOf(page) {
  return page.locator('#conn-state').getAttribute('data-state');
}

export async function waitForState(page, state, timeoutMs = 30000) {
  await page.waitForFunction(
    (s) => document.getElementById('conn-state')?.dataset.state === s,
    state,
    { timeout: timeoutMs, polling: 200 },
  );
}

// The camera's outbound-rtp statistics of the page's peer connection ({} before it sends): the
// screen's m-line has no track until a share, so it reports no frames.
export async function outboundVideo(page) {
  return page.evaluate(async () => {
    let out = {};
    (await window.mcuRoom?.pc?.getStats())?.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (s.framesEncoded ?? 0) >= (out.framesEncoded ?? 0)) {
        out = { framesEncoded: s.framesEncoded ?? 0, frameWidth: s.frameWidth ?? 0 };
      }
    });
    return out;
  });
}

// inbound-rtp counters of the page's peer connection: {video: {...}, audio: {...}}
export async function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.mcuRoom?.pc;
    if (!pc) return null;
    const out = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') {
        out[s.kind] = {
          framesDecoded: s.framesDecoded ?? 0,
          packetsReceived: s.packetsReceived ?? 0,
          frameWidth: s.frameWidth,
          frameHeight: s.frameHeight,
          codec: s.codecId,
        };
      }
    });
    return out;
  });
}

// Waits until `pick(stats)` is > 0 and then grows past its value at that moment.
// On a timeout the error carries the whole inbound picture (packets received or not, sizes), which
// tells a transport that carries nothing from frames that arrive but never decode.
export async function waitGrowing(page, what, pick, timeoutMs = 30000) {
  let stats = null;
  const sample = async () => {
    stats = await inbound(page);
    return pick(stats) ?? 0;
  };
  try {
    const first = await until(`${what} > 0`, async () => {
      const v = await sample();
      return v > 0 ? v : 0;
    }, { timeoutMs });
    return await until(`${what} to grow past ${first}`, async () => {
      const v = await sample();
      return v > first ? v : 0;
    }, { timeoutMs });
  } catch (err) {
    err.message += `; inbound stats: ${fmt(stats)}`;
    throw err;
  }
}

export async function rosterNames(page) {
  return page.$$eval('#roster .roster-item .roster-name', (els) => els.map((e) => e.textContent));
}

// Registers on test t: when it fails, each page's console and a screenshot
// (SHOT_DIR/mcu-<prefix>-fail-<name>.png) and the server's log tail are printed; either way the
// pages' contexts are closed.
export function closePagesAfter(t, pages, server, prefix) {
  t.after(async () => {
    if (!t.passed) {
      for (const [n, p] of Object.entries(pages)) {
        dumpLogs(n, p);
        const file = path.join(SHOT_DIR, `mcu-${prefix}-fail-${n.replace(/\W+/g, '-')}.png`);
        await p.screenshot({ path: file }).catch(() => {});
      }
      console.log(`--- server log tail (${server.logPath}) ---\n${server.tail(120)}`);
    }
    for (const p of Object.values(pages)) await p.context().close();
  });
}

export function dumpLogs(name, page) {
  if (page?.logs?.length) console.log(`--- console of ${name} ---\n${page.logs.join('\n')}`);
}

// ---- REST API helpers (Node's fetch; the server's certificate is self-signed) ----
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

// One REST call to the server's /api/v1 (docs/openapi.yaml): {status, json, headers, text}.
export async function api(base, method, path, { token, body, type = 'application/json', raw } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined || raw !== undefined) headers['content-type'] = type;
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers, text };
}

// Logs in the first admin, changes its one-time password, returns a fresh admin token.
export async function adminToken(server, newPassword = 'mat-khau-moi-123') {
  assert.ok(server.adminPassword, 'the first start prints the admin password');
  let r = await api(server.base, 'POST', '/auth/login',
    { body: { username: 'admin', password: server.adminPassword } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.account.mustChangePassword, true);
  r = await api(server.base, 'POST', '/me/password', {
    token: r.json.token, body: { oldPassword: server.adminPassword, newPassword } });
  assert.equal(r.status, 204, r.text);
  r = await api(server.base, 'POST', '/auth/login',
    { body: { username: 'admin', password: newPassword } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.account.mustChangePassword, false);
  return r.json.token;
}

// ---- pictures: rooms that send one solid colour, and what a page's composite shows ----

// An init script (openPage's initScript): the page's camera is a canvas of one CSS colour (the
// microphone stays Chromium's fake one), so a room can be told apart in the composite.
export function solidCamera(colour) {
  const devices = navigator.mediaDevices;
  const real = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = new MediaStream();
    if (constraints.audio) {
      for (const tr of (await real({ audio: constraints.audio })).getAudioTracks()) stream.addTrack(tr);
    }
    if (constraints.video) {
      const canvas = document.createElement('canvas');
      canvas.width = 640;
      canvas.height = 360;
      const ctx = canvas.getContext('2d');
      // A canvas stream carries frames only when the canvas is drawn: keep drawing it.
      const paint = () => {
        ctx.fillStyle = colour;
        ctx.fillRect(0, 0, canvas.width, canvas.height);
      };
      paint();
      setInterval(paint, 100);
      // In the page (all but invisible), so the canvas is rendered like any other.
      canvas.style.cssText = 'position:fixed;left:0;top:0;width:2px;height:2px;opacity:0.01;' +
        'pointer-events:none';
      document.body.append(canvas);
      stream.addTrack(canvas.captureStream(10).getVideoTracks()[0]);
    }
    return stream;
  };
}

// The mean [r, g, b] of a 9x9 patch of the page's received composite (#composite) around each
// point given as fractions of the picture ([0.5, 0.5]: the centre); null until a frame is shown.
export async function compositeColours(page, points) {
  return page.evaluate((pts) => {
    const v = document.getElementById('composite');
    if (!v || !v.videoWidth || v.readyState < 2) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(v, 0, 0);
    return pts.map(([fx, fy]) => {
      const x = Math.min(c.width - 9, Math.max(0, Math.round(fx * c.width) - 4));
      const y = Math.min(c.height - 9, Math.max(0, Math.round(fy * c.height) - 4));
      const d = ctx.getImageData(x, y, 9, 9).data;
      const sum = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
      return sum.map((s) => Math.round(s / (d.length / 4)));
    });
  }, points);
}

// 'red', 'green', 'blue' or 'other' for an [r, g, b] (after a VP8 round trip).
export function hueOf([r, g, b]) {
  if (r > 140 && g < 100 && b < 100) return 'red';
  if (g > 140 && r < 100 && b < 100) return 'green';
  if (b > 140 && r < 100 && g < 100) return 'blue';
  return 'other';
}
