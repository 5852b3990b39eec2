// The one WebSocket client of the pages: URL from the page's own address, automatic reconnect
// with backoff, a heartbeat that notices a dead link, and a visible state.
//
// Events (on the Connection, an EventTarget):
//   "state"   detail {state: "connecting"|"open"|"reconnecting"|"failed"|"closed", retryInS?}
//             ("failed": `maxAttempts` reconnects in a row failed; `restart()` tries again)
//   "message" detail: the parsed JSON message

const STORAGE_KEY = "kagura.wsUrl";
const BACKOFF_S = [0.5, 1, 2, 4, 8, 10]; // then 10 s forever: a server restart is picked up
const HEARTBEAT_S = 20;
const SILENCE_LIMIT_S = 65; // no frame at all for this long: the link is dead, reconnect

/**
 * The WebSocket URL for this page.
 * `?ws=<url>` wins, then a URL saved in the page settings, else this page's own host with
 * the shared stage `/proxy-ws` (so every page and overlay hears the same conversation), or
 * `/client-ws` for a private session with `?endpoint=client`. `?token=` and `?role=` are
 * passed on; `defaultRole` is used on the stage when the page gives no `?role=` (the overlay
 * asks for `page`, so it never needs more than a page token).
 */
export function websocketUrl(loc = window.location, stored = savedUrl(), { defaultRole = "" } = {}) {
  const params = new URLSearchParams(loc.search);
  const explicit = params.get("ws") || stored;
  let url;
  if (explicit) {
    url = new URL(explicit, loc.href);
  } else {
    const endpoint = params.get("endpoint") === "client" ? "/client-ws" : "/proxy-ws";
    url = new URL(endpoint, loc.href);
    url.protocol = loc.protocol === "https:" ? "wss:" : "ws:";
  }
  for (const name of ["token", "role"]) {
    const value = params.get(name);
    if (value && !url.searchParams.has(name)) url.searchParams.set(name, value);
  }
  if (defaultRole && isStageUrl(url.toString()) && !url.searchParams.has("role")) {
    url.searchParams.set("role", defaultRole);
  }
  return url.toString();
}

/** True for the shared stage (`/proxy-ws`), false for a private `/client-ws` session. */
export function isStageUrl(url) {
  try {
    return !new URL(url).pathname.endsWith("/client-ws");
  } catch {
    return true;
  }
}

/** An HTTP path of this server with the page's token (and `params`), for the panels' calls. */
export function withToken(path, params = {}) {
  const url = new URL(path, location.href);
  const token = new URLSearchParams(location.search).get("token");
  if (token) url.searchParams.set("token", token);
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  return url;
}

export function savedUrl() {
  try {
    return localStorage.getItem(STORAGE_KEY) || "";
  } catch {
    return ""; // storage can be disabled (OBS profiles, privacy modes)
  }
}

export function saveUrl(value) {
  try {
    if (value) localStorage.setItem(STORAGE_KEY, value);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    /* not persisted; the query parameter still works */
  }
}

export class Connection extends EventTarget {
  constructor(url, { maxAttempts = Infinity } = {}) {
    super();
    this.url = url;
    this.maxAttempts = maxAttempts;
    this.state = "closed";
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.heartbeatTimer = 0;
    this.lastFrameAt = 0;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  /** Reconnect now, e.g. to a new URL. */
  restart(url = this.url) {
    this.url = url;
    this.attempt = 0;
    this.stop();
    this.start();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
    this.setState("closed");
  }

  /** Send a message; false when not connected (the caller decides whether that matters). */
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Send a binary frame unless the socket is closed or already holds `maxBuffered` bytes
   * unsent (a stalled link: the caller's data is dropped, not piled up); false if not sent. */
  sendBinary(data, maxBuffered = Infinity) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.ws.bufferedAmount > maxBuffered) return false;
    this.ws.send(data);
    return true;
  }

  open() {
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error("bad WebSocket URL", this.url, err);
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.lastFrameAt = performance.now();
      this.setState("open");
      this.heartbeatTimer = setInterval(() => this.beat(), HEARTBEAT_S * 1000);
    };
    ws.onmessage = (event) => {
      this.lastFrameAt = performance.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn("ignoring a frame that is not JSON");
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return; // an old socket we replaced or stopped
      this.ws = null;
      clearInterval(this.heartbeatTimer);
      this.scheduleRetry();
    };
  }

  beat() {
    if (performance.now() - this.lastFrameAt > SILENCE_LIMIT_S * 1000) {
      this.ws?.close(); // onclose schedules the reconnect
      return;
    }
    this.send({ type: "heartbeat" });
  }

  scheduleRetry() {
    if (this.stopped) return;
    if (this.attempt >= this.maxAttempts) {
      this.setState("failed", { attempts: this.attempt });
      return;
    }
    const base = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)];
    const delay = base * (0.8 + Math.random() * 0.4); // jitter: many overlays, one server
    this.attempt += 1;
    this.setState("reconnecting", { retryInS: Math.ceil(delay) });
    this.retryTimer = setTimeout(() => this.open(), delay * 1000);
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...extra } }));
  }
}
