// The microphone section of the stage page: start/stop, the mode (voice-activated or
// push-to-talk), mute, the level meter, what the server heard, and why the microphone
// cannot be used when it cannot (a non-secure page, a refusal, no device, not the admin).
//
// Push-to-talk: hold the Talk button, or Space while the focus is not in a text field.
// Everything shown goes in through textContent.

import { Microphone, unavailableReason } from "./mic.js";
import { t } from "./i18n.js";

const METER_FLOOR_DB = -60; // the meter's empty end; 0 dB (full scale) is its full end
const MODE_KEY = "kagura.micMode";
const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

/** RMS 0..1 → the meter's 0..1, on a decibel scale (speech sits in the middle, not at 0.1). */
export function meterValue(level) {
  if (!(level > 0)) return 0;
  const db = 20 * Math.log10(level);
  return Math.max(0, Math.min(1, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
}

/** An `error` from the server about microphone audio (on the stage: a page without the admin
 * role may not send it); the microphone stops instead of drawing one error per frame. */
export function isAudioRefusal(msg) {
  return msg.type === "error" && /'raw-audio-data'/.test(String(msg.message || ""));
}

function savedMode() {
  try {
    return localStorage.getItem(MODE_KEY) === "push" ? "push" : "voice";
  } catch {
    return "voice";
  }
}

function saveMode(mode) {
  try {
    localStorage.setItem(MODE_KEY, mode);
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
}

/**
 * @param {{performer: import("./performer.js").Performer, toggle: HTMLButtonElement,
 *          mode: HTMLSelectElement, mute: HTMLButtonElement, talk: HTMLButtonElement,
 *          meter: HTMLMeterElement, status: HTMLElement, heard: HTMLElement}} elements
 */
export function startMicPanel({ performer, toggle, mode, mute, talk, meter, status, heard }) {
  const connection = performer.connection;
  const mic = new Microphone((pcm, maxBuffered) => connection.sendBinary(pcm, maxBuffered));
  let problem = ""; // the last reason the microphone stopped, shown until it starts again

  function render() {
    const on = mic.state === "on";
    toggle.textContent = t(on || mic.state === "starting" ? "mic.stop" : "mic.start");
    toggle.setAttribute("aria-pressed", String(on));
    toggle.disabled = unavailableReason() !== "";
    mute.disabled = !on;
    mute.textContent = t(mic.muted ? "mic.unmute" : "mic.mute");
    mute.setAttribute("aria-pressed", String(mic.muted));
    talk.hidden = mic.mode !== "push";
    talk.disabled = !on || mic.muted;
    talk.classList.toggle("held", mic.pressed);
    let text;
    if (problem) text = problem;
    else if (mic.state === "starting") text = t("mic.starting");
    else if (!on) text = t("mic.off");
    else if (mic.muted) text = t("mic.muted");
    else text = t(mic.mode === "push" ? "mic.on_push" : "mic.on_voice");
    status.textContent = text;
    status.dataset.state = problem ? "error" : mic.state;
  }

  function explain(reason, message = "") {
    const port = location.port || (location.protocol === "https:" ? "443" : "80");
    problem = t(`mic.${reason}`, { host: location.host, port, reason: message });
  }

  mic.addEventListener("state", (e) => {
    const { state, reason, message } = e.detail;
    if (state === "starting" || state === "on") problem = "";
    if (state === "error") explain(reason, message);
    render();
  });
  mic.addEventListener("level", (e) => {
    meter.value = meterValue(e.detail.level);
  });

  toggle.addEventListener("click", () => {
    if (mic.state === "on" || mic.state === "starting") mic.stop();
    else mic.start();
  });
  mute.addEventListener("click", () => mic.setMuted(!mic.muted));
  mode.value = savedMode();
  mic.setMode(mode.value);
  mode.addEventListener("change", () => {
    saveMode(mode.value);
    mic.setMode(mode.value);
  });

  // Push-to-talk: the button (pointer capture keeps a drag off it from sticking) and Space.
  talk.addEventListener("pointerdown", (e) => {
    talk.setPointerCapture?.(e.pointerId);
    mic.press(true);
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    talk.addEventListener(type, () => mic.press(false));
  }
  const isTalkKey = (e) => e.code === "Space" && !TYPING.has(e.target?.tagName);
  document.addEventListener("keydown", (e) => {
    if (!isTalkKey(e) || mic.mode !== "push" || mic.state !== "on") return;
    e.preventDefault(); // not a click on the focused button, not a page scroll
    if (!e.repeat) mic.press(true);
  });
  document.addEventListener("keyup", (e) => {
    if (isTalkKey(e) && mic.pressed) {
      e.preventDefault();
      mic.press(false);
    }
  });
  window.addEventListener("blur", () => mic.press(false)); // a key released elsewhere

  performer.addEventListener("message", (e) => {
    const msg = e.detail;
    if (msg.type === "user-input-transcription" && !msg.name && !msg.platform) {
      // Unnamed: this speaker's own voice (a viewer's line on the stage carries a name).
      mic.turnEnded();
      heard.textContent = t("mic.heard", { text: msg.text });
      heard.hidden = false;
    } else if (isAudioRefusal(msg)) {
      mic.fail("forbidden", msg.message);
    } else if (msg.type === "error") {
      mic.turnEnded(); // e.g. transcription failed: the turn is over
    }
  });

  const reason = unavailableReason();
  if (reason) explain(reason);
  render();

  // Read-only, for tests and curious users (`kaguraMic` in the console).
  window.kaguraMic = Object.freeze({
    get state() {
      return mic.state;
    },
    get mode() {
      return mic.mode;
    },
    get muted() {
      return mic.muted;
    },
    get transmitting() {
      return mic.transmitting;
    },
    get level() {
      return mic.level;
    },
    get tailing() {
      return mic.tailUntil > performance.now();
    },
    get sent() {
      return mic.sent;
    },
    get dropped() {
      return mic.dropped;
    },
    get sampleRate() {
      return mic.ctx?.sampleRate ?? 0;
    },
  });
  return mic;
}
