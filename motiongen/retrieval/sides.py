"""Left and right: the side a prompt asks a limb to move on, and the side a phrase moves.

Most takes are described without a side ("a person kicks") and indexed twice, as recorded and
mirrored, with the same text: their scores tie and one version was kept whichever leg the
prompt named ("kicks with the right leg" kicked with the left). A phrase whose text names no
side is swapped for its mirror when its moving limb is on the other side from the one asked
for. A phrase whose text names a side keeps it: the text already says which.
"""

from __future__ import annotations

import re

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.skeleton import LEFT_ANKLE, LEFT_WRIST, PELVIS, RIGHT_ANKLE, RIGHT_WRIST

_LIMBS = {
    "leg": (LEFT_ANKLE, RIGHT_ANKLE),
    "arm": (LEFT_WRIST, RIGHT_WRIST),
}
# With the blows a limb throws: "a left jab" is the left arm's, "a right kick" the right leg's
# (a new user's "throws a left jab" reached out with the right).
_LIMB_WORDS = {
    "leg": ("leg", "legs", "foot", "feet", "knee", "knees", "heel", "toe", "toes", "kick",
            "kicks"),
    "arm": ("hand", "hands", "arm", "arms", "wrist", "elbow", "fist", "fists", "jab", "jabs",
            "hook", "hooks", "uppercut", "uppercuts", "punch", "punches"),
}  # fmt: skip
_SIDED = re.compile(
    r"\b(left|right)\s+(" + "|".join(w for ws in _LIMB_WORDS.values() for w in ws) + r")\b",
    re.IGNORECASE,
)
_SIDE = re.compile(r"\b(left|right)\b", re.IGNORECASE)
_BOTH = re.compile(r"\b(left|right)\s+(?:and|or|&)\s+(?:the\s+)?(left|right)\b", re.IGNORECASE)
# A limb named after these is not the one that moves: "stands on the right leg" raises the
# left, "without the left hand" does not use it.
_NOT_MOVED = re.compile(
    r"\b(?:on|upon|onto|without|not|no|never)\s+(?:[a-z']+\s+){0,2}$", re.IGNORECASE
)
# A limb on one side must move this much more (m, ``limb_reach``) than its twin for the phrase
# to count as moving on that side: a walk's ankles differ by centimetres.
SIDE_MARGIN = 0.05
# For a text that names no side, the best phrase sets one only when one limb moves this much
# (m) more on one side: a kick's leg (0.88 m in the data), a one-hand raise's or wave's arm
# (0.5-0.7 m, median), not a walk or run, whose sides differ by 1-10 cm (p90 of the indexed
# phrases; a walk's arms 0.2 m in 1 phrase of 16) - matching their pose aligns their steps.
LEADING_MARGIN = 0.2


def asked_side(text: str | None) -> tuple[str, str] | None:
    """(side, limb) the text asks for ("kicks with the right leg" -> ("right", "leg")), or
    None when it names no sided limb, names both sides ("right and left hands"), or names
    the limb only as what the body stands on or goes without."""
    if not text or _BOTH.search(text):
        return None
    found = {
        (m.group(1).lower(), _limb_of(m.group(2).lower()))
        for m in _SIDED.finditer(text)
        if not _NOT_MOVED.search(text[: m.start()])
    }
    if len(found) != 1 or len({side for side, _ in found}) != 1:
        return None
    return next(iter(found))


_LIMB = "|".join(w for ws in _LIMB_WORDS.values() for w in ws)
# Sides said of a limb or a way to go ("the left hand", "to the right", "turns left", "both
# arms"), not "hands right up" or "waves right at the camera".
_SIDE_SAID = re.compile(
    r"\b(left|right)\s+(?:" + _LIMB + r")\b"
    r"|\b(?:to|towards?)\s+(?:the|his|her|their|its)\s+(left|right)\b"
    r"|\b(?:turns?|turning|steps?|moves?|walks?|goes|heads?|sidesteps?|veers?)\s+(left|right)\b"
    r"(?!\s+(?:up|back|away|in|into|out|there|here|now|on|off|over|through|behind|after)\b)"
    r"|\b(?:then|and|or)\s+(?:to\s+the\s+)?(left|right)\b"
    r"|\b(left|right)wards?\b"
    r"|\b(both)\s+(?:of\s+(?:his|her|their|the)\s+)?(?:" + _LIMB + r")\b",
    re.IGNORECASE,
)


