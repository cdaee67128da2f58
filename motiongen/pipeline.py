"""``Pipeline``: a checkpoint's network + its generative process + the conditioners +
post-processing. Wiring only: requests are checked in ``generation.request``, long motions
are built window by window in ``generation.windows``, sampling is the process's own.

>>> pipe = Pipeline.from_pretrained()            # the shipped default, tiny-flow-rollout-r5
>>> motion = pipe("a person waves with both hands happily", seconds=6.5, seed=0)
>>> motion.save("wave.mp4")

Everything that decides *how* to generate (steps, sampler, guidance, seed) is an argument
of the call and is recorded in ``motion.meta`` with the time each stage took; nothing is
read from or written to per-call state on the object, so one ``Pipeline`` serves concurrent
callers. See ``docs/pipeline.md``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import inspect
import json
import logging
import math
import re
import secrets
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from motiongen import __version__
from motiongen.blas import one_blas_thread
from motiongen.checkpoint import (
    DEFAULT_MODEL,
    SHIPPED_MODELS_DIR,
    Checkpoint,
    CheckpointConfig,
    load_checkpoint,
    resolve_checkpoint,
    shipped_model_names,
    shipped_model_path,
)
from motiongen.conditioning.text import validate_prompt
from motiongen.errors import (
    Cancelled,
    DataNotFoundError,
    FormatError,
    InputError,
    MotionGenError,
    refuse_unknown,
)
from motiongen.features import (
    CONTACTS,
    FEATURE_DIM,
    NormStats,
    features_to_positions,
    positions_to_features,
)
from motiongen.generation.actions_in_turn import WINDOW_SECONDS
from motiongen.generation.arms_edit import arms_only
from motiongen.generation.constraints import (
    Constraints,
    enforce,
    lift_free_frames,
    place,
    window_control,
)
from motiongen.generation.control import (
    MIN_SEGMENT_SECONDS,
    assumed_text,
    check_keyframe_times,
    edit_constraints,
    follow_on_text,
    inbetween_constraints,
    keyframes_in_place,
    parse_timeline,
    path_constraints,
    poses_stand_note,
    predict_constraints,
    resolve_joints,
    rest_moved,
    slower_gaps,
    stepping_pace,
    travel_warning,
)
from motiongen.generation.durations import said_seconds, without_said_length
from motiongen.generation.on_beats import (
    check_beat_sync,
    frames_to_make,
    on_beats,
    past_default_reach,
)
from motiongen.generation.request import (
    MAX_BATCH,
    MAX_SECONDS,
    MAX_STEPS,
    MIN_SECONDS,
    GenerationRequest,
    Guidance,
    check_int,
    check_seconds,
    is_number,
    parse_guidance,
)
from motiongen.generation.source_rate import (
    at_source_rate,
    edit_kept,
    frame_at,
    keyframes_kept,
    source_rate,
)
from motiongen.generation.stand import is_stop
from motiongen.generation.start_heading import follow_start_heading
from motiongen.generation.timeline import JOIN_HALF
from motiongen.generation.vocabulary import (
    KNOWN_SIMILARITY,
    TRAVELLING,
    action_parts,
    compound,
    far_segments,
    in_data_words,
    in_style_words,
    leave_out_styles,
    negated,
    rare_action,
    recorded_as,
    several_styles,
    styles_named,
    unseen_style,
    unshown,
    vocabulary_warning,
)
from motiongen.generation.windows import (
    OVERLAP_SECONDS,
    place_on,
    sample_windows,
    segment_plan,
    window_plan,
)
from motiongen.motion import AudioRef, Motion, add_warning, join_warnings
from motiongen.paths import DEFAULT_CONTROL_MODEL, DEFAULT_SECONDS, DEFAULT_TIMELINE_MODEL
from motiongen.postprocess.turns import limit_overturn, limit_turn_rate
from motiongen.skeleton import NUM_JOINTS, PELVIS
from motiongen.tasks import TASK_ID, world_channels
from motiongen.tasks.pace import (
    MOVING_SPEED,
    ground_speed,
    pace_ratio,
    paced_path,
    segment_shares,
    strided_path,
)
from motiongen.tasks.style import checkpoint_style_encoder

logger = logging.getLogger(__name__)

# "bf16" runs the network under bfloat16 autocast: about 1.6x faster on CPUs with AVX512-BF16
# (docs/pipeline.md), at bf16 precision in the network (the sampler state stays fp32).
PRECISIONS = ("fp32", "bf16")
RUNTIMES = ("torch", "onnx", "onnx-int8")  # how the network runs (deploy/onnx.py)
# Metres between a generated joint and its pelvis beyond which the network is broken.
MAX_BODY_SPREAD = 100.0

__all__ = [
    "DEFAULT_MODEL",
    "PRECISIONS",
    "RUNTIMES",
    "SHIPPED_MODELS_DIR",
    "GenerationRequest",
    "Pipeline",
    "check_seconds",
    "parse_guidance",
    "shipped_model_path",
    "window_plan",
]


def _part_seed(seed: int, k: int) -> int:
    """The seed of part ``k`` of a joined request: seeds of their own, as seed + k would repeat
    a neighbour's (stories give actor i the seed seed + i)."""
    return int(np.random.SeedSequence([seed, k]).generate_state(1)[0] >> 1)


def _item_seed(seed: int, i: int) -> int:
    """The seed of motion ``i`` of a batch: the batch's own for the first, seeds of their own
    for the others, so each is made again alone from the seed it reports (a batch's items all
    said the batch's seed: one could not be re-made without the rest)."""
    return int(seed) if i == 0 else _part_seed(seed, i)


def _not_at_the_end(
    hook: Callable[[Tensor, float], Tensor], flow: bool
) -> Callable[[Tensor, float], Tensor]:
    """A sampler's post-step hook that leaves the last step's output as it is (a flow ends
    at t = 1, DDPM's time counts down to 0)."""

    def post_step(x: Tensor, t: float) -> Tensor:
        end = t >= 1.0 - 1e-6 if flow else t <= 1e-6
        return x if end else hook(x, t)

    return post_step


# A restyle kept at the source's speed says what is lost when the style's own pace is under
# this share of it
KEPT_SPEED_SAID = 0.85

# An example motion this close (cosine of style vectors) to a known style's prototype is
# restyled to as that style by name: real clips score 0.97-1.0 with their own style's and under
# 0.25 with any other; motions generated in one style 0.7-1.0.
EXAMPLE_STYLE_SIMILARITY = 0.7


def _style_name(style: Any, known: Sequence[str]) -> Any:
    """A style name the model does not know under that name as the one it does ("old" is
    elderly, "tired" exhausted: the Bandai sets' own words for one style); anything else as
    given."""
    from motiongen.evaluators.labels import STYLE_SYNONYMS

    if isinstance(style, str):  # " Sad" is sad: the texts say "in a sad way"
        key = style.strip().lower()
        return key if key in known else STYLE_SYNONYMS.get(key, key)
    return style


# A given motion whose joints move farther than this between model frames (20 m/s; the
# fastest joint of all 2,789 prepared clips moves 0.50 m) holds a cut or corrupt frames; one
# whose lowest joint keeps farther than these from y = 0 (real clips: within 5 cm) is not on
# the floor the model stands on.
JUMP_METRES = 1.0
ABOVE_FLOOR, BELOW_FLOOR = 0.5, 0.3
# A keyframe whose lowest joint is higher than this is in the air: no frame of the 2,235
# training takes lifts its lowest joint past 0.17 m (runs' flights, 99 % of takes under 0.13).
# A game developer's pose set 0.5 m up was reached floating, unsaid.
KEYFRAME_AIR = 0.25


def _odd_input(constraints: Any, fps: float) -> str | None:
    """A warning for a given motion that jumps between frames or stands off the floor: the
    task keeps it exactly as given, so what is made around it inherits the oddity."""
    known = constraints.known.all(axis=1)
    given = constraints.source if constraints.source is not None else constraints.targets
    rows = np.arange(len(given)) if constraints.source is not None else np.flatnonzero(known)
    if rows.size == 0:
        return None
    notes = []
    pairs = rows[:-1][np.diff(rows) == 1]
    if pairs.size:
        step = np.linalg.norm(given[pairs + 1] - given[pairs], axis=-1).max(axis=1)
        worst = int(np.argmax(step))
        if step[worst] > JUMP_METRES:
            notes.append(
                f"the given motion jumps {step[worst]:.1f} m between {pairs[worst] / fps:.2f} s "
                f"and {(pairs[worst] + 1) / fps:.2f} s (a cut, or corrupt frames?)"
            )
    floor = float(np.median(given[rows, :, 1].min(axis=1)))
    if floor > ABOVE_FLOOR or floor < -BELOW_FLOOR:
        where = "above" if floor > 0 else "below"
        notes.append(
            f"the given motion stands {abs(floor):.1f} m {where} the floor (y = 0) the model "
            "stands on; the made frames come down to it"
        )
    elif constraints.task == "inbetween":  # one keyframe in the air: the motion leaps to it
        for a, b in constraints.given_runs():
            low = float(given[a:b, :, 1].min())
            if low > KEYFRAME_AIR:
                notes.append(
                    f"the keyframe at {a / fps:.2f} s has its lowest joint {low:.2f} m above the "
                    "floor (y = 0): the motion leaves the floor to reach it (the top of a "
                    "jump?); lower it if the body should stand there"
                )
    return join_warnings(*notes) or None


def _in_a_way(style: str) -> str:
    """'in a sad way', 'in an elderly way' (the training texts' article)."""
    return f"in {'an' if style[:1].lower() in 'aeiou' else 'a'} {style} way"


def _style_unsaid(text: str) -> str:
    """``text`` without a closing "in a <style> way" (``_in_a_way``): a restyled timeline's
    segments say their style, and restyled again they had said two ("... in a sad way in a
    happy way")."""
    return re.sub(r"\s+in an? [a-z-]+ way\s*$", "", text, flags=re.IGNORECASE)


# A blend of two named styles mixes the two sentences' predictions, and a restyle's starts
# between both styles' takes, at weight ** this: mixed at the weight itself, the second style
# showed only near the end (val, `benchmarks/tasks.py --tasks restyle`, 12 blends: the
# classifier's mean P(B) at weights 0, 0.2 ... 1 was 0.029, 0.038, 0.059, 0.148, 0.255, 0.371;
# a proud -> sad walk read proud 0.75 at 0.5, sad from 1.0: a new user's trial). At 0.5 it
# rose 0.029, 0.069, 0.138, 0.217, 0.306, 0.371; at 0.4 0.029, 0.095, 0.165, 0.232, 0.314,
# 0.371, evenly; at 0.35 0.112 at 0.2 already. The style vectors and the pace blend at the
# weight itself. Forty-fifth session: the body was then past half-way to B at 0.2 already (an
# animator's trial: a happy -> sad walk at 0.5 was 3.5 cm from the sad one, 11 from happy;
# ``tasks.py``'s share of the way). Val, 24 blends, powers 0.4 / 0.6 / 0.8 / 1.0: the share of
# the way off the weight by 0.237 / 0.145 / 0.079 / 0.065 on average, P(B) scaled to 0..1 off
# it by 0.135 / 0.041 / 0.079 / 0.141; 0.8 is even both ways (monotone 95.8 % each).
BLEND_FELT_POWER = 0.8


def _said_in_style(
    text: str, style: Any, blend: tuple[Any, float] | None
) -> tuple[str, tuple[str, float] | None]:
    """(``text`` with a named style said in the training texts' words, the second prompt of
    a blend towards another named style, or None). The text pathway carries style words far
    more strongly than the style vector (restyle hit 0 % of target styles on val from the
    vector alone; a continuation asked style="sad" read P(sad) 0.01, as unstyled, against 0.89
    with "sadly" in its text): a named style is also said, and a blend of two named styles
    mixes the predictions for the two sentences. A blend towards an example or a vector is
    left to the style vectors (words for one end only would pin the motion there)."""
    if not isinstance(style, str) or (blend is not None and not isinstance(blend[0], str)):
        return text, None
    if blend is None:
        return f"{text} {_in_a_way(style)}", None
    felt = float(blend[1]) ** BLEND_FELT_POWER
    return f"{text} {_in_a_way(style)}", (f"{text} {_in_a_way(blend[0])}", felt)


def _segments_of(motion: Motion, frames: int, fps: float) -> tuple[list[tuple[str, int]], str]:
    """(a timeline's segments as (text, frames at ``fps``) over ``frames`` frames, from its
    ``meta["segments"]``, or [] with why they cannot be used, "" for a motion without them).
    A composed motion has them, and one generate made of a "then" prompt; one cut or
    resampled since, or whose segments are shorter than a timeline's, is read as one motion."""
    said = motion.timeline_segments
    if said is None:
        return [], ""
    texts = [t for t, _ in said]
    seconds = np.array([s for _, s in said])
    if abs(seconds.sum() - motion.seconds) > 1.0 / motion.fps + 1e-6:
        return [], f"its segments last {seconds.sum():.2f} s, the motion {motion.seconds:.2f} s"
    if not np.all(seconds >= MIN_SEGMENT_SECONDS) or not all(t.strip() for t in texts):
        return [], f"a segment is empty or under {MIN_SEGMENT_SECONDS:g} s"
    ends = np.round(np.cumsum(seconds) / seconds.sum() * frames).astype(int)
    lengths = np.diff(np.concatenate([[0], ends]))
    return [(t, int(n)) for t, n in zip(texts, lengths, strict=True)], ""


# A continuation's text names another action than its past's when the label classifier gives
# that action (and those within NEAR_ACTIONS cosine of it in the vocabulary: "a person waves"
# is near call, goodbye and the two-hand wave alike) under this probability on the past.
OTHER_ACTION = 0.05
NEAR_ACTIONS = 0.06
# A restyle whose part the label classifier gives its action's kind (``action_family``) under
# this probability is said to have lost it: on 160 val restyles (``benchmarks/tasks.py
# --tasks restyle --windows 160``'s asks) it named 5 of the 9 whose kind was lost (a raise
# read as a goodbye wave, a two-hand wave as a raise) and none of the 151 kept; at 0.25 one
# kept, at 0.1 only 3 lost.
ACTION_LOST = 0.2
# Actions that travel (``TRAVELLING``: content labels starting so): one continued into another
# (a walk into a turn or a run) keeps stepping with the control model alone, which predicts
# such motion best (test prediction error at 0.5 s 0.056 m, 0.065 with 4 of 40 walks into
# turns joined).
RAISES = "raise-up"  # raise-up-both-hands, raise-up-left-hand, raise-up-right-hand
# An arms edit keeps the body's own steps: a text naming them and an arm action ("a person
# jogs with both hands raised above the head": run 0.69, raise-up-both-hands 0.57) was made as
# a run, its arms held forward (both wrists above the head in 0-15 % of frames, 74-80 % for
# "a person raises both hands": a new user's trial). The arms follow the arm action's phrase
# instead where its cosine is within this margin of the travelling action's, and at least
# ARM_ACTION_FLOOR.
ARM_ACTION_MARGIN = 0.15
ARM_ACTION_FLOOR = 0.5
ARM_ACTIONS = ("raise-up", "wave-", "bye", "call", "punch", "slash")  # what arms alone do
# Words for actions done at once: one of them is no part a keyframe's pose could show
AT_ONCE = re.compile(r"\b(while|as\s+(?:he|she|they|it)|whilst|meanwhile)\b", re.IGNORECASE)
# An arms edit of a wave is the control model's (the label classifier read its waves as waves
# more often than the text model's, docs/control.md "Arms from the text model"), but its waving
# hand stayed down in some: a new user's right-hand wave on a real walk had the wrist above
# its shoulder in 2 %, 0 %, 0 % of frames for seeds 2-4 (real waves 84 %), the text model's
# arms 85-88 % for every seed. Where the hand rises in under WAVE_SHOWN of the frames, the
# text model's arms are taken instead. On 24 val windows (right-hand waves): windows with the
# hand down (under 0.3) 7 -> 0, wrist above the shoulder 0.59 -> 0.81 of frames, recognised
# 45.8 % either way; `benchmarks/tasks.py --split val --tasks edit`: arms recognised 47.5 %
# and frames showing the data's words' actions 0.899 unchanged, other arm texts 0.802 -> 0.861.
WAVE_SHOWN = 0.3
WAVING_SIDES = {
    "wave-right-hand": ("right",),
    "wave-left-hand": ("left",),
    "wave-both-hands": ("left", "right"),
}


# A timeline segment asked no length lasts as long as the index's phrases of its text, at most
# this: the data's takes repeat a wave or a walk for 7-9 s, and three actions had run 15-20 s
# (a new user's trial). On 40 timelines of 3 segments at their default lengths (`benchmarks/
# tasks.py --tasks timeline --segment-seconds auto`), median 6.8 -> 5.0 s a segment, every
# segment recognised either way (test and val); seam jerk p95 148 -> 202 m/s^3 on test (val
# 156 -> 158), the joins' edges p95 287 -> 270 (val 285 -> 321): all within real p95.
SEGMENT_CAP_SECONDS = 5.0


def _travel_way(action: str) -> str:
    """Which way a travelling action goes: "back", "left", "right" (walk-back, walk-left,
    walk-right) or "forward" (walks, turns, runs, dashes). A run continued into a walk
    backwards by the control model alone stopped dead at the seam (2.2 -> 0.2 m/s in one
    frame; a new user's trial): a change of way is joined like another action."""
    return next((w for w in ("back", "left", "right") if action == f"walk-{w}"), "forward")


# Actions that go straight on: a motion of these longer than one window has its slow veer
# taken out (``Pipeline._straightened``); turns ("walk-turn-left") and anything the text asks
# that the data never shows ("in a circle") keep theirs.
STRAIGHT_ON = ("walk", "run", "dash", "walk-back", "walk-left", "walk-right")
# Words of a path that bends on purpose, which the data does not show but a prompt may ask:
# such a walk keeps its course ("walks along a curved path", "jogs around the track").
CURVING = re.compile(r"\b(curv\w*|around|round|circl\w*|wander\w*|zig-?zag\w*|turn\w*|"
                     r"spiral\w*|meander\w*|bend\w*|winding)\b", re.IGNORECASE)  # fmt: skip

# Where a restyle starts from retrieved phrases of the asked action in the asked style (flow
# time). Chosen on val (40 restyles, `benchmarks/tasks.py --tasks restyle`): from noise content
# kept 67.5 %, style hit 70.0 % (pairs the data recorded: 87.0 / 73.9 %); t = 0.5: 72.5 / 77.5 %
# (95.7 / 87.0 %); t = 0.25: 72.5 / 80.0 % (95.7 / 91.3 %); unrecorded pairs unchanged.
RESTYLE_START = 0.25

# What a timeline segment cut short is told to do (a story, whose actions always have a
# length, says it in its own words: stick.story).
SEGMENT_SHORT_ADVICE = "give it more seconds, or none (its own length)"
LENGTH_SHORT_ADVICE = "leave out the length (seconds) to get the action's own"

# The prior start from which a rare action was seen to come out whole (the kick, 0.85-0.98 m
# at the default 0.5); from earlier starts the network makes more of it and the warning stays.
RARE_SHOWN_FROM = 0.5


def _started_from_action(meta: dict[str, Any], action: str | None) -> bool:
    """Whether sampling started from retrieved phrases (``meta["prior_start"]``, at least
    ``RARE_SHOWN_FROM``) whose best one is of ``action`` (a content label)."""
    found = meta.get("retrieved") or []
    if action is None or meta.get("prior_start", 0.0) < RARE_SHOWN_FROM or not found:
        return False
    return str(found[0].get("label") or "").split("|")[0] == action


# A text motion turning round further than this (degrees, its facing's range) where the prompt
# asks no turn is said: the data's one kick clip spins round three times (1,100 degrees in 12
# s), and "a person kicks with the right leg" made from it spun 292-364 degrees, unsaid (two
# new users' trials). No other kept take whose text names no turn turns past 180 degrees
# (the slashes, 120-180; walks, runs, waves, bows, raises under 120), and a timeline's 1.5 s
# kick that turned 265 degrees was left unsaid at 270 (a game developer's trial).
SPIN_WARNING_DEG = 180.0
# (a dance turns as it goes: a waltz's takes turn round and round)
_TURN_WORDS = re.compile(
    r"\b(turn\w*|spin\w*|rotat\w*|twirl\w*|pirouett\w*|whirl\w*|circl\w*|around|round|"
    r"danc\w*|waltz\w*|rumba\w*|cha-cha\w*)\b",
    re.IGNORECASE,
)


def _part_named(req: GenerationRequest, part: GenerationRequest) -> str:
    """How a warning names a part of a joined request: a timeline's segment by its text,
    an edit's span or arms, a continuation's new action."""
    if req.segments is not None:
        return f"segment {part.text!r}"
    return {"span": "the edited span", "arms": "the edited arms"}.get(
        str(req.joined), "the new action after the past"
    )


def _weights_sha256(folder: Path | None) -> str | None:
    """The SHA-256 of a checkpoint folder's weights as its manifest records them (verified at
    load), or None."""
    from motiongen.checkpoint import WEIGHTS_NAME
    from motiongen.integrity import MANIFEST_NAME

    if folder is None:
        return None
    try:
        entries = json.loads((folder / MANIFEST_NAME).read_text())["sha256"]
        return str(entries[WEIGHTS_NAME]["sha256"])
    except (TypeError, OSError, ValueError, KeyError):
        return None


def _spin_warning(motion: Motion, text: str) -> str | None:
    """A warning when ``motion``, sampled from retrieved takes of ``text`` that turn round more
    than ``SPIN_WARNING_DEG`` (``meta["take_turn_deg"]``), turns as far though the text asks
    for no turn. (From noise, or from takes that do not turn, the distilled models' own spins
    are another matter: docs/retrieval.md.)"""
    from motiongen.canonical import heading

    take = float(motion.meta.get("take_turn_deg", 0.0))
    if take <= SPIN_WARNING_DEG or _TURN_WORDS.search(text):
        return None
    facing = np.degrees(np.unwrap(heading(motion.positions.astype(np.float64))))
    turned = float(facing.max() - facing.min())
    if turned <= SPIN_WARNING_DEG:
        return None
    best = (motion.meta.get("retrieved") or [{}])[0]
    said = f"{str(best.get('text', ''))!r}, {str(best.get('label', '')).replace('|', ', ')}"
    return (
        f"the motion turns round {turned:.0f} degrees though the prompt asks for no turn: the "
        f"recorded takes it follows turn so ({said}: {take:.0f} degrees)"
    )


_THEN_WORD = re.compile(r"\bthen\b", re.IGNORECASE)
# What a "then" prompt may be given and still be made as a timeline (``Pipeline.timeline``'s
# options and a batch of them).
TIMELINE_OPTIONS = ("seconds", "steps", "sampler", "guidance", "seed", "batch", "style", "blend",
                    "literal")  # fmt: skip


def timeline_refused(exc: InputError) -> InputError:
    """``exc``, a "then" prompt's timeline refused (segments too short for its seconds), with
    the way out ``generate`` also has: one motion of the whole prompt."""
    return InputError(
        f"{exc}; or make one motion of the whole prompt (timeline=False, --no-timeline, "
        '"timeline": false)'
    )


