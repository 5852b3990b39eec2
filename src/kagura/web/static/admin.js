// The admin panel, in the streamer's words: how much was answered, what waits and what was
// dropped and why (`GET /stage/queue`), the pace (`POST /stage/pace`), Skip and Answer next
// for each waiting message (`POST /stage/queue/{id}/skip|next`), and a pause switch. The raw
// counters of `GET /stage/stats` stay available in a collapsed "Details" table.
// Everything is polled while the panel is open.
//
// A server without the stage answers 404: the panel says so and keeps quiet. The queue is
// the admin's only (it names viewers): with a page token it says so instead of listing.
// Pausing is feature-detected: when the stats carry a boolean `paused`, the button appears
// and posts `{paused}` to `/stage/pause` (same token as the page).

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

const POLL_MS = 2000;
// Reasons whose words the page knows (`admin.reason.*`); any other is shown as it is.
const REASONS = new Set([
  "expired", "overflow", "skipped", "skipped_by_pace", "cleared", "rate_limited", "duplicate",
  "too_long", "empty", "ignored", "blocked_user", "blocked_word", "unsafe", "banned",
]);
const LANES = new Set(["streamer", "superchat", "membership", "gift", "danmaku", "idle"]);

/** Nested stats as rows: {"waiting": {"danmaku": 2}} → ["waiting.danmaku", 2]. */
export function flatten(value, prefix = "", rows = []) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) {
      flatten(inner, prefix ? `${prefix}.${key}` : key, rows);
    }
  } else {
    rows.push([prefix, Array.isArray(value) ? value.join(", ") : String(value)]);
  }
  return rows;
}

export const reasonText = (reason) =>
  REASONS.has(reason) ? t(`admin.reason.${reason}`) : t("admin.reason.other", { reason });
const laneText = (lane) => (LANES.has(lane) ? t(`admin.lane.${lane}`) : lane);

