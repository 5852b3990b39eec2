// The stage page: the performance (shared with the overlay) plus the chat log, text input,
// interrupt button, microphone, history list, character presets, connection setting, admin and
// safety panels.
// Every piece of text from the server or from viewers goes in through textContent.

import { startAdmin } from "./admin.js";
import { startBiliLogin } from "./bili-login.js";
import { startLlmNotice } from "./llm-notice.js";
import { startMemory } from "./memory.js";
import { startOnAir } from "./on-air.js";
import { startShow } from "./show.js";
import { savedUrl, saveUrl } from "./connection.js";
import { applyStrings, t } from "./i18n.js";
import { isAudioRefusal, startMicPanel } from "./mic-panel.js";
import { Performer } from "./performer.js";
import { banViewer, startSafetyPanel } from "./safety-panel.js";
import { joinText, stripTags } from "./text.js";

startLlmNotice(document.getElementById("llm-notice"));

const MAX_LOG_LINES = 300; // the log is bounded; old lines scroll away for good
const $ = (id) => document.getElementById(id);

applyStrings();
document.title = t("title");

// No default role: the token's (a loopback server trusts local pages as admin).
const performer = new Performer({
  stage: $("stage"),
  subtitle: $("subtitle"),
  question: $("question"),
  status: $("connection"),
  notice: $("model-notice"),
  showStatusText: true,
});

// -- chat log ----------------------------------------------------------------------------

const log = $("chat-log");
let aiLine = null; // the reply being spoken: segments are appended to one line

function addLine(kind, who, text, platform = "") {
  const item = document.createElement("li");
  item.className = kind;
  if (platform) {
    const tag = document.createElement("span");
    tag.className = "platform";
    tag.textContent = `[${platform}]`;
    item.append(tag);
  }
  if (who) {
    const name = document.createElement("span");
    name.className = "who";
    name.textContent = who;
    item.append(name);
  }
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(body);
  log.append(item);
  while (log.children.length > MAX_LOG_LINES) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
  return item;
}

/** A viewer's line can ban them, by platform identity (the admin token only: a page
 * token's refusal is shown on the line). */
function banButton(platform, userId, name) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "ban";
  button.textContent = t("safety.ban");
  button.title = t("safety.ban_title", { platform, id: userId });
  button.addEventListener("click", async () => {
    if (!confirm(t("safety.confirm_ban", { name: name || userId, platform }))) return;
    button.disabled = true;
    const refusal = await banViewer({ platform, userId, name });
    if (refusal) {
      button.disabled = false;
      addLine("system", t("chat.system"), t("safety.ban_refused", { reason: refusal }));
      return;
    }
    // Every line of this viewer says so (their later chat never arrives).
    for (const other of log.querySelectorAll("button.ban")) {
      if (other.dataset.key === button.dataset.key) {
        other.textContent = t("safety.banned");
        other.disabled = true;
      }
    }
  });
  button.dataset.key = JSON.stringify([platform, userId]);
  return button;
}

function appendToAi(text) {
  if (!text) return;
  if (!aiLine) {
    aiLine = addLine("ai", performer.confName || "AI", text);
    return;
  }
  const body = aiLine.querySelector(".text");
  body.textContent = joinText(body.textContent, text);
  log.scrollTop = log.scrollHeight;
}

/** Who said a transcription: the stage may name the viewer and platform (optional fields).
 * Only a private session's transcription is the user's own voice ("You"); on the stage an
 * unnamed line came from another page, so it gets no label rather than a wrong one. */
function speaker(msg) {
  const source = msg.source || {};
  const fallback = performer.onStage ? "" : t("chat.you");
  return {
    who: msg.name || source.user?.name || fallback,
    platform: msg.platform || source.platform || "",
  };
}

/** The stage's `text` is the whole line ("Alice: hi", "Bob [Super Chat 30 CNY]: sing") for
 * frontends that show only the text; with the name shown as the label, keep the rest. */
function withoutName(text, name) {
  if (!name || !text.startsWith(name)) return text;
  return text.slice(name.length).replace(/^:?\s*/, "");
}

function showHistory(messages) {
  log.replaceChildren();
  aiLine = null;
  for (const m of messages) {
    if (m.role === "ai") addLine("ai", m.name || performer.confName || "AI", stripTags(m.content));
    else addLine("human", m.name || t("chat.you"), m.content);
  }
  if (!messages.length) addLine("system", "", t("history.empty"));
}

performer.addEventListener("speech", (e) => appendToAi(e.detail.text));

performer.addEventListener("message", (e) => {
  const msg = e.detail;
  switch (msg.type) {
    case "control":
      if (msg.text === "conversation-chain-start") aiLine = null;
      break;
    case "force-new-message":
      aiLine = null;
      break;
    case "interrupt-signal":
      markInterrupted(); // another page cut the reply (the performer stopped the audio)
      break;
    case "user-input-transcription": {
      const { who, platform } = speaker(msg);
      const line = addLine("human", who, withoutName(msg.text, msg.name), platform);
      if (msg.platform && msg.user_id) line.append(banButton(msg.platform, msg.user_id, who));
      // The streamer talking to their audience (`stage.streamer_addressing: by_name`).
      if (msg.unanswered) line.append(` ${t("chat.unanswered")}`);
      break;
    }
    case "error":
      if (isAudioRefusal(msg)) break; // the microphone section says it, once
      addLine("system", t("chat.system"), msg.message);
      break;
    case "history-list":
      showHistoryList(msg.histories || []);
      break;
    case "history-data":
      showHistory(msg.messages || []);
      break;
    case "new-history-created":
      showHistory([]);
      performer.send({ type: "fetch-history-list" });
      break;
    case "config-files":
      showPresets(msg.configs || []);
      break;
    case "config-switched":
      addLine("system", t("chat.system"), msg.message);
      performer.send({ type: "fetch-configs" });
      break;
  }
});

