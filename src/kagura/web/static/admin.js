// The admin panel: stage statistics (queue lanes, dropped counts, connected clients by role,
// which includes the live-platform clients) polled from `GET /stage/stats` while the panel
// is open, and a pause switch when the server offers one.
//
// A server without the stage answers 404: the panel says so and keeps quiet.
// Pausing is feature-detected: when the stats carry a boolean `paused`, the button appears
// and posts `{paused}` to `/stage/pause` (same token as the page).

import { t } from "./i18n.js";

const POLL_MS = 2000;

function withToken(path) {
  const url = new URL(path, location.href);
  const token = new URLSearchParams(location.search).get("token");
  if (token) url.searchParams.set("token", token);
  return url;
}

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
  let paused = null;

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
    status.textContent = t("admin.refreshed", { time: new Date().toLocaleTimeString() });
  }

  async function poll() {
    clearTimeout(timer);
    if (!panel.open) return;
    try {
      const response = await fetch(withToken("/stage/stats"), { cache: "no-store" });
      if (response.status === 404) {
        status.textContent = t("admin.stage_missing");
        table.replaceChildren();
        pauseButton.hidden = true;
      } else if (!response.ok) {
        status.textContent = `${response.status} ${(await response.text()).slice(0, 200)}`;
      } else {
        render(await response.json());
      }
    } catch (err) {
      status.textContent = String(err);
    }
    timer = setTimeout(poll, POLL_MS);
  }

  pauseButton.addEventListener("click", async () => {
    if (paused === null) return;
    await fetch(withToken("/stage/pause"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ paused: !paused }),
    }).catch(() => {});
    poll();
  });
  panel.addEventListener("toggle", poll);
  poll();
}
