// The widget page (protocol §3): a corner character whose speech bubble shows what the widget
// channel pushes. Priorities: a reply (`llm_response`, for its `duration` ms) > a status line
// > an idle tip; a message never replaces a visible one of higher priority. Every message
// with an `id` is acknowledged, so its sender learns it arrived. Text goes in as textContent.
// The server replays its last messages to every widget that connects, and it cannot tell a
// late page from one that only lost its link for a moment, so the page remembers the ids it
// has already acted on and lets a replay of those pass silently.
//
// The socket: `?ws=<url>` wins, else `/widget-ws` on this page's own server (`?token=` is
// passed on). It reconnects `reconnect_attempts` times with backoff, then offers a retry.

import { Connection } from "./connection.js";
import { AvatarView } from "./avatar-view.js";

const PRIORITY = { tip: 1, status: 2, reply: 3 };
const STATUS_MS = 4000;
const TIP_MS = 5000;
const TIP_EVERY_MS = 20000;
const MAX_DURATION_MS = 600000;
const SEEN_IDS = 200; // far more than the server replays (widget.replay_messages)
const DEFAULTS = { reconnect_attempts: 5, idle_tips: [], model_info: null };

export function widgetUrl(loc = window.location) {
  const params = new URLSearchParams(loc.search);
  const explicit = params.get("ws");
  const url = new URL(explicit || "/widget-ws", loc.href);
  if (!explicit) url.protocol = loc.protocol === "https:" ? "wss:" : "ws:";
  const token = params.get("token");
  if (token && !url.searchParams.has("token")) url.searchParams.set("token", token);
  return url.toString();
}

/** One bubble; `show` says whether the text was shown (false: a higher priority is up). */
class Bubble {
  constructor(element) {
    this.element = element;
    this.current = null;
    this.last = null; // the last one hidden, with its times, for tests and tools
    this.timer = 0;
  }

  show(kind, text, ms) {
    const priority = PRIORITY[kind];
    if (this.current && priority < this.current.priority) return false;
    clearTimeout(this.timer);
    const now = performance.now();
    this.current = { kind, text, priority, shownAt: now, ms };
    this.element.textContent = text;
    this.element.dataset.kind = kind;
    this.element.hidden = false;
    this.timer = setTimeout(() => this.hide(), ms);
    return true;
  }

  hide() {
    if (this.current) this.last = { ...this.current, hiddenAt: performance.now() };
    this.current = null;
    this.element.hidden = true;
  }
}

async function loadSettings() {
  try {
    const response = await fetch("/widget/settings", { cache: "no-store" });
    if (response.ok) return { ...DEFAULTS, ...(await response.json()) };
  } catch {
    /* opened from elsewhere (e.g. a file with ?ws=): defaults */
  }
  return DEFAULTS;
}

class Widget {
  constructor(settings) {
    this.settings = settings;
    this.info = settings.model_info || {};
    this.bubble = new Bubble(document.getElementById("bubble"));
    this.view = new AvatarView(document.getElementById("model"), () => 0);
    this.linkText = document.getElementById("link-text");
    this.retry = document.getElementById("retry");
    const attempts = Number(settings.reconnect_attempts);
    this.connection = new Connection(widgetUrl(), {
      maxAttempts: Number.isFinite(attempts) ? attempts : DEFAULTS.reconnect_attempts,
    });
    this.attempts = 0;
    this.received = []; // the last messages, bounded, for tests and tools
    this.seen = new Set(); // ids already shown or performed, oldest first, at most SEEN_IDS
    this.connection.addEventListener("state", (e) => {
      this.showLink(e.detail);
      // Motions or expressions that failed while the server was away stay broken in the
      // library; the view's load() reloads a failed or damaged model and leaves a healthy one.
      if (e.detail.state === "open" && this.settings.model_info) {
        this.view.load(this.settings.model_info);
      }
    });
    this.connection.addEventListener("message", (e) => this.onMessage(e.detail));
    this.retry.addEventListener("click", () => this.connection.restart());
  }

  start() {
    if (this.settings.model_info) this.view.load(this.settings.model_info);
    this.connection.start();
    setInterval(() => this.tip(), TIP_EVERY_MS);
  }

