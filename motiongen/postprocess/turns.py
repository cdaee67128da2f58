"""Turns no faster than people turn, where a motion's facing is free.

Between keyframes the control model may whip the body round: keyframes 3 m apart sideways
made it turn 110 degrees to face the way it travels within 0.2 s of each keyframe and back
(38 degrees in one frame; a new-user trial). People turn that fast only in a kick or a
spin: over the data's clips other than dances the facing turns at most 106 deg/s in 99 % of
frames and 256 deg/s in 99.9 %; the quickest walking turns reach 300 deg/s.

``limit_turn_rate`` slews the facing of the free frames: from the fixed frame before a run of
free frames forwards, then from the one after it backwards, the facing follows the motion's
own at no more than ``MAX_TURN_RATE`` (240 deg/s), and each free
frame's pose is turned about its pelvis by the difference. Given frames are untouched, so a
turn the motion makes is spread over the frames next to them instead of done in a snap.
"""

from __future__ import annotations

import numpy as np

from motiongen.canonical import body_frame, from_body_frame, heading, rotate_y, turned_path
from motiongen.skeleton import PELVIS

MAX_TURN_RATE = np.radians(240.0)  # rad/s: a brisk walking turn (real 99.9 %: 256 deg/s)
# A run whose facing would have to lag its own by more than this keeps its turns: it spins
# on purpose (a spin asked for), it does not snap round once.
MAX_LAG = np.radians(180.0)


def _slewed(h: np.ndarray, start: float, step: float) -> np.ndarray:
    """``h`` followed from ``start`` at no more than ``step`` per frame."""
    out = np.empty_like(h)
    cur = start
    for t, target in enumerate(h):
        cur += float(np.clip(target - cur, -step, step))
        out[t] = cur
    return out


def limit_turn_rate(
    positions: np.ndarray,
    fps: float,
    fixed: np.ndarray,
    max_rate: float = MAX_TURN_RATE,
) -> tuple[np.ndarray, float]:
    """(positions with no free frame turning faster than ``max_rate`` rad/s where it can be
    helped, the largest turn applied to a frame in degrees). fixed: (T,) bool, frames whose
    facing is given (kept exactly); runs of free frames between them are slewed from the
    fixed frame on each side; a run that spins (it would lag more than ``MAX_LAG``) is kept."""
    p = np.asarray(positions, dtype=np.float64)
    fixed = np.asarray(fixed, dtype=bool)
    if len(p) < 3 or fixed.all():
        return p, 0.0
    h = np.unwrap(heading(p))
    step = max_rate / fps
    if np.abs(np.diff(h)).max() <= step:
        return p, 0.0
    target = h.copy()
    t = 0
    while t < len(p):
        if fixed[t]:
            t += 1
            continue
        end = t
        while end < len(p) and not fixed[end]:
            end += 1
        run = h[t:end]
        slewed = run
        if t > 0:  # from the fixed frame before, forwards
            slewed = _slewed(slewed, h[t - 1], step)
        if end < len(p):  # then from the fixed frame after, backwards
            slewed = _slewed(slewed[::-1], h[end], step)[::-1]
        if np.abs(slewed - run).max() <= MAX_LAG:
            target[t:end] = slewed
        t = end
    return _turned_by(p, target - h)


def _turned_by(p: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, float]:
    """(each pose of ``p`` turned by ``delta`` (T,) radians about its pelvis's vertical line,
    the largest turn in degrees, a whole turn counting as none); ``p`` itself for no turn."""
    if not np.any(np.abs(delta) > 1e-9):
        return p, 0.0
    pivot = p[:, PELVIS : PELVIS + 1, :] * np.array([1.0, 0.0, 1.0])
    turned = np.abs((delta + np.pi) % (2 * np.pi) - np.pi)
    return rotate_y(p - pivot, delta) + pivot, float(np.degrees(turned.max()))


# How far a join's facing may swing beyond the facings of its two ends (degrees). Over 1 s
# windows of real clips (val, every content but dances) the facing leaves the range of the
# window's ends by 1.2 degrees at the median, 6 at p90, 12 at p99; the control model's joins
# twisted the body 26-55 degrees round and back in about a second with the feet planted ("a
# person walks, then stops, then bows", "bows, then kicks"). Chosen on val
# (`benchmarks/tasks.py --split val --tasks timeline`).
MAX_OVERTURN = 10.0
# A join whose facing goes round further than this between its ends has spun where the other
# way round was under a quarter turn: it turns that other way.
SPUN = np.radians(270.0)


