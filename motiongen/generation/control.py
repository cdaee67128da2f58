"""From what a user asks (a past to continue, keyframes, a part to edit, a timeline) to the
``Constraints`` and segments one generation request carries. Pure functions of positions at
the model's frame rate; every bad input is an ``InputError`` saying what to change."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from motiongen.canonical import forward_direction
from motiongen.errors import InputError
from motiongen.generation.constraints import Constraints
from motiongen.generation.durations import without_said_length
from motiongen.generation.request import is_number
from motiongen.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, PELVIS
from motiongen.tasks import BODY_PARTS

if TYPE_CHECKING:
    from motiongen.motion import Motion

DEFAULT_SEGMENT_SECONDS = 4.0
MIN_SEGMENT_SECONDS = 1.0


def _checked(positions: np.ndarray, what: str) -> np.ndarray:
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3) or len(p) < 1:
        raise InputError(f"{what} must be (frames, {NUM_JOINTS}, 3) joint positions, got {p.shape}")
    if not np.isfinite(p).all():
        raise InputError(f"{what} contains NaN or infinite values; clean it first")
    return p


def predict_constraints(past: np.ndarray, total: int) -> Constraints:
    """The past's frames given at the start of a ``total``-frame motion."""
    p = _checked(past, "the past motion")
    if len(p) >= total:
        raise InputError(
            f"the past motion has {len(p)} frames and the result {total} in all; ask for a "
            "result longer than the past (seconds include it)"
        )
    targets = np.full((total, NUM_JOINTS, 3), np.nan)
    targets[: len(p)] = p
    return Constraints(targets, "predict")


def inbetween_constraints(
    keyframes: Sequence[np.ndarray], starts: Sequence[int], total: int
) -> Constraints:
    """Keyframe poses (each (k, 22, 3): one pose or a few frames) from frame ``starts[i]``."""
    if len(keyframes) != len(starts) or len(keyframes) < 2:
        raise InputError(
            f"give at least two keyframes and one time for each (got {len(keyframes)} keyframes "
            f"and {len(starts)} times)"
        )
    targets = np.full((total, NUM_JOINTS, 3), np.nan)
    previous_end = -1
    for i, (key, start) in enumerate(zip(keyframes, starts, strict=True)):
        k = _checked(key, f"keyframe {i}")
        if start <= previous_end:
            raise InputError(
                f"keyframe {i} starts at frame {start}, before keyframe {i - 1} ends (frame "
                f"{previous_end}); give the keyframes in time order without overlaps"
            )
        if start < 0 or start + len(k) > total:
            raise InputError(
                f"keyframe {i} (frames {start}..{start + len(k) - 1}) lies outside the motion "
                f"(0..{total - 1})"
            )
        targets[start : start + len(k)] = k
        previous_end = start + len(k) - 1
    if starts[0] != 0:
        raise InputError("the first keyframe must be at time 0 (the motion starts there)")
    return Constraints(targets, "inbetween")


# Keyframes whose bodies lie farther apart on the ground than this many m/s of the time
# between them make a body that glides (in-betweening does not invent a run): said in a
# warning. A brisk walk covers 1.5-2 m/s; a text that asks for running allows a sprint (real
# runs of the data cross 2.6-3.2 m/s between poses a second apart).
TRAVEL_WARNING = 2.0
GLIDES = "the body glides"  # in the travel warning: a later warning of sliding feet says no more
TRAVEL_WARNING_RUN = 6.0
_RUNNING = re.compile(r"\b(run|runs|running|ran|dash\w*|sprint\w*|jog\w*|rush\w*)\b", re.I)
# How far (m) a keyframe may start behind the one before, against both facings, unsaid.
BACKWARD_WARNING = 0.5
_BACKWARDS = re.compile(r"\b(backwards?|backs?\s+(up|away|off)|reverse|retreat\w*)\b", re.I)


def check_keyframe_times(times: Sequence[Any], count: int) -> None:
    """An ``InputError`` unless ``times`` are ``count`` >= 2 numbers of seconds, 0 or more,
    increasing: what can be said of keyframe times before a model loads (the command line
    checks them first; a bad --times had waited 2.5 s for the model)."""
    if count < 2:
        raise InputError(f"give at least two keyframes (got {count})")
    if len(times) != count:
        raise InputError(f"give one time per keyframe ({count} keyframes, {len(times)} times)")
    for i, t in enumerate(times):
        if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t):
            raise InputError(f"keyframe {i}'s time must be a number of seconds, got {t!r}")
        if t < 0:
            raise InputError(
                f"keyframe {i}'s time is {t:g} s; times are seconds from the start, 0 or more"
            )
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise InputError(
            f"keyframe times (times=, --times) must increase, one per keyframe in order, got "
            f"{list(times)}"
        )


