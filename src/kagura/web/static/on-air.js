// The streamer's safety buttons on the stage page: a countdown to when the next reply goes
// on air (the OBS overlay hears it `stage.stream_delay_s` after this page), Cut (it never
// airs, and is not remembered as said), Panic (everything stops, the queue is dropped, the
// stage pauses) and Resume. Hotkeys: Alt+C cut, Alt+P panic, Alt+R resume.
//
// The delay is read once from `GET /stage/stats` (and again on every reconnect); each reply
// this page starts receiving is due on air that long after. A server without the stage (404)
// hides the bar.

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

const TICK_MS = 100;
// By physical key (`code`), so Alt+C is Alt+C on every keyboard layout and system.
export const HOTKEYS = { KeyC: "cut", KeyP: "panic", KeyR: "resume" };

export function startOnAir({ performer, bar, countdown, status, buttons }) {
  let delayS = 0;
  let due = []; // when each reply this page has started receiving goes on air (ms, page clock)
  let timer = 0;

  function render() {
    const now = performance.now();
    due = due.filter((at) => at > now);
    if (!delayS) countdown.textContent = t("onair.no_delay");
    else if (!due.length) countdown.textContent = t("onair.delay", { s: delayS });
    else countdown.textContent = t("onair.airs_in", { s: ((due[0] - now) / 1000).toFixed(1) });
    countdown.dataset.pending = due.length ? "true" : "false";
    clearTimeout(timer);
    timer = due.length ? setTimeout(render, TICK_MS) : 0;
  }

  async function readDelay() {
    try {
      const response = await fetch(withToken("/stage/stats"), { cache: "no-store" });
      if (response.status === 404) {
        bar.hidden = true;
        return;
      }
      if (response.ok) delayS = (await response.json()).airing?.stream_delay_s ?? 0;
    } catch {
      // the connection state already says the server is away; the countdown waits
    }
    render();
  }

  async function press(action) {
    status.textContent = "";
    try {
      const response = await fetch(withToken(`/stage/${action}`), { method: "POST" });
      const text = (await response.text()).slice(0, 200);
      if (!response.ok) {
        status.textContent = `${response.status} ${text}`; // e.g. 403 for a page token
        return;
      }
      const answer = JSON.parse(text);
      if (action !== "resume") due = [];
      if (action === "cut") status.textContent = t(answer.cut ? "onair.cut_done" : "onair.nothing");
      if (action === "panic") status.textContent = t("onair.panicked", { n: answer.dropped });
      if (action === "resume") status.textContent = t("onair.resumed");
    } catch (err) {
      status.textContent = String(err);
    }
    render();
  }

  performer.addEventListener("message", (e) => {
    const msg = e.detail;
    if (msg.type === "control" && msg.text === "conversation-chain-start" && delayS) {
      due.push(performance.now() + delayS * 1000);
      render();
    }
  });
  performer.connection.addEventListener("state", (e) => {
    if (e.detail.state === "open") readDelay();
  });
  for (const [action, button] of Object.entries(buttons)) {
    button.addEventListener("click", () => press(action));
  }
  document.addEventListener("keydown", (event) => {
    const action = event.altKey && !event.ctrlKey && HOTKEYS[event.code];
    if (!action) return;
    event.preventDefault();
    press(action);
  });
  readDelay();
}
