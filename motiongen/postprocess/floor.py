"""Feet and floor: ground snapping, penetration removal, and planted feet that do not slide.

Canonical motions stand on y = 0 (``motiongen.skeleton``). Generators get this wrong in
three ways: the whole body floats or sinks (often slowly drifting), single frames dip a foot
through the floor, and planted feet slide. Fixes, in the order ``postprocess`` runs them:

1. ``snap_to_floor``: per frame, the floor is the lowest foot height among *slow* feet
   (a planted foot) within a neighbourhood of +-0.5 s (any foot when none is slow there),
   smoothed over time; the body is moved down or up by it. Frames in the air (a jump) are not slow, so they keep their height above
   the floor estimated from the landings around them: jumps are not flattened. A motion
   that never leaves the floor (``grounded``: a ballroom dance) instead takes the lowest foot
   over +-0.15 s whatever its speed, so a hover longer than that is set down (generated
   dances hovered between steps for half a second; a quick step may lift both feet).
2. ``fix_foot_sliding``: toe contacts (low and slow) are locked in place: over each contact
   run the toe goes to the run's median ground position (x, z), eased in and out over 0.1 s,
   or longer where that would move the foot more than 1.5 m/s faster (``EASE_SPEED``);
   its height is left to step 1 (``lock_height=True`` also pulls it to y = 0, which on real
   walks lowers the toe in the frames around a landing and makes it skim the floor). The ankle moves with the toe (rigid foot) and the knee is re-solved by two-bone IK
   from the hip, so bone lengths stay exact. Where both feet are planted, the body moves
   along the floor with their locks' slow correction (a figure the model slid as a whole
   keeps its pelvis over its feet); where a locked foot is out of the leg's reach, the whole
   body is shifted towards it (a light root correction) before the IK.
3. ``lift_above_floor``: whatever still pokes through the floor lifts the body, smoothly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, minimum_filter1d

from motiongen.canonical import forward_direction, unit
from motiongen.errors import InputError
from motiongen.skeleton import (
    FOOT_JOINTS,
    JOINT_INDEX,
    LEFT_ANKLE,
    LEFT_FOOT,
    LEFT_HIP,
    RIGHT_ANKLE,
    RIGHT_FOOT,
    RIGHT_HIP,
)

LEFT_KNEE, RIGHT_KNEE = JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"]

# (hip, knee, ankle, toe) per leg, left then right.
LEGS: tuple[tuple[int, int, int, int], ...] = (
    (LEFT_HIP, LEFT_KNEE, LEFT_ANKLE, LEFT_FOOT),
    (RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE, RIGHT_FOOT),
)
# A foot joint is "slow" (a candidate for standing on the floor) under this speed.
FLOOR_SPEED = 0.7  # m/s, as motiongen.features.CONTACT_SPEED
# A toe is planted when under this height (after snapping) and under this horizontal speed.
# The height matches the foot-skating metric (motiongen.artifacts.CONTACT_HEIGHT); the speed is
# above its 0.5 m/s skate threshold so that slides of up to 1 m/s are caught and fixed.
TOE_CONTACT_HEIGHT = 0.05  # m
TOE_CONTACT_SPEED = 1.0  # m/s
# Most speed (m/s) a lock's fade may add to a foot as it lets go: a model's contacts can hold a
# slowly sliding foot, and the half metre left to catch up, faded over the default 0.1 s, made
# the foot jump (the sanity checker's "explosion" in 4 of 263 generated test motions).
EASE_SPEED = 1.5
# Farthest (m) a toe may travel along the floor within one lock. Default contacts are toes
# low and slower than 1 m/s: a shuffle at 0.5-1 m/s stays "planted" for seconds, and one lock
# at the median of a metre's slide left the legs stretched to reach it, the figure 0.2-0.4 m
# in the air (a restyle to "sad"). 48 generated motions of 12 prompts, post-processed: foot
# skating 0.222 with one lock per contact, 0.228 at 0.6 m (0.236 at 0.4, 0.249 at 0.25); the
# restyle's floating 0.20 -> 0.01 m at each of those.
MAX_LOCK_TRAVEL = 0.6
# Sigma (s) of the Gaussian over which a standing body follows its planted feet along the
# floor. A model that slides the whole figure (feet and pelvis alike, 5-10 cm over a bow)
# had its feet pinned and the pelvis left where it slid, legs slanted to reach; following
# both planted feet's slow correction keeps the pelvis where it was relative to them. On a
# standing figure creeping 12 cm in 4 s, the pelvis then drifts 1.2 cm at 0.5 s, 2.4 cm at
# 1 s, 0.6 cm at 0.25 s.
SUPPORT_SECONDS = 0.5
# A grounded motion's floor: the lowest foot over this window (s), Gaussian-smoothed over
# GROUNDED_SMOOTH_SECONDS. Generated dances (3 named dances x 2 songs x 2 seeds, 10 s) had no
# foot within 3 cm of the floor in 22 % of frames with the slow-foot floor above (real dances:
# cha-cha 10 %, rumba 4 %, waltz 15 %; median lowest foot 1.8 cm, real 1.0-1.4); 6.7 % and
# 1.2 cm at these values, the pelvis's vertical acceleration unchanged (2.02 vs 2.00 m/s^2
# rms). A 0.2 s / 0.05 s floor left 3.7 % but made the pelvis bob (2.18); 0.5 s left 15 %.
GROUNDED_WINDOW_SECONDS = 0.3
GROUNDED_SMOOTH_SECONDS = 0.1


def _speed(points: np.ndarray, fps: float, horizontal: bool = False) -> np.ndarray:
    """Central-difference speed of points (T, ..., 3) -> (T, ...) in m/s (0 when T = 1)."""
    if points.shape[0] < 2:
        return np.zeros(points.shape[:-1])
    p = points[..., [0, 2]] if horizontal else points
    v = np.gradient(p, axis=0) * fps
    return np.linalg.norm(v, axis=-1)


def floor_heights(
    positions: np.ndarray,
    fps: float,
    *,
    window_seconds: float | None = None,
    smooth_seconds: float | None = None,
    grounded: bool = False,
) -> np.ndarray:
    """Estimated floor height under the body at each frame: (T, 22, 3) -> (T,).

    The lowest of the four foot joints (ankles, toes) in frames where it moves slower than
    ``FLOOR_SPEED`` stands on the floor; the floor at frame t is the minimum of those heights
    within ``window_seconds`` centred on t. A window without any slow foot (a generated run
    whose feet never stop) takes the minimum of the lowest foot over the window instead: some
    foot touches the floor at least once a second. The result is Gaussian-smoothed
    (``smooth_seconds``) so that the correction never pops. ``grounded``: the motion never
    leaves the floor, so the lowest foot stands on it whatever its speed. The two seconds
    default to 1.0 and 0.25, grounded to the shorter ``GROUNDED_WINDOW_SECONDS`` and
    ``GROUNDED_SMOOTH_SECONDS``.
    """
    p = np.asarray(positions, dtype=np.float64)
    if window_seconds is None:
        window_seconds = GROUNDED_WINDOW_SECONDS if grounded else 1.0
    if smooth_seconds is None:
        smooth_seconds = GROUNDED_SMOOTH_SECONDS if grounded else 0.25
    feet = p[:, list(FOOT_JOINTS)]  # (T, 4, 3)
    lowest = feet[..., 1].argmin(axis=1)  # (T,)
    rows = np.arange(len(p))
    height = feet[rows, lowest, 1]
    speed = _speed(feet, fps)[rows, lowest]
    size = max(1, int(round(window_seconds * fps)) | 1)
    candidate = height if grounded else np.where(speed < FLOOR_SPEED, height, np.inf)
    floor = minimum_filter1d(candidate, size=size, mode="nearest")
    any_foot = minimum_filter1d(height, size=size, mode="nearest")
    floor = np.where(np.isfinite(floor), floor, any_foot)
    sigma = smooth_seconds * fps
    return gaussian_filter1d(floor, sigma, mode="nearest") if sigma > 0 and len(p) > 1 else floor


def snap_to_floor(positions: np.ndarray, fps: float, **options: Any) -> np.ndarray:
    """Move the body vertically so the planted foot of each frame's neighbourhood is at y = 0.

    options go to ``floor_heights``. positions: (T, 22, 3) -> (T, 22, 3) float64.
    """
    p = np.asarray(positions, dtype=np.float64).copy()
    p[..., 1] -= floor_heights(p, fps, **options)[:, None]
    return p


LIFT_SMOOTH_SECONDS = 0.1


def lift_above_floor(
    positions: np.ndarray, fps: float, smooth_seconds: float = LIFT_SMOOTH_SECONDS
) -> np.ndarray:
    """Lift the body in frames where any joint is below y = 0, by a smooth amount at least as
    large as the penetration (so the lift does not jitter from frame to frame).

    positions: (T, 22, 3) -> (T, 22, 3) float64; nothing changes when nothing is below 0.
    """
    p = np.asarray(positions, dtype=np.float64).copy()
    depth = np.maximum(0.0, -p[..., 1].min(axis=1))  # (T,)
    if not depth.any():
        return p
    p[..., 1] += smooth_lift(depth, fps, smooth_seconds)[:, None]
    return p


def smooth_lift(
    depth: np.ndarray, fps: float, smooth_seconds: float = LIFT_SMOOTH_SECONDS
) -> np.ndarray:
    """(T,) how far to lift each frame so it clears ``depth`` (T,) metres of penetration:
    the running maximum over ``smooth_seconds`` on either side, Gaussian-smoothed, never
    below the depth itself."""
    r = max(1, int(round(smooth_seconds * fps)))
    lift = gaussian_filter1d(maximum_filter1d(depth, 2 * r + 1, mode="nearest"), r / 2.0)
    return np.maximum(lift, depth)


def toe_contacts(
    positions: np.ndarray,
    fps: float,
    *,
    height: float = TOE_CONTACT_HEIGHT,
    speed: float = TOE_CONTACT_SPEED,
    fill_gap: int = 2,
) -> np.ndarray:
    """Which toes are planted: low and slow, with gaps of up to ``fill_gap`` frames closed
    (a slide that crosses the speed threshold for a frame is still one contact).

    positions: (T, 22, 3) on a floor at y = 0 -> (T, 2) bool, left then right.
    """
    p = np.asarray(positions, dtype=np.float64)
    toes = p[:, [LEFT_FOOT, RIGHT_FOOT]]  # (T, 2, 3)
    contact = (toes[..., 1] < height) & (_speed(toes, fps, horizontal=True) < speed)
    for leg in range(2):
        runs = true_runs(contact[:, leg])
        for (_, e0), (s1, _) in zip(runs[:-1], runs[1:], strict=True):
            if s1 - e0 <= fill_gap:
                contact[e0:s1, leg] = True
    return contact


# A foot stands on the floor with its toe under ``TOE_CONTACT_HEIGHT`` or its heel (the ankle
# joint, 7-9 cm up standing flat) under this (m).
HEEL_DOWN = 0.11


def feet_down(positions: np.ndarray) -> np.ndarray:
    """(T, 2) bool, left then right: which feet of ``positions`` (T, 22, 3), on a floor at
    y = 0, stand on it, toe or heel (``HEEL_DOWN``)."""
    p = np.asarray(positions, dtype=np.float64)
    toes = p[:, [leg[3] for leg in LEGS], 1]
    return (toes < TOE_CONTACT_HEIGHT) | (p[:, [leg[2] for leg in LEGS], 1] < HEEL_DOWN)


def support_contacts(positions: np.ndarray, gaps: Sequence[tuple[int, int]]) -> np.ndarray:
    """(T, 2) toes (left, right) of ``positions`` (T, 22, 3), on a floor at y = 0, that hold
    the body inside a gap [a, b) between kept frames: on the floor while the other foot is
    off it (toe and heel up, ``feet_down``), whatever their speed (``fix_foot_sliding(held=
    ...)``; the clean-up locks low toes slower than 1 m/s itself, and cuts no held run short).
    A join's stance foot slid at 1-2 m/s beneath a swinging leg. The pipeline reads them
    before the clean-up, from the joined parts' floor."""
    p = np.asarray(positions, dtype=np.float64)
    inside = np.zeros(len(p), dtype=bool)
    for a, b in gaps:
        inside[a:b] = True
    on_floor = p[:, [leg[3] for leg in LEGS], 1] < TOE_CONTACT_HEIGHT
    return on_floor & ~feet_down(p)[:, ::-1] & inside[:, None]


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a 1-D bool array."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _planted(flags: np.ndarray, point: np.ndarray, max_travel: float) -> np.ndarray:
    """``flags`` with each run cut where ``point`` (T, 3) has moved more than ``max_travel``
    along the floor since the piece began (that frame left free between the pieces)."""
    out = flags.copy()
    ground = point[:, [0, 2]]
    for s, e in true_runs(flags):
        start = s
        while start < e:  # one slice per piece, not one distance per frame (a hot path)
            far = np.linalg.norm(ground[start:e] - ground[start], axis=-1) > max_travel
            if not far.any():
                break
            cut = start + int(np.argmax(far))
            out[cut] = False
            start = cut + 1
    return out


