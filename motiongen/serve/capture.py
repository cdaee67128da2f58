"""POST /capture: 2-D keypoints (and IMU accelerations) to a clean 3-D motion.

The files arrive as multipart uploads (``keypoints``: .json or .csv; ``imu``: .csv), are read
by the library's readers in a temporary folder of the store and deleted when the answer is
made. Capture is quick (about a second for 10 s of keypoints on this machine), so up to
``MAX_REST_SECONDS`` of keypoints answer at once, off the event loop. Longer recordings (up to
``MAX_JOB_SECONDS``), or any with ``async=true``, run as a job (202, poll GET /jobs/{id}):
the uploads move under the job's folder, the job runner captures them, and a server restart
re-runs a job it did not finish.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from motiongen.serve.results import FILE_NAMES, MEDIA_TYPES, file_bytes, motion_payload
from motiongen.serve.schemas import ERROR_RESPONSES, JOB_ACCEPTED, MOTION_RESPONSE, MotionAnswer
from motiongen.serve.uploads import UploadRejected, check_form, safe_name

CHUNK = 1 << 20
MAX_REST_SECONDS = 120.0  # answered at once; longer ones run as a job
MAX_JOB_SECONDS = 3600.0  # one hour of keypoints per job
MAX_CAPTURES = 2  # captures one worker runs at once
_BUSY = threading.BoundedSemaphore(MAX_CAPTURES)
CaptureFormat = Literal["json", "bvh", "motion", "npy"]  # no mp4: render it with motiongen render
KEYPOINT_SUFFIXES = (".json", ".csv")


async def save_file(upload: UploadFile, folder: Path, limit: int, suffixes: tuple[str, ...],
                    what: str) -> Path:  # fmt: skip
    """The upload as ``folder/<safe name>``; a file without a suffix (e.g. sent from a pipe)
    is named by its first byte: JSON starts with { or [, anything else is read as CSV."""
    data = bytearray()
    while chunk := await upload.read(CHUNK):
        data += chunk
        if len(data) > limit:
            raise UploadRejected(413, f"the {what} upload is over {limit / 2**20:g} MB")
    if not data:
        raise UploadRejected(422, f"the {what} upload is empty (0 bytes)")
    suffix = Path(upload.filename or "").suffix.lower()
    if not suffix:
        suffix = ".json" if data.lstrip()[:1] in (b"{", b"[") else ".csv"
    if suffix not in suffixes:
        raise UploadRejected(
            415, f"the {what} upload must be a {' or '.join(suffixes)} file, got "
            f"{upload.filename or '(no name)'}"
        )  # fmt: skip
    target = folder / safe_name(upload.filename, suffix)
    target.write_bytes(bytes(data))
    return target


def keypoint_seconds(keypoints: Path, fps: float | None, width: float | None,
                     height: float | None) -> float:  # fmt: skip
    """How long a keypoint file lasts (it is read, so a bad file fails here, before a job)."""
    from motiongen.capture.keypoints import read_keypoints

    points = read_keypoints(keypoints, fps=fps, width=width, height=height)
    seconds = (points.num_frames - 1) / points.fps
    if seconds > MAX_JOB_SECONDS:
        raise UploadRejected(422, f"{seconds:.0f} s of keypoints; the service captures at most "
                                  f"{MAX_JOB_SECONDS:g} s per job (use motiongen capture for "
                                  "longer videos)")  # fmt: skip
    return seconds


def run_capture(keypoints: Path, imu: Path | None, fps: float | None, width: float | None,
                height: float | None) -> Any:  # fmt: skip
    from motiongen.capture.imu import read_imu
    from motiongen.capture.keypoints import read_keypoints
    from motiongen.capture.lifter import FPS
    from motiongen.capture.pipeline import capture, resample

    points = read_keypoints(keypoints, fps=fps, width=width, height=height)
    sensors = None
    if imu is not None:
        sensors = read_imu(imu, FPS, len(resample(points)[0]))
    return capture(points, imu=sensors)


def add_capture_routes(app: FastAPI, server: Any) -> None:
    @app.post("/capture", tags=["capture"], response_model=MotionAnswer,
              responses={**MOTION_RESPONSE, **JOB_ACCEPTED, **ERROR_RESPONSES})  # fmt: skip
    async def capture_route(
        http: Request,
        keypoints: Annotated[
            UploadFile, File(description="COCO-17 / MediaPipe-33 keypoints, .json or .csv")
        ],
        imu: Annotated[
            UploadFile | None,
            File(
                description="Optional IMU CSV: time, joint, ax, ay, az (level frame, no "
                "gravity), or raw readings with gx, gy, gz added (docs/capture.md)"
            ),
        ] = None,
        fps: Annotated[float | None, Form(ge=1, le=1000)] = None,
        width: Annotated[float | None, Form(gt=0, le=100_000)] = None,
        height: Annotated[float | None, Form(gt=0, le=100_000)] = None,
        format: Annotated[CaptureFormat, Form()] = "json",
        async_: Annotated[bool, Form(alias="async")] = False,
    ) -> Response:
        """Lift 2-D keypoints (any pose estimator's, in pixels) to a clean 3-D motion; up to
        two minutes answer at once, longer recordings (or async=true) run as a job (202)."""
        await check_form(http, capture_route, "/capture")
        folder = server.store.uploads_dir / uuid.uuid4().hex
        folder.mkdir(parents=True)
        limit = server.settings.max_upload_bytes
        queued = False
        try:
            kp = await save_file(keypoints, folder, limit, KEYPOINT_SUFFIXES, "keypoints")
            sensors = None
            if imu is not None:
                (folder / "imu").mkdir()
                sensors = await save_file(imu, folder / "imu", limit, (".csv",), "imu")
            seconds = await run_in_threadpool(keypoint_seconds, kp, fps, width, height)
            if async_ or seconds > MAX_REST_SECONDS:
                params = {
                    "format": format, "fps": fps, "width": width, "height": height,
                    "keypoints": kp.name, "imu": None if sensors is None else sensors.name,
                    "seconds": round(seconds, 2),
                }  # fmt: skip
                if not async_:
                    params["routed"] = "long"
                client = http.client.host if http.client is not None else ""
                answer = await run_in_threadpool(server.submit_job, "capture", params, kp, client)
                queued = True
                return answer
            if not _BUSY.acquire(blocking=False):
                raise UploadRejected(503, "this server is busy with other captures; retry soon")
            try:
                motion = await run_in_threadpool(run_capture, kp, sensors, fps, width, height)
            finally:
                _BUSY.release()
        finally:
            if not queued:
                shutil.rmtree(folder, ignore_errors=True)
        if format == "json":
            return JSONResponse(await run_in_threadpool(motion_payload, motion))
        body = await run_in_threadpool(file_bytes, motion, format)
        return Response(body, media_type=MEDIA_TYPES[format],
                        headers={"Content-Disposition": f"attachment; filename={FILE_NAMES[format]}"})  # fmt: skip
