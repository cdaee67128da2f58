"""Measures of the control tasks (benchmarks/tasks.py) and the baselines they must beat.

In-betweening follows the LaFAN1 benchmark (Harvey et al. 2020): 10 context frames, a gap
of n frames, one target frame; errors over the gap only. This data has joint positions, not
rotations, so L2Q does not apply, NPSS is taken on positions, and the interpolation baseline
is linear in positions (LaFAN1's lerps the root and slerps rotations). Windows are put in
the frame of their last context frame (pelvis over the origin, facing +Z), as LaFAN1 does,
before the training data's per-coordinate mean and std normalise them.
"""

from __future__ import annotations

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.skeleton import PELVIS


def to_frame_of(windows: np.ndarray, frame: int) -> np.ndarray:
    """Windows (N, T, 22, 3) moved so frame ``frame`` has its pelvis over the origin and
    faces +Z."""
    out = np.empty_like(windows, dtype=np.float64)
    for i, w in enumerate(np.asarray(windows, dtype=np.float64)):
        root = w[frame, PELVIS].copy()
        moved = w - np.array([root[0], 0.0, root[2]])
        out[i] = rotate_y(moved, -heading(w[frame : frame + 1])[0])
    return out


def normalisation(windows: np.ndarray, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-coordinate (22, 3) mean and std of training windows in the frame of ``frame``."""
    x = to_frame_of(windows, frame).reshape(-1, 22, 3)
    return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)


def l2p(pred: np.ndarray, true: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """LaFAN1's L2P: the mean over windows and gap frames of the L2 norm of the normalised
    global-position error (all 66 coordinates). pred, true: (N, n, 22, 3) in the same frame."""
    d = ((pred - mean) / std - (true - mean) / std).reshape(*pred.shape[:2], -1)
    return float(np.linalg.norm(d, axis=-1).mean())


def npss(pred: np.ndarray, true: np.ndarray) -> float:
    """Normalised power spectrum similarity (Gopalakrishnan et al. 2019): per window and
    coordinate, the earth mover's distance between the normalised power spectra over time of
    prediction and truth, averaged with the truth's power as weights. pred, true: (N, n, D...)."""
    p = np.asarray(pred, np.float64).reshape(*pred.shape[:2], -1)
    t = np.asarray(true, np.float64).reshape(*true.shape[:2], -1)
    ps = np.abs(np.fft.fft(p, axis=1)) ** 2
    ts = np.abs(np.fft.fft(t, axis=1)) ** 2
    ps_n = ps / np.maximum(ps.sum(axis=1, keepdims=True), 1e-12)
    ts_n = ts / np.maximum(ts.sum(axis=1, keepdims=True), 1e-12)
    emd = np.abs(np.cumsum(ps_n, axis=1) - np.cumsum(ts_n, axis=1)).sum(axis=1)  # (N, D)
    power = ts.sum(axis=1)  # (N, D)
    weights = power / np.maximum(power.sum(axis=1, keepdims=True), 1e-12)
    return float((emd * weights).sum(axis=1).mean())


def interpolation(last: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """The n gap frames between ``last`` and ``target`` (22, 3), linear in positions."""
    w = (np.arange(1, n + 1) / (n + 1))[:, None, None]
    return (1 - w) * last[None] + w * target[None]


def zero_velocity(last: np.ndarray, n: int) -> np.ndarray:
    """The last given pose held for n frames."""
    return np.repeat(last[None], n, axis=0)


def constant_velocity(past: np.ndarray, n: int) -> np.ndarray:
    """Every joint carried on at its last velocity for n frames. past: (k >= 2, 22, 3)."""
    v = past[-1] - past[-2]
    return past[-1][None] + np.arange(1, n + 1)[:, None, None] * v[None]


def joint_error(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Mean per-joint position error per frame, metres: (..., T, 22, 3) -> (..., T)."""
    return np.linalg.norm(pred - true, axis=-1).mean(axis=-1)


def root_speed(positions: np.ndarray, fps: float) -> np.ndarray:
    """Pelvis speed per frame step, m/s: (T, 22, 3) -> (T - 1,)."""
    return np.linalg.norm(np.diff(positions[:, PELVIS], axis=0), axis=-1) * fps


def speed_jump(positions: np.ndarray, at: int, fps: float) -> float:
    """How much the pelvis speed changes across frame ``at`` (the step into it against the
    step before), m/s: a pop at a seam shows as a jump far outside real motion's."""
    s = root_speed(positions, fps)
    return float(abs(s[at - 1] - s[at - 2]))


def mean_jerk_around(positions: np.ndarray, at: int, fps: float, half: int = 5) -> float:
    """Mean joint jerk (third difference x fps^3, m/s^3) in the frames around ``at``."""
    lo, hi = max(0, at - half), min(len(positions), at + half + 3)
    p = positions[lo:hi]
    if len(p) < 4:
        return 0.0
    return float(np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1).mean() * fps**3)


def monotone_share(curves: np.ndarray) -> float:
    """Share of curves (N, K) that never go down by more than 0.02 from one point to the
    next (small wobbles of a probability are not reversals)."""
    return float(np.mean([(np.diff(c) >= -0.02).all() for c in np.asarray(curves)]))
