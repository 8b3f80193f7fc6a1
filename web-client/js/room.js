// The room page: join a meeting, answer the server's offer, show the composite picture.
// Two ways in: /join/CODE?name=NAME (a guest, meetings open to anyone) and /room/SECRET (a bridge
// point's bookmark: the server knows its name and its current or next meeting, and keeps it
// waiting until the host opens the meeting).
// The chair (docs/protocol.md, "Chairing a live meeting") may mute the room, give it the floor,
// take a roll call and show a notice; the room raises its hand and may share its screen.
// Protocol: docs/protocol.md. Test hook: window.mcuRoom.
import { t, errorText, applyI18n, bindLangSwitch, onLangChange } from './i18n.js';
import { Signaling } from './signaling.js';
import { getLocalMedia, stopStream } from './media.js';
import { Roster } from './roster.js';
import { Peer } from './peer.js';
import { StatsReader } from './stats.js';
import { TestCallMeter } from './testcall.js';
import { icons } from './icons.js';

const NAME_KEY = 'mcu.roomName';
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 10000;
const FAILED_AFTER_ATTEMPTS = 5; // keep retrying, but say "connection lost"
const DISCONNECTED_GRACE_MS = 8000; // ICE may recover from 'disconnected' on its own
const PING_INTERVAL_MS = 20000; // finds half-open connections; keeps idle proxies from closing
const STATS_INTERVAL_MS = 2000; // the server's monitor interval
const TEST_MEASURE_MS = 12000; // a test call measures this long once its media is connected
// Errors after which retrying the same join cannot help.
const FATAL_JOIN_ERRORS = new Set([
  'unknown_meeting', 'meeting_closed', 'meeting_full', 'bad_field', 'missing_field',
  'unsupported_version', 'not_invited', 'meeting_locked', 'unauthorized', 'link_revoked',
]);
// A bridge point with nothing open looks again this often (its end screen says so).
const NO_MEETING_RECHECK_MS = 60000;
// A removed room whose socket dropped (so the server cannot let it in) asks again this often.
const REMOVED_RECHECK_MS = 30000;
// A shared screen: slides and documents, so a modest size and few frames (cheap to decode).
const SCREEN_VIDEO = { width: { max: 1280 }, height: { max: 720 }, frameRate: { max: 5 } };

const $ = (id) => document.getElementById(id);
const el = {
  state: $('conn-state'), notices: $('notices'), composite: $('composite'),
  waiting: $('stage-waiting'), sound: $('enable-sound'), self: $('self-video'),
  mic: $('btn-mic'), cam: $('btn-cam'), leave: $('btn-leave'), rejoin: $('btn-rejoin'),
  hand: $('btn-hand'), share: $('btn-share'), floor: $('floor-badge'), rollcall: $('rollcall'),
  present: $('btn-present'), answered: $('rollcall-answered'), chairNotice: $('chair-notice'),
};

const bridgeSecret = location.pathname.startsWith('/room/')
  ? decodeURIComponent(location.pathname.slice('/room/'.length).replace(/\/+$/, '')) : '';

