// The captions page (`/captions`): the character's words as an OBS source of their own.
//
// It joins the stage like the overlay (page role, so it is delayed with it when a stream delay
// is set) and times each segment with the same queue, on a clock that plays nothing: a
// caption changes when the overlay's voice does. Styled from the query, e.g.
// `/captions?size=48&color=ffcc00&outline=000&position=top&font=Noto+Sans+SC`:
//   size (px), font, color, outline (colour), outline_width (px), bg (box colour),
//   position (bottom | middle | top), align (center | left | right), question (1 | 0).
// Colours are CSS colours; hex may be written without its '#'.

import { applyStrings } from "./i18n.js";
import { Performer } from "./performer.js";
import { AudioQueue } from "./player.js";
import { SilentClock } from "./silent-clock.js";

const POSITIONS = { top: "flex-start", middle: "center", bottom: "flex-end" };
const ALIGNS = { left: "flex-start", center: "center", right: "flex-end" };

function colour(value) {
  if (!value) return null;
  const hex = /^[0-9a-fA-F]{3,8}$/.test(value) ? `#${value}` : value;
  return CSS.supports("color", hex) ? hex : null;
}

function pixels(value, min, max) {
  const n = Number(value);
  return Number.isFinite(n) && n >= min && n <= max ? `${n}px` : null;
}

/** The page's custom properties from its query; anything invalid keeps its default. */
export function styleFromQuery(params) {
  const style = {
    "--caption-size": pixels(params.get("size"), 8, 400),
    "--caption-font": params.get("font") ? `"${params.get("font").replace(/"/g, "")}"` : null,
    "--caption-color": colour(params.get("color")),
    "--caption-outline": colour(params.get("outline")),
    "--caption-outline-width": pixels(params.get("outline_width"), 0, 40),
    "--caption-bg": colour(params.get("bg")),
    "--caption-position": POSITIONS[params.get("position")] ?? null,
    "--caption-align": ALIGNS[params.get("align")] ?? null,
    "--caption-text-align": ALIGNS[params.get("align")] ? params.get("align") : null,
  };
  return Object.fromEntries(Object.entries(style).filter(([, value]) => value !== null));
}

const params = new URLSearchParams(location.search);
for (const [name, value] of Object.entries(styleFromQuery(params))) {
  document.documentElement.style.setProperty(name, value);
}
applyStrings();
const performer = new Performer({
  subtitle: document.getElementById("subtitle"),
  question: params.get("question") === "0" ? null : document.getElementById("question"),
  queue: new AudioQueue({ clock: new SilentClock() }),
  defaultRole: "page", // listens and acknowledges playback, like the overlay
});
performer.start();
