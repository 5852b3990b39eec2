// The show's beginning and end on the stage page: Start show (the character opens with a
// warm-up drawing on the last stream) and End show (a goodbye to the stream's top
// supporters; the stream's summary goes to memory). Each posts `{state}` to `/stage/show`
// (admin token: a page token gets a 403, shown). A platform's own live-start and live-end
// events do the same without a click.

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

export function startShow({ start, end, status }) {
  async function press(state) {
    status.textContent = "";
    try {
      const response = await fetch(withToken("/stage/show"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ state }),
      });
      const text = (await response.text()).slice(0, 200);
      if (!response.ok) {
        status.textContent = `${response.status} ${text}`;
        return;
      }
      const answer = JSON.parse(text);
      const done = { start: "started", end: "ended" }[state];
      status.textContent = t(answer.changed ? `show.${done}` : `show.already_${done}`);
    } catch (err) {
      status.textContent = String(err);
    }
  }
  start.addEventListener("click", () => press("start"));
  end.addEventListener("click", () => press("end"));
}
