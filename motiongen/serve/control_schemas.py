"""Request bodies of the control endpoints (POST /predict, /inbetween, /edit, /restyle,
/compose): motions go in as JSON, the shape of the motions /generate answers with."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from motiongen.conditioning.text import MAX_PROMPT_CHARS
from motiongen.serve.models import shipped_model_names
from motiongen.serve.schemas import MAX_GUIDANCE, MAX_SECONDS, MAX_SEED, MAX_STEPS, Format, Sampler
from motiongen.skeleton import NUM_JOINTS

MAX_INPUT_FRAMES = 3600  # a given motion: 30 s at 120 fps, or 3 min at 20
MAX_KEYFRAMES = 16
MAX_SEGMENTS = 12
STRICT = ConfigDict(extra="forbid", populate_by_name=True, strict=True)


class MotionInput(BaseModel):
    """A motion given to a control task: joint positions (T, 22, 3) in metres, Y up, in the
    canonical joint order (GET /models lists nothing else; the JSON motions of /generate fit)."""

    model_config = ConfigDict(extra="ignore", strict=True)  # a /generate answer fits as is

    fps: float = Field(..., gt=0, le=1000, description="Frames per second.")
    positions: list[list[list[float]]] = Field(
        ..., min_length=1, max_length=MAX_INPUT_FRAMES, description="(T, 22, 3) metres."
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
        return Motion(positions=positions, fps=self.fps)


class Blend(BaseModel):
    model_config = STRICT

    style: str = Field(..., min_length=1, max_length=40, description="The other style's name.")
    weight: float = Field(..., ge=0, le=1, description="How far towards it: 0..1.")


class Segment(BaseModel):
    model_config = STRICT

    text: str = Field(..., min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    seconds: float = Field(..., ge=0.5, le=MAX_SECONDS)


class ControlOptions(BaseModel):
    """How to sample, and how to answer: as POST /generate."""

    model_config = STRICT

    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    sampler: Sampler | None = None
    guidance: float | None = Field(None, ge=0, le=MAX_GUIDANCE)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    model: str | None = Field(
        None,
        description="A control model from GET /models (default: tiny-control when shipped).",
        json_schema_extra={"enum": [*shipped_model_names(), None]},
    )
    format: Format = "json"
    async_: bool = Field(False, alias="async", description="Answer 202 with a job id.")

    @field_validator("steps", "seed", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


Text = Field(None, min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")


class PredictRequest(ControlOptions):
    """Continue a motion: its frames are kept exactly and the motion goes on."""

    motion: MotionInput
    seconds: float = Field(..., gt=0, le=MAX_SECONDS, description="Length, the past included.")
    text: str | None = Text


class InbetweenRequest(ControlOptions):
    """A motion through keyframes (each a pose or a few frames) starting at ``times``."""

    keyframes: list[MotionInput] = Field(..., min_length=2, max_length=MAX_KEYFRAMES)
    times: list[float] = Field(..., min_length=2, max_length=MAX_KEYFRAMES)
    text: str | None = Text


class EditRequest(ControlOptions):
    """Make part of a motion anew: a time span, some joints, or both."""

    motion: MotionInput
    text: str = Field(..., min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    frames: tuple[float, float] | None = Field(None, description="[start, end] seconds.")
    joints: list[str] | None = Field(
        None, min_length=1, max_length=22, description="Joint names or arms, legs, upper_body..."
    )


class RestyleRequest(ControlOptions):
    """Keep a motion's path and timing, move the body in another style."""

    motion: MotionInput
    style: str | None = Field(None, min_length=1, max_length=40, description="A style name.")
    blend: Blend | None = None
    text: str | None = Text

    @model_validator(mode="after")
    def _something(self) -> RestyleRequest:
        if self.style is None and self.text is None:
            raise ValueError("give a style (e.g. 'sad'), a text, or both")
        return self


class ComposeRequest(ControlOptions):
    """One motion of consecutive segments: a prompt with "then", or a list of segments."""

    prompt: str | None = Field(None, min_length=1, max_length=MAX_PROMPT_CHARS, pattern="[A-Za-z]")
    segments: list[Segment] | None = Field(None, min_length=1, max_length=MAX_SEGMENTS)
    seconds: float | None = Field(None, ge=0.5, le=MAX_SECONDS)

    @model_validator(mode="after")
    def _one_form(self) -> ComposeRequest:
        if (self.prompt is None) == (self.segments is None):
            raise ValueError("give either a prompt with 'then' or segments [{text, seconds}]")
        return self


CONTROL_BODIES: dict[str, type[ControlOptions]] = {
    "predict": PredictRequest,
    "inbetween": InbetweenRequest,
    "edit": EditRequest,
    "restyle": RestyleRequest,
    "compose": ComposeRequest,
}