const room = {
  secret: bridgeSecret, // a bridge point's room-link secret; '' for a guest
  // /room/SECRET?meeting=CODE: that meeting only; without it, the room's current or next one.
  requestedCode: bridgeSecret ? new URLSearchParams(location.search).get('meeting') || '' : '',
  code: bridgeSecret ? ''
    : decodeURIComponent(location.pathname.replace(/^\/join\//, '').replace(/\/+$/, '')),
  title: '',
  startsAt: null, // of the meeting a bridge point waits for
  name: bridgeSecret ? '' : new URLSearchParams(location.search).get('name')?.trim() || '',
  state: 'connecting',
  participantId: null,
  sig: null,
  peer: null,
  localStream: null,
  audioMuted: false,
  videoMuted: false,
  joined: false,
  attempt: 0,
  retryTimer: null,
  generation: 0, // bumped on every (re)connect and on leave: stale callbacks check it
  earlyCandidates: [], // server candidates before the offer (the protocol rules them out)
  retryPending: false,
  disconnectedTimer: null,
  pingTimer: null,
  endReason: null, // {heading, body, action} shown on the end screen
  removed: false, // the chair removed this room: it waits to be invited back
  // A test call (?test=1, or the "test call" button): alone with the server, seeing and hearing
  // itself back, then a report.
  testMode: new URLSearchParams(location.search).get('test') === '1',
  testTimer: null,
  testMeter: null,
  testReport: null, // the last report shown
  // What the chair decided about this room (its own entry in participant-updated).
  chairMuted: false,
  handRaised: false,
  floor: false,
  rollCallOpen: false,
  rollCallAnswered: false,
  chairNotice: '', // the chair's notice text; '' = none
  screenTrack: null, // the shared screen while sharing
  cameraWanted: true, // our camera is on the composite (video-wanted); false: not sent
  cameraTile: null, // {width, height} of our tile on the composite (video-wanted), null: unknown
};
const roster = new Roster($('roster'), $('roster-title'));

window.mcuRoom = {
  get state() { return room.state; },
  get meeting() { return room.code; },
  get name() { return room.name; },
  get participantId() { return room.participantId; },
  get pc() { return room.peer?.pc ?? null; },
  get roster() { return roster.list(); },
  get handRaised() { return room.handRaised; },
  get chairMuted() { return room.chairMuted; },
  get floor() { return room.floor; },
  get rollCallOpen() { return room.rollCallOpen; },
  get rollCallAnswered() { return room.rollCallAnswered; },
  get sharing() { return room.screenTrack?.readyState === 'live'; },
  get canShare() { return canShare(); },
  get notice() { return room.chairNotice; },
  get cameraWanted() { return room.cameraWanted; },
  get cameraTile() { return room.cameraTile; },
  // Test hook: a server message as if it had arrived on the socket.
  receive(msg) { return onMessage(msg); },
};

// ---- screens and state -------------------------------------------------------------------

function show(screen) {
  for (const id of ['name-screen', 'room-screen', 'end-screen']) $(id).hidden = id !== screen;
}

function setState(state, detail = '') {
  room.state = state;
  // While a bridge point waits for its meeting it may make a test call meanwhile.
  $('btn-test-waiting').hidden = state !== 'waiting';
  el.state.hidden = false;
  el.state.dataset.state = state;
  el.state.querySelector('.conn-label').textContent =
    t(`state.${state}`) + (detail ? ` ${detail}` : '');
}

function notice(text, kind = 'info', key = text) {
  if ([...el.notices.children].some((n) => n.dataset.key === key)) return;
  const div = document.createElement('div');
  div.className = `notice notice-${kind}`;
  div.dataset.key = key;
  div.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const span = document.createElement('span');
  span.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.textContent = '×';
  close.setAttribute('aria-label', 'OK');
  close.onclick = () => div.remove();
  div.append(span, close);
  el.notices.append(div);
}

function removeNotice(key) {
  for (const n of [...el.notices.children]) if (n.dataset.key === key) n.remove();
}

function clearNotices(kind) {
  for (const n of [...el.notices.children]) if (n.classList.contains(`notice-${kind}`)) n.remove();
}

function renderLabels() {
  const meetingLabel = room.title || (room.code ? t('room.meeting', { code: room.code }) : '');
  $('meeting-label').textContent = meetingLabel;
  $('name-meeting').textContent = meetingLabel;
  document.title = meetingLabel ? `${t('app.title')} — ${meetingLabel}` : t('app.title');
  $('room-label').textContent = room.name;
  $('room-label').hidden = !room.name;
  if (!el.state.hidden) setState(room.state);
  renderControls();
  roster.render();
  renderChair();
  el.sound.innerHTML = `${icons.sound}<span>${t('ctl.enableSound')}</span>`;
  if (room.endReason) renderEnd();
  if (room.state === 'waiting') renderWaiting();
}

// A bridge point early for its meeting: what it waits for, and since the host opens it, not when.
function renderWaiting() {
  const when = room.startsAt ? new Date(room.startsAt) : null;
  const time = when && !Number.isNaN(when.getTime())
    ? when.toLocaleString(t('locale'), { hour: '2-digit', minute: '2-digit', day: 'numeric',
      month: 'numeric', year: 'numeric' }) : '';
  $('waiting-text').textContent = t('room.waitingFor', { title: room.title, time });
}

function ctlButton(button, icon, label, pressed, disabled) {
  button.innerHTML = `${icon}<span class="ctl-label"></span>`;
  button.querySelector('.ctl-label').textContent = label;
  button.setAttribute('aria-pressed', String(pressed));
  button.disabled = disabled;
}

function renderControls() {
  const hasMic = !!track('audio');
  const hasCam = !!track('video');
  ctlButton(el.mic, room.audioMuted || !hasMic || room.chairMuted ? icons.micOff : icons.mic,
    !hasMic ? t('ctl.noMic') : room.chairMuted ? t('ctl.chairMuted')
      : room.audioMuted ? t('ctl.micOff') : t('ctl.micOn'),
    room.audioMuted || room.chairMuted, !hasMic);
  el.mic.classList.toggle('is-chair-muted', room.chairMuted);
  el.mic.dataset.chairMuted = String(room.chairMuted);
  ctlButton(el.cam, room.videoMuted || !hasCam ? icons.camOff : icons.cam,
    !hasCam ? t('ctl.noCam') : room.videoMuted ? t('ctl.camOff') : t('ctl.camOn'),
    room.videoMuted, !hasCam);
  ctlButton(el.hand, icons.hand, room.handRaised ? t('ctl.handLower') : t('ctl.handRaise'),
    room.handRaised, false);
  el.share.hidden = !canShare() && !room.screenTrack;
  ctlButton(el.share, icons.screen, room.screenTrack ? t('ctl.shareStop') : t('ctl.share'),
    !!room.screenTrack, false);
  ctlButton(el.leave, icons.leave, t('ctl.leave'), false, false);
  $('self-caption').textContent = hasCam && !room.videoMuted ? t('video.self') : t('video.selfNone');
}

function renderEnd() {
  $('end-heading').textContent = t(room.endReason.heading);
  $('end-body').textContent = room.endReason.body();
  renderTestReport();
  el.rejoin.hidden = !room.endReason.action; // none: the page goes on by itself
  if (room.endReason.action) el.rejoin.textContent = t(room.endReason.action);
}

function showEnd(heading, body, action) {
  room.endReason = { heading, body, action };
  renderEnd();
  show('end-screen');
}

// ---- local media ---------------------------------------------------------------------------

function track(kind) {
  return room.localStream?.getTracks().find((tr) => tr.kind === kind && tr.readyState === 'live');
}

async function acquireMedia() {
  const { stream, notice: missing } = await getLocalMedia();
  room.localStream = stream;
  // A video element given a stream without video waits forever and holds the page's load event.
  el.self.srcObject = stream.getVideoTracks().length ? stream : null;
  clearNotices('warn');
  if (missing) notice(t(missing), 'warn', missing);
  for (const tr of stream.getTracks()) tr.enabled = !(tr.kind === 'audio' ? room.audioMuted : room.videoMuted);
  renderControls();
}

function setMuted(kind, muted) {
  room[kind === 'audio' ? 'audioMuted' : 'videoMuted'] = muted;
  for (const tr of room.localStream?.getTracks() ?? []) if (tr.kind === kind) tr.enabled = !muted;
  renderControls();
  if (room.participantId) {
    const key = kind === 'audio' ? 'audioMuted' : 'videoMuted';
    roster.upsert({ id: room.participantId, [key]: muted || !track(kind) });
  }
  if (room.joined) sendMute(kind, muted || !track(kind));
}

function sendMute(kind, muted) {
  room.sig?.request({ type: 'mute', kind, muted }).catch((err) => console.warn('mute', err.code));
}

// ---- connecting ----------------------------------------------------------------------------

function wsUrl() {
  return `${location.protocol === 'http:' ? 'ws' : 'wss'}://${location.host}/ws`;
}

function closePeer() {
  clearTimeout(room.disconnectedTimer);
  clearInterval(room.statsTimer);
  if (room.peer) {
    room.peer.close();
    room.peer = null;
  }
  room.joined = false;
  room.earlyCandidates = [];
  el.waiting.hidden = false;
}

function teardown() {
  clearInterval(room.pingTimer);
  closePeer();
  if (room.sig) {
    room.sig.close();
    room.sig = null;
  }
}

async function connect() {
  clearTimeout(room.retryTimer);
  room.retryPending = false;
  teardown();
  const gen = ++room.generation;
  room.cameraWanted = true; // a new session starts wanted; the server says otherwise if not
  room.cameraTile = null;
  if (room.attempt === 0) setState('connecting');
  else setState(room.state === 'failed' ? 'failed' : 'reconnecting');
  const sig = new Signaling(wsUrl());
  room.sig = sig;
  sig.addEventListener('message', (e) => gen === room.generation && onMessage(e.detail));
  sig.addEventListener('close', (e) => {
    if (gen === room.generation && !e.detail.expected) connectionLost('network');
  });
  try {
    await sig.open();
    const request = room.secret
      ? { type: 'join', room: room.secret, version: 1,
        ...(room.requestedCode && !room.testMode ? { meeting: room.requestedCode } : {}) }
      : { type: 'join', meeting: room.code, name: room.name, version: 1 };
    if (room.testMode) request.test = true;
    const reply = await sig.request(request);
    if (gen !== room.generation) return;
    room.pingTimer = setInterval(() => ping(sig, gen), PING_INTERVAL_MS);
    if (reply.type === 'waiting') onWaiting(reply);
    else onJoined(reply);
  } catch (err) {
    if (gen !== room.generation) return;
    if (room.secret && err.code === 'meeting_closed') noMeeting();
    else if (room.removed && err.code === 'not_invited') stillRemoved();
    else if (FATAL_JOIN_ERRORS.has(err.code)) fail(err.code);
    else connectionLost(err.code || 'network');
  }
}

function ping(sig, gen) {
  sig.request({ type: 'ping' }).catch((err) => {
    if (gen === room.generation && err.code === 'timeout') connectionLost('timeout');
  });
}

function onWaiting(msg) {
  room.code = msg.meeting.code;
  room.title = msg.meeting.title;
  room.startsAt = msg.meeting.startsAt;
  room.name = msg.name || room.name;
  room.attempt = 0;
  setState('waiting');
  $('waiting-text').hidden = false;
  renderLabels();
}

function onJoined(msg) {
  room.joined = true;
  room.participantId = msg.you;
  room.code = msg.meeting;
  room.title = msg.title || '';
  room.name = msg.roster.find((p) => p.id === msg.you)?.name || room.name;
  $('waiting-text').hidden = true;
  if (room.state === 'waiting' || room.removed) setState('connecting');
  if (room.removed) { // invited back by the chair
    room.removed = false;
    room.endReason = null;
    show('room-screen');
  }
  // A new session: what the chair decided comes again (own entry, roll-call, notice).
  room.rollCallOpen = false;
  room.rollCallAnswered = false;
  room.chairNotice = '';
  applySelf(msg.roster.find((p) => p.id === msg.you) ?? {});
  renderLabels();
  roster.reset(msg.roster, msg.you);
  startStats();
  if (room.testMode) startTestCall();
  // Tell the others what this room does not send (muted, or no device at all).
  for (const kind of ['audio', 'video']) {
    const muted = (kind === 'audio' ? room.audioMuted : room.videoMuted) || !track(kind);
    if (muted) {
      sendMute(kind, true);
      roster.upsert({ id: msg.you, [kind === 'audio' ? 'audioMuted' : 'videoMuted']: true });
    }
  }
}

function onMessage(msg) {
  switch (msg.type) {
    case 'offer': {
      const gen = room.generation; // a failure of an abandoned session must not restart this one
      return onOffer(msg.sdp).catch((err) => gen === room.generation && onOfferError(err));
    }
    case 'candidate': return onRemoteCandidate(msg);
    case 'joined': return onJoined(msg); // a waiting bridge point, let in when the host opened
    case 'meeting-ended': return onMeetingEnded(msg);
    case 'media-state': return onMediaState(msg.state);
    case 'participant-joined': return upsertParticipant(msg.participant);
    case 'participant-updated': return upsertParticipant(msg.participant);
    case 'participant-left': return roster.remove(msg.participant);
    case 'roll-call': return onRollCall(msg);
    case 'notice': return onChairNotice(msg);
    case 'video-wanted': return onVideoWanted(msg.wanted === true, tileOf(msg));
    case 'reconnect': return onAskedToReconnect();
    case 'restart-media': return onRestartMedia();
    case 'error': return onServerError(msg);
    default: return undefined;
  }
}

// The server does not decode our camera while we are off the composite: stop sending it then.
// On it, the server scales our camera to its tile: send no more than that.
function onVideoWanted(wanted, tile) {
  room.cameraWanted = wanted;
  if (tile) room.cameraTile = tile;
  return room.peer?.setCameraWanted(wanted, room.cameraTile);
}

function tileOf(msg) {
  const width = Number(msg.width), height = Number(msg.height);
  return width > 0 && height > 0 ? { width, height } : null;
}

function onServerError(msg) {
  console.warn('server error', msg.code, msg.message);
  switch (msg.code) {
    case 'answer_timeout':
    case 'media_failed':
    case 'bad_sdp': // answering the same offer again would give the same answer: start over
      return connectionLost(msg.code);
    case 'bad_candidate': // one unusable candidate; the others may still connect
      return undefined;
    default:
      return notice(errorText(msg.code), 'error', msg.code);
  }
}

// ---- what a technician sees and asks (docs/protocol.md, "Monitoring stream health") ----------

// Every STATS_INTERVAL_MS while in a meeting: what this browser sees of its connection.
function startStats() {
  clearInterval(room.statsTimer);
  const gen = room.generation;
  room.statsTimer = setInterval(async () => {
    const peer = room.peer;
    if (!peer || peer.closed || gen !== room.generation || !room.sig) return;
    peer.statsReader ??= new StatsReader(peer.pc);
    try {
      const msg = await peer.statsReader.read();
      if (gen === room.generation && room.sig) room.sig.send(msg);
    } catch (err) {
      console.warn('stats', err.message);
    }
  }, STATS_INTERVAL_MS);
}

// A technician asked: drop everything and join again now.
function onAskedToReconnect() {
  notice(t('notice.reconnectAsked'), 'info', 'reconnect-asked');
  room.attempt = 0;
  connect();
}

// A technician asked for a fresh media leg: the server sends a new offer next, which a new
// peer connection answers (the room stays in the meeting).
function onRestartMedia() {
  if (room.peer) {
    room.peer.close();
    room.peer = null;
  }
  room.earlyCandidates = [];
  notice(t('notice.restartMedia'), 'info', 'restart-media');
}

// ---- test call -------------------------------------------------------------------------------

function startTestCall() {
  clearInterval(room.testTimer);
  room.testMeter = null;
  room.testReport = null;
  notice(t('test.running'), 'info', 'test-running');
  const gen = room.generation;
  let measuredFrom = null;
  room.testTimer = setInterval(async () => {
    if (gen !== room.generation) return clearInterval(room.testTimer);
    const pc = room.peer?.pc;
    if (!pc || pc.connectionState !== 'connected') return;
    room.testMeter ??= new TestCallMeter(pc);
    measuredFrom ??= performance.now();
    try {
      await room.testMeter.sample();
    } catch (err) {
      console.warn('test call stats', err.message);
    }
    if (gen === room.generation && performance.now() - measuredFrom >= TEST_MEASURE_MS) {
      finishTestCall();
    }
  }, 1000);
}

// Sends the report, leaves the test call and shows what it measured.
async function finishTestCall() {
  clearInterval(room.testTimer);
  const report = room.testMeter?.report() ?? { camera: false, microphone: false, heardItself: false };
  room.testReport = report;
  room.testMode = false;
  const sig = room.sig;
  room.generation++;
  removeNotice('test-running');
  if (sig?.isOpen && room.joined) {
    try {
      await sig.request({ type: 'test-report', ...report }, 3000);
      await sig.request({ type: 'leave' }, 3000);
    } catch (err) {
      console.warn('test report', err.code);
    }
  }
  teardown();
  roster.clear();
  room.participantId = null;
  el.composite.srcObject = null;
  setState('left');
  showEnd('test.heading', () => t(report.heardItself && report.camera ? 'test.good' : 'test.check'),
    room.secret ? 'ctl.enterMeeting' : 'ctl.rejoin');
}

function renderTestReport() {
  const box = $('test-report');
  const r = room.endReason?.heading === 'test.heading' ? room.testReport : null;
  box.hidden = !r;
  if (!r) return box.replaceChildren();
  const num = (v, unit, digits = 0) => (v == null ? '–' : `${v.toFixed(digits)} ${unit}`);
  const yes = (b) => t(b ? 'test.yes' : 'test.no');
  const rows = [
    ['rtt', 'test.rtt', num(r.rttMs, 'ms')],
    ['loss', 'test.loss', num(r.lossPercent, '%', 1)],
    ['kbps-in', 'test.kbpsIn', num(r.kbpsIn, 'kb/s')],
    ['kbps-out', 'test.kbpsOut', num(r.kbpsOut, 'kb/s')],
    ['camera', 'test.camera', r.camera ? `${yes(true)} (${r.cameraWidth}×${r.cameraHeight})` : yes(false)],
    ['microphone', 'test.mic', r.microphone ? `${yes(true)} (${t('test.level')} ${(r.micLevel ?? 0).toFixed(2)})` : yes(false)],
    ['heard', 'test.heard', yes(r.heardItself)],
  ];
  box.replaceChildren(...rows.flatMap(([key, label, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = t(label);
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset.testid = `test-report-${key}`;
    return [dt, dd];
  }));
  box.dataset.heard = String(r.heardItself);
  box.dataset.camera = String(r.camera);
  box.dataset.microphone = String(r.microphone);
}

function startTest() {
  room.testMode = true;
  enterRoom();
}

function onMediaState(state) {
  // The browser's own connectionState drives the indicator; the server's view only adds
  // a reason to start over when it gives up.
  if (state === 'failed' || state === 'closed') connectionLost('media_failed');
}

function onOfferError(err) {
  console.error('answering the offer failed', err);
  connectionLost('bad_sdp');
}

// ---- WebRTC --------------------------------------------------------------------------------

function onOffer(sdp) {
  if (!room.peer) {
    const remote = new MediaStream(); // exactly one composite video plus the audio mix
    room.peer = new Peer({
      localStream: room.localStream ?? new MediaStream(),
      send: (msg) => room.sig?.send(msg),
      onTrack: (tr) => {
        for (const old of remote.getTracks()) if (old.kind === tr.kind) remote.removeTrack(old);
        remote.addTrack(tr);
        if (el.composite.srcObject !== remote) el.composite.srcObject = remote;
        playComposite();
      },
      onState: onPcState,
    });
    room.peer.cameraWanted = room.cameraWanted; // told before the offer: applied on answering
    room.peer.cameraTile = room.cameraTile;
    for (const c of room.earlyCandidates.splice(0)) room.peer.addRemoteCandidate(c);
  }
  const peer = room.peer;
  return peer.answer(sdp).then(() => afterAnswer(peer));
}

// The offer says whether the server takes a screen (a third m-line): show the button, and put a
// share that outlived a reconnect on the new connection.
async function afterAnswer(peer) {
  if (peer !== room.peer) return;
  if (room.screenTrack) {
    if (peer.canShare && room.screenTrack.readyState === 'live') await peer.setScreen(room.screenTrack);
    else stopShare();
  }
  renderControls();
}

function onRemoteCandidate(msg) {
  if (room.peer) room.peer.addRemoteCandidate(msg);
  else room.earlyCandidates.push(msg); // cannot happen per protocol, but costs nothing
}

function onPcState(state) {
  clearTimeout(room.disconnectedTimer);
  if (state === 'connected') {
    room.attempt = 0;
    clearNotices('error');
    setState('connected');
  } else if (state === 'failed') {
    connectionLost('media_failed');
  } else if (state === 'disconnected') {
    room.disconnectedTimer = setTimeout(() => connectionLost('media_failed'), DISCONNECTED_GRACE_MS);
  }
}

// ---- the composite picture and its sound ----------------------------------------------------

function playComposite() {
  const v = el.composite;
  v.muted = false;
  v.play().catch((err) => {
    if (err.name !== 'NotAllowedError') return;
    // Autoplay with sound is blocked until someone clicks: play muted, offer a button.
    v.muted = true;
    v.play().catch(() => {});
    el.sound.hidden = false;
  });
}

el.sound.addEventListener('click', () => {
  el.composite.muted = false;
  el.composite.play().then(() => { el.sound.hidden = true; }, () => {});
});
el.composite.addEventListener('loadeddata', () => { el.waiting.hidden = true; });

// ---- the chair: mute, floor, hand, roll call, notice ------------------------------------------

function upsertParticipant(p) {
  if (p?.id && p.id === room.participantId) applySelf(p);
  roster.upsert(p);
}

// The room's own entry: what the chair decided (the room cannot undo a chair mute).
function applySelf(p) {
  const was = room.chairMuted;
  if (typeof p.chairMuted === 'boolean') room.chairMuted = p.chairMuted;
  if (typeof p.handRaised === 'boolean') room.handRaised = p.handRaised;
  if (typeof p.floor === 'boolean') room.floor = p.floor;
  if (room.chairMuted && !was) notice(t('chair.mutedNotice'), 'warn', 'chair-muted');
  if (!room.chairMuted) removeNotice('chair-muted');
  renderControls();
  renderChair();
}

function resetChair() {
  room.chairMuted = false;
  room.handRaised = false;
  room.floor = false;
  room.rollCallOpen = false;
  room.rollCallAnswered = false;
  room.chairNotice = '';
  removeNotice('chair-muted');
  renderControls();
  renderChair();
}

function renderChair() {
  el.floor.hidden = !room.floor;
  el.floor.innerHTML = `${icons.floor}<span></span>`;
  el.floor.querySelector('span').textContent = t('chair.floor');
  el.rollcall.hidden = !room.rollCallOpen;
  el.present.hidden = room.rollCallAnswered;
  el.present.innerHTML = `${icons.present}<span></span>`;
  el.present.querySelector('span').textContent = t('rollcall.present');
  el.answered.hidden = !room.rollCallAnswered;
  el.answered.textContent = t('rollcall.answered');
  el.chairNotice.hidden = !room.chairNotice || !room.joined;
  $('chair-notice-text').textContent = room.chairNotice;
}

// The chair's mute cannot be lifted here: the button says so instead of unmuting.
function onMicClick() {
  if (room.chairMuted) {
    removeNotice('chair-muted');
    notice(t('chair.mutedNotice'), 'warn', 'chair-muted');
    return;
  }
  setMuted('audio', !room.audioMuted);
}

async function toggleHand() {
  if (!room.joined || !room.sig) return;
  const raised = !room.handRaised;
  room.handRaised = raised; // at once; the server's participant-updated confirms it
  renderControls();
  const gen = room.generation;
  try {
    await room.sig.request({ type: 'hand', raised });
  } catch (err) {
    if (gen !== room.generation) return;
    console.warn('hand', err.code);
    room.handRaised = !raised;
    renderControls();
    notice(errorText(err.code), 'error', `hand-${err.code}`);
  }
}

function onRollCall(msg) {
  room.rollCallOpen = msg.open === true;
  if (room.rollCallOpen) room.rollCallAnswered = false;
  renderChair();
  if (room.rollCallOpen) el.present.focus();
}

async function answerRollCall() {
  if (!room.joined || !room.sig || room.rollCallAnswered) return;
  el.present.disabled = true;
  const gen = room.generation;
  try {
    await room.sig.request({ type: 'roll-call-answer' });
    if (gen !== room.generation) return;
    room.rollCallAnswered = true;
  } catch (err) {
    if (gen !== room.generation) return;
    if (err.code === 'not_allowed') room.rollCallOpen = false; // the chair closed it meanwhile
    else notice(errorText(err.code), 'error', `rollcall-${err.code}`);
  } finally {
    el.present.disabled = false;
  }
  renderChair();
}

function onChairNotice(msg) {
  room.chairNotice = typeof msg.text === 'string' ? msg.text : '';
  renderChair();
}

// ---- screen share (the offer's third m-line) ------------------------------------------------

function canShare() {
  return !!room.peer?.canShare && !!navigator.mediaDevices?.getDisplayMedia;
}

async function startShare() {
  if (!canShare() || room.screenTrack) return;
  let track;
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: SCREEN_VIDEO, audio: false });
    track = stream.getVideoTracks()[0];
  } catch (err) {
    // The person closed the picker: nothing to say.
    if (err.name !== 'NotAllowedError' && err.name !== 'AbortError') {
      notice(t('share.failed'), 'warn', 'share-failed');
    }
    return;
  }
  if (!track) return;
  track.contentHint = 'detail';
  track.applyConstraints(SCREEN_VIDEO).catch(() => {});
  // The browser's own "stop sharing" bar ends the track.
  track.addEventListener('ended', () => { if (room.screenTrack === track) stopShare(); });
  room.screenTrack = track;
  renderControls();
  try {
    await room.peer?.setScreen(track);
  } catch (err) {
    console.warn('share', err.message);
    stopShare();
    notice(t('share.failed'), 'warn', 'share-failed');
  }
}

