// Logging in to Bilibili from the admin panel: "Log in to Bilibili" asks the server for a
// QR code (`POST /stage/bilibili-login`), shows it, and follows the login
// (`GET /stage/bilibili-login`) until the phone confirms, the code expires or the streamer
// cancels (`DELETE`). The server saves the login where `kagura live bilibili login` does;
// only the QR code and the account's name ever reach the page (admin token).

import { withToken } from "./connection.js";
import { t } from "./i18n.js";

const POLL_MS = 1500;
const UNDER_WAY = new Set(["starting", "waiting", "scanned"]);

export function startBiliLogin({ start, cancel, status, qr }) {
  let timer = 0;

  function show(answer) {
    const underWay = UNDER_WAY.has(answer.state);
    qr.hidden = !(underWay && answer.qr);
    if (answer.qr) qr.src = answer.qr;
    start.hidden = underWay;
    cancel.hidden = !underWay;
    const words = {
      idle: "",
      starting: t("bililogin.starting"),
      waiting: t("bililogin.waiting", { s: answer.expires_in_s ?? "" }),
      scanned: t("bililogin.scanned"),
      confirmed: t("bililogin.confirmed", { account: answer.account, path: answer.path }),
      failed: t("bililogin.failed", { error: answer.error }),
    };
    status.textContent = words[answer.state] ?? answer.state;
    clearTimeout(timer);
    if (underWay) timer = setTimeout(poll, POLL_MS);
  }

  async function call(method) {
    try {
      const response = await fetch(withToken("/stage/bilibili-login"), {
        method,
        cache: "no-store",
      });
      const text = await response.text();
      if (!response.ok) {
        status.textContent = `${response.status} ${text.slice(0, 300)}`;
        return;
      }
      show(JSON.parse(text));
    } catch (err) {
      status.textContent = String(err);
    }
  }

  const poll = () => call("GET");
  start.addEventListener("click", () => call("POST"));
  cancel.addEventListener("click", () => call("DELETE"));
}
