// The face of a VRM model, as expression weights: the emotion of the segment playing, the
// mouth from the audio's volumes, and blinking. Plain numbers, no three.js: the VRM view
// applies the weights and draws them.
//
// Why weights are computed here and not by three-vrm: the library only holds and applies
// weights; the choice of which emotion, how fast it fades, when to blink and how the vowels
// follow one loudness value is Kagura's, and is the same for every model.

// VRM's emotion presets; an integer in a model's emotionMap is an index into this list.
export const EMOTIONS = ["neutral", "happy", "angry", "sad", "relaxed", "surprised"];

// Kagura's emotion tags (and the names Open-LLM-VTuber's and VRM 0.0's models use) → the
// VRM 1.0 preset that shows them. A model's own expression of the same name wins.
const PRESET_FOR = {
  neutral: "neutral",
  joy: "happy",
  happy: "happy",
  happiness: "happy",
  fun: "relaxed", // three-vrm reads a VRM 0.0 model's "fun" as relaxed too
  smirk: "happy",
  anger: "angry",
  angry: "angry",
  disgust: "angry",
  sadness: "sad",
  sad: "sad",
  sorrow: "sad",
  relaxed: "relaxed",
  relax: "relaxed",
  calm: "relaxed",
  surprise: "surprised",
  surprised: "surprised",
  fear: "surprised",
};

// The vowels' share of the mouth opening: `aa` follows the volume, the others add a little
// shape so the mouth does not only hinge.
const VOWELS = { aa: 1, oh: 0.3, ih: 0.15 };
const EMOTION_FADE_S = 0.3; // from one emotion to the next
const BLINK_CLOSE_S = 0.06;
const BLINK_HOLD_S = 0.05;
const BLINK_OPEN_S = 0.1;
const BLINK_EVERY_S = [2, 6]; // a random pause between blinks, like a person's
const FIRST_BLINK_S = 1; // soon after the model appears: it looks alive at once

/** The model's expression for `id` (an emotionMap value: a name or an index), or null. */
export function expressionFor(id, names) {
  if (Number.isInteger(id)) return names.includes(EMOTIONS[id]) ? EMOTIONS[id] : null;
  const name = String(id ?? "");
  if (names.includes(name)) return name; // the model's own (custom) expression
  const preset = PRESET_FOR[name.toLowerCase()];
  return preset && names.includes(preset) ? preset : null;
}

export class Face {
  /** @param {string[]} names the model's expressions (presets and custom ones) */
  constructor(names, random = Math.random) {
    this.names = names;
    this.random = random;
    this.emotion = null; // none yet: the model's own rest face
    this.emotions = new Map(); // expression → weight, for those fading or shown
    this.blinkIn = FIRST_BLINK_S;
    this.blinkAt = -1; // seconds into the current blink, -1 between blinks
    this.blinks = 0; // blinks begun so far (tests, debugging)
  }

  /** Show an emotion (an emotionMap value); true when the model has it. */
  setEmotion(id) {
    const name = expressionFor(id, this.names);
    if (name === null) return false;
    this.emotion = name;
    return true;
  }

  /** Advance by `dtS` seconds with the mouth opening `mouth` (0..1); the weights to apply.
   * Every expression the face ever moved is in the result, so one that fades out reaches 0. */
  update(dtS, mouth) {
    const weights = {};
    const step = dtS / EMOTION_FADE_S;
    if (this.emotion !== null && !this.emotions.has(this.emotion)) {
      this.emotions.set(this.emotion, 0);
    }
    for (const [name, weight] of this.emotions) {
      const target = name === this.emotion ? 1 : 0;
      const next =
        target > weight ? Math.min(target, weight + step) : Math.max(target, weight - step);
      this.emotions.set(name, next);
      weights[name] = next;
    }
    const open = Math.max(0, Math.min(1, Number(mouth) || 0));
    for (const [vowel, share] of Object.entries(VOWELS)) {
      if (this.names.includes(vowel)) weights[vowel] = open * share;
    }
    if (this.names.includes("blink")) weights.blink = this.blink(dtS);
    return weights;
  }

  /** The eyelids' weight now: a quick close, a moment shut, a slower open. */
  blink(dtS) {
    if (this.blinkAt < 0) {
      this.blinkIn -= dtS;
      if (this.blinkIn > 0) return 0;
      this.blinkAt = -this.blinkIn; // the blink began that long ago, within this step
      this.blinks += 1;
    } else {
      this.blinkAt += dtS;
    }
    const t = this.blinkAt;
    if (t < BLINK_CLOSE_S) return t / BLINK_CLOSE_S;
    if (t < BLINK_CLOSE_S + BLINK_HOLD_S) return 1;
    const opening = t - BLINK_CLOSE_S - BLINK_HOLD_S;
    if (opening < BLINK_OPEN_S) return 1 - opening / BLINK_OPEN_S;
    const [low, high] = BLINK_EVERY_S;
    this.blinkAt = -1;
    this.blinkIn = low + this.random() * (high - low);
    return 0;
  }
}
