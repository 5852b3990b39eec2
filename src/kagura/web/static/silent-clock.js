// A stand-in for an AudioContext that plays nothing and keeps time: the captions page
// schedules each reply's segments exactly as the overlay does (same queue, same order, same
// durations), so its text changes when the overlay's voice does, without a second voice in
// OBS and without needing the browser's permission to play sound.

const RIFF = 0x46464952; // "RIFF", little-endian
const FMT = 0x20746d66; // "fmt "
const DATA = 0x61746164; // "data"

/** The duration of a PCM WAV from its header (seconds), or null when it is not one. */
export function wavDuration(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 12 || view.getUint32(0, true) !== RIFF) return null;
  let byteRate = 0;
  for (let offset = 12; offset + 8 <= buffer.byteLength; ) {
    const id = view.getUint32(offset, true);
    let size = view.getUint32(offset + 4, true);
    if (id === FMT && offset + 16 <= buffer.byteLength) byteRate = view.getUint32(offset + 16, true);
    if (id === DATA) {
      const available = buffer.byteLength - offset - 8;
      if (size === 0 || size > available) size = available; // a streamed WAV's placeholder
      return byteRate ? size / byteRate : null;
    }
    offset += 8 + size + (size & 1);
  }
  return null;
}

export class SilentClock extends EventTarget {
  constructor() {
    super();
    this.state = "running";
    this.destination = null;
  }

  get currentTime() {
    return performance.now() / 1000;
  }

  resume() {
    return Promise.resolve();
  }

  decodeAudioData(buffer) {
    const duration = wavDuration(buffer);
    return duration === null
      ? Promise.reject(new Error("not a PCM WAV"))
      : Promise.resolve({ duration });
  }

  createBufferSource() {
    return { buffer: null, connect() {}, start() {}, stop() {} };
  }
}