// -- input -------------------------------------------------------------------------------

function interrupt() {
  const wasActive = performer.active;
  performer.interrupt(); // stops any audio; reports to the server only an active turn
  if (wasActive) markInterrupted();
}

function markInterrupted() {
  if (aiLine) aiLine.querySelector(".text").textContent += ` ${t("chat.interrupted")}`;
  aiLine = null;
}

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("chat-input");
  const text = input.value.trim();
  if (!text) return;
  interrupt(); // a new message cuts the reply in progress, and the server learns what was heard
  if (performer.send({ type: "text-input", text })) {
    addLine("human", t("chat.you"), text);
    input.value = "";
  }
});
$("interrupt").addEventListener("click", interrupt);

// -- history and presets -----------------------------------------------------------------

function showHistoryList(histories) {
  $("history-list").replaceChildren(
    ...histories.map((h) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const when = h.timestamp ? new Date(h.timestamp).toLocaleString() : "";
      const last = stripTags(h.latest_message?.content || "");
      button.textContent = `${when} — ${last || t("history.empty")}`;
      button.title = button.textContent;
      button.addEventListener("click", () => {
        interrupt();
        performer.send({ type: "fetch-and-set-history", history_uid: h.uid });
      });
      item.append(button);
      return item;
    }),
  );
}

function showPresets(configs) {
  const select = $("preset-select");
  select.replaceChildren(
    ...configs.map((c) => {
      const option = document.createElement("option");
      option.value = c.filename;
      option.textContent = c.name || c.filename;
      return option;
    }),
  );
}

$("preset-select").addEventListener("change", (e) => {
  interrupt();
  performer.send({ type: "switch-config", file: e.target.value });
});
$("history-new").addEventListener("click", () => {
  interrupt();
  performer.send({ type: "create-new-history" });
});
$("history-refresh").addEventListener("click", () => performer.send({ type: "fetch-history-list" }));

// -- connection setting and state --------------------------------------------------------

function showUrl() {
  const shown = new URL(performer.connection.url);
  if (shown.searchParams.has("token")) shown.searchParams.set("token", "…");
  $("ws-current").textContent = shown.toString();
}

$("ws-url").value = savedUrl();
$("ws-save").addEventListener("click", () => {
  saveUrl($("ws-url").value.trim());
  performer.connection.restart(performer.url());
  showUrl();
});

performer.connection.addEventListener("state", (e) => {
  if (e.detail.state !== "open") return;
  aiLine = null; // a reply cut off by the outage is not continued or marked later
  // Fresh lists on every (re)connect: the server may have restarted.
  performer.send({ type: "fetch-configs" });
  performer.send({ type: "fetch-history-list" });
});

// -- audio permission (normal browsers; OBS and the test browser never block) --------------

const unlock = $("audio-unlock");
function checkAudio() {
  unlock.hidden = !performer.queue.blocked;
}
for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, () => performer.queue.resume().then(checkAudio), { passive: true });
}
performer.queue.ctx.addEventListener("statechange", checkAudio);
checkAudio();

startAdmin({
  panel: $("admin-panel"),
  status: $("admin-status"),
  summary: $("admin-summary"),
  table: $("admin-stats"),
  pauseButton: $("admin-pause"),
  paceSelect: $("admin-pace"),
  queueList: $("admin-queue"),
  droppedList: $("admin-dropped"),
});

startBiliLogin({
  start: $("bili-login-start"),
  cancel: $("bili-login-cancel"),
  status: $("bili-login-status"),
  qr: $("bili-login-qr"),
});

startOnAir({
  performer,
  bar: $("on-air"),
  countdown: $("on-air-countdown"),
  status: $("on-air-status"),
  buttons: { cut: $("cut"), panic: $("panic"), resume: $("resume") },
});

startShow({ start: $("show-start"), end: $("show-end"), status: $("show-status") });

startSafetyPanel({
  panel: $("safety-panel"),
  status: $("safety-status"),
  bans: $("safety-bans"),
  log: $("safety-log"),
});

startMicPanel({
  performer,
  toggle: $("mic-toggle"),
  mode: $("mic-mode"),
  mute: $("mic-mute"),
  talk: $("mic-talk"),
  meter: $("mic-level"),
  status: $("mic-status"),
  heard: $("mic-heard"),
});

startMemory({
  panel: $("memory-panel"),
  search: $("memory-search"),
  status: $("memory-status"),
  viewers: $("memory-viewers"),
  notes: $("memory-notes"),
});

performer.start();
showUrl();
