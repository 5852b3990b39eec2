// The character's view, whatever kind of model it has: a `model_info` whose `url` is a `.vrm`
// file is shown by the VRM (3D) view, anything else by the Live2D view. Both answer the same
// calls, so the pages never ask which. A character changed to a model of the other kind
// (a preset switch) gets a fresh view; the old one's canvas goes.

import { ModelView } from "./model-view.js";
import { VrmView } from "./vrm-view.js";

const NO_FRAMES = Object.freeze({ frames: 0, fps: 0, idleFps: 0, software: false });

/** The model file is VRM (by its name: VRM is glTF binary, which has no other sign). */
export function isVrmUrl(url) {
  try {
    return new URL(url, window.location.href).pathname.toLowerCase().endsWith(".vrm");
  } catch {
    return false;
  }
}

export class AvatarView {
  /** Same parameters as ModelView and VrmView, passed on to the view made. */
  constructor(container, mouthSource, speaking = () => false) {
    this.args = [container, mouthSource, speaking];
    this.view = null; // none before the first model_info
    this.onstate = () => {};
  }

  /** The view for the model of `info`, made (and the old one dropped) when the kind changes. */
  viewFor(info) {
    const View = isVrmUrl(info.url) ? VrmView : ModelView;
    if (!(this.view instanceof View)) {
      this.view?.destroy();
      this.view = new View(...this.args);
      this.view.onstate = (state, reason) => this.onstate(state, reason);
    }
    return this.view;
  }

  async load(info) {
    if (info?.url) await this.viewFor(info).load(info);
  }

  get kind() {
    return this.view?.kind ?? null; // "live2d" | "vrm"
  }

  get state() {
    return this.view?.state ?? "none";
  }

  get reason() {
    return this.view?.reason ?? "";
  }

  get info() {
    return this.view?.info ?? null;
  }

  get lastMotion() {
    return this.view?.lastMotion ?? null;
  }

  get hasExpressions() {
    return Boolean(this.view?.hasExpressions);
  }

  expression(id) {
    this.view?.expression(id);
  }

  motion(group, index) {
    this.view?.motion(group, index);
  }

  talk() {
    this.view?.talk();
  }

  mouthValue() {
    return this.view ? this.view.mouthValue() : null;
  }

  expressionIndex() {
    return this.view ? this.view.expressionIndex() : null;
  }

  expressionWeights() {
    return this.view ? this.view.expressionWeights() : {};
  }

  blinks() {
    return this.view ? this.view.blinks() : 0;
  }

  frameStats() {
    return this.view ? this.view.frameStats() : NO_FRAMES;
  }
}
