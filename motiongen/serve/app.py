"""The FastAPI app: routes, validation, error bodies. Model work runs on the model thread
(``batcher``), jobs on the job thread (``runner``); handlers only check, queue and await."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import motiongen
from motiongen.conditioning.text import MAX_PROMPT_CHARS, validate_prompt
from motiongen.errors import DataNotFoundError, MotionGenError
from motiongen.generation.request import MAX_SECONDS as LIBRARY_MAX_SECONDS
from motiongen.generation.request import dance_seconds, is_number
from motiongen.plausibility import MAX_FPS, MIN_FPS
from motiongen.serve.batcher import ClientBusyError, ModelQueue, QueueFullError
from motiongen.serve.capture import add_capture_routes
from motiongen.serve.control import add_control_routes, as_timeline
from motiongen.serve.control_schemas import MAX_INPUT_FRAMES
from motiongen.serve.fetch import fetch_audio
from motiongen.serve.jobs import Job, JobStore
from motiongen.serve.models import ModelRegistry, shipped_model_names
from motiongen.serve.results import FILE_NAMES, MEDIA_TYPES, file_bytes, motion_payload
from motiongen.serve.runner import JobRunner, checked_request, for_download, missing_inputs
from motiongen.serve.schemas import (
    ERROR_RESPONSES,
    JOB_ACCEPTED,
    MAX_GUIDANCE,
    MAX_MUSIC_OFFSET,
    MAX_SECONDS,
    MAX_SEED,
    MAX_STEPS,
    MIN_SECONDS,
    MOTION_RESPONSE,
    Format,
    GenerateRequest,
    Health,
    JobInfo,
    ModelList,
    MotionAnswer,
    Sampler,
    errors,
    npy_fps_problem,
    output_fps_param,
)
from motiongen.serve.settings import ServeSettings
from motiongen.serve.uploads import (
    BodyLimit,
    UploadGuard,
    UploadRejected,
    check_form,
    save_upload,
)

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
DISCONNECT_POLL = 0.1  # s between checks that a waiting client is still connected


class ApiError(Exception):
    """An answer other than 2xx, with the message the user sees."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


class Server:
    """Everything one worker process holds: models, the model queue, the job store and thread."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.models = ModelRegistry(
            settings.model, index=settings.index, reranker=settings.reranker
        )
        self.queue = ModelQueue(
            self.models,
            capacity=settings.queue_size,
            max_batch=settings.max_batch,
            batch_wait=settings.batch_wait,
            client_share=settings.client_share or None,
        )
        self.store = JobStore(settings.store)
        self.runner = JobRunner(
            self.store,
            self.queue,
            self.models,
            instance=settings.instance,
            batch=settings.max_batch,
            poll=settings.job_poll,
        )
        self.started = time.time()
        self.abandoned = 0  # synchronous requests whose client left before the answer
        self.recovered: dict[str, list[str]] = {"requeued": [], "failed": []}
        self._lock = threading.Lock()
        self._users = 0

    def start(self) -> None:
        # Counted: test clients may run one app's lifespan more than once at a time, and
        # only the last to leave may stop the threads.
        with self._lock:
            self._users += 1
            if self._users > 1:
                return
            self._start()

    def stop(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self.runner.stop()
                self.queue.stop()

    def _start(self) -> None:
        self.models.load_all()
        self.store.sweep_uploads()
        requeued, failed = self.store.recover(
            self.settings.instance,
            max_attempts=self.settings.max_attempts,
            inputs_missing=lambda job: missing_inputs(self.store.root, job),
        )
        self.recovered = {"requeued": requeued, "failed": failed}
        if requeued or failed:
            logger.warning(
                "jobs left by a stopped server: %d re-queued, %d failed (inputs gone)",
                len(requeued),
                len(failed),
            )
        self.queue.start()
        self.runner.start()


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")


def job_info(job: Job) -> dict[str, Any]:
    base = f"/jobs/{job.id}"
    done = job.status == "done"
    return {
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "error": job.error,
        "created": _iso(job.created),
        "started": _iso(job.started),
        "finished": _iso(job.finished),
        "attempts": job.attempts,
        "request": {k: v for k, v in job.request.items() if k not in ("music", "motions")},
        "result_url": f"{base}/result" if done else None,
        "files": {fmt: f"{base}/result?format={fmt}" for fmt in job.files} if done else {},
    }


def _meta_headers(meta: dict[str, Any]) -> dict[str, str]:
    """What a JSON answer says in its body and a file cannot hold (bvh, npy ...): the seed
    the motion was made with and any warning, as X-Motiongen-* headers (ASCII: headers are
    Latin-1, warnings quote the prompt)."""
    headers = {}
    if meta.get("seed") is not None:
        headers["X-Motiongen-Seed"] = str(meta["seed"])
    if meta.get("warning"):
        text = str(meta["warning"]).encode("ascii", "replace").decode("ascii")
        lines = (" ".join(line.split()) for line in text.splitlines())  # one a line
        headers["X-Motiongen-Warning"] = "; ".join(line for line in lines if line)[:2000]
    return headers


def _not_finite(value: Any) -> bool:
    """A float, or a form field's text of one ("NaN", "inf"), that is not finite."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return False
    return isinstance(value, float) and not math.isfinite(value)