def overturn(facing: np.ndarray) -> float:
    """How far (degrees) the unwrapped ``facing`` (T >= 2,) radians goes beyond the range of
    its first and last values: 0 for a body that turns from one end's facing to the other's
    without swinging past either."""
    h = np.degrees(np.asarray(facing, dtype=np.float64))
    lo, hi = min(h[0], h[-1]), max(h[0], h[-1])
    return float(max(0.0, np.max(h - hi), np.max(lo - h)))


def limit_overturn(
    positions: np.ndarray, gaps: tuple[tuple[int, int], ...], limit: float = MAX_OVERTURN
) -> tuple[np.ndarray, float]:
    """(positions whose free ``gaps`` [start, stop) swing at most ``limit`` degrees beyond the
    facings of the given frames on either side, the largest turn applied in degrees).

    A gap's facing is its ends' straight turn plus the motion's own swing about it; the swing
    is scaled down (one factor for the gap, so its shape and smoothness stay) until it passes
    the ends' range by ``limit`` at most, each pose turned about its pelvis by the difference.
    The straight turn is the motion's own unless it turns more than ``SPUN`` where the other
    way round is less than a quarter turn: a gap that spins a whole turn (a wave joined to a
    kick faced backwards for 0.7 s, turned round in two frames at each end, which the
    turn-rate limit made a slow spin) turns the short way instead. (Always the short way
    turned a join out of a kick's spin 168 degrees back against it, legs split 1.04 m.)
    For joins made without text (a timeline's, a continuation's): no swing there is asked for.
    """
    p = np.asarray(positions, dtype=np.float64)
    h = np.unwrap(heading(p))
    delta = np.zeros(len(p))
    for start, stop in gaps:
        if start < 1 or stop >= len(p) or stop <= start:
            continue
        a, b = h[start - 1], h[stop]
        # where the gap turns to: the motion's own end facing, or (a spin, the other way round
        # under a quarter turn) the same facing the short way from a
        end = b if abs(b - a) <= SPUN else a + (b - a + np.pi) % (2 * np.pi) - np.pi
        along = (np.arange(start, stop) - (start - 1)) / (stop - (start - 1))
        swing = h[start:stop] - (a + (b - a) * along)
        base = a + (end - a) * along  # a whole turn's difference ramps out: the same pose
        room = np.where(
            swing > 0,
            max(a, end) + np.radians(limit) - base,
            base - (min(a, end) - np.radians(limit)),
        )
        need = np.abs(swing) > room
        scale = float(np.min(room[need] / np.abs(swing[need]))) if need.any() else 1.0
        delta[start:stop] = base + scale * swing - h[start:stop]
    return _turned_by(p, delta)


# The slowest turning kept by ``straightened``: the facing low-passed with a Gaussian of this
# width is the veer taken out. 40 s walks (3 seeds) ended 49-63 degrees round, their paths up
# to 7.6-8.8 m off the straight line; 2 s: 0.3-6 degrees, 0.25-0.34 m (1 s: 0.15-0.17 m,
# stiffer; 4 s: 0.6-0.8 m; a straight-line fit of the facing left -16 to -31 degrees, the
# veer is not steady).
STRAIGHTEN_SECONDS = 2.0


def straightened(positions: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
    """(``positions`` (T, 22, 3) with their slow turning taken out, the turn taken out in
    degrees): the facing low-passed over ``STRAIGHTEN_SECONDS`` is undone frame by frame
    (each pose turned about its pelvis, each step of the path with it), quicker sway kept.
    A walk of several windows veers the same way in each (40 s walks 1.2-1.6 deg/s; real walks
    0.6 deg/s at the median, either way): for a motion asked to go straight on
    (``Pipeline``'s rule) the veer is the network's, not the prompt's."""
    from scipy.ndimage import gaussian_filter1d

    local, facing, root = body_frame(positions)
    slow = gaussian_filter1d(facing, STRAIGHTEN_SECONDS * fps, mode="nearest")
    undo = -(slow - slow[0])
    out = from_body_frame(local, facing + undo, turned_path(root, undo))
    return out, float(np.degrees(-undo[-1]))
