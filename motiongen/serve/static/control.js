/* Control of the motion on stage: continue it (POST /predict), restyle it (POST /restyle,
 * the styles from GET /styles) and compose a timeline of segments (POST /compose). Uses the
 * page's helpers from app.js (window.motiongenPage). */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const page = window.motiongenPage;
  const NUM_JOINTS = window.MOTIONGEN_SKELETON.NUM_JOINTS;

  /** The motion on stage as the API's motion input: {fps, positions [T][22][3]}. */
  function stageMotion() {
    const m = page.viewer.motion;
    if (!m) return null;
    const positions = [];
    for (let t = 0; t < m.numFrames; t++) {
      const frame = [];
      for (let j = 0; j < NUM_JOINTS; j++) {
        const k = (t * NUM_JOINTS + j) * 3;
        frame.push([m.positions[k], m.positions[k + 1], m.positions[k + 2]]);
      }
      positions.push(frame);
    }
    const out = { fps: m.fps, positions };
    // a timeline's segments go with it: a restyle restyles each with its own words, and a
    // continuation carries them on (its answer's segments end with the new text)
    if (m.segments) out.segments = m.segments.map(([text, seconds]) => ({ text, seconds }));
    return out;
  }

  function seedValue() {
    const raw = $("seed").value.trim();
    if (raw === "") return null;
    const v = Number(raw);
    if (!Number.isInteger(v)) throw new page.ApiError(`seed must be a whole number, got "${raw}"`);
    return v;
  }

  /** POST a control request; a 202 is a job, waited for. Shows the motion it answers. */
  const DONE = { continuing: "continued:", restyling: "restyled:", composing: "composed:" };

  async function run(path, body, label, what) {
    if (page.isBusy()) return;
    page.setBusy(true);
    page.say(`${what}…`);
    const started = performance.now();
    try {
      const res = await page.api(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      let data = await res.json();
      if (res.status === 202) {
        if (data.note) page.say(data.note);
        page.jobProgress(`${path}: queued`);
        const job = await page.waitForJob(data, path);
        data = await (await page.api(page.jobFileUrl(job, "json"))).json();
      }
      const motion = window.MotionFiles.motionFromApi(data);
      const again = Object.assign({}, body, { seed: data.seed ?? body.seed ?? null });
      page.show(motion, { kind: "control", path, body: again }, label);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const warning = data.meta && data.meta.warning;
      const pace = data.meta && data.meta.pace;
      const paced = pace ? `; the style goes along the path at ${Math.round(pace * 100)} % of its speed` : "";
      // said done, with the seed, warned or not ("composing: 160 frames" read as still at
      // work, and a warned result lost its length: an animator's trial)
      const done = DONE[what] || what;
      const made = `${done} ${motion.numFrames} frames (${(motion.numFrames / motion.fps).toFixed(1)} s, seed ${data.seed ?? again.seed}) in ${secs} s${paced}`;
      if (warning) {
        page.say(`${made}, but:\n${page.pageWords(warning)}`, "warn");
      } else {
        page.say(made, "ok");
      }
    } catch (e) {
      page.say(e instanceof page.ApiError ? e.message : `unexpected answer: ${e.message}`, "error");
    } finally {
      page.jobProgress(null);
      page.setBusy(false);
    }
  }

  function withSeed(body) {
    const seed = seedValue();
    if (seed !== null) body.seed = seed;
    return body;
  }

  // ---- continue ----------------------------------------------------------------------------
  const SERVICE_SECONDS = 30; // the longest result the service makes (serve.schemas.MAX_SECONDS)

  async function continueMotion() {
    const motion = stageMotion();
    if (!motion) return;
    try {
      const add = Number($("continue-seconds").value);
      if (!Number.isFinite(add) || add <= 0) throw new page.ApiError("add seconds must be a positive number");
      const past = motion.positions.length / motion.fps;
      const seconds = Math.round((past + add) * 100) / 100;
      if (seconds > SERVICE_SECONDS) {  // said in the page's terms (the server's named the past)
        const room = Math.floor((SERVICE_SECONDS - past) * 10) / 10;
        throw new page.ApiError(room >= 0.5
          ? `the motion on stage lasts ${past.toFixed(1)} s and the service makes at most ${SERVICE_SECONDS} s in all: add at most ${room} s`
          : `the motion on stage lasts ${past.toFixed(1)} s, about all the service makes (${SERVICE_SECONDS} s): download it and continue it with motiongen predict (up to 120 s)`);
      }
      const body = withSeed({ motion, seconds, format: "json" });
      // its own field first: continued with the Generate prompt, a "then" prompt's whole text
      // was asked again (an animator's trial)
      const text = $("continue-text").value.trim() || $("prompt").value.trim();
      if (text) body.text = text;
      await run("predict", body, text ? `… then ${text}` : "continued", "continuing");
    } catch (e) {
      page.say(e.message, "error");
    }
  }

  // ---- restyle -----------------------------------------------------------------------------
  async function loadStyles() {
    const style = $("style");
    const towards = $("blend-style");
    try {
      const data = await (await page.api("styles")).json();
      style.innerHTML = "";
      towards.innerHTML = '<option value="">(none)</option>';
      for (const name of data.styles || []) {
        for (const sel of [style, towards]) {
          const opt = document.createElement("option");
          opt.value = name;
          opt.textContent = name;
          sel.appendChild(opt);
        }
      }
      if (!(data.styles || []).length) style.innerHTML = '<option value="">(no style model)</option>';
      const sad = [...style.options].find((o) => o.value === "sad");
      if (sad) sad.selected = true;
    } catch (e) {
      style.innerHTML = '<option value="">(unavailable)</option>';
    }
    update();
  }

  async function restyle() {
    const motion = stageMotion();
    if (!motion) return;
    try {
      const style = $("style").value;
      if (!style) throw new page.ApiError("no style to choose: the server has no style model");
      const body = withSeed({ motion, style, format: "json" });
      if ($("keep-speed").checked) body.keep_speed = true;
      if ($("whole-path").checked) body.whole_path = true;
      const other = $("blend-style").value;
      const weight = Number($("blend-weight").value);
      let label = style;
      if (other && other !== style) {
        body.blend = { style: other, weight };
        label = `${style} → ${other} ${Math.round(weight * 100)} %`;
      }
      await run("restyle", body, `restyled: ${label}`, "restyling");
    } catch (e) {
      page.say(e.message, "error");
    }
  }

  // ---- timeline ----------------------------------------------------------------------------
  function addSegment(text = "", seconds = 3) {
    const row = document.createElement("div");
    row.className = "segment";
    row.innerHTML =
      // a textarea that wraps: in the narrow panel "a person waves with the right hand" had
      // read "a person waves with t" (a trial)
      '<textarea class="seg-text" rows="2" placeholder="a person walks forward" aria-label="segment text"></textarea>' +
      '<input class="seg-seconds" type="number" min="1" max="30" step="0.5" aria-label="segment seconds">' +
      '<button class="seg-remove ghost" type="button" title="remove this segment">×</button>';
    row.querySelector(".seg-text").value = text;
    row.querySelector(".seg-seconds").value = String(seconds);
    row.querySelector(".seg-remove").addEventListener("click", () => {
      row.remove();
      update();
    });
    $("segments").appendChild(row);
    update();
  }

  async function compose() {
    const segments = [];
    try {
      for (const [i, row] of [...document.querySelectorAll("#segments .segment")].entries()) {
        const text = row.querySelector(".seg-text").value.trim();
        const seconds = Number(row.querySelector(".seg-seconds").value);
        if (!text) throw new page.ApiError(`segment ${i + 1} has no text; say what the person does`);
        if (!Number.isFinite(seconds)) throw new page.ApiError(`segment ${i + 1} needs a number of seconds`);
        if (seconds < 1 || seconds > 30) {  // said here, not as the schema's "segments[i].seconds"
          throw new page.ApiError(`segment ${i + 1} lasts ${seconds} s; a segment lasts 1 to 30 s`);
        }
        segments.push({ text, seconds });
      }
      if (!segments.length) throw new page.ApiError("add a segment first");
      const label = segments.map((s) => s.text).join(", then ");
      await run("compose", withSeed({ segments, format: "json" }), label, "composing");
    } catch (e) {
      page.say(e.message, "error");
    }
  }

  // ---- wiring ------------------------------------------------------------------------------
  function update() {
    const busy = page.isBusy();
    const staged = Boolean(page.viewer.motion);
    $("continue").disabled = busy || !staged;
    $("restyle").disabled = busy || !staged || !$("style").value;
    $("compose").disabled = busy || !document.querySelector("#segments .segment");
    // which way the weight goes: "Blend 0.7" said neither towards what nor how much (a trial)
    const other = $("blend-style").value;
    const weight = Number($("blend-weight").value);
    $("blend-value").textContent = other ? `${Math.round(weight * 100)} % towards ${other}` : weight.toFixed(1);
  }

  // A timeline on stage (made from a "then" prompt, composed, continued or opened) fills the
  // timeline editor with its segments, to change and compose again (the editor had kept its
  // own two rows beside the timeline just made: an animator's trial)
  function showSegments(motion) {
    if (!motion || !motion.segments) return;
    $("segments").innerHTML = "";
    for (const [text, seconds] of motion.segments) addSegment(text, Math.max(1, Math.round(seconds * 10) / 10));
  }

  document.addEventListener("motiongen-busy", update);
  document.addEventListener("motiongen-shown", (e) => showSegments(e.detail));
  $("continue").addEventListener("click", continueMotion);
  $("restyle").addEventListener("click", restyle);
  $("compose").addEventListener("click", compose);
  $("add-segment").addEventListener("click", () => addSegment());
  $("blend-weight").addEventListener("input", update);
  $("blend-style").addEventListener("change", update);
  $("style").addEventListener("change", update);
  // one or the other: the motion's time at its speed, or its whole path in more time
  $("keep-speed").addEventListener("change", () => { if ($("keep-speed").checked) $("whole-path").checked = false; });
  $("whole-path").addEventListener("change", () => { if ($("whole-path").checked) $("keep-speed").checked = false; });
  addSegment("a person walks forward", 3);
  addSegment("a person waves with the right hand", 3);
  loadStyles();
})();