# _SIDE_SAID's groups said of a limb ("the left hand", "both arms"); the others of a way to go
_LIMB_GROUPS = (1, 6)
# A pair of limbs said without a side is both of them: "raises the hands", "waves his arms"
# (a new user's "raises the hands" got a one-hand raise), when no side of a limb is said and
# no one limb is ("crosses his arms then raises a hand", "one of her arms"); hands on the hips
# are posed, not moved.
_PAIR = re.compile(
    r"(?<!\bof\s)\b(?:the|his|her|their|its|two)\s+(?:hands|arms|fists|wrists)\b"
    r"(?!\s+on\s+(?:the|his|her|their|its)?\s*hips?\b)",
    re.IGNORECASE,
)
_ONE_LIMB = re.compile(r"\b(?:hand|arm|fist|wrist)\b", re.IGNORECASE)


def sides_said(text: str | None, of: str | None = None) -> set[str]:
    """Which of left, right and both a text says of a limb or a way to go ("the left and
    the right hand": both sides; "raises the hands": both); ``of`` "limb" or "way": only
    those said of that."""
    text = text or ""
    said: dict[str, set[str]] = {}  # side -> what it was said of: "limb", "way"
    for m in _SIDE_SAID.finditer(text):
        if not _NOT_MOVED.search(text[: m.start()]):  # "stands on the left leg"
            side = next(g for g in m.groups() if g).lower()
            said.setdefault(side, set()).add("limb" if m.lastindex in _LIMB_GROUPS else "way")
    both = _BOTH.search(text)  # "left and right": said of whichever is asked about
    limb_said = any("limb" in kinds for kinds in said.values())
    if (
        not both
        and not limb_said
        and not _ONE_LIMB.search(text)
        and any(not _NOT_MOVED.search(text[: m.start()]) for m in _PAIR.finditer(text))
    ):
        said.setdefault("both", set()).add("limb")
    out = {side for side, kinds in said.items() if of is None or of in kinds}
    return out | {both.group(1).lower(), both.group(2).lower()} if both else out


def names_a_side(text: str) -> bool:
    """Whether a phrase's text already says left or right."""
    return bool(_SIDE.search(text))


def moving_side(positions: np.ndarray, limb: str) -> str | None:
    """The side whose ``limb`` moves more in ``positions`` (T, 22, 3) (``limb_reach``), by at
    least ``SIDE_MARGIN``; None for a tie."""
    return _side(limb_reach(positions, limb), SIDE_MARGIN)


def _side(reach: np.ndarray, margin: float) -> str | None:
    """The side of (left, right) ``reach`` that is larger by ``margin`` at least, or None."""
    if abs(reach[0] - reach[1]) < margin:
        return None
    return "left" if reach[0] > reach[1] else "right"


def limb_reach(positions: np.ndarray, limb: str) -> np.ndarray:
    """(left, right) how far each side's ``limb`` moves, m: a leg's ankle, how high it rises
    above its own median height (a kick); an arm's wrist, how far it gets from its median
    place beside the pelvis (a raise, a wave, and a punch, which thrusts the fist level: the
    data's punch raises its wrists 8 and 10 cm but thrusts one 0.46 m, the other 0.28 m)."""
    left, right = _LIMBS[limb]
    pos = np.asarray(positions)
    if limb == "leg":
        heights = pos[:, [left, right], 1]
        return (heights - np.median(heights, axis=0)).max(axis=0)
    # in the body's own frame: a turn moves both wrists through the room, not from the body
    rel = rotate_y(pos[:, [left, right]] - pos[:, [PELVIS]], -heading(pos))
    return np.linalg.norm(rel - np.median(rel, axis=0), axis=-1).max(axis=0)


def leading_side(positions: np.ndarray) -> tuple[str, str] | None:
    """(side, limb) of the limb whose two sides move most differently in ``positions``
    (``limb_reach``: a kick's leg, a one-hand raise's arm), or None when neither differs by
    ``LEADING_MARGIN`` (walks, both-hands waves, and the data's punch: 0.18 m)."""
    reaches = {limb: limb_reach(positions, limb) for limb in _LIMBS}
    limb = max(reaches, key=lambda k: abs(reaches[k][0] - reaches[k][1]))
    side = _side(reaches[limb], LEADING_MARGIN)
    return None if side is None else (side, limb)


def _limb_of(word: str) -> str:
    return next(limb for limb, words in _LIMB_WORDS.items() if word in words)