MAX_PROBLEMS = 6  # a validation answer names at most this many problems

_TYPE_TAG = re.compile(r"^(constrained-|list\[|dict\[|function-|int$|float$|str$|bool$)")


_BOUNDS = {
    "less_than_equal": "must be at most",
    "greater_than_equal": "must be at least",
    "less_than": "must be under",
    "greater_than": "must be over",
}


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """(status, message) for FastAPI's validation errors: 400 when the body itself cannot be
    read, 422 when a field is wrong."""
    parts = []
    status = 422
    fields_said: set[str] = set()
    for e in errors:
        # Union members add their type to the location ("guidance.constrained-float"): a
        # user named the field, so the field is said once, by its first member's complaint.
        # Indices into arrays said as [i]: a 2-D joint in every frame is one mistake, not
        # 1,760 lines (a 145 KB answer).
        kept = [x for x in e.get("loc", ())
                if x not in ("body", "query", "path", "form") and not _TYPE_TAG.search(str(x))]  # fmt: skip
        loc = [("[i]" if isinstance(x, int) else str(x)) for x in kept]
        # ...with the first one's indices said (a literal [i] named no segment or frame: a
        # new user's trial)
        first = ".".join(f"[{x}]" if isinstance(x, int) else str(x) for x in kept)
        first = f" (first at {first.replace('.[', '[')})" if "[i]" in loc else ""
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        kind = e.get("type", "")
        given = e.get("input")
        if loc and _not_finite(given):
            msg = f"must be a finite number, got {given}"  # NaN failed a bound it cannot compare
        elif kind in _BOUNDS and "ctx" in e:  # "Input should be less than or equal to 30" read
            bound = next(iter(e["ctx"].values()))  # as the validator's words (a page's trial)
            msg = f"{_BOUNDS[kind]} {bound:g}, got {given:g}" if is_number(given) else msg
        if loc and kind != "extra_forbidden":
            if ".".join(loc) in fields_said:
                continue
            fields_said.add(".".join(loc))
        if not loc and kind == "value_error":  # fields that do not fit together
            parts.append(msg)
        elif kind == "json_invalid" or (not loc and kind != "missing"):
            status = 400
            parts.append(f"the request body is not a JSON object ({msg})")
        elif not loc:
            status = 400
            parts.append(
                'the request body is missing; send JSON such as {"text": "a person waves"}'
            )
        elif loc in (["text"], ["text_prompt"]) and kind == "string_too_short":
            parts.append(
                f"{loc[0]}: the prompt is empty; describe the motion in words, e.g. 'a person "
                "walks forward'"
            )
        elif loc in (["text"], ["text_prompt"]) and kind == "string_pattern_mismatch":
            parts.append(
                f"{loc[0]}: the prompt has no letters; describe the motion in words, e.g. "
                "'a person walks forward'"
            )
        elif kind == "extra_forbidden":
            parts.append(f"unknown field '{'.'.join(loc)}' (see GET /openapi.json for the fields)")
        elif loc and loc[-1] == "positions" and kind == "too_long":
            # a /generate answer at a high frame rate did not fit a control input (a trial)
            parts.append(
                f"{'.'.join(loc)}: at most {MAX_INPUT_FRAMES} frames; send the last seconds of "
                "a long motion, or the motion at a lower frame rate (fps)"
            )
        elif loc and loc[-1] == "joints" and kind == "list_type":
            parts.append(
                f'{".".join(loc)}: a list of joint names or body parts, e.g. ["arms"] or '
                '["right_shoulder", "right_elbow", "right_wrist"]'
            )
        else:
            parts.append(f"{'.'.join(loc)}{first}: {msg}")
    parts = [p.replace(".[i]", "[i]") for p in dict.fromkeys(parts)]
    if any(p.endswith("positions: Field required") for p in parts):
        parts.append(
            'a motion is {"fps": 20, "positions": [frames][22][3]}: a /generate JSON answer fits '
            "as it is (a .motion file's frames are under another key)"
        )
    elif any("positions[i]" in p for p in parts):
        parts.append("positions are [frames][22][3] numbers: metres, Y up")
    if len(parts) > MAX_PROBLEMS:
        parts = [*parts[:MAX_PROBLEMS], f"and {len(parts) - MAX_PROBLEMS} more problems"]
    return status, "; ".join(parts)


