// What the room page tells the server about its own connection (docs/protocol.md, `stats`):
// read from RTCPeerConnection.getStats() every few seconds and reduced to the few numbers a
// technician watches. Rates come from the difference between two readings.

export class StatsReader {
  constructor(pc) {
    this.pc = pc;
    this.last = null; // { packetsReceived, packetsLost }
  }

  // One `stats` message, or null when the connection has nothing to report yet.
  async read() {
    const report = await this.pc.getStats();
    const msg = { type: 'stats' };
    let received = 0;
    let lost = 0;
    let jitter = null;
    let pairId = null;
    const byId = new Map();
    report.forEach((s) => {
      byId.set(s.id, s);
      if (s.type === 'inbound-rtp') {
        received += s.packetsReceived ?? 0;
        lost += Math.max(0, s.packetsLost ?? 0);
        if (s.kind === 'audio' && typeof s.jitter === 'number') jitter = s.jitter * 1000;
        if (s.kind === 'video') {
          if (typeof s.framesPerSecond === 'number') msg.fpsIn = s.framesPerSecond;
          else if (s.framesDecoded != null) msg.fpsIn = 0;
          if (s.frameWidth) msg.widthIn = s.frameWidth;
          if (s.frameHeight) msg.heightIn = s.frameHeight;
          if (typeof s.freezeCount === 'number') msg.freezes = s.freezeCount;
        }
      } else if (s.type === 'outbound-rtp' && s.kind === 'video' && s.frameWidth) {
        // The camera, not the shared screen: the larger of the two is good enough to tell.
        if (!msg.widthOut || s.frameWidth > msg.widthOut) {
          msg.widthOut = s.frameWidth;
          msg.heightOut = s.frameHeight;
          if (typeof s.framesPerSecond === 'number') msg.fpsOut = s.framesPerSecond;
        }
      } else if (s.type === 'media-source' && s.kind === 'audio' && typeof s.audioLevel === 'number') {
        msg.micLevel = Math.min(1, Math.max(0, s.audioLevel));
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
      }
    });
    if (jitter != null) msg.jitterInMs = jitter;
    const pair = pairId ? byId.get(pairId)
      : [...byId.values()].find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (pair) {
      if (typeof pair.currentRoundTripTime === 'number') msg.rttMs = pair.currentRoundTripTime * 1000;
      const local = byId.get(pair.localCandidateId);
      if (local?.candidateType) msg.candidateType = local.candidateType;
    }
    if (this.last) {
      const dr = received - this.last.received;
      const dl = lost - this.last.lost;
      if (dr + dl > 0) msg.lossInPercent = Math.min(100, Math.max(0, (100 * dl) / (dr + dl)));
    }
    this.last = { received, lost };
    return msg;
  }
}
