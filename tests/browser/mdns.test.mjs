// Browsers that have no camera or microphone permission hide their addresses behind mDNS names
// (xxxx.local), which libnice cannot resolve. The server must still connect: the browser's
// connectivity checks reach it, and it learns the browser's address as peer-reflexive.
// Two test hosts: the server in this network namespace, Chromium in another, joined by a veth
// pair with addresses of their own (nothing leaves the machine).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startServer, launchBrowser, openPage, waitForState, waitGrowing, CHROMIUM, CHROMIUM_ARGS, dumpLogs,
} from './harness.mjs';

const NS = `mcu-mdns-${process.pid}`;
const SERVER_IP = '10.203.0.1';
const BROWSER_IP = '10.203.0.2';
const ip = (...args) => execFileSync('ip', args, { stdio: 'pipe' });

function makeHosts() {
  ip('netns', 'add', NS);
  ip('link', 'add', 'mcu-vsrv', 'type', 'veth', 'peer', 'name', 'mcu-vcli');
  // No IPv6 link-local addresses: one appearing a moment after the link comes up (after duplicate
  // address detection) makes Chromium abort its loads with ERR_NETWORK_CHANGED. The setting lives
  // in the namespace the link is in, so the browser's end gets it after its move (set before,
  // the move forgot it and the address came 1.4 s after the link, under the page's load).
  ip('link', 'set', 'mcu-vsrv', 'addrgenmode', 'none');
  ip('link', 'set', 'mcu-vcli', 'netns', NS);
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'mcu-vcli', 'addrgenmode', 'none');
  ip('addr', 'add', `${SERVER_IP}/30`, 'dev', 'mcu-vsrv');
  ip('link', 'set', 'mcu-vsrv', 'up');
  ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${BROWSER_IP}/30`, 'dev', 'mcu-vcli');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'mcu-vcli', 'up');
  ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
  // The kernel reports a link's carrier (state UP) up to a second after it is set up; a browser
  // started before that sees the network change and aborts its loads (ERR_NETWORK_CHANGED).
  const isUp = (...netns) =>
    / state UP /.test(ip(...netns, '-o', 'link', 'show', 'dev', netns.length ? 'mcu-vcli' : 'mcu-vsrv').toString());
  const until = Date.now() + 10000;
  while (!(isUp() && isUp('-n', NS)) && Date.now() < until) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

function removeHosts() {
  try { ip('link', 'del', 'mcu-vsrv'); } catch { /* already gone */ }
  try { ip('netns', 'del', NS); } catch { /* already gone */ }
}

// The page never asks for devices, so it has no media permission: Chromium then hides its
// addresses. Every candidate the page sends to the server is recorded.
function receiveOnly() {
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException('no device (test)', 'NotFoundError'));
  window.__sentCandidates = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const m = JSON.parse(data);
      if (m.type === 'candidate' && m.candidate) window.__sentCandidates.push(m.candidate);
    } catch { /* not JSON */ }
    return send.call(this, data);
  };
}

describe('a browser behind mDNS host candidates', { timeout: 120000 }, () => {
  let server;
  let browser;
  let wrapperDir;
  before(async () => {
    removeHosts();
    makeHosts();
    server = await startServer(); // after the veth is up: the server gathers on it
    wrapperDir = mkdtempSync(path.join(tmpdir(), 'mcu-mdns-'));
    const wrapper = path.join(wrapperDir, 'chromium');
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const args = CHROMIUM_ARGS.filter(
      (a) => !/WebRtcHideLocalIpsWithMdns|fake-ui|fake-device|allow-loopback/.test(a));
    browser = await launchBrowser(args, wrapper);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    removeHosts();
    if (wrapperDir) rmSync(wrapperDir, { recursive: true, force: true });
  });

  test('connects through a peer-reflexive candidate and receives the composite', async (t) => {
    const url = `https://${SERVER_IP}:${server.port}/join/demo?name=${encodeURIComponent('Xã Y Tý')}`;
    const page = await openPage(browser, url, { initScript: receiveOnly });
    t.after(async () => {
      if (t.passed) return;
      // What the two ends saw, for a failure that does not reproduce at will.
      const pairs = await page.evaluate(async () => {
        const stats = await window.mcuRoom?.pc?.getStats();
        const out = [];
        stats?.forEach((s) => {
          if (s.type === 'candidate-pair' || s.type === 'transport') out.push(JSON.stringify(s));
        });
        return out;
      }).catch((e) => [String(e)]);
      console.log(`--- browser ICE/transport stats ---\n${pairs.join('\n')}`);
      dumpLogs('mdns page', page);
      console.log(`--- server log tail (${server.logPath}) ---\n${server.tail(150)}`);
    });
    await waitForState(page, 'connected', 45000);
    await waitGrowing(page, 'video framesDecoded', (s) => s?.video?.framesDecoded);
    // What the server was told: never the browser's address (mDNS names at most), so the
    // connection can only have come from the browser's checks (a peer-reflexive candidate).
    const sent = await page.evaluate(() => window.__sentCandidates);
    assert.ok(sent.every((c) => !c.includes(BROWSER_IP)), `address hidden:\n${sent.join('\n')}`);
    console.log(`candidates the browser sent: ${sent.length ? sent.join(' | ') : 'none'}`);
  });
});