@functools.cache
def _request_keywords() -> tuple[str, ...]:
    """What ``Pipeline.generate`` takes: ``check_request``'s keywords and postprocess (read
    once, not on every call)."""
    params = inspect.signature(Pipeline.check_request).parameters.items()
    return (*(n for n, p in params if p.kind is p.KEYWORD_ONLY), "postprocess")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _toes_moving(motion: Motion, fps: float, skating: float, sliding: float | None = None) -> str:
    """ "a toe moves along the floor in 67 % of frames, with no foot planted in 1 %": the
    words and both measures of ``motiongen score``'s warning (a restyle had said "the feet
    slide in 67 %" where score said the same frames were no sliding, a low swing; a new
    user's trial)."""
    from motiongen.artifacts import sliding_ratio

    return (
        f"a toe moves along the floor in {skating:.0%} of frames, with no foot planted in "
        f"{sliding_ratio(motion.positions, fps) if sliding is None else sliding:.0%}"
    )


# Share of frames in which both feet slide (``artifacts.sliding_ratio``) that a restyle says:
# real walks slide in none, waltzes and runs in up to 0.37 (``artifacts.SKATING_LIMIT``'s note).
RESTYLE_SLIDING = 0.15


def _restyle_slides(constraints: Any, motion: Motion, fps: float) -> str | None:
    """A warning when a restyle's feet slide where the source's did not: a slower style
    (sad, elderly, proud) takes short steps along the kept path of a brisk walk (toes near
    the floor at 1.4 m/s in 96 % of a sad restyle's frames, sanity failed, no word said); at
    the style's own pace (``motion.meta["pace"]``) fewer do, not all. Or when both feet slide
    together (``sliding_ratio``) in more than ``RESTYLE_SLIDING`` of the frames: a sad walk
    restyled at its own pace shuffled, both feet sliding in 24 % of frames where the source's
    never did, its toes' skating (0.50) under the limit and no word said (a new user's trial)."""
    from motiongen.artifacts import SKATING_LIMIT, foot_skating_ratio, sliding_ratio

    if constraints.source is None:
        return None
    source = constraints.source
    made, own = foot_skating_ratio(motion.positions, fps), foot_skating_ratio(source, fps)
    slid, own_slid = sliding_ratio(motion.positions, fps), sliding_ratio(source, fps)
    skates = made > SKATING_LIMIT and made > own + 0.1
    if not (skates or (slid > RESTYLE_SLIDING and slid > own_slid + 0.1)):
        return None
    pelvis = source[:, PELVIS][:, [0, 2]]
    speed = float(np.linalg.norm(pelvis[-1] - pelvis[0]) / max((len(source) - 1) / fps, 1e-9))
    slides = f"{_toes_moving(motion, fps, made, slid)} (the source: {own:.0%}, {own_slid:.0%}): "
    if "pace" in motion.meta:
        return slides + (
            f"even at this style's pace, {speed:.1f} m/s on average along the path, its steps "
            "fall short; generate the action in that style from text for steps of its own"
        )
    if motion.meta.get("keep_speed"):
        return slides + (
            f"kept at the motion's speed (keep_speed), {speed:.1f} m/s on average along the "
            "path, this style steps shorter than that; leave out keep_speed for the style's own "
            "pace, or generate the action in that style from text"
        )
    # not slowed: the style's takes of the action go at least this fast (an exhausted jog; the
    # keep_speed advice here read as a contradiction to a new user who had not asked for it)
    return slides + (
        f"this style's takes of the action go at least as fast as the motion, so the path is "
        f"kept at its speed, {speed:.1f} m/s on average, and the style's steps fall short of "
        "it; choose a style that covers the ground, or generate the action in that style from "
        "text"
    )


# A prompt this close to one of an action's phrases says that action, however its other
# phrases score (``known_actions``).
VERBATIM = 0.95


# A text-free continuation "winds down" when the past moved at least MOVING_SPEED over the
# ground in its last second and the continuation's last second moves at under WOUND_DOWN of that.
# (At 0.4 a 1.4 m/s jog continued for 25 s into a 0.5-0.7 m/s shuffle, arms hanging, went
# unsaid: 0.42 of its pace; a new user's trial.)
WOUND_DOWN = 0.5


def _prediction_winds_down(constraints: Any, motion: Motion, fps: float) -> str | None:
    """A warning when a continuation without text slows far down: with nothing said the model
    drifts to standing still (a 1 m/s walk continued for 2 minutes stood for the last 100 s, and
    sanity passed it; helper trial). Compared at the model rate: the past's last second
    against the continuation's last second."""
    past = int(np.isfinite(constraints.targets[:, 0, 0]).sum())
    second = max(2, int(round(fps)))
    pos = motion.positions
    if past < second or len(pos) - past < second:
        return None
    before = ground_speed(pos[past - second : past], fps)
    after = ground_speed(pos[-second:], fps)
    if before < MOVING_SPEED or after > WOUND_DOWN * before:
        return None
    return (
        f"without a text the continuation winds down: the past moves at {before:.1f} m/s, the "
        f"continuation's last second at {after:.1f} m/s; say what it goes on doing (text, e.g. "
        "'a person walks forward')"
    )


def _inbetween_slides(motion: Motion, fps: float, text: str | None) -> str | None:
    """A warning when an in-between's feet slide: keyframes 1.5 m/s apart passed the travel
    warning's 2 m/s, and the result glided on planted feet with no word said (helper trial).
    ``text``: the request's; given, the advice does not ask for one."""
    from motiongen.artifacts import SKATING_LIMIT, foot_skating_ratio
    from motiongen.generation.control import GLIDES

    made = foot_skating_ratio(motion.positions, fps)
    if made <= SKATING_LIMIT or GLIDES in str(motion.meta.get("warning", "")):
        return None
    head = f"{_toes_moving(motion, fps, made)} (few real clips reach {SKATING_LIMIT:.0%}): "
    ground = motion.positions[:, PELVIS][:, [0, 2]]
    travel = float(np.linalg.norm(ground[-1] - ground[0]))
    seconds = (len(ground) - 1) / fps
    if travel < IN_PLACE_PACE * seconds:  # keyframes 8 cm apart and a walk: it stepped on the spot
        # in place, single poses stand where the one before ends (they have no pace to carry
        # them on): asking to move them apart contradicted --in-place (a new user's trial)
        apart = (
            "give pieces of the takes (FILE@START:END) long enough to show their pace, which "
            "carries the body on"
            if "keyframes_moved_m" in motion.meta
            else "put the keyframes as far apart as the motion would travel"
        )
        return head + (
            f"the legs step while the body goes {travel:.1f} m in {seconds:.1f} s; say an "
            f"action done in place (e.g. 'a person stands and waves'), or {apart}"
        )
    advice = (
        "add a keyframe between or put them closer (the text alone did not make it step)"
        if text
        else "say how it moves (text, e.g. 'a person walks'), add a keyframe between, or put "
        "them closer"
    )
    return head + f"the body travels between the keyframes without stepping; {advice}"


# A body turning more than this within ``PIVOT_SECONDS`` of a keyframe while a toe skates in
# more than ``PIVOT_SKATING`` of those frames pivots on its feet: a game developer's keyframe
# facing 90 degrees off the way to the next turned 104 degrees in 0.5 s, toes sliding 2-4 m/s,
# unsaid (skating 0.8 there). Over 586 half-second windows of 40 test clips real turns reach 95
# degrees but none with such skating; 20 in-betweens between three poses of them, none.
PIVOT_DEGREES, PIVOT_SECONDS, PIVOT_SKATING = 60.0, 0.5, 0.5


def _keyframe_pivots(constraints: Any, motion: Motion, fps: float) -> str | None:
    """A warning where an in-between turns on planted feet next to a keyframe."""
    from motiongen.artifacts import foot_skating_ratio
    from motiongen.canonical import heading

    runs = constraints.given_runs()
    p = motion.positions
    if not runs or len(p) != constraints.frames:
        return None
    h = np.unwrap(heading(p))
    w = int(round(PIVOT_SECONDS * fps))
    sides = [(b - 1, min(len(p) - 1, b - 1 + w), "after") for _, b in runs]
    sides += [(a, max(0, a - w), "before") for a, _ in runs]
    for key, edge, when in sides:
        lo, hi = min(key, edge), max(key, edge)
        if hi - lo < 3:
            continue
        turn = float(np.degrees(np.abs(h[lo : hi + 1] - h[key]).max()))
        skating = foot_skating_ratio(p[lo : hi + 1], fps)
        if turn > PIVOT_DEGREES and skating > PIVOT_SKATING:
            return (
                f"the body turns {turn:.0f} degrees on its feet within {PIVOT_SECONDS:g} s "
                f"{when} the keyframe at {key / fps:.2f} s (a toe slides in {skating:.0%} of "
                "those frames): the keyframe faces away from the way the body goes; turn it "
                "to face that way, or give the turn time (a keyframe between)"
            )
    return None


# An in-between that turns farther than this from the line between two keyframes' facings
# and back: none of 144 real 3 s val windows turns past 33 degrees so, nor 80 in-betweens of
# their poses past 67 (docs/control.md); an animator's trial's turned 121, unsaid.
SWING_DEGREES = 90.0


def _inbetween_swings(constraints: Any, motion: Motion, fps: float, text: str | None) -> str | None:
    """A warning where an in-between turns away between two keyframes and back (unless its
    text asks to turn)."""
    from motiongen.canonical import heading

    runs = constraints.given_runs()
    p = motion.positions
    if len(runs) < 2 or len(p) != constraints.frames or _TURN_WORDS.search(text or ""):
        return None
    h = np.degrees(np.unwrap(heading(p.astype(np.float64))))
    for (_, lo), (hi, _) in zip(runs, runs[1:], strict=False):
        lo -= 1  # the gap from the last given frame to the next given one
        line = np.linspace(h[lo], h[hi], hi - lo + 1)
        away = float(np.abs(h[lo : hi + 1] - line).max())
        if away > SWING_DEGREES:
            return (
                f"the body turns {away:.0f} degrees away and back between the keyframes at "
                f"{lo / fps:.2f} s and {hi / fps:.2f} s, which face within "
                f"{abs(h[hi] - h[lo]):.0f} degrees of each other: try another seed, or give a "
                "keyframe between"
            )
    return None


# An in-between whose pelvis ends closer to where it started than this pace (m/s) times its
# length stays in place: its sliding feet step on the spot (a new user's trial: keyframes 8 cm
# apart 4 s apart with "a person walks forward"), not a body carried along without steps.
IN_PLACE_PACE = 0.2


def _cancellable(
    predict: Callable[[Tensor, Tensor], Tensor], cancel: Callable[[], bool]
) -> Callable[[Tensor, Tensor], Tensor]:
    """``predict`` that first asks ``cancel`` and stops with ``Cancelled`` when it says so."""

    def checked(x: Tensor, t: Tensor) -> Tensor:
        if cancel():
            raise Cancelled("generation cancelled: its caller no longer waits for it")
        return predict(x, t)

    return checked


