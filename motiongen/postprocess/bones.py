"""Constant bone lengths: walk the kinematic tree from the root, keep each bone's direction
and set its length to one value for the whole clip."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motiongen.canonical import kabsch
from motiongen.errors import InputError
from motiongen.skeleton import BONES, CHILDREN, MIRROR_BONES, NUM_JOINTS, PARENTS, bone_lengths

_UP = np.array([0.0, 1.0, 0.0])
# A bone generated shorter than this share of its length has an unreliable direction: a
# forearm squashed to 3 cm swings through 90 degrees in a frame, and stretched back to 20 cm
# that threw the wrist 40 cm (the sanity checker's "explosion").
SHORT_BONE = 0.5


def median_bone_lengths(positions: np.ndarray) -> np.ndarray:
    """Median length of each bone over the clip: (T, 22, 3) -> (21,) in ``BONES`` order.

    The median ignores the few frames where a generator squashes or stretches a limb.
    """
    return np.median(bone_lengths(np.asarray(positions, dtype=np.float64)), axis=0)


def symmetric_bone_lengths(lengths: np.ndarray) -> np.ndarray:
    """Each left bone and its right twin given their mean length: (21,) -> (21,).

    Generated bodies come out a few centimetres lopsided (forearms of 24 and 18 cm for one
    prompt); captured bodies are symmetric to millimetres, so nothing real is lost.
    """
    lengths = np.asarray(lengths, dtype=np.float64)
    return 0.5 * (lengths + lengths[..., list(MIRROR_BONES)])


def fix_bone_lengths(
    positions: np.ndarray,
    lengths: np.ndarray | None = None,
    *,
    keep_toes: bool = False,
    toe_shift_seconds: float | None = None,
    fps: float = 20.0,
) -> np.ndarray:
    """Re-impose bone lengths exactly, keeping the root and every bone's direction.

    Joints are placed parent before child (``PARENTS`` lists parents first), so a child moves
    with every correction above it. A bone shorter than ``SHORT_BONE`` of its length in some
    frames takes its direction there from the nearest frames where it is not (interpolated
    over time); one of (near) zero length in every such frame takes the bone's mean
    direction over the clip, or +Y.
    keep_toes: toes near the floor stay where they were (``reach_toes``; ``fps`` is the
    positions' frame rate, for its floor estimate) instead of moving with every length
    corrected above them, the shift to them low-passed over time by a Gaussian of sigma
    ``toe_shift_seconds`` (``reach_toes``).
    positions: (T, 22, 3); lengths: (21,) in ``BONES`` order, default the clip's medians.
    Returns (T, 22, 3) float64.
    """
    p = np.asarray(positions, dtype=np.float64)
    if lengths is None:
        lengths = median_bone_lengths(p)
    lengths = np.asarray(lengths, dtype=np.float64)
    if lengths.shape != (len(BONES),) or not np.isfinite(lengths).all() or (lengths < 0).any():
        raise InputError(
            f"bone lengths must be {len(BONES)} finite non-negative numbers in skeleton.BONES "
            f"order, got shape {lengths.shape}"
        )
    rigid = rigid_branch_directions(p)
    out = np.empty_like(p)
    out[:, 0] = p[:, 0]
    for j in range(1, NUM_JOINTS):
        parent = PARENTS[j]
        d = rigid[j] if j in rigid else p[:, j] - p[:, parent]  # (T, 3)
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
        degenerate = norm[:, 0] < 1e-9
        if degenerate.any():
            mean = d[~degenerate].mean(axis=0) if (~degenerate).any() else _UP
            mean = mean / n if (n := np.linalg.norm(mean)) > 1e-9 else _UP
            d[degenerate] = mean
            norm[degenerate] = 1.0
        unit = d / norm
        short = degenerate | (norm[:, 0] < SHORT_BONE * lengths[j - 1])
        if short.any() and (~short).sum() >= 1:
            unit = _directions_across(unit, short)
        out[:, j] = out[:, parent] + unit * lengths[j - 1]  # bone j-1 is (j, PARENTS[j])
    return reach_toes(out, p, lengths, fps, toe_shift_seconds) if keep_toes else out


# A toe this close to the floor is kept where it was by ``reach_toes``; from here to
# twice as high the legs pass over to the direction-kept fix: a swinging foot's exact place
# matters little, while re-solved knees changed the legs' shapes (on val, the geometric
# FID_g rose 10 % when every frame was re-solved).
KEEP_TOE_HEIGHT = 0.08  # m above the floor
# The shift that takes each ankle to where its toe was kept is low-passed over time (a
# Gaussian of this sigma): generated toes and leg lengths waver from frame to frame, and an
# ankle taken exactly there every frame put that wavering into the knee, which the IK swings
# by centimetres per millimetre near a straight leg: runs' knee jerk p95 doubled (641 raw ->
# 1,236 m/s^3; real runs 688), and the held jitter read as skating. Chosen on val
# (`benchmarks/leg_ik.py`, `motiongen eval`): docs/pipeline.md, "Knees that shimmered".
TOE_SHIFT_SIGMA_SECONDS = 0.1


def reach_toes(
    fixed: np.ndarray,
    before: np.ndarray,
    lengths: np.ndarray,
    fps: float,
    shift_seconds: float | None = None,
) -> np.ndarray:
    """Legs of ``fixed`` re-solved by two-bone IK so each toe near the floor lands where
    ``before`` had it.

    Keeping directions moves a toe by every length error above it, and generated legs
    change length from frame to frame (the foot bone by 12 % over a run): a planted toe
    slid with them, and the bone fix alone raised the foot skating of r4's val walks and
    runs from 0.33 / 0.20 to 0.37 / 0.24. The foot keeps its direction; the ankle goes
    where the foot reaches the toe from, as far as the leg allows; toes higher than
    ``KEEP_TOE_HEIGHT`` above the floor (``floor_heights`` of ``before``) pass smoothly over
    to the direction-kept result. The shift taking each ankle there is low-passed over time
    by a Gaussian of sigma ``shift_seconds`` (None:
    ``TOE_SHIFT_SIGMA_SECONDS``; 0: each frame's toe exactly).
    fixed, before: (T, 22, 3) at ``fps``; lengths: (21,) in ``BONES`` order. Returns a new
    array.
    """
    from motiongen.canonical import forward_direction
    from motiongen.canonical import unit as unit_vectors  # ``unit`` is a local name here
    from motiongen.postprocess.floor import LEGS, floor_heights, two_bone_ik

    out = fixed.copy()
    if len(out) < 2:
        return out
    sigma = TOE_SHIFT_SIGMA_SECONDS if shift_seconds is None else shift_seconds
    pole = forward_direction(fixed)
    floor = floor_heights(before, fps)
    for hip, knee, ankle, toe in LEGS:
        foot = out[:, toe] - out[:, ankle]
        foot_len = lengths[toe - 1]  # bone j-1 is (j, PARENTS[j])
        unit = unit_vectors(foot)
        height = before[:, toe, 1] - floor
        w = np.clip(2.0 - height / KEEP_TOE_HEIGHT, 0.0, 1.0)[:, None]
        shift = before[:, toe] - unit * foot_len - out[:, ankle]
        if sigma > 0:
            shift = gaussian_filter1d(shift, sigma * fps, axis=0, mode="nearest")
        target = out[:, ankle] + w * shift
        # softened as far as the toe is kept: a raised straight leg (a kick) stays straight
        out[:, knee], out[:, ankle] = two_bone_ik(
            out[:, hip], out[:, knee], out[:, ankle], target, pole, softness=w[:, 0]
        )
        out[:, toe] = out[:, ankle] + unit * foot_len
    return out


# Joints with several children (pelvis: hips and spine; upper chest: neck and collars) are
# one rigid bone in a rig: a BVH joint turns its children's offsets together.
BRANCHES: dict[int, list[int]] = {j: list(kids) for j, kids in enumerate(CHILDREN) if len(kids) > 1}


def rigid_branch_directions(positions: np.ndarray) -> dict[int, np.ndarray]:
    """Per child of a branching joint, its direction from the parent (T, 3), turned with
    the others as one rigid shape: the shape is the clip's own (directions aligned over
    frames and averaged, generalised Procrustes), each frame's rotation the best fit to that
    frame's directions (Kabsch). A generated hip width wandered 19-25 cm within a dance and
    the collars 11-15 cm; a BVH, whose hips hang off one pelvis rotation, lost up to 4.5 cm.
    Captured clips are rigid there already and keep their directions. {} for a clip of fewer
    than 2 frames."""
    p = np.asarray(positions, dtype=np.float64)
    out: dict[int, np.ndarray] = {}
    if len(p) < 2:
        return out
    groups: dict[int, list[tuple[int, list[int]]]] = {}  # branches of k children fit together
    for parent, kids in BRANCHES.items():
        groups.setdefault(len(kids), []).append((parent, kids))
    for branches in groups.values():
        units, fitted = [], []
        for parent, kids in branches:
            d = p[:, kids] - p[:, parent][:, None]  # (T, k, 3)
            norm = np.linalg.norm(d, axis=-1, keepdims=True)
            if (norm < 1e-9).any():
                continue  # a collapsed branch: the per-bone rules handle it
            units.append(d / norm)
            fitted.append(kids)
        if not units:
            continue
        unit = np.stack(units)  # (B, T, k, 3): one batched fit for every branch and frame
        # One Procrustes round from the middle frame's shape: a second and third moved the
        # result by 12 um at most over 8 generated motions, and each costs a batched SVD.
        shape = unit[:, len(p) // 2]  # (B, k, 3)
        back = best_rotations_batched(shape, unit)
        shape = np.einsum("btji,btkj->btki", back, unit).mean(axis=1)
        shape /= np.linalg.norm(shape, axis=-1, keepdims=True)
        turned = np.einsum("btij,bkj->btki", best_rotations_batched(shape, unit), shape)
        for b, kids in enumerate(fitted):
            for i, kid in enumerate(kids):
                out[kid] = turned[b, :, i]
    return out


def best_rotations_batched(rest: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``best_rotations`` for B shapes at once: rest (B, K, 3), observed (B, T, K, 3) ->
    (B, T, 3, 3), in one solve (``kabsch``)."""
    h = np.einsum("bka,btkc->btac", rest, observed)
    return kabsch(h.reshape(-1, 3, 3)).reshape(*h.shape)


def _directions_across(unit: np.ndarray, short: np.ndarray) -> np.ndarray:
    """Unit directions (T, 3) with each run of ``short`` frames turned at an even rate from
    the direction before it to the one after it (held at the ends). Not a linear blend of
    the two: an in-betweened arm squashed while crossing from the hip to overhead has nearly
    opposite directions around the run, and a normalised blend of those flipped within a
    frame (a wrist at 14 m/s in a sewn edit's seam)."""
    filled = unit.copy()
    bad = np.flatnonzero(short)
    if bad.size == 0:
        return filled
    runs = np.split(bad, np.flatnonzero(np.diff(bad) > 1) + 1)
    n = len(unit)
    for run in runs:
        lo, hi = run[0] - 1, run[-1] + 1
        if lo < 0:
            filled[run] = unit[hi]
            continue
        if hi >= n:
            filled[run] = unit[lo]
            continue
        a, b = unit[lo], unit[hi]
        angle = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
        if angle < 1e-6:
            filled[run] = a
            continue
        # the plane of the turn: a and b, or (nearly opposite) a and the run's own directions
        ortho = b - (a @ b) * a
        if np.linalg.norm(ortho) < 1e-3:
            own = unit[run].mean(axis=0)
            ortho = own - (a @ own) * a
            if np.linalg.norm(ortho) < 1e-3:
                ortho = np.cross(a, _UP if abs(a @ _UP) < 0.9 else np.array([1.0, 0.0, 0.0]))
        ortho = ortho / np.linalg.norm(ortho)
        share = (run - lo) / (hi - lo)
        filled[run] = np.cos(share * angle)[:, None] * a + np.sin(share * angle)[:, None] * ortho
    return filled