# Keyframes farther apart on the ground than this pace (m/s of the time between them) need
# steps between them. Asked nothing, the network carried the body there on planted feet
# (keyframes 3.6 and 2.8 m apart 2.5 s apart glided, with the last key's raised arms from
# 0.75 s on; "a person walks" walked and bowed at the bow's keyframe: a new user's trial), so
# an in-between given no text is made as a walk, or as a run past ``TRAVEL_WARNING``. Slower
# than a walk too: keyframes 1.8 m apart 4 s apart (0.45 m/s), given no text, floated 5 cm up
# with an arm above the head in 15-30 % of frames (7 s: 34-53 %, 9.5 s: 18-62 %); walked, they
# stepped with both feet down (a new user's trial).
STEP_PACE = 0.15
STEP_METRES = 0.5  # and at least this far apart: a step


def keyframe_paces(
    keyframes: Sequence[np.ndarray], starts: Sequence[int], fps: float
) -> list[tuple[float, float]]:
    """(ground distance m, seconds) from each keyframe's last frame to the next one's first
    (each (k, 22, 3) from frame ``starts[i]``)."""
    out = []
    for i in range(len(keyframes) - 1):
        end, nxt = keyframes[i][-1, PELVIS], keyframes[i + 1][0, PELVIS]
        gap = float(np.linalg.norm(nxt[[0, 2]] - end[[0, 2]]))
        out.append((gap, (starts[i + 1] - starts[i] - len(keyframes[i]) + 1) / fps))
    return out


def stepping_pace(
    keyframes: Sequence[np.ndarray], starts: Sequence[int], fps: float
) -> float | None:
    """The fastest pace (m/s on the ground) between consecutive keyframes that lie a step
    apart (``STEP_METRES``) at ``STEP_PACE`` or faster, or None where no two do (poses 12 cm
    apart 0.2 s apart are no walk: a review)."""
    paces = [gap / seconds for gap, seconds in keyframe_paces(keyframes, starts, fps)
             if _stepped(gap, seconds)]  # fmt: skip
    return max(paces, default=None)


def _stepped(gap: float, seconds: float) -> bool:
    """Whether keyframes ``gap`` m apart on the ground ``seconds`` apart need steps between
    them (``STEP_METRES``, ``STEP_PACE``)."""
    return gap >= STEP_METRES and gap >= STEP_PACE * seconds


def slower_gaps(keyframes: Sequence[np.ndarray], starts: Sequence[int], fps: float) -> str:
    """Where an in-between assumed a run for its fastest gap: the stepping gaps slow enough
    for a walk (``TRAVEL_WARNING``), said ("keyframes 0-1 (1.0 m/s)"), or "". One text runs
    the whole in-between, and a run asked to cover 1 m/s crouched and shuffled, toes sliding
    1.4 m/s (a game developer's three keyframes, 1.0 then 2.3 m/s apart)."""
    gaps = keyframe_paces(keyframes, starts, fps)
    if not gaps or max(gap / seconds for gap, seconds in gaps) <= TRAVEL_WARNING:
        return ""
    return ", ".join(
        f"keyframes {i}-{i + 1} ({gap / seconds:.1f} m/s)"
        for i, (gap, seconds) in enumerate(gaps)
        if _stepped(gap, seconds) and gap / seconds <= TRAVEL_WARNING
    )


def assumed_text(pace: float | None) -> str | None:
    """The text an in-between given none is made with where its keyframes need steps at
    ``pace`` (``stepping_pace``), else None."""
    if pace is None:
        return None
    return "a person runs forward" if pace > TRAVEL_WARNING else "a person walks forward"