def create_app(settings: ServeSettings) -> FastAPI:
    if settings.threads:
        import torch

        torch.set_num_threads(settings.threads)
    server = Server(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await run_in_threadpool(server.start)
        try:
            yield
        finally:
            await run_in_threadpool(server.stop)

    app = FastAPI(
        title="motiongen",
        version=motiongen.__version__,
        description="Generate 3-D human motion from text or music. Errors are JSON "
        '{"error": "...", "status": N}.',
        docs_url=None,  # swagger UI would load from a CDN; /docs is a page of our own
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.server = server
    app.add_middleware(UploadGuard, paths=("/dance", "/capture"), limit=settings.max_upload_bytes)
    app.add_middleware(BodyLimit, skip=("/dance", "/capture"), limit=settings.max_json_bytes)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],  # DELETE /jobs/ID cancels
            allow_headers=["Content-Type"],
            expose_headers=[
                "Retry-After",
                "Content-Disposition",
                "X-Motiongen-Seed",
                "X-Motiongen-Warning",
            ],  # fmt: skip
        )

    # ---- errors -----------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, str(exc), exc.headers)

    @app.exception_handler(UploadRejected)
    async def _upload_error(request: Request, exc: UploadRejected) -> Response:
        return error_response(exc.status, str(exc))

    @app.exception_handler(QueueFullError)
    async def _busy(request: Request, exc: QueueFullError) -> Response:
        return error_response(503, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(ClientBusyError)
    async def _client_busy(request: Request, exc: ClientBusyError) -> Response:
        return error_response(429, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(MotionGenError)
    async def _library_error(request: Request, exc: MotionGenError) -> Response:
        return error_response(404 if isinstance(exc, DataNotFoundError) else 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        status, message = _validation_message(list(exc.errors()))
        ctype = request.headers.get("content-type", "")
        # curl -d sends a JSON body as a form: its message named the dictionary pydantic
        # wanted, not the header (a REST trial); the form endpoints' fields fail as fields
        if status == 400 and "json" not in ctype:
            message = (
                "send the request body as JSON with the header Content-Type: application/json "
                f"(it came as {ctype or 'no content type'})"
            )
        return error_response(status, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if too_large := request.scope.get("motiongen.too_large"):
            return error_response(413, too_large)
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path} (see GET /docs)"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (see GET /docs)"
            if request.method == "OPTIONS" and "origin" in request.headers:
                # a browser's preflight: the server takes no cross-origin calls unless told
                message = (
                    f"cross-origin requests are off (a preflight from "
                    f"{request.headers['origin']}); start the server with --cors-origin "
                    "ORIGIN for the page's origin"
                )
            # every route of the path, not only the first that matched (GET and DELETE
            # /jobs/{id} are two routes)
            allowed = sorted({m for r in app.routes if getattr(r, "path_regex", None)
                              and r.path_regex.match(request.url.path)
                              for m in (getattr(r, "methods", None) or ())})  # fmt: skip
            if allowed:
                headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        elif exc.status_code == 400:
            message = f"the request body cannot be read ({exc.detail})"
        return error_response(exc.status_code, message, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            500, f"internal error ({type(exc).__name__}); the server log has the details"
        )

    # ---- shared steps -----------------------------------------------------------------
    def prepare(params: dict[str, Any], use_rag: bool) -> tuple[dict[str, Any], Any]:
        """Resolve defaults, draw the seed, run the library's checks: (stored params,
        checked request). A seed is drawn here so a re-run job makes the same motion."""
        if use_rag:
            params["rag"] = True
            if params.get("model") is None:
                params["model"] = server.models.rag_default()
        params["model"] = server.models.resolve(params.get("model"))
        if params.get("seed") is None:
            params["seed"] = secrets.randbits(31)
        try:
            request = checked_request(server.models, params, server.store.root)
        except DataNotFoundError as exc:
            if not use_rag:
                raise
            raise ApiError(503, f"use_rag: this server has no motion index ({exc})") from None
        if request.seconds > MAX_SECONDS + 1e-9:  # a length said in the prompt's words
            # or a given motion's (a 40 s motion restyled had been told "the prompt asks")
            given = params.get("task") in ("predict", "inbetween", "edit", "restyle")
            asked = "the result would last" if given else "the prompt asks"
            raise ApiError(
                422,
                f"{asked} {request.seconds:g} s; this service makes at most "
                f"{MAX_SECONDS:g} s a motion (the library and CLI up to {LIBRARY_MAX_SECONDS:g})",
            )
        if params.get("rag") is None:  # the model's choice, stored: a re-run job is the same
            params["rag"] = getattr(request, "prior", None) is not None
        # the length the model chose, likewise; not a timeline's: its segments carry their
        # own, and a stored total was refused beside them or split anew differently (a job
        # of the web page's composed timeline failed; a new user's REST trial)
        if params.get("seconds") is None and params.get("task") != "compose":
            params["seconds"] = request.seconds
            params["length_from"] = request.meta.get("length_from")
        cost = server.models.get(params["model"]).request_cost(request)
        if cost > settings.job_budget:
            raise ApiError(
                422,
                f"this request costs {cost:,} frame-evaluations (frames x sampler steps x "
                f"guidance passes), more than this server's budget of {settings.job_budget:,}; ask for "
                "fewer steps or seconds",
            )
        if cost > settings.sync_budget:
            params["async"] = True  # heavy: run it as a job, never on a waiting connection
            params["routed"] = "heavy"
        return params, request

    async def answer(
        params: dict[str, Any],
        request: Any,
        *,
        kind: str,
        upload: Path | None,
        http: Request,
    ):
        """Run now (200) or as a job (202). A one-off upload is deleted once the model is
        done with it, even when the caller has gone away meanwhile."""
        fmt = params["format"]
        as_job = bool(params.pop("async", False))
        client = http.client.host if http.client is not None else ""
        if fmt == "mp4" or as_job:
            return await run_in_threadpool(submit_job, kind, params, upload, client)
        try:
            ticket = server.queue.submit(params["model"], request, client=client)
        except (QueueFullError, ClientBusyError):
            if upload is not None:
                shutil.rmtree(upload.parent, ignore_errors=True)
            raise
        if upload is not None:
            folder = upload.parent
            ticket.future.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))
        motion = await wait_for_model(ticket, http)
        # off the event loop: a loop search over a long motion takes a second or two
        motion = await run_in_threadpool(for_download, motion, params)
        if fmt == "json":
            payload = await run_in_threadpool(motion_payload, motion)
            return JSONResponse(payload)
        skeleton = params.get("bvh_skeleton") or "own"
        body = await run_in_threadpool(file_bytes, motion, fmt, skeleton)
        return Response(
            body,
            media_type=MEDIA_TYPES[fmt],
            headers={
                "Content-Disposition": f"attachment; filename={FILE_NAMES[fmt]}",
                **_meta_headers(motion.meta),
            },
        )

    async def answer_with_song(
        path: Path, kind: str, http: Request, build: Callable[[float], dict[str, Any]]
    ) -> Response:
        """A request with a song (uploaded or fetched to ``path``): the song checked, the
        params built from its length, prepared and answered; the song is deleted unless a
        job or the model took it."""
        queued = False
        try:
            length = await run_in_threadpool(_checked_audio_length, path)
            params = build(length)
            params["music"] = path.relative_to(server.store.root).as_posix()
            params["music_name"] = path.name
            params, request = await run_in_threadpool(prepare, params, False)
            queued = True
            return await answer(params, request, kind=kind, upload=path, http=http)
        finally:
            if not queued:
                shutil.rmtree(path.parent, ignore_errors=True)

    async def wait_for_model(ticket: Any, http: Request) -> Any:
        """The ticket's motion. The request is abandoned (skipped, or its batch stopped
        between network evaluations) as soon as the client disconnects or the deadline passes,
        so work nobody waits for stops costing model time."""
        limit = server.settings.request_timeout
        waiting = asyncio.ensure_future(asyncio.wrap_future(ticket.future))
        deadline = time.monotonic() + limit
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=DISCONNECT_POLL)
                if done:
                    return waiting.result()
                if await http.is_disconnected():
                    server.abandoned += 1
                    raise ApiError(499, "the client closed the connection; the work was stopped")
                if time.monotonic() > deadline:
                    raise ApiError(
                        504,
                        f"the motion was not ready within {limit:g} s (the server is busy or "
                        'the motion is long); send the request with "async": true and poll '
                        "GET /jobs/{id}",
                    )
        finally:
            if not waiting.done():
                ticket.abandon()
                waiting.cancel()

    def submit_job(
        kind: str, params: dict[str, Any], upload: Path | None, client: str = ""
    ) -> Response:
        job_id = secrets.token_hex(16)
        if upload is not None:
            # Inputs (the song, or the motions of a control task: one upload folder) move
            # under the job's own folder before its row exists, so a queued job always finds
            # them.
            inputs = server.store.input_dir(job_id)
            inputs.mkdir(parents=True)
            moved = {}
            for item in sorted(upload.parent.iterdir()):
                shutil.move(item, inputs / item.name)
                moved[item.name] = (inputs / item.name).relative_to(server.store.root).as_posix()
            shutil.rmtree(upload.parent, ignore_errors=True)
            if "motions" in params:
                params["motions"] = [moved[Path(p).name] for p in params["motions"]]
            elif kind == "capture":  # keypoints, and an imu/ folder beside them
                params["keypoints"] = moved[upload.name]
                if params.get("imu"):
                    params["imu"] = f"{moved['imu']}/{params['imu']}"
            else:
                params["music"] = moved[upload.name]
        share = server.queue.client_share
        job = server.store.create(
            kind,
            params,
            job_id=job_id,
            limit=settings.queue_size,
            client=client,
            client_limit=share,
        )
        if job is None or job == "client":
            shutil.rmtree(server.store.input_dir(job_id), ignore_errors=True)
            if job == "client":
                raise ClientBusyError(share, server.queue.retry_after(), jobs=True)
            raise QueueFullError(settings.queue_size, server.queue.retry_after())
        server.runner.notify()
        url = f"/jobs/{job.id}"
        note = None
        if params.get("routed") == "heavy":
            note = (
                "a long or many-step request runs as a job rather than on a waiting connection; "
                "poll the url"
            )
        elif params.get("routed") == "long":
            note = "a capture over two minutes runs as a job; poll the url"
        return JSONResponse(
            {"job_id": job.id, "status": job.status, "url": url, "note": note},
            status_code=202,
            headers={"Location": url},
        )

    # ---- endpoints --------------------------------------------------------------------
    @app.get("/health", response_model=Health, tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness, queue fill and batching statistics of the worker that answers."""
        return {
            "status": "ok",
            "model": server.models.default,
            "queue": {"size": server.queue.size(), "capacity": settings.queue_size},
            "version": motiongen.__version__,
            "jobs": server.store.counts(),
            "stats": {
                **server.queue.stats(),
                "pid": os.getpid(),
                "uptime_s": round(time.time() - server.started, 1),
                "recovered": {k: len(v) for k, v in server.recovered.items()},
                "abandoned": server.abandoned,
                "budgets": {"sync": settings.sync_budget, "job": settings.job_budget},
            },
        }

    @app.get("/models", response_model=ModelList, tags=["service"])
    def models() -> dict[str, Any]:
        """The shipped models and their defaults."""
        return {"models": server.models.info(), "default": server.models.default}

    @app.post(
        "/generate",
        tags=["generate"],
        response_model=MotionAnswer,
        responses={
            **MOTION_RESPONSE,
            **JOB_ACCEPTED,
            **ERROR_RESPONSES,
        },
    )
    async def generate(body: GenerateRequest, http: Request) -> Response:
        """Text to motion. JSON answers at once; bvh/motion/npy as a file; mp4 (or
        async=true) as a job (202) to poll at GET /jobs/{id}."""
        params = body.canonical()
        if body.audio_url is None:
            if params["text"] is None:
                raise ApiError(
                    400,
                    "no condition: give text (or text_prompt), audio_url, or both; to dance "
                    "to a song of your own, upload it to POST /dance",
                )
            if composed := await run_in_threadpool(as_timeline, server.models, params):
                params, request = await run_in_threadpool(prepare, composed, False)
                return await answer(params, request, kind="compose", upload=None, http=http)
            params, request = await run_in_threadpool(prepare, params, body.use_rag)
            return await answer(params, request, kind="generate", upload=None, http=http)
        path = await run_in_threadpool(
            fetch_audio,
            body.audio_url,
            server.store.uploads_dir,
            allowed=tuple(settings.audio_hosts),
            limit=settings.max_upload_bytes,
            timeout=settings.fetch_timeout,
        )
        return await answer_with_song(path, "generate", http, lambda _length: params)

    @app.post(
        "/dance",
        tags=["generate"],
        response_model=MotionAnswer,
        responses={
            **MOTION_RESPONSE,
            **JOB_ACCEPTED,
            **ERROR_RESPONSES,
        },
    )
    async def dance(
        http: Request,
        audio: Annotated[UploadFile, File(description="WAV, MP3, OGG or FLAC, at most 20 MB")],
        seconds: Annotated[
            float | None,
            Form(ge=MIN_SECONDS, le=MAX_SECONDS, description="Default: the song, <= 20 s"),
        ] = None,
        music_offset: Annotated[float, Form(ge=0, le=MAX_MUSIC_OFFSET)] = 0.0,
        steps: Annotated[int | None, Form(ge=1, le=MAX_STEPS)] = None,
        sampler: Annotated[Sampler | None, Form()] = None,
        guidance: Annotated[float | None, Form(ge=0, le=MAX_GUIDANCE)] = None,
        text: Annotated[
            str | None,
            Form(
                min_length=1,
                max_length=MAX_PROMPT_CHARS,
                pattern="[A-Za-z]",
                description="A text as well as the music, e.g. 'a happy dance'.",
            ),
        ] = None,
        guidance_music: Annotated[
            float | None,
            Form(
                ge=0,
                le=MAX_GUIDANCE,
                description="With a text: the music's own guidance scale (guidance is the text's).",
            ),
        ] = None,
        seed: Annotated[int | None, Form(ge=0, le=MAX_SEED)] = None,
        model: Annotated[
            str | None,
            Form(json_schema_extra={"enum": [*shipped_model_names(), None]}),
        ] = None,
        fps: Annotated[
            float | None,
            Form(ge=MIN_FPS, le=MAX_FPS, description="Frame rate of the answer (default 20)."),
        ] = None,
        format: Annotated[Format, Form()] = "json",
        async_: Annotated[bool, Form(alias="async")] = False,
        beat_sync: Annotated[
            bool | None,
            Form(
                description="Retime the dance onto the song's beats where more of its accents land on "
                "beats (local tempo within 25 %); "
                "false keeps the network's own timing; default: on for dances up to 30 s."
            ),
        ] = None,
    ) -> Response:
        """Music to dance: upload a song (multipart/form-data field 'audio')."""
        await check_form(http, dance, "/dance")
        form = await http.form()
        if (flag := form.get("async")) is not None and str(flag).lower() not in ("true", "false"):
            raise ApiError(422, f"async must be true or false, got {flag!r}")
        path = await save_upload(audio, server.store.uploads_dir, settings.max_upload_bytes)

        def build(length: float) -> dict[str, Any]:
            if problem := npy_fps_problem(format, fps, async_):
                raise ApiError(422, problem)
            chosen = seconds
            if chosen is None:
                chosen = dance_seconds(
                    length, music_offset, audio.filename or path.name, "music_offset"
                )
            if guidance_music is not None:
                if text is None:
                    raise ApiError(
                        422,
                        "guidance_music is the music's scale beside a text's; give a text "
                        "too, or use guidance alone",
                    )
                if guidance is None:
                    raise ApiError(422, "guidance_music needs guidance (the text's scale) too")
            return output_fps_param({
                "text": None if text is None else validate_prompt(text),
                "seconds": chosen,
                "steps": steps,
                "sampler": sampler,
                "guidance": [guidance, guidance_music] if guidance_music is not None else guidance,
                "seed": seed,
                "model": model,
                "format": format,
                "async": async_,
                "music_offset": music_offset,
                "fps": fps,
                "beat_sync": beat_sync,
            })  # fmt: skip

        return await answer_with_song(path, "dance", http, build)

    @app.get("/jobs/{job_id}", response_model=JobInfo, tags=["jobs"], responses=errors(404))
    def get_job(job_id: str) -> dict[str, Any]:
        """A job's status, its request and, once done, the URLs of its files."""
        return job_info(_job(job_id))

    @app.get(
        "/jobs/{job_id}/result",
        tags=["jobs"],
        responses={
            200: {
                "description": "The file, in the format asked or the job's",
                "content": {t.split(";")[0]: {} for t in MEDIA_TYPES.values()},
            },
            **errors(404, 409, 422),
        },
    )
    def job_result(
        job_id: str,
        format: Annotated[Format | None, Query(description="Default: the job's format")] = None,
    ) -> Response:
        """A finished job's file (409 while it is queued or running)."""
        job = _job(job_id)
        if job.status == "failed":
            raise ApiError(409, f"job {job_id} failed: {job.error}")
        if job.status == "cancelled":
            raise ApiError(409, f"job {job_id} was cancelled; it has no result")
        if job.status != "done":
            raise ApiError(
                409, f"job {job_id} is {job.status}; poll GET /jobs/{job_id} until it is done"
            )
        fmt = format or job.request.get("format", "json")
        if fmt not in job.files:
            have = ", ".join(sorted(job.files))
            hint = " (ask for format mp4 when submitting)" if fmt == "mp4" else ""
            raise ApiError(404, f"job {job_id} has no {fmt} file; it has {have}{hint}")
        path = server.store.result_dir(job_id) / job.files[fmt]
        if not path.is_file():
            raise ApiError(
                404, f"the {fmt} file of job {job_id} is missing from the store ({path})"
            )
        return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=FILE_NAMES[fmt])

    # HEAD as GET without the body: download tools ask it first (405 before: a new user's
    # trial); out of the schema, whose checks read every answer's body
    app.add_api_route(
        "/jobs/{job_id}/result", job_result, methods=["HEAD"], include_in_schema=False
    )

    @app.delete("/jobs/{job_id}", response_model=JobInfo, tags=["jobs"], responses=errors(404, 409))
    def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (a running one's result is not kept); 409 for a job
        already done or failed; cancelling twice is the same as once."""
        job = server.store.cancel(job_id) or _job(job_id)  # unknown: _job's 404
        if job.status in ("done", "failed"):
            raise ApiError(409, f"job {job_id} is already {job.status}; nothing to cancel")
        return job_info(job)

    def _job(job_id: str) -> Job:
        job = server.store.get(job_id)
        if job is None:
            raise ApiError(
                404,
                f"no job {job_id!r}; job ids come from the POST endpoints' 202 answers (/generate, /dance, /predict, /compose ...)",
            )
        return job

    add_control_routes(app, server, prepare, answer)
    server.submit_job = submit_job  # the capture routes queue long captures the same way
    add_capture_routes(app, server)

    # ---- the web page and docs -----------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index() -> Response:
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse(_docs_page(app, "the web page is not installed"))

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return HTMLResponse(_docs_page(app, None))

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return app


def _checked_audio_length(path: Path) -> float:
    """Seconds of a readable, non-silent audio file (the library's checks and messages)."""
    from motiongen.io.audio import check_audio

    return check_audio(path).duration


def _docs_page(app: FastAPI, note: str | None) -> str:
    """A self-contained endpoint list (FastAPI's swagger page loads from a CDN)."""
    import html

    rows = []
    for route in app.routes:
        methods = getattr(route, "methods", None)
        if not methods or not getattr(route, "include_in_schema", False):
            continue
        doc = (getattr(route, "endpoint", None).__doc__ or "").strip().splitlines()
        rows.append(
            f"<tr><td>{', '.join(sorted(methods - {'HEAD'}))}</td><td><code>"
            f"{html.escape(route.path)}</code></td><td>{html.escape(' '.join(doc))}</td></tr>"
        )
    banner = f"<p><b>{html.escape(note)}</b></p>" if note else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>motiongen API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em 1em;"
        "vertical-align:top}</style></head><body><h1>motiongen API</h1>"
        f"{banner}<p>Machine-readable spec: <a href='/openapi.json'>/openapi.json</a>. "
        'Errors are JSON <code>{"error": ..., "status": ...}</code>; see docs/serving.md.</p>'
        f"<table>{''.join(rows)}</table></body></html>"
    )


def app_from_env() -> FastAPI:
    """uvicorn's factory for worker processes (settings in ``MOTIONGEN_SERVE_SETTINGS``)."""
    return create_app(ServeSettings.from_env())
