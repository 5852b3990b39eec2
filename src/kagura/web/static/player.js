// The audio queue and lip sync shared by the stage page and the overlay.
//
// `audio` payloads are decoded in arrival order and scheduled back to back on one WebAudio
// clock, so they play gaplessly and the first starts while later ones are still on the wire.
// The mouth value at any moment comes from the playing segment's `volumes` (one RMS value
// per `slice_length` ms), so it is exact and costs nothing per frame.
//
// Events: "segmentstart" detail {text, actions, index} when a segment's audio begins (for
// display-only segments: when their turn in the queue comes).

const LEAD_S = 0.05; // scheduling margin: a source started in the past is cut short

function base64ToBuffer(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export class AudioQueue extends EventTarget {
  constructor() {
    super();
    const Context = window.AudioContext || window.webkitAudioContext;
    this.ctx = new Context({ latencyHint: "interactive" });
    this.generation = 0; // bumped by stop(): decodes still running for older audio are dropped
    this.decoding = Promise.resolve();
    this.pending = 0; // payloads received but not yet scheduled
    this.segments = []; // scheduled: {start, end, volumes, sliceS, text, source, timer}
    this.endAt = 0;
    this.count = 0;
  }

  /** True when the browser blocks audio until a user gesture (never in OBS). */
  get blocked() {
    return this.ctx.state === "suspended";
  }

  resume() {
    return this.ctx.resume();
  }

  /** Queue one `audio` payload; returns at once, plays in order. */
  enqueue(payload) {
    const generation = this.generation;
    const index = this.count++;
    this.pending += 1;
    const decoded = payload.audio
      ? this.ctx.decodeAudioData(base64ToBuffer(payload.audio)).catch((err) => {
          console.warn("undecodable audio segment; showing its text only", err);
          return null;
        })
      : Promise.resolve(null);
    // Chain on the previous decode, so segments are scheduled strictly in arrival order.
    this.decoding = this.decoding.then(async () => {
      const buffer = await decoded;
      this.pending -= 1;
      if (generation === this.generation) this.schedule(payload, buffer, index);
    });
  }

  schedule(payload, buffer, index) {
    const now = this.ctx.currentTime;
    const start = Math.max(now + LEAD_S, this.endAt);
    const duration = buffer ? buffer.duration : 0;
    const segment = {
      start,
      end: start + duration,
      volumes: Array.isArray(payload.volumes) ? payload.volumes : [],
      sliceS: (payload.slice_length || 20) / 1000,
      text: payload.display_text?.text ?? "",
      source: null,
      timer: 0,
    };
    if (buffer) {
      const source = this.ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(this.ctx.destination);
      source.start(start);
      segment.source = source;
    }
    this.endAt = segment.end;
    this.segments.push(segment);
    const detail = { text: segment.text, actions: payload.actions || null, index };
    segment.timer = setTimeout(
      () => this.dispatchEvent(new CustomEvent("segmentstart", { detail })),
      Math.max(0, (start - now) * 1000),
    );
    this.forgetFinished();
  }

  /** Drop segments that ended long ago (the list stays short on a long stream). */
  forgetFinished() {
    const now = this.ctx.currentTime;
    while (this.segments.length > 1 && this.segments[0].end < now - 5) this.segments.shift();
  }

  /** True while anything is queued, decoding or playing. */
  get busy() {
    return this.pending > 0 || this.ctx.currentTime < this.endAt;
  }

  /** Resolves when everything queued so far has been played (or the queue was stopped). */
  async drained() {
    const generation = this.generation;
    await this.decoding;
    while (generation === this.generation && this.ctx.currentTime < this.endAt) {
      const left = this.endAt - this.ctx.currentTime;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, left * 1000 + 20)));
    }
    return generation === this.generation;
  }

  /** The mouth opening (0..1) right now, from the playing segment's volumes. */
  mouth() {
    const now = this.ctx.currentTime;
    for (const seg of this.segments) {
      if (now >= seg.start && now < seg.end) {
        const i = Math.floor((now - seg.start) / seg.sliceS);
        return Math.max(0, Math.min(1, seg.volumes[i] ?? 0));
      }
    }
    return 0;
  }

  /** The text the listener has actually heard: played segments, plus the played share of
   * the current one. */
  heardText() {
    const now = this.ctx.currentTime;
    const parts = [];
    for (const seg of this.segments) {
      if (seg.start > now) break;
      if (now >= seg.end) {
        parts.push(seg.text);
      } else {
        const share = (now - seg.start) / (seg.end - seg.start);
        parts.push(seg.text.slice(0, Math.floor(seg.text.length * share)));
      }
    }
    return parts.filter(Boolean).join(" ").trim();
  }

  /** Stop at once: playing audio, scheduled audio and decodes in flight. */
  stop() {
    this.generation += 1;
    for (const seg of this.segments) {
      clearTimeout(seg.timer);
      try {
        seg.source?.stop();
      } catch {
        /* not started yet */
      }
    }
    this.segments = [];
    this.endAt = 0;
    this.pending = 0;
    this.decoding = Promise.resolve();
  }
}