def travel_warning(
    keyframes: Sequence[np.ndarray], starts: Sequence[int], fps: float, text: str | None = None
) -> str:
    """A warning (or "") where consecutive keyframes (each (k, 22, 3) from frame ``starts[i]``)
    are farther apart on the ground than ``TRAVEL_WARNING`` (``TRAVEL_WARNING_RUN`` for a
    ``text`` that asks for running) allows in the time between them, or where one starts more
    than ``BACKWARD_WARNING`` behind the way both face unless the text goes backwards (poses
    cut from two takes keep each take's place in the world)."""
    limit = TRAVEL_WARNING_RUN if text and _RUNNING.search(text) else TRAVEL_WARNING
    for i, (gap, seconds) in enumerate(keyframe_paces(keyframes, starts, fps)):
        end, nxt = keyframes[i][-1, PELVIS], keyframes[i + 1][0, PELVIS]
        if gap > limit * seconds:
            return (
                f"keyframes {i} and {i + 1} lie {gap:.1f} m apart on the ground with "
                f"{seconds:.2f} s between them ({gap / seconds:.1f} m/s): {GLIDES} unless "
                "the text asks for that speed; move a keyframe (poses cut from two takes keep "
                "each take's place; --in-place / in_place=True starts each where the one "
                "before ends) or give more time"
            )
        # behind both facings: clips of a walk and a run, each from its own take's origin,
        # in-betweened walking backwards 1.5 m, unsaid (a new user's trial)
        step = nxt[[0, 2]] - end[[0, 2]]
        behind = -max(  # as far behind as the lesser of the two facings says
            float(step @ forward_direction(k)[0, [0, 2]])
            for k in (keyframes[i][-1:], keyframes[i + 1][:1])
        )
        if behind > BACKWARD_WARNING and not (text and _BACKWARDS.search(text)):
            return (
                f"keyframe {i + 1} starts {behind:.1f} m behind where keyframe {i} ends, against "
                "the way both face: the body walks backwards, or turns round and back, to get "
                "there unless the text asks for that; clips cut from two takes keep each take's "
                "place (--in-place / "
                "in_place=True starts each where the one before ends)"
            )
    return ""


def keyframes_in_place(
    keyframes: Sequence[Motion], times: Sequence[float]
) -> tuple[list[Motion], list[float]]:
    """(``keyframes`` (Motions) each moved on the ground, facing kept, so that it starts where
    the one before ends (pelvis over the same spot), how far each was moved in metres): poses
    cut from takes that stand metres apart (a walk's last frame, a wave at the origin)
    in-between where they stand, instead of gliding across the gap. ``times``: each
    keyframe's start, seconds: a clip keyframe moves on by what easing from the pace the one
    before ends with to its own covers in the time between (a pose has none): a walk's clip
    put on the spot where a run's clip began stood 2 s and then leapt into the run (a new
    user's trial), as a continuation joins into its new action
    (``timeline.continued_keyframes``)."""
    from motiongen.generation.timeline import eased_reach, edge_pace

    def pace(key: Motion, end: bool) -> np.ndarray:
        return edge_pace(np.asarray(key.positions, dtype=np.float64), key.fps, end)

    out, moved = [keyframes[0]], [0.0]
    for i, key in enumerate(keyframes[1:], start=1):
        before = out[-1]
        end = np.asarray(before.positions[-1, PELVIS], dtype=np.float64)
        start = np.asarray(key.positions[0, PELVIS], dtype=np.float64)
        between = float(times[i]) - float(times[i - 1]) - (before.num_frames - 1) / before.fps
        ahead = eased_reach(pace(before, True), pace(key, False), max(0.0, between))
        shift = np.array([end[0] - start[0] + ahead[0], 0.0, end[2] - start[2] + ahead[1]])
        out.append(key.copy(positions=(key.positions + shift).astype(key.positions.dtype)))
        moved.append(round(float(np.linalg.norm(shift)), 3))
    return out, moved


