"""A motion cut and bent into a seamless loop: played again, its end leads into its start.

Game engines play a walk or an idle as a looping clip; a generated motion's ends differ (a
20 s walk's by 0.23 m and 41 degrees, a new user's trial), so the clip pops at every repeat.
The classic recipe (the loop search of motion graphs, Kovar et al. 2002): describe every frame
by its pose in the body's own frame (pelvis over the origin, facing +Z), its local velocity
and the pelvis's own speed and turn rate; take the pair of frames (i, j), at least
``min_seconds`` apart, that match best; keep frames i .. j. What is left of the mismatch is
spread over the loop as a ramp: the local pose drifts by (pose at i - pose at j) and the
facing by the turn the loop makes, evenly, so frame j is exactly frame i's pose again (a ramp
adds the same small velocity everywhere and no acceleration, so the wrap is as smooth as any
other frame). The path keeps its own speed and is straightened: a loop that turned a few
degrees per repeat would walk in circles in an engine (a turn of more than
``MAX_TURN_TAKEN_OUT_DEG``, whole turns aside, is the motion's own, a dance's, and kept). The
loop starts at the origin facing +Z, as a motion does.

Closed (the default) keeps frame j, the first pose moved on by one repeat's travel: players
that loop over the keys' time span (Unity's Loop Time, Blender's Cycles modifier, three.js
clips) put it at the same instant as the first frame. Open drops it, for players that go
from the last frame straight on to the first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.canonical import body_frame, from_body_frame, rotate_y, turned_path
from motiongen.errors import InputError

# Shortest loop kept, as a share of the motion: the best match anywhere would often be two
# frames of a held pose; a user asking a 6 s walk to loop expects most of its steps. And never
# under a second (a walk cycle, two steps, is about one): a 0.5 s motion made a 0.25 s loop.
MIN_SHARE = 0.5
MIN_LOOP_SECONDS = 1.0
# The largest turn per repeat taken out. A walk that veers a few degrees per repeat would walk
# in circles; a dance whose loop turns 88 degrees means to (taken out, its feet slid: foot
# skating 0.35 -> 0.42 over 4 cha-chas, `benchmarks/loop.py`).
MAX_TURN_TAKEN_OUT_DEG = 30.0
# Weight of velocity differences (m/s) against pose differences (m) in the match: a pose
# passed through in the opposite direction (an arm going up against coming down) is no match.
VELOCITY_WEIGHT = 0.1
# The search compares frames at about this rate (a 60 fps capture every third frame) and
# refines the best pair at the motion's own, in row blocks: the full table of a 2 minute
# 60 fps take took 1 GB.
SEARCH_FPS = 20.0
SEARCH_BLOCK = 512


@dataclass(frozen=True)
class Loop:
    """Where a loop was cut and how far it had to be bent."""

    start: int  # first frame kept
    stop: int  # the frame matched with ``start`` (kept in a closed loop)
    pose_gap_m: float  # mean joint distance between the two matched poses (body frame)
    turn_deg: float  # the facing change over one repeat as cut
    turn_taken_out: bool  # whether it was, whole turns aside (MAX_TURN_TAKEN_OUT_DEG)
    travel_m: float  # the pelvis's distance along the floor over one repeat


def loop_positions(
    positions: np.ndarray, fps: float, min_seconds: float | None = None, closed: bool = True
) -> tuple[np.ndarray, Loop]:
    """``positions`` (T, 22, 3) cut to the best loop of at least ``min_seconds`` (default
    half the motion, and at least ``MIN_LOOP_SECONDS``), bent so its end leads into its start
    and set at the origin facing +Z; with where it was cut (``Loop``). closed: the last frame
    is the first pose again, moved on by one repeat (see the module docstring)."""
    p = np.asarray(positions, dtype=np.float64)
    n = len(p)
    seconds, shortest = _shortest(n, fps, min_seconds)
    if n < shortest + 1:
        raise InputError(
            f"a loop of at least {seconds:g} s needs a longer motion; this one has {n} frames "
            f"({n / fps:.2f} s): make one of a few seconds or more"
        )
    local, facing, root = body_frame(p)
    i, j, gap = _best_pair(local, root, facing, fps, shortest)
    span = j - i
    ramp = np.arange(span + 1, dtype=np.float64) / span  # 0 at i, 1 at j
    bent = local[i : j + 1] + ramp[:, None, None] * (local[i] - local[j])
    turn = facing[j] - facing[i]
    extra = turn - 2 * np.pi * np.round(turn / (2 * np.pi))  # a spin's whole turns kept
    taken_out = abs(np.degrees(extra)) <= MAX_TURN_TAKEN_OUT_DEG
    undo = -ramp * (extra if taken_out else 0.0)
    path = turned_path(root[i : j + 1], undo)  # each step turned as its facing is
    start_facing = facing[i]
    out = from_body_frame(bent, facing[i : j + 1] + undo - start_facing,
                          rotate_y(path - path[0], -start_facing))  # fmt: skip
    loop = Loop(
        start=i,
        stop=j,
        pose_gap_m=round(gap, 4),
        turn_deg=round(float(np.degrees(turn)), 2),
        turn_taken_out=bool(taken_out),
        travel_m=round(float(np.linalg.norm(path[-1] - path[0])), 3),
    )
    return (out if closed else out[:-1]).astype(np.float32), loop


def _shortest(n: int, fps: float, min_seconds: float | None = None) -> tuple[float, int]:
    """(seconds, frames) of the shortest loop kept from ``n`` frames at ``fps``."""
    seconds = max(MIN_SHARE * n / fps if min_seconds is None else min_seconds, MIN_LOOP_SECONDS)
    return seconds, int(round(seconds * fps))


def loop_fits(seconds: float, fps: float) -> bool:
    """Whether a motion of ``seconds`` at ``fps`` is long enough to loop (checked before
    anything is made: a request a frame too short ran the model, then was refused)."""
    n = int(round(seconds * fps))
    return n >= _shortest(n, fps)[1] + 1


def _features(local: np.ndarray, root: np.ndarray, facing: np.ndarray, fps: float) -> np.ndarray:
    """(T, F): each frame's body-frame pose, and weighted, its velocities and the pelvis's own
    speed and turn rate."""
    n = len(local)
    vel = np.gradient(local, axis=0) * fps  # (T, 22, 3) m/s in the body frame
    own = rotate_y(np.gradient(root, axis=0) * fps, -facing)  # the pelvis's own velocity
    turn = np.gradient(facing) * fps  # rad/s
    parts = [local.reshape(n, -1), VELOCITY_WEIGHT * vel.reshape(n, -1),
             VELOCITY_WEIGHT * own[:, [0, 2]], VELOCITY_WEIGHT * turn[:, None]]  # fmt: skip
    return np.concatenate(parts, axis=1)


def _best_pair(
    local: np.ndarray, root: np.ndarray, facing: np.ndarray, fps: float, shortest: int
) -> tuple[int, int, float]:
    """(i, j, mean joint distance of their poses): the frames at least ``shortest`` apart
    that match best (``_features``), searched every ``stride`` frames, then refined."""
    feats = _features(local, root, facing, fps)
    n = len(feats)
    stride = max(1, int(round(fps / SEARCH_FPS)))
    coarse = feats[::stride]
    sq = (coarse**2).sum(axis=1)
    best = (np.inf, 0, 0)
    for r0 in range(0, len(coarse), SEARCH_BLOCK):
        rows = slice(r0, min(len(coarse), r0 + SEARCH_BLOCK))
        d2 = sq[rows, None] + sq[None, :] - 2.0 * coarse[rows] @ coarse.T
        apart = np.arange(len(coarse))[None, :] - np.arange(rows.start, rows.stop)[:, None]
        d2[apart * stride < shortest] = np.inf  # j at least ``shortest`` after i
        k = int(np.argmin(d2))
        if d2.flat[k] < best[0]:
            best = (float(d2.flat[k]), (rows.start + k // len(coarse)) * stride,
                    (k % len(coarse)) * stride)  # fmt: skip
    _, i, j = best
    if stride > 1:  # the best pair near the coarse one, at the motion's own rate
        near_i = np.arange(max(0, i - stride), min(n, i + stride + 1))
        near_j = np.arange(max(0, j - stride), min(n, j + stride + 1))
        d2 = ((feats[near_i, None] - feats[None, near_j]) ** 2).sum(axis=-1)
        d2[near_j[None, :] - near_i[:, None] < shortest] = np.inf
        a, b = np.unravel_index(int(np.argmin(d2)), d2.shape)
        i, j = int(near_i[a]), int(near_j[b])
    gap = float(np.linalg.norm(local[i] - local[j], axis=-1).mean())
    return int(i), int(j), gap


def wrap_jump(positions: np.ndarray, fps: float, closed: bool = False) -> tuple[float, np.ndarray]:
    """How much a motion played as a loop jumps at its wrap, with the same measure at every
    frame inside it: the change of body-frame velocity (mean over joints, m/s) from the step
    into a frame to the step out of it; at the wrap the larger of the last and the first
    frame's, the step last -> first between them (closed: the last frame is the first again,
    so from the one before it). Travel and facing are taken out (an engine moves the loop
    with its own root motion). (wrap value, the values inside)."""
    local = body_frame(positions[:-1] if closed else positions)[0]
    cyc = np.concatenate([local[-2:], local[:2]])  # ..., last-1, last, first, second
    step = np.diff(cyc, axis=0)
    wrap = float(np.linalg.norm(np.diff(step, axis=0), axis=-1).mean(axis=1).max() * fps)
    inner = np.linalg.norm(np.diff(local, n=2, axis=0), axis=-1).mean(axis=1) * fps
    return wrap, inner
