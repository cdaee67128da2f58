"""Physical-plausibility metrics on canonical joint positions ``(T, 22, 3)`` (metres, Y up).

Rates: velocity, acceleration, jerk and the bound shares are computed after resampling to
``ANALYSIS_FPS`` = 20 fps (as ``motiongen.artifacts``) and converted to SI units (m/s,
m/s², m/s³), so the numbers do not depend on the input rate. EDGE's PFC is computed at EDGE's
own rate, 30 fps, with EDGE's units (see ``physical_foot_contact``). Foot skating, ground
penetration, floating and bone drift are the functions of ``artifacts`` (one definition in the
code base). Definitions, units and real-data values: ``docs/metrics.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from motiongen.artifacts import (
    ANALYSIS_FPS,
    OVERSPEED,
    bone_length_drift,
    check_positions,
    floating_height,
    foot_skating_ratio,
    ground_penetration,
    resample_positions,
)
from motiongen.skeleton import LEFT_ANKLE, LEFT_FOOT, PELVIS, RIGHT_ANKLE, RIGHT_FOOT

__all__ = [
    "ACCEL_LIMIT",
    "PFC_FPS",
    "SPEED_LIMIT",
    "acceleration_stats",
    "bone_length_drift",
    "floating_height",
    "foot_skating_ratio",
    "ground_penetration",
    "jerk",
    "physical_foot_contact",
    "physics_report",
    "velocity_stats",
]

SPEED_LIMIT = OVERSPEED  # 15 m/s: SPEC §9 safety critic
# m/s² at 20 fps. The largest value on clean real clips is 164 (a Bandai kick; dashes 110,
# dance 135), the dance tracking glitch DANCE_T_5 reaches 302: 200 separates the two.
ACCEL_LIMIT = 200.0
PFC_FPS = 30.0  # EDGE evaluates PFC on 30-fps joints (eval/eval_pfc.py, DT = 1/30)


def _at(positions: np.ndarray, fps: float, target: float) -> np.ndarray:
    return resample_positions(check_positions(positions, fps), fps, target)


def _derivatives(p: np.ndarray, order: int, fps: float) -> np.ndarray:
    """Per-joint magnitude of the ``order``-th finite difference in SI units: (T-order, J)."""
    d = np.diff(p, n=order, axis=0) * fps**order
    return np.linalg.norm(d, axis=-1)


def velocity_stats(
    positions: np.ndarray, fps: float, limit: float = SPEED_LIMIT
) -> dict[str, float]:
    """Joint speeds at 20 fps: ``max`` (m/s), ``mean`` (m/s, over joints and frames) and
    ``over_share``, the share of 20-fps frame steps in which any joint moves faster than
    ``limit`` (default 15 m/s). positions: (T, 22, 3) metres."""
    return _rate_stats(positions, fps, 1, limit)


def acceleration_stats(
    positions: np.ndarray, fps: float, limit: float = ACCEL_LIMIT
) -> dict[str, float]:
    """Joint accelerations at 20 fps (second difference × 20²): ``max`` and ``mean`` in m/s²
    and ``over_share``, the share of frames in which any joint exceeds ``limit`` (200 m/s²)."""
    return _rate_stats(positions, fps, 2, limit)


def _rate_stats(positions: np.ndarray, fps: float, order: int, limit: float) -> dict[str, float]:
    """max / mean of the joints' ``order``-th derivative magnitude at 20 fps and the share of
    frames where any joint exceeds ``limit``."""
    p = _at(positions, fps, ANALYSIS_FPS)
    if p.shape[0] < order + 1:
        return {"max": 0.0, "mean": 0.0, "over_share": 0.0}
    d = _derivatives(p, order, ANALYSIS_FPS)  # (T - order, J)
    return {
        "max": float(d.max()),
        "mean": float(d.mean()),
        "over_share": float(np.mean(d.max(axis=1) > limit)),
    }


def jerk(positions: np.ndarray, fps: float) -> float:
    """Mean magnitude of the third derivative of joint positions, m/s³ (20 fps, third
    difference × 20³, mean over joints and frames). Lower is smoother; real clips: median
    18 (Bandai-2) to 64 (Bandai-1), at most ~520."""
    p = _at(positions, fps, ANALYSIS_FPS)
    if p.shape[0] < 4:
        return 0.0
    return float(_derivatives(p, 3, ANALYSIS_FPS).mean())


def physical_foot_contact(positions: np.ndarray, fps: float) -> float:
    """EDGE's Physical Foot Contact score (lower is better), exactly as ``eval/eval_pfc.py``.

    At 30 fps: root (pelvis) acceleration a_t = Δ²root · 30² (m/s²) with its vertical (Y) part
    clamped to ≥ 0, â_t = |a_t| / max_t |a_t|; per frame the horizontal foot speeds
    v_L = min(|Δxz left ankle|, |Δxz left toe|) and v_R likewise, in **metres per 30-fps
    frame** (EDGE does not divide the foot steps by DT); PFC = 10⁴ · mean_t(v_L · v_R · â_t).
    The foot step aligned with â_t is frames t+1 → t+2, as in EDGE. A foot that stays put
    while the root accelerates scores 0: a body can only accelerate when a foot pushes on the
    ground. AIST++ ground truth scores 1.33 in EDGE's paper.
    positions: (T, 22, 3) metres; fewer than 3 frames (at 30 fps) score 0.
    """
    p = _at(positions, fps, PFC_FPS)
    if p.shape[0] < 3:
        return 0.0
    root = p[:, PELVIS]
    acc = np.diff(root, n=2, axis=0) * PFC_FPS**2  # (T-2, 3)
    acc[:, 1] = np.maximum(acc[:, 1], 0.0)
    mag = np.linalg.norm(acc, axis=-1)
    peak = float(mag.max())
    if peak <= 0.0:
        return 0.0
    mag = mag / peak
    feet = p[:, [LEFT_ANKLE, LEFT_FOOT, RIGHT_ANKLE, RIGHT_FOOT]][:, :, [0, 2]]
    step = np.linalg.norm(feet[2:] - feet[1:-1], axis=-1)  # (T-2, 4) m per 30-fps frame
    v_left = np.minimum(step[:, 0], step[:, 1])
    v_right = np.minimum(step[:, 2], step[:, 3])
    return float(np.mean(v_left * v_right * mag) * 1e4)


def physics_report(positions: np.ndarray, fps: float) -> dict[str, Any]:
    """Every metric of this module on one motion, as a JSON-ready dict (units in the keys)."""
    p = check_positions(positions, fps)
    vel = velocity_stats(p, fps)
    acc = acceleration_stats(p, fps)
    return {
        "foot_skating_ratio": foot_skating_ratio(p, fps),
        "ground_penetration_m": ground_penetration(p),
        "floating_m": floating_height(p),
        "pfc": physical_foot_contact(p, fps),
        "max_speed_mps": vel["max"],
        "mean_speed_mps": vel["mean"],
        "speed_over_limit_share": vel["over_share"],
        "max_acceleration_mps2": acc["max"],
        "mean_acceleration_mps2": acc["mean"],
        "acceleration_over_limit_share": acc["over_share"],
        "jerk_mps3": jerk(p, fps),
        "bone_length_drift": bone_length_drift(p),
    }