def rest_moved(motion: Motion, start: float, end: float, seam: float) -> tuple[Motion, float]:
    """(``motion`` with its frames from ``end`` seconds on moved on the ground, facing kept, so
    that they go on from where the body is at ``start``, plus what easing to a stop and back to
    the motion's pace covers over a ``seam`` seconds at each end; how far, metres): an edit in
    place. A bow set in 3 s of a walk had to cover the walk's 3 m, so it slid along at 1 m/s
    (a web developer's trial); in place it bows where the span starts and the walk goes on
    from there. Moved back by the span's whole travel, the walk had stopped with both feet
    sliding and set off again from standing to full stride in 0.1 s (an animator's trial)."""
    from motiongen.generation.source_rate import frame_at
    from motiongen.generation.timeline import eased_reach, edge_pace

    p = np.asarray(motion.positions, dtype=np.float64)
    a, b = frame_at(start, motion.fps), frame_at(end, motion.fps)
    if b >= len(p):  # the span runs to the end: nothing after it to move
        return motion, 0.0
    still = np.zeros(2)
    ahead = eased_reach(edge_pace(p[b:], motion.fps, end=False), still, seam)
    if a > 0:  # slowing down into the span, where the motion comes from somewhere
        ahead = ahead + eased_reach(edge_pace(p[: a + 1], motion.fps, end=True), still, seam)
    shift = p[a, PELVIS] - p[b, PELVIS] + np.array([ahead[0], 0.0, ahead[1]])
    shift[1] = 0.0
    moved = p.copy()
    moved[b:] += shift
    # the span's own frames (made anew) moved by the share of the way, so the given motion
    # does not jump where the span ends (said as "a cut, or corrupt frames?")
    moved[a:b] += shift * (np.arange(b - a) / max(b - a, 1))[:, None, None]
    return motion.copy(positions=moved.astype(motion.positions.dtype)), float(np.linalg.norm(shift))


def poses_stand_note(keyframes: Sequence[Motion], travels: bool) -> str | None:
    """The note for ``keyframes_in_place`` keyframes after a single pose, where the text
    ``travels``: a pose has no pace to carry on, so the next keyframe is put on its spot and
    nothing travels there (a new user's walking pose and a bow 3.5 s later stood still, bent
    over for the whole gap, unsaid)."""
    poses = [i for i, k in enumerate(keyframes[:-1]) if k.num_frames == 1]
    if not poses or not travels:
        return None
    return (
        f"keyframe {poses[0]} is a single pose, which has no pace to carry on: in_place put "
        f"keyframe {poses[0] + 1} on its spot, so the body does not travel between them "
        "though the text asks to; give that keyframe as a few frames of its take (their "
        "pace is kept) or leave in_place off to reach the keyframes where they stand"
    )


# Words for a joint the skeleton names otherwise ("right_hand" is its right_wrist)
_JOINT_WORDS = {"hand": "wrist", "toe": "foot", "toes": "foot", "thigh": "hip", "chest": "spine3",
                "shin": "knee", "forearm": "elbow", "upper_arm": "shoulder"}  # fmt: skip


def _joint_hint(key: str) -> str:
    """ " (did you mean right_wrist?)" for a near name, else ""."""
    import difflib

    for word, joint in _JOINT_WORDS.items():
        if key == word or key.endswith("_" + word):
            side = key[: -len(word)]  # "left_" or ""
            named = [f"{side}{joint}"] if side else [f"left_{joint}", f"right_{joint}", joint]
            named = [n for n in named if n in JOINT_INDEX]
            if named:
                return f" (did you mean {' or '.join(named)}?)"
    close = difflib.get_close_matches(
        key, [*BODY_PARTS, *ONE_SIDE_PARTS, *JOINT_NAMES], n=1, cutoff=0.75
    )
    return f" (did you mean {close[0]}?)" if close else ""


# One side's limb, by name: "one arm" is a natural ask, and it took four joint names (a new
# user's trial). Not training's ``BODY_PARTS``, which the edit task draws from.
ONE_SIDE_PARTS: dict[str, tuple[int, ...]] = {
    f"{side}_{limb}": tuple(JOINT_INDEX[f"{side}_{j}"] for j in joints)
    for side in ("left", "right")
    for limb, joints in (
        ("arm", ("collar", "shoulder", "elbow", "wrist")),
        ("leg", ("hip", "knee", "ankle", "foot")),
    )
}


def resolve_joints(names: Sequence[str]) -> list[int]:
    """Joint names (``skeleton.JOINT_NAMES``) or body parts (arms, upper_body, legs,
    left_arm, right_arm, left_leg, right_leg); one name may be given as a plain string."""
    if isinstance(names, str):  # "arms", not the letters a, r, m, s
        names = [names]
    out: list[int] = []
    for name in names:
        key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
        if key in BODY_PARTS:
            out += list(BODY_PARTS[key])
        elif key in ONE_SIDE_PARTS:
            out += list(ONE_SIDE_PARTS[key])
        elif key in JOINT_INDEX:
            out.append(JOINT_INDEX[key])
        else:
            raise InputError(
                f"unknown joint or body part {name!r}{_joint_hint(key)}; use one of "
                f"{', '.join([*sorted(BODY_PARTS), *ONE_SIDE_PARTS])} or a joint: "
                f"{', '.join(JOINT_NAMES)}"
            )
    if not out:
        raise InputError("no joints given to edit")
    return sorted(set(out))


