/* The page's controls: talks to the motiongen REST API (docs/serving.md) and feeds the
 * player. Every API error ({"error": ...}) and every bad file ends up in #message. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const POLL_MS = 500;
  const JOB_TIMEOUT_MS = 10 * 60 * 1000;
  const RETRY_MS = 2000; // between polls while the server does not answer

  // What the current motion came from, so the download buttons can fetch it in other formats.
  //   {kind: "generate", body}   -> POST /generate again with the same seed and another format
  //   {kind: "dance", file, files, seconds, seed} -> the dance job's result URLs, else
  //                                 POST /dance again with the same song and seed
  //   {kind: "control", path, body} -> POST /predict, /restyle or /compose again (control.js)
  //   {kind: "file", name, text} -> a local file: only .motion can be saved again
  let source = null;
  let busy = false;

  // A dance plays with its song: the <audio> follows the player (play, pause, seek, speed).
  const audio = new Audio();
  let audioOffset = 0;
  const DRIFT_S = 0.12;

  function syncAudio(force) {
    if (!audio.src || !viewer.motion) return;
    const want = audioOffset + viewer.time / viewer.motion.fps;
    audio.playbackRate = viewer.speed;
    if (force || Math.abs(audio.currentTime - want) > DRIFT_S) audio.currentTime = want;
    if (viewer.playing && audio.paused) audio.play().catch(() => {});
    if (!viewer.playing && !audio.paused) audio.pause();
  }

  function setAudio(file, offset) {
    audio.pause();
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.removeAttribute("src");
    audioOffset = offset || 0;
    if (file) audio.src = URL.createObjectURL(file);
  }

  const viewer = new window.MotionViewer($("player"), {
    onFrame(i, n) {
      $("frame-counter").textContent = `frame ${n ? i + 1 : 0} / ${n}`;
      $("scrub").value = String(Math.max(0, i));
      syncAudio(false);
    },
    onPlayState(playing) {
      $("play").textContent = playing ? "❚❚" : "▶";
      $("play").setAttribute("aria-label", playing ? "pause" : "play");
      syncAudio(true);
    },
  });

  // ---- messages ---------------------------------------------------------------------------
  function say(text, kind = "info") {
    const el = $("message");
    el.textContent = text;
    el.className = `message ${kind}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  class ApiError extends Error {
    constructor(message, network = false) {
      super(message);
      this.network = network; // the server could not be reached (it may be restarting)
    }
  }

  /** A warning in the page's words: the library's advice names its own option ("pass
   * literal=True (--literal)"), which the page offers as a box to tick (a trial). */
  function pageWords(warning) {
    return warning.replaceAll(
      "pass literal=True (--literal) to send the prompt as written",
      'tick "keep styles the action was never recorded in" to send the prompt as written',
    );
  }

  /** fetch that turns network failures and JSON error bodies into ApiError. */
  async function api(path, options = {}) {
    let res;
    try {
      res = await fetch(path, options);
    } catch (e) {
      throw new ApiError(`cannot reach the motiongen server (${e.message}); is \`motiongen serve\` running?`, true);
    }
    if (res.ok) return res;
    let detail = "";
    try {
      const body = await res.json();
      detail = body.error || (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || body));
    } catch (e) {
      detail = res.statusText || "no details";
    }
    const retry = res.headers.get("Retry-After");
    const extra = res.status === 503 && retry ? ` (try again in ${retry} s)` : "";
    throw new ApiError(`${res.status}: ${detail}${extra}`);
  }

  function setBusy(on) {
    busy = on;
    $("generate").disabled = on;
    $("dance").disabled = on || !$("music").files.length;
    updateDownloads();
    document.dispatchEvent(new CustomEvent("motiongen-busy", { detail: on }));
  }

  function updateDownloads() {
    const server = source && source.kind !== "file";
    $("download-bvh").disabled = busy || !server;
    $("download-mp4").disabled = busy || !server;
    $("download-motion").disabled = busy || !source;
    $("download-fps").disabled = busy || !server;
    const why = source && source.kind === "file" ? "only motions made by the server can be converted here" : "";
    $("download-bvh").title = why || "BVH for Blender, Maya, MotionBuilder";
    $("download-mp4").title = why || "rendered stick-figure video";
  }

  function show(motion, from, label) {
    setAudio(from.kind === "dance" ? from.file : null, from.offset);
    viewer.setMotion(motion);
    source = from;
    const n = motion.numFrames;
    $("scrub").max = String(n - 1);
    $("scrub").disabled = false;
    $("play").disabled = false;
    $("title").textContent = label;
    updateDownloads();
    document.dispatchEvent(new CustomEvent("motiongen-busy", { detail: busy }));
    document.dispatchEvent(new CustomEvent("motiongen-shown", { detail: motion }));
    viewer.play();
  }

  // ---- server info ------------------------------------------------------------------------
  async function loadModels() {
    try {
      const res = await api("models");
      const data = await res.json();
      const sel = $("model");
      sel.innerHTML = "";
      for (const m of data.models || []) {
        const opt = document.createElement("option");
        opt.value = m.name;
        const how = [m.process, m.sampler, m.default_steps && `${m.default_steps} steps`].filter(Boolean).join(", ");
        // the name alone fits the panel ("(flow, euler, 4" was cut off: a trial); the rest
        // on hover
        opt.textContent = m.name === data.default ? `${m.name} (default)` : m.name;
        opt.title = how;
        if (m.name === data.default) opt.selected = true;
        sel.appendChild(opt);
      }
    } catch (e) {
      say(`could not list the models: ${e.message}`, "error");
    }
  }

  async function loadHealth() {
    try {
      const data = await (await api("health")).json();
      const q = data.queue || {};
      $("status").textContent = `● ${data.model || "ready"}${q.capacity ? ` · queue ${q.size}/${q.capacity}` : ""}`;
      $("status").className = "status ok";
    } catch (e) {
      $("status").textContent = "● server unreachable";
      $("status").className = "status bad";
    }
  }

  // ---- generate -----------------------------------------------------------------------------
  function readNumber(id, what) {
    const raw = $(id).value.trim();
    if (raw === "") return null;
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new ApiError(`${what} must be a number, got "${raw}"`);
    return v;
  }

  function generateBody() {
    const body = { text: $("prompt").value, format: "json" };
    const seconds = readNumber("seconds", "seconds");
    if (seconds !== null) body.seconds = seconds;
    const seed = readNumber("seed", "seed");
    if (seed !== null) body.seed = seed;
    if ($("model").value) body.model = $("model").value;
    if ($("use-rag").checked) body.use_rag = true;
    if ($("literal").checked) body.literal = true;
    if ($("loop").checked) body.loop = true;
    if ($("in-place").checked) body.no_travel = true;
    return body;
  }

  async function generate(ev) {
    ev.preventDefault();
    if (busy) return;
    let body;
    try {
      body = generateBody();
    } catch (e) {
      say(e.message, "error");
      return;
    }
    setBusy(true);
    say("generating…");
    const started = performance.now();
    try {
      const res = await api("generate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      let data = await res.json();
      if (res.status === 202) {
        // A long or many-step request runs as a job on the server: wait for it.
        say(data.note || "running as a job…");
        jobProgress("generate: queued");
        remember(data, "generate", { format: "json", body });
        const files = await waitForJob(data, "generate");
        data = await (await api(jobFileUrl(files, "json"))).json();
      }
      const motion = window.MotionFiles.motionFromApi(data);
      // The server's seed makes the downloads the very same motion.
      const again = Object.assign({}, body, { seed: data.seed ?? body.seed ?? null });
      show(motion, { kind: "generate", body: again }, data.text || body.text);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      const warning = data.meta && data.meta.warning;
      const loop = data.meta && data.meta.loop;
      const cut = loop ? `a loop starting at ${loop.start_seconds} s, its ends met within ${(100 * loop.pose_gap_m).toFixed(1)} cm` : "";
      // "walks, then waves" comes back as a timeline of its segments (as POST /compose makes it)
      const segs = (data.meta && data.meta.segments) || [];
      const parts = segs.length > 1 ? ` as a timeline: ${segs.map(([t, s]) => `${t} (${s.toFixed(1)} s)`).join(", then ")}` : "";
      // the seed with a warning too: a warned take is one to make again (a trial's had none)
      const made = `generated ${motion.numFrames} frames (${(motion.numFrames / motion.fps).toFixed(1)} s, seed ${data.seed}${cut ? `, ${cut}` : ""})${parts} in ${secs} s`;
      if (warning) {
        say(`${made}, but:\n${pageWords(warning)}`, "warn");
      } else {
        say(made, "ok");
      }
    } catch (e) {
      say(e instanceof ApiError ? e.message : `unexpected answer: ${e.message}`, "error");
    } finally {
      forget();
      jobProgress(null);
      setBusy(false);
    }
  }

  // ---- jobs -----------------------------------------------------------------------------------
  function jobProgress(text) {
    $("job-status").hidden = text === null;
    $("job-text").textContent = text || "";
  }

  /** Poll GET /jobs/{id} until done; returns the job, throws ApiError when it failed. */
  async function waitForJob(job, what) {
    const url = job.url || `jobs/${job.job_id}`;
    const t0 = performance.now();
    const id = job.job_id || url.split("/").pop();
    for (;;) {
      let j;
      try {
        j = await (await api(url.replace(/^\//, ""))).json();
      } catch (e) {
        // A restarting server re-queues its jobs: keep asking rather than give up at once.
        if (!(e instanceof ApiError && e.network) || performance.now() - t0 > JOB_TIMEOUT_MS) throw e;
        jobProgress(`${what}: the server does not answer; still asking (job ${id})`);
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      jobProgress(`${what}: ${j.status} (${secs} s)`);
      if (j.status === "done") return j;
      if (j.status === "failed") throw new ApiError(`${what} failed: ${j.error || "no reason given"}`);
      if (j.status === "cancelled") throw new ApiError(`${what} was cancelled (job ${id})`);
      if (performance.now() - t0 > JOB_TIMEOUT_MS) {
        throw new ApiError(`${what} is still ${j.status} after 10 minutes; the job id is ${j.job_id}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  // A job the page waits for is remembered, so a reload picks it up again: reloaded during a
  // 30 s MP4's render, the page had come back blank while the server rendered on for nothing
  // (a trial). {job, what, format, name, body, at}
  const PENDING = "motiongen-pending-job";

  function remember(job, what, extra) {
    try {
      localStorage.setItem(PENDING, JSON.stringify(Object.assign({ job, what, at: Date.now() }, extra)));
    } catch (e) { /* storage off: nothing to resume */ }
  }

  function forget() {
    try { localStorage.removeItem(PENDING); } catch (e) { /* storage off */ }
  }

  /** After a reload: wait for the job the page was waiting for, then show or save its result. */
  async function resumePending() {
    let p = null;
    try { p = JSON.parse(localStorage.getItem(PENDING) || "null"); } catch (e) { p = null; }
    if (!p || !p.job || Date.now() - (p.at || 0) > JOB_TIMEOUT_MS) {
      forget();
      return;
    }
    setBusy(true);
    say(`picking up ${p.what} from before the page was reloaded…`);
    try {
      const job = await waitForJob(p.job, p.what);
      const res = await api(jobFileUrl(job, p.format));
      if (p.format === "json") {
        const data = await res.json();
        const again = Object.assign({}, p.body || {}, { seed: data.seed ?? null });
        show(window.MotionFiles.motionFromApi(data), { kind: "generate", body: again }, data.text || "");
        say(`generated ${data.num_frames} frames (seed ${data.seed}), picked up after the reload`, "ok");
      } else {
        const name = p.name || filenameOf(res, `motion.${p.format}`);
        saveBlob(await res.blob(), name);
        say(`downloaded ${name}, picked up after the reload`, "ok");
      }
    } catch (e) {
      say(e instanceof ApiError ? e.message : `could not pick up ${p.what}: ${e.message}`, "error");
    } finally {
      forget();
      jobProgress(null);
      setBusy(false);
    }
  }

  function jobFileUrl(job, format) {
    const files = job.files || {};
    const url = files[format] || (job.result_url ? `${job.result_url}?format=${format}` : null);
    return url ? url.replace(/^\//, "") : null;
  }

  // ---- dance --------------------------------------------------------------------------------
  async function dance() {
    const file = $("music").files[0];
    if (!file || busy) return;
    const form = new FormData();
    form.append("audio", file, file.name);
    let seconds, offset;
    try {
      seconds = readNumber("dance-seconds", "seconds");
      if (seconds !== null) form.append("seconds", String(seconds));
      offset = readNumber("music-offset", "start at") || 0;
      form.append("music_offset", String(offset));
      const seed = readNumber("seed", "seed");
      if (seed !== null) form.append("seed", String(seed));
      if ($("model").value) form.append("model", $("model").value);
    } catch (e) {
      say(e.message, "error");
      return;
    }
    // the prompt above goes with the song ("a person dances the waltz")
    const text = $("prompt").value.trim() || null;
    if (text) form.append("text", text);
    const beatSync = $("beat-sync").checked;
    if (!beatSync) form.append("beat_sync", "false");
    form.append("format", "json");
    form.append("async", "true");
    setBusy(true);
    say(`uploading ${file.name}…`);
    try {
      const res = await api("dance", { method: "POST", body: form });
      let data = await res.json();
      let files = null;
      if (res.status === 202) {
        say(`dancing to ${file.name}…`);
        jobProgress("dance: queued");
        files = await waitForJob(data, "dance");
        data = await (await api(jobFileUrl(files, "json"))).json();
      }
      // Formats the job did not store are made by uploading the song again with the same seed.
      const seed = data.seed ?? (files && files.request ? files.request.seed : null);
      const from = { kind: "dance", file, files, seconds, offset, seed, text, beatSync, model: $("model").value };
      const motion = window.MotionFiles.motionFromApi(data);
      show(motion, from, `dance to ${file.name}`);
      say(`dance of ${motion.numFrames} frames to ${file.name}`, "ok");
    } catch (e) {
      say(e instanceof ApiError ? e.message : `unexpected answer: ${e.message}`, "error");
    } finally {
      jobProgress(null);
      setBusy(false);
    }
  }

  // ---- downloads ----------------------------------------------------------------------------
  function filenameOf(res, fallback) {
    const cd = res.headers.get("Content-Disposition") || "";
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
    return m ? decodeURIComponent(m[1]) : fallback;
  }

  /** A download's name from what is on stage ("a_man_walks_in_seed7.bvh"): every file had
   * been motion.bvh, one download over another (an animator's trial). */
  function namedFile(ext) {
    const words = ($("title").textContent || "").toLowerCase().replace(/[^a-z0-9]+/g, "_");
    const stem = words.replace(/^_+|_+$/g, "").slice(0, 48).replace(/_+$/, "");
    if (!stem) return null;
    const seed = source && source.body && source.body.seed;
    return `${stem}${Number.isInteger(seed) ? `_seed${seed}` : ""}.${ext}`;
  }

  function saveBlob(blob, name) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  /** POST for `format`; an answer of 202 is a job, polled and then fetched. */
  async function fetchFormat(format) {
    const what = `${format.toUpperCase()} file`;
    // A chosen frame rate is asked of the server again: a job's stored files are as made.
    const fps = $("download-fps").value;
    const stored = source.files && (source.files.files || {})[format];
    if (stored && !fps) return api(stored.replace(/^\//, ""));
    let res;
    if (source.kind === "generate" || source.kind === "control") {
      const body = Object.assign({}, source.body, { format });
      if (fps) body.fps = Number(fps);
      res = await api(source.kind === "generate" ? "generate" : source.path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } else {
      const form = new FormData();
      form.append("audio", source.file, source.file.name);
      if (source.seconds !== null) form.append("seconds", String(source.seconds));
      form.append("music_offset", String(source.offset));
      if (source.seed !== null && source.seed !== undefined) form.append("seed", String(source.seed));
      if (source.model) form.append("model", source.model);
      if (source.text) form.append("text", source.text);
      if (source.beatSync === false) form.append("beat_sync", "false");
      form.append("format", format);
      if (fps) form.append("fps", fps);
      res = await api("dance", { method: "POST", body: form });
    }
    if (res.status !== 202) return res;
    const pending = await res.json();
    remember(pending, `rendering the ${what}`, { format, name: namedFile(format === "motion" ? "motion" : format) });
    const job = await waitForJob(pending, `rendering the ${what}`);
    return api(jobFileUrl(job, format));
  }

  async function download(format) {
    if (!source || busy) return;
    const ext = format === "motion" ? "motion" : format;
    if (source.kind === "file") {
      saveBlob(new Blob([source.text], { type: "application/json" }), source.name);
      return;
    }
    setBusy(true);
    say(`preparing the ${ext} file…`);
    try {
      const res = await fetchFormat(format);
      const name = namedFile(ext) || filenameOf(res, `motion.${ext}`);
      saveBlob(await res.blob(), name);
      const rate = $("download-fps").value;
      say(`downloaded ${name}${rate ? ` at ${rate} fps` : ""}`, "ok");
    } catch (e) {
      say(e instanceof ApiError ? e.message : `download failed: ${e.message}`, "error");
    } finally {
      forget();
      jobProgress(null);
      setBusy(false);
    }
  }

  // ---- local files --------------------------------------------------------------------------
  async function openFile() {
    const file = $("open-file").files[0];
    if (!file) return;
    try {
      const text = await file.text();
      const motion = window.MotionFiles.parseMotionFile(text, file.name);
      show(motion, { kind: "file", name: file.name, text }, motion.title);
      say(`opened ${file.name}: ${motion.numFrames} frames at ${motion.fps} fps`, "ok");
    } catch (e) {
      say(e.message, "error");
    } finally {
      $("open-file").value = ""; // choosing the same file again must load it again
    }
  }

  // ---- wiring -------------------------------------------------------------------------------
  $("generate-form").addEventListener("submit", generate);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) generate(e);
  });
  $("music").addEventListener("change", () => setBusy(busy));
  $("dance").addEventListener("click", dance);
  $("open-file").addEventListener("change", openFile);
  $("download-bvh").addEventListener("click", () => download("bvh"));
  $("download-motion").addEventListener("click", () => download("motion"));
  $("download-mp4").addEventListener("click", () => download("mp4"));
  $("play").addEventListener("click", () => viewer.toggle());
  $("scrub").addEventListener("input", () => viewer.setFrame(Number($("scrub").value)));
  $("speed").addEventListener("change", () => {
    viewer.speed = Number($("speed").value);
    syncAudio(true);
  });
  $("play-loop").addEventListener("change", () => { viewer.loop = $("play-loop").checked; });
  $("follow").addEventListener("change", () => viewer.setFollow($("follow").checked));
  document.addEventListener("keydown", (e) => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select", "button"].includes(tag)) return;
    if (e.key === " ") {
      e.preventDefault();
      viewer.toggle();
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      viewer.pause();
      viewer.setFrame(viewer.frame + (e.key === "ArrowRight" ? 1 : -1));
    }
  });

  // Theme: the system's preference unless the user picked one here.
  const saved = localStorage.getItem("motiongen-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  $("theme").addEventListener("click", () => {
    const dark = getComputedStyle(document.documentElement).getPropertyValue("--scheme").trim() !== "light";
    const next = dark ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("motiongen-theme", next);
    viewer.readTheme();
  });
  window.matchMedia("(prefers-color-scheme: light)").addEventListener("change", () => viewer.readTheme());
  viewer.readTheme();

  updateDownloads();
  loadModels();
  loadHealth();
  resumePending();
  setInterval(loadHealth, 15000);

  // for control.js, tests and the console
  window.motiongenPage = {
    viewer, api, ApiError, say, show, setBusy, waitForJob, jobFileUrl, jobProgress, pageWords,
    isBusy: () => busy,
    source: () => source,
  };
})();