class Pipeline:
    """Text/music-to-motion generation with one checkpoint.

    Build with ``Pipeline.from_pretrained(path)``; call it to generate. ``text_encoder``
    overrides the encoder named by the checkpoint (any object with ``encode(list[str])``
    returning pooled/tokens/mask tensors and a ``dim``).
    """

    def __init__(
        self,
        model: nn.Module,
        config: CheckpointConfig,
        norm: NormStats,
        *,
        name: str = "",
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
        vocabulary: dict[str, list[str]] | None = None,
        action_styles: dict[str, dict[str, list[str]]] | None = None,
        style_encoder: Any = None,
        runtime: str = "torch",
    ) -> None:
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if runtime not in RUNTIMES:
            raise InputError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        if runtime != "torch" and precision != "fp32":
            raise InputError(f"the {runtime} runtime runs fp32 graphs; leave precision at fp32")
        # Post-processing's scipy imports (~0.3 s) belong to loading, not to the first
        # motion's timing line, where they showed as "post-processing 410 ms".
        import motiongen.artifacts  # noqa: F401
        import motiongen.postprocess  # noqa: F401

        one_blas_thread()
        self.precision = precision
        self.runtime = runtime
        self.model = model.to(device).eval()
        self.config = config
        self.norm = norm
        self.name = name
        self.weights_sha256: str | None = None  # from the checkpoint folder's manifest
        self.device = torch.device(device)
        self._text_encoder = text_encoder
        self._lock = threading.Lock()
        self._segment_pipes: dict[str, Pipeline] = {}  # timelines' text models, by name
        spec = config.conditioning
        self.fps = float(spec.fps)
        self.window = int(spec.window)
        net = getattr(model, "config", None)
        self.text_dim = int(getattr(net, "text_dim", spec.text_dim) or 0)
        self.audio_dim = int(getattr(net, "audio_dim", spec.audio_dim) or 0)
        feature_dim = int(getattr(net, "feature_dim", FEATURE_DIM))
        if feature_dim != FEATURE_DIM:
            raise FormatError(
                f"checkpoint {name or ''} models {feature_dim} features per frame; this "
                f"motiongen uses {FEATURE_DIM} (motiongen.features) — retrain it"
            )
        try:
            self.process = config.build_process()
        except MotionGenError as err:
            raise FormatError(f"checkpoint {name}: {err}") from err
        for task, defaults in (spec.tasks or {}).items():
            named = defaults.get("sampler")
            if named is not None and str(named).lower() not in self.process.samplers:
                raise FormatError(
                    f"checkpoint {name}: conditioning.tasks.{task}.sampler {named!r} is not a "
                    f"{self.process.name} sampler ({', '.join(self.process.samplers)})"
                )
        self.overlap = min(int(round(OVERLAP_SECONDS * self.fps)), self.window // 2)
        self._norm_mean = torch.as_tensor(norm.mean, device=self.device)
        self._norm_std = torch.as_tensor(norm.std, device=self.device)
        self.vocabulary = vocabulary
        # {"actions": action -> the styles the data recorded it in, "words": style -> words}
        self.action_styles = action_styles
        self._vocab_emb: tuple[list[str], Tensor, Tensor] | None = None
        self.control_dim = int(getattr(net, "control_dim", 0) or 0)
        self.num_tasks = int(getattr(net, "num_tasks", 0) or 0)
        self.style_dim = int(getattr(net, "style_dim", 0) or 0)
        if self.style_dim and style_encoder is None:
            raise FormatError(f"checkpoint {name} takes style vectors but has no style encoder")
        self.style_encoder = style_encoder if self.style_dim else None
        self.prior_dim = int(getattr(net, "prior_dim", 0) or 0)
        # a flow model given a retrieved prior samples from it at this time (0: from noise);
        # the checkpoint's choice, settable for comparisons (eval --prior-start)
        self.prior_start = float(config.conditioning.prior_start) if self.prior_dim else 0.0
        self.retriever: Any = None  # retrieval.Retriever, set by use_index (or on first use)
        self.index_source: tuple[Any, Any] = (None, None)  # (index, reranker) for first use
        self._no_index_note: str | None = None  # why the default's retrieval found no index
        self._classifier: Any = None  # the label classifier, loaded when restyle needs it

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Checkpoint,
        *,
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
        runtime: str = "torch",
    ) -> Pipeline:
        name = checkpoint.path.name if checkpoint.path is not None else ""
        if name in ("best", "final"):  # a run's checkpoints: two runs' "best" told apart
            name = f"{checkpoint.path.parent.name}/{name}"
        model = checkpoint.model
        weights = _weights_sha256(checkpoint.path)
        if runtime in RUNTIMES and runtime != "torch":
            from motiongen.checkpoint import WEIGHTS_NAME
            from motiongen.deploy.onnx import onnx_denoiser

            if checkpoint.path is None:
                raise InputError("the ONNX runtime needs a checkpoint loaded from a folder")
            model = onnx_denoiser(
                model, checkpoint.path / WEIGHTS_NAME, int8=runtime == "onnx-int8"
            )
        pipe = cls(
            model,
            checkpoint.config,
            checkpoint.norm,
            name=name,
            device=device,
            text_encoder=text_encoder,
            precision=precision,
            vocabulary=checkpoint.vocabulary,
            action_styles=checkpoint.action_styles,
            style_encoder=checkpoint_style_encoder(
                checkpoint.path, int(checkpoint.config.model.get("style_dim", 0) or 0)
            ),
            runtime=runtime,
        )
        pipe.weights_sha256 = weights
        return pipe

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        *,
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
        runtime: str = "torch",
    ) -> Pipeline:
        """Load a checkpoint folder; None is the shipped default (``paths.DEFAULT_MODEL``), and
        the name of a shipped model (``"tiny-ddim"``) is accepted too. runtime: ``torch``, ``onnx`` (the
        network exported once to ONNX and run by onnxruntime; cached by weights) or
        ``onnx-int8`` (its matrix products quantised to int8)."""
        folder = resolve_checkpoint(path)
        try:
            checkpoint = load_checkpoint(folder, device=device)
        except (RuntimeError, TypeError, ValueError) as err:
            if isinstance(err, MotionGenError):
                raise
            # A config the network class rejects (wrong types, impossible sizes).
            raise FormatError(
                f"checkpoint {folder} cannot be built: {str(err).splitlines()[0]}"
            ) from err
        return cls.from_checkpoint(
            checkpoint, device=device, text_encoder=text_encoder, precision=precision,
            runtime=runtime,
        )  # fmt: skip

    def use_index(self, index: Any = None, *, reranker: Any = None, **options: Any) -> Pipeline:
        """Retrieve priors from ``index`` (a ``MotionIndex`` or its folder; None: the default,
        ``generation.rag.default_index_dir``), reranked by ``reranker`` (a folder,
        or None for dense order). ``options``: ``Retriever`` keywords (k, n, min_similarity)."""
        from motiongen.generation.rag import make_retriever

        self.retriever = make_retriever(index, reranker=reranker, **options)
        return self

    @property
    def process_name(self) -> str:
        return self.process.name

    @property
    def start_time(self) -> float:
        """The flow time sampling starts at from retrieved phrases: the checkpoint's
        ``prior_start``; for a model without a prior input (a control model, whose restyles
        start from phrases of the asked action in the asked style), ``RESTYLE_START``."""
        return self.prior_start if self.prior_dim else RESTYLE_START

    def starts_from(self, prior: Any) -> bool:
        """Whether sampling starts from this retrieved prior (``start_time``): a flow model,
        and phrases that agree on the action (``retrieval.prior.AGREEMENT``); otherwise the
        prior is only the network's input and the network reads the text."""
        return (
            prior is not None
            and self.start_time > 0
            and self.process_name == "flow"
            and bool(prior.agrees)
        )

    @property
    def default_steps(self) -> int:
        steps = self.config.conditioning.steps
        return self.process.default_steps if steps is None else steps

    @property
    def default_sampler(self) -> str:
        """The checkpoint's own default sampler if it names one it can run, else the
        process's first."""
        named = self.config.conditioning.sampler
        return named if named in self.samplers else self.samplers[0]

    @property
    def samplers(self) -> tuple[str, ...]:
        """Samplers this checkpoint's process offers; the first is the default."""
        return tuple(self.process.samplers)

    def __repr__(self) -> str:
        return (
            f"Pipeline(name={self.name!r}, process={self.process_name}, fps={self.fps:g}, "
            f"window={self.window}, text_dim={self.text_dim}, audio_dim={self.audio_dim}, "
            f"precision={self.precision}, runtime={self.runtime})"
        )

    # ---- conditioners -------------------------------------------------------------------
    @property
    def text_encoder(self) -> Any:
        """The text encoder, loaded on first use and checked against the model's text width."""
        from motiongen.conditioning.text import shared_text_encoder

        spec = self.config.conditioning
        with self._lock:
            if self._text_encoder is None:
                named = spec.text_model
                folder = Path(named).expanduser() if named else None
                if folder is not None and not folder.is_dir():
                    folder = None  # a model name, not a folder: the default encoder
                self._text_encoder = shared_text_encoder(
                    folder, device=str(self.device), max_tokens=spec.max_tokens
                )
            encoder = self._text_encoder
        if int(encoder.dim) != self.text_dim:
            named = spec.text_model or "an unknown text model"
            raise FormatError(
                f"checkpoint {self.name} expects {self.text_dim}-d text embeddings (trained with "
                f"{named}) but the text encoder gives {encoder.dim}-d; pass "
                "text_encoder=TextEncoder(folder of that model)"
            )
        return encoder

    def known_actions(
        self, pooled: Tensor, texts: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """How close prompts are to the actions the checkpoint was trained on.

        pooled: (B, C) sentence embeddings of the prompts. Per prompt: {"known", "similarity",
        "nearest": [[action, cosine], ...] (the best 3)}; known is False below
        ``KNOWN_SIMILARITY``. Empty when the checkpoint has no vocabulary. Given the prompts'
        ``texts`` and a checkpoint that knows which styles each action was recorded in, a
        known prompt naming only styles its nearest action was never recorded in also gets
        "unseen_style": {"action", "styles" (named), "recorded" (the action's styles)}. A
        prompt known only through actions of a handful of training clips (one kick, one punch)
        gets "rare": {"action", "clips", "phrase"} (``generation.vocabulary.rare_action``),
        and one naming several actions ("bows and waves goodbye", "walks, then bows") gets
        "compound": {"kind", "parts", "actions"} (``generation.vocabulary.compound``); one
        naming a path, place or prop no clip shows ("in a circle", "up the stairs") gets
        "unshown": what it names (``generation.vocabulary.unshown``); one with a negation
        ("not with the right hand") gets "negated": that phrase (``...vocabulary.negated``).
        """
        if not self.vocabulary:
            return []
        from motiongen.retrieval.wordings import TOP_WORDINGS

        encoder = self.text_encoder  # takes self._lock itself: not inside it
        if texts:
            # said of "a person", as the vocabulary is: "a sad woman walks" scored 0.59 and was
            # called far from every action (a new-user trial)
            from motiongen.retrieval.wordings import as_person

            plain = [as_person(t) for t in texts]
            if plain != list(texts):
                pooled = encoder.encode(plain).pooled
        else:
            plain = []
        with self._lock:
            if self._vocab_emb is None:
                labels = [k for k, texts in self.vocabulary.items() for _ in texts]
                sentences = [t for v in self.vocabulary.values() for t in v]
                emb = encoder.encode(sentences, cache=False).pooled.float()
                names = list(dict.fromkeys(labels))  # in first-phrase order, as ties break
                emb = torch.nn.functional.normalize(emb, dim=-1)
                group = torch.tensor([names.index(label) for label in labels], device=emb.device)
                self._vocab_emb = (names, group, emb.T.contiguous())
            names, group, emb_t = self._vocab_emb

        def rows(table: Tensor) -> list[dict[str, float]]:
            return [dict(zip(names, row, strict=True)) for row in table.tolist()]

        def per_action(vectors: Tensor) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
            """Per prompt, each action's best phrase similarity (one reduction rather than a
            Python loop over every phrase, four times a generation), and the mean of its
            ``TOP_WORDINGS`` best phrases' (what the nearest actions are ranked by)."""
            sims = torch.nn.functional.normalize(vectors.float(), dim=-1) @ emb_t  # (B, phrases)
            best = sims.new_full((len(sims), len(names)), -1.0)
            best.scatter_reduce_(1, group.expand(len(sims), -1), sims, "amax")
            mean = torch.stack(
                [
                    mine.topk(min(TOP_WORDINGS, mine.shape[1]), dim=1).values.mean(dim=1)
                    for mine in (sims[:, group == k] for k in range(len(names)))
                ],
                dim=1,
            )
            return rows(best), rows(mean)

        out = []
        clips = (self.action_styles or {}).get("clips") or {}
        # the nearest actions ranked as retrieval ranks labels, by their TOP_WORDINGS closest
        # phrases: by the single closest, "a person waves" was the beckoning action for its one
        # phrase "waves someone over", and a happy wave's style was dropped as never recorded
        # with it (a new user's trial); known or not still by the closest phrase, and a prompt
        # that is one of an action's phrases (VERBATIM) is that action ("waves someone over")
        wholes, ranks = per_action(pooled)
        words = (self.action_styles or {}).get("words") or {}
        if plain and words:
            # An action is as known without the prompt's style words: several of them pull a
            # sentence away from its action ("an old tired man walks slowly" scored 0.58 to
            # the walk and was called far from every action; a new-user trial).
            bare = [leave_out_styles(t, sorted(styles_named(t, words)), words) for t in plain]
            changed = [i for i, (b, t) in enumerate(zip(bare, plain, strict=True)) if b != t]
            if changed:
                without, bare_ranks = per_action(encoder.encode([bare[i] for i in changed]).pooled)
                for i, best, rank in zip(changed, without, bare_ranks, strict=True):
                    wholes[i] = {k: max(v, best[k]) for k, v in wholes[i].items()}
                    ranks[i] = {k: max(v, rank[k]) for k, v in ranks[i].items()}
        for best, rank in zip(wholes, ranks, strict=True):
            top = sorted(rank.items(), key=lambda kv: (best[kv[0]] < VERBATIM, -kv[1]))[:3]
            info: dict[str, Any] = {
                "known": best[top[0][0]] >= KNOWN_SIMILARITY,
                "similarity": round(best[top[0][0]], 3),
                "nearest": [[k, round(v, 3)] for k, v in top],
            }
            if rare := rare_action(best, clips):
                rare["phrase"] = self.vocabulary[rare["action"]][0]
                info["rare"] = rare
            out.append(info)
        split = [action_parts(t) for t in plain]  # "a sad person walks": as scored above
        if any(parts for _, parts in split):
            halves = per_action(encoder.encode([p for _, parts in split for p in parts]).pooled)[0]
            for info, whole, (kind, parts) in zip(out, wholes, split, strict=False):
                mine, halves = halves[: len(parts)], halves[len(parts) :]
                joined, sequences = self._compound_actions
                if several := compound(kind, parts, whole, mine, joined, sequences):
                    info["compound"] = several
        for info, text in zip(out, texts or [], strict=False):
            if things := unshown(text):
                info["unshown"] = things
            if phrase := negated(text):
                info["negated"] = phrase
            nearest = info["nearest"][0][0] if info.get("nearest") else None
            if info["known"] and (styles := several_styles(text, self.action_styles, nearest)):
                info["several_styles"] = styles
            unseen = unseen_style(text, info, self.action_styles)
            if unseen:
                # Label names ("call", "byebye") read as jargon in a warning: say one of the
                # action's training sentences beside it.
                unseen["phrase"] = self.vocabulary.get(unseen["action"], [""])[0]
                info["unseen_style"] = unseen
        return out

    @functools.cached_property
    def _compound_actions(self) -> tuple[frozenset[str], frozenset[str]]:
        """(joined, sequences): the actions whose own sentences join two ("walks and turns
        left"), and of those the ones whose sentences say "then" ("walks forward then turns
        to the left"): a prompt naming both halves is that one action
        (``generation.vocabulary.compound``). Parsed once: per call it had cost 6 ms of a
        30 ms generation."""
        kinds = {
            action: {action_parts(s)[0] for s in sentences}
            for action, sentences in (self.vocabulary or {}).items()
        }
        joined = frozenset(a for a, k in kinds.items() if k - {""})
        return joined, frozenset(a for a in joined if "then" in kinds[a])

    def _network_texts(self, texts: list[str], literal: list[bool]) -> list[str]:
        """The prompts the network is given (``_in_style_words``, ``_without_unseen_styles``),
        on their own."""
        texts = self._in_style_words(texts, literal)
        if not self.action_styles or all(literal):
            return texts
        known = self.known_actions(self.text_encoder.encode(texts).pooled, texts)
        return self._without_unseen_styles(texts, known, literal)

    @staticmethod
    def _in_style_words(texts: list[str], literal: list[bool]) -> list[str]:
        """Each prompt's manner words no training text uses said as their style's
        (``vocabulary.MANNER_WORDS``: "merrily" -> "happily"), unless its ``literal``."""
        return [t if keep else in_style_words(t)[0] for t, keep in zip(texts, literal, strict=True)]

    def _without_unseen_styles(
        self, texts: list[str], known: list[dict[str, Any]], literal: list[bool]
    ) -> list[str]:
        """The prompts the network is given: each naming a style its action was never
        recorded in loses the style's words (recorded as the info's unseen_style "used"),
        unless its ``literal`` is True."""
        used = list(texts)
        for i, (text, info, keep) in enumerate(zip(texts, known, literal, strict=False)):
            unseen = info.get("unseen_style")
            if unseen and not keep:
                plain = leave_out_styles(text, unseen["styles"], self.action_styles["words"])
                if plain != text:
                    unseen["used"] = used[i] = plain
        return used

    @property
    def default_guidance(self) -> Guidance:
        value = self.config.conditioning.guidance
        return self.process.default_guidance if value is None else parse_guidance(value)

    def _music_frames(self, music: Path, offset: float, frames: int) -> np.ndarray:
        """(frames, 50) audio features from ``offset`` for the whole generated span."""
        from motiongen.conditioning.audio_features import FEATURE_DIM as AUDIO_DIM
        from motiongen.conditioning.audio_features import cached_features_from_file

        if self.audio_dim != AUDIO_DIM:
            raise FormatError(
                f"checkpoint {self.name} expects {self.audio_dim}-d audio features; "
                f"motiongen computes {AUDIO_DIM}-d ones — retrain it"
            )
        # The features' normalisations (band means, onset peak) are per analysed span, so
        # the whole span is analysed once and sliced per window, as in training.
        return cached_features_from_file(music, self.fps, offset, num_frames=frames).frames

    # ---- generation ---------------------------------------------------------------------
    def __call__(
        self, text: str | None = None, music: str | Path | None = None, **options: Any
    ) -> Motion | list[Motion]:
        """``generate``, returning the motion itself when ``batch`` is 1."""
        motions = self.generate(text, music, **options)
        return motions[0] if len(motions) == 1 else motions

    def generate(
        self,
        text: str | None = None,
        music: str | Path | None = None,
        *,
        postprocess: bool = True,
        timeline: bool | None = None,
        **request: Any,
    ) -> list[Motion]:
        """Generate ``batch`` motions (a list, also for one).

        text: a prompt (1..1,000 characters). music: an audio file the motion follows and
        plays with, from ``music_offset`` seconds; it must last at least ``seconds``. Neither:
        unconditional motion. postprocess: constant bones, feet on the floor, no foot sliding,
        light smoothing. request: the keywords of ``check_request``:

        seconds: length, 0.5 <= seconds <= 120; beyond the model window (196 frames = 9.8 s)
        the motion is made of overlapping windows with blended seams. Default: for a text alone
        with retrieval, as long as the retrieved phrases (their weighted median, 2 s to one
        window; meta["length_from"] says which), else ``DEFAULT_SECONDS`` (6.5).
        steps: sampler steps (default: the process's, 4 for flow, 50 for DDIM). sampler: one
        the checkpoint's process offers (euler | midpoint | heun for flow, ddim for DDPM).
        guidance: one classifier-free guidance scale, or (text_scale, audio_scale); default
        from the checkpoint, else the process's (2.5 flow, 7.5 DDIM).
        seed: the same seed gives the same motion; None draws one (recorded in meta).
        batch (1): how many motions, each with a seed of its own in meta["seed"] (the first
        the given seed) that makes it again alone. seed_motion: a motion whose frames are the
        fixed start of the result. music_offset (0): where in the music to start, seconds.
        rag: True
        starts from retrieved phrases (a checkpoint with a prior input and an index, see
        ``use_index``), listed in the motion's meta["retrieved"]; False never; None (default)
        as the checkpoint says (``conditioning.retrieval``: the shipped default retrieves for a
        prompt without music when an index is built, else notes meta["retrieval_note"]). literal (False): a
        prompt naming a style its action was never recorded in ("raises both hands happily")
        is generated without the style words, told in meta["warning"] and
        meta["vocabulary"]["unseen_style"]["used"]; True sends it as written. beat_sync: a
        dance to music is made longer and retimed onto the music's beats (local tempo within
        25 %, ``generation.on_beats``; meta["beat_sync"] says how) by default (None); False
        keeps the network's own timing; True without music is an error. timeline: None
        (default) makes a prompt that puts actions one after the other ("a person walks, then
        waves": ``sequence_prompt``) as a ``Pipeline.timeline`` of its segments when it is
        given only what a timeline takes (``TIMELINE_OPTIONS``; ``makes_timeline``): a text
        model's are made by it and joined by ``DEFAULT_TIMELINE_MODEL``'s in-betweening, a
        control model joins its own segment model's (meta["made_as_timeline"] names the
        joining model); False makes one generation of the whole prompt; True a timeline of
        any text.
        """
        t_start = time.perf_counter()
        refuse_unknown(request, _request_keywords(), "generate")
        if self.makes_timeline(text, music, timeline, **request):
            return self._timelines(str(text), postprocess, request)
        req = self.check_request(text, music, **request)
        seed_motion = request.get("seed_motion")
        return self._run([req], postprocess=postprocess, seed_motion=seed_motion, t_start=t_start)

    def sequence_prompt(self, text: str) -> bool:
        """Whether ``text`` puts actions one after the other ("a person walks, then waves";
        ``generation.vocabulary.compound``), which ``generate`` makes as a timeline: one
        generation makes one action. Not a known action whose own sentences say "then"
        ("walks forward then turns to the left" is walk-turn-left)."""
        if action_parts(text)[0] != "then":
            # a sequence the parse refuses (an empty segment, "walks, then , then bows") is
            # refused as compose refuses it: made as one motion it dropped the walk unsaid
            if _THEN_WORD.search(text):
                parse_timeline(text, self.fps)
            return False
        if not self.text_dim or not self.vocabulary:
            return False  # the parse first: it costs nothing, the embedding a text encoding
        return (self._known_action(text).get("compound") or {}).get("kind") == "then"

    def makes_timeline(
        self,
        text: str | None,
        music: Any = None,
        timeline: bool | None = None,
        **request: Any,
    ) -> bool:
        """Whether ``generate(text, music, timeline=timeline, **request)`` makes a timeline
        (the one rule the CLI's --prompts and the service follow too): asked
        (``timeline=True``; an ``InputError`` beside an option a timeline does not take), or by
        default (None) a ``sequence_prompt`` given nothing a timeline does not take (music, a
        seed motion, a rag setting, beat sync: one generation, which warns that it may show
        one action)."""
        if timeline is not None and not isinstance(timeline, bool):
            raise InputError(
                f"timeline must be true, false or None (the default), got {timeline!r}"
            )
        if timeline is False:
            return False
        given = {k for k, v in request.items() if v is not None}
        if not request.get("music_offset"):
            given.discard("music_offset")
        if music is not None:
            given.add("music")
        other = sorted(given - set(TIMELINE_OPTIONS))
        if timeline:
            if text is None or other:
                raise InputError(
                    "a timeline (timeline=True, --timeline) makes a text's actions one after "
                    "the other"
                    + (f" and takes no {', '.join(other)}" if other else ": give a text")
                )
            return True
        if text is None or other or not isinstance(text, str):
            return False
        try:
            text = validate_prompt(text)
        except InputError:  # said by check_request
            return False
        return self.sequence_prompt(text)

    def _timeline_maker(self, request: dict[str, Any]) -> tuple[Pipeline, dict[str, Any]]:
        """(the pipeline that joins ``generate``'s timeline, its ``timeline`` options): this
        model where it is a control model (its own segment model then makes the segments),
        else ``DEFAULT_TIMELINE_MODEL`` with this model making the segments."""
        maker = self if self.control_dim else self._segment_pipeline(DEFAULT_TIMELINE_MODEL)
        options = {k: request[k] for k in TIMELINE_OPTIONS
                   if k not in ("seconds", "seed", "batch") and request.get(k) is not None}  # fmt: skip
        if maker is not self:
            options["segment_model"] = self
        return maker, options

    def check_timeline(
        self, text: str, *, seed: int | None = None, **request: Any
    ) -> GenerationRequest:
        """The checked request of the timeline ``generate`` makes of ``text`` with ``seed``
        (``makes_timeline``; ``request``: ``TIMELINE_OPTIONS``), as its maker's
        ``check_compose``; an ``InputError`` (segments too short for ``seconds``) also names
        one motion of the whole prompt as the way out."""
        maker, options = self._timeline_maker(request)
        if seed is not None:
            options["seed"] = seed
        try:
            return maker.check_compose(text, seconds=request.get("seconds"), **options)
        except InputError as exc:
            raise timeline_refused(exc) from None

    def run_timeline(self, req: GenerationRequest, postprocess: bool = True) -> Motion:
        """The motion of a ``check_timeline`` request, made by the model that joins it
        (meta["made_as_timeline"] names it)."""
        maker, _ = self._timeline_maker({})
        motion = maker.run_request(req, postprocess)
        motion.meta["made_as_timeline"] = maker.name
        return motion

    def _timelines(self, text: str, postprocess: bool, request: dict[str, Any]) -> list[Motion]:
        """``batch`` timelines of a "then" prompt (``check_timeline``), each with a seed of
        its own (as ``generate``'s batch items)."""
        batch = check_int("batch", request.get("batch", 1), 1, MAX_BATCH)
        seed = request.get("seed")
        seed = check_int("seed", secrets.randbits(31) if seed is None else seed, 0, 2**63 - 1)
        others = {k: v for k, v in request.items() if k not in ("batch", "seed")}
        checked = [self.check_timeline(text, seed=_item_seed(seed, i), **others)
                   for i in range(batch)]  # fmt: skip
        motions = [self.run_timeline(req, postprocess) for req in checked]
        if batch > 1:
            for motion in motions:
                motion.meta["batch_seed"] = seed
        return motions

    def check_request(
        self,
        text: str | None = None,
        music: str | Path | None = None,
        *,
        seconds: float | None = None,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: Guidance | None = None,
        seed: int | None = None,
        batch: int = 1,
        seed_motion: Motion | None = None,
        music_offset: float = 0.0,
        style: Any = None,
        blend: tuple[Any, float] | None = None,
        rag: bool | None = None,
        literal: bool = False,
        beat_sync: bool | None = None,
    ) -> GenerationRequest:
        """Every argument checked and defaulted (as ``generate`` would) without running
        anything but cheap header reads (and, with ``rag``, the index search); raises
        ``InputError`` with the reason."""
        if not isinstance(literal, bool):
            raise InputError(f"literal must be true or false, got {literal!r}")
        style_vector = self.style_vector(style, blend)
        if style_vector is not None and text is None and self.text_dim:
            raise InputError(
                "a style goes with a text (the model learned styles of described motions); "
                "say what the motion does, e.g. text='a person walks'"
            )
        if text is not None:
            text = validate_prompt(text)
            if self.text_dim == 0:
                raise InputError(
                    f"checkpoint {self.name} was trained without text; leave out the prompt "
                    "or use a text-conditioned checkpoint"
                )
        said_length = None
        if text is not None:  # "walks for 3 seconds": the length, its words not the network's
            said, rest, phrase = without_said_length(text)
            if said is not None:
                if said_seconds(rest)[0] is not None:  # "walks for 2 s, then bows for 3 s"
                    raise InputError(
                        "the prompt says more than one length; make it a timeline (leave out "
                        "--no-timeline) or say one length"
                    )
                if seed_motion is not None:  # its seconds would count the past too
                    raise InputError(
                        f"the prompt says {said:g} s ({phrase!r}) beside a seed motion, whose "
                        "length the seconds include; give the total seconds instead"
                    )
                if seconds is not None and abs(float(seconds) - said) > 0.5 / self.fps:
                    raise InputError(
                        f"the prompt says {said:g} s ({phrase!r}) and {seconds:g} s were asked; "
                        "leave out one of them"
                    )
                seconds, said_length, text = said, phrase, validate_prompt(rest)
        # no length asked for: a text alone lasts as long as the retrieved phrases like it
        estimate = seconds is None and text is not None and music is None and seed_motion is None
        seconds = check_seconds(DEFAULT_SECONDS if seconds is None else seconds)
        frames = max(1, int(round(seconds * self.fps)))
        steps = check_int("steps", self.default_steps if steps is None else steps, 1, MAX_STEPS)
        sampler = self.default_sampler if sampler is None else str(sampler).lower()
        if sampler not in self.samplers:
            raise InputError(
                f"sampler {sampler!r} does not fit this {self.process_name} checkpoint; "
                f"choose one of {', '.join(self.samplers)}"
            )
        guidance = self.default_guidance if guidance is None else parse_guidance(guidance)
        batch = check_int("batch", batch, 1, MAX_BATCH)
        seed = check_int("seed", secrets.randbits(31) if seed is None else seed, 0, 2**63 - 1)
        music_path = None
        if music is not None:
            music_path = self._check_music(music, music_offset, seconds)
        elif music_offset:
            raise InputError("a music offset was given without music; add the music file")
        prefix = None if seed_motion is None else self._seed_features(seed_motion, frames)
        synced_frames = None
        if check_beat_sync(beat_sync, music_path is not None, seed_motion is not None, seconds):
            from motiongen.io.audio import decoded_duration

            # as far as it decodes: the header of an MP3 cut short promises more
            left = decoded_duration(music_path) - float(music_offset)  # type: ignore[arg-type]
            synced_frames, frames = frames, frames_to_make(frames, self.fps, left)
        auto = rag is None
        if auto:
            rag, notes = self._retrieves_by_default(text, music_path, frames)
        elif not isinstance(rag, bool):
            raise InputError(f"rag must be true, false or None (the model's default), got {rag!r}")
        else:
            notes = {}
        prior, found = None, False
        if rag:
            from motiongen.generation.rag import request_frames, request_prior

            # the phrases are searched with the text the network will be given
            searched = text if text is None else self._network_texts([text], [literal])[0]
            try:
                if estimate and (typical := request_frames(self, searched)) is not None:
                    frames, seconds, found = typical, typical / self.fps, True
                prior, warning = request_prior(
                    self, searched, music_path, float(music_offset), frames
                )
                short = None if estimate or music_path else self._too_short(searched, frames, prior)
                if short:  # the advice depends on who asked: a prompt, a segment, a span
                    notes["length_short"] = short
            except MotionGenError as exc:
                if not auto:
                    raise
                # an index the model cannot use (empty, another encoder's): asked for nothing,
                # the request gets the model alone and the reason
                prior, warning = None, None
                notes = {"retrieval_note": f"generated without retrieval: {_first_line(exc)}"}
            notes = {**notes, "retrieved": []} if prior is None and not auto else notes
            if warning:  # asked for, a warning; the model's own choice, a note
                notes["retrieval_note" if auto else "retrieval_warning"] = warning
        if text is not None and not literal and (manner := in_style_words(text)[1]):
            notes["manner_words"] = manner  # said as the styles they mean ({word: said as})
        if estimate:
            notes["length_from"] = "retrieved phrases" if found else "default"
        elif said_length is not None:
            notes["length_from"] = f"the prompt ({said_length!r})"
        if past := past_default_reach(
            beat_sync, music_path is not None, seed_motion is not None, seconds
        ):
            notes["beat_sync"] = past
        return GenerationRequest(
            text=text,
            music=music_path,
            music_offset=float(music_offset) if music_path is not None else 0.0,
            seconds=seconds,
            frames=frames,
            steps=steps,
            sampler=sampler,
            guidance=guidance,
            seed=seed,
            batch=batch,
            prefix=prefix,
            style=style_vector,
            prior=prior,
            meta=notes,
            literal=literal,
            beat_sync_frames=synced_frames,
        )

    def _too_short(self, text: str, frames: int, prior: Any) -> str | None:
        """A warning when ``frames`` is too short for the action as the index's phrases show
        it (shorter than their typical length by more than the prior may squeeze a phrase,
        ``PriorBuilder.max_squeeze``, which it then cuts), for a gesture done once
        (``retrieval.prior.ONE_SHOT``: a 1 s bow is half of one); a shorter wave, walk or
        dance is still one."""
        from motiongen.generation.rag import request_frames
        from motiongen.retrieval.prior import one_shot

        if prior is None or not prior.phrases:
            return None
        if not one_shot(max(prior.phrases, key=lambda p: p.get("weight", 0.0))):
            return None  # a shorter wave, walk or dance is still one
        typical = request_frames(self, text)  # the prior's own search, cached
        builder = self.retriever.builder if self.retriever is not None else None
        squeeze = max(builder.max_squeeze, builder.max_stretch) if builder else 2.0
        if typical is None or frames * squeeze >= typical:
            return None
        if ground_speed(prior.positions, self.fps) >= MOVING_SPEED:
            return None
        return (
            f"{frames / self.fps:.1f} s is short for this action: the data's takes of it last "
            f"about {typical / self.fps:.1f} s, so it may be cut off"
        )

    def _retrieves_by_default(
        self, text: str | None, music: Path | None, frames: int
    ) -> tuple[bool, dict[str, Any]]:
        """(whether a request left to the model's default retrieves, notes for its meta).

        Only a checkpoint whose config says so (``conditioning.retrieval``, chosen on val),
        only for a prompt without music (with music, retrieval cost the dances their fit to
        it on val), and only where an index can be loaded: a machine without the data gets
        the model alone and a note saying how to build one, not an error."""
        if not (self.config.conditioning.retrieval and self.prior_dim):
            return False, {}
        if text is None or music is not None or frames < 2:
            return False, {}
        if self._index_retriever("generated") is None:
            return False, {"retrieval_note": self._no_index_note}
        return True, {}

    def load_retrieval(self) -> None:
        """Load the index a checkpoint that retrieves by default starts its motions from, and
        its labels' wordings, now rather than in the first request (a service calls this at
        start: its first paraphrased prompt waited for them, ~1.2 s)."""
        if self.config.conditioning.retrieval and self.prior_dim:
            retriever = self._index_retriever("generated")
            if retriever is not None:
                retriever.load_wordings()

    def _index_retriever(self, done: str) -> Any:
        """The retriever of ``index_source``, made on first use, or None where no index can
        be loaded: tried once (not re-read for every request), the reason kept in
        ``_no_index_note`` ("``done`` without retrieval: ...")."""
        if self.retriever is None:
            if self._no_index_note is not None:
                return None
            index, reranker = self.index_source
            try:
                self.use_index(index, reranker=reranker)
            except Exception as exc:  # noqa: BLE001 - a damaged index must not stop the work
                self._no_index_note = f"{done} without retrieval: {_first_line(exc)}"
                return None
        return self.retriever

    @property
    def styles(self) -> list[str]:
        """The style names this checkpoint can be asked for ([] without a style input)."""
        return [] if self.style_encoder is None else self.style_encoder.styles

    def style_vector(self, style: Any, blend: tuple[Any, float] | None = None) -> Any:
        """The (S,) vector of a style (a name, an example Motion or a vector), moved
        ``blend = (other style, weight)`` of the way towards another one; None for none."""
        if style is None:
            if blend is not None:
                raise InputError("blend needs a style to start from: give style= as well")
            return None
        if self.style_encoder is None:
            raise InputError(
                f"checkpoint {self.name} has no style input; use a control checkpoint trained "
                "with conditioning.style (e.g. the shipped tiny-control)"
            )
        if blend is None:
            return self.style_encoder.vector(style)
        if not isinstance(blend, tuple | list) or len(blend) != 2:
            raise InputError("blend must be (other style, weight), e.g. ('sad', 0.3)")
        return self.style_encoder.mix(style, blend[0], blend[1])

    # ---- control: continuation, in-betweening, editing, restyling, timelines --------------
    # Each task is a checked request (``check_<task>``, cheap: no network) run by
    # ``run_request``; the service checks first and runs later, the methods do both.
    CONTROL_TASKS = ("predict", "inbetween", "edit", "restyle", "compose")

    def check_control(self, task: str, *args: Any, **kwargs: Any) -> GenerationRequest:
        """The checked request of a control task, with the arguments of its method
        (``pipe.check_control("predict", past, 8.0, "a person walks")``)."""
        if task not in self.CONTROL_TASKS:
            raise InputError(
                f"unknown task {task!r}; choose one of {', '.join(self.CONTROL_TASKS)}"
            )
        return getattr(self, f"check_{task}")(*args, **kwargs)

    def predict(
        self, past: Motion, seconds: float, text: str | None = None, **options: Any
    ) -> Motion:
        """Continue ``past`` (any fps) to ``seconds`` in all: its frames are kept exactly and the
        motion goes on from them (``text`` says how). options: steps, sampler, guidance, seed,
        style, blend, postprocess."""
        post = bool(options.pop("postprocess", True))
        return self.run_request(self.check_predict(past, seconds, text, **options), post)

    def check_predict(
        self, past: Motion, seconds: float, text: str | None = None, **options: Any
    ) -> GenerationRequest:
        # The model's past reaches the take's last frame (held there when it falls between
        # model frames): one ending up to a frame early left the new motion to start from an
        # earlier pose than the pasted last frames, a jump at 60 and 120 fps.
        past_pos = self._as_positions(past, "the past motion", cover=True)
        seconds = check_seconds(seconds)
        total = int(round(seconds * self.fps))
        # Said in seconds: frame counts differ between the take's rate and the model's.
        if past.seconds >= seconds or len(past_pos) >= total:
            least = max((len(past_pos) + 1) / self.fps, past.seconds + 1 / self.fps)
            head = f"the past motion lasts {past.seconds:g} s and the result {seconds:g} s in all; "
            if least > MAX_SECONDS:  # no length can be asked for: the past must be shorter
                raise InputError(
                    head + f"results are at most {MAX_SECONDS:g} s with the past included: "
                    "give only its last few seconds as the past"
                )
            raise InputError(
                head + f"ask for at least {least:g} s, a result longer than the past "
                "(seconds include it)"
            )
        constraints = predict_constraints(past_pos, total)
        asked = text
        if isinstance(text, str):
            text = follow_on_text(text)
        told = None
        if text is None and self.text_dim and isinstance(options.get("style"), str):
            # a style is said in words, and words need an action: the one the past does
            told = self._recognised(self._recent(past_pos)).content[0]
            text = self._describe_action(told)
        given, segment_model = self._segment_model_option("predict", options)
        chosen, _ = self._segment_sampling(options, True)  # the caller's own sampling
        req = self._controlled(text, seconds, constraints, options, task="predict")
        if text != asked and asked is not None:
            req.meta["text_said_as"] = text
        if told is not None:  # the past's own action: nothing to join
            req.meta["action_from_past"] = told
        elif req.text is not None and req.text_blend is None and segment_model != "self":
            self._check_continued_into(req, past_pos, segment_model, chosen, given is None)
        kept = np.full((frame_at(seconds, past.fps), NUM_JOINTS, 3), np.nan)
        kept[: past.num_frames] = past.positions[: len(kept)]
        req.source_rate = source_rate(past.fps, self.fps, kept)
        req.audio = past.audio  # the song plays on under what comes next
        said, _ = _segments_of(past, past.num_frames, past.fps)
        if said:  # a timeline goes on as one: a restyle of it keeps each segment's words
            parts = [[t, n / past.fps] for t, n in said]
            added = seconds - past.seconds
            # the last segment goes on: given no text (or only a style, said of the past's
            # action), the same text, or under a segment's least length (a restyle reads no
            # segments shorter: a review)
            if told is not None or req.text in (None, parts[-1][0]) or added < MIN_SEGMENT_SECONDS:
                parts[-1][1] += added
            else:
                parts.append([req.text, added])
            req.meta["segments"] = parts
        return req

    def _check_continued_into(
        self,
        req: GenerationRequest,
        past: np.ndarray,
        segment_model: Any,
        chosen: dict[str, Any],
        from_config: bool,
    ) -> None:
        """Where ``req``'s text names an action its past (P, 22, 3) plainly does not do
        (``_another_action``), make the new action whole with the segment model and join it
        to the past by in-betweening (``generation.timeline.continued_keyframes``): the
        control model alone broke off the past's action within a frame or two (a 2 m/s walk
        continued into a wave stood still in 0.1 s, its feet sliding). Too little time after
        the past for a join and the action is said in ``meta["warning"]``."""
        other = self._another_action(past, req.text)
        if other is None:
            return
        asked, seen = other
        said = ", ".join(asked)
        after = req.frames - len(past)
        need = 2 * JOIN_HALF + int(round(MIN_SEGMENT_SECONDS * self.fps))
        if segment_model is None or after < need:
            if after < need:
                # the total to ask for, to the hundredth: "1.9 s after the past ... ask for 2 s"
                # read as a wrong sum to a user who had asked 2 s more than an 11.05 s past
                add_warning(req.meta, (
                    f"the past does {seen} and the text another action (near {said}): "
                    f"{after / self.fps:.2f} s after the past ({len(past) / self.fps:.2f} s) is "
                    f"too short to change over smoothly, so the change is abrupt; ask for "
                    f"{(len(past) + need) / self.fps:.2f} s or more in all ({need / self.fps:g} s "
                    "after the past)"
                ))  # fmt: skip
            return
        segment_pipe = self._checked_segment_pipeline(
            segment_model, "a continuation into another action", from_config and "predict"
        )
        part = segment_pipe.check_request(
            req.text,
            seconds=after / self.fps,
            seed=_part_seed(req.seed, 0),
            **{**chosen, "literal": req.literal},  # style words said for the caller stay
        )
        req.segment_model = segment_pipe
        req.parts = ((part,), self._join_request(req))
        req.joined = "continuation"
        req.meta["continued_into"] = {
            "actions": asked,
            "past_action": seen,
            "join_seconds": 2 * JOIN_HALF / self.fps,
        }

    def _recent(self, positions: np.ndarray) -> np.ndarray:
        """The last ``WINDOW_SECONDS`` of a motion: what the label classifier reads as
        the action it is doing now."""
        return positions[-int(round(WINDOW_SECONDS * self.fps)) :]

    def _another_action(self, past: np.ndarray, text: str) -> tuple[list[str], str] | None:
        """(the actions ``text`` is near, the action the past's last 3 s are recognised as) when
        the label classifier gives the text's action (and any within ``NEAR_ACTIONS`` of it in
        the vocabulary) under ``OTHER_ACTION`` probability on the past; None when it may be
        the same action, both travel (``TRAVELLING``), the text is far from every action, or
        the past is under 1 s. On 120 val clips' first 2 s: 748 of 770 texts of other actions
        told apart, 20 of 190 of the clip's own action taken for another (a wave's start read
        as a raise)."""
        if not self.vocabulary or len(past) < self.fps:
            return None
        known = self._known_action(text)
        if not known.get("known"):
            return None
        nearest = known["nearest"]
        asked = [a for a, c in nearest if c >= nearest[0][1] - NEAR_ACTIONS]
        seen = self._recognised(self._recent(past))
        index = self._label_classifier().content_index
        p = sum(float(seen.content_probs[0][index[a]]) for a in asked if a in index)
        both_travel = (
            asked[0].startswith(TRAVELLING)
            and seen.content[0].startswith(TRAVELLING)
            and _travel_way(asked[0]) == _travel_way(seen.content[0])
        )
        return (asked, seen.content[0]) if p < OTHER_ACTION and not both_travel else None

    def inbetween(
        self,
        keyframes: Sequence[Motion],
        times: Sequence[float],
        text: str | None = None,
        **options: Any,
    ) -> Motion:
        """A motion through ``keyframes`` (each a pose or a few frames, in world space) starting
        at ``times`` (seconds, the first 0); it ends with the last keyframe. Needs a control
        checkpoint; consecutive keyframes at most one model window (9.8 s) apart. Keyframes
        are reached where they stand unless in_place=True (default False), which first moves
        each on the ground to start where the one before ends, a clip's moved on by the pace
        the two keep over the time between (poses from different takes stand where their
        takes put them, often metres apart; ``meta["keyframes_moved_m"]``). text None: keyframes a
        step apart on the ground at a walking pace (``generation.control.stepping_pace``) are
        walked between (run past the travel warning's pace; ``meta["text_assumed"]``); a text
        naming actions one after the other there, its part that travels
        (``meta["text_between"]``). A walk, run or dash asked in other words (a speed word too
        where the keyframes travel) is said to the control network in the training data's
        words (``meta["text_said_as"]``) unless literal=True or a style is given:
        ``_in_data_words``."""
        post = bool(options.pop("postprocess", True))
        return self.run_request(self.check_inbetween(keyframes, times, text, **options), post)

    def check_inbetween(
        self,
        keyframes: Sequence[Motion],
        times: Sequence[float],
        text: str | None = None,
        **options: Any,
    ) -> GenerationRequest:
        if isinstance(keyframes, Motion | str) or not isinstance(keyframes, Sequence):
            raise InputError(
                "keyframes must be a list of Motions (a pose or a few frames each), e.g. "
                f"[pose_a, pose_b]; got {type(keyframes).__name__}"
            )
        if isinstance(times, str) or not isinstance(times, Sequence | np.ndarray):
            raise InputError(f"times must be a list of seconds, one per keyframe; got {times!r}")
        in_place = options.pop("in_place", False)
        if not isinstance(in_place, bool):
            raise InputError(f"in_place must be true or false, got {in_place!r}")
        poses = [self._as_positions(k, f"keyframe {i}") for i, k in enumerate(keyframes)]
        check_keyframe_times(times, len(poses))
        moved = None
        if in_place:  # checked as given, then moved
            keyframes, moved = keyframes_in_place(keyframes, times)
            poses = [self._as_positions(k, f"keyframe {i}") for i, k in enumerate(keyframes)]
        starts = [frame_at(t, self.fps) for t in times]
        for i, (a, b) in enumerate(zip(starts, starts[1:], strict=False)):
            if b <= a:
                raise InputError(
                    f"keyframes {i} and {i + 1} ({times[i]:g} s and {times[i + 1]:g} s) fall on "
                    f"the same frame at {self.fps:g} fps; put them at least "
                    f"{1 / self.fps:g} s apart"
                )
            key = keyframes[i]  # its own frames must end before the next begins, at either rate
            if b < a + len(poses[i]) or times[i + 1] < times[i] + key.seconds - 1e-9:
                raise InputError(
                    f"keyframe {i} lasts {key.seconds:.2f} s ({key.num_frames} frames at "
                    f"{key.fps:g} fps) from {times[i]:g} s, past keyframe {i + 1} at "
                    f"{times[i + 1]:g} s; give a shorter keyframe (one pose or a few frames) or "
                    "a later time"
                )
        gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
        if max(gaps) > self.window - 2:
            raise InputError(
                f"keyframes {max(gaps) / self.fps:.1f} s apart; at most "
                f"{(self.window - 2) / self.fps:.1f} s between two keyframes (add one between)"
            )
        total = starts[-1] + len(poses[-1])
        self._long_enough(total, "the keyframes span", "in-betweening")
        constraints = inbetween_constraints(poses, starts, total)
        pace = stepping_pace(poses, starts, self.fps)
        asked, assumed = text, None
        if text is None:
            assumed = text = assumed_text(pace)
        elif pace is not None:
            text = self._travelling_part(text) or text
        between = text
        if asked is not None and not options.get("literal") and options.get("style") is None:
            text = self._in_data_words(text, travelling=pace is not None) or text
        req = self._controlled(text, total / self.fps, constraints, options, task="inbetween")
        if moved is not None:  # how far each keyframe was moved on the ground, metres
            req.meta["keyframes_moved_m"] = moved
        stands = moved is not None and bool(between) and self._travels(between)
        notes = [
            poses_stand_note(keyframes, stands),  # in place after a pose: no travel
            travel_warning(poses, starts, self.fps, between),  # the words as asked
        ]
        if assumed is not None:
            req.meta["text_assumed"] = assumed
            # the style's words are in the text made (a trial's sad walk was said 'a person
            # walks forward' though made sad)
            made = req.text or assumed
            slow = slower_gaps(poses, starts, self.fps)
            notes.append(
                f"no text given: made as {made!r}, keyframes being {pace:.1f} m/s apart on "
                "the ground (with no text at all the network had slid between them on planted "
                "feet); give a text to say how it moves"
                + (
                    f"; one text runs the whole in-between, and {slow} need only a walk, "
                    "where a run shuffles: in-between those keyframes on their own with 'a "
                    "person walks forward'"
                    if slow
                    else ""
                )
            )
        elif between != asked:
            req.meta["text_between"] = between
            notes.append(
                f"{asked!r} names actions one after the other and an in-between makes one: made "
                f"as {between!r} between the keyframes, the rest left to the keyframes' poses"
            )
        if text != between:  # only a text asked is said otherwise
            req.meta["text_said_as"] = text
            notes.append(
                f"{between!r} said to the control model as {text!r}, the training data's words "
                "for it: it reads other words less surely (the literal option, --literal, keeps "
                "yours)"
            )
        rates = sorted({float(k.fps) for k in keyframes})
        if len(rates) == 1:
            pieces = [(float(t), k.positions) for t, k in zip(times, keyframes, strict=True)]
            req.source_rate = source_rate(rates[0], self.fps, keyframes_kept(pieces, rates[0]))
        else:
            notes.append(
                f"the keyframes come at {' and '.join(f'{r:g}' for r in rates)} fps: the result "
                f"is at the model's {self.fps:g} fps"
            )
        for note in notes:
            add_warning(req.meta, note)
        return req

    def edit(
        self,
        motion: Motion,
        *,
        text: str,
        frames: tuple[float, float] | None = None,
        joints: Sequence[str] | None = None,
        **options: Any,
    ) -> Motion:
        """``motion`` with a part made anew to follow ``text``: a time span ``frames`` (start,
        end seconds), body ``joints`` (names or arms / upper_body / legs), or both. Everything
        outside the part stays exactly as it was. A span of at least 1 s (no joints, no style)
        comes from ``segment_model`` (a text model; default the checkpoint's
        ``tasks.edit.segment_model``), sewn in by this model's in-betweening
        (``generation.span_edit``); ``segment_model="self"`` makes it with this model alone."""
        post = bool(options.pop("postprocess", True))
        req = self.check_edit(motion, text=text, frames=frames, joints=joints, **options)
        return self.run_request(req, post)

    def _long_enough(self, frames: int, what: str, task: str) -> None:
        """``InputError`` for a controlled motion under ``MIN_SECONDS`` (said in the task's
        own terms: the generic length check would blame seconds the user never gave)."""
        if frames < MIN_SECONDS * self.fps:
            raise InputError(
                f"{what} {frames} frame(s) ({frames / self.fps:.2f} s at {self.fps:g} fps); "
                f"{task} needs at least {MIN_SECONDS:g} s"
            )

    def check_edit(
        self,
        motion: Motion,
        *,
        text: str,
        frames: tuple[float, float] | None = None,
        joints: Sequence[str] | None = None,
        **options: Any,
    ) -> GenerationRequest:
        in_place = options.pop("in_place", False)
        asked_options = dict(options)
        if not isinstance(in_place, bool):
            raise InputError(f"in_place must be true or false, got {in_place!r}")
        pos = self._as_positions(motion, "the motion to edit")
        self._long_enough(len(pos), "the motion to edit has", "an edit")
        span = None
        if frames is not None:
            ok = (
                isinstance(frames, Sequence | np.ndarray)
                and len(frames) == 2
                and all(is_number(x) and math.isfinite(x) for x in frames)
            )
            if not ok:
                raise InputError(f"frames must be (start, end) in seconds, got {frames!r}")
            a_s, b_s = float(frames[0]), float(frames[1])
            length = motion.seconds
            if not 0.0 <= a_s < b_s <= length + 0.5 / motion.fps:
                # frame numbers given for seconds read as a span far past the end (a trial)
                counted = (
                    f" (frames= is in seconds, not frame numbers: frames {a_s:g}..{b_s:g} at "
                    f"{motion.fps:g} fps are frames=({a_s / motion.fps:g}, {b_s / motion.fps:g}))"
                    if b_s > length + 0.5 / motion.fps and b_s <= motion.num_frames
                    and all(float(x).is_integer() for x in frames) and a_s < b_s
                    # whole numbers, given as such or starting past the end (--frames 40:100
                    # on a 6 s walk: the command line reads numbers as floats, a trial)
                    and (all(isinstance(x, int | np.integer) for x in frames) or a_s > length)
                    else ""
                )  # fmt: skip
                raise InputError(
                    f"the edited span {a_s:g}..{b_s:g} s must start before it ends and lie "
                    f"inside the motion's 0..{length:g} s{counted}"
                )
            span = (frame_at(a_s, self.fps), min(len(pos), frame_at(b_s, self.fps)))
            if span[1] <= span[0]:
                raise InputError(
                    f"the edited span {a_s:g}..{b_s:g} s is shorter than one frame of the "
                    f"model ({1 / self.fps:g} s at {self.fps:g} fps); give a longer span"
                )
        resolved = None if joints is None else resolve_joints(joints)
        moved = None
        if in_place:
            if span is None or resolved is not None:
                raise InputError(
                    "in_place (--in-place) makes a span's action where the span starts and "
                    "moves the frames after it along; give a span of time (frames=, --frames) "
                    "and no joints"
                )
            from motiongen.generation.span_edit import seam_frames

            seam = seam_frames(span[1] - span[0], self.fps) / self.fps
            motion, moved = rest_moved(motion, a_s, b_s, seam)
            pos = self._as_positions(motion, "the motion to edit")
        constraints = edit_constraints(pos, frames=span, joints=resolved)
        given, segment_model = self._segment_model_option("edit", options)
        # A span of time can come whole from the segment model, sewn in by in-betweening
        # (generation.span_edit), and arm joints from its motion of the text, set on the
        # body (generation.arms_edit); what the control model alone can do is listed here.
        arms = arms_only(resolved)
        asked = text
        if arms and isinstance(text, str) and text.strip():
            text = self._arm_action_text(text) or text
        reasons = [
            why
            for why, bad in (
                ("joints other than the arms", resolved is not None and not arms),
                ("a style", options.get("style") is not None or options.get("blend") is not None),
                ("no text", text is None),
                ("no span", span is None and not arms),
                (f"a span under {MIN_SEGMENT_SECONDS:g} s",
                 span is not None and span[1] - span[0] < MIN_SEGMENT_SECONDS * self.fps),
                ("the whole motion",
                 span is not None and span[1] - span[0] == len(pos) and not arms),
            )
            if bad
        ]  # fmt: skip
        if given not in (None, "self") and reasons:
            raise InputError(
                f"segment_model (--segment-model) makes a span of time or the arms anew; an "
                f"edit with {reasons[0]} is made by the control model alone: leave "
                "segment_model out"
            )
        joined = segment_model not in (None, "self") and not reasons
        if joined and arms and given is None and not self._raises(text):
            joined = False  # the checkpoint's default: other arm actions are the control model's
        short = (f"a span under {MIN_SEGMENT_SECONDS:g} s", "the whole motion")
        chosen, options = self._segment_sampling(options, joined)
        req = self._controlled(text, len(pos) / self.fps, constraints, options, task="edit")
        if text != asked:
            req.meta["arms_text"] = text
            add_warning(req.meta, f"the arms follow {text!r}, the arm action of {asked!r}; the "
                        "body's own steps are kept")  # fmt: skip
        sides = self._waving_sides(text, resolved) if arms and text else None
        if sides and not joined and not reasons and given is None and segment_model != "self":
            # the same edit with the text model's arms, made where these leave the hand down
            again = {k: v for k, v in asked_options.items() if k != "segment_model"}
            again["seed"] = req.seed  # the same seed, said in the result either way
            try:
                fallback = self.check_edit(motion, text=asked, frames=frames, joints=joints,
                                           segment_model=segment_model, **again)  # fmt: skip
            except MotionGenError:  # no segment model to take arms from: these arms stand
                fallback = None
            if fallback is not None:
                a, b = span if span is not None else (0, len(pos))
                req.wave_fallback = (fallback, sides, (a, b))
        if joined and arms:
            a, b = span if span is not None else (0, len(pos))
            segment_pipe = self._checked_segment_pipeline(
                segment_model, "an edit's arms", given is None and "edit"
            )
            part = segment_pipe.check_request(
                text, seconds=(b - a) / self.fps, seed=_part_seed(req.seed, 0), **chosen
            )
            req.segment_model = segment_pipe
            req.parts = ((part,), None)
            req.edit_joints = (tuple(resolved or ()), a, b)
            req.joined = "arms"
        elif joined:
            from motiongen.generation.span_edit import core

            assert span is not None
            segment_pipe = self._checked_segment_pipeline(
                segment_model, "an edit's span", given is None and "edit"
            )
            lo, hi = core(pos, span[0], span[1], self.fps)
            part = segment_pipe.check_request(
                text, seconds=(hi - lo) / self.fps, seed=_part_seed(req.seed, 0), **chosen
            )
            req.segment_model = segment_pipe
            req.parts = ((part,), self._join_request(req))
            req.edit_span = (pos, span[0], span[1])
            req.joined = "span"
        elif (
            given is None
            and segment_model not in (None, "self")
            and reasons  # none: an arms edit of another action than a raise, unsaid
            and reasons[0] in short
        ):
            # The caller expects the text model's action (the checkpoint's default): say why
            # this one is the control model's.
            what = "the whole motion" if reasons[0] == short[1] else short[0][7:]
            add_warning(
                req.meta,
                f"the edited span is {what}, so the control model makes it alone; the text "
                f"model {segment_model} makes spans of {MIN_SEGMENT_SECONDS:g} s or more inside "
                "the motion, and does the new action more often",
            )
        if span is not None and not arms and text:  # the span's new action, read back
            req.action_parts = ((text, span[0], span[1] - span[0]),)
        if moved is not None:  # how far the frames after the span were moved on the ground
            req.meta["rest_moved_m"] = round(moved, 3)
        req.source_rate = source_rate(
            motion.fps, self.fps, edit_kept(motion.positions, motion.fps, frames, resolved)
        )
        req.audio = motion.audio
        return req

    def _restyle_segments(
        self,
        req: GenerationRequest,
        parts: list[tuple[str, int]],
        walked: np.ndarray,
        styled: tuple[Any, tuple[Any, float] | None],
        sampling: dict[str, Any],
        path: np.ndarray,
        fps: float,
    ) -> np.ndarray:
        """Make ``req`` (a restyled timeline) its segments' restyles joined: each segment of
        ``walked`` (the path at the style's pace, model fps) restyled alone with its own words,
        the joins between them in-betweened by this model (``generation.timeline``), as a
        timeline's segments are. Restyled in one pass of windows instead, a segment after a
        stop lost its action (a happy restyle's bow stood upright: head down to 1.33 m where
        the source bowed to 1.22 and the bow restyled alone to 1.21; a second trial). Returns
        ``path`` (the pelvis kept at the motion's own ``fps``) with the joins' frames freed.
        styled: (the style, the blend or None), each segment restyled with them."""
        from motiongen.generation.timeline import join_keyframes

        style, blend = styled
        starts = np.cumsum([0, *[n for _, n in parts[:-1]]])
        alone = [
            self.check_restyle(
                Motion(positions=walked[a : a + n], fps=self.fps), style, text=t, blend=blend,
                keep_speed=True, seed=_part_seed(req.seed, k), **sampling,
            )
            for k, ((t, n), a) in enumerate(zip(parts, starts, strict=True))
        ]  # fmt: skip
        req.segment_model = self
        req.parts = (tuple(alone), self._join_request(req))
        req.joined = "restyle"
        keys, key_starts, _ = join_keyframes(
            [walked[a : a + n] for (_, n), a in zip(parts, starts, strict=True)]
        )
        kept = np.zeros(len(walked), dtype=bool)
        for k, b in zip(keys, key_starts, strict=True):
            kept[b : b + len(k)] = True
        at = np.minimum(np.round(np.arange(len(path)) * self.fps / fps).astype(int), len(kept) - 1)
        path = path.copy()
        path[~kept[at]] = np.nan  # the joins' pelvis is the in-betweening's, not pasted over
        return path

    def _joined_restyle(
        self,
        req: GenerationRequest,
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> Motion:
        """A restyled timeline (``_restyle_segments``): each segment's restyle, joined."""
        from motiongen.generation.timeline import join_keyframes

        t_start = time.perf_counter()
        made = [self.run_request(r, postprocess, cancel=cancel) for r in req.parts[0]]
        known = [m.meta.get("vocabulary") for m in made]
        parts = [m.positions.astype(np.float64) for m in made]
        keys, starts, total = join_keyframes(parts)
        return self._sewn(req, keys, starts, total, (t_start, known), postprocess, cancel)

    def _travelling_part(self, text: str) -> str | None:
        """The part of a ``text`` naming actions one after the other ("a person walks to the
        spot and bows", "..., then bows"; not "while waving") whose action travels
        (``TRAVELLING``), or None: keyframes apart on the ground are walked between, and
        their poses show the rest. Asked both at once, a turned keyframe 3 m away was reached
        facing 124 degrees off the way the body went, gliding, then swung round 125 degrees
        in its last 10 frames (a new user's trial); asked the walk, it turned within 0.5 s
        and walked."""
        if AT_ONCE.search(text):  # "walks while waving": a wave no pose shows (a review)
            return None
        several = self._known_action(text).get("compound")
        if not several:
            return None
        for part, action in zip(several["parts"], several["actions"], strict=True):
            if str(action).startswith(TRAVELLING):
                return part
        return None

    def _arm_action_text(self, text: str) -> str | None:
        """For an edit of the arms, the phrase of ``text``'s arm action nearest it where the
        text's nearest action travels (``TRAVELLING``) and an arm action (``ARM_ACTIONS``, with
        the hands the text says) is within ``ARM_ACTION_MARGIN`` of it ("a person jogs with
        both hands raised above the head": the body's jog is kept, its arms are asked to
        raise); None otherwise."""
        nearest = self._known_action(text).get("nearest")
        if not nearest or not str(nearest[0][0]).startswith(TRAVELLING):
            return None
        floor = max(nearest[0][1] - ARM_ACTION_MARGIN, ARM_ACTION_FLOOR)
        arms = [str(a) for a, sim in nearest[1:] if str(a).startswith(ARM_ACTIONS) and sim >= floor]
        if not arms:
            return None
        from motiongen.retrieval.sides import sides_said

        # the hands said ("with both hands raised" is no one-hand raise: a review)
        said = {"both": "both-hands", "left": "left-hand", "right": "right-hand"}
        sides = [said[s] for s in sides_said(text, of="limb") if s in said]
        arm = next((a for a in arms if any(a.endswith(s) for s in sides)), arms[0])
        phrases = list(self.vocabulary[arm])
        emb = torch.nn.functional.normalize(
            self.text_encoder.encode([text, *phrases]).pooled, dim=-1
        )
        return phrases[int((emb[1:] @ emb[0]).argmax())]

    def _said_as_recorded(
        self, text: str, style: Any, blend: tuple[Any, float] | None
    ) -> tuple[str, tuple[str, float] | None]:
        """``_said_in_style`` with each named style in the word ``text``'s action was
        recorded with (``_style_as_recorded``)."""
        if isinstance(style, str):
            style = self._style_as_recorded(text, style)
        if blend is not None and isinstance(blend[0], str):
            blend = (self._style_as_recorded(text, blend[0]), blend[1])
        return _said_in_style(text, style, blend)

    def _style_as_recorded(self, text: str, style: str) -> str:
        """``style`` in the word ``text``'s nearest action was recorded with where the data
        names it another way ("tired" for a backwards walk, where other actions say
        "exhausted"): "walks backwards in an exhausted way" found the exhausted forward walks
        and went 4 m forward, unsaid ("in a tired way": 2-3 m back; a new user's trial)."""
        known = self._known_action(text)
        if not known.get("known"):  # far from every action: no word of one to take
            return style
        recorded = ((self.action_styles or {}).get("actions") or {}).get(
            str(known["nearest"][0][0]), []
        )
        return recorded_as(style, recorded)

    def _known_action(self, text: str) -> dict[str, Any]:
        """``known_actions`` of one text ({} for a checkpoint without a vocabulary or an
        empty text)."""
        if not self.vocabulary or not text.strip():
            return {}
        # in the style words the network is given: the routing by action and style it feeds
        # (waves, raises, travelling parts, recorded styles) reads what is made
        said = in_style_words(text)[0]
        return self.known_actions(self.text_encoder.encode([said]).pooled, [said])[0]

    def _travels(self, text: str) -> bool:
        """Whether ``text`` or one of the actions it names one after the other is nearest a
        travelling action ("strolls over and bows" is nearest the bow as a whole)."""
        from motiongen.generation.stand import is_stop

        # a stop is no travel ("a person stops" is nearest the walk it ends: "stops and bows"
        # had been told its body does not travel though the text asks to, an animator's trial)
        parts = [p for p in (text, *action_parts(text)[1]) if not is_stop(p)]
        return any(str(self._nearest_action(p) or "").startswith(TRAVELLING) for p in parts)

    def _in_data_words(self, text: str, travelling: bool = False) -> str | None:
        """``text`` in the training data's words (``vocabulary.in_data_words``; ``travelling``:
        between keyframes a walk apart), None where it stays as given. For a control network
        reading a user's words itself, without the
        retrieval that lets the text model read them: tiny-control made "a person strolls
        over" bent up to 48 degrees forward (real walks 2-5) (docs/control.md, "An
        in-between's text in the data's words")."""
        said = in_style_words(text)[0]
        known = self._known_action(text)
        return in_data_words(said, known, self.action_styles, self.vocabulary, travelling)

    def _waving_sides(
        self, text: str, joints: Sequence[int] | None
    ) -> tuple[tuple[str, ...], bool] | None:
        """(the hands a wave ``text`` asks of the edited ``joints`` (None: every joint), whether
        every one of them must be up or any one) where its nearest action waves
        (``WAVING_SIDES``), else None: "waves with both hands" both, "waves with the right
        hand" the right, "a person waves" (nearest the two-hand wave) either edited hand."""
        from motiongen.retrieval.sides import sides_said
        from motiongen.skeleton import JOINT_INDEX

        waving = WAVING_SIDES.get(self._nearest_action(text) or "")
        if waving is None:
            return None
        said = sides_said(text, of="limb") & {"left", "right", "both"}
        every = "both" in said
        hands = waving if every or not said else tuple(s for s in waving if s in said)
        edited = tuple(s for s in hands or waving
                       if joints is None or JOINT_INDEX[f"{s}_wrist"] in joints)  # fmt: skip
        return (edited, every) if edited else None

    def _nearest_action(self, text: str) -> str | None:
        """The known action nearest ``text``, None where there is none to tell."""
        nearest = self._known_action(text).get("nearest")
        return str(nearest[0][0]) if nearest else None

    def _raises(self, text: str) -> bool:
        """Whether ``text``'s nearest known action raises a hand or both (``RAISES``; False
        for a checkpoint without a vocabulary to tell by). An arms edit of a raise takes the text model's
        arms by default: the control model alone kept a walk's arms swinging (a raised wrist
        above its shoulder in 21-44 % of frames for the data's own "raises the left / right
        hand" against 59-66 %, val; a new user's 15 raises never got a wrist above the
        shoulder), where its waves and goodbyes were read as the action more often than the
        text model's (docs/control.md, "Arms from the text model")."""
        nearest = self._nearest_action(text)  # None: nothing to tell by, the control model
        return nearest is not None and nearest.startswith(RAISES)

    def restyle(
        self,
        motion: Motion,
        style: Any = None,
        *,
        text: str | None = None,
        blend: tuple[Any, float] | None = None,
        **options: Any,
    ) -> Motion:
        """``motion``'s path (the pelvis over the ground; its height the style's own, set on the
        floor) and length kept, the body moving in another style: its poses are the style's,
        the first and last included, and its gestures keep the source's action, not their
        exact frames (an animator's trial had read "timing" as the poses' timing).

        style: a style name (``pipe.styles``), an example Motion to take the style from, or a
        style vector; ``blend=(other, w)`` moves it ``w`` of the way towards another style
        (a sweep of w interpolates smoothly). text: what the motion does; by default its
        action as the label classifier recognises it, in this model's words; either way
        followed by "in a <style> way" for a named style; a blend of two named styles mixes
        the network's predictions for the two sentences (1 - w, w) besides the style vectors.
        A checkpoint without a style input restyles from the text alone (give text).
        keep_speed (False): a named style that moves slower than the motion's own (sad,
        elderly, proud walks) walks the same path at its own pace, covering less of it in the
        same time (meta "pace": the share of the source's speed); True keeps the source's
        speed, where the slower style's steps slide. whole_path (False): True walks the whole
        path at the style's pace instead, in more time (meta "whole_path": the pace and the
        source's seconds).
        """
        post = bool(options.pop("postprocess", True))
        req = self.check_restyle(motion, style, text=text, blend=blend, **options)
        return self.run_request(req, post)

    def check_restyle(
        self,
        motion: Motion,
        style: Any = None,
        *,
        text: str | None = None,
        blend: tuple[Any, float] | None = None,
        **options: Any,
    ) -> GenerationRequest:
        pos = self._as_positions(motion, "the motion to restyle")
        self._long_enough(len(pos), "the motion to restyle has", "restyle")
        keep_speed = options.pop("keep_speed", False)
        whole_path = options.pop("whole_path", False)
        sampling = {k: v for k, v in options.items() if k in ("steps", "sampler", "guidance")}
        for name, value in (("keep_speed", keep_speed), ("whole_path", whole_path)):
            if not isinstance(value, bool):
                raise InputError(f"{name} must be true or false, got {value!r}")
        if keep_speed and whole_path:
            raise InputError(
                "keep_speed (--keep-speed) keeps the motion's time at its speed, whole_path "
                "(--whole-path) walks its whole path at the style's pace in more time: give one "
                "of them"
            )
        if style is None and text is None:
            raise InputError("restyle needs a style (e.g. 'sad'), a text, or both")
        known = self.styles
        style, from_example = self._example_style(_style_name(style, known))
        if isinstance(blend, tuple) and blend:
            other, blend_example = self._example_style(_style_name(blend[0], known))
            blend = (other, *blend[1:])
            from_example = from_example or blend_example
            if isinstance(style, str) and blend[0] == style:
                raise InputError(
                    f"the blend moves towards {style!r}, the style it starts from; name another "
                    "style to blend towards (or leave the blend out)"
                )
        if style is not None:
            options["style"] = style
            self.style_vector(style, blend)  # unknown styles fail before the classifier runs
        stretched = None  # (the pace, the source's seconds) of a whole path walked slower
        if whole_path:
            motion, stretched = self._whole_path(motion, pos, style, blend)
            pos = self._as_positions(motion, "the motion to restyle")
        if blend is not None:
            options["blend"] = blend
        text_blend = None
        seen = None
        read_as = None
        parts = None  # a timeline's segments, each restyled with its own words
        unread = ""
        if text is None and self.text_dim:  # a blend too: it had kept the first segment only
            parts, unread = _segments_of(motion, len(pos), self.fps)
            parts = parts or None
            if parts is None and (turns := self._actions_in_turn(pos)):
                parts = [(self._describe_action(c), n) for c, n in turns]
                ends = np.cumsum([n for _, n in parts]) / self.fps
                read_as = ", then ".join(
                    f"{t} ({a:.1f}-{b:.1f} s)"
                    for (t, _), a, b in zip(parts, [0.0, *ends[:-1]], ends, strict=True)
                )
        if parts is not None:  # a style said before (a restyle restyled) is replaced
            for t, _ in parts:
                validate_prompt(t)
            parts = [
                (self._said_as_recorded(_style_unsaid(t), style, None)[0], n) for t, n in parts
            ]
            text = parts[0][0]
        elif text is None and self.text_dim:
            seen = self._recognised(pos)
            content = seen.content[0]
            action = read_as = self._describe_action(content)
            text, text_blend = self._said_as_recorded(action, style, blend)
        elif text is not None and self.text_dim:
            # the caller's words say the style too, as a continuation's or an edit's do
            # (``_style_said``): without them a "sad" restyle told "a person waves" hit the
            # style in 0 of 73 never-recorded val asks (the network reads style from words)
            text, text_blend = self._said_as_recorded(_style_unsaid(text), style, blend)
        # A restyle asks for the style: its words stay, recorded with the action or not.
        options["literal"] = True
        lengths = [n for _, n in parts] if parts is not None else [len(pos)]
        if parts is not None:  # each segment at its own: a timeline's run slowed, its bow not
            starts = np.cumsum([0, *lengths[:-1]])
            paces = [round(self._restyle_pace(pos[a : a + n], style, blend, None), 3)
                     for a, n in zip(starts, lengths, strict=True)]  # fmt: skip
        else:
            paces = [round(self._restyle_pace(pos, style, blend, seen), 3)]
        pace = min(paces)
        kept_note = None
        if keep_speed and pace < KEPT_SPEED_SAID:
            # (a sad walk kept at speed read as 'normal' to the label classifier, P(sad) 0.36
            # against 0.89 at its own pace; said as an example, a trial's elderly restyle read
            # it as about its own)
            kept_note = (
                f"the {style!r} restyle moves at this motion's speed, faster than the "
                f"style's own pace ({pace:.0%} of this speed), and shows less of the style; "
                "leave out keep_speed (--keep-speed) for the style's own pace"
            )
        slowed_kept = keep_speed and pace < 1.0  # keep_speed changed something
        if keep_speed or stretched:  # a stretched motion moves at the style's pace already
            pace, paces = 1.0, [1.0] * len(paces)
        seconds = [n / self.fps for n in lengths]

        def paced(positions: np.ndarray, fps: float) -> np.ndarray:
            """``positions`` at ``fps`` along the path at the pace: a timeline's each segment's
            steps shortened in its own frames, so its turns come with its words."""
            if parts is None:
                return paced_path(positions, pace)
            return strided_path(positions, segment_shares(paces, seconds, len(positions), fps))

        walked = paced(pos, self.fps)
        constraints = path_constraints(walked)
        req = self._controlled(text, len(pos) / self.fps, constraints, options, task="style")
        if read_as is not None:  # what the motion was taken to do (said: an in-place walk read
            req.meta["read_as"] = read_as  # as a backward one was not; an animator's trial)
        if parts is not None:
            req.segments = tuple(parts)
            req.meta["segments"] = [[t, n / self.fps] for t, n in parts]
        if stretched:
            req.meta["whole_path"] = {"pace": round(stretched[0], 3),
                                      "source_seconds": round(stretched[1], 3)}  # fmt: skip
        if slowed_kept:  # said in the warnings (``_restyle_slides``): a style no slower than
            req.meta["keep_speed"] = True  # the motion is not told to leave it out (a review)
        if pace < 1.0:
            req.meta["pace"] = pace
            if parts is not None:
                req.meta["segment_paces"] = paces
        req.text_blend = text_blend
        if unread:
            add_warning(req.meta, f"the motion's timeline segments are not used ({unread}): it "
                        "is restyled as one motion")  # fmt: skip
        add_warning(req.meta, kept_note)
        if from_example:
            req.meta["style_from_example"] = from_example
            if not from_example["named"]:
                add_warning(req.meta, (
                    f"the example's style is near none of the known styles (nearest "
                    f"{from_example['style']!r}, similarity {from_example['similarity']:.2f}); "
                    "the restyle follows its style vector alone and may change little: name a "
                    f"style ({', '.join(known)})"
                ))  # fmt: skip
        req.meta["style"] = (
            style if isinstance(style, str) else None if style is None else "example"
        )
        if blend is not None:
            req.meta["blend"] = [blend[0] if isinstance(blend[0], str) else "example",
                                 float(blend[1])]  # fmt: skip
        path = np.full(motion.positions.shape, np.nan)
        path[:, PELVIS] = paced(motion.positions, motion.fps)[:, PELVIS]
        if parts is not None:  # each segment restyled alone, the joins in-betweened
            path = self._restyle_segments(req, parts, walked, (style, blend), sampling, path,
                                          motion.fps)  # fmt: skip
        req.source_rate = source_rate(motion.fps, self.fps, path)
        req.audio = None if stretched else motion.audio  # a whole path walked longer: off beat
        posed_from = None  # (action, its style or None) a never-recorded pair starts posed
        if (
            seen is not None
            and parts is None
            and isinstance(style, str)
            and (blend is None or text_blend)
        ):
            side = motion.positions  # the takes on the side the source moves
            req.prior = self._restyle_phrases(text, seen.content[0], style, req.frames, side)
            if text_blend is not None:  # two named styles: between their takes, or neither's
                from motiongen.retrieval.prior import BlendedPrior

                other = self._restyle_phrases(
                    text_blend[0], seen.content[0], blend[0], req.frames, side
                )
                both = req.prior is not None and other is not None
                req.prior = BlendedPrior(req.prior, other, text_blend[1]) if both else None
            elif req.prior is None and blend is None:
                posed_from = (seen.content[0], seen.style[0])
        elif (  # told what it does (a timeline's segment, a user's text): the text's action
            parts is None
            and blend is None
            and isinstance(style, str)
            and self.text_dim
            and (known := self._known_action(text)).get("known")
        ):
            posed_from = (str(known["nearest"][0][0]), None)
        if posed_from is not None:
            req.prior = self._posed_start(walked, *posed_from, style)
            if req.prior is not None:
                req.meta["restyle_start"] = "posed"
        starts = np.cumsum([0, *lengths[:-1]])
        texts = [t for t, _ in parts] if parts is not None else [text or ""]
        req.action_parts = tuple(
            (t, int(a), int(n)) for t, a, n in zip(texts, starts, lengths, strict=True)
        )
        return req

    def _example_style(self, style: Any) -> tuple[Any, dict[str, Any] | None]:
        """An example motion's style as the known style it moves like, where it is near one
        (``EXAMPLE_STYLE_SIMILARITY``), and what was found: a restyle towards an example's
        style vector alone moved joints 3 cm and read as "normal" for sad, angry and proud
        examples the classifier read as such (a new user's trial), where the name also says
        the style in words and starts from that style's takes. Anything else as given."""
        if self.style_encoder is None or not hasattr(style, "positions"):
            return style, None
        name, similarity = self.style_encoder.nearest(style)
        named = similarity >= EXAMPLE_STYLE_SIMILARITY
        found = {"style": name, "similarity": round(similarity, 3), "named": named}
        return (name if named else style), found

    def _restyle_phrases(
        self, text: str, content: str, style: str, frames: int, source: np.ndarray
    ) -> Any:
        """Retrieved phrases of the recognised action in the asked style, for a restyle to
        start from (at ``RESTYLE_START``), or None: only where the index's best phrase for the
        restyle's text is that very pair and its phrases agree (a pair the data never
        recorded gets no start: a happy walk is no start for a happy hand raise). Searched on
        the side ``source`` (its positions) moves a limb, where its text names none: a
        right-hand goodbye restyled angry had started from the data's left-hand one and waved
        the left hand (a new user's trial)."""
        from motiongen.evaluators.labels import STYLE_SYNONYMS
        from motiongen.retrieval import NoMatch
        from motiongen.retrieval.sides import leading_side, names_a_side

        if self.process_name != "flow":
            return None
        retriever = self._index_retriever("restyled")  # no index: the restyle as before
        if retriever is None:
            return None
        moved = None if names_a_side(text) else leading_side(source)
        if moved is not None:
            text = f"{text} with the {moved[0]} {'hand' if moved[1] == 'arm' else 'leg'}"
        try:
            prior = retriever.prior(text, frames=frames, fps=self.fps)
        except (NoMatch, MotionGenError):
            return None
        best = str(prior.phrases[0].get("label") or "") if prior.phrases else ""
        action, _, recorded = best.partition("|")
        same = STYLE_SYNONYMS.get(recorded, recorded) == STYLE_SYNONYMS.get(style, style)
        return prior if prior.agrees and action == content and same else None

    def _action_kept(
        self, parts: Sequence[tuple[str, int, int]], motion: Motion, task: str | None
    ) -> str | None:
        """Whether a restyle or a span edit (``motion``, at the model's rate) does the action
        each of its ``parts`` (text, first frame, frames) names: ``meta["action_kept"]`` lists,
        per part, the action, its seconds, the label classifier's probability of that kind of
        action (``action_family``) and what it reads as; a warning names the parts under
        ``ACTION_LOST``. A sad right-hand raise whose arm hung at the side, an angry punch
        become arms flung overhead (an animator's trial), a bow over 1.5 s of a walk that did
        not bow (a game developer's), had said nothing after the fact. Span edits, 120 val
        windows (``benchmarks/tasks.py --tasks edit``'s): 26 of the 41 whose kind of action
        was not shown named, 1 of the 79 shown."""
        from motiongen.generation.vocabulary import action_family

        if not self.vocabulary:
            return None
        index = self._label_classifier().content_index
        kept, lost = [], []
        for text, start, n in parts:
            window = motion.positions[start : start + n]
            seconds = [round(start / self.fps, 2), round((start + n) / self.fps, 2)]
            known = self._known_action(text)
            if not known.get("known") or len(window) < self.fps:
                continue
            action = str(known["nearest"][0][0])
            family = [a for a in index if action_family(a) == action_family(action)]
            seen = self._recognised(window)
            p = sum(float(seen.content_probs[0][index[a]]) for a in family)
            kept.append({"action": action, "seconds": seconds, "probability": round(p, 3),
                         "read_as": seen.content[0]})  # fmt: skip
            if p < ACTION_LOST:
                where = len(parts) > 1 or task == "edit"
                lost.append(
                    f"{self._describe_action(action)!r}"
                    + (f" ({seconds[0]:g}-{seconds[1]:g} s)" if where else "")
                    + f" reads as {self._describe_action(seen.content[0])!r} (the label "
                    f"classifier's probability of it {p:.2f})"
                )
        if kept:
            motion.meta["action_kept"] = kept
        if not lost:
            return None
        if task == "edit":
            return (
                f"the edited span may not show its action: {'; '.join(lost)}; try other "
                "seeds, a longer span, or one where the body does not travel (a span set in "
                "a walk must cover the walk's ground, unless edited in place: --in-place, "
                "in_place=True)"
            )
        return (
            f"the restyle may have lost its action: {'; '.join(lost)}; try other seeds, or a "
            "style the action was recorded in"
        )

    def _whole_path(
        self, motion: Motion, pos: np.ndarray, style: Any, blend: Any
    ) -> tuple[Motion, tuple[float, float] | None]:
        """``motion`` played slower to the named style's pace (``_restyle_pace``), so its
        restyle walks the whole path in more time, and (the pace, the source's seconds); as
        given where the style is no slower. A slower style otherwise walks the same frames
        at its pace and stops short of the path's end (a sad walk 5.2 of 9.65 m), where an
        animator needs the character to reach its mark (an animator's trial)."""
        if motion.timeline_segments:
            raise InputError(
                "whole_path (--whole-path) restyles one motion, and this one is a timeline "
                "(each segment would take its own time): restyle its segments one by one, or "
                "leave whole_path out"
            )
        share = self._restyle_pace(pos, style, blend, None)
        if share >= 1.0:
            return motion, None
        slower = Motion(positions=motion.positions, fps=motion.fps * share)
        last = int(round((motion.num_frames - 1) / share))  # the last frame the path's end
        return slower.resample(motion.fps, frames=last + 1), (share, motion.seconds)

    def _posed_start(
        self, walked: np.ndarray, action: str, source_style: str | None, style: str
    ) -> Any:
        """For a restyle of ``action`` to a ``style`` the data never recorded it in (no takes
        to start from): the motion as it will be walked (``walked``, model frames), its body
        moved from its style's posture (``source_style``; None: the label classifier's
        reading) to the asked one's (``tasks.posture``), to start sampling from at
        ``RESTYLE_START``; None for a recorded pair, a checkpoint without postures or a
        sampler that cannot start from a motion. Val, 73 never-recorded asks x 3 seeds
        (``benchmarks/tasks.py --tasks restyle --windows 160``): content kept 46 -> 56 %,
        style hit 36 -> 48 % against sampling from noise."""
        from motiongen.retrieval.prior import Prior
        from motiongen.tasks.posture import posed

        posture = (self.action_styles or {}).get("posture")
        if not posture or self.process_name != "flow" or not self.start_time:
            return None
        recorded = ((self.action_styles or {}).get("actions") or {}).get(action, [])
        if recorded_as(style, recorded) in recorded:  # a pair the data recorded
            return None
        if source_style is None:
            source_style = self._recognised(walked).style[0]
        start = posed(positions_to_features(walked, self.fps), posture, style, source_style)
        return None if start is None else Prior(features=start)

    def _restyle_pace(self, pos: np.ndarray, style: Any, blend: Any, seen: Any) -> float:
        """The share of ``pos``'s speed a restyle to a named ``style`` walks at (1: the
        source's speed): the checkpoint's style pace (``tasks.pace``) of the target over that
        of the style recognised in the source, for a source that moves over the ground."""
        pace = (self.action_styles or {}).get("pace")
        named = isinstance(style, str) and (blend is None or isinstance(blend[0], str))
        if not pace or not named or ground_speed(pos, self.fps) < MOVING_SPEED:
            return 1.0
        seen = seen if seen is not None else self._recognised(pos)
        index = self._label_classifier().style_index
        probs = {name: float(seen.style_probs[0][i]) for name, i in index.items()}
        return pace_ratio(pace, probs, style, None if blend is None else (blend[0], blend[1]))

    def _label_classifier(self) -> Any:
        """The label classifier (loaded the first time a restyle needs it)."""
        from motiongen.evaluators.classifier import LabelClassifier

        if self._classifier is None:
            self._classifier = LabelClassifier.from_pretrained()
        return self._classifier

    def _recognised(self, positions: np.ndarray) -> Any:
        """The label classifier's reading of one motion (content, style probabilities)."""
        return self._label_classifier().classify([Motion(positions=positions, fps=self.fps)])

    def _describe_action(self, content: str) -> str:
        """A prompt for an action as the label classifier names it, in this checkpoint's own
        words for that action ("a person walks forward"), without style words
        (``check_restyle`` adds those where they apply)."""
        sentences = (self.vocabulary or {}).get(content) or ["a person moves"]
        return sentences[0]

    def _actions_in_turn(self, positions: np.ndarray) -> list[tuple[str, int]]:
        """[(action, frames)] of a motion that does actions of several kinds one after the
        other, read by the label classifier over sliding windows
        (``generation.actions_in_turn``); [] for one that does one thing."""
        from motiongen.generation.actions_in_turn import actions_in_turn, window_starts

        starts = window_starts(len(positions), self.fps)
        if not starts:
            return []
        window = int(round(WINDOW_SECONDS * self.fps))
        clf = self._label_classifier()
        seen = clf.classify([Motion(positions=positions[a : a + window], fps=self.fps)
                             for a in starts])  # fmt: skip
        least = int(round(MIN_SEGMENT_SECONDS * self.fps))
        return actions_in_turn(
            seen.content_probs, clf.contents, starts, window, len(positions), least
        )

    def timeline(
        self,
        segments: str | Sequence[tuple[str, float]],
        *,
        seconds: float | None = None,
        **options: Any,
    ) -> Motion:
        """One motion of consecutive segments, each following its own text: a list of
        (text, seconds), or a prompt with "then" ("a person walks, then waves, then bows";
        ``seconds`` shared between them). Without seconds (or a listed segment's None) a
        segment lasts as long as its text alone would be generated (the retrieved phrases'
        length, by the model with an index), else 4 s. The segments come whole from the
        checkpoint's segment model with the joins in-betweened (``segment_model``, see
        docs/control.md), or, with ``segment_model="self"``, each continues the last."""
        post = bool(options.pop("postprocess", True))
        return self.run_request(self.check_compose(segments, seconds=seconds, **options), post)

    def check_compose(
        self,
        segments: str | Sequence[tuple[str, float]],
        *,
        seconds: float | None = None,
        **options: Any,
    ) -> GenerationRequest:
        if "batch" in options or "seed_motion" in options or "music" in options:
            raise InputError(
                "a timeline takes steps, sampler, guidance, seed, style, blend, literal and "
                "segment_model"
            )
        given, segment_model = self._segment_model_option("timeline", options)
        # A named style is said in every segment's words (``_said_in_style``); the segments
        # then come from the text model as without a style (it has no style input: given the
        # vector alone, the control model made every segment and its walk read as proud,
        # P(sad) 0.01, a new user's trial). A blend stays with the control model's vectors.
        styled = None
        if options.get("blend") is None:
            # checked, named as the model knows it; the words stay only where the caller says
            # literal: one style for every segment lost a sad timeline's wave ("waves in a sad
            # way" was never recorded; the text model then followed the style's own takes,
            # arms down), where generate leaves such words out and says so (a new user's trial)
            literal = options.get("literal", False)
            options, _, _ = self._style_said(options, "")
            options["literal"] = literal
            styled = options.get("style") if isinstance(options.get("style"), str) else None
        by_text = styled is not None and segment_model not in (None, "self")
        unstyled = {k: v for k, v in options.items() if k != "style"} if by_text else options
        lengths: dict[str, str] = {}
        # each segment as long as its text's phrases last, the style said in it as the segment
        # will be (a raise sought unstyled got 2.0 s, then warned that elderly raises last 4.8)
        say = None
        if styled is not None:

            def say(t: str) -> str:
                return self._said_as_recorded(t, styled, None)[0]

        parsed = parse_timeline(
            segments, self.fps, total_seconds=seconds,
            typical=self._typical_seconds(segment_model, unstyled, lengths, say),
        )  # fmt: skip
        if by_text and len(parsed) > 1:  # joined: the text model has no style vector
            options = unstyled
        lengths_from = [lengths.get(t, "asked") for t, _ in parsed]
        if say is not None:
            parsed = [(say(t), n) for t, n in parsed]
        total = sum(n for _, n in parsed)
        if total / self.fps > MAX_SECONDS:
            raise InputError(
                f"the timeline lasts {total / self.fps:.1f} s; at most {MAX_SECONDS:g} s"
            )
        chosen, options = self._segment_sampling(
            options,
            len(parsed) > 1 and segment_model not in (None, "self")
            and options.get("style") is None and options.get("blend") is None,
        )  # fmt: skip
        options = self._task_options("timeline", options)
        # no prior for the whole: one retrieved for the first segment's text would pull every
        # segment towards it (a joined timeline's segments retrieve their own)
        req = self.check_request(parsed[0][0], seconds=total / self.fps, rag=False, **options)
        for text, _ in parsed:
            validate_prompt(text)
        if not req.literal:  # every segment's manner words, not the first's alone
            manner = {w: s for text, _ in parsed for w, s in in_style_words(text)[1].items()}
            req.meta.pop("manner_words", None)
            if manner:
                req.meta["manner_words"] = manner
        req.segments = tuple(parsed)
        req.frames = total
        req.meta["task"] = "timeline"  # also for one made by this model alone
        req.meta["segments"] = [[t, n / self.fps] for t, n in parsed]
        if lengths:
            req.meta["segment_lengths_from"] = lengths_from
        if styled is not None:
            req.meta["style"] = styled
        if isinstance(segments, str) and len(parsed) == 1:
            dangling = re.search(r"\bthen\W*$", segments.strip(), re.IGNORECASE)
            leading = re.match(
                r"\W*(?:and\s+)?(?:then|next|after\s+that|afterwards|later|finally)\b",
                segments.strip(),
                re.IGNORECASE,
            )
            # a list ("walks, waves and bows") may be meant as one after another; one action
            # alone is said nothing ("the prompt is one segment" was noise to a new user
            # composing "a person bows")
            listed = re.search(r"(?<!\d),|,(?!\d)|\band\b", segments)  # not "2,5 s"
            if dangling or leading or listed:
                add_warning(
                    req.meta,
                    ("the prompt ends in 'then' with no action after it, so it is one segment"
                     if dangling else
                     "the prompt starts with a word of sequence ('then', 'next') and has no "
                     "action before it, so it is one segment" if leading else
                     "the prompt is one segment (no 'then', ';' or new sentence between actions)")
                    + ": for one action after another write e.g. 'a person walks, then waves, "
                    "then bows'",
                )  # fmt: skip
        # A text model has no style input: a styled timeline continues itself.
        # One segment has no join: the control model makes it (as before).
        joined = len(parsed) > 1 and req.style is None and req.text_blend is None
        if segment_model not in (None, "self") and joined:
            if not self.control_dim:
                raise InputError(
                    f"segment_model joins segments by in-betweening, which checkpoint "
                    f"{self.name} was not trained for; use a control checkpoint"
                )
            self._check_joined(req, segment_model, chosen, from_config=given is None)
        return req

    def _typical_seconds(
        self,
        segment_model: Any,
        options: dict[str, Any],
        record: dict[str, str],
        say: Callable[[str], str] | None = None,
    ) -> Callable[[str], float | None]:
        """How long a timeline segment lasts when none is asked for: as long as the index's
        phrases like its text last (``rag.request_frames`` on the text the network is given,
        as a prompt alone gets), searched by this model or the segment model (also for one
        segment, which this model makes: "a person bows" lasts as long alone as in a
        sequence), whichever has a retrieval-prior input (the index speaks the model's text
        encoder), whether or not it retrieves by default; None (4 s) without one, without an
        index, for a styled timeline (this model makes every segment) or where the segment
        model cannot be loaded (a join then says why).
        ``record``: text -> where its length came from. ``say``: the text a segment is made
        with from the text it is given (a timeline's style said in words)."""
        from motiongen.generation.rag import request_frames
        from motiongen.generation.stand import STOP_SECONDS

        styled = options.get("style") is not None or options.get("blend") is not None
        literal = bool(options.get("literal", False))

        def source() -> Pipeline | None:
            if self.prior_dim:
                return self
            if segment_model in (None, "self") or styled:  # this model makes every segment
                return None
            try:
                return self._segment_pipeline(segment_model)
            except Exception:  # noqa: BLE001 - the join checks the segment model and says why
                return None

        def typical(text: str) -> float | None:
            if is_stop(text):  # held, not made: as long as the join into it and a second
                record[text] = "a stop"
                return STOP_SECONDS
            pipe = source()
            frames = None
            if pipe is not None and pipe.prior_dim and pipe._no_index_note is None:
                try:
                    said = say(text) if say is not None else text
                    searched = pipe._network_texts([validate_prompt(said)], [literal])[0]
                    frames = request_frames(pipe, searched)
                except DataNotFoundError as exc:  # no index: not looked for again
                    pipe._no_index_note = f"generated without retrieval: {_first_line(exc)}"
                except Exception:  # noqa: BLE001 - a damaged index must not stop a timeline
                    pass  # (a bad prompt is reported by check_compose)
            record[text] = "default" if frames is None else "retrieved phrases"
            return None if frames is None else min(frames / pipe.fps, SEGMENT_CAP_SECONDS)

        return typical

    @staticmethod
    def _segment_sampling(
        options: dict[str, Any], joined: bool
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the caller's own steps / sampler / guidance / literal, the options left for this
        model). Parts made by a segment model are sampled as the caller asked, judged by that
        model alone (another process's model takes samplers this one lacks); only literal
        also stays with this model's request."""
        chosen = {
            k: options[k]
            for k in ("steps", "sampler", "guidance", "literal")
            if options.get(k) is not None
        }
        if not joined:
            return chosen, options
        return chosen, {k: v for k, v in options.items() if k not in chosen or k == "literal"}

    def _join_request(self, req: GenerationRequest) -> GenerationRequest:
        """This model's in-betweening of the joins of ``req``'s parts (always its
        ``tasks.inbetween`` settings, chosen on val; no text, so guidance has nothing to act
        on); the constraints are added once the parts exist."""
        join = self.check_request(
            None, seconds=req.seconds, seed=req.seed, **self._task_options("inbetween", {})
        )
        join.frames = req.frames
        return join

    def _check_joined(
        self,
        req: GenerationRequest,
        segment_model: Any,
        chosen: dict[str, Any],
        from_config: bool = False,
    ) -> None:
        """Fill in a joined timeline's own requests: one per segment for the segment model
        (the caller's steps / sampler / guidance, else that model's defaults; a seed per
        segment drawn from the request's) and the in-betweening of the joins."""
        segment_pipe = self._checked_segment_pipeline(
            segment_model, "a timeline's segments", from_config and "timeline"
        )
        parts = [
            segment_pipe.check_request(
                text, seconds=frames / self.fps, seed=_part_seed(req.seed, k), **chosen
            )
            for k, (text, frames) in enumerate(req.segments or ())
        ]
        req.segment_model = segment_pipe
        req.parts = (tuple(parts), self._join_request(req))
        req.joined = "timeline"

    def run_request(
        self,
        req: GenerationRequest,
        postprocess: bool = True,
        *,
        cancel: Callable[[], bool] | None = None,
    ) -> Motion:
        """The motion of one checked request (``check_request`` or a ``check_<task>``)."""
        if req.batch != 1 and (req.constraints is not None or req.segments is not None):
            raise InputError("control and timeline requests make one motion each (batch 1)")
        if req.joined == "timeline":
            return self._joined_timeline(req, postprocess, cancel)
        task = None if req.constraints is None else req.constraints.task
        if req.joined is not None:
            made_by = {"span": self._joined_edit, "arms": self._arms_edit,
                       "restyle": self._joined_restyle, "continuation": self._joined_continuation}  # fmt: skip
            motion = made_by[req.joined](req, postprocess, cancel)
        else:
            motion = self._run([req], postprocess=postprocess, cancel=cancel)[0]
            # the checked request stays reusable: its warning is added, not moved
            # in the warning already, or only its parts'
            said = ("warning", "retrieval_warning", "length_short")
            motion.meta.update({k: v for k, v in req.meta.items() if k not in said})
            add_warning(motion.meta, req.meta.get("warning"))
            if req.segments is not None:
                motion.texts = [t for t, _ in req.segments]
            if postprocess and task == "style":
                add_warning(motion.meta, _restyle_slides(req.constraints, motion, self.fps))
            elif task == "predict" and not req.text:
                add_warning(motion.meta, _prediction_winds_down(req.constraints, motion, self.fps))
            elif postprocess and task == "inbetween":
                add_warning(motion.meta, _inbetween_slides(motion, self.fps, req.text))
                add_warning(motion.meta, _keyframe_pivots(req.constraints, motion, self.fps))
                add_warning(motion.meta,
                            _inbetween_swings(req.constraints, motion, self.fps, req.text))  # fmt: skip
        if req.wave_fallback is not None:
            from motiongen.skeleton import hands_raised

            fallback, (sides, every), (a, b) = req.wave_fallback  # b > a: an edit's frames
            shown = hands_raised(motion.positions[a:b], sides, every)  # in the edited span
            if shown < WAVE_SHOWN:
                other = self.run_request(fallback, postprocess, cancel=cancel)
                add_warning(other.meta, (
                    f"this model's arms had the waving hand up in {shown:.0%} of the edited "
                    f"frames (real waves: 84%): the arms are {fallback.segment_model.name}'s "
                    "motion of the text instead"
                ))  # fmt: skip
                other.meta["wave_fallback"] = True  # said in the warning (the CLI says no more)
                return other
        if postprocess and req.action_parts:
            add_warning(motion.meta, self._action_kept(req.action_parts, motion, task))
        if req.source_rate is not None:  # a restyle's pelvis at its own height, as made
            own_height = postprocess and (task == "style" or req.joined == "restyle")
            # the body the motion was made with (a continuation's: its past's last second, where
            # a drifting take's bones end; the kept frames' median reset an arm 5 cm at the seam)
            body = (
                _body_of(motion.positions.astype(np.float64), req.constraints)
                if postprocess
                else None
            )
            motion = at_source_rate(motion, req.source_rate, own_height=own_height, bones=body)
        if req.audio is not None and motion.audio is None:
            motion.audio = req.audio
        return motion

    def _segment_parts(
        self,
        req: GenerationRequest,
        lengths: Sequence[int],
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> tuple[list[np.ndarray], list[Any]]:
        """(positions at this model's fps, exactly ``lengths[k]`` frames each; what the segment
        model made of each text, its meta "vocabulary") for the parts ``req.parts`` asks of
        ``req.segment_model``."""
        from motiongen.generation.stand import standing

        parts, known = [], []
        for one, frames in zip(req.parts[0], lengths, strict=True):
            if one.text is not None and is_stop(one.text):  # no take stops: the pose, held
                parts.append(standing(frames))
                known.append({"known": True, "similarity": 1.0, "nearest": [], "stop": True})
                continue
            made = req.segment_model.run_request(one, postprocess, cancel=cancel)
            known.append(made.meta.get("vocabulary"))
            # said of the whole as its length is (``_with_parts_said``); this run's alone
            one.meta.pop("spin", None)
            if one.text is not None and (spin := _spin_warning(made, one.text)):
                one.meta["spin"] = spin
            pos = made.resample(self.fps).positions[:frames].astype(np.float64)
            if len(pos) < frames:  # another frame rate can round a frame short
                pos = np.concatenate([pos, np.repeat(pos[-1:], frames - len(pos), axis=0)])
            parts.append(pos)
        return parts, known

    def _sewn(
        self,
        req: GenerationRequest,
        keys: list[np.ndarray],
        starts: list[int],
        total: int,
        made: tuple[float, list[Any]],
        postprocess: bool,
        cancel: Callable[[], bool] | None,
        free_legs: tuple[int, int] | None = None,
    ) -> Motion:
        """The motion of a joined request: its parts, placed as ``keys`` from ``starts``,
        in-betweened by this model (``req.parts``' join request) over ``total`` frames.
        made: (when the parts were started, perf_counter; what the segment model made of each
        text). free_legs: frames [start, stop) whose legs this model makes (a span edit's new
        motion where it would glide: ``span_edit.STEP_SLIDE``)."""
        t_start, known = made
        segments_ms = (time.perf_counter() - t_start) * 1e3
        parts, join = req.parts
        join = copy.copy(join)  # the checked request stays reusable
        join.constraints = inbetween_constraints(keys, starts, total)
        # the joins meet their parts' velocities too (a span edit's seams their pace)
        join.sewn = join.constraints.free_gaps()
        join.made_parts = req.joined == "timeline"
        join.eased_paths = req.joined == "span"
        if free_legs is not None:
            from motiongen.generation.span_edit import legs_freed

            join.constraints = Constraints(
                legs_freed(join.constraints.targets, *free_legs), "inbetween"
            )
        join.frames = join.constraints.frames
        motion = self._run([join], postprocess=postprocess, cancel=cancel, t_start=t_start)[0]
        # the stages above are the joins'; total_ms covers the segments too
        motion.meta["timing_ms"]["segments_ms"] = round(segments_ms, 2)
        motion.meta["join_sampling"] = {"steps": join.steps, "sampler": join.sampler}
        return self._with_parts_said(req, motion, known)

    def _arms_edit(
        self,
        req: GenerationRequest,
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> Motion:
        """An edit of arm joints whose arms come from ``req.segment_model``'s motion of the
        text, set on the motion's body (``generation.arms_edit``); every other joint, and the
        arms outside the span, exactly as given."""
        from motiongen.generation.arms_edit import transplanted

        t_start = time.perf_counter()
        joints, a, b = req.edit_joints
        constraints = req.constraints
        pos = constraints.source
        (donor,), known = self._segment_parts(req, [b - a], postprocess, cancel)
        segments_ms = (time.perf_counter() - t_start) * 1e3
        t0 = time.perf_counter()
        out = pos.copy()
        out[a:b] = transplanted(pos[a:b], donor, joints)
        if postprocess:  # eased into and out of a span, on the body's own bones
            out = enforce(out, constraints, self.fps, _body_of(out, constraints))
        timing = {"segments_ms": segments_ms, "postprocess_ms": (time.perf_counter() - t0) * 1e3}
        timing["total_ms"] = (time.perf_counter() - t_start) * 1e3
        motion = self._motions(req, out[None], postprocess, timing)[0]
        return self._with_parts_said(req, motion, known)

    def _with_parts_said(self, req: GenerationRequest, motion: Motion, known: list[Any]) -> Motion:
        """``motion`` of a request made of the segment model's parts, with what made them and
        what the segment model made of their texts (``known``) in its meta and warnings."""
        parts = req.parts[0]
        motion.meta.update(req.meta)
        g = parts[0].guidance
        motion.meta.update(
            segments_from=req.segment_model.name,
            # What sampled the parts (what a caller's options change), the joins apart:
            # guidance has nothing to act on there (no text).
            steps=parts[0].steps,
            sampler=parts[0].sampler,
            guidance=list(g) if isinstance(g, tuple) else g,
            segment_seeds=[r.seed for r in parts],
        )
        motion.labels["conditions"] = "text"
        motion.texts = [r.text for r in parts]
        # What the segment model made of each text (its vocabulary, styles it left out);
        # a segment model without a vocabulary: this model's reading of the texts.
        if not all(known):  # a stop's own reading kept (no action is near "stops")
            read = self.known_actions(self.text_encoder.encode(motion.texts).pooled, motion.texts)
            known = [k or r for k, r in zip(known, read, strict=True)] if read else []
        if known:
            motion.meta["vocabulary"] = known[0]
            if req.segments is not None:
                motion.meta["segment_vocabulary"] = known
                if req.joined == "restyle":  # a restyled stop stands where its source stood
                    known = [{"known": True} if is_stop(t) else k
                             for t, k in zip(motion.texts, known, strict=True)]  # fmt: skip
                warning = far_segments(motion.texts, known, restyle=req.joined == "restyle")
            else:
                warning = vocabulary_warning("the prompt", "the motion", known[0])
            if warning:
                motion.meta["warning"] = warning
        for r in parts:  # a part asked shorter than its action lasts (a gesture cut off)
            if short := r.meta.get("length_short"):
                advice = (
                    SEGMENT_SHORT_ADVICE
                    if req.segments is not None
                    else "edit a longer span"
                    if req.joined == "span"
                    else "edit a longer stretch of the motion"
                    if req.joined == "arms"
                    else "ask for more seconds"
                )
                core = self._span_core_said(req, r) if req.joined == "span" else ""
                add_warning(motion.meta, f"{_part_named(req, r)}: {short}{core}; {advice}")
            # a part spinning round as its takes do (the data's one kick clip: every composed
            # kick spun 380 degrees, unsaid, where a prompt alone says so)
            if spin := r.meta.get("spin"):
                add_warning(motion.meta, f"{_part_named(req, r)}: {spin}")
        return motion

    def _span_core_said(self, req: GenerationRequest, part: GenerationRequest) -> str:
        """ " (the new action fills 1.4 of the span's 2.0 s, between seams eased in at its
        ends)": the length a short span's warning names is its core's, not the span asked
        for (a new-user trial read "1.4 s is short" of a 2 s span as a wrong length)."""
        if req.edit_span is None:
            return ""
        _, a, b = req.edit_span
        if part.frames >= b - a:
            return ""
        return (
            f" (the new action fills {part.frames / self.fps:.1f} of the span's "
            f"{(b - a) / self.fps:.1f} s, between seams eased in at its ends)"
        )

    def _joined_timeline(
        self,
        req: GenerationRequest,
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> Motion:
        """A timeline whose segments come whole from ``req.segment_model``, given one body,
        placed end to end and joined by this model's in-betweening without text (the
        requests ``_check_joined`` made), ``generation.timeline``."""
        from motiongen.generation.timeline import join_keyframes, placed_in_turn
        from motiongen.postprocess import median_bone_lengths, symmetric_bone_lengths
        from motiongen.postprocess import postprocess as clean

        t_start = time.perf_counter()
        lengths = [frames for _, frames in req.segments or ()]
        parts, known = self._segment_parts(req, lengths, postprocess, cancel)
        if postprocess:  # one body for every segment: each sample has its own build
            body = symmetric_bone_lengths(median_bone_lengths(parts[0]))
            parts = [clean(p, self.fps, bone_lengths=body, settle=True) for p in parts]
        keys, starts, total = join_keyframes(placed_in_turn(parts))
        return self._sewn(req, keys, starts, total, (t_start, known), postprocess, cancel)

    def _joined_continuation(
        self,
        req: GenerationRequest,
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> Motion:
        """A continuation into another action (``_check_continued_into``): the new action
        made by ``req.segment_model`` with the past's body, placed after the past and joined
        to it by this model's in-betweening; the past exactly as given."""
        from motiongen.generation.timeline import continued_keyframes
        from motiongen.postprocess import postprocess as clean

        t_start = time.perf_counter()
        past = req.constraints.targets[: int(req.constraints.known.all(axis=1).sum())]  # a prefix
        (seg,), known = self._segment_parts(req, [req.frames - len(past)], postprocess, cancel)
        if postprocess:  # the body the past ends with
            seg = clean(seg, self.fps, bone_lengths=_body_of(seg, req.constraints), settle=True)
        keys, starts, total = continued_keyframes(past, seg, self.fps)
        return self._sewn(req, keys, starts, total, (t_start, known), postprocess, cancel)

    def _joined_edit(
        self,
        req: GenerationRequest,
        postprocess: bool,
        cancel: Callable[[], bool] | None,
    ) -> Motion:
        """An edited span made by ``req.segment_model`` (less its seams), given the motion's
        body, set in the span and sewn in by this model's in-betweening of the seams
        (``generation.span_edit``); every frame outside the span exactly as given."""
        from motiongen.generation.span_edit import (
            SLIDE_WARNING,
            STEP_SLIDE,
            core,
            legs_act,
            placed_in_span,
            span_gap,
            span_keyframes,
        )
        from motiongen.postprocess import median_bone_lengths
        from motiongen.postprocess import postprocess as clean

        t_start = time.perf_counter()
        pos, a, b = req.edit_span
        lo, hi = core(pos, a, b, self.fps)
        (seg,), known = self._segment_parts(req, [hi - lo], postprocess, cancel)
        if postprocess:  # the body of the motion it goes into
            seg = clean(seg, self.fps, bone_lengths=median_bone_lengths(pos), settle=True)
        placed, slide = placed_in_span(seg, pos, a, b, self.fps)
        keys, starts = span_keyframes(pos, placed, a, b, self.fps)
        kicks = slide > STEP_SLIDE and legs_act(seg, self.fps)  # the motion as made, unplaced
        steps = slide > STEP_SLIDE and not kicks
        free = (a + lo, a + hi) if steps else None
        motion = self._sewn(
            req, keys, starts, len(pos), (t_start, known), postprocess, cancel, free_legs=free
        )
        if postprocess:  # an arm the seams' in-betweening snaps, moved at a gesture's pace
            from motiongen.postprocess.transitions import ease_snapping_arms

            seams, made = [(a, a + lo), (a + hi, b)], (a + lo, a + hi)
            eased = ease_snapping_arms(motion.positions, seams, made, self.fps)
            motion.positions = eased.astype(np.float32)
        motion.meta["span_slide_mps"] = round(slide, 3)
        motion.meta["span_legs_from"] = self.name if steps else motion.meta["segments_from"]
        if steps or slide > SLIDE_WARNING:
            # said in two short sentences: what happened, then what to do (one long sentence
            # was hard to act on; an animator's trial)
            # (plain words: "its legs made by tiny-control" read as jargon to a new user)
            done = (
                "so the span keeps stepping along (the control model steps its legs)"
                if steps
                else f"so the span slides along the ground at {slide:.1f} m/s"
                + (" (its legs do the action, so they are kept as made)" if kicks else "")
            )
            add_warning(
                motion.meta,
                f"the motion around the span travels {span_gap(pos, a, b):.1f} m and the new "
                f"action does not walk, {done}. "
                + ("To stop there" if steps else "To step instead")
                + ", edit a longer span, or make the whole span with the control model "
                '(--segment-model self; segment_model="self"); to do it where the span '
                "starts and go on from there, edit in place (--in-place; in_place=True)",
            )
        return motion

    def _checked_segment_pipeline(
        self, segment_model: Any, what: str, task: str | bool = False
    ) -> Pipeline:
        """The segment model's pipeline, or an ``InputError`` for a missing model or one
        without text (``what`` needs text: "a timeline's segments", "an edit's span").
        task: the task whose checkpoint default named the model (said in the error), or
        False when the caller named it."""
        named = f"segment_model {segment_model!r}"
        if task:
            named += (
                f" (checkpoint {self.name}'s conditioning.tasks.{task}.segment_model; "
                'segment_model="self" makes it with this model alone)'
            )
        if not isinstance(segment_model, Pipeline):  # a missing model: an error now
            folder = resolve_checkpoint(str(segment_model))
            if not (folder / "config.json").is_file():
                raise InputError(
                    f"{named} is neither a shipped model "
                    f'({", ".join(shipped_model_names())}), a checkpoint folder nor "self" '
                    "(this model alone)"
                )
        segment_pipe = self._segment_pipeline(segment_model)
        if not segment_pipe.text_dim:
            raise InputError(
                f"{named} was trained without text; making {what} needs a text model such as "
                "tiny-flow-smooth"
            )
        return segment_pipe

    def text_model(self, task: str = "timeline") -> Pipeline:
        """The text model this checkpoint's ``task`` takes its segments from (its
        conditioning.tasks.<task>.segment_model), loaded once; itself where it names none."""
        model = (self.config.conditioning.tasks or {}).get(task, {}).get("segment_model")
        if model in (None, "self"):
            return self
        return self._checked_segment_pipeline(model, "a story's actions", task)

    def _segment_pipeline(self, model: Any) -> Pipeline:
        """The text model a timeline's segments come from: a Pipeline, or a shipped name or
        folder loaded once per pipeline."""
        if isinstance(model, Pipeline):
            return model
        key = str(model)
        with self._lock:
            pipe = self._segment_pipes.get(key)
        if pipe is None:  # loaded outside the lock: generation goes on meanwhile
            pipe = Pipeline.from_pretrained(
                model, device=str(self.device), precision=self.precision, runtime=self.runtime
            )
            pipe.index_source = self.index_source  # a service's --index reaches its segments
            with self._lock:
                pipe = self._segment_pipes.setdefault(key, pipe)
        return pipe

    def _controlled(
        self,
        text: str | None,
        seconds: float,
        constraints: Constraints,
        options: dict[str, Any],
        *,
        task: str,
    ) -> GenerationRequest:
        if not self.control_dim:
            raise InputError(
                f"checkpoint {self.name} was not trained for control tasks ({task}); use a "
                f"control checkpoint such as {DEFAULT_CONTROL_MODEL} (one trained with "
                "tasks.enabled)"
            )
        allowed = {"steps", "sampler", "guidance", "seed", "style", "blend", "literal",
                   "segment_model"}  # fmt: skip
        if unknown := sorted(set(options) - allowed):
            raise InputError(
                f"{task} got {', '.join(map(repr, unknown))}; it takes steps, sampler, guidance, "
                "seed, style, blend, literal and postprocess"
            )
        if "segment_model" in options:  # edits, timelines, predictions take theirs before this
            raise InputError(
                f"{task} takes no segment_model: only an edit's span of time, a timeline's "
                "segments and a continuation's new action are made by a text model"
            )
        text_blend = None
        if task != "style":  # a restyle says its style itself (check_restyle)
            options, text, text_blend = self._style_said(options, text)
        req = self.check_request(
            text, seconds=seconds, rag=False, **self._task_options(task, options)
        )  # the constraints, not a retrieved prior, say where the motion goes
        req.frames = constraints.frames
        req.constraints = constraints
        req.text_blend = text_blend
        if task != "style" and isinstance(options.get("style"), str):
            req.meta["style"] = options["style"]
        add_warning(req.meta, _odd_input(constraints, self.fps))
        # named as the method, command and endpoint are (a restyle's task is "style" inside)
        req.meta["task"] = "restyle" if task == "style" else task
        req.meta["constrained_joint_frames"] = int(constraints.known.sum())
        return req

    def _style_said(
        self, options: dict[str, Any], text: str | None
    ) -> tuple[dict[str, Any], str | None, tuple[str, float] | None]:
        """(options with the style and blend names as the model knows them, the text with a
        named style said in words, a blend's second prompt or None: ``_said_in_style``).
        The words are the caller's ask, so they stay (literal) even for an action never
        recorded in that style."""
        style = _style_name(options.get("style"), self.styles)
        blend = options.get("blend")
        if style is None:
            return options, text, None
        options = {**options, "style": style}
        if isinstance(blend, tuple) and len(blend) == 2:
            blend = (_style_name(blend[0], self.styles), blend[1])
            options["blend"] = blend
        elif blend is not None:  # check_request says what a blend must be
            return options, text, None
        if text is None or not isinstance(style, str):
            return options, text, None
        self.style_vector(style, blend)  # an unknown style fails before its words are used
        said, second = self._said_as_recorded(text, style, blend)
        return {**options, "literal": True}, said, second

    def _task_options(self, task: str, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with the checkpoint's own defaults for ``task`` (conditioning.tasks)
        where the request leaves steps / sampler / guidance out (or None); its segment_model
        is ``_segment_model_option``'s."""
        defaults = (self.config.conditioning.tasks or {}).get(task, {})
        merged = dict(options)
        for key, value in defaults.items():
            if key != "segment_model" and merged.get(key) is None:
                merged[key] = value
        return merged

    def _segment_model_option(self, task: str, options: dict[str, Any]) -> tuple[Any, Any]:
        """(the segment_model the caller gave, taken out of ``options``, or None; the one to
        use: that, else the checkpoint's conditioning.tasks.<task>.segment_model)."""
        given = options.pop("segment_model", None)
        default = (self.config.conditioning.tasks or {}).get(task, {}).get("segment_model")
        return given, default if given is None else given

    def _as_positions(self, motion: Motion, what: str, cover: bool = False) -> np.ndarray:
        """A motion's positions at the model's frame rate (float64), checked. cover: as many
        frames as reach its last frame's time (the last pose held to the next model frame)."""
        from motiongen.plausibility import check_fps, check_motion

        if not isinstance(motion, Motion):
            raise InputError(f"{what} must be a motiongen.Motion (motiongen.load(path))")
        check_fps(motion.fps, what)
        check_motion(np.asarray(motion.positions, dtype=np.float64), motion.fps, what)
        frames = None
        if cover:
            frames = int(np.ceil((motion.num_frames - 1) * self.fps / motion.fps - 1e-6)) + 1
        return motion.resample(self.fps, frames=frames).positions.astype(np.float64)

    @staticmethod
    def batch_key(req: GenerationRequest) -> tuple:
        """Requests with equal keys can run as one batched model pass (``generate_batch``)."""
        return req.batch_key

    def request_cost(self, req: GenerationRequest) -> int:
        """What a request costs the network, in frame-evaluations: the frames of every window
        x the sampler's network evaluations x the guidance passes x the batch (an arms wave's
        edit again with the text model's arms counted: it may run). The service budgets
        requests with it; it is proportional to the sampling time."""
        from motiongen.generative import guidance_weights

        if req.wave_fallback is not None:  # the edit again, where its hand stays down
            alone = dataclasses.replace(req, wave_fallback=None)
            return self.request_cost(alone) + self.request_cost(req.wave_fallback[0])
        if req.parts is not None:  # a joined timeline or edit: the segments, then the joins
            segment_reqs, join = req.parts
            made = sum(req.segment_model.request_cost(r) for r in segment_reqs)
            return made + (0 if join is None else self.request_cost(join))  # arms: no joins
        frames = sum(n for _, n in self._windows(req))
        scales = self._guidance_kwargs(req.guidance, req.text is not None, req.music is not None)
        passes = sum(1 for _, w in guidance_weights(**scales) if w != 0.0)
        passes *= 2 if req.text_blend is not None else 1
        t0 = self.start_time if self.starts_from(req.prior) else 0.0  # the steps after t0
        return frames * self.process.evaluations(req.steps, req.sampler, t0) * passes * req.batch

    def generate_batch(
        self,
        requests: Sequence[GenerationRequest],
        *,
        postprocess: bool = True,
        cancel: Callable[[], bool] | None = None,
    ) -> list[Motion]:
        """One motion per checked request (``check_request``), sampled as one batch.

        Requests must share ``batch_key`` (length, steps, sampler, guidance, kind of
        condition); prompts, music and seeds are per request. Each request's noise comes
        from its own seed exactly as in ``generate(seed=...)``, so a request gives the same
        motion (up to float rounding of batched matrix products) alone or batched.
        cancel: polled before every network evaluation; when it returns True the work stops
        with ``Cancelled`` (a client left, a deadline passed).
        """
        if not requests:
            return []
        if len({r.batch_key for r in requests}) > 1:
            raise InputError(
                "requests in one batch must share length, steps, sampler, guidance and "
                "condition kind; run them as separate batches"
            )
        lone_control = len(requests) == 1 and (
            requests[0].constraints is not None or requests[0].segments is not None
        )
        if lone_control:  # a control task or timeline: always a batch of its own
            motion = self.run_request(requests[0], postprocess, cancel=cancel)
            motion.meta["batched_with"] = 1
            return [motion]
        if any(
            r.batch != 1 or r.prefix is not None or r.constraints is not None or r.segments
            for r in requests
        ):
            raise InputError(
                "generate_batch takes single requests without a seed motion; a control or "
                "timeline request runs alone"
            )
        motions = self._run(list(requests), postprocess=postprocess, cancel=cancel)
        for m in motions:
            m.meta["batched_with"] = len(requests)
        return motions

    # ---- the one generation path --------------------------------------------------------
    def _run(
        self,
        requests: list[GenerationRequest],
        *,
        postprocess: bool,
        seed_motion: Motion | None = None,
        t_start: float | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[Motion]:
        """Motions for one request (``batch`` motions, each from its own seed) or for several
        batch-compatible single requests (one motion each, from its own seed)."""
        t_start = time.perf_counter() if t_start is None else t_start
        first = requests[0]
        lone = len(requests) == 1
        timing: dict[str, float] = {}
        t0 = time.perf_counter()
        text_emb = None
        known: list[dict[str, Any]] = []
        segment_known: list[dict[str, Any]] = []
        if first.segments is not None:
            literal = [first.literal] * len(first.segments)
            texts = self._in_style_words([t for t, _ in first.segments], literal)
            text_emb = self.text_encoder.encode(texts)
            segment_known = self.known_actions(text_emb.pooled, texts)
            known = segment_known[:1]
        elif first.text is not None:
            literal = [r.literal for r in requests]
            texts = self._in_style_words([r.text for r in requests], literal)
            text_emb = self.text_encoder.encode(texts)
            known = self.known_actions(text_emb.pooled, texts)
        if text_emb is not None:  # the network is given the prompts without unseen styles
            used = self._without_unseen_styles(texts, segment_known or known, literal)
            if used != texts:
                text_emb = self.text_encoder.encode(used)
        blend_emb = None
        if first.text_blend is not None:
            blend_emb = self.text_encoder.encode([first.text_blend[0]])
        timing["text_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        audio = None
        if first.music is not None:
            audio = np.stack(
                [self._music_frames(r.music, r.music_offset, r.frames) for r in requests]
            )  # type: ignore[arg-type]
        timing["audio_ms"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        with self._inference():
            positions, contacts = self._sample(requests, text_emb, audio, cancel, blend_emb)
        straightened = (
            self._straightened(requests, positions, known, seed_motion) if postprocess else []
        )
        if straightened:
            positions = np.stack([p for p, _ in straightened])
        constraints = first.constraints
        # What clean-up must leave exactly as given: the constraints, or a seed motion's
        # frames (clean-up alone moved a 5-frame seed by up to 23 cm; a new user's trial).
        kept = constraints
        restyled = constraints is not None and constraints.task == "style"
        if seed_motion is not None and first.prefix is not None:
            seed_pos = seed_motion.resample(self.fps).positions[: len(first.prefix)]
            seed_pos = seed_pos.astype(np.float64)
            positions = place_on(positions, seed_pos)
            kept = predict_constraints(seed_pos, positions.shape[1])
        if constraints is not None:
            positions = np.stack([place(p, constraints) for p in positions])
            if postprocess:  # eased onto the given frames first: smoothing would smear a jump
                positions = np.stack([enforce(p, constraints, self.fps) for p in positions])
                # where the facing is free, no snapping round (postprocess/turns.py)
                facing_given = constraints.known[:, PELVIS]
                positions = np.stack(
                    [limit_turn_rate(p, self.fps, facing_given)[0] for p in positions]
                )
                # a join, or keyframes in-betweened without text: no swinging round between
                # (in-betweening a walk, a bow and a walk, all facing ahead, turned the body
                # 136-158 degrees away and back within 3 s: a new user's trial). The walk
                # assumed for none turns to where it goes: held to its keyframes' facings, a
                # keyframe 3 m to the side was reached facing 81-83 degrees off the way (a
                # review); free, 7-9 degrees off that way, and a walk, a bow and a walk ahead
                # within 13 degrees of ahead, as with the limit (seeds 0, 1, 3).
                gaps = first.sewn or (
                    constraints.free_gaps()
                    if constraints.task == "inbetween" and first.text is None
                    else ()
                )
                if gaps:
                    positions = np.stack([limit_overturn(p, gaps)[0] for p in positions])
        joins = self._joins(first)
        if joins:
            from motiongen.postprocess.transitions import smooth_joins

            positions = np.stack([smooth_joins(p, joins) for p in positions])
        if first.sewn:
            from motiongen.postprocess.transitions import eased_body_path, sew, soften_edges

            if first.eased_paths:  # a span edit's seams: see GenerationRequest.eased_paths
                positions = np.stack([eased_body_path(p, first.sewn) for p in positions])
            else:
                positions = np.stack([sew(p, first.sewn) for p in positions])
            if first.made_parts:  # a timeline's: a continuation's past is given (and on val
                # its continuations' feet slid more: skating 0.173 -> 0.202 into a walk)
                positions = np.stack([soften_edges(p, first.sewn) for p in positions])
        timing["sample_ms"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        # one body per motion, for clean-up and the final enforce alike
        bodies = [_body_of(p, kept) if postprocess else None for p in positions]
        if postprocess:
            from motiongen.postprocess import SUPPORT_SECONDS
            from motiongen.postprocess import postprocess as clean

            # Controlled motions use measured toe contacts: the predicted ones belong to the
            # network's frames, and where frames were eased onto given ones a foot locked
            # there drags a leg straight. Restyles (only the path given, nothing eased) also
            # did better so on val (`benchmarks/tasks.py --split val --windows 20`: content
            # kept 0.80 -> 0.95, target style 0.40 -> 0.50).
            # Nor do they follow the planted feet along the floor: the pelvis path may be
            # given, and the enforce below would move the body, locked feet and all, back.
            measured = constraints is not None
            # A dance's contacts are the network's alone: real dances glide (foot skating 0.43
            # against 0.11 over all clips), and locking every low, slow toe cost the test
            # dances' music agreement 0.255 -> 0.228 over 4 seeds (docs/pipeline.md step 4).
            add_guessed = first.music is None
            # Nor does a dance leave the floor (no clip with music jumps): it stands on its
            # lowest foot in every frame, where the slow-foot floor let it hover between steps.
            # Nor a restyle, set down at its own height below (val restyles off the floor 8.3 ->
            # 3.9 % of frames, the sources 3.7; at its own height on the slow-foot floor 5.3 %)
            grounded = first.music is not None or restyled
            # Nor are a dance's limbs at rest low-passed: on val its agreement with the music
            # fell 0.339 -> 0.336 so, flow against DDIM-50 +0.003 -> -0.000 (dance_gate.py).
            settle = first.music is None
            # Nor is a dance's toe path low-passed (its foot accents fall on the beats): with it,
            # the test dances' agreement fell 0.244 -> 0.233 over 4 seeds (dance_gate.py)
            toe_shift = 0.0 if first.music is not None else None
            # a join's stance foot holds the body at any speed (postprocess/floor)
            supports: list[np.ndarray | None] = [None] * len(positions)
            if first.sewn:
                from motiongen.postprocess.floor import support_contacts

                supports = [support_contacts(p, first.sewn) for p in positions]
            positions = np.stack(
                [
                    clean(
                        p,
                        self.fps,
                        contacts=None if measured else c,
                        held=support,
                        bone_lengths=body,
                        follow_support=None if measured else SUPPORT_SECONDS,
                        add_guessed=add_guessed,
                        grounded=grounded,
                        settle=settle,
                        toe_shift_seconds=toe_shift,
                    )
                    for p, c, body, support in zip(
                        positions, contacts, bodies, supports, strict=True
                    )
                ]
            )
            from motiongen.postprocess.transitions import ground_gaps, step_gliding_feet

            if first.sewn:  # set down once its legs have their lengths (postprocess/transitions)
                positions = np.stack([ground_gaps(p, first.sewn) for p in positions])
            # A foot gliding flat along the floor lifted into a step: in a join, which has no
            # text to step with, and anywhere in a restyle, which walks the source's path: a
            # slower style's legs swung flat along it (val walks restyled slower: foot
            # skating 0.505 -> 0.301, the sources 0.188; docs/control.md, "Restyled feet").
            glides = first.sewn or (((0, positions.shape[1]),) if restyled else ())
            if glides:
                positions = np.stack([step_gliding_feet(p, glides, self.fps) for p in positions])
        if postprocess and first.made_parts:
            kept = None  # nothing given: the segments stay as cleaned with their joins
        if kept is not None and (constraints is not None or postprocess):
            # given joints exactly as given, after any clean-up; a restyle's pelvis at the
            # height the clean-up set it on the floor: a style stands lower or higher than the
            # source (a sad walk at a normal walk's height floated, both feet up to 10 cm off
            # the floor in a quarter of its frames: a new user's trial)
            own_height = postprocess and restyled
            positions = np.stack(
                [
                    enforce(p, kept.at_own_height(p) if own_height else kept, self.fps, body)
                    for p, body in zip(positions, bodies, strict=True)
                ]
            )
            if postprocess:
                positions = np.stack([lift_free_frames(p, kept.known, self.fps) for p in positions])
        synced: list[dict[str, Any]] = []
        if first.beat_sync_frames is not None and postprocess:
            positions, synced = self._on_beats(requests, positions)
        elif first.beat_sync_frames is not None:  # the network's output as it is, cut
            positions = positions[:, : first.beat_sync_frames]
            reason = "post-processing is off (the network's output as it made it)"
            synced = [{"applied": False, "reason": reason}] * len(positions)
        timing["postprocess_ms"] = (time.perf_counter() - t0) * 1e3
        timing["total_ms"] = (time.perf_counter() - t_start) * 1e3
        if lone:
            motions = self._motions(first, positions, postprocess, timing)
        else:
            motions = [
                self._motions(req, pos[None], postprocess, timing)[0]
                for req, pos in zip(requests, positions, strict=True)
            ]
        for m, info in zip(motions, synced, strict=False):
            m.meta["beat_sync"] = {k: v for k, v in info.items() if k != "warn"}
            if info.get("warn"):
                add_warning(m.meta, f"beat sync: {info['reason']}; the dance keeps its own timing")
        for i, m in enumerate(motions):
            if known:
                info = known[0 if lone else i]
                m.meta["vocabulary"] = info
                if _started_from_action(m.meta, (info.get("rare") or {}).get("action")):
                    # made from that action's own takes: it shows (the data's one kick clip
                    # kicks 0.85-0.98 m this way), so the "may well not show it" is wrong
                    info = {k: v for k, v in info.items() if k != "rare"}
                if not info["known"] and m.meta.get("prior_start") and m.meta.get("retrieved"):
                    best = m.meta["retrieved"][0]
                    info = {**info, "started_from": {"text": str(best.get("text", "")),
                                                     "score": float(best.get("score", 0.0))}}  # fmt: skip
                    m.meta["vocabulary"] = info
                if segment_known:  # a timeline: every segment checked, the unknown named
                    texts = [t for t, _ in first.segments or []]
                    # a restyled timeline's stop stands where its source stood (the path holds
                    # still there): no action to find for it
                    checked = [{"known": True} if restyled and is_stop(t) else k
                               for t, k in zip(texts, segment_known, strict=True)]  # fmt: skip
                    far = far_segments(texts, checked, restyle=restyled)
                    if far:
                        m.meta["warning"] = far
                elif warning := vocabulary_warning(
                    "the restyle" if restyled else "the prompt",  # its text may be made for it
                    "the motion",
                    info,
                    restyle=restyled,
                    inbetween=first.meta.get("task") == "inbetween",
                ):
                    m.meta["warning"] = warning
            if first.text is not None and constraints is None and first.music is None:
                add_warning(m.meta, _spin_warning(m, first.text))
            if straightened and straightened[i][1] is not None:
                m.meta["straightened_deg"] = round(straightened[i][1], 1)
            add_warning(m.meta, m.meta.pop("retrieval_warning", None))
            if short := m.meta.pop("length_short", None):  # a prompt asked for this length
                add_warning(m.meta, f"{short}; {LENGTH_SHORT_ADVICE}")
        return motions

    def _on_beats(
        self, requests: list[GenerationRequest], positions: np.ndarray
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Each motion retimed onto its music's beats and cut to the length asked for
        (``generation.on_beats``): (positions (B, asked frames, 22, 3), one meta entry each)."""
        owners = [requests[0]] * len(positions) if len(requests) == 1 else requests
        done = [
            on_beats(p, self.fps, r.music, r.music_offset, r.beat_sync_frames)
            for p, r in zip(positions, owners, strict=True)
        ]
        return np.stack([p for p, _ in done]), [info for _, info in done]

    def _sample(
        self,
        requests: list[GenerationRequest],
        text_emb: Any,
        audio: np.ndarray | None,
        cancel: Callable[[], bool] | None = None,
        blend_emb: Any = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (B, frames, 22, 3) and the predicted foot contacts (B, frames, 4) bool.
        Every motion is drawn from a generator of its own seed: a lone request's ``batch``
        motions from ``_item_seed``'s, several requests' from theirs, as ``generate(seed=s)``
        alone draws, so results agree either way."""
        from motiongen.generative import draw_noise

        dev = self.device
        first = requests[0]
        lone = len(requests) == 1
        batch = first.batch if lone else len(requests)
        plan = None
        window_segment: list[int] = []
        if first.segments is not None:
            seg_plan = segment_plan([n for _, n in first.segments], self.window, self.overlap)
            plan = [(s, n) for s, n, _ in seg_plan]
            window_segment = [seg for _, _, seg in seg_plan]

        def fields(emb: Any) -> dict[str, Tensor]:
            return {"text_pooled": emb.pooled, "text_tokens": emb.tokens, "text_mask": emb.mask}

        def one_text(emb: Any, row: int) -> dict[str, Tensor]:
            """Row ``row`` of an encoding as the text of every motion of the batch."""
            return {k: v[row : row + 1].to(dev).expand(batch, *v.shape[1:])
                    for k, v in fields(emb).items()}  # fmt: skip

        # One text row per window: the request's, or the segment's.
        texts_for: list[dict[str, Tensor]] = []
        if text_emb is not None:
            if first.segments is not None:
                texts_for = [one_text(text_emb, seg) for seg in range(len(first.segments))]
            elif lone:
                texts_for = [one_text(text_emb, 0)]
            else:  # one request per motion: each its own row
                texts_for = [{k: v.to(dev) for k, v in fields(text_emb).items()}]
        blend = None
        if blend_emb is not None:  # set only for a request with a text blend
            blend = (one_text(blend_emb, 0), float(first.text_blend[1]))
        audio_t = None
        if audio is not None:
            audio_t = torch.as_tensor(audio, dtype=torch.float32, device=dev)
            audio_t = audio_t.expand(batch, -1, -1)
        # one generator per motion, each from its own seed (``_item_seed``)
        seeds = ([_item_seed(first.seed, b) for b in range(batch)] if lone
                 else [int(r.seed) for r in requests])  # fmt: skip
        generators = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]

        def noise(length: int) -> Tensor:
            return torch.cat(
                [draw_noise((1, length, FEATURE_DIM), generator=g) for g in generators]
            ).to(dev)

        scales = self._guidance_kwargs(first.guidance, text_emb is not None, audio is not None)
        style_t = None
        if first.style is not None:
            rows = [first.style] * batch if lone else [r.style for r in requests]
            style_t = torch.as_tensor(np.stack(rows), dtype=torch.float32, device=dev)
        prior_t = None
        starting = self.starts_from(first.prior)  # then the prior input is the start too
        if first.prior is not None:
            priors = [first.prior] * batch if lone else [r.prior for r in requests]

            def normalised(rows: list[np.ndarray]) -> Tensor:
                return self._normalize(
                    torch.as_tensor(np.stack(rows), dtype=torch.float32, device=dev)
                )

            if starting:
                # started from, one phrase alone, unsmoothed, drawn by the motion's seed
                # (``Prior.start_for``: each motion draws with [its seed, 0], as the same seed
                # alone does), and given to the network the same way (the smoothed blend
                # beside it: val FID_k 5.0 against 3.7 for the unsmoothed blend)
                prior_t = normalised([p.start_for(np.random.default_rng([s, 0]))
                                      for p, s in zip(priors, seeds, strict=True)])  # fmt: skip
            else:
                prior_t = normalised([p.features for p in priors])
        starts = [s for s, _ in (plan or window_plan(first.frames, self.window, self.overlap))]
        constraints = first.constraints
        # A text model's own path (no constraints, no given start) follows its take's turns.
        free_path = bool(self.prior_dim) and constraints is None and first.prefix is None
        control_dim = self.control_dim
        control = None
        if constraints is not None:

            def control(start: int, length: int, reference: np.ndarray | None) -> Any:
                return window_control(constraints, start, length, self.norm, reference)

        def sample(
            x0: Tensor,
            window_audio: Tensor | None,
            known: Tensor | None,
            mask: Tensor | None,
            k: int,
        ) -> Tensor:
            text_kwargs = {}
            if texts_for:
                text_kwargs = texts_for[window_segment[k] if window_segment else 0]
            task = None
            if self.num_tasks:
                if constraints is not None and k == 0:
                    name = constraints.task
                elif known is not None:
                    name = "predict" if constraints is None else constraints.task
                else:
                    name = "gen" if text_kwargs or window_audio is not None else "uncond"
                task = torch.full((x0.shape[0],), TASK_ID[name], dtype=torch.long, device=dev)
            window_prior = None
            if prior_t is not None:
                window_prior = prior_t[:, starts[k] : starts[k] + x0.shape[1]]
            window_start = window_prior if starting else None
            network_prior = window_prior if self.prior_dim else None  # a restyle's start only
            x = self._sample_window(
                x0, text_kwargs, window_audio, known, mask, first.steps, first.sampler, scales,
                None, cancel, task, style_t, network_prior, blend,
                window_start, overlap_only=k > 0 and constraints is None,
            )  # fmt: skip
            if window_start is not None and free_path:  # turns as far as its take
                x = follow_start_heading(x, window_start, self.norm, self.fps)
            return x

        prefix = None
        if first.prefix is not None:
            values = torch.as_tensor(first.prefix, dtype=torch.float32, device=dev)
            prefix = self._normalize(values)
        return sample_windows(
            total=first.frames,
            window=self.window,
            overlap=self.overlap,
            batch=batch,
            feature_dim=FEATURE_DIM,
            noise=noise,
            sample=sample,
            to_positions=self._to_positions,
            audio=audio_t,
            prefix=prefix,
            plan=plan,
            control_dim=control_dim,
            world=world_channels if control_dim else None,
            control=control,
        )

    def _sample_window(
        self,
        noise: Tensor,
        text_kwargs: dict[str, Tensor],
        audio: Tensor | None,
        known: Tensor | None,
        known_mask: Tensor | None,
        steps: int,
        sampler: str,
        scales: dict,
        generator: torch.Generator | None = None,
        cancel: Callable[[], bool] | None = None,
        task: Tensor | None = None,
        style: Tensor | None = None,
        prior: Tensor | None = None,
        blend: tuple[dict[str, Tensor], float] | None = None,
        start: Tensor | None = None,
        overlap_only: bool = False,
    ) -> Tensor:
        """One window's normalised features (B, length, D) from its noise; known values are
        imposed at the process's noise level after every step (overlap_only: the known values
        are only the previous window's last frames, which the stitch cross-fades into this
        one: not imposed after the last step, so the window ends its own way into its new
        frames; imposed there too, the network's first new frame did not always continue
        them, and every dance over 9.8 s jolted at 9.8 s, the pelvis at 2-4 m/s for a frame,
        a new user's trial). blend: (the second text's
        rows, w): the two texts' guided predictions mixed (1 - w, w). start: the retrieved
        prior the flow starts from at ``prior_start`` (``FlowMatching.sample``)."""
        from motiongen.generative import guided, replacement
        from motiongen.models import ModelConditions

        def prediction(rows: dict[str, Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
            cond = ModelConditions(
                **rows, audio=audio, known=known, known_mask=known_mask, task=task,
                style=style, prior=prior,
            )  # fmt: skip
            return guided(
                self.model, cond if cond.batch_size() is not None else None, None, **scales
            )

        predict = prediction(text_kwargs)
        if blend is not None:
            first, second, w = predict, prediction(blend[0]), blend[1]

            def predict(x: Tensor, t: Tensor) -> Tensor:
                return (1.0 - w) * first(x, t) + w * second(x, t)

        if cancel is not None:
            predict = _cancellable(predict, cancel)
        hook = None
        if known is not None:
            # Only the model's own D features can be imposed; world channels only guide it.
            mask = known_mask if known_mask.shape[-1] == 1 else known_mask[..., :FEATURE_DIM]
            hook = replacement(
                known[..., :FEATURE_DIM], mask, noise, self.process.known_coefficients
            )
            if overlap_only:
                hook = _not_at_the_end(hook, self.process_name == "flow")
        from_prior = {} if start is None else {"start": start, "t0": self.start_time}
        return self.process.sample(
            predict, noise, steps=steps, sampler=sampler, generator=generator, post_step=hook,
            **from_prior,
        )  # fmt: skip

    def _to_positions(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(positions (B, L, 22, 3), foot contacts (B, L, 4) bool) of normalised features."""
        feats = self._denormalize(x).double().cpu().numpy()
        if not np.isfinite(feats).all():
            raise FormatError(
                f"checkpoint {self.name} produced NaN or infinite values; the model is "
                "broken (diverged training?) — use another checkpoint"
            )
        positions = features_to_positions(feats).astype(np.float64)
        # A body is not tens of metres wide (the path itself may run far: no bound on that).
        spread = float(np.abs(positions - positions[..., :1, :]).max())
        if spread > MAX_BODY_SPREAD:
            raise FormatError(
                f"checkpoint {self.name} produced a joint {spread:.3g} m from its pelvis; its "
                "weights are damaged or its training diverged — use another checkpoint"
            )
        return positions, feats[..., CONTACTS] > 0.5

    def _guidance_kwargs(self, guidance: Guidance, has_text: bool, has_audio: bool) -> dict:
        """Arguments for ``generative.guided``: one pass when there is nothing to guide."""
        if not (has_text or has_audio):
            return {"scale": 1.0}
        if isinstance(guidance, tuple):
            text_scale, audio_scale = guidance
            if has_text and has_audio:
                return {"text_scale": text_scale, "audio_scale": audio_scale}
            return {"scale": text_scale if has_text else audio_scale}
        return {"scale": float(guidance)}

    # ---- request helpers ------------------------------------------------------------------
    def _check_music(self, music: str | Path, offset: float, seconds: float) -> Path:
        """The music file, if the model takes music and it lasts ``seconds`` from ``offset``."""
        from motiongen.io.audio import audio_duration

        if self.audio_dim == 0:
            raise InputError(
                f"checkpoint {self.name} was trained without music; leave out the music "
                "or use a music-conditioned checkpoint"
            )
        if not is_number(offset) or not (math.isfinite(offset) and offset >= 0):
            raise InputError(f"music offset must be >= 0 seconds, got {offset!r}")
        path = Path(music).expanduser()
        length = audio_duration(path)
        if length <= 0:
            raise InputError(f"audio {path.name} has no samples (0 s long)")
        available = length - float(offset)
        if available <= 0:
            raise InputError(
                f"music offset {float(offset):g} s is past the end of {path.name}, which lasts "
                f"{length:.2f} s; give an offset under {length:.2f} s"
            )
        if available + 0.5 / self.fps < seconds:
            raise InputError(
                f"music {path.name} lasts {max(available, 0):.2f} s from offset "
                f"{float(offset):g} s, shorter than the {seconds:g} s asked for; "
                f"ask for at most {max(available, 0):.2f} s"
            )
        return path

    def _seed_features(self, seed_motion: Motion, total: int) -> np.ndarray:
        """(S, 137) features of the seed prefix at the model fps, relative to its frame 0."""
        from motiongen.features import motion_to_features

        if not isinstance(seed_motion, Motion):
            raise InputError(
                f"seed motion must be a motiongen.Motion, got {type(seed_motion).__name__}; "
                "load it with motiongen.load(path)"
            )
        feats = motion_to_features(seed_motion, self.fps)
        limit = min(total, self.window) - 1
        if feats.shape[0] > limit:
            raise InputError(
                f"seed motion has {feats.shape[0]} frames at {self.fps:g} fps; at most {limit} "
                "fit before the generated part (shorten the seed or ask for more seconds)"
            )
        return feats

    def _motions(
        self,
        req: GenerationRequest,
        positions: np.ndarray,
        postprocess: bool,
        timing: dict[str, float],
    ) -> list[Motion]:
        """Wrap (B, T, 22, 3) positions as ``Motion`` objects with what made them in meta."""
        g = req.guidance
        meta: dict[str, Any] = {
            "generator": "motiongen.Pipeline",
            "motiongen_version": __version__,
            "checkpoint": self.name,
            "checkpoint_sha256": self.weights_sha256,
            "process": self.process_name,
            "precision": self.precision,
            "runtime": self.runtime,
            "sampler": req.sampler,
            "steps": req.steps,
            "guidance": list(g) if isinstance(g, tuple) else g,
            "seed": req.seed,
            "batch": req.batch,
            "seconds": req.seconds,
            "postprocess": bool(postprocess),
            "windows": len(self._windows(req)),
            "timing_ms": {k: round(v, 2) for k, v in timing.items()},
        }
        audio = None
        if req.music is not None:
            meta["music"] = str(req.music)
            meta["music_offset"] = req.music_offset
            audio = AudioRef(str(req.music), req.music_offset)
        if req.prefix is not None:
            meta["seed_motion_frames"] = int(len(req.prefix))
        if req.prior is not None:
            meta["retrieved"] = req.prior.phrases
            if (index := getattr(self.retriever, "index", None)) is not None:
                # which index: one is built on each machine (a paper names it; a trial)
                meta["retrieval_index"] = {
                    "phrases": len(index),
                    "data_fingerprint": str(index.source.get("fingerprint", "")),
                }
            if self.starts_from(req.prior):
                meta["prior_start"] = self.start_time
                # how far the takes it may start from turn round (``_spin_warning``)
                meta["take_turn_deg"] = round(req.prior.turn_degrees(), 1)
            elif self.start_time > 0 and self.process_name == "flow":
                # listed, the phrases read as what the motion was made from (a new user's
                # trial): they were the network's prior input only
                actions = sorted(
                    {str(p.get("label") or "?").split("|")[0] for p in req.prior.phrases}
                )
                meta["retrieval_note"] = (
                    f"made from noise: the retrieved phrases do not agree on one action "
                    f"({', '.join(actions)}), so they were only the network's prior input"
                )
        for key in ("retrieved", "retrieval_warning", "retrieval_note", "length_from",
                    "length_short", "beat_sync", "manner_words"):  # fmt: skip
            if key in req.meta:
                meta[key] = req.meta[key]
        labels = {
            "generated": "motiongen",
            "checkpoint": self.name,
            "conditions": req.conditions,
        }
        return [
            Motion(
                positions=pos,
                fps=self.fps,
                texts=[req.text] if req.text is not None else [],
                labels=dict(labels),
                audio=None if audio is None else AudioRef(audio.path, audio.offset),
                name=f"generated_{_item_seed(req.seed, i)}",
                # each motion's own seed (``_item_seed``); a batch's in batch_seed
                meta={**meta, "index": i, "seed": _item_seed(req.seed, i)}
                | ({"batch_seed": req.seed} if req.batch > 1 else {}),
            )
            for i, pos in enumerate(positions)
        ]

    # ---- internals ------------------------------------------------------------------------
    def _straightened(
        self,
        requests: Sequence[GenerationRequest],
        positions: np.ndarray,
        known: list[dict[str, Any]],
        seed_motion: Motion | None,
    ) -> list[tuple[np.ndarray, float | None]]:
        """[(positions, the turn taken out in degrees or None)] per motion, where a motion of
        more than one window was asked to go straight on (a known prompt whose nearest action
        is ``STRAIGHT_ON``, nothing of it unshown, no ``CURVING`` words): its slow veer taken
        out (``postprocess.turns.straightened``); [] where no motion is. Text alone: music,
        keyframes, a seed motion or segments set the path themselves."""
        first = requests[0]
        plain = first.music is None and first.constraints is None and first.segments is None
        if not (plain and seed_motion is None and known and positions.shape[1] > self.window):
            return []
        from motiongen.postprocess.turns import straightened

        out: list[tuple[np.ndarray, float | None]] = []
        lone = len(requests) == 1
        for i, p in enumerate(positions):
            info = known[0 if lone else i]
            text = requests[0 if lone else i].text or ""
            nearest = info.get("nearest") or [[None]]
            straight = nearest[0][0] in STRAIGHT_ON and info.get("known")
            if straight and not info.get("unshown") and not CURVING.search(text):
                out.append(straightened(p, self.fps))
            else:
                out.append((p, None))
        return out if any(turn is not None for _, turn in out) else []

    def _joins(self, req: GenerationRequest) -> list[tuple[int, int]]:
        """Where a timeline's segments meet: the first frame of each segment's first window,
        blended there (postprocess/transitions.py). A new text changes the action at once
        and the network does not always finish the old one's step; within one text, window
        seams continue smoothly and are left as sampled. [(frame, blend frames)]"""
        from motiongen.postprocess.transitions import BLEND_SECONDS

        if req.segments is None:
            return []
        blend = max(2, int(round(BLEND_SECONDS * self.fps)))
        plan = segment_plan([n for _, n in req.segments], self.window, self.overlap)
        joins = []
        for (start, length, seg), (_, _, next_seg) in zip(plan, plan[1:], strict=False):
            at = start + length  # the next window's first new frame
            if next_seg != seg and at < req.frames:
                joins.append((at, min(blend, req.frames - at)))
        return joins

    def _windows(self, req: GenerationRequest) -> list[tuple[int, int]]:
        """The (start, length) windows a request is sampled in."""
        if req.segments is not None:
            plan = segment_plan([n for _, n in req.segments], self.window, self.overlap)
            return [(s, n) for s, n, _ in plan]
        return window_plan(req.frames, self.window, self.overlap)

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        """No autograd; bf16 autocast when asked for."""
        bf16 = self.precision == "bf16"
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16),
            warnings.catch_warnings(),
        ):
            # RMSNorm keeps fp32 weights under autocast and says so on every call; harmless.
            warnings.filterwarnings("ignore", message="Mismatch dtype between input and weight")
            yield

    def _normalize(self, x: Tensor) -> Tensor:
        return (x - self._norm_mean) / self._norm_std

    def _denormalize(self, x: Tensor) -> Tensor:
        return x * self._norm_std + self._norm_mean


def _body_of(positions: np.ndarray, constraints: Constraints | None) -> np.ndarray | None:
    """Bone lengths for post-processing a controlled motion: the given frames' own bones
    where they give them or their left/right twin (the generated frames keep that body), the
    clip's medians elsewhere; None without constraints (post-processing's default)."""
    if constraints is None:
        return None
    from motiongen.postprocess import median_bone_lengths, symmetric_bone_lengths
    from motiongen.skeleton import MIRROR_BONES

    given = constraints.given_bone_lengths()
    given = np.where(np.isnan(given), given[list(MIRROR_BONES)], given)  # a free bone: its twin
    own = symmetric_bone_lengths(median_bone_lengths(positions))
    return np.where(np.isnan(given), own, given)