def edit_constraints(
    positions: np.ndarray, *, frames: tuple[int, int] | None, joints: Sequence[int] | None
) -> Constraints:
    """Everything of ``positions`` given except the edited part: frames [a, b) (all joints)
    and/or ``joints`` (all frames, or only frames [a, b) when both are given)."""
    p = _checked(positions, "the motion to edit")
    n = len(p)
    edited = np.zeros((n, NUM_JOINTS), dtype=bool)
    rows = slice(0, n)
    if frames is not None:
        a, b = frames
        if not 0 <= a < b <= n:
            raise InputError(
                f"the edited span {a}..{b} (frames) must lie inside the motion's 0..{n}"
            )
        rows = slice(a, b)
    if joints is None and frames is None:
        raise InputError("say what to edit: a span of time (frames=...), joints, or both")
    cols = list(joints) if joints is not None else list(range(NUM_JOINTS))
    edited[rows, cols] = True
    targets = p.copy()
    targets[edited] = np.nan
    return Constraints(targets, "edit", source=p)


def path_constraints(positions: np.ndarray) -> Constraints:
    """The pelvis path of ``positions`` given, the body free (restyling keeps the path)."""
    p = _checked(positions, "the motion to restyle")
    targets = np.full_like(p, np.nan)
    targets[:, 0] = p[:, 0]
    return Constraints(targets, "style", source=p)


# Words that put one action after another. After a full stop, a semicolon or a comma they
# split; "then" splits anywhere. A comma alone does not ("walks slowly, sadly" is one action),
# and a full stop only before a space or the end ("for 1.5 seconds" stays whole).
_SEQUENCE = r"(?:and\s+)?then|after\s+that|afterwards|finally|next|later"
_THEN = re.compile(
    rf"\s*(?:(?:\.(?=\s|$)|;)\s*(?:(?:{_SEQUENCE})\b,?)?"
    rf"|,?\s*\b(?:and\s+)?then\b,?"
    rf"|,\s*(?:{_SEQUENCE})\b,?)\s*",
    re.IGNORECASE,
)
_THEN_THEN = re.compile(r"\bthen\b[\s,.;:]*\bthen\b", re.IGNORECASE)
_FIRST = re.compile(r"^(?:first(?:ly)?|at\s+first)\b,?\s*", re.IGNORECASE)
_PRONOUN = re.compile(r"^(he|she|they|it)\s+", re.IGNORECASE)
_IRREGULAR = {"are": "is", "were": "was", "have": "has", "do": "does", "go": "goes"}
# "a person", but also "a proud person", "an old man": without the adjectives "a proud person
# walks" was taken for a segment without a subject and became "a person a proud person walks".
_SUBJECT = re.compile(
    r"^(a|an|the|one)\s+(?:[a-z-]+,?\s+){0,3}?"
    r"(person|man|woman|character|figure|dancer|guy|girl|boy|child|kid|lady)\b|^someone\b",
    re.IGNORECASE,
)

# A segment that opens with "the", "his" ... has a subject of its own ("the dancer spins", "the
# weather is nice"): borrowing the first's made "a person the weather is nice". "a"/"an" are
# left out: "then a bow" names an action, and "a person a bow" reads better to the model than
# a bow with no one doing it.
_NOUN_PHRASE = re.compile(r"^(the|this|that|his|her|their|my|your|our)\s", re.IGNORECASE)