function stopShare() {
  const track = room.screenTrack;
  if (!track) return;
  room.screenTrack = null;
  track.stop();
  room.peer?.setScreen(null).catch((err) => console.warn('stop share', err.message));
  renderControls();
}

// ---- reconnecting, failing, leaving -----------------------------------------------------------

function connectionLost(reason) {
  if (room.state === 'left') return;
  console.warn('connection lost:', reason);
  teardown();
  room.generation++;
  const delay = Math.min(BACKOFF_FIRST_MS * 2 ** room.attempt, BACKOFF_MAX_MS);
  room.attempt++;
  const state = room.attempt > FAILED_AFTER_ATTEMPTS ? 'failed' : 'reconnecting';
  setState(state, t('state.reconnectIn', { s: Math.round(delay / 1000) }));
  if (['answer_timeout', 'media_failed', 'bad_sdp'].includes(reason)) {
    notice(errorText(reason), 'error', reason);
  }
  room.retryPending = true;
  room.retryTimer = setTimeout(connect, delay);
}

// The host closed or cancelled the meeting, the chair removed the room, or the host's edit no
// longer invites it: the room is out; a bridge point may look for its next meeting.
function onMeetingEnded(msg) {
  if (msg.reason === 'removed') return onRemoved();
  if (msg.reason === 'test-over') return finishTestCall(); // the server's time limit
  room.removed = false;
  teardown();
  room.generation++;
  roster.clear();
  room.participantId = null;
  el.composite.srcObject = null;
  setState('ended');
  stopShare();
  resetChair();
  if (msg.reason === 'uninvited') { // the host's edit of the meeting no longer invites it
    showEnd('ended.uninvitedHeading',
      () => t('ended.uninvitedBody', { title: room.title || room.code }),
      room.secret ? 'ctl.checkAgain' : 'ctl.rejoin');
    return;
  }
  const heading = msg.reason === 'cancelled' ? 'ended.cancelledHeading' : 'ended.heading';
  showEnd(heading, () => t('ended.body', { title: room.title || room.code }),
    room.secret ? 'ctl.checkAgain' : 'ctl.rejoin');
}

