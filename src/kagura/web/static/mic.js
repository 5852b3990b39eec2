// The browser microphone, without any DOM (mic-panel.js is its face): capture through
// getUserMedia and the worklet (mic-worklet.js: 16 kHz, 16-bit PCM chunks), and the rules of
// what is sent as binary WebSocket frames.
//
// Two modes. "voice": every chunk is sent and the server's VAD and end-of-turn model decide
// when a turn starts and ends (and when the streamer talks over the character). "push":
// chunks are sent only while the talk button or key is held.
//
// Whenever the page stops sending speech (release, mute, mode change), it sends silence in
// its place until the turn's transcript arrives or TAIL_MAX_MS pass: the server ends a turn
// on a pause it hears, so without that tail a released button would leave the turn hanging.
// No tail when nothing loud was sent since the last transcript: no turn is open.
//
// Events: "state" detail {state: "off"|"starting"|"on"|"error", reason?, message?},
// "level" detail {level} (RMS 0..1 of each chunk, ~25 a second).

// Longer than the longest silence the server may be configured to wait for
// (voice.turn.silence_timeout_ms, at most 10 s).
const TAIL_MAX_MS = 10_500;
// A chunk louder than this (RMS, about -40 dBFS) counts as sound the server may be turning
// into an utterance; with nothing as loud since the last transcript there is no turn to end.
const SOUND_LEVEL = 0.01;
// Stopping the microphone mid-turn: this much silence (the default silence timeout and a
// margin) is sent at once in 40 ms frames.
const CHUNK_BYTES = 2 * 640;
const STOP_SILENCE_CHUNKS = 30;
// A stalled socket: audio is dropped rather than piled up (~8 s of 16 kHz PCM).
const MAX_BUFFERED_BYTES = 256 * 1024;
// Browser processing that keeps the character's own voice (and the room) out of the stream.
export const CONSTRAINTS = {
  audio: {
    channelCount: 1,
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
  },
};

/** Why this page cannot capture audio ("insecure", "unsupported"), or "" when it can.
 * Browsers offer the microphone only to secure pages: https://, or http:// on the machine's
 * own loopback names (127.0.0.1, localhost); elsewhere `navigator.mediaDevices` is missing. */
export function unavailableReason(win = window) {
  if (!win.isSecureContext || !win.navigator.mediaDevices?.getUserMedia) {
    return win.isSecureContext ? "unsupported" : "insecure";
  }
  if (!win.AudioWorkletNode) return "unsupported";
  return "";
}

function errorReason(err) {
  if (err?.name === "NotAllowedError" || err?.name === "SecurityError") return "denied";
  if (err?.name === "NotFoundError" || err?.name === "OverconstrainedError") return "nodevice";
  return "failed";
}

export class Microphone extends EventTarget {
  /** @param {(pcm: ArrayBuffer) => boolean} send sends one binary frame; false if it cannot */
  constructor(send) {
    super();
    this.send = send;
    this.state = "off";
    this.mode = "voice";
    this.muted = false;
    this.pressed = false; // push-to-talk: the button or key is held
    this.tailUntil = 0; // silence is sent in place of speech until then (performance.now())
    this.soundSent = false; // sound was sent since the server last ended a turn
    this.level = 0;
    this.sent = 0; // frames sent since the page opened (debug hook, tests)
    this.dropped = 0; // chunks not sent because the socket was closed or stalled
    this.stream = null;
    this.ctx = null;
    this.node = null;
    this.attempt = 0;
  }

  /** Speech is being sent right now. */
  get transmitting() {
    if (this.state !== "on" || this.muted) return false;
    return this.mode === "voice" || this.pressed;
  }

