// Host console: the live view of one meeting (#/live/ID), the chair's console of docs/protocol.md
// ("Chairing a live meeting"). It opens its own WebSocket to /ws and attaches with `chair` and the
// login token; every `meeting-state` (up to ~3 a second) repaints the view in place — rows are
// keyed by room id, so focus, an open confirmation and half-typed text survive — and each button
// sends one `control`. A technician (canControl false) watches with every control disabled. The
// socket reconnects with backoff while the view is shown and closes when the view is left.
import { t } from './i18n.js';
import { api, session } from './api.js';
import { Signaling } from './signaling.js';
import { $, h, announce, showError, confirmable } from './host-util.js';
import { stateBadge } from './host-meetings.js';
import { TilesPicture, levelFraction } from './host-live-tiles.js';

const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10000;
const PING_MS = 20000; // finds half-open connections
const NOTICE_MAX = 200;
// `chair` errors after which trying again cannot help.
const FATAL = new Set([
  'unknown_meeting', 'meeting_closed', 'forbidden', 'not_allowed', 'bad_field', 'missing_field',
  'unknown_type', 'not_found',
]);
// The login token is no good: the console goes back to its login form.
const SESSION_ERRORS = new Set(['unauthorized', 'token_expired']);

function wsUrl() {
  return `${location.protocol === 'http:' ? 'ws' : 'wss'}://${location.host}/ws`;
}

// A protocol error as host-util's showError() expects it (ApiError-like).
const asError = (err) => ({
  code: err?.code || 'internal',
  serverMessage: err?.message && err.message !== err.code ? err.message : '',
});

export class LiveView {
  constructor(ctx) {
    this.ctx = ctx; // {navigate(hash)}
    this.id = null; // the meeting's REST id
    this.meeting = null; // GET /meetings/{id}: code, title, state
    this.state = null; // the last meeting-state
    this.chair = null; // chair-joined: role, canControl
    this.active = false;
    this.sig = null;
    this.gen = 0; // bumped on every (re)connect and on leaving: stale callbacks check it
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.conn = 'connecting';
    this.rows = new Map(); // room id → row (see makeRow)
    this.exceptTouched = false;
    this.handsSeen = null; // hands already announced
    this.optionsKey = '';
    this.handsKey = '';
    this.layoutShown = null;
    this.headKey = '';
    this.tiles = new TilesPicture($('live-tiles'), $('live-picture-info'));
    this.errorEl = $('live-error');
    this.wire();
  }

  get canControl() {
    return this.chair?.canControl === true && this.conn === 'connected';
  }

  // ---- the view's lifetime ------------------------------------------------------------------

  show({ id }) {
    if (this.active && this.id === id) {
      this.render();
      return;
    }
    if (this.id !== id) this.reset();
    this.id = id;
    this.active = true;
    this.attempt = 0;
    showError(this.errorEl, null);
    this.render();
    this.connect();
  }

  hide() {
    this.active = false;
    this.gen++;
    clearTimeout(this.retryTimer);
    this.closeSocket();
  }

  reset() {
    this.meeting = null;
    this.state = null;
    this.chair = null;
    this.exceptTouched = false;
    this.handsSeen = null;
    this.layoutShown = null;
    $('live-notice-text').value = '';
    this.clearRows();
  }

  // ---- the WebSocket ------------------------------------------------------------------------

  async connect() {
    clearTimeout(this.retryTimer);
    this.closeSocket();
    const gen = ++this.gen;
    this.setConn(this.attempt ? 'reconnecting' : 'connecting');
    // Fresh each time: the meeting's state and lock may have moved while disconnected.
    if (!(await this.loadMeeting(gen)) && !this.meeting) return;
    const token = session.token;
    if (!token || gen !== this.gen) return; // logged out meanwhile
    const sig = new Signaling(wsUrl());
    this.sig = sig;
    sig.addEventListener('message', (e) => gen === this.gen && this.onMessage(e.detail));
    sig.addEventListener('close', (e) => !e.detail.expected && this.lost(gen));
    try {
      await sig.open();
      const reply = await sig.request({ type: 'chair', token, meeting: this.meeting.code });
      if (gen !== this.gen) return;
      this.chair = reply;
      this.attempt = 0;
      showError(this.errorEl, null);
      this.setConn('connected');
      this.pingTimer = setInterval(() => {
        sig.request({ type: 'ping' }).catch((err) => err.code === 'timeout' && this.lost(gen));
      }, PING_MS);
      this.paint();
    } catch (err) {
      if (gen !== this.gen) return;
      if (SESSION_ERRORS.has(err.code)) this.sessionProblem(err);
      else if (FATAL.has(err.code)) this.fail('failed', err);
      else this.lost(gen);
    }
  }

