// The microphone's audio worklet: the context's rate (44.1 or 48 kHz, whatever the device
// gives) down to 16 kHz mono, as 16-bit little-endian PCM in chunks of CHUNK_MS, the form the
// server takes in a binary WebSocket frame. Each chunk also carries its RMS level for the
// meter, so the page needs no analyser of its own.
//
// Downsampling averages the input over each output sample's span (a box filter): cheap, and
// it removes most of what would alias into the speech band, unlike picking samples.

const OUT_RATE = 16000;
const CHUNK_MS = 40; // 25 frames a second: small enough for fast barge-in, few enough frames
const CHUNK_SAMPLES = (OUT_RATE * CHUNK_MS) / 1000;

class MicrophoneCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / OUT_RATE; // input samples per output sample (may be fractional)
    this.sum = 0; // weighted input gathered for the output sample being built
    this.filled = 0; // how much of its span is gathered, in input samples
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.used = 0;
    this.squares = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0]; // mono: the first channel (constraints ask for one)
    if (!channel) return true; // no input yet (device starting): keep the node alive
    for (let i = 0; i < channel.length; i++) {
      let weight = 1;
      while (weight > 0) {
        const take = Math.min(weight, this.step - this.filled);
        this.sum += channel[i] * take;
        this.filled += take;
        weight -= take;
        if (this.filled >= this.step - 1e-9) {
          this.emit(this.sum / this.step);
          this.sum = 0;
          this.filled = 0;
        }
      }
    }
    return true;
  }

  emit(value) {
    const clipped = Math.max(-1, Math.min(1, value));
    this.chunk[this.used++] = Math.round(clipped * 32767);
    this.squares += clipped * clipped;
    if (this.used < CHUNK_SAMPLES) return;
    const level = Math.sqrt(this.squares / CHUNK_SAMPLES);
    // Int16Array is in the platform's byte order: little-endian on every browser platform.
    const pcm = this.chunk.buffer;
    this.port.postMessage({ pcm, level }, [pcm]);
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.used = 0;
    this.squares = 0;
  }
}

registerProcessor("kagura-microphone", MicrophoneCapture);
