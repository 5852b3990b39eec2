// The Live2D view: one pixi canvas with one model, sized to its container, drawn only when
// something moves (see frame-pacer.js).
//
// Loaded as an ES module after the classic vendor scripts (pixi, Cubism 2 runtime, Cubism
// Core 5, pixi-live2d-display-lipsyncpatch). When they are missing the view reports
// "unavailable" and the page goes on without a model.

import { FramePacer, frameRates, isSoftwareRenderer } from "./frame-pacer.js";

const PRIORITY = { idle: 1, normal: 2, force: 3 };

export class ModelView {
  /**
   * @param {HTMLElement} container where the canvas goes (the canvas follows its size)
   * @param {() => number} mouthSource the mouth opening 0..1 for the current frame
   * @param {() => boolean} speaking true while audio is queued or playing (lip sync moves)
   */
  constructor(container, mouthSource, speaking = () => false) {
    this.kind = "live2d";
    this.container = container;
    this.mouthSource = mouthSource;
    this.speaking = speaking;
    this.state = "none"; // none | unavailable | loading | loaded | error
    this.reason = "";
    this.info = null;
    this.model = null;
    this.app = null;
    this.pacer = null; // made with the app: it decides when a frame is drawn
    this.software = false; // WebGL runs on the CPU (no GPU): idle frames are skipped
    this.lastMotion = null;
    this.loadSeq = 0;
    this.onstate = () => {};
  }

  get available() {
    return Boolean(window.PIXI?.live2d?.Live2DModel);
  }

  setState(state, reason = "") {
    this.state = state;
    this.reason = reason;
    this.onstate(state, reason);
  }

  ensureApp() {
    if (this.app) return this.app;
    const PIXI = window.PIXI;
    PIXI.live2d.config.sound = false; // motions must not play their own sounds over the voice
    this.app = new PIXI.Application({
      autoStart: false, // frames are drawn by the pacer, not at the screen's rate
      resizeTo: this.container,
      backgroundAlpha: 0, // transparent: the OBS overlay shows the scene behind
      antialias: true,
      autoDensity: true,
      resolution: Math.min(window.devicePixelRatio || 1, 2),
    });
    this.app.view.classList.add("live2d-canvas");
    this.container.appendChild(this.app.view);
    // pixi's system ticker runs at the screen's rate only to re-test hover under a still
    // pointer; the view uses taps alone, and that loop kept an idle page's Chromium busy.
    PIXI.Ticker.system.stop();
    this.software = isSoftwareRenderer(this.app.renderer.gl);
    const rates = frameRates(this.software);
    this.pacer = new FramePacer((dt) => this.drawFrame(dt), () => this.moving(), rates);
    this.app.renderer.on("resize", () => this.layout());
    return this.app;
  }

  /** True when some motion or expression failed to load (e.g. during a server restart):
   * the library never retries those, so the model is loaded again. */
  get damaged() {
    const motions = this.model?.internalModel.motionManager;
    if (!motions) return false;
    const failed = (list) => (list || []).some((entry) => entry === null);
    return (
      Object.values(motions.motionGroups).some(failed) ||
      failed(motions.expressionManager?.expressions)
    );
  }

  /** Show the model described by a protocol `model_info`; the same healthy model again:
   * nothing to do. */
  async load(info) {
    if (!info?.url) return;
    if (!this.available) {
      this.info = info;
      this.setState("unavailable", "runtime");
      return;
    }
    const same = this.info?.url === info.url;
    if (same && (this.state === "loading" || (this.state === "loaded" && !this.damaged))) {
      this.info = info;
      this.layout();
      return;
    }
    this.info = info;
    const seq = ++this.loadSeq;
    this.setState("loading");
    const app = this.ensureApp();
    let model;
    try {
      model = await window.PIXI.live2d.Live2DModel.from(info.url, {
        autoHitTest: false,
        autoFocus: false,
        autoUpdate: false, // advanced by drawFrame, only when a frame is drawn
      });
    } catch (err) {
      if (seq === this.loadSeq) this.setState("error", String(err?.message || err));
      return;
    }
    if (seq !== this.loadSeq) {
      model.destroy();
      return; // a newer model was asked for meanwhile
    }
    if (this.model) {
      app.stage.removeChild(this.model);
      this.model.destroy();
    }
    this.model = model;
    this.baseSize = { w: model.width / model.scale.x, h: model.height / model.scale.y };
    model.anchor.set(0.5, 0.5);
    app.stage.addChild(model);
    this.layout();
    this.setup(model, info);
    this.setState("loaded");
  }

