// The admin panel: stage statistics (queue lanes, dropped counts, connected clients by role,
// which includes the live-platform clients) polled from `GET /stage/stats` while the panel
// is open, and a pause switch when the server offers one.
//
// A server without the stage answers 404: the panel says so and keeps quiet.
// Pausing is feature-detected: when the stats carry a boolean `paused`, the button appears
// and posts `{paused}` to `/stage/pause` (same token as the page).

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

const POLL_MS = 2000;

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

export function startAdmin({ panel, status, table, pauseButton }) {
  let timer = 0;
  let inFlight = false; // one poll at a time: a toggle during a slow fetch must not fork a loop
  let paused = null;
  let pauseError = ""; // shown until the next pause click, so a refusal is not overwritten

  function render(stats) {
    table.replaceChildren(
      ...flatten(stats).map(([key, value]) => {
        const row = document.createElement("tr");
        const name = document.createElement("th");
        const cell = document.createElement("td");
        name.textContent = key;
        cell.textContent = value;
        row.append(name, cell);
        return row;
      }),
    );
    paused = typeof stats.paused === "boolean" ? stats.paused : null;
    pauseButton.hidden = paused === null;
    pauseButton.textContent = t(paused ? "admin.resume" : "admin.pause");
    const refreshed = t("admin.refreshed", { time: new Date().toLocaleTimeString() });
    status.textContent = pauseError ? `${pauseError} — ${refreshed}` : refreshed;
  }

  async function describe(response) {
    return `${response.status} ${(await response.text()).slice(0, 200)}`.trim();
  }

  async function fetchStats() {
    try {
      const response = await fetch(withToken("/stage/stats"), { cache: "no-store" });
      if (response.status === 404) {
        status.textContent = t("admin.stage_missing");
        table.replaceChildren();
        pauseButton.hidden = true;
      } else if (!response.ok) {
        status.textContent = await describe(response);
      } else {
        render(await response.json());
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
      await fetchStats();
    } finally {
      inFlight = false;
    }
    clearTimeout(timer);
    timer = panel.open ? setTimeout(poll, POLL_MS) : 0;
  }

  pauseButton.addEventListener("click", async () => {
    if (paused === null) return;
    pauseError = "";
    try {
      const response = await fetch(withToken("/stage/pause"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ paused: !paused }),
      });
      if (!response.ok) pauseError = await describe(response); // e.g. 403 for a page token
    } catch (err) {
      pauseError = String(err);
    }
    if (pauseError) status.textContent = pauseError;
    poll();
  });
  panel.addEventListener("toggle", poll);
  poll();
}