  async start() {
    if (this.state === "on" || this.state === "starting") return;
    const reason = unavailableReason();
    if (reason) {
      this.setState("error", { reason });
      return;
    }
    const attempt = ++this.attempt; // stop() during the permission prompt wins
    this.setState("starting");
    try {
      // The context first (inside the click, so no autoplay rule holds it) and the worklet
      // loaded before the device opens: what is said right after the click is not lost.
      const Context = window.AudioContext || window.webkitAudioContext;
      this.ctx = new Context({ latencyHint: "interactive" });
      // Same origin, a module file: allowed by the pages' script-src 'self'.
      await this.ctx.audioWorklet.addModule(new URL("./mic-worklet.js", import.meta.url));
      if (attempt !== this.attempt) return; // stopped meanwhile: released already
      const stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
      if (attempt !== this.attempt) {
        for (const track of stream.getTracks()) track.stop();
        return;
      }
      this.stream = stream;
      const source = this.ctx.createMediaStreamSource(stream);
      this.node = new AudioWorkletNode(this.ctx, "kagura-microphone", {
        numberOfInputs: 1,
        numberOfOutputs: 1, // silent (never written); connected so every browser runs it
        channelCount: 1,
        channelCountMode: "explicit",
      });
      this.node.port.onmessage = (event) => this.onChunk(event.data);
      source.connect(this.node).connect(this.ctx.destination);
      for (const track of stream.getAudioTracks()) {
        track.addEventListener("ended", () => this.fail("ended"));
      }
      await this.ctx.resume();
      if (attempt === this.attempt) this.setState("on");
    } catch (err) {
      if (attempt === this.attempt) this.fail(errorReason(err), String(err?.message || err));
    }
  }

  stop() {
    // No more chunks will come to carry a tail: a second of silence at once ends the turn.
    if ((this.transmitting || this.tailUntil) && this.soundSent) {
      for (let i = 0; i < STOP_SILENCE_CHUNKS; i++) this.deliver(new ArrayBuffer(CHUNK_BYTES));
    }
    this.tailUntil = 0;
    this.release();
    this.setState("off");
  }

  fail(reason, message = "") {
    this.release();
    this.setState("error", { reason, message });
  }

  release() {
    this.attempt += 1; // a start() still waiting gives up
    this.node?.port.close();
    this.node?.disconnect();
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.ctx?.close().catch(() => {});
    this.node = this.stream = this.ctx = null;
    this.pressed = false;
    this.showLevel(0);
  }

  showLevel(level) {
    this.level = level;
    this.dispatchEvent(new CustomEvent("level", { detail: { level } }));
  }

  setMode(mode) {
    const wasSending = this.transmitting;
    this.mode = mode === "push" ? "push" : "voice";
    this.pressed = false;
    if (wasSending && !this.transmitting) this.beginTail();
    this.setState(this.state);
  }

  setMuted(muted) {
    const wasSending = this.transmitting;
    this.muted = Boolean(muted);
    if (this.muted) this.showLevel(0); // at once: the next chunk may be a while coming
    if (wasSending && !this.transmitting) this.beginTail();
    this.setState(this.state);
  }

  /** Push-to-talk: the button or key went down (true) or up (false). */
  press(down) {
    if (this.mode !== "push" || this.pressed === down) return;
    this.pressed = down;
    if (down) this.tailUntil = 0;
    else if (this.state === "on" && !this.muted) this.beginTail();
    this.setState(this.state);
  }

  /** The turn ended (its transcript arrived, or the server gave up on it): no more tail. */
  turnEnded() {
    this.tailUntil = 0;
    this.soundSent = false;
  }

  beginTail() {
    if (this.soundSent) this.tailUntil = performance.now() + TAIL_MAX_MS;
  }

  onChunk({ pcm, level }) {
    this.showLevel(this.muted ? 0 : level);
    if (this.transmitting) {
      this.deliver(pcm);
      if (level > SOUND_LEVEL) this.soundSent = true;
    } else if (this.tailUntil > performance.now()) {
      this.deliver(new ArrayBuffer(pcm.byteLength)); // zeros: silence, not the room
    } else {
      this.tailUntil = 0;
    }
  }

  deliver(pcm) {
    if (this.send(pcm, MAX_BUFFERED_BYTES)) this.sent += 1;
    else this.dropped += 1;
  }

  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }
}