# Verbs of motion captions in their bare form: a segment opening with one ("then kick") is
# given the subject and the verb its -s ("a person kicks"). Sent as "a person kick", the
# segment found other phrases than "a person kicks" does (an 8.3 s take with two kicks instead
# of 3.6 s with one). Only these: "left kick" or "quick wave" open with no verb to bend.
_BARE_VERBS = frozenset({
    "walk", "run", "jog", "sprint", "dash", "jump", "hop", "skip", "leap", "kick",
    "punch", "bow", "wave", "raise", "lift", "dance", "spin", "turn", "twirl", "sit",
    "stand", "squat", "crouch", "kneel", "crawl", "climb", "throw", "catch", "stretch",
    "stumble", "fall", "lie", "lean", "bend", "step", "march", "stroll", "shuffle",
    "sway", "clap", "salute", "point", "reach", "push", "pull", "swing", "slash", "stab",
    "block", "dodge", "duck", "roll", "flip", "rotate", "shake", "nod", "look", "greet",
    "celebrate", "cheer", "hug", "carry", "pick", "put", "move", "go", "come", "slide",
    "skate", "swim", "fight", "strike", "hit", "tap", "stomp", "limp", "tiptoe",
    "pace", "wander", "rest", "wait", "pause", "stop", "rise", "get", "retreat", "cross",
    "say",
})  # fmt: skip


# Second words that make a bare verb part of a move's name ("sit ups", "jump jacks"), beside
# the verbs themselves ("spin kick", "jump squats").
_MOVE_NOUNS = frozenset({"ups", "jacks", "lunges"})


# Any "a/an <words>" that a verb of ``_BARE_VERBS`` follows is a segment's own subject, said
# as the model's texts say one, "a person" with the words before its noun ("an old knight
# marches" -> "an old person marches"), and the first segment's is lent to the segments
# without one: "a guard walks forward, then waves" had become "a person a guard walks
# forward" and "a person waves" (a new user's trial; the vocabulary's match 0.76; as written,
# "a guard walks forward", 0.67; "a person walks forward" 1.0).
_ARTICLES = frozenset({"a", "an"})  # "the crowd cheers, then he bows" lent no "the crowd"


# A comma before a verb said of one ("walks in, waves"): in a prompt with "then" a list of
# actions ("a man walks in, waves, then bows" had made "walks in, waves" one segment, a wave
# without the walk: a new user's trial on the web page); "walks slowly, sadly" stays one.
_COMMA = re.compile(r",\s+(?=(?:(?:he|she|they|it)\s+)?([A-Za-z]+))", re.IGNORECASE)


def _is_verb_said_of_one(word: str) -> bool:
    """ "waves", "punches", "carries" (a verb of ``_BARE_VERBS`` with its -s)."""
    word = word.lower()
    return word.endswith("s") and bool({word[:-1], word[:-2], word[:-3] + "y"} & _BARE_VERBS)


def _listed_clauses(text: str) -> list[str]:
    """``text`` split at each comma a verb said of one follows (after a pronoun or not)."""
    clauses, start = [], 0
    for match in _COMMA.finditer(text):
        if _is_verb_said_of_one(match.group(1)):
            clauses.append(text[start : match.start()])
            start = match.end()
    clauses.append(text[start:])
    return [c.strip(" ,.") for c in clauses if c.strip(" ,.")]


def _acting_subject(text: str) -> tuple[str, str] | None:
    """(the subject of ``text`` said as a person, the rest) where ``text`` opens with "a" /
    "an" and up to four words that a verb said of one follows ("walks", "waves", "punches",
    "carries"): "an old knight marches on" -> ("an old person", "marches on"); else None.
    ("the ..." keeps its own subject, ``_NOUN_PHRASE``, and lends none: "the sun rises, then
    walks" had made "the sun walks".)"""
    words = text.split()
    if not words or words[0].lower() not in _ARTICLES:
        return None
    for k in range(2, min(6, len(words))):
        if _is_verb_said_of_one(words[k].rstrip(",.;:!?")):
            said = words[1 : k - 1]  # the words before its noun
            article = "an" if said and said[0][0].lower() in "aeiou" else "a"
            return " ".join([article, *said, "person"]), " ".join(words[k:])
    return None


def _third_person(verb: str) -> str:
    """ "wave" -> "waves", "punch" -> "punches", "carry" -> "carries", "go" -> "goes"
    (punctuation after it kept: "run," -> "runs,")."""
    word = verb.rstrip(",.;:!?")
    if word != verb:
        return _third_person(word) + verb[len(word) :]
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(low) > 1 and low.endswith("y") and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _without_pronoun(text: str) -> str:
    """ "he kicks" -> "kicks", "they wave" -> "waves" (the subject lent to it is singular)."""
    match = _PRONOUN.match(text)
    if not match:
        return text
    rest = text[match.end() :]
    if match.group(1).lower() != "they" or not rest:
        return rest
    verb, _, tail = rest.partition(" ")
    bent = f"{_third_person(verb)} {tail}".strip()
    # "they stop and kick": both verbs; "they perform a spin, kick and bow": nouns after it
    return _joined_verbs_bent(bent) if verb.lower().rstrip(",.;:!?") in _BARE_VERBS else bent


