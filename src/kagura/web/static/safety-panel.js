// The safety panel (admin only): banned viewers, each with an Unban button, and the last
// entries of the safety audit log (withheld segments, dropped chat, replaced names, bans),
// polled from `GET /stage/bans` and `GET /stage/safety-log` while the panel is open.
// `banViewer` is the Ban button of the chat log and of the audit entries that name a viewer:
// `POST /stage/ban` by platform identity.
// The token comes from the page's URL, as for the admin panel; a page token is refused (403)
// and the refusal is shown. Everything reaches the page through textContent, never as HTML.

import { withToken } from "./connection.js";
import { button, listItem } from "./dom.js";
import { t } from "./i18n.js";

const POLL_MS = 3000;
const LOG_LIMIT = 50;

async function call(path, options = {}, params = {}) {
  const response = await fetch(withToken(path, params), { cache: "no-store", ...options });
  if (!response.ok) {
    let reason = "";
    try {
      const body = await response.json();
      reason = body.error || JSON.stringify(body.detail || body);
    } catch {
      reason = response.statusText;
    }
    throw new Error(`${response.status} ${String(reason).slice(0, 200)}`);
  }
  return response.json();
}

const listeners = new Set(); // panels to refresh after a ban from the chat log

/** Ban a viewer by platform identity; resolves to "" or the refusal to show. */
export async function banViewer({ platform, userId, name }) {
  try {
    await call("/stage/ban", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ platform, user_id: userId, name: name || "" }),
    });
  } catch (err) {
    return String(err.message || err);
  }
  for (const listener of listeners) listener();
  return "";
}


function when(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso || "" : date.toLocaleString();
}

export function startSafetyPanel({ panel, status, bans, log }) {
  let timer = 0;
  let inFlight = false;
  let error = ""; // an Unban refusal, shown until the next refresh that works

  function banRow(ban) {
    const label = [ban.name || "?", `(${ban.platform} · ${ban.user_id})`, when(ban.at)];
    if (ban.reason) label.push(ban.reason);
    return listItem(
      label.join(" "),
      button(t("safety.unban"), async () => {
        try {
          await call("/stage/ban", { method: "DELETE" }, {
            platform: ban.platform,
            user_id: ban.user_id,
          });
          error = "";
        } catch (err) {
          error = String(err.message || err);
          status.textContent = error;
        }
        refresh();
      }),
    );
  }

  function entryRow(entry) {
    const key = `safety.kind.${entry.kind}`;
    const kind = t(key) === key ? entry.kind : t(key); // a kind this page does not know
    const rule = entry.rule ? ` [${entry.rule}]` : "";
    const who = entry.name || entry.platform ? ` ${entry.name || ""} (${entry.platform || ""})` : "";
    const item = listItem(`${when(entry.time)} · ${kind}${rule}${who}: ${entry.text || ""}`);
    item.dataset.kind = entry.kind;
    // A viewer whose chat was dropped, or whose name may not be said (shown nowhere else with
    // their id), is banned from here.
    if (entry.platform && entry.user_id && !["ban", "unban"].includes(entry.kind)) {
      item.append(button(t("safety.ban"), async () => {
        const name = entry.name || entry.user_id;
        if (!confirm(t("safety.confirm_ban", { name, platform: entry.platform }))) return;
        const refusal = await banViewer({ platform: entry.platform, userId: entry.user_id, name });
        if (refusal) error = t("safety.ban_refused", { reason: refusal });
        refresh();
      }));
    }
    return item;
  }

  async function refresh() {
    if (!panel.open) return;
    try {
      const [listed, audit] = await Promise.all([
        call("/stage/bans"),
        call("/stage/safety-log", {}, { limit: LOG_LIMIT }),
      ]);
      bans.replaceChildren(...listed.bans.map(banRow));
      if (!listed.bans.length) bans.append(listItem(t("safety.no_bans")));
      const entries = [...audit.entries].reverse(); // the newest first
      log.replaceChildren(...entries.map(entryRow));
      if (!entries.length) log.append(listItem(t("safety.no_log")));
      const counts = t("safety.totals", { bans: listed.count });
      status.textContent = error ? `${error} — ${counts}` : counts;
      error = "";
    } catch (err) {
      status.textContent = String(err.message || err); // e.g. 403 for a page token
    }
  }

  /** Refresh now, then every POLL_MS while the panel is open (a single timer). */
  async function poll() {
    clearTimeout(timer);
    timer = 0;
    if (!panel.open || inFlight) return;
    inFlight = true;
    try {
      await refresh();
    } finally {
      inFlight = false;
    }
    clearTimeout(timer);
    timer = panel.open ? setTimeout(poll, POLL_MS) : 0;
  }

  listeners.add(poll);
  panel.addEventListener("toggle", poll);
  poll();
}
