// One RTCPeerConnection that answers the server's offer (docs/protocol.md): sends the local
// camera and mic on the offer's transceivers, receives the composite and the audio mix, and
// trickles candidates both ways with the queues the ordering rules need.

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
    await this.attachLocalTracks();
    for (const c of this.remoteQueue.splice(0)) await this.addCandidate(c);
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.closed) return;
    this.send({ type: 'answer', sdp: pc.localDescription.sdp });
    this.answerSent = true;
    for (const msg of this.localQueue.splice(0)) this.send(msg);
  }

  // The offer created one transceiver per m-line. Put our tracks on them and keep every one
  // sendrecv, even without a track, so a device that appears later needs no renegotiation.
  async attachLocalTracks() {
    const used = new Set();
    for (const tr of this.pc.getTransceivers()) {
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
