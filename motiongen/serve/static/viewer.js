/* motiongen 3-D stick-figure player: Canvas 2D with a pinhole camera of our own.
 *
 * Why Canvas 2D and not WebGL: 22 joints and 21 bones are a few dozen primitives, so a
 * painter's algorithm (sort by depth, draw back to front) is exact enough and cheap, and it
 * draws the same in every browser, including headless Chromium without a GPU where WebGL
 * depends on a software fallback that newer builds are removing.
 *
 * The picture matches motiongen's MP4 renderer (motiongen/io/render.py): left side blue,
 * right side red, an amber nose dot showing where the body faces, the shadow on a floor grid
 * at y = 0, and a root trail. Coordinates: metres, Y up, the body facing +Z at frame 0 with
 * its left at +X.
 */
(function () {
  "use strict";

  const NUM_JOINTS = 22;
  const JOINT_NAMES = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
  ];
  const PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19];
  const PELVIS = 0;
  const HEAD = 15;
  const HIPS = [1, 2];
  const SHOULDERS = [16, 17];

  const BONE_RADIUS = 0.028; // m; drawn with perspective so nearer limbs look thicker
  const JOINT_RADIUS = 0.036;
  const HEAD_RADIUS = 0.1; // SMPL's head joint sits at the base of the skull
  const GRID_STEP = 0.5;
  const GRID_HALF = 6.0;
  const NEAR = 0.15;
  const VFOV = (36 * Math.PI) / 180;
  const FOLLOW_SIGMA = 0.6; // s of Gaussian smoothing of the root path the camera follows
  const TARGET_HEIGHT = 0.85; // looks at about the pelvis, so jumps stay visible as jumps
  // Light from above, slightly from the front-left, so shadows fall a little behind the body.
  const LIGHT = normalize([-0.12, 1.0, 0.22]);
  const DEFAULT_VIEW = { yaw: (35 * Math.PI) / 180, pitch: (16 * Math.PI) / 180, dist: 3.8 };

  function normalize(v) {
    const n = Math.hypot(v[0], v[1], v[2]) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  }
  function cross(a, b) {
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  }
  function side(j) {
    const name = JOINT_NAMES[j];
    return name.startsWith("left_") ? "left" : name.startsWith("right_") ? "right" : "centre";
  }

  function cssColour(style, name, fallback) {
    const v = style.getPropertyValue(name).trim();
    return v || fallback;
  }

  /** A motion the player shows: positions (T*22*3 Float32Array, frame-major), fps. */
  function checkMotion(m) {
    if (!m || !(m.positions instanceof Float32Array)) throw new Error("motion.positions must be a Float32Array");
    if (!(m.fps > 0)) throw new Error("motion.fps must be positive");
    const T = m.positions.length / (NUM_JOINTS * 3);
    if (!Number.isInteger(T) || T < 1) throw new Error("motion.positions must hold T x 22 x 3 numbers");
    return T;
  }

  function smoothRoot(pos, T, fps) {
    // Gaussian-smoothed pelvis path on the floor (T x 2: x, z), so the followed camera
    // does not sway with every step.
    const sigma = Math.max(1, FOLLOW_SIGMA * fps);
    const half = Math.ceil(3 * sigma);
    const out = new Float32Array(T * 2);
    for (let t = 0; t < T; t++) {
      let sx = 0, sz = 0, sw = 0;
      for (let k = -half; k <= half; k++) {
        const i = Math.min(T - 1, Math.max(0, t + k));
        const w = Math.exp((-0.5 * k * k) / (sigma * sigma));
        sx += w * pos[(i * NUM_JOINTS + PELVIS) * 3];
        sz += w * pos[(i * NUM_JOINTS + PELVIS) * 3 + 2];
        sw += w;
      }
      out[2 * t] = sx / sw;
      out[2 * t + 1] = sz / sw;
    }
    return out;
  }

  class MotionViewer {
    /**
     * canvas: the <canvas>; options.onFrame(frameIndex, numFrames) is called whenever the
     * shown frame changes, options.onPlayState(playing) when playback starts or stops.
     */
    constructor(canvas, options = {}) {
      this.canvas = canvas;
      this.ctx = canvas.getContext("2d");
      this.onFrame = options.onFrame || (() => {});
      this.onPlayState = options.onPlayState || (() => {});
      this.motion = null;
      this.numFrames = 0;
      this.time = 0; // fractional frame index
      this.playing = false;
      this.speed = 1;
      this.loop = true;
      this.follow = true;
      this.view = Object.assign({}, DEFAULT_VIEW);
      this.pan = [0, 0, 0];
      this.gridHalf = GRID_HALF;
      this.lastShown = -1;
      this.lastTick = null;
      this.dirty = true;
      this.readTheme();
      this._bindPointer();
      this._resizeObserver = new ResizeObserver(() => { this.dirty = true; });
      this._resizeObserver.observe(canvas);
      requestAnimationFrame((ts) => this._tick(ts));
    }

    readTheme() {
      const s = getComputedStyle(this.canvas);
      this.colours = {
        skyTop: cssColour(s, "--sky-top", "#1b1f27"),
        skyBottom: cssColour(s, "--sky-bottom", "#2a303b"),
        floor: cssColour(s, "--floor", "#252a33"),
        grid: cssColour(s, "--grid", "#4a5261"),
        shadow: cssColour(s, "--shadow", "rgba(0,0,0,0.45)"),
        trail: cssColour(s, "--trail", "#7d8799"),
        left: cssColour(s, "--left", "#3b82f6"),
        right: cssColour(s, "--right", "#ef4444"),
        centre: cssColour(s, "--centre", "#d6dae1"),
        nose: cssColour(s, "--nose", "#f59e0b"),
        outline: cssColour(s, "--outline", "rgba(0,0,0,0.55)"),
        hint: cssColour(s, "--muted", "#9aa3b2"),
      };
      this.dirty = true;
    }

    /** Show a new motion from its first frame; keeps the camera angle, resets panning. */
    setMotion(motion) {
      if (motion.kind === "stick") return this._setStick(motion);
      const T = checkMotion(motion);
      this.motion = motion;
      this.numFrames = T;
      this.root = smoothRoot(motion.positions, T, motion.fps);
      this.time = 0;
      this.lastShown = -1;
      this.pan = [0, 0, 0];
      this._fitDistance();
      this.dirty = true;
      this._emitFrame();
    }

    play() {
      if (!this.motion) return;
      if (!this.loop && this.time >= this.numFrames - 1) this.time = 0;
      this.playing = true;
      this.lastTick = null;
      this.onPlayState(true);
    }

    pause() {
      this.playing = false;
      this.dirty = true;
      this.onPlayState(false);
    }

    toggle() {
      if (this.playing) this.pause();
      else this.play();
    }

    setFrame(i) {
      if (!this.motion) return;
      this.time = Math.min(this.numFrames - 1, Math.max(0, Math.round(i)));
      this.dirty = true;
      this._emitFrame();
    }

    get frame() {
      return Math.min(this.numFrames - 1, Math.floor(this.time));
    }

    resetView() {
      this.view = Object.assign({}, DEFAULT_VIEW);
      this.pan = [0, 0, 0];
      this._fitDistance();
      this.dirty = true;
    }

    // ---- camera ---------------------------------------------------------------------------
    _fitDistance() {
      // Following: frame the body. Fixed camera: frame the whole path.
      this.gridHalf = GRID_HALF;
      if (!this.motion || this.motion.kind === "stick") return;
      if (this.follow) {
        this.view.dist = DEFAULT_VIEW.dist;
        return;
      }
      let minX = Infinity, maxX = -Infinity, minZ = Infinity, maxZ = -Infinity;
      for (let t = 0; t < this.numFrames; t++) {
        minX = Math.min(minX, this.root[2 * t]);
        maxX = Math.max(maxX, this.root[2 * t]);
        minZ = Math.min(minZ, this.root[2 * t + 1]);
        maxZ = Math.max(maxZ, this.root[2 * t + 1]);
      }
      const extent = Math.hypot(maxX - minX, maxZ - minZ);
      // the whole path inside the vertical field of view, with a margin
      this.view.dist = Math.max(DEFAULT_VIEW.dist, (0.45 * extent + 0.5) / Math.tan(VFOV / 2));
      this.gridHalf = Math.max(GRID_HALF, Math.ceil(extent / 2 + 2));
    }

    setFollow(on) {
      this.follow = on;
      this.pan = [0, 0, 0];
      this._fitDistance();
      this.dirty = true;
    }

    _target(t) {
      let x = 0, z = 0;
      if (this.motion && this.motion.kind !== "stick") {
        const i = Math.min(this.numFrames - 1, Math.max(0, Math.round(t)));
        if (this.follow) {
          x = this.root[2 * i];
          z = this.root[2 * i + 1];
        } else {
          // centre of the whole path
          let sx = 0, sz = 0;
          for (let k = 0; k < this.numFrames; k++) { sx += this.root[2 * k]; sz += this.root[2 * k + 1]; }
          x = sx / this.numFrames;
          z = sz / this.numFrames;
        }
      }
      return [x + this.pan[0], TARGET_HEIGHT + this.pan[1], z + this.pan[2]];
    }

    _camera(t, width, height) {
      const { yaw, pitch, dist } = this.view;
      const target = this._target(t);
      const dir = [Math.cos(pitch) * Math.sin(yaw), Math.sin(pitch), Math.cos(pitch) * Math.cos(yaw)];
      const eye = [target[0] + dist * dir[0], target[1] + dist * dir[1], target[2] + dist * dir[2]];
      const fwd = [-dir[0], -dir[1], -dir[2]];
      const right = normalize(cross(fwd, [0, 1, 0]));
      const up = cross(right, fwd);
      const focal = height / 2 / Math.tan(VFOV / 2);
      return { eye, fwd, right, up, focal, cx: width / 2, cy: height / 2, target };
    }

    // ---- pointer: drag rotates, right/shift-drag pans, wheel zooms, double-click resets ---
    _bindPointer() {
      const c = this.canvas;
      let drag = null;
      c.addEventListener("contextmenu", (e) => e.preventDefault());
      c.addEventListener("pointerdown", (e) => {
        c.setPointerCapture(e.pointerId);
        drag = { x: e.clientX, y: e.clientY, pan: e.button === 2 || e.shiftKey || e.button === 1 };
      });
      c.addEventListener("pointermove", (e) => {
        if (!drag) return;
        const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
        drag.x = e.clientX;
        drag.y = e.clientY;
        if (drag.pan) {
          const cam = this._camera(this.time, c.clientWidth, c.clientHeight);
          const k = this.view.dist / cam.focal;
          for (let i = 0; i < 3; i++) this.pan[i] += k * (-dx * cam.right[i] + dy * cam.up[i]);
        } else {
          this.view.yaw -= dx * 0.008;
          this.view.pitch = Math.min(1.45, Math.max(-0.1, this.view.pitch + dy * 0.006));
        }
        this.dirty = true;
      });
      const end = () => { drag = null; };
      c.addEventListener("pointerup", end);
      c.addEventListener("pointercancel", end);
      c.addEventListener("wheel", (e) => {
        e.preventDefault();
        const f = Math.exp(e.deltaY * 0.0012);
        this.view.dist = Math.min(60, Math.max(0.8, this.view.dist * f));
        this.dirty = true;
      }, { passive: false });
      c.addEventListener("dblclick", () => this.resetView());
    }

    // ---- playback ---------------------------------------------------------------------------
    _tick(ts) {
      if (this.playing && this.motion) {
        if (this.lastTick !== null) {
          const dt = Math.min(0.25, (ts - this.lastTick) / 1000); // a hidden tab must not jump
          this.time += dt * this.motion.fps * this.speed;
          if (this.time > this.numFrames - 1) {
            if (this.loop && this.numFrames > 1) this.time %= this.numFrames - 1;
            else {
              this.time = this.numFrames - 1;
              this.pause();
            }
          }
        }
        this.lastTick = ts;
        this.dirty = true;
        this._emitFrame();
      }
      if (this.dirty) {
        this.dirty = false;
        this.draw();
      }
      requestAnimationFrame((t) => this._tick(t));
    }

    _emitFrame() {
      const f = this.motion ? this.frame : -1;
      if (f !== this.lastShown) {
        this.lastShown = f;
        this.onFrame(f, this.numFrames);
      }
    }

    /** Joint positions at fractional frame t (22 x [x, y, z]), linearly interpolated. */
    pose(t) {
      const p = this.motion.positions;
      const i0 = Math.min(this.numFrames - 1, Math.floor(t));
      const i1 = Math.min(this.numFrames - 1, i0 + 1);
      const a = this.playing ? t - i0 : 0;
      const out = new Array(NUM_JOINTS);
      for (let j = 0; j < NUM_JOINTS; j++) {
        const o0 = (i0 * NUM_JOINTS + j) * 3, o1 = (i1 * NUM_JOINTS + j) * 3;
        out[j] = [
          p[o0] + a * (p[o1] - p[o0]),
          p[o0 + 1] + a * (p[o1 + 1] - p[o0 + 1]),
          p[o0 + 2] + a * (p[o1 + 2] - p[o0 + 2]),
        ];
      }
      return out;
    }

    // ---- stick figures (2-D files of motiongen story / stick-gen) -----------------------------
    _setStick(motion) {
      const { actors, numFrames } = motion;
      // Fixed view: every actor of every frame inside the canvas, the floor (y = 0) shown.
      let minX = Infinity, maxX = -Infinity, minY = 0, maxY = -Infinity;
      for (let t = 0; t < numFrames; t++) {
        for (let a = 0; a < actors; a++) {
          for (let k = 0; k < 10; k++) {
            const [x, y] = this._stickPoint(motion, a, t, k);
            minX = Math.min(minX, x); maxX = Math.max(maxX, x);
            minY = Math.min(minY, y); maxY = Math.max(maxY, y);
          }
        }
      }
      this.motion = motion;
      this.numFrames = numFrames;
      this.stickBounds = { minX, maxX, minY, maxY };
      this.time = 0;
      this.lastShown = -1;
      this.dirty = true;
      this._emitFrame();
    }

    /** End point k (0..9) of actor a at whole frame t, in the scene camera's view. */
    _stickPoint(motion, a, t, k) {
      const o = ((a * motion.numFrames + t) * 20) + 2 * k;
      let x = motion.stick[o], y = motion.stick[o + 1];
      if (motion.camera) {
        const c = 3 * t, zoom = motion.camera[c + 2] || 1;
        x = (x - motion.camera[c]) * zoom;
        y = (y - motion.camera[c + 1]) * zoom;
      }
      return [x, y];
    }

    _drawStick(ctx, w, h, col) {
      const m = this.motion, b = this.stickBounds;
      const margin = 0.12;
      const sx = (w * (1 - 2 * margin)) / Math.max(b.maxX - b.minX, 0.5);
      const sy = (h * (1 - 2 * margin)) / Math.max(b.maxY - b.minY, 0.5);
      const s = Math.min(sx, sy);
      const ox = w / 2 - (s * (b.minX + b.maxX)) / 2;
      const oy = h / 2 + (s * (b.minY + b.maxY)) / 2;
      const px = ([x, y]) => [ox + s * x, oy - s * y];
      // the floor
      ctx.strokeStyle = col.grid;
      ctx.lineWidth = Math.max(1, s * 0.01);
      ctx.beginPath();
      const floor = oy;
      ctx.moveTo(0, floor); ctx.lineTo(w, floor);
      ctx.stroke();
      const t0 = Math.min(this.numFrames - 1, Math.floor(this.time));
      const t1 = Math.min(this.numFrames - 1, t0 + 1);
      const f = this.playing ? this.time - t0 : 0;
      ctx.lineCap = "round";
      for (let a = 0; a < m.actors; a++) {
        const P = [];
        for (let k = 0; k < 10; k++) {
          const p0 = this._stickPoint(m, a, t0, k), p1 = this._stickPoint(m, a, t1, k);
          P.push(px([p0[0] + f * (p1[0] - p0[0]), p0[1] + f * (p1[1] - p0[1])]));
        }
        const line = (p, q, colour) => {
          ctx.strokeStyle = colour;
          ctx.lineWidth = Math.max(2, s * 0.035);
          ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
        };
        line(P[2], P[3], col.centre); // torso: neck -> pelvis
        line(P[3], P[8], col.left); // legs: pelvis -> each ankle
        line(P[3], P[9], col.right);
        line(P[4], P[5], col.left); // arms: shoulder -> wrist
        line(P[6], P[7], col.right);
        line(P[0], P[1], col.centre); // neck -> head top
        const r = Math.max(3, 0.45 * Math.hypot(P[1][0] - P[0][0], P[1][1] - P[0][1]));
        ctx.fillStyle = col.centre;
        ctx.beginPath();
        ctx.arc((P[0][0] + P[1][0]) / 2, (P[0][1] + P[1][1]) / 2, r, 0, 2 * Math.PI);
        ctx.fill();
      }
    }

    // ---- drawing ------------------------------------------------------------------------------
    draw() {
      const c = this.canvas;
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, Math.round(c.clientWidth * dpr));
      const h = Math.max(1, Math.round(c.clientHeight * dpr));
      if (c.width !== w || c.height !== h) {
        c.width = w;
        c.height = h;
      }
      const ctx = this.ctx;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      const W = c.clientWidth, H = c.clientHeight;
      const col = this.colours;

      const sky = ctx.createLinearGradient(0, 0, 0, H);
      sky.addColorStop(0, col.skyTop);
      sky.addColorStop(1, col.skyBottom);
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, W, H);
      if (this.motion && this.motion.kind === "stick") {
        this._drawStick(ctx, W, H, col);
        return;
      }
      const cam = this._camera(this.time, W, H);

      this._drawFloor(ctx, cam, col);
      if (!this.motion) {
        ctx.fillStyle = col.hint;
        ctx.font = "15px system-ui, sans-serif";
        ctx.textAlign = "center";
        ctx.fillText("Type a prompt and press Generate, or open a .motion file.", W / 2, H * 0.4);
        return;
      }
      const pose = this.pose(this.time);
      this._drawTrail(ctx, cam, col);
      this._drawShadow(ctx, cam, col, pose);
      this._drawBody(ctx, cam, col, pose);
    }

    _depth(cam, p) {
      return (p[0] - cam.eye[0]) * cam.fwd[0] + (p[1] - cam.eye[1]) * cam.fwd[1] + (p[2] - cam.eye[2]) * cam.fwd[2];
    }

    _project(cam, p) {
      const v = [p[0] - cam.eye[0], p[1] - cam.eye[1], p[2] - cam.eye[2]];
      const z = v[0] * cam.fwd[0] + v[1] * cam.fwd[1] + v[2] * cam.fwd[2];
      const x = v[0] * cam.right[0] + v[1] * cam.right[1] + v[2] * cam.right[2];
      const y = v[0] * cam.up[0] + v[1] * cam.up[1] + v[2] * cam.up[2];
      return [cam.cx + (cam.focal * x) / z, cam.cy - (cam.focal * y) / z, z];
    }

    /** The 2-D segment of a-b in front of the near plane, or null. */
    _clipSegment(cam, a, b) {
      const da = this._depth(cam, a), db = this._depth(cam, b);
      if (da < NEAR && db < NEAR) return null;
      if (da < NEAR || db < NEAR) {
        const s = (NEAR - da) / (db - da);
        const m = [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1]), a[2] + s * (b[2] - a[2])];
        if (da < NEAR) a = m;
        else b = m;
      }
      return [this._project(cam, a), this._project(cam, b)];
    }

    _drawFloor(ctx, cam, col) {
      const tx = cam.target[0], tz = cam.target[2];
      const snap = 2 * GRID_STEP; // the grid moves by whole cells of either spacing
      const ox = Math.round(tx / snap) * snap, oz = Math.round(tz / snap) * snap;
      // The floor fills everything below the horizon (the camera never rolls, so the horizon
      // is a level line), fading into the sky's colour there like haze.
      const W = 2 * cam.cx, H = 2 * cam.cy;
      const horizon = cam.cy - cam.focal * Math.tan(this.view.pitch);
      if (horizon < H) {
        const top = Math.max(0, horizon);
        const g = ctx.createLinearGradient(0, horizon, 0, Math.max(H, horizon + 1));
        g.addColorStop(0, col.skyBottom);
        g.addColorStop(Math.min(1, 0.35), col.floor);
        g.addColorStop(1, col.floor);
        ctx.fillStyle = g;
        ctx.fillRect(0, top, W, H - top);
      }

      const buckets = 6;
      const paths = Array.from({ length: buckets }, () => []);
      const half = this.gridHalf;
      const spacing = half > 8 ? 2 * GRID_STEP : GRID_STEP; // a far view needs fewer lines
      const pieces = 4; // per grid step, so the fade is smooth
      const step = spacing / pieces;
      for (let k = -half; k <= half + 1e-9; k += spacing) {
        for (let f = -half; f < half - 1e-9; f += step) {
          for (const [a, b] of [
            [[ox + f, 0, oz + k], [ox + f + step, 0, oz + k]],
            [[ox + k, 0, oz + f], [ox + k, 0, oz + f + step]],
          ]) {
            const mx = 0.5 * (a[0] + b[0]) - tx, mz = 0.5 * (a[2] + b[2]) - tz;
            const fade = Math.hypot(mx, mz) / half;
            if (fade >= 0.98) continue;
            const seg = this._clipSegment(cam, a, b);
            if (seg) paths[Math.min(buckets - 1, Math.floor(fade * fade * buckets))].push(seg);
          }
        }
      }
      ctx.save();
      ctx.strokeStyle = col.grid;
      ctx.lineWidth = 1;
      paths.forEach((segs, i) => {
        ctx.globalAlpha = 1 - i / buckets;
        ctx.beginPath();
        for (const [a, b] of segs) {
          ctx.moveTo(a[0], a[1]);
          ctx.lineTo(b[0], b[1]);
        }
        ctx.stroke();
      });
      ctx.restore();
    }

    _drawTrail(ctx, cam, col) {
      const t = this.frame;
      const p = this.motion.positions;
      ctx.save();
      ctx.strokeStyle = col.trail;
      ctx.lineWidth = 2;
      ctx.lineCap = "round";
      for (const [from, to, alpha] of [[0, t, 0.9], [t, this.numFrames - 1, 0.25]]) {
        ctx.globalAlpha = alpha;
        ctx.beginPath();
        for (let i = from; i < to; i++) {
          const a = [p[(i * NUM_JOINTS) * 3], 0, p[(i * NUM_JOINTS) * 3 + 2]];
          const b = [p[((i + 1) * NUM_JOINTS) * 3], 0, p[((i + 1) * NUM_JOINTS) * 3 + 2]];
          const seg = this._clipSegment(cam, a, b);
          if (!seg) continue;
          ctx.moveTo(seg[0][0], seg[0][1]);
          ctx.lineTo(seg[1][0], seg[1][1]);
        }
        ctx.stroke();
      }
      ctx.restore();
    }

    _drawShadow(ctx, cam, col, pose) {
      // Each point is cast along LIGHT onto y = 0; one path stroked once, so overlapping
      // limbs do not darken twice.
      const flat = pose.map((q) => {
        const s = Math.max(0, q[1]) / LIGHT[1];
        return [q[0] - s * LIGHT[0], 0, q[2] - s * LIGHT[2]];
      });
      ctx.save();
      ctx.strokeStyle = col.shadow;
      ctx.fillStyle = col.shadow;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      const pelvis = this._project(cam, flat[PELVIS]);
      if (pelvis[2] > NEAR) ctx.lineWidth = (2.2 * BONE_RADIUS * cam.focal) / pelvis[2];
      ctx.beginPath();
      for (let j = 1; j < NUM_JOINTS; j++) {
        const seg = this._clipSegment(cam, flat[j], flat[PARENTS[j]]);
        if (!seg) continue;
        ctx.moveTo(seg[0][0], seg[0][1]);
        ctx.lineTo(seg[1][0], seg[1][1]);
      }
      ctx.stroke();
      const head = this._project(cam, flat[HEAD]);
      if (head[2] > NEAR) {
        ctx.beginPath();
        ctx.arc(head[0], head[1], (0.9 * HEAD_RADIUS * cam.focal) / head[2], 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
    }

    _drawBody(ctx, cam, col, pose) {
      const proj = pose.map((q) => this._project(cam, q));
      const items = [];
      for (let j = 1; j < NUM_JOINTS; j++) {
        const a = proj[j], b = proj[PARENTS[j]];
        if (a[2] <= NEAR || b[2] <= NEAR) continue; // behind the camera
        items.push({ kind: "bone", depth: 0.5 * (a[2] + b[2]) + 1e-3, j, a, b });
      }
      for (let j = 0; j < NUM_JOINTS; j++) {
        if (j === HEAD || proj[j][2] <= NEAR) continue;
        items.push({ kind: "joint", depth: proj[j][2], j, a: proj[j] });
      }
      // Facing: the body's left-right axis (hips and shoulders) crossed with up.
      const across = [0, 0, 0];
      for (const [l, r] of [HIPS, SHOULDERS]) {
        for (let i = 0; i < 3; i++) across[i] += pose[l][i] - pose[r][i];
      }
      across[1] = 0;
      const forward = normalize(cross(across, [0, 1, 0]));
      const h = pose[HEAD];
      const nose = [h[0] + forward[0] * HEAD_RADIUS, h[1], h[2] + forward[2] * HEAD_RADIUS];
      const hp = proj[HEAD], np = this._project(cam, nose);
      if (hp[2] > NEAR) {
        items.push({ kind: "head", depth: hp[2], a: hp });
        if (np[2] > NEAR) items.push({ kind: "nose", depth: np[2] - 0.02, a: np });
      }
      items.sort((x, y) => y.depth - x.depth);

      const f = cam.focal;
      ctx.save();
      ctx.lineCap = "round";
      for (const it of items) {
        if (it.kind === "bone") {
          const w = (2 * BONE_RADIUS * f) / it.depth;
          ctx.strokeStyle = col.outline;
          ctx.lineWidth = w + 2;
          ctx.beginPath();
          ctx.moveTo(it.a[0], it.a[1]);
          ctx.lineTo(it.b[0], it.b[1]);
          ctx.stroke();
          ctx.strokeStyle = col[side(it.j)];
          ctx.lineWidth = w;
          ctx.stroke();
        } else {
          const radius = it.kind === "head" ? HEAD_RADIUS : it.kind === "nose" ? 0.3 * HEAD_RADIUS : JOINT_RADIUS;
          const r = (radius * f) / it.depth;
          ctx.beginPath();
          ctx.arc(it.a[0], it.a[1], r, 0, 2 * Math.PI);
          ctx.fillStyle = it.kind === "head" ? col.centre : it.kind === "nose" ? col.nose : col[side(it.j)];
          ctx.fill();
          ctx.strokeStyle = col.outline;
          ctx.lineWidth = 1.5;
          ctx.stroke();
          if (it.kind === "joint" || it.kind === "head") {
            // a small highlight so joints read as balls, not flat discs
            ctx.beginPath();
            ctx.arc(it.a[0] - 0.3 * r, it.a[1] - 0.3 * r, 0.35 * r, 0, 2 * Math.PI);
            ctx.fillStyle = "rgba(255,255,255,0.35)";
            ctx.fill();
          }
        }
      }
      ctx.restore();
    }
  }

  window.MotionViewer = MotionViewer;
  window.MOTIONGEN_SKELETON = { JOINT_NAMES, PARENTS, NUM_JOINTS };
})();