  onMessage(msg) {
    this.received.push(msg);
    if (this.received.length > 50) this.received.shift();
    if (this.firstTime(msg)) this.perform(msg); // else a replay after a reconnect: done already
    // The ack does not depend on that: skipping a replay must not change delivery reports
    // (replays are not acked at all; the server awaits acks only from the widgets it sent to).
    if (msg.id && !msg.replay) this.connection.send({ type: "ack", id: msg.id });
  }

  /** False for a replay of an id already acted on. Only replays are skipped: a sender may
   * use an id again once its delivery is over, and a live message is always meant to show. */
  firstTime(msg) {
    if (typeof msg.id !== "string" || !msg.id) return true;
    if (msg.replay && this.seen.has(msg.id)) return false;
    this.seen.delete(msg.id); // re-added below as the newest
    this.seen.add(msg.id);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value);
    return true;
  }

  perform(msg) {
    switch (msg.type) {
      case "llm_response": {
        const ms = Math.min(Math.max(Number(msg.duration) || 8000, 500), MAX_DURATION_MS);
        if (this.bubble.show("reply", String(msg.content ?? ""), ms)) this.view.talk();
        break;
      }
      case "status":
        this.bubble.show("status", String(msg.content ?? ""), STATUS_MS);
        break;
      case "expression":
        this.expression(msg);
        break;
      case "motion":
        this.view.motion(String(msg.group), Number.isInteger(msg.index) ? msg.index : undefined);
        break;
      case "error":
        console.warn("widget channel:", msg.message);
        break;
      default:
        break; // heartbeat-ack and types of a newer server
    }
  }

  /** An emotion name through the model's emotionMap (or its emotionMotions, for models
   * without expressions), or an expression index as it is. */
  expression(msg) {
    if (Number.isInteger(msg.index)) {
      this.view.expression(msg.index);
      return;
    }
    const name = String(msg.name || "").toLowerCase();
    const find = (map) => Object.entries(map || {}).find(([key]) => key.toLowerCase() === name);
    const motion = find(this.info.emotionMotions);
    const mapped = find(this.info.emotionMap);
    if (this.view.hasExpressions && mapped) this.view.expression(mapped[1]);
    else if (motion) this.view.motion(motion[1].group, motion[1].index);
    // A value of the map (what the stage sends for a named expression, e.g. a VRM model's
    // "happy") or a name of the model's own.
    else if (this.view.hasExpressions) this.view.expression(String(msg.name || ""));
  }

  tip() {
    const tips = this.settings.idle_tips || [];
    if (!tips.length || this.bubble.current) return;
    this.bubble.show("tip", String(tips[Math.floor(Math.random() * tips.length)]), TIP_MS);
  }

  showLink({ state, attempts }) {
    this.state = state;
    if (state === "reconnecting") this.attempts += 1;
    if (state === "open") this.attempts = 0;
    const link = this.linkText.parentElement;
    link.hidden = state === "open";
    this.retry.hidden = state !== "failed";
    const texts = {
      connecting: "Connecting...",
      reconnecting: `Reconnecting (${this.attempts}/${this.connection.maxAttempts})...`,
      failed: `Disconnected after ${attempts} attempts.`,
      closed: "Disconnected.",
    };
    this.linkText.textContent = texts[state] || "";
  }
}

const widget = new Widget(await loadSettings());
window.kagura = {
  widget,
  get state() {
    return widget.state;
  },
  get url() {
    return widget.connection.url;
  },
  get attempts() {
    return widget.attempts;
  },
  get modelLoaded() {
    return widget.view.state === "loaded";
  },
  get received() {
    return widget.received;
  },
  get lastMotion() {
    return widget.view.lastMotion;
  },
  get frames() {
    return widget.view.frameStats(); // {frames drawn, fps, idleFps, software}
  },
  bubble: () => {
    const element = widget.bubble.element;
    const current = widget.bubble.current;
    return { visible: !element.hidden, text: element.textContent, kind: current?.kind ?? null };
  },
  lastBubble: () => widget.bubble.last,
  expressionIndex: () => widget.view.expressionIndex(),
  expressionWeights: () => widget.view.expressionWeights(),
  get modelKind() {
    return widget.view.kind;
  },
};
widget.start();
