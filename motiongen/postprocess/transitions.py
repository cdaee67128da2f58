"""Seamless joins where generated frames meet frames that were already there.

Where a timeline's next segment starts (``Pipeline._joins``), its window continues the frames
before it, but the network's first frames for the new text do not always pick up the old
motion's velocity: a step cut short, a hand that jumps. Inertialization (D. Bollo,
"Inertialization: High-Performance Animation Transitions in Gears of War", GDC 2018) removes
such a pop without touching the old frames: the offset between where the old motion was
heading and where the new one starts (position and velocity) is added to the new frames and
decays to zero along a quintic with zero velocity and acceleration at its end. Where the
two already agree the offset is zero and nothing changes.

The break (a jump in position and velocity) is found by fitting a few frames on both sides at
once: a cubic shared by both sides plus a step and a ramp from the join. Shared curvature
means a fast but smooth motion shows no break, and the least squares keep the per-frame
noise of raw network output from becoming the offset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motiongen.canonical import forward_direction, heading, rotate_y, unit
from motiongen.postprocess.floor import (
    LEGS,
    TOE_CONTACT_HEIGHT,
    TOE_CONTACT_SPEED,
    feet_down,
    true_runs,
    two_bone_ik,
)
from motiongen.skeleton import FOOT_JOINTS, JOINT_INDEX, JOINT_NAMES, PELVIS

BLEND_SECONDS = 0.8  # how long an offset takes to decay
FIT_FRAMES = 5  # frames on each side of a join fitted to find its break
# ``sew``'s: fitted over 5 frames, the shared cubic could not follow a run's or a kick's own
# bend near the edge and left part of it as a break (val timelines, `benchmarks/tasks.py
# --split val --tasks timeline`: join edges' jerk p95 373 at 5 frames, 342 at 4, 469 at 7;
# at 3, six unknowns in six frames, a join's facing swung 23 deg p95 past its ends).
SEW_FIT_FRAMES = 4
# Frames (0.3 s at 20 fps) within which ``sew`` takes back a break in vertical velocity. Taken
# back over a whole 1 s join, a walk continued from mid-stride (pelvis rising at 0.5 m/s)
# kept rising 20 cm and leapt, both feet off the floor; chosen on val (`benchmarks/tasks.py
# --split val --tasks switch timeline`, docs/control.md): 4 and 6 frames halved the hops,
# 10 took off a third; shorter made the joins' edges jerkier.
VERTICAL_SETTLE_FRAMES = 6
# Frames within which ``sew`` takes back a limb's own break in velocity along the floor (the
# body's, the pelvis's, goes on across the join). Carried over a whole 1 s join, a run's swing
# foot split the legs to 1.1 m (real runs 0.93 at most; a new user's trial). On val (40
# timelines; docs/control.md) 6, 10 and 14 frames recognised 113, 112 and 113 of 120 segments
# against 117 (kicks cut by a join, whose leg the old sew had carried on, read as a dance); at
# 6 the joins' middles' jerk p95 266 -> 190 m/s^3 and continuations' feet slide and leave the
# floor less.
LIMB_SETTLE_FRAMES = 6


def join_step(around: np.ndarray, fit: int) -> tuple[np.ndarray, np.ndarray]:
    """The jump in position and in velocity (per frame) at the middle of ``around``
    (2 * fit frames, ...): one cubic through all the frames plus a step and a ramp that
    start at the join, fitted by least squares. A smooth motion, however fast it bends,
    is the cubic alone, so only a real break shows up as a step."""
    t = np.arange(2 * fit, dtype=np.float64) - fit + 0.5  # the join at 0, between frames
    after = (t > 0).astype(np.float64)
    basis = np.stack([np.ones_like(t), t, t**2, t**3, after, after * t], axis=1)
    coef = np.linalg.lstsq(basis, around.reshape(2 * fit, -1), rcond=None)[0]
    shape = around.shape[1:]
    return coef[4].reshape(shape), coef[5].reshape(shape)


def decay_curve(x0: np.ndarray, v0: np.ndarray, length: int) -> np.ndarray:
    """The offset (length, ...) starting at ``x0`` with velocity ``v0`` (per frame) and
    reaching 0 with zero velocity and acceleration after ``length`` frames (Bollo's quintic,
    its initial acceleration chosen so the jerk is smallest)."""
    t1 = float(length)
    a0 = (-8.0 * v0 * t1 - 20.0 * x0) / t1**2
    a = -(a0 * t1**2 + 6.0 * v0 * t1 + 12.0 * x0) / (2.0 * t1**5)
    b = (3.0 * a0 * t1**2 + 16.0 * v0 * t1 + 30.0 * x0) / (2.0 * t1**4)
    c = -(3.0 * a0 * t1**2 + 12.0 * v0 * t1 + 20.0 * x0) / (2.0 * t1**3)
    t = np.arange(length, dtype=np.float64).reshape(-1, *([1] * x0.ndim))
    return a * t**5 + b * t**4 + c * t**3 + 0.5 * a0 * t**2 + v0 * t + x0


def inertialize(
    positions: np.ndarray,
    at: int,
    *,
    frames: int,
    backward: bool = False,
    fit: int = FIT_FRAMES,
) -> np.ndarray:
    """``positions`` (T, ...) with the join at frame ``at`` made seamless.

    Forward: frames before ``at`` are kept and ``frames`` frames from ``at`` on take the
    decaying offset. Backward: frames from ``at`` on are kept (a keyframe, the part after an
    edit) and the ``frames`` frames before ``at`` bend towards them. Joins too close to an
    end for the fits are returned unchanged.
    """
    p = np.asarray(positions, dtype=np.float64)
    if backward:
        return inertialize(p[::-1], len(p) - at, frames=frames, fit=fit)[::-1].copy()
    frames = min(frames, len(p) - at)
    if at < fit or len(p) - at < fit or frames < 2 or fit < 4:  # 2 * fit frames, 6 unknowns
        return p.copy()
    jump, velocity_jump = join_step(p[at - fit : at + fit], fit)
    # the new frames carry jump + velocity_jump * (frames since the join): take it back,
    # decaying, from half a frame after the join on
    out = p.copy()
    out[at : at + frames] -= decay_curve(jump + 0.5 * velocity_jump, velocity_jump, frames)
    return out


def _quintic_step(s: np.ndarray) -> np.ndarray:
    """10 s^3 - 15 s^4 + 6 s^5: 0 at 0, 1 at 1, flat (slope and curvature 0) at both."""
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _smoothstep(w: np.ndarray) -> np.ndarray:
    """3 w^2 - 2 w^3: a weight in [0, 1] eased, no kink where it starts or stops changing."""
    return w * w * (3.0 - 2.0 * w)


def _eased_ramp(s: np.ndarray) -> np.ndarray:
    """s - 6 s^3 + 8 s^4 - 3 s^5 on [0, 1], 0 beyond: slope 1 at 0, and value, slope and
    curvature 0 at 1 (a velocity offset taken back within its span)."""
    s = np.clip(s, 0.0, 1.0)
    return s - 6 * s**3 + 8 * s**4 - 3 * s**5


def sew(
    positions: np.ndarray,
    gaps: Sequence[tuple[int, int]],
    fit: int = SEW_FIT_FRAMES,
    settle: int = VERTICAL_SETTLE_FRAMES,
) -> np.ndarray:
    """``positions`` (T, ..., 3), Y up, whose frames in each gap [a, b) between kept frames
    take up the kept frames' position and velocity at both ends, kept frames as they are: the
    breaks at ``a`` (forward, as ``inertialize``) and before ``b`` (backward) are taken back by
    one offset across the gap, a quintic with those values and slopes at its ends and no
    acceleration there (rather than two decays over half the gap each, which met in its middle
    with a jerk of their own). The in-betweening of a timeline's joins hit the segments' poses
    exactly, not their velocities: a wrist went from 4.4 to 0.9 m/s from one frame to the next
    at a join's edge (a new user's trial). The fits' error moves even a smooth gap a little
    (2-5 cm over 20 frames of a fast sine): for gaps the model made, not for given frames.
    Along the floor only the body's break (the pelvis's, shared by every joint) is taken back
    across the gap; a limb's own break, and any break in vertical velocity, within ``settle``
    / ``LIMB_SETTLE_FRAMES`` frames (at least one): a body carried upwards for half a second
    leaves the floor, a run's swing foot carried on for a second splits the legs. Gaps too
    short or too near an end for the fits are left."""
    out = np.asarray(positions, dtype=np.float64).copy()
    for a, b in gaps:
        n = b - a
        if a < fit or len(out) - b < fit or n < fit:
            continue
        jump, vel = join_step(out[a - fit : a + fit], fit)
        back = out[::-1]
        jump_b, vel_b = join_step(back[len(out) - b - fit : len(out) - b + fit], fit)
        x0, v0 = jump + 0.5 * vel, vel  # at frame a, per frame
        x1, v1 = jump_b + 0.5 * vel_b, -vel_b  # at frame b - 1, per frame forward
        span = float(n - 1)
        t = np.arange(n, dtype=np.float64).reshape(-1, *([1] * x0.ndim))
        s_ = t / span
        h5 = _quintic_step(s_)
        h0 = 1 - h5
        # along the floor the body's velocity break (the pelvis's) is taken back over the
        # whole gap; vertically within ``settle`` frames, a limb's own break along the floor
        # within LIMB_SETTLE_FRAMES
        quick = min(span, float(max(1, settle)))
        slow = np.array([span, quick, span])
        limb = min(span, float(LIMB_SETTLE_FRAMES))
        v0_body, v1_body = _body_part(v0), _body_part(v1)
        out[a:b] -= (
            x0 * h0
            + x1 * h5
            + v0_body * slow * _eased_ramp(t / slow)
            - v1_body * slow * _eased_ramp((span - t) / slow)
            + (v0 - v0_body) * limb * _eased_ramp(t / limb)
            - (v1 - v1_body) * limb * _eased_ramp((span - t) / limb)
        )
    return out


def eased_body_path(positions: np.ndarray, gaps: Sequence[tuple[int, int]]) -> np.ndarray:
    """``positions`` (T, 22, 3), Y up, with the body moved along the floor in each gap [a, b)
    between kept frames so its pelvis follows the smoothest path (a quintic, no acceleration
    at its ends) from the kept frame before the gap to the one after it, at their velocities
    (each frame's step beside the gap: a mean over a walk's stride missed the edge's own pace
    by up to 0.2 m/s); the pose about the pelvis and its height as they are. ``sew`` keeps the
    gap's own course and takes back its ends' breaks: a 0.3 s seam the in-betweening walked
    at full pace and then stopped in two frames stayed so. Gaps with fewer than two kept frames
    on a side are left (no velocity to meet)."""
    out = np.asarray(positions, dtype=np.float64).copy()
    ground = [0, 2]
    for a, b in gaps:
        n = b - a
        if a < 2 or len(out) - b < 2 or n < 1:
            continue
        p0, p1 = out[a - 1, PELVIS, ground], out[b, PELVIS, ground]
        v0 = out[a - 1, PELVIS, ground] - out[a - 2, PELVIS, ground]
        v1 = out[b + 1, PELVIS, ground] - out[b, PELVIS, ground]
        span = float(n + 1)  # frames from a - 1 to b
        s_ = (np.arange(1, n + 1, dtype=np.float64) / span)[:, None]
        # the quintic Hermite basis: value from each end, and each end's slope eased out
        h01 = _quintic_step(s_)
        path = (1 - h01) * p0 + h01 * p1 + span * (_eased_ramp(s_) * v0 - _eased_ramp(1 - s_) * v1)
        shift = path - out[a:b, PELVIS, ground]
        out[a:b, :, 0] += shift[:, None, 0]
        out[a:b, :, 2] += shift[:, None, 1]
    return out


# ``sew`` meets the kept frames' position and velocity, not their acceleration: where a join's
# in-betweened frames meet a segment the body jolted (val timelines' join edges: jerk p95 365
# m/s^3 against 261 in real frames of the same actions; 73 % of the edges at a bow above a real
# bow's p95). A short Gaussian across each edge takes the jolt and the in-betweening's own
# jitter out. Chosen on val (`benchmarks/tasks.py --split val --tasks timeline`, docs/control.md).
EDGE_SIGMA_FRAMES = 1.5
EDGE_REACH_FRAMES = 6  # into the frames on each side of an edge that the low-pass fades over


def soften_edges(
    positions: np.ndarray,
    gaps: Sequence[tuple[int, int]],
    sigma: float = EDGE_SIGMA_FRAMES,
    reach: int = EDGE_REACH_FRAMES,
) -> np.ndarray:
    """``positions`` (T, ...) low-passed over time (a Gaussian of ``sigma`` frames) in each gap
    [a, b) between kept frames, and faded out smoothly over ``reach`` kept frames beyond each
    edge; frames farther away as they are. For made frames only: given ones would move."""
    out = np.asarray(positions, dtype=np.float64)
    if sigma <= 0 or not gaps:
        return out.copy()
    smooth = gaussian_filter1d(out, sigma, axis=0, mode="nearest")
    weight = np.zeros(len(out))
    t = np.arange(len(out), dtype=np.float64)
    for a, b in gaps:
        # 0 at a - reach - 1 and b + reach, 1 across the gap
        w = np.minimum((t - a + reach + 1) / (reach + 1), (b + reach - t) / (reach + 1))
        weight = np.maximum(weight, np.clip(w, 0.0, 1.0))
    weight = _smoothstep(weight)
    return out + weight.reshape(-1, *([1] * (out.ndim - 1))) * (smooth - out)


# A gap made without text may leave the floor this long at its ends (frames; a real run's
# flight lasts 2-3 frames at 20 fps), then stands on it: a run joined to a stop had flown on
# for 0.35-0.5 s, 20-42 cm up (a new user's trial, 3 of 5 seeds; now 16-24 cm for 0.2 s).
# Test timelines (`benchmarks/tasks.py --tasks timeline`): join edges' jerk p95 337 -> 399
# m/s^3 (5 frames: 382, the hops 18-27 cm), segments recognised 92.5 -> 93.3 %.
FLIGHT_FRAMES = 3
# How far above the floor the lowest foot joint may be before a gap's body is set down (m).
FLOOR_TOLERANCE = 0.03
SET_DOWN_SIGMA = 2.0  # frames


def ground_gaps(
    positions: np.ndarray, gaps: Sequence[tuple[int, int]], flight: int = FLIGHT_FRAMES
) -> np.ndarray:
    """``positions`` (T, 22, 3), Y up, with the body in each gap [a, b) between kept frames
    set on the floor (the lowest foot joint of the kept frames around the gap, within
    ``FLOOR_TOLERANCE``) wherever no foot is on it or one is under it, fully from ``flight``
    frames into the gap to as many before its end, eased in and out, so a flight carried into
    the gap lands; kept frames as they are. Joins have no text, and no clip leaps a second.
    The in-betweening of a run joined to a stop raised the pelvis 15 cm, its legs stretched to
    keep the feet down, and given their lengths by the clean-up the body hopped 30-40 cm: so
    after the clean-up."""
    out = np.asarray(positions, dtype=np.float64).copy()
    low = out[:, list(FOOT_JOINTS), 1].min(axis=1)
    for a, b in gaps:
        n = b - a
        if a < 1 or b >= len(out) or n < 2 * flight + 1:
            continue
        floor = float(np.r_[low[max(0, a - 20) : a], low[b : b + 20]].min())
        off = low[a:b] - floor  # above the floor (a flight) or below it (sunk)
        off = np.sign(off) * np.maximum(np.abs(off) - FLOOR_TOLERANCE, 0.0)
        t = np.arange(n, dtype=np.float64)
        w = np.clip(np.minimum(t, n - 1 - t) / flight, 0.0, 1.0)  # 0 at the kept frames
        # smoothed, as a body comes down: set down frame by frame, the joins' edges jerked
        # (p95 337 -> 434 m/s^3 on the timeline benchmark)
        drop = _smoothstep(w) * gaussian_filter1d(off, SET_DOWN_SIGMA, mode="nearest")
        out[a:b, :, 1] -= drop[:, None]
    return out


def _body_part(v: np.ndarray) -> np.ndarray:
    """The share of a per-joint velocity break (22, 3) along the floor that the whole body
    carries (the pelvis's, for every joint), vertical 0; another shape: all of it. A run
    joined to a bow had its swing foot's break carried over the 1 s join, the legs split to
    1.1 m (real runs 0.93 at most; a new user's trial)."""
    if v.shape != (len(JOINT_NAMES), 3):
        return v
    body = np.zeros_like(v)
    body[:, [0, 2]] = v[PELVIS, [0, 2]]
    return body


def smooth_joins(positions: np.ndarray, joins: list[tuple[int, int]]) -> np.ndarray:
    """``positions`` (T, ...) with every join of ``joins`` ([(frame, blend frames)], new
    frames from ``frame`` on) made seamless, in order."""
    out = np.asarray(positions, dtype=np.float64)
    for at, length in joins:
        out = inertialize(out, at, frames=length)
    return out


# How high a swinging foot rises above where it lifts off and lands, by how far it travels
# (m): the median of the training split's walks and runs (4,529 swings of a toe faster than
# 1 m/s at 20 fps): heel, then toe.
SWING_TRAVEL = (0.35, 0.65, 0.95, 1.35)
SWING_ANKLE_RISE = (0.041, 0.102, 0.130, 0.136)
SWING_TOE_RISE = (0.040, 0.060, 0.087, 0.091)


def step_gliding_feet(
    positions: np.ndarray, gaps: Sequence[tuple[int, int]], fps: float
) -> np.ndarray:
    """``positions`` (T, 22, 3), Y up on a floor at y = 0, with each foot that glides along
    the floor inside a gap [a, b) between kept frames (toe low, faster than the foot locks
    hold: ``floor.toe_contacts``' height and speed) lifted into a step over the same path:
    heel and toe rise as far as a real swing of that length does, a sine squared from the
    frame before the glide to the frame after it, the knee bent to reach (two-bone IK);
    kept frames as they are. Only while the other foot stands on the floor (toe or heel down,
    ``floor.feet_down``), and where both glide at once only the faster: the body does not leave
    the floor. A walk joined to a wave slid its trailing foot 0.77 m flat over 0.4 s while the
    other stood planted (a new user's trial); the join has no text to step with, and the
    clean-up locks only slow feet. (The speed is a toe's step from the frame before, not
    ``toe_contacts``' central difference.)"""
    out = np.asarray(positions, dtype=np.float64).copy()
    n = len(out)
    toes = out[:, list(FOOT_JOINTS[1::2])]  # (T, 2, 3), left and right
    speed = np.zeros((n, 2))
    speed[1:] = np.linalg.norm(np.diff(toes[..., [0, 2]], axis=0), axis=-1) * fps
    gliding = (toes[..., 1] < TOE_CONTACT_HEIGHT) & (speed > TOE_CONTACT_SPEED)
    inside = np.zeros(n, dtype=bool)
    for a, b in gaps:
        inside[max(a, 1) : min(b, n - 1)] = True
    gliding &= inside[:, None]
    both = gliding.all(axis=1)
    gliding[both, np.argmin(speed[both], axis=1)] = False
    down = feet_down(out)
    forward = forward_direction(out)
    for leg, (hip, knee, ankle, toe) in enumerate(LEGS):
        rise = np.zeros((n, 2))  # (ankle, toe) rise per frame
        for s, e in true_runs(gliding[:, leg]):
            if e - s < 2:
                continue
            lo, hi = s - 1, e  # lift-off and landing frames stay on the floor (e < n: inside)
            if not down[lo : hi + 1, 1 - leg].all():  # the other foot would not hold the body
                continue
            travel = float(np.linalg.norm(toes[hi, leg, [0, 2]] - toes[lo, leg, [0, 2]]))
            u = (np.arange(lo, hi + 1) - lo) / (hi - lo)
            shape = np.sin(np.pi * u) ** 2
            for k, table in enumerate((SWING_ANKLE_RISE, SWING_TOE_RISE)):
                height = float(np.interp(travel, SWING_TRAVEL, table))
                rise[lo : hi + 1, k] = np.maximum(rise[lo : hi + 1, k], height * shape)
        lifted = rise[:, 0] > 1e-6  # sin(pi)^2 is not quite 0
        if not lifted.any():
            continue
        target = out[:, ankle].copy()
        target[:, 1] += rise[:, 0]
        # keep_reached: a straight standing leg is not bent short of where its ankle already is
        new_knee, new_ankle = two_bone_ik(
            out[:, hip], out[:, knee], out[:, ankle], target, forward, keep_reached=True
        )
        length = np.linalg.norm(out[:, toe] - out[:, ankle], axis=-1, keepdims=True)
        aim = out[:, toe] + np.stack([np.zeros(n), rise[:, 1], np.zeros(n)], axis=1) - new_ankle
        new_toe = new_ankle + length * unit(aim)
        out[lifted, knee] = new_knee[lifted]
        out[lifted, ankle] = new_ankle[lifted]
        out[lifted, toe] = new_toe[lifted]
    return out


# A seam's arm faster than this (m/s, about the shoulder) is a snap, not a gesture: a walk's
# wrists reach 2.6 at p99, a wave's sway ~2. An edited wave's raised arm dropped to the hip in
# 3 frames at the end of its seam (6.7 m/s; a new user's trial).
ARM_SNAP_SPEED = 3.0
# The pace (m/s, about the shoulder, on average) at which a snapping arm is moved instead, the
# transition begun earlier inside the made frames: an arm lowered from overhead in ~0.6 s.
ARM_EASE_SPEED = 1.5
ARM_EASE_MAX_FRAMES = 16  # the longest eased transition (0.8 s at 20 fps)
ARMS = tuple(
    (JOINT_INDEX[f"{side}_shoulder"], JOINT_INDEX[f"{side}_elbow"], JOINT_INDEX[f"{side}_wrist"])
    for side in ("left", "right")
)


def ease_snapping_arms(
    positions: np.ndarray,
    seams: Sequence[tuple[int, int]],
    made: tuple[int, int],
    fps: float,
) -> np.ndarray:
    """``positions`` (T, 22, 3) with an arm that snaps inside a seam [a, b) (its elbow or wrist
    faster than ``ARM_SNAP_SPEED`` about the shoulder) moved at ``ARM_EASE_SPEED`` instead: the
    seam is widened into the frames ``made`` [lo, hi) (the new action, not given frames) as
    far as the wrist's way needs at that pace, and elbow and wrist go the same way as
    before, about the shoulder in the body's facing, retimed to ease in and out over the whole
    of it (a minimum-jerk profile along the wrist's path), their bone lengths kept. A straight
    line from overhead to the hip would pass through the body: the in-betweening's path goes
    round it. The frames around (given ones) stay exactly as they are. The control model's
    in-betweening of an edit's end seam lowered a raised arm in its first 3 frames."""
    out = np.asarray(positions, dtype=np.float64).copy()
    n = len(out)
    face = heading(out)
    lo, hi = made
    for shoulder, elbow, wrist in ARMS:
        local = rotate_y(out[:, [elbow, wrist]] - out[:, shoulder : shoulder + 1], -face)
        speed = np.zeros(n)
        speed[1:] = np.linalg.norm(np.diff(local, axis=0), axis=-1).max(axis=1) * fps
        for a, b in seams:
            if a < 1 or b >= n or speed[a : b + 1].max() <= ARM_SNAP_SPEED:
                continue
            # the wrist's way, round the body, not the straight line between its ends
            travel = float(np.linalg.norm(np.diff(local[a - 1 : b + 1, 1], axis=0), axis=-1).sum())
            want = min(ARM_EASE_MAX_FRAMES, int(np.ceil(travel / ARM_EASE_SPEED * fps)))
            grow = max(0, want - (b - a))
            if a >= hi:  # an end seam widens back into the made frames, a start seam forward
                s, e = a - min(grow, max(0, a - lo)), b
            else:
                s, e = a, b + min(grow, max(0, hi - b))
            if s < 1 or e >= n:
                continue
            # the seam's way, from the last frame kept before to the first after: the made
            # frames it takes over are not gone through (a wave's sway there, hurried, kept
            # the drop as quick)
            path = np.concatenate([local[s - 1 : s], local[a - 1 : b + 1], local[e : e + 1]])
            along = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(path[:, 1], axis=0), axis=-1))]
            if along[-1] <= 1e-9:
                continue
            u = (np.arange(s, e) - (s - 1)) / float(e - (s - 1))
            at = np.interp(
                (10 * u**3 - 15 * u**4 + 6 * u**5) * along[-1], along, np.arange(len(path))
            )
            k = np.minimum(np.floor(at).astype(int), len(path) - 2)
            w = (at - k)[:, None, None]
            moved = path[k] * (1 - w) + path[k + 1] * w
            upper = np.linalg.norm(local[s:e, 0], axis=-1, keepdims=True)
            fore = np.linalg.norm(local[s:e, 1] - local[s:e, 0], axis=-1, keepdims=True)
            el = unit(moved[:, 0]) * upper
            eased = np.stack([el, el + unit(moved[:, 1] - moved[:, 0]) * fore], axis=1)
            world = rotate_y(eased, face[s:e]) + out[s:e, shoulder : shoulder + 1]
            # never quicker than it was, with the body's own motion: a kick's or a punch's
            # arms swing fast in the made frames, and retimed across them the wrist went
            # quicker (val edits: 4.7 -> 5.8 m/s)
            before = out[s - 1 : e + 1, [elbow, wrist]]
            after = np.concatenate([before[:1], world, before[-1:]])
            if _top_step(after) >= _top_step(before):
                continue
            local[s:e] = eased
            out[s:e, elbow], out[s:e, wrist] = world[:, 0], world[:, 1]
    return out


def _top_step(points: np.ndarray) -> float:
    """The largest step (m per frame) of any of ``points`` (T, J, 3) from frame to frame."""
    return float(np.linalg.norm(np.diff(points, axis=0), axis=-1).max())