# "... and kick": a second bare verb joined to a first that was bent
_JOINED_VERB = re.compile(r"(\band|\bor|,)\s+([a-z]+)\b", re.IGNORECASE)


def _joined_verbs_bent(tail: str) -> str:
    """The bare verbs of ``_BARE_VERBS`` joined by "and" / "or" / a comma in the rest of a
    clause whose first verb was bent, bent too ("stop and kick" -> "stops and kicks"; only
    the first had been: "a person stops and kick", a new-user trial)."""

    def bend(m: re.Match[str]) -> str:
        word = m.group(2)
        if word.lower() not in _BARE_VERBS:
            return m.group(0)
        return f"{m.group(1)} {_third_person(word)}"

    return _JOINED_VERB.sub(bend, tail)


def _with_subject(subject: str, text: str) -> str:
    """``text`` (a segment without a subject) after ``subject``, a bare verb of
    ``_BARE_VERBS`` bent to agree ("kick" -> "a person kicks")."""
    verb, _, tail = text.partition(" ")
    after = tail.split(" ", 1)[0].lower().rstrip(",.;:!?")
    # "spin kick", "jump squats", "sit ups": a name of a move, not a verb
    named = after.rstrip("s") in _BARE_VERBS or after in _MOVE_NOUNS
    if verb.lower() in _BARE_VERBS and not named:
        text = _joined_verbs_bent(f"{_third_person(verb)} {tail}".strip())
    return f"{subject} {text}"


# A continuation's text opening with a word of sequence ("then he waves at his friend") says
# only that it comes after the past: sent as written it was far from every action the model
# knows (0.50 < 0.6), and waved at half the wrist speed of "he waves at his friend".
_OPENING_SEQUENCE = re.compile(rf"^\s*(?:{_SEQUENCE})\b(?!\s+to\b),?\s*", re.IGNORECASE)


def follow_on_text(text: str) -> str:
    """``text`` without an opening "then", "next", "after that" ..., said as a timeline's
    later segment is ("then he waves" -> "a person waves"); other texts as they are."""
    match = _OPENING_SEQUENCE.match(text)
    rest = text[match.end() :].strip() if match else ""
    if not any(ch.isalpha() for ch in rest):
        return text
    return _subjected(_without_pronoun(rest), "a person")


def _subjected(part: str, subject: str) -> str:
    """A segment (its pronoun taken out) with a subject: its own ("the dancer spins", "an old
    knight marches" said as "an old person marches"), else ``subject`` lent to it."""
    if _SUBJECT.match(part) or _NOUN_PHRASE.match(part):
        return part
    if said := _acting_subject(part):
        return " ".join(said)
    return _with_subject(subject, part)


