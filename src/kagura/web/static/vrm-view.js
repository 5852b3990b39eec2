// The VRM (3D) view: a three.js canvas with one VRM model, sized to its container, drawn
// only when something moves (see frame-pacer.js). Its interface is ModelView's, so the pages
// do not care which kind of model the character has (see avatar-view.js).
//
// three.js and three-vrm are ES modules, found through the page's import map and loaded on
// the first VRM model only: a page showing Live2D never downloads them. When they are
// missing the view reports "unavailable" and the page goes on without a model.

import { FramePacer, frameRates, isSoftwareRenderer } from "./frame-pacer.js";
import { EMOTIONS, Face } from "./vrm-face.js";

const FOV_DEG = 30;
const HEAD_ROOM = 0.025; // of the visible height, above the top of the model
const SHOULDERS = 0.5; // the width kept visible, as a share of the model's height
const ARMS_DOWN_RAD = 1.2; // from the T-pose a VRM is modelled in to arms at the sides
const BREATH_S = 4; // one breath
const BREATH_RAD = 0.02; // how far the chest bends with it
const SWAY_RAD = 0.03; // the head's slow drift
const WATCHED = [...EMOTIONS, "aa", "ih", "oh", "blink"]; // in `expressionWeights()`

let libraries = null; // one import of three.js and three-vrm per page

/** three.js, its glTF loader and three-vrm; null when the page cannot load them. */
function loadLibraries() {
  libraries ??= Promise.all([
    import("three"),
    import("three/addons/loaders/GLTFLoader.js"),
    import("@pixiv/three-vrm"),
  ]).then(
    ([THREE, { GLTFLoader }, VRM]) => ({ THREE, GLTFLoader, VRM }),
    (err) => {
      console.warn("three.js or three-vrm is not available:", err);
      return null;
    },
  );
  return libraries;
}

/** The model's box in the pose it stands in. Skinned meshes are measured with their bones
 * where they are now: before the first frame their bone matrices are still all zero. */
function bounds(THREE, root) {
  root.updateMatrixWorld(true);
  root.traverse((node) => {
    if (node.isSkinnedMesh) {
      node.skeleton.update();
      node.computeBoundingBox();
    }
  });
  return new THREE.Box3().setFromObject(root);
}

export class VrmView {
  /** Same parameters as ModelView: the container, the mouth 0..1 and "audio is playing". */
  constructor(container, mouthSource, speaking = () => false) {
    this.container = container;
    this.mouthSource = mouthSource;
    this.speaking = speaking;
    this.kind = "vrm";
    this.state = "none"; // none | unavailable | loading | loaded | error
    this.reason = "";
    this.info = null;
    this.vrm = null;
    this.face = null;
    this.lastMotion = null; // VRM models have no motion groups
    this.drawn = {}; // the expression weights of the last frame drawn
    this.pacer = null;
    this.software = false;
    this.loadSeq = 0;
    this.time = 0; // model time, seconds: breathing and swaying follow it
    this.onstate = () => {};
  }

  setState(state, reason = "") {
    this.state = state;
    this.reason = reason;
    this.onstate(state, reason);
  }

  /** The renderer, scene and camera, made on the first model. */
  ensureRenderer(THREE) {
    if (this.renderer) return;
    this.THREE = THREE;
    this.renderer = new THREE.WebGLRenderer({ alpha: true, antialias: true });
    this.renderer.setClearColor(0x000000, 0); // transparent: the OBS overlay shows the scene
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    const canvas = this.renderer.domElement;
    canvas.classList.add("model-canvas");
    this.container.appendChild(canvas);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(FOV_DEG, 1, 0.05, 100);
    const light = new THREE.DirectionalLight(0xffffff, Math.PI);
    light.position.set(1, 1, 1).normalize();
    this.scene.add(light, new THREE.AmbientLight(0xffffff, 0.4 * Math.PI));
    this.software = isSoftwareRenderer(this.renderer.getContext());
    const rates = frameRates(this.software);
    this.pacer = new FramePacer((dt) => this.drawFrame(dt), () => this.speaking(), rates);
    this.resizer = new ResizeObserver(() => this.layout());
    this.resizer.observe(this.container);
  }

  /** Show the VRM file of a protocol `model_info`; the same loaded model again: nothing. */
  async load(info) {
    if (!info?.url) return;
    const same = this.info?.url === info.url;
    this.info = info;
    if (same && (this.state === "loading" || this.state === "loaded")) {
      this.layout();
      return;
    }
    const seq = ++this.loadSeq;
    this.setState("loading");
    const libs = await loadLibraries();
    if (seq !== this.loadSeq) return;
    if (!libs) {
      this.setState("unavailable", "runtime");
      return;
    }
    this.ensureRenderer(libs.THREE);
    let vrm;
    try {
      const loader = new libs.GLTFLoader();
      loader.register((parser) => new libs.VRM.VRMLoaderPlugin(parser));
      const gltf = await loader.loadAsync(info.url);
      vrm = gltf.userData.vrm;
      if (!vrm) throw new Error(`${info.url} is glTF but not VRM (no VRM extension)`);
    } catch (err) {
      if (seq === this.loadSeq) this.setState("error", String(err?.message || err));
      return;
    }
    if (seq !== this.loadSeq) {
      libs.VRM.VRMUtils.deepDispose(vrm.scene);
      return; // a newer model was asked for meanwhile
    }
    this.show(vrm, libs.VRM.VRMUtils);
    this.setState("loaded");
  }