// The chair removed this room. The socket stays open and the server lets the room in again (an
// unasked `joined`) when the chair invites it back: nobody has to be at an unattended bridge
// point to click anything.
function onRemoved() {
  closePeer();
  stopShare();
  roster.clear();
  room.participantId = null;
  el.composite.srcObject = null;
  resetChair();
  room.cameraWanted = true; // the next session starts wanted, as in connect()
  room.cameraTile = null;
  room.removed = true;
  showRemoved();
}

function showRemoved() {
  setState('removed');
  showEnd('ended.removedHeading', () => t('ended.removedBody', { title: room.title || room.code }),
    null);
}

// The socket dropped while removed, and the join from the new one was refused: the bar stands.
// Nobody is listening for this room now, so it asks again now and then.
function stillRemoved() {
  teardown();
  room.generation++;
  showRemoved();
  clearTimeout(room.retryTimer);
  room.retryTimer = setTimeout(() => {
    if (room.removed) connect();
  }, REMOVED_RECHECK_MS);
}

// A bridge point with no meeting open or planned: say so, and look again now and then.
function noMeeting() {
  teardown();
  room.generation++;
  setState('ended');
  showEnd('nomeeting.heading', () => t('nomeeting.body'), 'ctl.checkAgain');
  clearTimeout(room.retryTimer);
  room.retryTimer = setTimeout(() => {
    if (room.state === 'ended') enterRoom();
  }, NO_MEETING_RECHECK_MS);
}

