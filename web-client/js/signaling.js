// WebSocket wrapper for the JSON protocol of docs/protocol.md.
//   request(msg) → Promise of the reply carrying the same id (joined, ack, left, pong);
//                  rejects with a SignalingError whose .code is the protocol error code.
//   send(msg)    → fire and forget (answer, candidate: they have no success reply).
// Everything else the server sends (offer, candidate, media-state, participant-*, errors that
// match no pending request) is dispatched as a 'message' event; an unexpected close of the
// socket as a 'close' event whose detail.expected is false.

const REQUEST_TIMEOUT_MS = 10000;

export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

export class Signaling extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, timer}
    this.closing = false;
  }

  // Resolves once the socket is open; rejects if it cannot be opened.
  open() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve();
      };
      ws.onmessage = (ev) => this.onFrame(ev.data);
      ws.onclose = (ev) => {
        this.failPending(new SignalingError('network', `closed (${ev.code})`));
        if (!opened) reject(new SignalingError('network', 'cannot open WebSocket'));
        const detail = { code: ev.code, reason: ev.reason, expected: this.closing };
        this.dispatchEvent(new CustomEvent('close', { detail }));
      };
    });
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(msg) {
    if (!this.isOpen) return null;
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...msg, id }));
    return id;
  }

  request(msg, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.isOpen) return Promise.reject(new SignalingError('network', 'not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout', `no reply to ${msg.type}`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  close() {
    this.closing = true;
    this.failPending(new SignalingError('network', 'closed by client'));
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }

  onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('signaling: ignoring a frame that is not JSON');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    const waiter = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
    if (waiter) {
      this.pending.delete(msg.id);
      clearTimeout(waiter.timer);
      if (msg.type === 'error') waiter.reject(new SignalingError(msg.code, msg.message));
      else waiter.resolve(msg);
      return;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: msg }));
  }

  failPending(err) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(err);
    }
    this.pending.clear();
  }
}
