// When the Live2D model is drawn: at most `fps` frames a second while something moves, and
// `idleFps` (0: none at all) while nothing does.
//
// Why: without a GPU (a headless browser, a VM, a machine whose browser fell back to
// software WebGL) the browser draws WebGL on the CPU, and a frame costs about the same
// whether anything changed or not. Redrawn at the screen's rate, an idle model took a core
// of a 2-core machine, and the LLM and TTS beside it took seconds instead of 0.3 s to the
// first audio. So frames are drawn only when they can show something: while audio plays (lip
// sync), while a motion other than the idle loop plays or is loading, and for a short while
// after any change (an expression fading in, a tap, a new layout, a model loaded). The idle
// loop (breathing, blinking) plays at `idleFps`.
//
// Rates: on a GPU, 30 fps while moving and 15 for the idle loop. On a software renderer,
// 10 fps while moving and none while idle (the model holds still between replies): at 30
// fps the page took the CPU the embedded LLM needed for the reply's next sentences, which
// then came seconds late; at 10, at most a moment late. Measured in docs/benchmarks.md; the
// rates and the query parameters that change them are described in docs/web.md.
//
// Drawing is one callback, `draw(dtMs)`; `dtMs` is the model time to advance, capped so a
// pause of minutes does not jump the physics.

export const ACTIVE_FPS = 30; // a streamer's canvas rate; lip sync needs no more
export const SOFTWARE_FPS = 10; // lip sync still reads; the engines keep most of the CPU
export const HARDWARE_IDLE_FPS = 15; // breathing and blinking on a GPU cost next to nothing
export const SETTLE_MS = 1500; // after a change: an expression's fade (1 s by default) and more
const MAX_STEP_MS = 250; // model time advanced by one frame at most
const EARLY_MS = 2; // a frame due within this is drawn now, not one screen refresh later
// A frame due later than this is waited for with a timer, not by screen refreshes: each
// refresh asked for wakes the page and the compositor, which costs a software renderer too.
const REFRESH_MS = 20;

export class FramePacer {
  /**
   * @param {(dtMs: number) => void} draw advances the model by dtMs and draws it
   * @param {() => boolean} moving true while something moves beyond the idle loop
   * @param {{fps?: number, idleFps?: number}} rates frames a second, active and idle
   */
  constructor(draw, moving, { fps = ACTIVE_FPS, idleFps = 0 } = {}) {
    this.draw = draw;
    this.moving = moving;
    this.fps = fps;
    this.idleFps = idleFps;
    this.frames = 0; // frames drawn so far (tests and the benchmark read it)
    this.awakeUntil = 0;
    this.wasMoving = false;
    this.lastDraw = -Infinity;
    this.lastTime = 0; // model time: when the last frame's step ended
    this.request = 0; // the screen refresh asked for
    this.timer = 0; // the wait for a frame due later
    this.stopped = false;
  }

  /** Something changed: draw at the full rate for at least `ms`, starting at once. */
  wake(ms = SETTLE_MS) {
    this.awakeUntil = Math.max(this.awakeUntil, performance.now() + ms);
    clearTimeout(this.timer); // it may be waiting for a slower rate's next frame
    this.timer = 0;
    this.schedule();
  }

  /** Frames a second right now: full while moving or awake, else the idle rate. When the
   * movement stops, the full rate holds a little longer: the mouth closes and a finished
   * motion blends back into the idle pose instead of freezing half-way. */
  currentFps(now = performance.now()) {
    const moving = this.moving();
    if (this.wasMoving && !moving) this.awakeUntil = Math.max(this.awakeUntil, now + SETTLE_MS);
    this.wasMoving = moving;
    return moving || now < this.awakeUntil ? this.fps : this.idleFps;
  }

  /** No more frames, ever (the view is gone). */
  stop() {
    this.stopped = true;
    cancelAnimationFrame(this.request);
    clearTimeout(this.timer);
    this.request = 0;
    this.timer = 0;
  }

  schedule() {
    if (this.stopped || this.request || this.timer) return;
    const fps = this.currentFps();
    if (fps <= 0) return; // paused until the next wake()
    const wait = this.lastDraw + 1000 / fps - performance.now() - REFRESH_MS;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.schedule();
      }, wait);
    } else {
      this.request = requestAnimationFrame((now) => this.tick(now));
    }
  }

  tick(now) {
    this.request = 0;
    const fps = this.currentFps(now);
    if (fps <= 0) return; // paused until the next wake()
    const interval = 1000 / fps;
    const since = now - this.lastDraw;
    if (since >= interval - EARLY_MS) {
      const step = this.lastTime ? now - this.lastTime : interval;
      this.lastTime = now;
      // The next frame is due one interval after this one was, so a rate of 30 on a
      // 60 Hz screen stays 30 instead of drifting down to 20.
      this.lastDraw = since < 2 * interval ? this.lastDraw + interval : now;
      this.frames += 1;
      this.draw(Math.min(step, MAX_STEP_MS));
    }
    this.schedule();
  }
}

/** The WebGL renderer is the CPU (SwiftShader, llvmpipe and the like), not a GPU. */
export function isSoftwareRenderer(gl) {
  if (!gl) return false;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) || "");
  return /swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
}

/** The frame rates for this page: `?fps=` and `?idle_fps=` win; else 30 and 15 on a GPU,
 * 10 and none on a software renderer (see the top of this file). */
export function frameRates(software, search = window.location.search) {
  const params = new URLSearchParams(search);
  const read = (name, fallback) => {
    const value = Number(params.get(name));
    return params.has(name) && Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  const fps = read("fps", 0) || (software ? SOFTWARE_FPS : ACTIVE_FPS);
  const idleFps = Math.min(read("idle_fps", software ? 0 : HARDWARE_IDLE_FPS), fps);
  return { fps, idleFps };
}