// A join error that retrying cannot fix: stop and say why.
function fail(code) {
  teardown();
  room.generation++;
  setState('failed');
  showEnd('failed.heading', () => errorText(code), 'ctl.retry');
}

async function leave() {
  clearTimeout(room.retryTimer);
  room.retryPending = false;
  room.generation++; // ignore everything from this session from now on
  setState('left');
  // The room sees it has left at once; telling the server may take a moment.
  showEnd('left.heading', () => t('left.body', { name: room.name, code: room.code }), 'ctl.rejoin');
  const sig = room.sig;
  if (sig?.isOpen && room.joined) {
    try {
      await sig.request({ type: 'leave' }, 3000);
    } catch (err) {
      console.warn('leave', err.code);
    }
  }
  teardown();
  roster.clear();
  room.participantId = null;
  stopShare();
  resetChair();
  stopStream(room.localStream);
  room.localStream = null;
  el.self.srcObject = null;
  el.composite.srcObject = null;
}

async function enterRoom() {
  clearTimeout(room.retryTimer);
  room.endReason = null;
  room.attempt = 0;
  show('room-screen');
  setState('connecting');
  renderLabels();
  if (!room.localStream) await acquireMedia();
  connect();
}

// ---- wiring --------------------------------------------------------------------------------

function askName() {
  show('name-screen');
  const input = $('name-input');
  try { input.value = localStorage.getItem(NAME_KEY) || ''; } catch { /* no storage */ }
  input.focus();
  $('name-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = input.value.trim();
    const error = !name ? 'form.nameRequired' : [...name].length > 64 ? 'form.nameTooLong' : null;
    $('name-error').hidden = !error;
    if (error) {
      $('name-error').textContent = t(error);
      return;
    }
    room.name = name;
    const url = new URL(location.href);
    url.searchParams.set('name', name);
    history.replaceState(null, '', url);
    start();
  });
}

