"""Request and response bodies of the API, with the service's limits (shown in /openapi.json).

The service's limits are tighter than the library's (``motiongen.pipeline``): a web request
should finish in seconds. Values inside them still go through the library's own checks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from motiongen.checkpoint import rag_model_names, shipped_model_names
from motiongen.conditioning.text import MAX_PROMPT_CHARS
from motiongen.generation.request import MIN_SECONDS
from motiongen.io.numpy_io import npy_rate_problem
from motiongen.loop import MIN_LOOP_SECONDS, loop_fits
from motiongen.paths import DEFAULT_SECONDS
from motiongen.plausibility import MAX_FPS, MIN_FPS
from motiongen.serve.models import DEFAULT_MODEL_NAME, model_samplers

MAX_SECONDS = 30.0
MAX_STEPS = 200
MAX_GUIDANCE = 20.0
MAX_SEED = 2**31 - 1

Format = Literal["json", "bvh", "motion", "npy", "mp4"]
Sampler = Literal["euler", "midpoint", "heun", "ddim"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


def _model_sampler_pairs() -> dict[str, Any]:
    """JSON-schema branches pairing each shipped model with the samplers it offers, so a
    schema-valid request never names a sampler its model cannot run."""
    samplers = model_samplers()
    branches: list[dict[str, Any]] = [
        {
            "required": ["model"],
            "properties": {"model": {"const": name}, "sampler": {"enum": [*s, None]}},
        }
        for name, s in samplers.items()
    ]
    default = samplers.get(DEFAULT_MODEL_NAME, ())
    branches.append(
        {"properties": {"model": {"type": "null"}, "sampler": {"enum": [*default, None]}}}
    )
    return {"anyOf": branches}


def _rag_rule() -> dict[str, Any]:
    """use_rag: true only with a model that has a retrieval prior (or none named: the
    server picks one), and never when no shipped model has one."""
    rag_on = {"required": ["use_rag"], "properties": {"use_rag": {"const": True}}}
    able = rag_model_names()
    if not able:
        return {"not": rag_on}
    return {"anyOf": [{"not": rag_on}, {"properties": {"model": {"enum": [*able, None]}}}]}


Scale = Annotated[float, Field(ge=0, le=MAX_GUIDANCE)]
MAX_URL_CHARS = 2048
MAX_MUSIC_OFFSET = 3600.0


def _prompt_field(description: str) -> Any:
    return Field(
        None,
        min_length=1,
        pattern="[A-Za-z]",  # a prompt is words: it must contain a letter
        max_length=MAX_PROMPT_CHARS,
        description=description,
    )


# How an answer is shaped after it is made (``Motion.exported``): /generate's and the control
# endpoints' alike (the command line's --loop and --no-travel)
LOOP = Field(
    False,
    description="The best loop of at least half the motion (and 1 s), its last frame its "
    "first pose again, a small net turn per repeat taken out (meta.loop; docs/formats.md).",
)
NO_TRAVEL = Field(
    False,
    description="Without the travel along the floor: the pelvis kept over its start, for "
    "engines that add their own root motion.",
)
BvhSkeleton = Literal["own", "standard"]  # io.bvh.SKELETONS
BVH_SKELETON = Field(
    "own",
    description="A BVH's bones: own (the motion's lengths, its joints exact) or standard (one "
    "skeleton in every file, for one rig in an engine; docs/formats.md).",
)


class GenerateRequest(BaseModel):
    """POST /generate. Strict types: "6.5" is not a number and 0 is not a boolean.

    The original design's names (``text_prompt``, ``duration``, ``guidance_scale``) are
    accepted beside ours; giving both names of one value is an error. Text, music
    (``audio_url``) or both; neither is a 400."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        strict=True,
        json_schema_extra={
            **_model_sampler_pairs(),
            # one name per value: ours or the original design's
            "allOf": [
                *(
                    {"not": {"required": list(pair)}}
                    for pair in (
                        ("text", "text_prompt"),
                        ("seconds", "duration"),
                        ("guidance", "guidance_scale"),
                    )
                ),
                _rag_rule(),
                # an offset into a song needs the song
                {
                    "anyOf": [
                        {
                            "not": {
                                "required": ["music_offset"],
                                "properties": {"music_offset": {"type": "number"}},
                            }
                        },
                        {
                            "required": ["audio_url"],
                            "properties": {"audio_url": {"type": "string"}},
                        },
                    ]
                },  # fmt: skip
                # a condition: a text under either name, a song, or both (else 400)
                {
                    "anyOf": [
                        {"required": [name], "properties": {name: {"type": "string"}}}
                        for name in ("text", "text_prompt", "audio_url")
                    ]
                },
            ],
        },
    )

    text: str | None = _prompt_field(
        "What the motion shows, e.g. 'a person waves with both hands'."
    )
    text_prompt: str | None = _prompt_field("The original design's name for text.")
    seconds: float | None = Field(
        None,
        ge=MIN_SECONDS,
        le=MAX_SECONDS,
        description=(
            "Length in seconds (default: a text alone lasts as long as the model's retrieved "
            f"phrases like it, else {DEFAULT_SECONDS} s)."
        ),
    )
    duration: float | None = Field(
        None, ge=MIN_SECONDS, le=MAX_SECONDS, description="The original design's name for seconds."
    )
    steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="Sampler steps (default: the model's)."
    )
    sampler: Sampler | None = Field(None, description="euler|midpoint|heun (flow), ddim.")
    guidance: Scale | Annotated[list[Scale], Field(min_length=2, max_length=2)] | None = Field(
        None,
        description="Guidance scale (default: the model's), or [text, music] scales when "
        "both are given.",
    )
    guidance_scale: Scale | None = Field(
        None, description="The original design's name for one guidance scale."
    )
    audio_url: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_URL_CHARS,
        pattern="^https?://",
        description="A song (WAV/MP3/OGG/FLAC) the server fetches; only from the hosts it "
        "was started with (--allow-audio-host), otherwise 403: upload to POST /dance.",
    )
    music_offset: float | None = Field(
        None, ge=0, le=MAX_MUSIC_OFFSET, description="Seconds into the song to start at."
    )
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="Same seed, same motion; drawn when left out."
    )
    model: str | None = Field(
        None,
        description="A name from GET /models (default: tiny-flow-rollout-r5).",
        json_schema_extra={"enum": [*shipped_model_names(), None]},
    )
    use_rag: bool | None = Field(
        None,
        description=(
            "true: start from retrieved motion phrases (RAG++): needs a model with a retrieval "
            "prior (without a model named: the default if it has one, else tiny-rag); the "
            "phrases are listed in meta.retrieved. false: never. null (default): as the model "
            "says (the shipped default retrieves for a prompt without music when the server "
            "has a motion index)."
        ),
    )
    literal: bool = Field(
        False,
        description=(
            "Send the prompt as written, also a style its action was never recorded in; by "
            "default such style words are left out (meta.warning, meta.vocabulary.unseen_style)."
        ),
    )
    beat_sync: bool | None = Field(
        None,
        description=(
            "With audio_url: retime the dance onto the song's beats where more of its accents "
            "land on them (meta.beat_sync). null (default): on for dances up to 30 s; false: "
            "the network's own timing; true without audio_url is refused."
        ),
    )
    fps: float | None = Field(
        None,
        ge=MIN_FPS,
        le=MAX_FPS,
        description="Frame rate of the answer and its files (default the model's, 20); a .npy "
        "stores no frame rate: format npy with another fps is refused (a job's .npy holds 20 fps).",
    )
    loop: bool = LOOP
    no_travel: bool = NO_TRAVEL
    bvh_skeleton: BvhSkeleton = BVH_SKELETON
    timeline: bool | None = Field(
        None,
        description="null (default): a text that puts actions one after the other ('a person "
        "walks, then waves') without audio_url or use_rag is made as POST /compose makes it "
        "(meta.segments; a job of kind compose); false: one motion of the whole text; true: "
        "a timeline of any text (not with audio_url).",
    )
    format: Format = "json"
    async_: bool = Field(False, alias="async", description="Answer 202 with a job id.")

    @field_validator("text", "text_prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        from motiongen.conditioning.text import validate_prompt

        return None if value is None else validate_prompt(value)

    @field_validator("steps", "seed", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        # JSON Schema counts 30.0 as an integer; strict mode alone would refuse it.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("seconds", "duration")
    @classmethod
    def _seconds(cls, value: float | None) -> float | None:
        from motiongen.generation import check_seconds

        return None if value is None else check_seconds(value)

    @field_validator("guidance", "guidance_scale")
    @classmethod
    def _guidance(cls, value: Any) -> Any:
        from motiongen.generation import parse_guidance

        if value is None:
            return None
        parsed = parse_guidance(value)
        return list(parsed) if isinstance(parsed, tuple) else float(parsed)

    @model_validator(mode="after")
    def _one_name_each(self) -> GenerateRequest:
        if problem := npy_fps_problem(self.format, self.fps, self.async_):
            raise ValueError(problem)
        for ours, spec in (
            ("text", "text_prompt"),
            ("seconds", "duration"),
            ("guidance", "guidance_scale"),
        ):
            # both names sent, null or not: the schema's rule (a null beside a value reads
            # as two answers to one question)
            if {ours, spec} <= self.model_fields_set:
                raise ValueError(f"give {ours} or {spec} (the same value), not both")
        if self.use_rag:
            able = rag_model_names()
            if not able:
                raise ValueError(
                    "use_rag: no shipped model has a retrieval prior on this server; leave "
                    "use_rag out or false"
                )
            if self.model is not None and self.model not in able:
                raise ValueError(
                    f"use_rag: model {self.model} has no retrieval prior; use "
                    f"{' or '.join(able)} (or leave model out)"
                )
        if self.timeline and self.audio_url is not None:
            raise ValueError(
                "timeline makes a text's actions one after the other without music; leave out "
                "audio_url or timeline"
            )
        if self.music_offset is not None and self.audio_url is None:
            raise ValueError("music_offset is an offset into the audio_url's song; give audio_url")
        seconds = self.seconds if self.seconds is not None else self.duration
        if self.loop and seconds is not None and not loop_fits(seconds, self.fps or 20.0):
            raise ValueError(
                f"loop needs more than {MIN_LOOP_SECONDS:g} s of motion at the answer's frame "
                "rate; ask seconds of a few or more"
            )
        return self

    def canonical(self) -> dict[str, Any]:
        """The request under our names, with the defaults filled in (what a job stores)."""
        params = self.model_dump(
            by_alias=True,
            exclude={"use_rag", "text_prompt", "duration", "guidance_scale", "audio_url"},
        )
        params["text"] = self.text if self.text is not None else self.text_prompt
        seconds = self.seconds if self.seconds is not None else self.duration
        params["seconds"] = seconds  # None: the model's choice, stored once checked
        guidance = self.guidance if self.guidance is not None else self.guidance_scale
        params["guidance"] = guidance
        params["music_offset"] = self.music_offset or 0.0
        output_fps_param(params)
        if self.use_rag is not None:
            params["rag"] = self.use_rag
        return params


def npy_fps_problem(format: str, fps: float | None, job: bool = False) -> str | None:
    """Why an answer as .npy cannot have frame rate ``fps`` (None when it can): a .npy
    stores no frame rate and reads back as 20 fps (the CLI refuses the same). A ``job``
    writes every format, the others at ``fps``: its .npy holds 20 fps, as documented."""
    if job or format != "npy" or fps is None or not (problem := npy_rate_problem(fps)):
        return None
    return f"fps {fps:g} with format npy: {problem}; ask for format bvh or motion (they store it)"


def output_fps_param(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with a request's ``fps`` (the answer's frame rate) stored as ``output_fps``,
    under its own name: a capture's ``fps`` is its keypoints' rate."""
    fps = params.pop("fps", None)
    if fps is not None:
        params["output_fps"] = fps
    return params


class ErrorBody(BaseModel):
    error: str = Field(description="What is wrong and what to do.")
    status: int


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatus
    url: str
    note: str | None = Field(None, description="Why a request asked for now runs as a job.")


class JobInfo(BaseModel):
    job_id: str
    kind: str
    status: JobStatus
    error: str | None
    created: str
    started: str | None
    finished: str | None
    attempts: int
    request: dict[str, Any]
    result_url: str | None
    files: dict[str, str]


class MotionBody(BaseModel):
    """A generated motion: positions (T, 22, 3) in metres, Y up, facing +Z at frame 0."""

    fps: float
    num_frames: int
    num_joints: int
    joints: list[str]
    parents: list[int]
    positions: list[list[list[float]]]
    text: str | None
    seed: int
    meta: dict[str, Any]


class MotionFile(BaseModel):
    """A ``.motion`` file (format motion): meta, skeleton and the flattened positions."""

    model_config = ConfigDict(extra="allow")

    meta: dict[str, Any]
    motion: list[float]


# The JSON answers of POST /generate and /dance: the motion (format json) or a .motion file.
MotionAnswer = MotionBody | MotionFile


class QueueInfo(BaseModel):
    size: int
    capacity: int


class Health(BaseModel):
    status: str
    model: str
    queue: QueueInfo
    version: str
    jobs: dict[str, int]
    stats: dict[str, Any]


class ModelInfo(BaseModel):
    name: str
    process: str
    default_steps: int
    sampler: str
    samplers: list[str]
    default_guidance: float | list[float]
    fps: float
    window_seconds: float
    text: bool
    music: bool
    retrieval: bool = Field(False, description="Takes use_rag (has a retrieval-prior input).")


class ModelList(BaseModel):
    models: list[ModelInfo]
    default: str


# The 200 answer of POST /generate and /dance: JSON, or the file of the format asked for.
MOTION_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The motion: JSON (format json), or a file (bvh, motion, npy)",
        "content": {
            "text/plain": {"schema": {"type": "string", "description": "BVH text"}},
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "description": "an .npy array"}
            },
        },
    }
}

# The answers of an endpoint that may run as a job: the motion now, 202 with a job, errors
JOB_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": JobAccepted, "description": "Job accepted"}
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The entries of ``ERROR_RESPONSES`` an endpoint can answer (the jobs' own endpoints
    listed uploads' 413 and the queue's 503 they never send: a REST trial)."""
    return {c: ERROR_RESPONSES[c] for c in codes}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Unreadable body or no condition"),
        (403, "audio_url fetching is off, or the URL's host is not allowed"),
        (404, "Unknown job or file"),
        (409, "Job not finished"),
        (413, "Upload too large"),
        (415, "Wrong upload type"),
        (422, "A value out of range or unknown, or a request over the compute budget"),
        (429, "This client already has its share of the queue; retry after Retry-After"),
        (503, "Queue full; retry after the Retry-After seconds"),
        (504, "Not ready within the request timeout; send it as a job"),
    )
}
