"""How much and how fast: words of degree choose among the phrases of the action asked for.

"a person bows deeply", "bows slightly" and "bows" all bowed 44 degrees (4 seeds each), and
"walks quickly" went slower than "walks": the text encoder hardly moves for such words and
every take of a label shares one description, so retrieval found the same phrases. The data
holds the range a user asks for across its takes (bows of 22-64 degrees, walks of 0.3-1.6
m/s, right-hand raises from the shoulder to 0.46 m above it). A prompt with a word of degree
("deeply", "slightly", "high") or of speed ("quickly", "slowly") now starts from the phrases of
its action that go furthest that way among those the search found close enough
(``Retriever.search``): the most or least body excursion, or the fastest or slowest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from motiongen.retrieval.index import span_key

# word -> (measure, direction). "low" is left out: a low bow is a deep one, a low kick a
# small one; so are "far" (walks far away) and "highly" (a highly energetic person).
_WORDS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("deeply", "deep", "deeper", "high", "higher", "wide", "widely", "fully"),
                    ("reach", 1)),
    **dict.fromkeys(("slightly", "slight", "shallow", "shallowly", "barely", "halfway",
                     "subtly"), ("reach", -1)),
    **dict.fromkeys(("quickly", "quick", "fast", "faster", "rapidly", "rapid", "briskly",
                     "brisk", "hurriedly", "swiftly", "speedily", "hastily", "hurry"),
                    ("speed", 1)),
    **dict.fromkeys(("slowly", "slow", "slower", "leisurely", "unhurriedly", "sluggishly"),
                    ("speed", -1)),
}  # fmt: skip
# Said in more than one word. "a little" / "a bit" count only where nothing they could
# describe follows ("raises the hand a little", not "a little girl", "a bit tired" or "waits a
# little while"). Size words that also describe people ("big", "small", "tall") are not read.
_ENDS = r"(?=\s*(?:$|[,.;!]|and\b|up\b|down\b|forward\b|more\b|higher\b|lower\b))"
_PHRASES: dict[str, tuple[str, int]] = {
    r"\ball the way\b": ("reach", 1),
    r"\ba (?:little|bit)\b" + _ENDS: ("reach", -1),
    r"\bas fast as\b": ("speed", 1),
}
# Not a degree of the action: these words inside a set phrase, a change of pace within the
# prompt, or a negation ("bows not too deeply").
_NOT_DEGREE = re.compile(
    r"\b(?:deep\s+breaths?|high[\s-]+fives?|high\s+(?:school|heels?|jump)|fast\s+food|"
    r"speeds?\s+up|slows?\s+down|accelerat\w*|decelerat\w*)\b"
)
_NEGATED = re.compile(r"(?:\b(?:not|never|without)|n't)\s+(?:\w+\s+){0,2}$")
_WORD = re.compile(r"[a-z]+")
# The share of the close phrases of the action the prior is drawn from, at least one and at
# most the retriever's n: a third of the data's 14 bows is its 4-5 deepest or shallowest.
SHARE = 1 / 3
# Fewer close phrases than this leave nothing to choose between: the data's one kick clip
# gives two, and the one that reaches further with the whole body kicked lower (0.75 m
# against 0.87 m for "kicks high").
MIN_CHOICE = 3
# How far below the best score a phrase of the same action still counts as found (score units
# are cosines): "bows deeply" finds the plain bow and the styled ones within this.
SPAN = 0.15


def asked_degree(text: str | None) -> tuple[str, int] | None:
    """("reach" or "speed", +1 more / -1 less) a prompt asks for, or None when it asks for
    neither, for both ways of one ("quickly, then slowly"), for a change of pace ("speeds
    up", "then"), or negates it ("not too deeply"). A reach and a speed both asked for: the
    one said first."""
    if not text:
        return None
    low = text.lower()
    if _NOT_DEGREE.search(low) or re.search(r"\bthen\b", low):
        return None
    found = [(m.start(), v) for pattern, v in _PHRASES.items() for m in re.finditer(pattern, low)]
    found += [(m.start(), _WORDS[m.group(0)]) for m in _WORD.finditer(low) if m.group(0) in _WORDS]
    if not found or any(_NEGATED.search(low[:at]) for at, _ in found):
        return None
    asked = {v for _, v in found}
    if len(asked) != len({m for m, _ in asked}):
        return None  # more and less of one measure
    return min(found)[1]


def reach(positions: np.ndarray) -> float:
    """How far the body reaches from where it started (m): the largest excursion of any joint
    from its place in the first frame, in the body's frame (pelvis-relative, facing removed).
    A deeper bow moves the head further, a higher raise the wrist, a longer stride the ankles.
    (From its median place instead, a bow held low for most of its frames measured small.)"""
    from motiongen.canonical import heading, rotate_y
    from motiongen.skeleton import PELVIS

    pos = np.asarray(positions, dtype=np.float64)
    rel = rotate_y(pos - pos[:, [PELVIS]], -heading(pos))
    return float(np.linalg.norm(rel - rel[:1], axis=-1).max())


def speed(positions: np.ndarray, fps: float, over_ground: bool) -> float:
    """How fast (m/s): over the ground, or the joints' mean speed (for an action done in place:
    a wave or a bow done quickly). One of the two for all the phrases of one action: ranked
    together, the data's three walks in place went first for "walks slowly"."""
    from motiongen.retrieval.phrases import joint_speed
    from motiongen.tasks.pace import ground_speed

    pos = np.asarray(positions, dtype=np.float64)
    return ground_speed(pos, fps) if over_ground else float(joint_speed(pos, fps).mean())


