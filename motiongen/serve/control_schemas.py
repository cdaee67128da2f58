"""Request bodies of the control endpoints (POST /predict, /inbetween, /edit, /restyle,
/compose): motions go in as JSON, the shape of the motions /generate answers with."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from motiongen.conditioning.text import MAX_PROMPT_CHARS
from motiongen.generation.control import MIN_SEGMENT_SECONDS
from motiongen.plausibility import MAX_FPS, MIN_FPS
from motiongen.serve.models import SHIPPED_MODELS_DIR, shipped_model_names
from motiongen.serve.schemas import (
    BVH_SKELETON,
    LOOP,
    MAX_GUIDANCE,
    MAX_SECONDS,
    MAX_SEED,
    MAX_STEPS,
    NO_TRAVEL,
    BvhSkeleton,
    Format,
    npy_fps_problem,
)
from motiongen.skeleton import JOINT_NAMES, NUM_JOINTS
from motiongen.tasks import BODY_PARTS

MAX_INPUT_FRAMES = 3600  # a given motion: 30 s at 120 fps, or 3 min at 20
MAX_KEYFRAMES = 16
MAX_SEGMENTS = 12
STRICT = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


def control_model_names() -> list[str]:
    """Shipped models trained for control tasks (read from their configs, no weights)."""
    names = []
    for name in shipped_model_names():
        config = json.loads((SHIPPED_MODELS_DIR / name / "config.json").read_text())
        if config.get("model", {}).get("control_dim"):
            names.append(name)
    return names


def shipped_styles() -> list[str]:
    """The style names of the shipped control models (their style encoders' prototypes)."""
    styles: set[str] = set()
    for name in control_model_names():
        path = SHIPPED_MODELS_DIR / name / "style-encoder" / "config.json"
        if path.is_file():
            styles.update(json.loads(path.read_text()).get("prototypes", {}))
    return sorted(styles)


JOINT_CHOICES = sorted(BODY_PARTS) + list(JOINT_NAMES)
Coordinates = Annotated[list[float], Field(min_length=3, max_length=3)]
Pose = Annotated[list[Coordinates], Field(min_length=NUM_JOINTS, max_length=NUM_JOINTS)]
_STYLES = shipped_styles()
StyleName = Annotated[
    str,
    Field(min_length=1, max_length=40, json_schema_extra={"enum": _STYLES} if _STYLES else None),
]


def control_samplers() -> list[str]:
    """Samplers every shipped control model offers."""
    from motiongen.serve.models import model_samplers

    offered = [set(v) for k, v in model_samplers().items() if k in control_model_names()]
    return sorted(set.intersection(*offered)) if offered else ["euler"]


class Segment(BaseModel):
    model_config = STRICT

    text: str = Field(..., min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    seconds: float = Field(..., ge=MIN_SEGMENT_SECONDS, le=MAX_SECONDS)


class SegmentOfMotion(BaseModel):
    """A segment a given motion was made of (its answer's ``meta.segments``): descriptive, so
    any length (a timeline's own bounds are checked where one is made)."""

    model_config = STRICT

    text: str = Field(..., min_length=1, max_length=MAX_PROMPT_CHARS)
    seconds: float = Field(..., gt=0, le=MAX_SECONDS)


class MotionInput(BaseModel):
    """A motion given to a control task: joint positions (T, 22, 3) in metres, Y up, joints in
    the canonical order (the ``joints`` of a /generate answer, which fits here as it is)."""

    model_config = ConfigDict(extra="ignore", strict=True)  # a /generate answer fits as is

    fps: float = Field(..., ge=MIN_FPS, le=MAX_FPS, description="Frames per second.")
    positions: list[Pose] = Field(
        ..., min_length=1, max_length=MAX_INPUT_FRAMES, description="(T, 22, 3) metres."
    )
    segments: list[SegmentOfMotion] | None = Field(
        None,
        min_length=1,  # a one-segment /compose answer's, sent back as is (it had been a 422)
        max_length=MAX_SEGMENTS,
        description="A timeline's segments, in order (a composed answer's meta.segments as "
        "{text, seconds}): a restyle restyles each with its own words and pace, and a "
        "continuation's answer carries them on; one segment is read as one motion.",
    )

    @field_validator("positions")
    @classmethod
    def _shape(cls, value: list[list[list[float]]]) -> list[list[list[float]]]:
        for t, frame in enumerate(value):
            if len(frame) != NUM_JOINTS or any(len(j) != 3 for j in frame):
                raise ValueError(
                    f"frame {t} must list {NUM_JOINTS} joints of 3 coordinates (x, y, z)"
                )
            if not all(math.isfinite(c) for j in frame for c in j):
                raise ValueError(f"frame {t} contains NaN or infinite coordinates")
        return value

    def to_motion(self) -> Any:
        import numpy as np

        from motiongen.motion import Motion
        from motiongen.plausibility import check_motion

        positions = np.asarray(self.positions, dtype=np.float64)
        check_motion(positions, self.fps, "the given motion")
        meta = {}
        if self.segments is not None:  # (segments that do not span the motion are not read)
            meta["segments"] = [[s.text, s.seconds] for s in self.segments]
        return Motion(positions=positions, fps=self.fps, meta=meta)


class Blend(BaseModel):
    model_config = STRICT

    style: StyleName = Field(..., description="The other style's name (GET /styles).")
    weight: float = Field(..., ge=0, le=1, description="How far towards it: 0..1.")


class ControlOptions(BaseModel):
    """How to sample, and how to answer: as POST /generate."""

    model_config = STRICT

    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    # the control models' own samplers: ``Sampler`` offered ddim beside an enum without it
    sampler: Literal[tuple(control_samplers())] | None = Field(  # type: ignore[valid-type]
        None, description="Sampler."
    )
    guidance: float | None = Field(None, ge=0, le=MAX_GUIDANCE)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    literal: bool = Field(
        False,
        description=(
            "Send texts as written, also a style their action was never recorded in (by "
            "default such style words are left out; meta.warning says so), manner words no "
            "training text uses (by default said as the style they mean) and an in-between's "
            "walk, run or dash in other words (by default said in the training data's words; "
            "meta.text_said_as). A restyle keeps its style words either way."
        ),
    )
    model: str | None = Field(
        None,
        description=(
            "A control model from GET /models (default when shipped: tiny-control; "
            "tiny-control-smooth for /compose)."
        ),
        json_schema_extra={"enum": [*control_model_names(), None]},
    )
    fps: float | None = Field(
        None,
        ge=MIN_FPS,
        le=MAX_FPS,
        description="Frame rate of the answer (default: the input motion's, where the kept "
        "frames are exact; /compose: the model's 20).",
    )
    loop: bool = LOOP
    no_travel: bool = NO_TRAVEL
    bvh_skeleton: BvhSkeleton = BVH_SKELETON
    format: Format = "json"
    async_: bool = Field(False, alias="async", description="Answer 202 with a job id.")

    @field_validator("steps", "seed", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @model_validator(mode="after")
    def _npy_rate(self) -> ControlOptions:
        if problem := npy_fps_problem(self.format, self.fps, self.async_):
            raise ValueError(problem)
        return self


Text = Field(None, min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")


def _segment_model(what: str) -> Any:
    return Field(
        None,
        description=(
            f'"self": the control model makes {what} alone (it keeps stepping where the '
            "checkpoint's text model, the default, would glide or travel less). The service "
            "loads no other segment model."
        ),
    )


class PredictRequest(ControlOptions):
    """Continue a motion: its frames are kept exactly and the motion goes on."""

    motion: MotionInput
    seconds: float = Field(
        ...,
        gt=0,
        # said in the schema; checked below, where the message can name the past's length
        json_schema_extra={"maximum": MAX_SECONDS},
        description=f"Length, the past included; at most {MAX_SECONDS:g}.",
    )
    text: str | None = Text
    style: StyleName | None = Field(
        None, description="A style name (GET /styles), said in the text's words too."
    )
    segment_model: Literal["self"] | None = _segment_model(
        "the new action a text names that the past does not do"
    )

    @model_validator(mode="after")
    def _within_service_length(self) -> PredictRequest:
        past = len(self.motion.positions) / self.motion.fps
        if past >= MAX_SECONDS:
            raise ValueError(
                f"the past lasts {past:.1f} s; the service makes results of at most "
                f"{MAX_SECONDS:g} s, the past included: send its last few seconds"
            )
        if self.seconds > MAX_SECONDS:  # said with the past, which the caller may not count
            raise ValueError(
                f"seconds {self.seconds:g} is the whole result, the past's {past:.1f} s "
                f"included; the service makes at most {MAX_SECONDS:g} s: continue the last "
                f"part of the motion, or use the library or `motiongen predict` (up to 120 s)"
            )
        return self


class InbetweenRequest(ControlOptions):
    """A motion through keyframes (each a pose or a few frames) starting at ``times``."""

    keyframes: list[MotionInput] = Field(..., min_length=2, max_length=MAX_KEYFRAMES)
    times: list[float] = Field(..., min_length=2, max_length=MAX_KEYFRAMES)
    text: str | None = Text
    style: StyleName | None = Field(
        None,
        description="A style name (GET /styles), said in the text's words (with a text, or "
        "keyframes apart that are walked between).",
    )
    in_place: bool = Field(
        False,
        description="Move each keyframe on the ground to start where the one before ends "
        "(a clip moved on by the pace the two keep over the time between).",
    )


class EditRequest(ControlOptions):
    """Make part of a motion anew: a time span, some joints, or both."""

    # The schema says what the checks say: in place takes a span of time and no joints.
    model_config = ConfigDict(**STRICT, json_schema_extra={"anyOf": [
        {"not": {"required": ["in_place"]}},
        {"properties": {"in_place": {"const": False}}},
        {"required": ["frames"], "properties": {"frames": {"type": "array"},
                                                "joints": {"type": "null"}}},
    ]})  # fmt: skip

    motion: MotionInput
    text: str = Field(..., min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    frames: list[Annotated[float, Field(ge=0, le=MAX_SECONDS * 4)]] | None = Field(
        None, min_length=2, max_length=2, description="[start, end] seconds."
    )
    joints: list[Annotated[str, Field(json_schema_extra={"enum": JOINT_CHOICES})]] | None = Field(
        None, min_length=1, max_length=NUM_JOINTS, description="Joint names or body parts."
    )
    segment_model: Literal["self"] | None = _segment_model("an edited span of time")
    in_place: bool = Field(
        False,
        description="Make the span's action where the span starts, the frames after it moved "
        "along the ground to go on from there (meta.rest_moved_m says how far); else a span "
        "set in a walk covers the walk's ground.",
    )

    @field_validator("joints", mode="before")
    @classmethod
    def _one_or_listed(cls, value: Any) -> Any:
        """One name or a comma list as a string, as the command line takes it ("arms" was
        refused here while --joints arms worked: a new user's trial)."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()] or [value]
        return value

    @model_validator(mode="after")
    def _something(self) -> EditRequest:
        if self.frames is None and self.joints is None:
            raise ValueError("say what to edit: frames [start, end] in seconds, joints, or both")
        return self


def _string(name: str) -> dict:
    return {"required": [name], "properties": {name: {"type": "string"}}}


class RestyleRequest(ControlOptions):
    """Keep a motion's path and length, move the body in another style (its poses the style's,
    first and last included; a slower style walks the path at its own pace)."""

    # The schema says what the checks say: a style or a text; a blend starts from a style.
    model_config = ConfigDict(**STRICT, json_schema_extra={"allOf": [
        {"anyOf": [_string("style"), _string("text")]},
        {"anyOf": [{"not": {"required": ["blend"]}}, {"properties": {"blend": {"type": "null"}}},
                   _string("style")]},
    ]})  # fmt: skip

    motion: MotionInput
    style: StyleName | None = Field(None, description="A style name (GET /styles).")
    blend: Blend | None = None
    text: str | None = Text
    keep_speed: bool = Field(
        False,
        description=(
            "Keep the motion's speed along its path. By default a named style slower than the "
            "motion's own (sad, elderly, proud walks) walks the path at its own pace, covering "
            "less of it (meta.pace: the share of the speed); kept, its steps slide."
        ),
    )
    whole_path: bool = Field(
        False,
        description=(
            "Walk the whole path at a slower style's own pace, in more time (meta.whole_path: "
            "the pace and the source's seconds); not with keep_speed, nor for a timeline."
        ),
    )

    @model_validator(mode="after")
    def _something(self) -> RestyleRequest:
        if self.style is None and self.text is None:
            raise ValueError("give a style (e.g. 'sad'), a text, or both")
        return self


class ComposeRequest(ControlOptions):
    """One motion of consecutive segments: a prompt with "then", or a list of segments."""

    model_config = ConfigDict(**STRICT, json_schema_extra={"oneOf": [
        {**_string("prompt"), "not": {"required": ["segments"], "properties": {
            "segments": {"type": "array"}}}},
        # segments carry their own seconds: no total beside them
        {"required": ["segments"], "properties": {"segments": {"type": "array"},
                                                  "seconds": {"type": "null"}},
         "not": _string("prompt")},
    ]})  # fmt: skip

    prompt: str | None = Field(None, min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    segments: list[Segment] | None = Field(None, min_length=1, max_length=MAX_SEGMENTS)
    seconds: float | None = Field(None, ge=0.5, le=MAX_SECONDS)
    style: StyleName | None = Field(
        None, description="A style name (GET /styles), said in every segment's words."
    )
    segment_model: Literal["self"] | None = _segment_model(
        "every segment, each continuing the last"
    )

    @model_validator(mode="after")
    def _one_form(self) -> ComposeRequest:
        if (self.prompt is None) == (self.segments is None):
            raise ValueError("give either a prompt with 'then' or segments [{text, seconds}]")
        total = sum(s.seconds for s in self.segments or [])
        if total > MAX_SECONDS:
            raise ValueError(
                f"the segments last {total:g} s in all; the service makes at most "
                f"{MAX_SECONDS:g} s (the library and `motiongen compose` make up to 120 s)"
            )
        return self


CONTROL_BODIES: dict[str, type[ControlOptions]] = {
    "predict": PredictRequest,
    "inbetween": InbetweenRequest,
    "edit": EditRequest,
    "restyle": RestyleRequest,
    "compose": ComposeRequest,
}