function start() {
  try { localStorage.setItem(NAME_KEY, room.name); } catch { /* no storage */ }
  enterRoom();
}

el.mic.addEventListener('click', onMicClick);
el.hand.addEventListener('click', toggleHand);
el.share.addEventListener('click', () => (room.screenTrack ? stopShare() : startShare()));
el.present.addEventListener('click', answerRollCall);
el.cam.addEventListener('click', () => setMuted('video', !room.videoMuted));
el.leave.addEventListener('click', leave);
el.rejoin.addEventListener('click', () => {
  room.testMode = false;
  enterRoom();
});
$('btn-test').addEventListener('click', startTest);
$('btn-test-waiting').addEventListener('click', () => {
  room.generation++;
  startTest();
});
window.addEventListener('online', () => {
  if (room.retryPending) connect(); // the network is back: do not wait for the backoff
});
window.addEventListener('pagehide', () => {
  room.generation++;
  teardown();
});
window.addEventListener('pageshow', (e) => {
  if (e.persisted && room.localStream && room.state !== 'left') connect(); // back from bfcache
});

bindLangSwitch($('lang-switch'));
onLangChange(renderLabels);
applyI18n();
renderLabels();
if (room.secret) enterRoom(); // a bridge point: the server knows its name
else if (!room.code) location.replace('/');
else if (room.name && [...room.name].length <= 64) start();
else askName();