/** "12 s", "3 min" */
function ago(seconds) {
  return seconds < 120 ? t("admin.seconds", { s: Math.round(seconds) })
    : t("admin.minutes", { m: Math.round(seconds / 60) });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** One message as a line: [lane] viewer: «label» text (the label: what a gift or
 * membership bought, beside the viewer's own words) */
function messageLine(item) {
  const line = el("span", "message");
  line.append(el("span", "lane", `[${laneText(item.lane)}]`), " ");
  if (item.viewer) line.append(el("span", "who", item.viewer), ": ");
  if (item.label) line.append(el("span", "label", `«${item.label}»`), item.text ? " " : "");
  if (item.text || !item.label) line.append(el("span", "text", item.text || t("admin.no_text")));
  return line;
}

export function startAdmin({
  panel, status, summary, table, pauseButton, paceSelect, queueList, droppedList,
}) {
  let timer = 0;
  let inFlight = false; // one poll at a time: a toggle during a slow fetch must not fork a loop
  let paused = null;
  let actionError = ""; // shown until the next click, so a refusal is not overwritten

  function renderStats(stats) {
    table.replaceChildren(
      ...flatten(stats).map(([key, value]) => {
        const row = el("tr");
        row.append(el("th", "", key), el("td", "", value));
        return row;
      }),
    );
    paused = typeof stats.paused === "boolean" ? stats.paused : null;
    pauseButton.hidden = paused === null;
    pauseButton.textContent = t(paused ? "admin.resume" : "admin.pause");
    const dropped = Object.values(stats.dropped || {}).reduce((a, b) => a + b, 0);
    const waiting = Object.values(stats.waiting || {}).reduce((a, b) => a + b, 0)
      + (stats.next || 0);
    const parts = [
      t("admin.answered", { n: stats.answered ?? 0 }),
      t("admin.waiting_n", { n: waiting }),
      t("admin.dropped_n", { n: dropped }),
    ];
    if (paused) parts.unshift(t("admin.paused"));
    summary.textContent = parts.join(" · ");
    const pace = stats.pace && stats.pace.name;
    paceSelect.hidden = !pace;
    if (pace && document.activeElement !== paceSelect) paceSelect.value = pace;
    const refreshed = t("admin.refreshed", { time: new Date().toLocaleTimeString() });
    status.textContent = actionError ? `${actionError} — ${refreshed}` : refreshed;
  }

  function waitingItem(item) {
    const row = el("li");
    row.dataset.id = String(item.id);
    const body = el("span");
    body.append(messageLine(item));
    const tags = [];
    if (item.next) tags.push(t("admin.tag_next"));
    if (item.addressed) tags.push(t("admin.tag_addressed"));
    if (item.greeting) tags.push(t("admin.tag_greeting"));
    const meta = [...tags, ago(item.age_s)].join(" · ");
    body.append(" ", el("span", "muted", `(${meta})`));
    const next = el("button", "next", t("admin.next"));
    next.type = "button";
    next.disabled = item.next;
    next.addEventListener("click", () => act(`/stage/queue/${item.id}/next`));
    const skip = el("button", "skip", t("admin.skip"));
    skip.type = "button";
    skip.addEventListener("click", () => act(`/stage/queue/${item.id}/skip`));
    row.append(body, next, skip);
    return row;
  }

  function droppedItem(item) {
    const row = el("li");
    row.dataset.reason = item.reason;
    const body = el("span");
    body.append(messageLine(item));
    const when = item.waited_s === null ? ago(item.ago_s)
      : t("admin.waited", { waited: ago(item.waited_s), ago: ago(item.ago_s) });
    body.append(" — ", el("strong", "reason", reasonText(item.reason)), " ",
      el("span", "muted", `(${when})`));
    row.append(body);
    return row;
  }

  function renderQueue(queue) {
    // Rebuilt only when what waits changed, so a button is not replaced under the pointer.
    const key = JSON.stringify(queue.waiting.map((item) => [item.id, item.next]));
    if (queueList.dataset.key !== key || !queueList.matches(":hover")) {
      queueList.dataset.key = key;
      queueList.replaceChildren(...queue.waiting.map(waitingItem));
      if (!queue.waiting.length) queueList.append(el("li", "muted", t("admin.nothing_waiting")));
    }
    droppedList.replaceChildren(...queue.dropped.map(droppedItem));
    if (!queue.dropped.length) droppedList.append(el("li", "muted", t("admin.nothing_dropped")));
  }

  async function describe(response) {
    let reason = "";
    try {
      reason = (await response.json()).error || "";
    } catch {
      // not JSON: the status says enough
    }
    return `${response.status} ${reason}`.trim();
  }

  async function fetchAll() {
    try {
      const response = await fetch(withToken("/stage/stats"), { cache: "no-store" });
      if (response.status === 404) {
        status.textContent = t("admin.stage_missing");
        table.replaceChildren();
        pauseButton.hidden = true;
        return;
      } else if (!response.ok) {
        status.textContent = await describe(response);
        return;
      }
      renderStats(await response.json());
      const queue = await fetch(withToken("/stage/queue"), { cache: "no-store" });
      if (queue.ok) {
        renderQueue(await queue.json());
      } else {
        const why = queue.status === 403 || queue.status === 401 ? t("admin.queue_admin_only")
          : await describe(queue);
        queueList.replaceChildren(el("li", "muted", why));
        droppedList.replaceChildren();
      }
    } catch (err) {
      status.textContent = String(err);
    }
  }

  /** Fetch now, then every POLL_MS while the panel is open (a single timer). */
  async function poll() {
    clearTimeout(timer);
    timer = 0;
    if (!panel.open || inFlight) return; // the poll in flight schedules the next one
    inFlight = true;
    try {
      await fetchAll();
    } finally {
      inFlight = false;
    }
    clearTimeout(timer);
    timer = panel.open ? setTimeout(poll, POLL_MS) : 0;
  }

  async function act(path, body) {
    actionError = "";
    try {
      const response = await fetch(withToken(path), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body ?? {}),
      });
      if (!response.ok) actionError = await describe(response); // e.g. 403 for a page token
    } catch (err) {
      actionError = String(err);
    }
    if (actionError) status.textContent = actionError;
    queueList.dataset.key = ""; // show the change at once
    poll();
  }

  pauseButton.addEventListener("click", () => {
    if (paused !== null) act("/stage/pause", { paused: !paused });
  });
  paceSelect.addEventListener("change", () => act("/stage/pace", { pace: paceSelect.value }));
  panel.addEventListener("toggle", poll);
  poll();
}
