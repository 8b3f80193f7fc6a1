// One RTCPeerConnection that answers the server's offer (docs/protocol.md): sends the local
// camera and mic on the offer's transceivers, receives the composite and the audio mix, and
// trickles candidates both ways with the queues the ordering rules need. A third m-line (video
// the server only receives) carries a shared screen: kept sendonly without a track, so sharing
// is a replaceTrack and never a renegotiation.

// What a shared screen is sent as: slides and documents, not motion. Few frames at a modest size
// keep the server's decode of it cheap.
const SCREEN_MAX_FPS = 5;
const SCREEN_MAX_BITRATE = 1200000;

export class Peer {
  // localStream: MediaStream (may have no tracks); send(msg): to the server;
  // onTrack(track), onState(connectionState): callbacks, silent once close() was called.
  constructor({ localStream, send, onTrack, onState }) {
    this.localStream = localStream;
    this.send = send;
    this.closed = false;
    this.remoteQueue = []; // server candidates that came before the remote description
    this.localQueue = []; // our candidates gathered before the answer went out
    this.answerSent = false;
    this.endSent = false;
    this.screenTransceiver = null; // the offer's third m-line, if the server has one
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc = pc;
    pc.ontrack = (e) => !this.closed && onTrack(e.track);
    pc.onicecandidate = (e) => !this.closed && this.onLocalCandidate(e.candidate);
    pc.onconnectionstatechange = () => !this.closed && onState(pc.connectionState);
  }

  async answer(sdp) {
    const pc = this.pc;
    this.answerSent = false;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    this.screenTransceiver = this.findScreenTransceiver(sdp);
    await this.attachLocalTracks();
    for (const c of this.remoteQueue.splice(0)) await this.addCandidate(c);
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.closed) return;
    this.send({ type: 'answer', sdp: pc.localDescription.sdp });
    this.answerSent = true;
    if (this.cameraWanted === false || this.cameraTile) {
      await this.setCameraWanted(this.cameraWanted !== false, this.cameraTile);
    }
    for (const msg of this.localQueue.splice(0)) this.send(msg);
  }

  // The offer created one transceiver per m-line. Put our tracks on them and keep every one
  // sendrecv, even without a track, so a device that appears later needs no renegotiation.
  async attachLocalTracks() {
    const used = new Set();
    for (const tr of this.pc.getTransceivers()) {
      if (tr === this.screenTransceiver) {
        tr.direction = 'sendonly'; // the server only receives here; a share replaces the track
        continue;
      }
      const kind = tr.receiver.track.kind;
      const local = this.localStream.getTracks().find((t) => t.kind === kind && t.readyState === 'live');
      if (local && !used.has(kind)) {
        used.add(kind);
        if (tr.sender.track !== local) await tr.sender.replaceTrack(local);
        tr.sender.setStreams?.(this.localStream);
      }
      tr.direction = 'sendrecv';
    }
  }

  // The screen's transceiver: the video m-line that is not the camera's. The offer marks it
  // recvonly (the server only receives); without that mark, the second video m-line in mid order.
  // null when the offer has only audio and camera (an older server: no screen share).
  findScreenTransceiver(sdp) {
    const videos = sdp.split(/\r?\n(?=m=)/).filter((m) => m.startsWith('m=video'))
      .map((m) => ({
        mid: /^a=mid:(\S+)/m.exec(m)?.[1],
        recvonly: /^a=recvonly\s*$/m.test(m),
      }));
    if (videos.length < 2) return null;
    const screen = videos.find((v) => v.recvonly) ?? videos[1];
    return this.pc.getTransceivers().find((tr) => tr.mid != null && tr.mid === screen.mid) ?? null;
  }

  get canShare() {
    return this.screenTransceiver != null && !this.closed;
  }

  // Whether the server wants our camera (it is on the composite), and the size of its tile there.
  // Off screen the server does not decode it, so we stop encoding and sending it; on screen again
  // the browser starts with a keyframe. On screen we send no more than the tile shows: the
  // camera is scaled down to cover it (less uplink, a cheaper decode on the server). Applied
  // once the camera's sender is negotiated, if it is not yet.
  async setCameraWanted(wanted, tile = this.cameraTile) {
    this.cameraWanted = wanted;
    this.cameraTile = tile ?? null;
    const sender = this.pc.getTransceivers()
      .find((tr) => tr !== this.screenTransceiver && tr.receiver.track.kind === 'video')?.sender;
    if (!sender || this.closed) return;
    try {
      const params = sender.getParameters();
      if (!params.encodings?.length) return; // answer() applies it once negotiated
      const scale = scaleToCover(sender.track, this.cameraTile);
      if (params.encodings.every((enc) => enc.active === wanted &&
          (enc.scaleResolutionDownBy ?? 1) === scale)) return;
      for (const enc of params.encodings) {
        enc.active = wanted;
        enc.scaleResolutionDownBy = scale;
      }
      await sender.setParameters(params);
    } catch (err) {
      console.warn('camera sender parameters', err.message);
    }
  }

  // Sends `track` (a getDisplayMedia video track) on the screen's m-line; null stops sending.
  async setScreen(track) {
    const sender = this.screenTransceiver?.sender;
    if (!sender || this.closed) return false;
    await sender.replaceTrack(track);
    if (track) await this.limitScreen(sender);
    return true;
  }

  async limitScreen(sender) {
    try {
      const params = sender.getParameters();
      if (!params.encodings?.length) return; // not negotiated yet: the track's constraints hold
      for (const enc of params.encodings) {
        enc.maxFramerate = SCREEN_MAX_FPS;
        enc.maxBitrate = SCREEN_MAX_BITRATE;
      }
      params.degradationPreference = 'maintain-resolution';
      await sender.setParameters(params);
    } catch (err) {
      console.warn('screen sender parameters', err.message);
    }
  }

  onLocalCandidate(c) {
    let msg;
    if (c?.candidate) {
      msg = { type: 'candidate', candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex ?? 0 };
    } else {
      if (this.endSent) return; // Chromium may signal the end twice
      this.endSent = true;
      msg = { type: 'candidate', candidate: '', sdpMLineIndex: 0 };
    }
    // The server rejects candidates that come before the answer (no_session).
    if (this.answerSent) this.send(msg);
    else this.localQueue.push(msg);
  }

  addRemoteCandidate(msg) {
    if (!this.pc.remoteDescription) this.remoteQueue.push(msg);
    else this.addCandidate(msg);
  }

  async addCandidate(msg) {
    try {
      if (!msg.candidate) await this.pc.addIceCandidate(); // end of candidates
      else await this.pc.addIceCandidate({ candidate: msg.candidate, sdpMLineIndex: msg.sdpMLineIndex ?? 0 });
    } catch (err) {
      console.warn('addIceCandidate', msg.candidate, err.message);
    }
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}

// How far to scale a camera down so that it still covers a tile of the composite: never up, and
// in quarter steps, so that a small change of layout does not reconfigure the encoder.
export function scaleToCover(track, tile) {
  const s = track?.getSettings?.() ?? {};
  if (!tile?.width || !tile?.height || !s.width || !s.height) return 1;
  const fit = Math.min(s.width / tile.width, s.height / tile.height);
  return Math.max(1, Math.floor(fit * 4) / 4);
}
