// The audio queue and lip sync shared by the stage page and the overlay.
//
// `audio` payloads are decoded in arrival order and scheduled back to back on one WebAudio
// clock, so they play gaplessly and the first starts while later ones are still on the wire.
// The mouth value at any moment comes from the playing segment's `volumes` (one RMS value
// per `slice_length` ms), so it is exact and costs nothing per frame.
//
// Segments are tagged with the turn they belong to (`newTurn()` at each chain start), so
// "what was heard" never mixes in the previous reply.
//
// Events: "segmentstart" detail {text, actions, index} when a segment's audio begins (for
// display-only segments: when their turn in the queue comes). A payload whose `display_text`
// is null is more audio of the segment before (a voice that streams): it plays right after,
// shows and performs nothing, and counts as that segment's text for `heardText()`.

import { joinText } from "./text.js";

const LEAD_S = 0.05; // scheduling margin: a source started in the past is cut short
// A display-only segment (TTS failed) still needs reading time, and the next one must wait.
const TEXT_ONLY_S_PER_CHAR = 0.06;
const TEXT_ONLY_MAX_S = 4;
const TAG = /\[[^\[\]\n]{1,32}\]/g;

/** How long a segment without audio stays on screen. */
export function textOnlySeconds(text) {
  const chars = String(text ?? "").replace(TAG, "").trim().length;
  return Math.min(TEXT_ONLY_MAX_S, chars * TEXT_ONLY_S_PER_CHAR);
}

function base64ToBuffer(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

export class AudioQueue extends EventTarget {
  /** @param {{clock?: object}} options `clock`: an AudioContext stand-in (`SilentClock`) for a
   * page that keeps the audio's time without playing it. */
  constructor({ clock = null } = {}) {
    super();
    const Context = window.AudioContext || window.webkitAudioContext;
    this.ctx = clock ?? new Context({ latencyHint: "interactive" });
    this.generation = 0; // bumped by stop(): decodes still running for older audio are dropped
    this.decoding = Promise.resolve();
    this.pending = 0; // payloads received but not yet scheduled
    this.segments = []; // scheduled: {turn, start, end, volumes, sliceS, text, source, timer}
    this.turn = 0; // the reply segments are tagged with now
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

  /** A new reply begins: later segments belong to it; the finished old ones can go. */
  newTurn() {
    this.turn += 1;
    this.forgetFinished();
  }

  /** Queue one `audio` payload; returns at once, plays in order. */
  enqueue(payload) {
    const generation = this.generation;
    const turn = this.turn;
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
      // After stop() the count was reset to 0: a stale decode must not push it below.
      if (generation !== this.generation) return;
      this.pending -= 1;
      this.schedule(payload, buffer, index, turn);
    });
  }

  schedule(payload, buffer, index, turn) {
    const now = this.ctx.currentTime;
    const start = Math.max(now + LEAD_S, this.endAt);
    const text = payload.display_text?.text ?? "";
    const last = this.segments[this.segments.length - 1];
    const continues = payload.display_text == null && last !== undefined && last.turn === turn;
    const duration = buffer ? buffer.duration : textOnlySeconds(text);
    const segment = {
      turn,
      start,
      end: start + duration,
      volumes: Array.isArray(payload.volumes) ? payload.volumes : [],
      sliceS: (payload.slice_length || 20) / 1000,
      text,
      head: continues ? (last.head ?? last) : null, // the segment this one continues
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
    if (segment.head) {
      segment.head.groupEnd = segment.end;
      return;
    }
    const detail = { text: segment.text, actions: payload.actions || null, index };
    segment.timer = setTimeout(
      () => this.dispatchEvent(new CustomEvent("segmentstart", { detail })),
      Math.max(0, (start - now) * 1000),
    );
    this.forgetFinished();
  }

  /** Drop finished segments of earlier turns (the list stays short on a long stream; the
   * current turn's are all kept, since `heardText()` needs them however old they are). */
  forgetFinished() {
    const now = this.ctx.currentTime;
    const old = (seg) => seg.turn !== this.turn && seg.end <= now;
    while (this.segments.length && old(this.segments[0])) this.segments.shift();
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

  /** The text the listener has actually heard of the current turn: its played segments,
   * plus the played share of the one playing. */
  heardText() {
    const now = this.ctx.currentTime;
    const parts = [];
    for (const seg of this.segments) {
      if (seg.turn !== this.turn || seg.head) continue;
      if (seg.start > now) break;
      const end = seg.groupEnd ?? seg.end; // a streamed segment spans all its parts
      if (now >= end) {
        parts.push(seg.text);
      } else {
        const share = (now - seg.start) / (end - seg.start);
        parts.push(seg.text.slice(0, Math.floor(seg.text.length * share)));
      }
    }
    return parts.reduce(joinText, "").trim();
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