  async loadMeeting(gen) {
    try {
      const m = await api.meeting(this.id);
      if (gen !== this.gen) return false;
      this.meeting = m;
      this.renderHead();
      return true;
    } catch (err) {
      if (gen !== this.gen || err.sessionEnded) return false;
      if (err.code === 'not_found' || err.code === 'forbidden') this.fail('failed', err);
      else if (!this.meeting) this.lost(gen);
      return false;
    }
  }

  closeSocket() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.sig?.close();
    this.sig = null;
  }

  // The connection dropped (or could not be made): try again, waiting longer each time.
  lost(gen) {
    if (gen !== this.gen || !this.active) return;
    this.gen++;
    this.closeSocket();
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** this.attempt, BACKOFF_MAX_MS);
    this.attempt++;
    this.setConn('reconnecting');
    this.paint();
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  // Stop for good: the meeting ended, or the server refused this console.
  fail(state, err) {
    this.gen++;
    clearTimeout(this.retryTimer);
    this.closeSocket();
    this.setConn(state);
    if (err) showError(this.errorEl, asError(err));
    this.paint();
  }

  // The server refused the token: if the REST API agrees, the console goes back to its login
  // form (api.js reports the dead session); otherwise say what the server said.
  async sessionProblem(err) {
    try {
      await api.me();
    } catch (e) {
      if (e.sessionEnded) return;
    }
    if (this.active) this.fail('failed', err);
  }

  onMessage(msg) {
    switch (msg.type) {
      case 'meeting-state': return this.apply(msg);
      case 'meeting-ended': return this.fail('ended');
      case 'error':
        if (SESSION_ERRORS.has(msg.code)) return this.sessionProblem(msg);
        return showError(this.errorEl, asError(msg));
      default: return undefined;
    }
  }

  apply(state) {
    this.state = state;
    this.announceHands();
    this.paint();
  }

  announceHands() {
    const hands = Array.isArray(this.state.hands) ? this.state.hands : [];
    if (this.handsSeen) {
      for (const id of hands) {
        if (!this.handsSeen.has(id)) announce(t('host.live.handRaised', { name: this.nameOf(id) }));
      }
    }
    this.handsSeen = new Set(hands);
  }

  // One control request; errors show above the panels. true on ack.
  async control(action, fields = {}, button = null) {
    const sig = this.sig;
    if (!this.canControl || !sig) return false;
    showError(this.errorEl, null);
    if (button) button.disabled = true;
    try {
      await sig.request({ type: 'control', action, ...fields });
      return true;
    } catch (err) {
      if (sig === this.sig) {
        showError(this.errorEl, asError(err));
        announce(this.errorEl.textContent);
      }
      return false;
    } finally {
      if (button) button.disabled = false;
      this.paint();
    }
  }

  // ---- wiring the static controls -----------------------------------------------------------

  wire() {
    $('live-back').addEventListener('click', () => this.ctx.navigate(`#/meeting/${this.id}`));
    $('live-layout').addEventListener('change', async (e) => {
      const ok = await this.control('layout', { kind: e.target.value });
      if (!ok) e.target.value = this.state?.layout?.kind ?? e.target.value;
    });
    // A pane (seat) and the room always shown in it; the pins come back in meeting-state.
    $('live-pin-seat').addEventListener('change', () => this.paint());
    $('live-pin').addEventListener('change', async (e) => {
      const room = e.target.value;
      const seat = Number($('live-pin-seat').value || 0);
      if (room) await this.control('pin', { seat, room });
      else await this.control('unpin', { seat });
    });
    $('live-mute-except').addEventListener('change', () => { this.exceptTouched = true; });
    const click = (id, fn) => $(id).addEventListener('click', (e) => fn(e.currentTarget));
    click('live-clear-forced', (b) => this.control('clear-forced', {}, b));
    click('live-revoke-floor', (b) => this.control('revoke-floor', {}, b));
    click('live-mute-all', (b) => {
      const except = $('live-mute-except').value;
      return this.control('mute-all', { muted: true, except: except ? [except] : [] }, b);
    });
    click('live-unmute-all', (b) => this.control('mute-all', { muted: false, except: [] }, b));
    click('live-rollcall-open', (b) => this.control('roll-call', { open: true }, b));
    click('live-rollcall-close', (b) => this.control('roll-call', { open: false }, b));
    click('live-lock', (b) => this.control('lock', { locked: true }, b));
    click('live-unlock', (b) => this.control('lock', { locked: false }, b));
    click('live-notice-clear', async (b) => {
      if (await this.control('notice', { text: '' }, b)) $('live-notice-text').value = '';
    });
    $('live-notice-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const text = $('live-notice-text').value.trim();
      if ([...text].length > NOTICE_MAX) {
        showError(this.errorEl, 'host.live.noticeTooLong');
        return;
      }
      this.control('notice', { text }, $('live-notice-send'));
    });
  }

  // ---- painting -----------------------------------------------------------------------------

  // Everything again, e.g. after a language change: rows and the picture are rebuilt.
  render() {
    this.clearRows();
    this.optionsKey = '';
    this.handsKey = '';
    this.renderHead(true);
    this.setConn(this.conn);
    this.tiles.update(this.state, this.names(), true);
    this.paint();
  }

  setConn(conn) {
    this.conn = conn;
    const el = $('live-state');
    el.dataset.state = conn;
    el.querySelector('.live-state-label').textContent = t(`host.live.state.${conn}`);
  }

  renderHead(force = false) {
    const m = this.meeting;
    const s = this.state;
    const key = JSON.stringify([m, s?.locked, this.chair, document.documentElement.lang]);
    if (!force && key === this.headKey) return;
    this.headKey = key;
    $('live-heading').textContent = m ? `${t('host.live.heading')}: ${m.title}` : t('host.live.heading');
    if (m) document.title = `${m.title} — ${t('host.live.heading')}`;
    const locked = s ? s.locked === true : m?.locked === true;
    $('live-meta').replaceChildren(...(m ? [
      stateBadge(m),
      locked ? h('span', {
        class: 'badge badge-locked', 'data-testid': 'live-locked', text: t('host.meeting.locked'),
      }) : null,
      h('span', { class: 'meta-item', text: t('host.meeting.code', { code: m.code }) }),
      this.chair?.role ? h('span', { class: 'meta-item', text: t(`host.role.${this.chair.role}`) })
        : null,
    ].filter(Boolean) : []));
    $('live-readonly').hidden = !(this.chair && this.chair.canControl === false);
  }

  names() {
    return new Map((this.state?.rooms ?? []).map((r) => [r.id, r.name]));
  }

  nameOf(id) {
    return this.state?.rooms?.find((r) => r.id === id)?.name ?? id;
  }

  paint() {
    if (!this.active) return;
    const s = this.state;
    const rooms = Array.isArray(s?.rooms) ? s.rooms : [];
    const names = this.names();
    this.renderHead();
    this.paintRooms(rooms);
    this.paintRemoved();
    this.tiles.update(s, names);
    this.paintPicture(rooms);
    this.paintHands(names);
    this.paintSound(rooms);
    this.paintRollCall(rooms, names);
    this.paintMeeting();
  }

  // ---- the roster ---------------------------------------------------------------------------

  clearRows() {
    this.rows.clear();
    $('live-rooms').replaceChildren();
  }

  paintRooms(rooms) {
    const list = $('live-rooms');
    $('live-rooms-heading').textContent = t('host.live.rooms', { n: rooms.length });
    const ids = new Set(rooms.map((r) => r.id));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    list.querySelector('.live-empty')?.remove();
    rooms.forEach((room, i) => {
      let row = this.rows.get(room.id);
      if (!row) {
        row = this.makeRow(room);
        this.rows.set(room.id, row);
      }
      row.update(room);
      // Move only what is out of place: moving a node that holds focus would drop the focus.
      if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] ?? null);
    });
    if (!rooms.length) {
      list.append(h('li', { class: 'live-empty', text: this.state ? t('host.live.noRooms') : t('host.loading') }));
    }
  }

  makeRow(first) {
    const view = this;
    let room = first;
    const btn = (testid, cls = 'btn-secondary') => h('button', {
      type: 'button', class: `btn btn-small ${cls}`, 'data-testid': testid,
    });
    const name = h('span', { class: 'live-room-name', text: room.name });
    const flags = h('span', { class: 'live-flags' });
    const fill = h('span', { class: 'live-level-fill' });
    const meter = h('span', { class: 'live-level', title: t('host.live.level') }, fill);
    const mute = btn('live-mute');
    const floor = btn('live-floor');
    const force = btn('live-force');
    const remove = btn('live-remove', 'btn-danger');
    mute.addEventListener('click', () =>
      view.control('mute', { room: room.id, muted: !room.chairMuted }, mute));
    floor.addEventListener('click', () => (room.floor
      ? view.control('revoke-floor', {}, floor)
      : view.control('grant-floor', { room: room.id }, floor)));
    force.addEventListener('click', () => (view.state?.forced === room.id
      ? view.control('clear-forced', {}, force)
      : view.control('force-big', { room: room.id }, force)));
    confirmable(remove, {
      question: t('host.live.removeQuestion', { name: room.name }),
      confirmLabel: t('host.live.removeConfirm'),
      onConfirm: () => view.removeRoom(room),
    });
    remove.textContent = t('host.live.remove');
    const li = h('li', { class: 'live-room', 'data-testid': 'live-room', 'data-room-id': room.id },
      h('div', { class: 'live-room-main' }, name, flags),
      meter,
      h('div', { class: 'live-room-actions' }, mute, floor, force, remove));
    let flagsKey = '';
    return {
      li,
      update(next) {
        room = next;
        const s = view.state ?? {};
        const forced = s.forced === room.id;
        const answered = !!s.rollCall?.open && (s.rollCall.answered ?? []).includes(room.id);
        const speaking = s.speaker === room.id;
        const ds = li.dataset;
        ds.chairMuted = String(!!room.chairMuted);
        ds.hand = String(!!room.handRaised);
        ds.floor = String(!!room.floor);
        ds.sharing = String(!!room.sharing);
        ds.forced = String(forced);
        ds.speaking = String(speaking);
        ds.media = room.media ?? '';
        ds.level = String(room.level ?? 127);
        li.classList.toggle('is-speaking', speaking);
        li.classList.toggle('is-chair-muted', !!room.chairMuted);
        name.textContent = room.name;
        fill.style.width = `${(100 * levelFraction(room.level)).toFixed(1)}%`;
        const f = [
          room.floor && ['floor', t('host.live.flag.floor')],
          room.handRaised && ['hand', t('host.live.flag.hand')],
          room.chairMuted && ['chair-muted', t('host.live.flag.chairMuted')],
          room.audioMuted && ['audio-muted', t('host.live.flag.audioMuted')],
          room.videoMuted && ['video-muted', t('host.live.flag.videoMuted')],
          room.sharing && ['sharing', t('host.live.flag.sharing')],
          forced && ['forced', t('host.live.flag.forced')],
          speaking && ['speaker', t('host.live.flag.speaker')],
          answered && ['present', t('host.live.flag.present')],
          room.media && room.media !== 'connected' &&
            [`media media-${room.media}`, t(`host.live.media.${room.media}`)],
        ].filter(Boolean);
        const key = JSON.stringify(f);
        if (key !== flagsKey) {
          flagsKey = key;
          flags.replaceChildren(...f.map(([cls, text]) =>
            h('span', { class: `live-flag flag-${cls}`, text })));
        }
        const can = view.canControl;
        mute.textContent = room.chairMuted ? t('host.live.unmute') : t('host.live.mute');
        mute.setAttribute('aria-pressed', String(!!room.chairMuted));
        floor.textContent = room.floor ? t('host.live.floorRevoke') : t('host.live.floor');
        floor.setAttribute('aria-pressed', String(!!room.floor));
        force.textContent = forced ? t('host.live.unforce') : t('host.live.force');
        force.setAttribute('aria-pressed', String(forced));
        for (const b of [mute, floor, force, remove]) {
          b.disabled = !can;
          b.setAttribute('aria-label', `${b.textContent}: ${room.name}`); // which room, for readers
        }
      },
    };
  }

  async removeRoom(room) {
    if (await this.control('remove', { room: room.id })) {
      announce(t('host.live.removedDone', { name: room.name }));
    }
  }

  // The rooms the chair removed, from meeting-state (`barred`): the same list in every console,
  // and after a reload.
  paintRemoved() {
    const barred = Array.isArray(this.state?.barred) ? this.state.barred : [];
    $('live-removed-box').hidden = barred.length === 0;
    const items = barred.map((r) => {
      const back = h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'live-invite-back',
        text: t('host.live.inviteBack'), disabled: !this.canControl,
      });
      back.setAttribute('aria-label', `${t('host.live.inviteBack')}: ${r.name}`);
      back.addEventListener('click', async () => {
        const fields = r.unitId ? { unitId: r.unitId } : { name: r.name };
        if (await this.control('invite-back', fields, back)) {
          announce(t('host.live.invitedBack', { name: r.name }));
        }
      });
      return h('li', { class: 'live-removed-item', 'data-testid': 'live-removed-item',
        'data-unit-id': r.unitId ?? '' }, h('span', { class: 'live-room-name', text: r.name }), back);
    });
    const list = $('live-removed');
    const key = JSON.stringify([barred, this.canControl, document.documentElement.lang]);
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.replaceChildren(...items);
    }
  }

  // ---- picture, hands, sound, roll call, meeting --------------------------------------------

  // The selects of rooms (pin, mute-all's exception), rebuilt only when the rooms change.
  roomOptions(select, rooms, noneLabel) {
    select.replaceChildren(h('option', { value: '', text: noneLabel }),
      ...rooms.map((r) => h('option', { value: r.id, text: r.name })));
  }

  paintPicture(rooms) {
    const s = this.state;
    const can = this.canControl;
    const layout = $('live-layout');
    const kind = s?.layout?.kind ?? null;
    if (kind !== this.layoutShown && kind) {
      layout.value = kind;
      this.layoutShown = kind;
    }
    layout.disabled = !can;
    const key = JSON.stringify([rooms.map((r) => [r.id, r.name]), document.documentElement.lang]);
    const pin = $('live-pin');
    const except = $('live-mute-except');
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.roomOptions(pin, rooms, t('host.live.pinNone'));
      const chosen = except.value;
      this.roomOptions(except, rooms, t('host.live.exceptNone'));
      except.value = chosen;
    }
    const pins = this.pins();
    const seat = this.paintSeats(rooms, pins);
    if (document.activeElement !== pin) pin.value = pins.get(seat) ?? '';
    if (pin.selectedIndex < 0) pin.value = '';
    const names = this.names();
    const list = [...pins.entries()].sort(([a], [b]) => a - b)
      .map(([n, id]) => t('host.live.pinned', { seat: n + 1, name: names.get(id) ?? id }));
    $('live-pins').textContent = list.length ? list.join(' · ') : t('host.live.pinsNone');
    // By default mute-all spares the room in seat 0 (the chair's own hall), if one is pinned.
    if (!this.exceptTouched) except.value = pins.get(0) ?? '';
    if (except.selectedIndex < 0) except.value = '';
    pin.disabled = !can;
    $('live-pin-seat').disabled = !can;
    $('live-clear-forced').disabled = !can || !s?.forced;
  }

  // seat → room id, as the server has them.
  pins() {
    const pins = Array.isArray(this.state?.pins) ? this.state.pins : [];
    return new Map(pins.filter((p) => Number.isInteger(p.seat)).map((p) => [p.seat, p.room]));
  }

  // The panes a room can be pinned to (one per room, and any pinned one); returns the chosen one.
  paintSeats(rooms, pins) {
    const select = $('live-pin-seat');
    const count = Math.min(25, Math.max(1, rooms.length, ...[...pins.keys()].map((s) => s + 1)));
    const key = JSON.stringify([count, document.documentElement.lang]);
    if (select.dataset.key !== key) {
      const chosen = select.value;
      select.dataset.key = key;
      select.replaceChildren(...Array.from({ length: count }, (_, i) =>
        h('option', { value: String(i), text: t('host.live.seat', { n: i + 1 }) })));
      select.value = chosen && Number(chosen) < count ? chosen : '0';
    }
    return Number(select.value || 0);
  }

  paintHands(names) {
    const s = this.state;
    const hands = Array.isArray(s?.hands) ? s.hands : [];
    const can = this.canControl;
    $('live-floor-holder').textContent = s?.floor
      ? t('host.live.floorHolder', { name: names.get(s.floor) ?? s.floor }) : t('host.live.floorNone');
    $('live-revoke-floor').disabled = !can || !s?.floor;
    const key = JSON.stringify([hands.map((id) => [id, names.get(id)]), can, document.documentElement.lang]);
    if (key === this.handsKey) return;
    this.handsKey = key;
    const list = $('live-hands');
    if (!hands.length) {
      list.replaceChildren(h('li', { class: 'live-empty', text: t('host.live.handsEmpty') }));
      return;
    }
    list.replaceChildren(...hands.map((id) => {
      const grant = h('button', {
        type: 'button', class: 'btn btn-primary btn-small', 'data-testid': 'live-grant',
        text: t('host.live.grant'), disabled: !can,
      });
      grant.addEventListener('click', () => this.control('grant-floor', { room: id }, grant));
      const lower = h('button', {
        type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'live-lower-hand',
        text: t('host.live.lowerHand'), disabled: !can,
      });
      lower.addEventListener('click', () => this.control('lower-hand', { room: id }, lower));
      return h('li', { class: 'live-hand', 'data-testid': 'live-hand', 'data-room-id': id },
        h('span', { class: 'live-room-name', text: names.get(id) ?? id }), grant, lower);
    }));
  }

  paintSound(rooms) {
    const can = this.canControl && rooms.length > 0;
    $('live-mute-all').disabled = !can;
    $('live-unmute-all').disabled = !can;
    $('live-mute-except').disabled = !can;
  }

  paintRollCall(rooms, names) {
    const rc = this.state?.rollCall ?? { open: false, answered: [] };
    const open = rc.open === true;
    const answered = (Array.isArray(rc.answered) ? rc.answered : []).filter((id) => names.has(id));
    const can = this.canControl;
    $('live-rollcall-open').hidden = open;
    $('live-rollcall-close').hidden = !open;
    $('live-rollcall-open').disabled = !can;
    $('live-rollcall-close').disabled = !can;
    const count = $('live-rollcall-count');
    count.dataset.open = String(open);
    count.dataset.count = String(answered.length);
    count.dataset.total = String(rooms.length);
    const text = open || answered.length
      ? t('host.live.rollcallCount', { n: answered.length, total: rooms.length })
      : t('host.live.rollcallClosed');
    if (count.textContent !== text) count.textContent = text;
    const list = $('live-rollcall-answered');
    const key = JSON.stringify(answered.map((id) => names.get(id)));
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      list.replaceChildren(...answered.map((id) => h('li', {
        class: 'live-answered-item', 'data-testid': 'live-rollcall-entry', 'data-room-id': id,
        text: names.get(id),
      })));
    }
    const missing = open ? rooms.filter((r) => !answered.includes(r.id)).map((r) => r.name) : [];
    $('live-rollcall-missing').textContent = missing.length
      ? t('host.live.rollcallMissing', { names: missing.join(', ') }) : '';
  }

  paintMeeting() {
    const s = this.state;
    const can = this.canControl;
    const locked = s?.locked === true;
    $('live-lock').hidden = locked;
    $('live-unlock').hidden = !locked;
    $('live-lock').disabled = !can;
    $('live-unlock').disabled = !can;
    $('live-notice-text').disabled = !can;
    $('live-notice-send').disabled = !can;
    $('live-notice-clear').disabled = !can || !s?.notice;
    $('live-notice-current').textContent = s?.notice
      ? t('host.live.noticeCurrent', { text: s.notice }) : t('host.live.noticeNone');
  }
}