def parse_timeline(
    spec: str | Sequence[tuple[str, float | None]],
    fps: float,
    *,
    total_seconds: float | None = None,
    typical: Callable[[str], float | None] | None = None,
) -> list[tuple[str, int]]:
    """Segments (text, frames) from a prompt with "then" ("a person walks, then waves") or a
    list of (text, seconds). Split prompts share ``total_seconds``; without it, and for a
    listed segment whose seconds are None, a segment lasts ``typical(text)`` seconds (as
    long as such motions last in the data) or, where that is None, 4 s. A segment without a
    subject borrows the first's ("then waves" -> "a person waves"); one opening with "the",
    "his" ... keeps its own ("then the dancer spins")."""
    if total_seconds is not None and not (
        is_number(total_seconds) and math.isfinite(total_seconds) and total_seconds > 0
    ):
        raise InputError(f"the timeline's seconds must be a positive number, got {total_seconds!r}")
    if isinstance(spec, str):
        if _THEN_THEN.search(spec):  # a segment left out (dropped silently before)
            raise InputError(
                f"the timeline prompt {spec!r} has an empty segment: two 'then' in a row; "
                "remove the extra 'then' or say what the body does between them"
            )
        parts = [p.strip(" ,.") for p in _THEN.split(spec) if p.strip(" ,.")]
        if not parts:
            raise InputError("the timeline prompt is empty; e.g. 'a person walks, then bows'")
        if len(parts) > 1:  # a list: "walks in, waves, then bows" is three
            parts = [c for p in parts for c in _listed_clauses(p)]
        subject_match = _SUBJECT.match(parts[0])
        acting = None if subject_match else _acting_subject(parts[0])
        subject = subject_match.group(0) if subject_match else acting[0] if acting else "a person"
        parts[0] = _FIRST.sub("", parts[0]) or parts[0]
        # "then he kicks" -> "a person kicks": the model is trained on "a person ..."
        parts = [_without_pronoun(p) for p in parts]
        for i, p in enumerate(parts):
            if not any(ch.isalpha() for ch in p):  # the borrowed subject would hide it
                raise InputError(
                    f"timeline segment {i + 1} ({p!r}) has no letters; say what the body does, "
                    "e.g. 'a person walks, then bows'"
                )
        # "stands still for 3 seconds": that segment's own length, its words taken out
        own: list[float | None] = []
        for i, p in enumerate(parts):
            said, parts[i], _ = without_said_length(p)
            own.append(said)
        texts = [_subjected(p, subject) for p in parts]
        each, stated = None, sum(o for o in own if o is not None)
        sharing = own.count(None)  # the segments sharing a total
        if total_seconds is not None:
            if not sharing:
                raise InputError(
                    f"every segment says how long it lasts ({stated:g} s in all); leave out "
                    "the total seconds, or a segment's own length"
                )
            each = (total_seconds - stated) / sharing
        pairs = [(t, o if o is not None else each) for t, o in zip(texts, own, strict=True)]
    else:
        pairs = []
        for i, item in enumerate(spec):
            if not (isinstance(item, Sequence) and len(item) == 2 and isinstance(item[0], str)):
                raise InputError(
                    f"timeline segment {i + 1} must be (text, seconds) (seconds may be None: as "
                    f"long as such motions last), got {item!r}"
                )
            # "a person walks for 3 seconds" listed without seconds lasts 3 s, as in a prompt
            # (it had been refused: "3 s and 5 s were asked", the 5 s nobody's; a trial)
            said, words, phrase = without_said_length(item[0])
            if said is not None and item[1] is not None and said != item[1]:
                raise InputError(
                    f"timeline segment {i + 1} says {said:g} s ({phrase!r}) and is given "
                    f"{item[1]!r} s; leave out one of them"
                )
            pairs.append((item[0], item[1]) if said is None else (words, said))
        if not pairs:
            raise InputError("the timeline has no segments")
        if total_seconds is not None:
            raise InputError(
                "segments carry their own seconds; leave out the total (seconds=) or give a "
                "prompt with 'then'"
            )
    out = []
    for i, (text, seconds) in enumerate(pairs):
        if seconds is None:
            seconds = (typical(text) if typical else None) or DEFAULT_SEGMENT_SECONDS
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise InputError(f"timeline segment {i + 1} needs a number of seconds, got {seconds!r}")
        if not math.isfinite(seconds):
            raise InputError(
                f"timeline segment {i + 1} ({text!r}) lasts {seconds} s; give a number"
            )
        if seconds < MIN_SEGMENT_SECONDS:
            shared = ""
            if isinstance(spec, str) and total_seconds is not None and own[i] is None:
                # the others' own lengths count: "walks, then bows for 4 seconds" in 3 s had
                # been told 2 s would do (a new user's trial)
                besides = f", the others {stated:g} s of their own" if stated else ""
                shared = (
                    f" (seconds={total_seconds:g} shared by {sharing} segment(s){besides}; ask "
                    f"for at least {stated + MIN_SEGMENT_SECONDS * sharing:g})"
                )
            raise InputError(
                f"timeline segment {i + 1} ({text!r}) lasts {seconds:.3g} s; each needs at least "
                f"{MIN_SEGMENT_SECONDS:g} s{shared}"
            )
        out.append((text, max(1, int(round(seconds * fps)))))
    if isinstance(spec, str) and total_seconds is not None:
        # shares rounded at their boundaries, so they add up to the total asked for
        ends = np.round(np.cumsum([float(sec) for _, sec in pairs]) * fps).astype(int).tolist()
        out = [(t, b - a) for (t, _), a, b in zip(out, [0, *ends[:-1]], ends, strict=True)]
    return out
