"""The job thread: claims queued jobs from SQLite, runs them through the model queue (so
jobs batch like any request), writes their files and marks them done or failed."""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from motiongen.errors import Cancelled, MotionGenError
from motiongen.io.numpy_io import npy_rate_problem
from motiongen.motion import AudioRef, Motion
from motiongen.serve.batcher import ModelQueue, Ticket
from motiongen.serve.jobs import Job, JobStore
from motiongen.serve.models import ModelRegistry
from motiongen.serve.results import JOB_FORMATS, NPY_FPS, write_file

logger = logging.getLogger(__name__)


def checked_request(models: ModelRegistry, params: dict[str, Any], root: Path) -> Any:
    """The pipeline's checked request for a stored job's parameters."""
    if params.get("task"):
        from motiongen.serve.control import checked_control

        return checked_control(models.get(params["model"]), params, root)
    music = params.get("music")
    request = models.get(params["model"]).check_request(
        params.get("text"),
        None if music is None else root / music,
        seconds=params["seconds"],
        steps=params.get("steps"),
        sampler=params.get("sampler"),
        guidance=params.get("guidance"),
        seed=params["seed"],
        music_offset=params.get("music_offset", 0.0),
        rag=params.get("rag"),  # None: the model's default
        literal=bool(params.get("literal", False)),
        beat_sync=params.get("beat_sync"),  # None: on for music
    )
    if params.get("length_from"):  # a length the model chose once, stored with the job
        request.meta["length_from"] = params["length_from"]
    return request


def missing_inputs(root: Path, job: Job) -> str | None:
    """Why a stored job cannot run any more (its uploaded audio is gone), or None."""
    for path in job.request.get("motions", []):
        if not (root / path).is_file():
            return (
                f"a motion given to this {job.kind} job is no longer in the server's store "
                f"({root / path}); send the request again"
            )
    for key in ("keypoints", "imu"):
        path = job.request.get(key) if job.kind == "capture" else None
        if path and not (root / path).is_file():
            return (
                f"the {key} file of this capture job is no longer in the server's store "
                f"({root / path}); send the capture again"
            )
    music = job.request.get("music")
    if music is not None and not (root / music).is_file():
        name = job.request.get("music_name", Path(music).name)
        return (
            f"the uploaded audio {name} of this job is no longer in the server's store "
            f"({root / music}); upload it again with POST /dance"
        )
    return None


def as_asked(motion: Motion, params: dict[str, Any], fps: float | None = None) -> Motion:
    """The motion at the frame rate the request asked for (``output_fps``, or ``fps``), as its
    loop and without its travel when asked (``Motion.exported``)."""
    rate = fps if fps is not None else params.get("output_fps")
    return motion.exported(
        None if rate is None else float(rate),
        bool(params.get("loop", False)),
        bool(params.get("no_travel", False)),
    )


def for_download(motion: Motion, params: dict[str, Any], fps: float | None = None) -> Motion:
    """The motion as a user gets it: as asked (``as_asked``), the music named by its upload
    name, not a server path."""
    return _upload_named(as_asked(motion, params, fps), params)


def _upload_named(motion: Motion, params: dict[str, Any]) -> Motion:
    """``motion`` with its music named by the upload's name, not a server path."""
    name = params.get("music_name")
    if motion.audio is None or name is None:
        return motion
    meta = {**motion.meta, "music": name}
    return motion.copy(audio=AudioRef(name, motion.audio.offset), meta=meta)


