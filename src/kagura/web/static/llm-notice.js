// Says once, on the streamer's page, when the character answers with the embedded demo
// model: a new user should learn it from Kagura, not from a bad reply on stream.

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

export async function startLlmNotice(notice) {
  try {
    const response = await fetch(withToken("/stage/stats"), { cache: "no-store" });
    if (!response.ok) return; // not the streamer, or no stage: nothing to say
    const stats = await response.json();
    if (stats.llm?.demo) {
      notice.textContent = t("llm.demo");
      notice.hidden = false;
    }
  } catch {
    // the server is away: the connection state says so
  }
}
