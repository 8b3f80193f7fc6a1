// Local camera and microphone. A room joins with whatever works: both, one of them, or none
// (receive only); the notice key says what is missing.

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25, max: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

async function tryGet(constraints) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    console.warn('getUserMedia', JSON.stringify(constraints), err.name, err.message);
    return null;
  }
}

// → { stream: MediaStream (possibly without tracks), notice: i18n key or null }
export async function getLocalMedia() {
  if (!navigator.mediaDevices?.getUserMedia) {
    return { stream: new MediaStream(), notice: 'media.unsupported' };
  }
  const both = await tryGet({ audio: AUDIO, video: VIDEO });
  if (both) return { stream: both, notice: null };
  // One of the two is missing or denied: ask for each alone, one after the other.
  const audio = await tryGet({ audio: AUDIO });
  const video = await tryGet({ video: VIDEO });
  const stream = new MediaStream([
    ...(audio ? audio.getTracks() : []),
    ...(video ? video.getTracks() : []),
  ]);
  const notice = audio && video ? null : audio ? 'media.noCam' : video ? 'media.noMic' : 'media.none';
  return { stream, notice };
}

export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
