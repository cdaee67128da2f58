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
    delta = target - h
    if not np.any(np.abs(delta) > 1e-9):
        return p, 0.0
    pelvis = p[:, PELVIS : PELVIS + 1, :]
    pivot = pelvis * np.array([1.0, 0.0, 1.0])  # turn about the pelvis's vertical line
    out = rotate_y(p - pivot, delta) + pivot
    return out, float(np.degrees(np.abs(delta).max()))


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
