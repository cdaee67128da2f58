"""Timelines made of separately generated segments, joined by in-betweening.

A control model continuing its own motion from one text to the next follows each text less
well than the best text-only model does, and where the text changes it breaks off the old
action (docs/control.md). So a timeline can instead take each segment whole from a text
model, set each segment where the one before it ends (turned and shifted on the ground), cut
a short piece from both sides of every join and let the control model in-between across the
cut: the segments stay as the text model made them (cleaned once more with the joins) and the
joins are the control model's in-betweening. Pure functions of positions; ``Pipeline.timeline``
runs the models. A continuation into another action (``Pipeline.predict`` with a text its past
does not do) is joined the same way, its past kept whole (``continued_keyframes``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.skeleton import PELVIS

# Frames cut from each side of a join (0.5 s at 20 fps): a 1 s transition. Chosen on val
# (`benchmarks/tasks.py --split val --tasks timeline`): 6 frames left seams twice as jerky,
# 15 recognised fewer segments.
JOIN_HALF = 10


def placed_in_turn(parts: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each segment (T_k, 22, 3) turned about Y and shifted on the ground so its first frame
    faces where the previous segment's last frame faces, its pelvis above that one's. (Fitting
    the whole pose instead turned a segment by up to 160 degrees where the two poses differ:
    the body spun round inside the join.)"""
    placed: list[np.ndarray] = []
    for part in parts:
        p = np.asarray(part, dtype=np.float64)
        if placed:
            last = placed[-1][-1:]
            p = rotate_y(p, float(heading(last)[0] - heading(p[:1])[0]))
            shift = last[0, PELVIS] - p[0, PELVIS]
            p = p + np.array([shift[0], 0.0, shift[2]])
        placed.append(p)
    return placed


def join_keyframes(
    parts: Sequence[np.ndarray], half: int = JOIN_HALF
) -> tuple[list[np.ndarray], list[int], int]:
    """(keyframes, their start frames, total frames) for in-betweening placed segments: every
    join loses up to ``half`` frames on each side (at most a quarter of a segment, so a short
    one keeps half of itself) and the frames between are left free."""
    keys, starts, start = [], [], 0
    last = len(parts) - 1
    for k, part in enumerate(parts):
        n = len(part)
        cut = min(half, n // 4)
        lo = cut if k > 0 else 0
        hi = n - cut if k < last else n
        keys.append(np.asarray(part[lo:hi], dtype=np.float64))
        starts.append(start + lo)
        start += n
    return keys, starts, start


# Frames over which a pace is measured at the end of the past and where a segment resumes.
PACE_FRAMES = 5


def ground_velocity(p: np.ndarray, fps: float) -> np.ndarray:
    """The pelvis's mean velocity along the floor over ``p`` (T >= 2, 22, 3), (2,) m/s."""
    return (p[-1, PELVIS, [0, 2]] - p[0, PELVIS, [0, 2]]) * fps / (len(p) - 1)


def edge_pace(p: np.ndarray, fps: float, end: bool) -> np.ndarray:
    """The pelvis's velocity along the floor, (2,) m/s, over the last (``end``) or first
    ``PACE_FRAMES`` steps of ``p`` (T, 22, 3); none for a single pose."""
    if len(p) < 2:
        return np.zeros(2)
    return ground_velocity(p[-(PACE_FRAMES + 1) :] if end else p[: PACE_FRAMES + 1], fps)


def eased_reach(pace: np.ndarray, then: np.ndarray, seconds: float) -> np.ndarray:
    """How far along the floor (2,) easing from velocity ``pace`` into ``then`` (each (2,),
    m/s) carries the body over ``seconds``: their mean times the time."""
    return 0.5 * (np.asarray(pace) + np.asarray(then)) * seconds


def continued_keyframes(
    past: np.ndarray, segment: np.ndarray, fps: float, half: int = JOIN_HALF
) -> tuple[list[np.ndarray], list[int], int]:
    """(keyframes, their start frames, total frames) for continuing ``past`` (P, 22, 3) into
    ``segment`` (L, 22, 3), an action made alone: the past kept whole, the segment placed after
    it (``placed_in_turn``) less its first ``2 * half`` frames (at most half of it), left free
    for the join. Where the segment resumes is moved along the floor by what easing from the
    past's last pace into the segment's own covers over the join: a walk continued into a
    wave stops over its next steps, not on the spot (the control model alone stopped a 2 m/s
    walk in 0.1 s, feet sliding; a new user's trial)."""
    past = np.asarray(past, dtype=np.float64)
    placed = placed_in_turn([past, segment])[1]
    cut = min(2 * half, len(placed) // 2)
    gap = (cut + 1) / fps  # from the past's last frame to the first kept one
    pace, then = edge_pace(past, fps, end=True), edge_pace(placed[cut:], fps, end=False)
    want = past[-1, PELVIS, [0, 2]] + eased_reach(pace, then, gap)
    shift = want - placed[cut, PELVIS, [0, 2]]
    placed = placed + np.array([shift[0], 0.0, shift[1]])
    return [past, placed[cut:]], [0, len(past) + cut], len(past) + len(placed)
