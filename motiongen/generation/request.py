"""``GenerationRequest``: one generation request after checking, and the checks themselves.

The Python API, the service's batcher and job runner and the CLI all build the same public
dataclass through ``Pipeline.check_request`` (cheap: header reads only, no model work), so a
request is validated once, in one place, before anything expensive runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.paths import DANCE_DEFAULT_SECONDS

Guidance = float | tuple[float, float]

MAX_GUIDANCE = 50.0
MAX_SECONDS = 120.0
MIN_SECONDS = 0.5  # ten frames at 20 fps: anything shorter is not a motion
MAX_BATCH = 256
MAX_STEPS = 1000


@dataclass
class GenerationRequest:
    """What to generate, checked and with every default filled in.

    text: the prompt or None; music: an audio file or None, played from music_offset s.
    frames = round(seconds * fps) at the model's fps. steps / sampler / guidance: how to
    sample (sampler is one the checkpoint's process offers). seed: the noise seed; batch:
    how many motions to draw from it. prefix: (S, 137) seed-motion features fixed at the
    start, or None.
    """

    text: str | None
    music: Path | None
    music_offset: float
    seconds: float
    frames: int
    steps: int
    sampler: str
    guidance: Guidance
    seed: int
    batch: int
    prefix: np.ndarray | None = None
    # Control (generation.constraints.Constraints): targets the motion must keep.
    constraints: Any = None
    # Timeline: (text, frames) per segment, in order; the text above is the first's.
    segments: tuple[tuple[str, int], ...] | None = None
    # Joined timeline or span edit: the text model (a Pipeline) whose motions are the
    # segments / the span, the joins in-betweened (generation.timeline, generation.span_edit);
    # None: the model makes everything itself.
    segment_model: Any = None
    # Joined timeline or span edit: (the segment model's checked request per part, this
    # model's checked in-betweening of the joins, constraints added once the parts exist).
    # (An arms edit has no joins: None for the in-betweening.)
    parts: tuple[tuple[GenerationRequest, ...], GenerationRequest | None] | None = None
    # Joined span edit (generation.span_edit): (the motion's positions at the model's fps,
    # first frame, end frame) of the span the one segment in ``parts`` fills, or None.
    edit_span: tuple[np.ndarray, int, int] | None = None
    # The parts a result is read back for by the label classifier (``Pipeline._action_kept``):
    # (the text naming its action, first frame, frames) at the model's fps: a restyle's (each
    # timeline segment's), a span edit's span; None for others.
    action_parts: tuple[tuple[str, int, int], ...] | None = None
    # The music a given motion plays with (``Motion.audio``), carried to the result of a task
    # that keeps its clock (a continuation, an edit, a restyle at the motion's length): a
    # danced song's bow or restyle had come back silent (a choreographer's trial).
    audio: Any = None
    # Joined arms edit (generation.arms_edit): (the edited arm joints, first frame, end frame)
    # set from the one segment in ``parts``, or None.
    edit_joints: tuple[tuple[int, ...], int, int] | None = None
    # What ``parts`` make, or None for a request this model makes alone: "timeline" (segments
    # joined), "continuation" (the new action joined to the past), "span" (an edit's span sewn
    # in, ``edit_span``), "arms" (an edit's arms set on the body, ``edit_joints``), "restyle"
    # (a timeline's segments each restyled, joined).
    joined: str | None = None
    # A joined request's in-betweening (timeline, continuation, span edit): (first free frame,
    # first kept frame again) per gap between kept parts. Its free frames are bent to meet the
    # kept ones' velocity (postprocess.transitions.sew; a span edit's body path eased instead,
    # ``eased_paths``) before post-processing, which treats them as joins made without text:
    # no swinging round, the stance foot held, set down on the floor, gliding feet stepped.
    sewn: tuple[tuple[int, int], ...] | None = None
    # Joined timeline's in-betweening: its kept frames are segments made here, not given, so
    # the clean-up's frames stand (put back as made, each segment's frames broke from the
    # cleaned join beside them: val join edges' jerk p95 390 -> 373 m/s^3, docs/control.md
    # "Edges of a join"). Not a continuation's: its new action cleaned again, 2 of 16 walks
    # into a wave or bow were no longer recognised and a bow left the floor in 9 % of frames.
    made_parts: bool = False
    # Joined span edit's in-betweening: its seams are not sewn (sewn, 2 of 40 val windows
    # failed the sanity check, a joint of a kick jumping 6-7 m/s in a frame, 11 of 40 test
    # windows in an earlier session; the pelvis's break alone taken back kept the seam's own
    # course, a walk stopped dead within it): the body's path over each is eased from the
    # given frames' pace into the new motion's (postprocess.transitions.eased_body_path;
    # docs/control.md "Seams at a walk's pace").
    eased_paths: bool = False
    # An arms edit of a wave made by this model alone: (the same edit with the arms of the
    # segment model's motion of the text, a joined "arms" request; the waving hands and
    # whether every one of them must be up (``Pipeline._waving_sides``); the edited frames
    # [a, b)), made instead where this one's waving hand does not rise (``run_request``).
    wave_fallback: (
        tuple[GenerationRequest, tuple[tuple[str, ...], bool], tuple[int, int]] | None
    ) = None
    # Control on a motion at another frame rate (generation.source_rate.SourceRate): the
    # result goes back to that rate with the kept frames pasted; None at the model's rate.
    source_rate: Any = None
    # Style (tasks.style): the (S,) unit vector the motion moves in, or None.
    style: np.ndarray | None = None
    # Facts about the task recorded in the motion's meta (task, segments, style names).
    meta: dict[str, Any] = field(default_factory=dict)
    # Retrieval (retrieval.Prior): the blended phrases the motion starts from, or None.
    prior: Any = None
    # (second prompt, w): the network's predictions for the two prompts are mixed (1 - w, w)
    # at every step (a sweep of w moves smoothly from one to the other), or None.
    text_blend: tuple[str, float] | None = None
    # True: the prompt goes to the network as written, also a style its action was never
    # recorded in (generation.vocabulary); False leaves such style words out.
    literal: bool = False
    # Beat sync (generation.on_beats): the frames kept once the made motion (``frames``, made
    # longer to be played slower) is retimed onto the music's beats; None: no beat sync.
    beat_sync_frames: int | None = None

    @property
    def batch_key(self) -> tuple:
        """Requests with equal keys can run as one batched model pass."""
        g = self.guidance
        return (
            self.frames,
            self.steps,
            self.sampler,
            tuple(g) if isinstance(g, tuple) else float(g),
            self.text is not None,
            self.music is not None,
            # A control request or timeline runs alone: its constraints are its own.
            id(self) if self.constraints is not None or self.segments is not None else None,
            self.style is not None,
            # with a prior, whether its phrases agree (a sampler starts from it only then)
            None if self.prior is None else self.prior.agrees,
            id(self) if self.text_blend is not None else None,
            self.beat_sync_frames,
        )

    @property
    def conditions(self) -> str:
        """ "text", "music", "text+music" or "unconditional"."""
        kinds = [k for k, v in (("text", self.text), ("music", self.music)) if v is not None]
        return "+".join(kinds) or "unconditional"


def is_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def check_seconds(seconds: object) -> float:
    """``InputError`` unless ``MIN_SECONDS`` <= seconds <= ``MAX_SECONDS``."""
    if not is_number(seconds) or not math.isfinite(float(seconds)):  # type: ignore[arg-type]
        raise InputError(f"seconds must be a number, got {seconds!r}")
    s = float(seconds)  # type: ignore[arg-type]
    if s < MIN_SECONDS or s > MAX_SECONDS:
        raise InputError(
            f"seconds must be between {MIN_SECONDS:g} and {MAX_SECONDS:g}, got {s:g}; "
            "ask for a length such as 6.5"
        )
    return s


def dance_seconds(length: float, offset: float, name: str, offset_name: str = "--offset") -> float:
    """The default length of a dance to a song ``length`` seconds long from ``offset``: the
    rest of the song in whole 1/20 s frames (never more than it has), at most
    ``DANCE_DEFAULT_SECONDS``. ``InputError`` when there is no song left, or too little."""
    available = length - offset
    if available <= 0:
        raise InputError(
            f"{offset_name} {offset:g} s is at or past the end of {name} ({length:.2f} s long)"
        )
    seconds = min(DANCE_DEFAULT_SECONDS, math.floor(available * 20) / 20)
    if seconds < MIN_SECONDS:
        raise InputError(
            f"{name} is too short to dance to: {available:.2f} s from {offset_name} {offset:g} s,"
            f" and a dance lasts at least {MIN_SECONDS:g} s; give a longer song (or an earlier "
            f"{offset_name})"
        )
    return seconds


def parse_guidance(value: object) -> Guidance:
    """A guidance scale: a number, or (text_scale, audio_scale); also "2.5" or "2.5,1.5".

    Scales must be finite and within 0..``MAX_GUIDANCE`` (0 = unconditional, 1 = plain
    conditional, > 1 = guided).
    """
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",")]
        try:
            numbers = [float(v) for v in parts]
        except ValueError:
            raise InputError(
                f"guidance must be a number or two numbers 'TEXT,AUDIO' (e.g. 2.5 or 2.5,1.5), "
                f"got {value!r}"
            ) from None
        value = numbers[0] if len(numbers) == 1 else tuple(numbers)
    if is_number(value):
        scales: tuple[float, ...] = (float(value),)  # type: ignore[arg-type]
    elif isinstance(value, Sequence) and len(value) == 2 and all(is_number(v) for v in value):
        scales = (float(value[0]), float(value[1]))
    else:
        raise InputError(
            f"guidance must be a number or a pair (text_scale, audio_scale), got {value!r}"
        )
    for s in scales:
        if not (math.isfinite(s) and 0.0 <= s <= MAX_GUIDANCE):
            raise InputError(f"guidance scales must be between 0 and {MAX_GUIDANCE:g}, got {s}")
    return scales[0] if len(scales) == 1 else (scales[0], scales[1])


def check_int(name: str, value: object, lo: int, hi: int) -> int:
    """``InputError`` unless ``value`` is a whole number in lo..hi (booleans are not)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if not lo <= int(value) <= hi:
        raise InputError(f"{name} must be between {lo} and {hi}, got {value}")
    return int(value)