def measured(positions: np.ndarray, fps: float, kind: str, over_ground: bool) -> float:
    """A phrase's ``reach`` or ``speed``, as ``kind`` says."""
    return reach(positions) if kind == "reach" else speed(positions, fps, over_ground)


def travels(positions: Sequence[np.ndarray], fps: Sequence[float]) -> bool:
    """Whether an action's phrases go over the ground (their median pace ``MOVING_SPEED``
    or more)."""
    from motiongen.tasks.pace import MOVING_SPEED, ground_speed

    paces = [
        ground_speed(np.asarray(p, dtype=np.float64), f)
        for p, f in zip(positions, fps, strict=True)
    ]
    return bool(np.median(paces) >= MOVING_SPEED)


def by_degree(
    hits: Sequence[Any],
    asked: tuple[str, int],
    *,
    top: float,
    n: int,
    motion: Callable[[int], np.ndarray],
    content: Callable[[Any], str],
    same_label: bool = False,
    measure: Callable[[Any, str, bool], float] | None = None,
) -> list[Any]:
    """``hits`` (best first, each with ``.id``, ``.score`` and ``.phrase``) with the phrases
    of the best one's action (of its very label with ``same_label``: a prompt that names a
    style keeps it) within ``SPAN`` (times ``top``) of its score, when there are
    ``MIN_CHOICE`` or more, ordered by ``asked``: the ``SHARE`` that go furthest that way
    (1 to ``n``) come first at the best score (an equal part of the prior each), the
    action's others at least ``SPAN`` below it. measure(hit, kind, over_ground): a phrase's
    reach or speed (a memo's), by default computed here."""
    if not hits:
        return list(hits)
    best = hits[0].score
    action = content(hits[0].phrase)
    label = hits[0].phrase.label

    def ours(h: Any) -> bool:
        return h.phrase.label == label if same_label else content(h.phrase) == action

    close, spans = [], set()
    for h in hits:  # a phrase and its mirror count once: the search keeps one of them
        key = span_key(h.phrase)
        if ours(h) and h.score >= best - SPAN * top and key not in spans:
            spans.add(key)
            close.append(h)
    if len(close) < MIN_CHOICE:
        return list(hits)
    kind, way = asked
    over_ground = kind == "speed" and travels(
        [motion(h.id) for h in close], [h.phrase.fps for h in close]
    )
    if measure is None:

        def measure(h: Any, kind: str, over_ground: bool) -> float:
            return measured(motion(h.id), h.phrase.fps, kind, over_ground)

    values = [measure(h, kind, over_ground) for h in close]
    order = np.argsort(-way * np.asarray(values), kind="stable")
    count = int(min(n, max(1, round(SHARE * len(close)))))
    chosen = [close[i] for i in order[:count]]
    first = {id(h) for h in chosen}
    lead = [type(h)(h.id, best, h.phrase) for h in chosen]
    # the action's other phrases fall behind (a small part of the prior each, not an equal one)
    floor = best - SPAN * top
    rest = [type(h)(h.id, min(h.score, floor), h.phrase) if ours(h) else h
            for h in hits if id(h) not in first]  # fmt: skip
    return lead + sorted(rest, key=lambda h: -h.score)
