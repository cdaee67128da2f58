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
# small one.
_WORDS: dict[str, tuple[str, int]] = {
    **dict.fromkeys(("deeply", "deep", "deeper", "high", "higher", "highly", "wide", "widely",
                     "fully", "far"), ("reach", 1)),
    **dict.fromkeys(("slightly", "slight", "shallow", "shallowly", "barely", "halfway",
                     "subtly"), ("reach", -1)),
    **dict.fromkeys(("quickly", "quick", "fast", "faster", "rapidly", "rapid", "briskly",
                     "brisk", "hurriedly", "swiftly", "speedily", "hastily", "hurry"),
                    ("speed", 1)),
    **dict.fromkeys(("slowly", "slow", "slower", "leisurely", "unhurriedly", "sluggishly"),
                    ("speed", -1)),
}  # fmt: skip
# Said in more than one word ("a little", but not "a little girl"). Size words that also
# describe people ("big", "small", "tall") are left out: "a big man bows" asks for no depth.
_PHRASES: dict[str, tuple[str, int]] = {
    r"\ball the way\b": ("reach", 1),
    r"\ba (?:little|bit)\b(?!\s+(?:boy|girl|kid|child|man|woman|person|baby|dog))": ("reach", -1),
    r"\bas fast as\b": ("speed", 1),
}
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
    neither, or for both ways of one ("quickly, then slowly")."""
    if not text:
        return None
    low = text.lower()
    found = {v for pattern, v in _PHRASES.items() if re.search(pattern, low)}
    found |= {_WORDS[w] for w in _WORD.findall(low) if w in _WORDS}
    measures = {m for m, _ in found}
    if not found or len(found) != len(measures):
        return None
    if len(found) > 1:  # "deeply and slowly": the first one said leads
        words = [w for w in _WORD.findall(low) if w in _WORDS]
        return _WORDS[words[0]] if words else next(iter(found))
    return next(iter(found))


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


def speed(positions: np.ndarray, fps: float) -> float:
    """How fast (m/s): over the ground for a phrase that travels, else its joints' mean speed
    (a wave or a bow done quickly)."""
    from motiongen.retrieval.phrases import joint_speed
    from motiongen.tasks.pace import MOVING_SPEED, ground_speed

    pos = np.asarray(positions, dtype=np.float64)
    over_ground = ground_speed(pos, fps)
    return over_ground if over_ground >= MOVING_SPEED else float(joint_speed(pos, fps).mean())


def by_degree(
    hits: Sequence[Any],
    asked: tuple[str, int],
    *,
    top: float,
    n: int,
    motion: Callable[[int], np.ndarray],
    content: Callable[[Any], str],
) -> list[Any]:
    """``hits`` (best first, each with ``.id``, ``.score`` and ``.phrase``) with the phrases
    of the best one's action within ``SPAN`` (times ``top``) of its score, when there are
    ``MIN_CHOICE`` or more, ordered by ``asked``: the ``SHARE`` that go furthest that way
    (1 to ``n``) come first at the best score (an equal part of the prior each), the
    action's others at least ``SPAN`` below it."""
    if not hits:
        return list(hits)
    best = hits[0].score
    action = content(hits[0].phrase)
    close, spans = [], set()
    for h in hits:  # a phrase and its mirror count once: the search keeps one of them
        key = span_key(h.phrase)
        if content(h.phrase) == action and h.score >= best - SPAN * top and key not in spans:
            spans.add(key)
            close.append(h)
    if len(close) < MIN_CHOICE:
        return list(hits)
    kind, way = asked
    values = [
        reach(motion(h.id)) if kind == "reach" else speed(motion(h.id), h.phrase.fps) for h in close
    ]
    order = np.argsort(-way * np.asarray(values), kind="stable")
    count = int(min(n, max(1, round(SHARE * len(close)))))
    chosen = [close[i] for i in order[:count]]
    first = {id(h) for h in chosen}
    lead = [type(h)(h.id, best, h.phrase) for h in chosen]
    # the action's other phrases fall behind (a small part of the prior each, not an equal one)
    floor = best - SPAN * top
    rest = [h if content(h.phrase) != action else type(h)(h.id, min(h.score, floor), h.phrase)
            for h in hits if id(h) not in first]  # fmt: skip
    return lead + sorted(rest, key=lambda h: -h.score)