  setup(model, info) {
    const internal = model.internalModel;
    const motions = internal.motionManager;
    if (info.idleMotionGroupName) motions.groups.idle = info.idleMotionGroupName;
    motions.on("motionStart", (group, index) => {
      this.lastMotion = { group, index };
    });
    // The mouth is set right before the model computes its frame, so it wins over motions.
    const core = internal.coreModel;
    const cubism4 = typeof core.setParameterValueById === "function";
    this.setMouth = cubism4
      ? (v) => core.setParameterValueById("ParamMouthOpenY", v)
      : (v) => core.setParamFloat("PARAM_MOUTH_OPEN_Y", v);
    this.getMouth = cubism4
      ? () => core.getParameterValueById("ParamMouthOpenY")
      : () => core.getParamFloat("PARAM_MOUTH_OPEN_Y");
    // The model restores its motion-driven parameters after drawing, so the value it drew
    // with is read back here, right after setting it.
    internal.on("beforeModelUpdate", () => {
      this.setMouth(this.mouthSource());
      this.drawnMouth = this.getMouth();
    });
    if (info.pointerInteractive !== false) this.enableTaps(model, info.tapMotions || {});
  }

  enableTaps(model, tapMotions) {
    model.eventMode = "static";
    model.on("pointertap", (event) => {
      for (const area of model.hitTest(event.global.x, event.global.y)) {
        const choices = tapMotions[area];
        if (choices) {
          this.motion(weightedPick(choices), undefined, PRIORITY.normal);
          return;
        }
      }
    });
  }

  /** Advance the model's time by `dtMs` and draw it (called by the pacer). */
  drawFrame(dtMs) {
    this.model?.update(dtMs);
    this.app.render();
  }

  /** Something moves beyond the idle loop: speech, or a motion playing or being loaded. */
  moving() {
    if (this.speaking()) return true;
    const state = this.model?.internalModel.motionManager.state;
    return Boolean(state) && Math.max(state.currentPriority, state.reservePriority) > PRIORITY.idle;
  }

  /** Draw at the full rate for a while (something changed), then only what moves. */
  wake() {
    this.pacer?.wake();
  }

  /** Frames drawn so far, and at what rates (for tests, the benchmark and curious users). */
  frameStats() {
    const pacer = this.pacer;
    if (!pacer) return { frames: 0, fps: 0, idleFps: 0, software: false };
    const { frames, fps, idleFps } = pacer;
    return { frames, fps, idleFps, software: this.software };
  }

  /** Fit the model to the canvas: kScale 0.5 fills it; offsets are in CSS pixels. */
  layout() {
    if (!this.model || !this.app) return;
    this.wake(); // the new size or place is drawn at once
    const { width, height } = this.app.screen;
    const fit = Math.min(width / this.baseSize.w, height / this.baseSize.h);
    const k = Number(this.info?.kScale ?? 0.5) * 2;
    this.model.scale.set(fit * (k > 0 ? k : 1));
    this.model.position.set(
      width / 2 + Number(this.info?.initialXshift || 0),
      height / 2 + Number(this.info?.initialYshift || 0),
    );
  }

  expression(id) {
    if (this.model && this.model.internalModel.motionManager.expressionManager) {
      this.model.expression(id);
      this.wake(); // the expression fades in
    }
  }

  motion(group, index, priority = PRIORITY.force) {
    if (this.model && group !== undefined) {
      this.model.motion(group, index, priority);
      this.wake(); // `moving()` holds the rate once the motion has loaded and started
    }
  }

  /** A talk motion at normal priority: it does not cut an emotion's motion short. */
  talk() {
    const group = this.info?.talkMotionGroupName;
    if (group) this.motion(group, undefined, PRIORITY.normal);
    else this.wake(); // lip sync at least: `speaking()` holds the rate while audio plays
  }

  /** Debug view for tests and tools: the mouth parameter the last frame was drawn with. */
  mouthValue() {
    return this.drawnMouth ?? null;
  }

  expressionIndex() {
    const manager = this.model?.internalModel.motionManager.expressionManager;
    if (!manager) return null;
    return manager.expressions.indexOf(manager.currentExpression);
  }

  /** The model has expressions (else emotions are performed as motions). */
  get hasExpressions() {
    return Boolean(this.model?.internalModel.motionManager.expressionManager);
  }

  /** Live2D expressions are parameter sets, not weights: nothing to report. */
  expressionWeights() {
    return {};
  }

  blinks() {
    return 0;
  }

  /** Remove the canvas for good (the character changed to another kind of model). */
  destroy() {
    this.loadSeq += 1;
    this.pacer?.stop();
    this.app?.destroy(true, { children: true });
    this.app = null;
    this.model = null;
  }
}

function weightedPick(choices) {
  const entries = Object.entries(choices);
  let roll = Math.random() * entries.reduce((sum, [, w]) => sum + Number(w || 0), 0);
  for (const [name, weight] of entries) {
    roll -= Number(weight || 0);
    if (roll <= 0) return name;
  }
  return entries[0]?.[0];
}
