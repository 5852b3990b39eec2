// The performance of replies, shared by the stage page and the OBS overlay: connection,
// model, audio queue, subtitles and the debug hook `window.kagura` that tests read.
//
// Protocol (§1.3): `audio` payloads play in order as they arrive; each segment's expression
// and motion apply when its audio starts; after `backend-synth-complete` and the last
// segment the page acknowledges with `frontend-playback-complete`, once per turn.
//
// Events (on the Performer): "speech" detail {text} when a segment starts (tags stripped),
// "message" detail: every server message, for the page's own panels.

import { AvatarView } from "./avatar-view.js";
import { Connection, isStageUrl, websocketUrl } from "./connection.js";
import { t } from "./i18n.js";
import { AudioQueue } from "./player.js";
import { stripTags } from "./text.js";

/** The view of a page that shows no model: every call is answered, nothing is drawn. */
class NoModel {
  constructor() {
    this.state = "none";
    this.reason = "";
    this.info = null;
    this.lastMotion = null;
    this.onstate = null;
  }

  load() {}
  expression() {}
  motion() {}
  talk() {}
  mouthValue() {
    return 0;
  }
  expressionIndex() {
    return null;
  }
  expressionWeights() {
    return {};
  }
  blinks() {
    return 0;
  }
  frameStats() {
    return { frames: 0, fps: 0, idleFps: 0, software: false };
  }
}

const SUBTITLE_HOLD_MS = 6000; // the last subtitle stays this long after the reply ends
const SHOWN_KEPT = 50; // subtitles remembered for `window.kagura.shown` (tests, debugging)
const MAX_QUESTIONS = 3; // lines of a batch's question caption

export class Performer extends EventTarget {
  /**
   * @param {{stage?: HTMLElement, subtitle: HTMLElement, question?: HTMLElement,
   *          status?: HTMLElement, notice?: HTMLElement, showStatusText?: boolean,
   *          defaultRole?: string, queue?: AudioQueue}} elements
   * Without `stage` nothing is drawn (the captions page); `queue`: one of its own.
   */
  constructor({
    stage = null,
    subtitle,
    queue = null,
    question = null,
    status = null,
    notice = null,
    showStatusText = false,
    defaultRole = "",
  }) {
    super();
    this.subtitle = subtitle;
    this.question = question; // the viewers' words the reply answers (`question: true`)
    this.questions = [];
    this.status = status;
    this.notice = notice;
    this.showStatusText = showStatusText;
    this.queue = queue ?? new AudioQueue();
    this.view = stage
      ? new AvatarView(
          stage,
          () => this.queue.mouth(),
          () => this.queue.busy,
        )
      : new NoModel();
    this.view.onstate = (state, reason) => this.showModelState(state, reason);
    this.defaultRole = defaultRole;
    this.connection = new Connection(this.url());
    this.turn = { id: 0, accepting: false, acked: true };
    this.clearTimer = 0;
    // What a test cannot catch by looking at the right moment: subtitles shown so far (the
    // latest SHOWN_KEPT) and turns whose audio has finished playing.
    this.shown = [];
    this.turnsPlayed = 0;
    this.confName = "";

    this.queue.addEventListener("segmentstart", (e) => this.onSegment(e.detail));
    this.connection.addEventListener("state", (e) => this.showConnection(e.detail));
    this.connection.addEventListener("message", (e) => this.onMessage(e.detail));
    this.exposeDebugHook();
  }

  start() {
    this.connection.start();
  }

  /** The WebSocket URL from the page address and settings (with this page's default role). */
  url() {
    return websocketUrl(window.location, undefined, { defaultRole: this.defaultRole });
  }

  /** On the shared stage (`/proxy-ws`) rather than a private `/client-ws` session. */
  get onStage() {
    return isStageUrl(this.connection.url);
  }

  send(message) {
    return this.connection.send(message);
  }

  /** Something is being said or is about to be. */
  get speaking() {
    return this.queue.busy;
  }

