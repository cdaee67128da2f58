"""The control endpoints: continue, in-between, edit, restyle and compose.

A request's motions are written to the store as ``.npz`` files (like /dance's audio), so a
request that runs as a job keeps its inputs across restarts; its parameters name them by path.
Checking and running go through the library (``Pipeline.check_<task>``, ``run_request``).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from motiongen.errors import InputError
from motiongen.paths import DEFAULT_CONTROL_MODEL, DEFAULT_TIMELINE_MODEL
from motiongen.serve.control_schemas import (
    ComposeRequest,
    EditRequest,
    InbetweenRequest,
    PredictRequest,
    RestyleRequest,
    control_model_names,
)
from motiongen.serve.schemas import (
    ERROR_RESPONSES,
    JOB_ACCEPTED,
    MAX_SECONDS,
    MOTION_RESPONSE,
    MotionAnswer,
    output_fps_param,
)

CONTROL_MODEL_NAME = DEFAULT_CONTROL_MODEL
TIMELINE_MODEL_NAME = DEFAULT_TIMELINE_MODEL
MOTION_FIELDS = ("motion", "keyframes")


def control_model(names: list[str], default: str, task: str | None = None) -> str:
    """The model a control request uses when it names none (timelines their own)."""
    if task == "compose" and TIMELINE_MODEL_NAME in names:
        return TIMELINE_MODEL_NAME
    return CONTROL_MODEL_NAME if CONTROL_MODEL_NAME in names else default


def as_timeline(models: Any, params: dict[str, Any]) -> dict[str, Any] | None:
    """A /generate request's parameters as a /compose job's when ``Pipeline.generate`` would
    make its text a timeline (``Pipeline.makes_timeline``: "walks, then waves", or
    ``timeline`` true; an ``InputError`` for one beside an option a timeline does not take);
    None to make it as one motion. The model asked for makes the segments unless it is
    itself a control model (which joins its own segment model's)."""
    text, named = params.get("text"), params.get("model")
    text_model = models.get(models.resolve(named))
    asked = {k: params.get(k) for k in ("rag", "beat_sync")}
    if not text_model.makes_timeline(text, None, params.get("timeline"), **asked):
        return None
    out = {k: v for k, v in params.items() if k not in ("text", "timeline", "rag", "music_offset")}
    # from_generate: a mistake names one motion ("timeline": false) as the way out
    out.update(task="compose", prompt=text, length_from=None, from_generate=True)
    if text_model.control_dim:
        out["model"] = models.resolve(named)
    else:
        out["model"] = control_model(models.names, models.default, "compose")
        out["segment_model"] = text_model.name
    return out


def save_motions(body: Any, folder: Path) -> list[Path]:
    """The request's motions, checked, as ``folder/<uuid>/motion_<k>.npz``."""
    given = getattr(body, "keyframes", None) or (
        [body.motion] if getattr(body, "motion", None) is not None else []
    )
    motions = [m.to_motion() for m in given]  # FormatError (422) for an implausible body
    if not motions:
        return []
    target = folder / uuid.uuid4().hex
    target.mkdir(parents=True)
    paths = []
    try:
        for k, motion in enumerate(motions):
            path = target / f"motion_{k}.npz"
            motion.save(path)
            paths.append(path)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return paths


def checked_control(pipe: Any, params: dict[str, Any], root: Path) -> Any:
    """The pipeline's checked request for a control task's stored parameters."""
    from motiongen.data.load import load_any

    motions = [load_any(root / p) for p in params.get("motions", [])]
    opts = {k: params[k] for k in ("steps", "sampler", "guidance") if params.get(k) is not None}
    opts["seed"] = params["seed"]
    if params.get("literal"):
        opts["literal"] = True
    if params.get("segment_model") is not None:
        opts["segment_model"] = params["segment_model"]
    task = params["task"]
    if task in ("predict", "inbetween", "compose") and params.get("style") is not None:
        opts["style"] = params["style"]
    if task == "predict":
        return pipe.check_predict(motions[0], params["seconds"], params.get("text"), **opts)
    if task == "inbetween":
        if params.get("in_place"):
            opts["in_place"] = True
        return pipe.check_inbetween(motions, list(params["times"]), params.get("text"), **opts)
    if task == "edit":
        frames = params.get("frames")
        if params.get("in_place"):
            opts["in_place"] = True
        return pipe.check_edit(
            motions[0], text=params["text"], frames=None if frames is None else tuple(frames),
            joints=params.get("joints"), **opts,
        )  # fmt: skip
    if task == "restyle":
        blend = params.get("blend")
        return pipe.check_restyle(
            motions[0], params.get("style"), text=params.get("text"),
            blend=None if blend is None else (blend["style"], blend["weight"]),
            keep_speed=bool(params.get("keep_speed", False)),
            whole_path=bool(params.get("whole_path", False)), **opts,
        )  # fmt: skip
    segments = params.get("segments")
    spec = params["prompt"] if segments is None else [(s["text"], s["seconds"]) for s in segments]
    if not pipe.control_dim:  # as the other control endpoints say (it had answered unjoined)
        raise InputError(
            f"/compose joins segments with a control model; {params['model']} is a text model: "
            "leave model out (the default, tiny-control-smooth) or name a control model"
        )
    try:
        req = pipe.check_compose(spec, seconds=params.get("seconds"), **opts)
    except InputError as exc:  # a /generate text made as a timeline, as generate says it
        if params.get("from_generate"):
            from motiongen.pipeline import timeline_refused

            raise timeline_refused(exc) from None
        raise
    # A prompt's segments take their default lengths (as long as such motions last in the
    # index, else 4 s): several "then"s add up past the service's limit, which the body's own
    # fields could not show.
    if req.frames > MAX_SECONDS * pipe.fps + 1e-6:
        lengths = ", ".join(f"{s:.1f}" for _, s in req.meta.get("segments", []))
        raise InputError(
            f"the prompt's {len(req.segments)} segments last {req.frames / pipe.fps:g} s in all "
            f"({lengths} s: as long as such motions last); the service makes at most "
            f"{MAX_SECONDS:g} s: give 'seconds' (the total) or fewer segments (the library and "
            "`motiongen compose` make up to 120 s)"
        )
    return req


Prepare = Callable[[dict[str, Any], bool], tuple[dict[str, Any], Any]]
Answer = Callable[..., Awaitable[Response]]


def add_control_routes(app: FastAPI, server: Any, prepare: Prepare, answer: Answer) -> None:
    """POST /predict, /inbetween, /edit, /restyle and /compose on ``app``."""

    responses = {
        **MOTION_RESPONSE,
        **JOB_ACCEPTED,
        **ERROR_RESPONSES,
    }

    async def run(task: str, body: Any, http: Request) -> Response:
        params = output_fps_param(body.model_dump(by_alias=True, exclude=set(MOTION_FIELDS)))
        params["task"] = task
        if params.get("model") is None:
            params["model"] = control_model(server.models.names, server.models.default, task)
        paths: list[Path] = []
        queued = False
        try:
            paths = await run_in_threadpool(save_motions, body, server.store.uploads_dir)
            params["motions"] = [p.relative_to(server.store.root).as_posix() for p in paths]
            params, request = await run_in_threadpool(prepare, params, False)
            queued = True
            upload = paths[0] if paths else None
            return await answer(params, request, kind=task, upload=upload, http=http)
        finally:
            if not queued and paths:
                shutil.rmtree(paths[0].parent, ignore_errors=True)

    @app.post("/predict", tags=["control"], response_model=MotionAnswer, responses=responses)
    async def predict(body: PredictRequest, http: Request) -> Response:
        """Continue a motion (JSON positions, e.g. a /generate answer) to ``seconds`` in all:
        its frames are kept exactly."""
        return await run("predict", body, http)

    @app.post("/inbetween", tags=["control"], response_model=MotionAnswer, responses=responses)
    async def inbetween(body: InbetweenRequest, http: Request) -> Response:
        """A motion through keyframes (poses or short motions, in world space) at ``times``."""
        return await run("inbetween", body, http)

    @app.post("/edit", tags=["control"], response_model=MotionAnswer, responses=responses)
    async def edit(body: EditRequest, http: Request) -> Response:
        """Make part of a motion anew (a span of seconds, joints, or both); the rest is kept."""
        return await run("edit", body, http)

    @app.post("/restyle", tags=["control"], response_model=MotionAnswer, responses=responses)
    async def restyle(body: RestyleRequest, http: Request) -> Response:
        """Keep a motion's path and length, move the body in another style (GET /styles); a
        slower style walks the path at its own pace unless keep_speed or whole_path."""
        return await run("restyle", body, http)

    @app.post("/compose", tags=["control"], response_model=MotionAnswer, responses=responses)
    async def compose(body: ComposeRequest, http: Request) -> Response:
        """One motion of segments: "a person walks, then waves" or [{text, seconds}, ...]."""
        return await run("compose", body, http)

    @app.get("/styles", tags=["control"])
    def styles(
        model: Annotated[
            str | None,
            Query(
                description="A control model (default: tiny-control).",
                json_schema_extra={"enum": [*control_model_names(), None]},
            ),
        ] = None,
    ) -> dict[str, Any]:
        """The style names a control model can be asked for (empty without a style input)."""
        # An empty name is a wrong name, not "the default" (the schema lists the names).
        name = server.models.resolve(
            model
            if model is not None
            else control_model(server.models.names, server.models.default)
        )
        return {"model": name, "styles": server.models.get(name).styles}