  show(vrm, VRMUtils) {
    if (this.vrm) {
      this.scene.remove(this.vrm.scene);
      VRMUtils.deepDispose(this.vrm.scene);
    }
    VRMUtils.rotateVRM0(vrm); // VRM 0.0 models face -Z; turn them to the camera
    VRMUtils.combineSkeletons(vrm.scene);
    vrm.scene.traverse((node) => {
      node.frustumCulled = false; // skinned meshes move out of their static bounds
    });
    if (vrm.lookAt) vrm.lookAt.target = this.camera; // the character looks at the viewer
    this.vrm = vrm;
    this.mirror = vrm.meta?.metaVersion === "0" ? -1 : 1; // VRM 0.0's bones turn the other way
    const names = vrm.expressionManager?.expressions.map((e) => e.expressionName) ?? [];
    this.face = new Face(names);
    this.scene.add(vrm.scene);
    this.pose(0);
    vrm.update(0);
    this.bounds = bounds(this.THREE, vrm.scene);
    this.layout();
  }

  /** Frame the model: kScale 0.5 shows all of it, more zooms in from the top of the head;
   * offsets are in CSS pixels, as for Live2D models. */
  layout() {
    if (!this.renderer) return;
    const width = this.container.clientWidth;
    const height = this.container.clientHeight;
    if (!width || !height) return;
    this.renderer.setSize(width, height);
    this.camera.aspect = width / height;
    if (!this.bounds) return; // no model yet: nothing to draw
    this.wake(); // the new size or place is drawn at once
    const THREE = this.THREE;
    const size = this.bounds.getSize(new THREE.Vector3());
    const center = this.bounds.getCenter(new THREE.Vector3());
    const k = Number(this.info?.kScale ?? 0.5) * 2;
    const zoom = k > 0 ? k : 1;
    const tall = size.y * (1 + 2 * HEAD_ROOM);
    const visible = Math.max(tall, (size.y * SHOULDERS) / this.camera.aspect) / zoom;
    const perPixel = visible / height;
    const x = center.x - Number(this.info?.initialXshift || 0) * perPixel;
    const top = this.bounds.max.y + HEAD_ROOM * visible; // the top of the head stays in view
    const y = top - visible / 2 + Number(this.info?.initialYshift || 0) * perPixel;
    const distance = visible / 2 / Math.tan(THREE.MathUtils.degToRad(FOV_DEG / 2));
    this.camera.position.set(x, y, center.z + distance);
    this.camera.lookAt(x, y, center.z);
    this.camera.near = distance / 100;
    this.camera.far = distance * 10;
    this.camera.updateProjectionMatrix();
  }

  /** The idle pose at model time `t`: arms at the sides, breathing, a slow sway of the head. */
  pose(t) {
    const bone = (name) => this.vrm.humanoid?.getNormalizedBoneNode(name);
    const arms = ARMS_DOWN_RAD * this.mirror;
    const left = bone("leftUpperArm");
    const right = bone("rightUpperArm");
    if (left) left.rotation.z = -arms;
    if (right) right.rotation.z = arms;
    const breath = Math.sin((2 * Math.PI * t) / BREATH_S);
    const chest = bone("chest") ?? bone("spine");
    if (chest) chest.rotation.x = BREATH_RAD * breath;
    const head = bone("head");
    if (head) head.rotation.z = SWAY_RAD * Math.sin((2 * Math.PI * t) / (BREATH_S * 2.3));
  }

  /** Advance the model's time by `dtMs` and draw it (called by the pacer). */
  drawFrame(dtMs) {
    const vrm = this.vrm;
    if (vrm) {
      const dt = dtMs / 1000;
      this.time += dt;
      const weights = this.face.update(dt, this.mouthSource());
      for (const [name, weight] of Object.entries(weights)) {
        vrm.expressionManager.setValue(name, weight);
      }
      this.pose(this.time);
      vrm.update(dt);
      const drawn = {};
      for (const name of WATCHED) {
        const value = vrm.expressionManager.getValue(name);
        if (value !== null && value !== undefined) drawn[name] = value;
      }
      this.drawn = drawn;
    }
    this.renderer.render(this.scene, this.camera);
  }

  wake() {
    this.pacer?.wake();
  }

  frameStats() {
    const pacer = this.pacer;
    if (!pacer) return { frames: 0, fps: 0, idleFps: 0, software: false };
    const { frames, fps, idleFps } = pacer;
    return { frames, fps, idleFps, software: this.software };
  }

  get hasExpressions() {
    return Boolean(this.face?.names.length);
  }

  /** An emotionMap value: a VRM expression name, one of Kagura's tags, or an index into
   * EMOTIONS. Unknown to the model: nothing changes. */
  expression(id) {
    if (this.face?.setEmotion(id)) this.wake(); // the expression fades in
  }

  motion() {}

  talk() {
    this.wake(); // lip sync: `speaking()` holds the rate while audio plays
  }

  /** The mouth (`aa`) weight the last frame was drawn with. */
  mouthValue() {
    return this.vrm ? (this.drawn.aa ?? 0) : null;
  }

  /** The emotion shown, as an index into EMOTIONS (-1: a custom one; null: none yet). */
  expressionIndex() {
    const emotion = this.face?.emotion;
    return emotion ? EMOTIONS.indexOf(emotion) : null;
  }

  /** The weights of the emotions, vowels and blink the last frame was drawn with. */
  expressionWeights() {
    return { ...this.drawn };
  }

  /** Blinks begun so far. */
  blinks() {
    return this.face?.blinks ?? 0;
  }

  destroy() {
    this.loadSeq += 1;
    this.pacer?.stop();
    this.resizer?.disconnect();
    if (this.vrm) this.scene.remove(this.vrm.scene);
    this.renderer?.forceContextLoss(); // now, not at garbage collection: a page has few
    this.renderer?.dispose();
    this.renderer?.domElement.remove();
  }
}