def _guessed_plants(
    positions: np.ndarray, fps: float, max_travel: float
) -> tuple[np.ndarray, np.ndarray]:
    """(``toe_contacts``, the same with every run cut at ``max_travel`` by ``_planted``), each
    (T, 2) bool per toe (left, right)."""
    guessed = toe_contacts(positions, fps)
    planted = np.stack(
        [
            _planted(guessed[:, k], positions[:, toe], max_travel)
            for k, toe in enumerate((LEFT_FOOT, RIGHT_FOOT))
        ],
        axis=1,
    )
    return guessed, planted


def _uncut(flags: np.ndarray, planted: np.ndarray) -> np.ndarray:
    """The runs of ``flags`` that ``_planted`` left whole (no frame of them cut)."""
    out = np.zeros_like(flags)
    for s, e in true_runs(flags):
        if planted[s:e].all():
            out[s:e] = True
    return out


def _pace_limited(target: np.ndarray, free: np.ndarray, max_step: float) -> np.ndarray:
    """``target`` (T, 3) with each frame's step at most ``max_step`` longer than the ``free``
    point's step (T, 3): the mean of a forward and a backward clamp, so a jump is shared
    around the frame it happens at (each pass keeps the bound, and so does their mean). A
    target held still is never clamped, however fast the free point moves."""
    x = np.asarray(target, dtype=np.float64)
    allow_steps = max_step + np.linalg.norm(np.diff(free, axis=0), axis=-1)  # i -> i+1
    # A pass changes nothing before the first step over its bound (after the last, going
    # back): most motions have none, and the loops below cost 1 ms a leg. The margin keeps
    # a step the loop's own arithmetic finds over its bound.
    over = np.flatnonzero(np.linalg.norm(np.diff(x, axis=0), axis=-1) > allow_steps * (1 - 1e-9))
    if over.size == 0:
        return x.copy()
    allow = allow_steps.tolist()
    passes = []
    # Plain floats: a clamp depends on the one before, and numpy's per-element calls cost
    # 5 ms a motion here (a quarter of post-processing).
    for forward in (True, False):
        out = x.tolist()
        for i in range(over[0] + 1, len(out)) if forward else range(over[-1], -1, -1):
            prev = out[i - 1] if forward else out[i + 1]
            limit = allow[i - 1] if forward else allow[i]
            cur = out[i]
            dx, dy, dz = cur[0] - prev[0], cur[1] - prev[1], cur[2] - prev[2]
            size = math.sqrt(dx * dx + dy * dy + dz * dz)
            if size > limit:
                k = limit / size
                out[i] = [prev[0] + dx * k, prev[1] + dy * k, prev[2] + dz * k]
        passes.append(np.asarray(out, dtype=np.float64).reshape(x.shape))
    return 0.5 * (passes[0] + passes[1])


