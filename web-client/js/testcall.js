// A test call's measurements (docs/protocol.md, "Test calls"): the room alone with the server sees
// and hears itself back; every second the page reads its peer connection's statistics, and at the
// end reduces them to the report it shows and sends (`test-report`).

const LEVEL_HEARD = 0.005; // 0..1 RMS level above which a sound counts as present

// RMS level (0..1) between two cumulative readings {energy, duration} of an audio stream.
function rms(a, b) {
  if (!a || !b || b.duration <= a.duration) return 0;
  return Math.sqrt(Math.max(0, b.energy - a.energy) / (b.duration - a.duration));
}

export class TestCallMeter {
  constructor(pc) {
    this.pc = pc;
    this.first = null; // {at, bytesIn, bytesOut, received, lost}
    this.last = null;
    this.rttMs = null;
    this.micTrack = false;
    // Cumulative energy readings (totalAudioEnergy, totalSamplesDuration) of the microphone and of
    // the sound that came back, first and last: levels from them do not depend on sampling the
    // instant a sound plays.
    this.mic = { first: null, last: null };
    this.back = { first: null, last: null };
    this.camera = { frames: 0, width: 0, height: 0 };
  }

  async sample() {
    const report = await this.pc.getStats();
    let bytesIn = 0;
    let bytesOut = 0;
    let received = 0;
    let lost = 0;
    let pairId = null;
    const byId = new Map();
    report.forEach((s) => {
      byId.set(s.id, s);
      if (s.type === 'inbound-rtp') {
        bytesIn += s.bytesReceived ?? 0;
        received += s.packetsReceived ?? 0;
        lost += Math.max(0, s.packetsLost ?? 0);
        if (s.kind === 'audio' && s.totalSamplesDuration != null) {
          this.back.last = { energy: s.totalAudioEnergy ?? 0, duration: s.totalSamplesDuration };
          this.back.first ??= this.back.last;
        }
      } else if (s.type === 'outbound-rtp') {
        bytesOut += s.bytesSent ?? 0;
        if (s.kind === 'video' && (s.framesEncoded ?? 0) > this.camera.frames) {
          this.camera = { frames: s.framesEncoded, width: s.frameWidth ?? 0, height: s.frameHeight ?? 0 };
        }
      } else if (s.type === 'media-source' && s.kind === 'audio') {
        this.micTrack = true;
        if (s.totalSamplesDuration != null) {
          this.mic.last = { energy: s.totalAudioEnergy ?? 0, duration: s.totalSamplesDuration };
          this.mic.first ??= this.mic.last;
        }
      } else if (s.type === 'transport' && s.selectedCandidatePairId) {
        pairId = s.selectedCandidatePairId;
      }
    });
    const pair = pairId && byId.get(pairId);
    if (typeof pair?.currentRoundTripTime === 'number') this.rttMs = pair.currentRoundTripTime * 1000;
    const now = { at: performance.now(), bytesIn, bytesOut, received, lost };
    if (!this.first && bytesIn > 0) this.first = now;
    this.last = now;
  }

  // What the room measured, as the `test-report` message carries it.
  report() {
    const micLevel = Math.min(1, rms(this.mic.first, this.mic.last));
    const backLevel = rms(this.back.first, this.back.last);
    const msg = {
      camera: this.camera.frames > 0,
      cameraWidth: this.camera.width,
      cameraHeight: this.camera.height,
      microphone: this.micTrack && micLevel > 0,
      micLevel,
      heardItself: micLevel > LEVEL_HEARD && backLevel > LEVEL_HEARD,
    };
    if (this.rttMs != null) msg.rttMs = this.rttMs;
    const a = this.first;
    const b = this.last;
    if (a && b && b.at > a.at) {
      const seconds = (b.at - a.at) / 1000;
      msg.kbpsIn = ((b.bytesIn - a.bytesIn) * 8) / 1000 / seconds;
      msg.kbpsOut = ((b.bytesOut - a.bytesOut) * 8) / 1000 / seconds;
      const packets = b.received - a.received + (b.lost - a.lost);
      msg.lossPercent = packets > 0 ? Math.min(100, (100 * (b.lost - a.lost)) / packets) : 0;
    }
    return msg;
  }
}