  onMessage(msg) {
    switch (msg.type) {
      case "set-model-and-conf":
        this.confName = msg.conf_name || "";
        this.view.load(msg.model_info);
        break;
      case "full-text":
        if (this.showStatusText) {
          this.setSubtitle(msg.text, true);
          if (!this.turn.accepting) this.holdThenClearSubtitle(); // e.g. "Connection established"
        }
        break;
      case "control":
        this.onControl(msg.text);
        break;
      case "audio":
        if (this.turn.accepting) this.queue.enqueue(msg);
        break;
      case "backend-synth-complete":
        this.acknowledgeWhenPlayed(this.turn.id);
        break;
      case "interrupt-signal":
        // Another page interrupted the stage: the server already knows what was heard.
        this.stop();
        break;
      case "user-input-transcription":
        if (msg.question && this.turn.accepting) this.showQuestion(msg.text);
        break;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: msg }));
  }

  onControl(text) {
    if (text === "conversation-chain-start") {
      this.turn = { id: this.turn.id + 1, accepting: true, acked: false };
      this.queue.newTurn();
      clearTimeout(this.clearTimer);
      this.showQuestion(null);
    } else if (text === "conversation-chain-end") {
      this.turn.accepting = false; // an ack after the end could be mistaken for the next turn's
      this.queue.drained().then(() => {
        this.turnsPlayed += 1;
        this.holdThenClearSubtitle();
      });
    } else if (text === "interrupt") {
      this.interrupt(); // the server heard the user start speaking
    }
  }

  async acknowledgeWhenPlayed(turnId) {
    const played = await this.queue.drained();
    const turn = this.turn;
    if (!played || turn.id !== turnId || turn.acked || !turn.accepting) return;
    turn.acked = true;
    this.send({ type: "frontend-playback-complete" });
  }

  onSegment({ text, actions }) {
    const shown = stripTags(text);
    if (shown) this.setSubtitle(shown);
    const expressions = actions?.expressions || [];
    const motions = actions?.motions || [];
    if (expressions.length) this.view.expression(expressions[0]);
    if (motions.length) this.view.motion(motions[0].group, motions[0].index);
    else this.view.talk();
    this.dispatchEvent(new CustomEvent("speech", { detail: { text: shown } }));
  }

  /** Stop the reply now and tell the server what was actually heard. */
  interrupt() {
    const wasActive = this.active;
    const heard = this.stop();
    if (wasActive) this.report(heard);
    return heard;
  }

  /** A reply of the current turn is arriving or being played (audio left over from before
   * a reconnect does not count: the server has no turn to cut). */
  get active() {
    return this.turn.accepting || (this.queue.busy && !this.turn.acked);
  }

  /** Stop playing at once and drop the rest of this turn; returns the text heard. No ack
   * follows: the turn was cut, not played. */
  stop() {
    const heard = stripTags(this.queue.heardText());
    this.queue.stop();
    this.turn.accepting = false; // late payloads of this turn are dropped
    this.turn.acked = true;
    return heard;
  }

  /** Tell the server the reply was cut and what of it was heard (memory keeps only that). */
  report(heard) {
    this.send({ type: "interrupt-signal", text: heard });
  }

  setSubtitle(text, status = false) {
    clearTimeout(this.clearTimer);
    this.subtitle.textContent = text; // viewer text: never parsed as HTML
    this.subtitle.classList.toggle("status", status);
    this.subtitle.hidden = !text;
    if (text && !status) this.shown = [...this.shown.slice(1 - SHOWN_KEPT), text];
  }

  holdThenClearSubtitle() {
    clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => {
      if (this.queue.busy) return;
      this.setSubtitle("");
      this.showQuestion(null);
    }, SUBTITLE_HOLD_MS);
  }

  /** Caption the reply with the viewer's words it answers (a few lines for a batch);
   * `null` clears it. Viewer text: never parsed as HTML. */
  showQuestion(line) {
    this.questions = line === null ? [] : [...this.questions, line].slice(-MAX_QUESTIONS);
    if (!this.question) return;
    this.question.textContent = this.questions.join("\n");
    this.question.hidden = !this.questions.length;
  }

  showConnection({ state, retryInS }) {
    if (state === "open") {
      // A (re)connect starts clean: a turn cut off by the outage will never end, and must
      // not be acknowledged or reported as interrupted later.
      this.turn = { id: this.turn.id + 1, accepting: false, acked: true };
      this.queue.newTurn();
    }
    if (!this.status) return;
    this.status.dataset.state = state;
    this.status.textContent = t(`state.${state}`, { s: retryInS ?? "" });
  }

  showModelState(state, reason) {
    if (!this.notice) return;
    const messages = {
      loading: t("model.loading"),
      unavailable: t("model.unavailable"),
      error: t("model.error", { reason }),
    };
    this.notice.textContent = messages[state] || "";
    this.notice.hidden = !messages[state];
  }

  /** A read-only view for tests and curious users (`window.kagura` in the console). */
  exposeDebugHook() {
    const performer = this;
    window.kagura = Object.freeze({
      get state() {
        return performer.connection.state;
      },
      get url() {
        return performer.connection.url;
      },
      get modelState() {
        return performer.view.state;
      },
      get modelLoaded() {
        return performer.view.state === "loaded";
      },
      /** As ready as the page will get (for screenshots and tests): the model drawn at least
       * once, or known not to load. */
      get ready() {
        const state = performer.view.state;
        if (state === "loaded") return performer.view.frameStats().frames > 0;
        return state === "error" || state === "unavailable";
      },
      get modelReason() {
        return performer.view.reason;
      },
      get modelKind() {
        return performer.view.kind ?? null; // "live2d" | "vrm" once a model was asked for
      },
      get modelUrl() {
        return performer.view.info?.url ?? null;
      },
      get lastMotion() {
        return performer.view.lastMotion;
      },
      get audioState() {
        return performer.queue.ctx.state;
      },
      get playing() {
        return performer.queue.busy;
      },
      get turnsPlayed() {
        return performer.turnsPlayed;
      },
      get shown() {
        return [...performer.shown];
      },
      get frames() {
        return performer.view.frameStats(); // {frames drawn, fps, idleFps, software}
      },
      mouthValue: () => performer.view.mouthValue(),
      mouthTarget: () => performer.queue.mouth(),
      expressionIndex: () => performer.view.expressionIndex(),
      // A VRM model's drawn weights by expression name ({} for Live2D), and its blinks.
      expressionWeights: () => performer.view.expressionWeights(),
      blinks: () => performer.view.blinks(),
      subtitle: () => (performer.subtitle.hidden ? "" : performer.subtitle.textContent),
      question: () => [...performer.questions],
      heard: () => stripTags(performer.queue.heardText()),
    });
  }
}
