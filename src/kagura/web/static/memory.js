// The memory panel (admin only): what long-term memory keeps about viewers and streams.
// Lists viewer profiles and notes (facts, stream summaries) from `GET /memory/...`,
// searches them, edits a note in place and deletes notes and viewers (a viewer goes with
// every note about or naming them). A page token is refused (403): the panel says so.
// Everything reaches the page through textContent, never as HTML.

import { withToken } from "./connection.js";
import { button, listItem } from "./dom.js";
import { t } from "./i18n.js";

export function startMemory({ panel, search, status, viewers, notes }) {
  let viewerFilter = null; // a viewer's id: notes about them only

  async function call(path, options = {}, params = {}) {
    const response = await fetch(withToken(path, params), { cache: "no-store", ...options });
    if (!response.ok) {
      throw new Error(`${response.status} ${(await response.text()).slice(0, 200)}`);
    }
    return response.json();
  }

  function viewerRow(viewer) {
    const paid = Object.entries(viewer.paid).map(([cur, sum]) => `${sum} ${cur}`).join(", ");
    const seen = new Date(viewer.last_seen * 1000).toLocaleDateString();
    const label = `${viewer.name} (${viewer.platform}) · ${viewer.messages} · ${seen}${paid ? ` · ${paid}` : ""}`;
    return listItem(
      label,
      button(t("memory.notes"), () => { viewerFilter = viewer.id; refresh(); }),
      button(t("memory.delete"), () => remove(`/memory/viewers/${viewer.id}`)),
    );
  }

  function noteRow(note) {
    const when = new Date(note.created * 1000).toLocaleDateString();
    const row = listItem(`[${t(`memory.${note.kind}`)}] ${note.text} · ${when}`);
    row.append(
      button(t("memory.edit"), () => {
        const input = document.createElement("input");
        input.value = note.text;
        const save = button(t("memory.save"), async () => {
          await act(() => call(`/memory/notes/${note.id}`, {
            method: "PATCH",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ text: input.value }),
          }));
        });
        row.replaceChildren(input, save);
        input.focus();
      }),
      button(t("memory.delete"), () => remove(`/memory/notes/${note.id}`)),
    );
    return row;
  }

  async function act(work) {
    try {
      await work();
    } catch (err) {
      status.textContent = String(err.message || err);
      return;
    }
    refresh();
  }

  function remove(path) {
    if (!confirm(t("memory.confirm"))) return;
    act(() => call(path, { method: "DELETE" }));
  }

  async function refresh() {
    if (!panel.open) return;
    const query = search.value.trim();
    try {
      const [found, listed] = await Promise.all([
        call("/memory/viewers", {}, { search: query }),
        call("/memory/notes", {}, { search: query, viewer_id: viewerFilter }),
      ]);
      viewers.replaceChildren(...found.viewers.map(viewerRow));
      notes.replaceChildren(...listed.notes.map(noteRow));
      status.textContent = t("memory.totals", listed.totals);
    } catch (err) {
      status.textContent = String(err.message || err);
    }
  }

  search.addEventListener("input", () => { viewerFilter = null; refresh(); });
  panel.addEventListener("toggle", refresh);
}
