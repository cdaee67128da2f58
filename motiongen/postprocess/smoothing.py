"""Temporal smoothing: a light Gaussian low-pass and a jerk limiter for glitches.

Both work on joint positions (T, 22, 3) in metres and leave the clip length unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from motiongen.artifacts import moving_weight

# 25 ms (half a frame at 20 fps; discrete weights 0.107, 0.787, 0.107): gain 0.99 at 1 Hz,
# 0.91 at 3 Hz, 0.79 at 5 Hz, 0.66 at 7 Hz and 0.58 at 10 Hz, so the body's motion keeps its
# shape while frame-to-frame jitter is damped. 40 ms also blurred foot landings on real walks (the toe still moving while
# already low: the foot-skating metric rose from 0.19 to 0.27 on a Bandai walk).
DEFAULT_SIGMA_SECONDS = 0.025
# Jittery input (generated motion) is smoothed more, up to this width, until its jitter
# score (``motiongen.artifacts.jitter_score``: high-frequency acceleration over speed, flagged
# above 0.3) is at most TARGET_JITTER. 0.1 s keeps 1 Hz motion (gain 0.82) and removes
# everything above 5 Hz; clean capture never needs more than the default. Real train-split
# clips at 20 fps score 0.037 (median), 0.073 (p90), 0.108 (p99), but smoothing generated
# motion down to 0.1 made it worse on val (tiny-flow: FID_k 7.43 -> 10.07, foot skating
# 0.205 -> 0.222, sanity 83.3 -> 82.1 %): a wider Gaussian blurs the foot plants too.
MAX_SIGMA_SECONDS = 0.1
TARGET_JITTER = 0.2
# Motion already this smooth (the 90th percentile of real capture's jitter score) is not
# low-passed at all: even 25 ms rounds off toe-offs and landings. On tiny-flow-smooth, whose
# raw output is as smooth as capture, skipping it on val took foot skating 0.179 -> 0.166,
# PFC 0.733 -> 0.672, FID_k 5.01 -> 4.11 and sanity 93.2 -> 94.4 % (`motiongen eval --split
# val`); jittery output (tiny-flow, the control models) is smoothed as before.
SMOOTH_ENOUGH = 0.073
# Largest per-frame jerk (max over joints of |d³x/dt³|) in real capture at 20 fps, measured
# on 27 Bandai dataset-1 clips (punches, kicks, dashes): median 141, 99.9th percentile 1,587,
# max 1,980 m/s³. 2,500 leaves every real motion alone; a one-frame spike of a joint of about
# 10 cm or more is above it (its third difference is 3x the spike).
DEFAULT_MAX_JERK = 2500.0
# The limiter replaces glitchy frames by a 0.1 s Gaussian of the motion around them.
_STRONG_SIGMA_SECONDS = 0.1


def settle_still_joints(positions: np.ndarray, fps: float) -> np.ndarray:
    """``positions`` (T, 22, 3) with each joint low-passed where it is at rest
    (``artifacts.moving_weight``: slower than 0.1 m/s for half a second), moving joints as they
    are, a smooth blend between: an offline, zero-phase cousin of the 1-euro filter (Casiez et
    al. 2012), which smooths a signal more the slower it moves. Generated limbs at rest
    shimmered: a bow's hanging wrists wobbled 4 mm a frame where the take it came from moved
    0.8 (a new user's trial; median jerk 38 against the take's 5.7 m/s^3), below what the
    whole motion's jitter score sees."""
    p = np.asarray(positions, dtype=np.float64)
    if p.shape[0] < 4:
        return p.copy()
    w, low = moving_weight(p, fps)
    return low + w[..., None] * (p - low)


def gaussian_smooth(
    positions: np.ndarray, fps: float, sigma_seconds: float = DEFAULT_SIGMA_SECONDS
) -> np.ndarray:
    """Gaussian low-pass along time, edges held (``mode="nearest"``).

    positions: (T, 22, 3) -> (T, 22, 3) float64. ``sigma_seconds <= 0`` returns a copy.
    """
    p = np.asarray(positions, dtype=np.float64)
    sigma = sigma_seconds * fps
    if sigma <= 0 or p.shape[0] < 2:
        return p.copy()
    return gaussian_filter1d(p, sigma=sigma, axis=0, mode="nearest")


def jerk(positions: np.ndarray, fps: float) -> np.ndarray:
    """Jerk magnitude per joint, |third difference| * fps³ in m/s³.

    positions: (T, J, 3) -> (T - 3, J); empty when T < 4. Row t spans frames t .. t+3.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.shape[0] < 4:
        return np.zeros((0, p.shape[1]))
    return np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1) * fps**3


def limit_jerk(
    positions: np.ndarray,
    fps: float,
    max_jerk: float = DEFAULT_MAX_JERK,
    *,
    iterations: int = 4,
) -> np.ndarray:
    """Damp glitches: joints whose jerk exceeds ``max_jerk`` are blended, around the offending
    frames, with a strongly smoothed copy of themselves (0.1 s Gaussian).

    Only joints and frames near a violation change; a motion under the limit is returned
    unchanged (as float64). Repeats up to ``iterations`` times, since one blend may leave a
    smaller violation next to the first.
    positions: (T, 22, 3) -> (T, 22, 3) float64.
    """
    p = np.asarray(positions, dtype=np.float64).copy()
    if p.shape[0] < 4 or not np.isfinite(max_jerk):
        return p
    strong_sigma = max(_STRONG_SIGMA_SECONDS * fps, 1.0)
    for _ in range(iterations):
        over = jerk(p, fps) > max_jerk  # (T-3, J)
        if not over.any():
            break
        bad = np.zeros(p.shape[:2], dtype=bool)  # (T, J): every frame of a violating span
        for k in range(4):
            bad[k : k + over.shape[0]] |= over
        # Widen by a frame each side, then feather the weight so the blend has no edge.
        weight = maximum_filter1d(bad.astype(np.float64), size=3, axis=0, mode="nearest")
        weight = np.clip(gaussian_filter1d(weight, 1.0, axis=0, mode="nearest") * 1.5, 0, 1)
        strong = gaussian_filter1d(p, strong_sigma, axis=0, mode="nearest")
        p = p + weight[..., None] * (strong - p)
    return p
