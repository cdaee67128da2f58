/* Reading motions in the browser: `.motion` files (the checks of
 * motiongen/io/motion_json.py's motion_from_dict, so a file the page accepts is one the
 * library accepts) and the JSON body of POST /generate.
 *
 * Both return {positions: Float32Array(T*22*3), fps, numFrames, title, seed} or throw an
 * Error whose message says what is wrong with the file.
 */
(function () {
  "use strict";

  const { JOINT_NAMES, NUM_JOINTS } = window.MOTIONGEN_SKELETON;
  const FORMAT_VERSION = 1;
  const PER_FRAME = NUM_JOINTS * 3;

  function isNumber(x) {
    return typeof x === "number" && Number.isFinite(x);
  }

  /** Flatten `values` (flat list, [T][66] or [T][22][3]) into a Float32Array or throw. */
  function flatten(values, source) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`${source}: 'motion' must be a non-empty list of numbers`);
    }
    let flat;
    if (Array.isArray(values[0])) {
      const okFrame = (f) =>
        Array.isArray(f) &&
        ((f.length === PER_FRAME && f.every(isNumber)) ||
          (f.length === NUM_JOINTS && f.every((p) => Array.isArray(p) && p.length === 3 && p.every(isNumber))));
      if (!values.every(okFrame)) {
        throw new Error(
          `${source}: 'motion' is a nested list but not [frames][22][3] numbers; expected a flat list`,
        );
      }
      flat = values.flat(2);
    } else {
      flat = values;
    }
    const out = new Float32Array(flat.length);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== "number") {
        throw new Error(`${source}: 'motion' must hold only numbers (item ${i} is ${JSON.stringify(v)})`);
      }
      if (!Number.isFinite(v)) throw new Error(`${source}: 'motion' contains NaN or infinite values`);
      out[i] = v;
    }
    return out;
  }

  const STICK_NUMBERS = 20; // 5 segments x 2 end points x (x, y): motiongen/stick/representation.py

  /** A stick-figure .motion (meta.format "motiongen-stick", written by motiongen story and
   * stick-gen): A actors x T frames x 20 numbers, an optional camera (T x [x, y, zoom]). */
  function parseStickObject(data, meta, source) {
    const fps = meta.fps;
    if (!isNumber(fps) || !(fps > 0)) {
      throw new Error(`${source}: 'fps' must be a positive number, got ${JSON.stringify(fps)}`);
    }
    if (meta.numbers_per_frame !== undefined && meta.numbers_per_frame !== STICK_NUMBERS) {
      throw new Error(`${source}: ${meta.numbers_per_frame} numbers per frame; stick files hold ${STICK_NUMBERS}`);
    }
    const actors = meta.actors;
    if (!Number.isInteger(actors) || actors < 1) {
      throw new Error(`${source}: 'actors' must be a whole number >= 1, got ${JSON.stringify(actors)}`);
    }
    const stick = flatten(data.motion, source);
    if (stick.length === 0 || stick.length % (actors * STICK_NUMBERS)) {
      throw new Error(
        `${source}: 'motion' has ${stick.length} numbers, not ${actors} actor(s) x frames x ${STICK_NUMBERS}`,
      );
    }
    const numFrames = stick.length / (actors * STICK_NUMBERS);
    if ("frames" in meta && meta.frames !== numFrames) {
      throw new Error(
        `${source}: meta says ${JSON.stringify(meta.frames)} frames but 'motion' holds ${numFrames}; ` +
          "the file is truncated or corrupt",
      );
    }
    let camera = null;
    if (data.camera !== undefined) {
      camera = flatten(data.camera, source);
      if (camera.length !== numFrames * 3) throw new Error(`${source}: 'camera' must hold frames x 3 numbers`);
    }
    return { kind: "stick", stick, actors, camera, fps, numFrames, title: source, seed: null };
  }

  function parseMotionObject(data, source) {
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new Error(`${source}: expected a JSON object with 'meta' and 'motion'`);
    }
    for (const key of ["meta", "motion"]) {
      if (!(key in data)) throw new Error(`${source}: missing key '${key}'; not a .motion file`);
    }
    const meta = data.meta;
    if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
      throw new Error(`${source}: 'meta' must be an object`);
    }
    if (meta.format === "motiongen-stick") return parseStickObject(data, meta, source);
    const version = "version" in meta ? meta.version : FORMAT_VERSION;
    if (version !== FORMAT_VERSION) {
      throw new Error(
        `${source}: .motion version ${JSON.stringify(version)} is not supported (this viewer ` +
          `reads version ${FORMAT_VERSION})`,
      );
    }
    const fps = "fps" in data ? data.fps : meta.fps;
    if (!isNumber(fps) || !(fps > 0)) {
      throw new Error(`${source}: 'fps' must be a positive number, got ${JSON.stringify(fps)}`);
    }
    if ("fps" in data && meta.fps != null && data.fps !== meta.fps) {
      // as the Python reader: two rates mean an edited file, and either would play it wrongly
      throw new Error(
        `${source}: 'fps' says ${JSON.stringify(data.fps)} and 'meta.fps' ` +
          `${JSON.stringify(meta.fps)}; make them agree (the rate the frames were sampled at)`,
      );
    }
    const skeleton = data.skeleton;
    if (skeleton && typeof skeleton === "object" && "joints" in skeleton) {
      const names = skeleton.joints;
      if (!Array.isArray(names) || names.length !== NUM_JOINTS || names.some((n, i) => n !== JOINT_NAMES[i])) {
        throw new Error(
          `${source}: the skeleton's joints are not the canonical ${NUM_JOINTS}-joint skeleton; ` +
            "retarget the motion with motiongen first",
        );
      }
    }
    const joints = "joints" in meta ? meta.joints : NUM_JOINTS;
    if (joints !== NUM_JOINTS) {
      throw new Error(`${source}: ${JSON.stringify(joints)} joints; only the ${NUM_JOINTS}-joint skeleton is supported`);
    }
    const positions = flatten(data.motion, source);
    if (positions.length % PER_FRAME) {
      throw new Error(
        `${source}: 'motion' has ${positions.length} numbers, not a multiple of ${PER_FRAME} ` +
          `(${NUM_JOINTS} joints x 3)`,
      );
    }
    const numFrames = positions.length / PER_FRAME;
    const frames = "frames" in meta ? meta.frames : numFrames;
    if (frames !== numFrames) {
      throw new Error(
        `${source}: meta says ${JSON.stringify(frames)} frames but 'motion' holds ${numFrames}; ` +
          "the file is truncated or corrupt",
      );
    }
    const texts = Array.isArray(meta.texts) ? meta.texts : [];
    const info = meta.info && typeof meta.info === "object" ? meta.info : {};
    // a timeline keeps its segments in the file: reopened, a restyle restyles each part (it
    // had been read as one motion and lost its bow: an animator's trial)
    const segments = timelineSegments(info.segments);
    return {
      positions,
      fps,
      numFrames,
      title: segments ? segments.map((s) => s[0]).join(", then ") : String(texts[0] || meta.name || source),
      seed: isNumber(info.seed) ? info.seed : null,
      segments,
    };
  }

  /** A timeline's [text, seconds] segments, or null for none (or any malformed). */
  function timelineSegments(said) {
    if (!Array.isArray(said)) return null;
    const segments = said.filter((s) => Array.isArray(s) && typeof s[0] === "string" && s[0].trim() && isNumber(s[1]) && s[1] > 0);
    return segments.length > 1 && segments.length === said.length ? segments : null;
  }

  /** Parse the text of a `.motion` file called `name`; throws Error with a clear message. */
  function parseMotionFile(text, name) {
    let data;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new Error(`${name} is not valid JSON (${e.message}); expected a .motion file written by motiongen`);
    }
    return parseMotionObject(data, name);
  }

  /** The JSON body of POST /generate (format json) as a motion for the player. */
  function motionFromApi(data) {
    const source = "the server's answer";
    if (!data || typeof data !== "object") throw new Error(`${source} is not a JSON object`);
    if (Array.isArray(data.joints) && data.joints.some((n, i) => n !== JOINT_NAMES[i])) {
      throw new Error(`${source} uses a skeleton this viewer does not know`);
    }
    const positions = flatten(data.positions, source);
    if (positions.length % PER_FRAME || positions.length === 0) {
      throw new Error(`${source}: positions are not frames x 22 x 3 numbers`);
    }
    if (!isNumber(data.fps) || !(data.fps > 0)) throw new Error(`${source}: fps is missing`);
    // a timeline's segments ([text, seconds] pairs), sent back with it to restyle each part
    const segments = timelineSegments(data.meta && data.meta.segments);
    return {
      positions,
      fps: data.fps,
      numFrames: positions.length / PER_FRAME,
      title: data.text || "",
      seed: isNumber(data.seed) ? data.seed : null,
      segments,
    };
  }

  window.MotionFiles = { parseMotionFile, parseMotionObject, motionFromApi };
})();