class JobRunner:
    def __init__(
        self,
        store: JobStore,
        queue: ModelQueue,
        models: ModelRegistry,
        *,
        instance: str,
        batch: int,
        poll: float,
    ) -> None:
        self.store = store
        self.queue = queue
        self.models = models
        self.instance = instance
        self.batch = batch
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="motiongen-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                jobs = self.store.claim(self.instance, self.batch)
            except Exception:  # a locked or broken database: log, wait, try again
                logger.exception("claiming jobs failed")
                jobs = []
            if not jobs:
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self._run(jobs)

    def _run(self, jobs: list[Job]) -> None:
        pending = []
        for job in jobs:
            try:
                reason = missing_inputs(self.store.root, job)
                if reason is not None:
                    self.store.fail(job.id, reason)
                    continue
                if job.kind == "capture":  # no generator: the lifter runs here
                    self._write(job, self._capture(job.request))
                    continue
                request = checked_request(self.models, job.request, self.store.root)
                ticket = self.queue.submit(job.request["model"], request, force=True)
                pending.append((job, ticket))
            except Exception as exc:
                self._fail(job, exc)
        for job, ticket in pending:
            try:
                motion = self._result(job, ticket)
                if motion is not None:
                    self._write(job, motion)
            except CancelledError:
                # The server is stopping: the job stays 'running' and the next start
                # re-queues it (JobStore.recover).
                return
            except Exception as exc:
                self._fail(job, exc)

    def _result(self, job: Job, ticket: Ticket) -> Motion | None:
        """The job's motion, or None once a client has cancelled the job (DELETE /jobs/{id}):
        its request is abandoned, so the model stops it at its next network pass (it ran to
        the end of its batch before, a 30 s dance for minutes after the answer said
        cancelled)."""
        while True:
            try:
                return ticket.future.result(timeout=self.poll)
            except FutureTimeout:
                if self._cancelled(job):
                    ticket.abandon()
                    return None

    def _cancelled(self, job: Job) -> bool:
        """Whether a client has cancelled ``job`` (DELETE /jobs/{id})."""
        current = self.store.get(job.id)
        return current is not None and current.status == "cancelled"

    def _capture(self, params: dict[str, Any]) -> Motion:
        from motiongen.serve.capture import run_capture

        root = self.store.root
        imu = params.get("imu")
        return run_capture(
            root / params["keypoints"], None if not imu else root / imu,
            params.get("fps"), params.get("width"), params.get("height"),
        )  # fmt: skip

    def _write(self, job: Job, motion: Motion) -> None:
        folder = self.store.result_dir(job.id)
        params = job.request
        files: dict[str, str] = {}
        asked = as_asked(motion, params)  # once: a loop's search is not repeated per file
        if params["format"] == "mp4":
            # The real audio path, so the song is muxed into the video.
            title = params.get("text") or params.get("music_name")
            # drawn at most io.render.VIDEO_MAX_FPS times a second; the files keep the rest
            try:
                files["mp4"] = write_file(asked, "mp4", folder, title=title,
                                          cancel=lambda: self._cancelled(job)).name  # fmt: skip
            except Cancelled:  # its render stopped: the job answered "cancelled" already
                shutil.rmtree(folder, ignore_errors=True)
                return
        user_motion = _upload_named(asked, params)
        for fmt in JOB_FORMATS:
            # a .npy holds 20 fps: a loop asked at another rate is found again at 20 there
            # (resampled, a 30 fps loop's ends were 2.6 cm apart)
            npy_loop = fmt == "npy" and params.get("loop") and npy_rate_problem(user_motion.fps)
            shaped = for_download(motion, params, NPY_FPS) if npy_loop else user_motion
            skeleton = params.get("bvh_skeleton") or "own"
            files[fmt] = write_file(shaped, fmt, folder, skeleton=skeleton).name
        if not self.store.finish(job.id, files):  # cancelled while it ran: nothing kept
            shutil.rmtree(folder, ignore_errors=True)

    def _fail(self, job: Job, exc: Exception) -> None:
        if isinstance(exc, MotionGenError):
            message = str(exc)
        else:
            logger.exception("job %s failed", job.id, exc_info=exc)
            message = (
                f"internal error while running the job ({type(exc).__name__}: {exc}); "
                "the server log has the details"
            )
        shutil.rmtree(self.store.result_dir(job.id), ignore_errors=True)
        self.store.fail(job.id, message)