def _fade_width(size: float, ramp: int, max_step: float | None) -> int:
    """Frames over which an edge offset of ``size`` metres fades out: ``ramp``, or more where
    fading that far in ``ramp`` frames would move the point faster than ``max_step`` metres
    per frame at the ease's steepest. The faded offset is weighted by the lock weight again in
    ``fix_foot_sliding``, so the ease is a squared cosine: steepest at 3 sqrt(3) pi / 8 times
    its mean pace."""
    if max_step is None:
        return ramp
    need = int(np.ceil(size * 3 * np.sqrt(3) * np.pi / (8 * max_step))) - 1
    return max(ramp, need)


def _median(values: list[float]) -> float:
    """np.median of a short list, the same float (the mean of the middle two for an even
    count), without np.median's ~20 us a call: post-processing took ~1,000 a motion."""
    if any(x != x for x in values):  # NaN: as np.median (sorted would not order it)
        return float("nan")
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _lock_offsets(
    toe: np.ndarray,
    contact: np.ndarray,
    ramp: int,
    lock_height: bool = False,
    max_step: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, how far to move one toe to its lock position, and the lock weight.

    toe: (T, 3); contact: (T,) bool. Inside a run the offset takes the toe to the run's
    median (x, z) at y = 0; outside, the offset of the nearest run edge fades out over
    ``ramp`` frames, or longer when ``max_step`` (metres per frame) says the fade would be too
    fast for its size. Two runs closer than their fades need give up frames at their facing
    ends (the contact starts later or ends sooner) until the fades fit; otherwise a foot
    locked in two places a frame apart would jump between them (a model's contacts can hold a
    slowly sliding foot for a second, leaving half a metre to catch up). ``lock_height``
    also moves the toe to y = 0 in the run. Returns (T, 3), (T,).
    """
    n = len(toe)
    runs = [list(r) for r in true_runs(contact)]
    xs, ys, zs = toe[:, 0].tolist(), toe[:, 1].tolist(), toe[:, 2].tolist()
    targets = []
    for s, e in runs:
        targets.append(np.array([_median(xs[s:e]), 0.0, _median(zs[s:e])]))

    def to_target(i: int, frames: slice) -> np.ndarray:
        """Run i's lock offset for ``frames`` of the toe, (k, 3)."""
        off = targets[i] - toe[frames]
        if not lock_height:
            off[:, 1] = 0.0
        return off

    def edge_width(i: int, last: bool) -> int:
        """The fade width at run i's first (or ``last``) frame (plain floats: ~1,000 calls a
        motion)."""
        frame = runs[i][1] - 1 if last else runs[i][0]
        tx, _, tz = targets[i]
        dx, dz = float(tx) - xs[frame], float(tz) - zs[frame]
        dy = -ys[frame] if lock_height else 0.0
        return _fade_width(math.sqrt(dx * dx + dy * dy + dz * dz), ramp, max_step)

    def widths(i: int) -> tuple[int, int]:
        return edge_width(i, False), edge_width(i, True)

    if max_step is not None:
        for i in range(len(runs) - 1):
            while True:
                after, before = edge_width(i, True), edge_width(i + 1, False)
                gap = runs[i + 1][0] - runs[i][1]
                if gap >= after + before:
                    break
                left_len = runs[i][1] - runs[i][0]
                right_len = runs[i + 1][1] - runs[i + 1][0]
                if left_len <= 1 and right_len <= 1:
                    break
                if (after >= before and left_len > 1) or right_len <= 1:
                    runs[i][1] -= 1
                else:
                    runs[i + 1][0] += 1

    fades = [widths(i) for i in range(len(runs))]  # (before, after) per run, once trimmed
    total = np.zeros((n, 3))
    weight = np.zeros(n)
    for i, (s, e) in enumerate(runs):
        offset = to_target(i, slice(s, e))  # (run, 3)
        total[s:e] += offset
        weight[s:e] += 1.0
        gap_before = s - runs[i - 1][1] if i > 0 else n
        gap_after = runs[i + 1][0] - e if i + 1 < len(runs) else n
        want_before, want_after = fades[i]
        other_before = fades[i - 1][1] if i > 0 else 0
        other_after = fades[i + 1][0] if i + 1 < len(runs) else 0
        for side, gap, want, other in (
            ("before", gap_before, want_before, other_before),
            ("after", gap_after, want_after, other_after),
        ):
            # Too short a gap for both fades: shared in proportion to what each side wants.
            width = want if want + other <= gap else (gap * want) // max(1, want + other)
            if width < 1:
                continue
            # Cosine ease from 1 at the run edge to 0 after ``width`` frames.
            w = 0.5 * (1 + np.cos(np.pi * np.arange(1, width + 1) / (width + 1)))
            if side == "before":
                idx = np.arange(s - 1, s - 1 - width, -1)
                edge_off = offset[0]
            else:
                idx = np.arange(e, e + width)
                edge_off = offset[-1]
            keep = (idx >= 0) & (idx < n)
            total[idx[keep]] += w[keep, None] * edge_off
            weight[idx[keep]] += w[keep]
    inside = weight > 1.0  # only where two fading ramps meet
    total[inside] /= weight[inside, None]
    return total, np.minimum(weight, 1.0)


KNEE_POLE_PULL = 0.1  # x thigh length: the pole's share of the knee's bend direction
# The last share of a leg's reach over which ``two_bone_ik`` lets the ankle fall softly short
# of its target ("soft IK"): the knee's distance from the hip-ankle line grows as the square
# root of the slack, so near full reach every millimetre of a target moved the knee by
# centimetres, and the legs locked straighter than any real frame (knee flexion's 1st
# percentile 0.2 degrees; real clips 3-5, the raw model output 4.9). Chosen on val
# (`benchmarks/leg_ik.py`): at 1 % (9 mm of a leg) knee jerk median / p95 76 / 604 -> 60 / 526
# m/s^3 (real 75 / 516), flexion's 1st / 5th percentile 5.0 / 8.8 degrees (real 5.1 / 11.6);
# 0.5 % kept more jerk and legs straighter than real ones, 1.25 % bent them more.
SOFT_REACH = 0.01


def _support_shift(
    offsets: list[np.ndarray],
    weights: list[np.ndarray],
    sigma: float,
    firm: np.ndarray | None = None,
) -> np.ndarray:
    """(T, 3) horizontal shift that keeps a standing body where the model had it relative to
    its planted feet: where both feet are planted, the mean of their floor offsets, weighted
    by how firmly both are (the product of the lock weights), smoothed with a Gaussian of
    ``sigma`` frames and not renormalised. A figure standing all along follows its feet in
    full; a walk's or a dance's brief double supports move it little (their hand-offs
    average out, and so does the shift). firm: (T, 2) bool, the frames whose locks are
    plants; locks cut from a slide (``_uncut``) are not followed: their offsets are a
    sawtooth that shortened a 2 m shuffle by 0.2 m when followed."""
    both = weights[0] * weights[1]  # (T,)
    if firm is not None:
        both = both * firm.all(axis=1)
    out = np.zeros((len(both), 3))
    if sigma <= 0 or not both.any():
        return out
    mean = 0.5 * (offsets[0] + offsets[1])[:, [0, 2]]
    out[:, [0, 2]] = gaussian_filter1d(both[:, None] * mean, sigma, axis=0, mode="nearest")
    return out


def two_bone_ik(
    hip: np.ndarray,
    knee: np.ndarray,
    ankle: np.ndarray,
    target: np.ndarray,
    pole: np.ndarray,
    softness: np.ndarray | float = 1.0,
    keep_reached: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Analytic two-bone IK: put the ankle on ``target`` keeping |hip-knee| and |knee-ankle|.

    The knee bends the way the current knee does, seen from the hip-target line, but never
    behind that line against ``pole`` (T, 3, the way knees bend: forward), and leans towards
    the pole as the leg straightens. A target within ``SOFT_REACH`` x ``softness`` (per
    frame, or one number) of the leg's reach or beyond it is approached along the hip-target
    line, ever more slowly, never quite straightening the leg; keep_reached: not short of
    what the leg reaches already (a target at the ankle leaves the leg as it is: a second
    pass over softened legs, or a lock beginning, moves no knee). All arrays (T, 3).
    Returns the new (knee, ankle).
    """
    a = np.linalg.norm(knee - hip, axis=-1)
    b = np.linalg.norm(ankle - knee, axis=-1)
    to_target = target - hip
    dist = np.linalg.norm(to_target, axis=-1)
    u = to_target / np.maximum(dist, 1e-9)[:, None]
    soft = (a + b) * (1 - SOFT_REACH * np.asarray(softness, dtype=np.float64))
    if keep_reached:
        soft = np.maximum(soft, np.minimum(np.linalg.norm(ankle - hip, axis=-1), a + b))
    slack = np.maximum(a + b - soft, 1e-9)  # from ``soft`` on the ankle falls short, 1 - exp
    d = np.where(dist > soft, a + b - slack * np.exp(-np.maximum(dist - soft, 0.0) / slack), dist)
    d = np.clip(d, np.abs(a - b) + 1e-6, (a + b) * (1 - 1e-6))

    def across(v: np.ndarray) -> np.ndarray:  # the part of v off the hip-target line
        return v - (v * u).sum(-1, keepdims=True) * u

    front = across(pole)
    front = front / np.maximum(np.linalg.norm(front, axis=-1, keepdims=True), 1e-9)
    bend = across(knee - hip)
    # A locked foot moved ahead of a nearly straight leg puts the old knee just behind the
    # new hip-target line: bent that way the knee popped to the back of the leg in one frame
    # (34 pops in 487 s of dances). Mirrored to the front, and with a pull towards the pole
    # that only matters while the knee sits near the line, the bend turns continuously.
    behind = np.minimum((bend * front).sum(-1, keepdims=True), 0.0)
    # Not for a leg raised towards level and above: a kick's bent knee is "behind" by the
    # facing, and is not wrong (it was flipped straight through, 14-21 cm).
    down = np.clip(-u[:, 1:2] / 0.3, 0.0, 1.0)
    bend = bend + down * (KNEE_POLE_PULL * a[:, None] * front - 2.0 * behind * front)
    # A straight raised leg has no bend of its own and no pull: the pole's, or the knee lands
    # on the line and both bones shrink.
    straight = np.linalg.norm(bend, axis=-1) < 1e-6
    bend[straight] = front[straight]
    bend = bend / np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), 1e-9)
    x = (a**2 - b**2 + d**2) / (2 * d)
    r = np.sqrt(np.maximum(a**2 - x**2, 0.0))
    new_knee = hip + u * x[:, None] + bend * r[:, None]
    new_ankle = hip + u * d[:, None]
    return new_knee, new_ankle


def fix_foot_sliding(
    positions: np.ndarray,
    fps: float,
    *,
    contacts: np.ndarray | None = None,
    ramp_seconds: float = 0.1,
    root_correction: bool = True,
    lock_height: bool = False,
    ease_speed: float | None = EASE_SPEED,
    max_lock_travel: float = MAX_LOCK_TRAVEL,
    follow_support: float | None = SUPPORT_SECONDS,
    add_guessed: bool = True,
    held: np.ndarray | None = None,
) -> np.ndarray:
    """Lock planted feet in place (see the module docstring); bone lengths are kept.

    positions: (T, 22, 3) on a floor at y = 0. contacts: (T, 2) bool per toe (left, right),
    default ``toe_contacts`` (low and slower than 1 m/s); or (T, 4) bool in ``FOOT_JOINTS``
    order (left ankle, left toe, right ankle, right toe), e.g. the contacts a model predicts,
    which lock heel and toe separately at any speed: a planted heel holds the ankle, a planted
    toe holds the toe, and the foot keeps its length. lock_height: also put planted points at
    y = 0 (off by default, see the module docstring). ease_speed: the most speed (m/s) a
    lock's fade may add as the foot lets go; a bigger correction fades longer, and contacts
    too close together for that give up frames (None: always ``ramp_seconds``).
    max_lock_travel: a default contact whose toe travels farther (m, along the floor) is a
    slide, not a plant: it is cut into locks of at most this travel (given contacts are kept).
    follow_support: with root_correction, where both feet are planted the body moves along
    the floor with their corrections, smoothed by a Gaussian of this many seconds (sigma;
    ``_support_shift``); None: not followed (controlled motions, whose pelvis may be given).
    add_guessed: with given (T, 4) contacts, a toe low and slower than 1 m/s that they leave
    out is planted too (``toe_contacts``, slides cut as for default contacts): a model's
    contacts miss some of its own plants, and the toe slid there.
    held: (T, 2) bool, toes planted at any speed besides the default contacts (a join's stance
    foot, ``support_contacts``); only without given contacts.
    Returns (T, 22, 3) float64.
    """
    if ease_speed is not None and not (np.isfinite(ease_speed) and ease_speed > 0):
        raise InputError(f"ease_speed must be a positive number of m/s or None, got {ease_speed!r}")
    p = np.asarray(positions, dtype=np.float64).copy()
    n = len(p)
    if n < 2:
        return p
    if follow_support is not None and not (np.isfinite(follow_support) and follow_support >= 0):
        raise InputError(
            f"follow_support must be a non-negative number of seconds or None, got {follow_support!r}"
        )
    firm = None  # per toe, frames of contacts that are plants, not slides cut into locks
    if contacts is None:  # guessed from speed: a long slow slide is no plant (given ones are)
        guessed, contacts = _guessed_plants(p, fps, max_lock_travel)
        if root_correction and follow_support is not None:
            firm = np.stack([_uncut(guessed[:, k], contacts[:, k]) for k in range(2)], axis=1)
        if held is not None:
            contacts = contacts | np.asarray(held, dtype=bool)
    contacts = np.asarray(contacts, dtype=bool)
    if contacts.shape not in ((n, 2), (n, 4)):
        raise ValueError(f"contacts must have shape ({n}, 2) or ({n}, 4), got {contacts.shape}")
    if add_guessed and contacts.shape == (n, 4):
        contacts = contacts.copy()
        contacts[:, [1, 3]] |= _guessed_plants(p, fps, max_lock_travel)[1]
    if not contacts.any():
        return p
    heels = contacts.shape[1] == 4
    toe_flags = contacts[:, [1, 3]] if heels else contacts
    ramp = max(1, int(round(ramp_seconds * fps)))
    max_step = None if ease_speed is None else ease_speed / fps
    offsets, weights, toe_locks = [], [], []
    for leg, (_, _, ankle, toe) in enumerate(LEGS):
        toe_off, toe_w = _lock_offsets(p[:, toe], toe_flags[:, leg], ramp, lock_height, max_step)
        toe_locks.append((toe_off, toe_w))
        if heels:
            # The ankle follows a planted heel; otherwise it moves with a planted toe.
            heel_off, heel_w = _lock_offsets(
                p[:, ankle], contacts[:, 2 * leg], ramp, lock_height, max_step
            )
            hw = heel_w[:, None]
            offsets.append(hw * heel_off + (1 - hw) * toe_off)
            weights.append(np.maximum(heel_w, toe_w))
        else:
            offsets.append(toe_off)
            weights.append(toe_w)

    shift = np.zeros((n, 3))
    if root_correction:
        if follow_support is not None:
            shift = _support_shift(offsets, weights, follow_support * fps, firm)
        # Move the body towards locked feet the legs cannot reach. Each pass adds the
        # smoothed remaining excess, so the shift stays smooth yet covers most of what is
        # needed; the IK takes the rest. (Measured against full reach: the IK's soft
        # approach, SOFT_REACH, leaves a leg at most millimetres short of a target there.)
        reach = [
            np.linalg.norm(p[:, knee] - p[:, hip], axis=-1)
            + np.linalg.norm(p[:, ankle] - p[:, knee], axis=-1)
            for hip, knee, ankle, _ in LEGS
        ]
        for _ in range(3):
            need = np.zeros((n, 3))
            for leg, (hip, _, ankle, _) in enumerate(LEGS):
                w = weights[leg][:, None]
                to_target = p[:, ankle] + w * (offsets[leg] - shift) - p[:, hip]
                dist = np.linalg.norm(to_target, axis=-1)
                excess = np.maximum(dist - reach[leg], 0.0) * weights[leg]
                need += to_target / np.maximum(dist, 1e-9)[:, None] * excess[:, None]
            if not need.any():
                break
            shift += gaussian_filter1d(need, ramp / 2.0, axis=0, mode="nearest")

    forward = forward_direction(p)  # (T, 3): the knee bends forward when a leg is straight
    out = p + shift[:, None, :]
    for leg, (hip, knee, ankle, toe) in enumerate(LEGS):
        w = weights[leg][:, None]
        # Locked frames go to the world target; free frames move with the shifted body.
        target = p[:, ankle] + w * offsets[leg] + (1 - w) * shift
        if max_step is not None:
            # Heel and toe locks fade at a bounded pace each, but a heel let go beside a toe
            # locked elsewhere handed the ankle from one to the other within a frame or two
            # (20 cm jumps, the knee thrown with it): the ankle moves at most max_step a
            # frame faster than it would unlocked.
            target = _pace_limited(target, p[:, ankle] + shift, max_step)
        new_knee, new_ankle = two_bone_ik(
            out[:, hip], out[:, knee], out[:, ankle], target, forward, keep_reached=True
        )
        moved = (w[:, 0] > 0) | shift.any(axis=1)
        out[moved, knee] = new_knee[moved]
        free_toe = out[:, toe] + (new_ankle - out[:, ankle])  # rigid foot
        if heels:
            # A planted toe stays on its lock; the foot turns about the ankle to reach it.
            toe_off, toe_w = toe_locks[leg]
            length = np.linalg.norm(p[:, toe] - p[:, ankle], axis=-1, keepdims=True)

            # Blend the foot's directions, not its end points, so the foot keeps its length.
            tw = toe_w[:, None]
            aim = tw * unit(p[:, toe] + toe_off - new_ankle) + (1 - tw) * unit(free_toe - new_ankle)
            free_toe = new_ankle + length * unit(aim)
            moved = moved | (toe_w > 0)
        out[moved, toe] = free_toe[moved]
        out[moved, ankle] = new_ankle[moved]
    return out
