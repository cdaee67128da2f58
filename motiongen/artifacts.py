"""Artifact and physical-plausibility metrics on canonical joint positions.

Every function takes positions ``(T, 22, 3)`` in metres (Y up, floor at y = 0) and, where
time matters, the frame rate. Rate-dependent metrics are computed after resampling to the
fixed analysis rate ``ANALYSIS_FPS`` = 20 fps (linear interpolation, as ``Motion.resample``),
so a clip scores the same whether it arrives at 20, 25, 30 or 60 fps and the thresholds keep
one meaning. Definitions, thresholds and the measured flag rates on the real data are in
``docs/curation.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d
from scipy.signal import butter, sosfiltfilt

from motiongen.errors import InputError
from motiongen.skeleton import LEFT_FOOT, RIGHT_FOOT, bone_lengths, checked_positions

ANALYSIS_FPS = 20.0

# ---- thresholds (SPEC §9 names; our exact units are in each metric's docstring) ---------
JITTER_THRESHOLD = 0.3  # high-frequency acceleration / mean speed, per 20-fps frame
STATIC_SPEED = 0.005  # m per 20-fps frame (= 0.1 m/s) of the fastest joint
STATIC_SHARE = 0.8  # flagged when more than this share of frames is static
EXPLOSION_Z = 3.0  # robust z-score of the one-frame velocity jump
EXPLOSION_MIN_SCALE = 2.0  # m/s: floor of the z-score's scale, so z > 3 needs a spike > 6 m/s
REPETITION_THRESHOLD = 0.7  # autocorrelation of joint velocities at lags 5-20 frames
REPETITION_LAGS = (5, 20)  # inclusive, in 20-fps frames (0.25-1.0 s)
REPETITION_MIN_OVERLAP = 20  # frames that must overlap at a lag for it to count
CONTACT_HEIGHT = 0.05  # m: a toe under this height in two adjacent frames is in contact
SKATE_SPEED = 0.5  # m/s: a foot in contact faster than this (horizontally) skates
OVERSPEED = 15.0  # m/s: no joint of a human moves this fast (SPEC §9 safety critic)
PENETRATION_LIMIT = 0.1  # m below the floor (SPEC §9 safety critic)
JITTER_CUTOFF = 7.0  # Hz: acceleration above this counts as jitter

# 4th-order Butterworth high-pass, run forwards and backwards (zero phase).
_JITTER_SOS = butter(4, JITTER_CUTOFF, btype="highpass", fs=ANALYSIS_FPS, output="sos")

# Severity of each flag (SPEC §9 safety critic; explosion is ours). "repetitive" is not used
# in the artifact score (see ArtifactReport).
SEVERITY: dict[str, float] = {
    "static": 0.9,
    "explosion": 0.9,
    "overspeed": 0.8,
    "repetitive": 0.7,
    "jittery": 0.6,
    "penetration": 0.6,
}


def check_positions(positions: np.ndarray, fps: float | None = None) -> np.ndarray:
    pos = checked_positions(positions)
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InputError(f"frame rate must be a positive number, got {fps!r}")
    return pos


def resample_positions(
    positions: np.ndarray, fps: float, target: float = ANALYSIS_FPS
) -> np.ndarray:
    """Linear resampling in time, keeping the duration: (T, J, 3) -> (round(T*target/fps), J, 3)."""
    pos = np.asarray(positions, dtype=np.float64)
    if abs(fps - target) < 1e-9 or pos.shape[0] < 2:
        return pos
    n_new = max(1, int(round(pos.shape[0] * target / fps)))
    t_old = np.arange(pos.shape[0]) / fps
    t_new = np.clip(np.arange(n_new) / target, 0.0, t_old[-1])
    idx = np.clip(np.searchsorted(t_old, t_new, side="right") - 1, 0, pos.shape[0] - 2)
    w = ((t_new - t_old[idx]) / (t_old[idx + 1] - t_old[idx]))[:, None, None]
    return pos[idx] * (1.0 - w) + pos[idx + 1] * w


def _at_analysis_rate(positions: np.ndarray, fps: float) -> np.ndarray:
    return resample_positions(check_positions(positions, fps), fps)


# ---- metrics on 20-fps positions (private; the public wrappers resample) ------------------
def _jitter(p: np.ndarray) -> float:
    if p.shape[0] < 8:
        return 0.0
    vel = np.diff(p, axis=0)  # (T-1, J, 3) m per frame
    acc = np.diff(vel, axis=0)  # (T-2, J, 3) m per frame^2
    padlen = min(acc.shape[0] - 1, 3 * (2 * _JITTER_SOS.shape[0] + 1))
    high = sosfiltfilt(_JITTER_SOS, acc, axis=0, padlen=padlen)
    hf = float(np.mean(np.linalg.norm(high, axis=-1)))
    mean_speed = float(np.mean(np.linalg.norm(vel, axis=-1)))
    # The floor keeps millimetre sensor noise on a still pose from scoring high.
    return hf / max(mean_speed, STATIC_SPEED)


def _static_share(p: np.ndarray) -> float:
    if p.shape[0] < 2:
        return 1.0
    speed = np.linalg.norm(np.diff(p, axis=0), axis=-1).max(axis=1)  # (T-1,) fastest joint
    return float(np.mean(speed < STATIC_SPEED))


def _explosion(p: np.ndarray) -> tuple[float, float]:
    """(robust z-score, largest one-frame speed spike in m/s)."""
    if p.shape[0] < 4:
        return 0.0, 0.0
    speed = np.linalg.norm(np.diff(p, axis=0), axis=-1) * ANALYSIS_FPS  # (T-1, J) m/s
    pad = np.pad(speed, ((2, 2), (0, 0)), mode="edge")
    spike = (speed - np.maximum(pad[:-4], pad[4:])).max(axis=1)  # (T-1,)
    med = float(np.median(spike))
    mad = float(np.median(np.abs(spike - med)))
    scale = max(1.4826 * mad, EXPLOSION_MIN_SCALE)
    return float((spike.max() - med) / scale), float(spike.max())


def _repetition(p: np.ndarray) -> tuple[float, int]:
    """(max autocorrelation over lags 5-20 after the first zero crossing, its lag)."""
    lo, hi = REPETITION_LAGS
    if p.shape[0] < 2:
        return 0.0, 0
    vel = np.diff(p, axis=0).reshape(p.shape[0] - 1, -1)
    n = vel.shape[0]
    hi = min(hi, n - REPETITION_MIN_OVERLAP)
    if hi < lo:
        return 0.0, 0
    u = vel - vel.mean(axis=0, keepdims=True)
    energy = np.sum(u**2, axis=1)  # (n,)
    if energy.sum() < 1e-12:
        return 0.0, 0
    crossed = False
    best, best_lag = 0.0, 0
    for k in range(1, hi + 1):
        den = float(np.sqrt(energy[:-k].sum() * energy[k:].sum()))
        r = float(np.sum(u[:-k] * u[k:])) / den if den > 1e-12 else 0.0
        crossed = crossed or r < 0.0
        # Before the signal has decorrelated once, a high r only says the motion is slow.
        if crossed and k >= lo and r > best:
            best, best_lag = r, k
    return best, best_lag


# A toe that holds the body (``sliding_ratio``): in contact and no faster than this, m/s. At
# 0.5 (the skate speed) a glide whose stance toe creeps at 0.45 m/s passed; at 0.3 real 10-s
# windows reach 0.53 at most (0.41 whole clips), at 0.2 two real waltz windows fail.
PLANTED_SPEED = 0.3


def _toe_contacts(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(skating, planted) toes over the T-1 frame pairs, each (T-1, 2): in contact (under
    ``CONTACT_HEIGHT`` in both frames) and faster than ``SKATE_SPEED``, or no faster than
    ``PLANTED_SPEED``."""
    feet = p[:, [LEFT_FOOT, RIGHT_FOOT]]  # (T, 2, 3)
    low = feet[:, :, 1] < CONTACT_HEIGHT
    contact = low[:-1] & low[1:]
    hspeed = np.linalg.norm(np.diff(feet[:, :, [0, 2]], axis=0), axis=-1) * ANALYSIS_FPS
    return contact & (hspeed > SKATE_SPEED), contact & (hspeed <= PLANTED_SPEED)


def _skating_sliding(p: np.ndarray) -> tuple[float, float]:
    """(``foot_skating_ratio``, ``sliding_ratio``) of 20-fps positions, one contact pass."""
    if p.shape[0] < 2:
        return 0.0, 0.0
    skate, planted = _toe_contacts(p)
    slide = skate & ~planted[:, ::-1]  # the other toe holds nothing
    return float(np.mean(skate.any(axis=1))), float(np.mean(slide.any(axis=1)))


# ---- public metrics ------------------------------------------------------------------------
def jitter_score(positions: np.ndarray, fps: float) -> float:
    """High-frequency acceleration relative to speed (dimensionless, per 20-fps frame).

    At 20 fps, with v = first and a = second difference of positions (m per frame, m per
    frame²): a_hf = a high-passed above 7 Hz (4th-order Butterworth, zero phase);
    jitter = mean over frames and joints of |a_hf| divided by the mean joint speed |v|
    (the speed floored at 0.005 m/frame so sensor noise on a still pose does not score high).
    Human motion has little acceleration between 7 Hz and the 10 Hz Nyquist limit, white
    noise has most of its acceleration there. Measured: real Bandai clips ≤ 0.25, smooth
    synthetic motion ≈ 0.01–0.05, the same clips with 1 cm of white noise ≈ 0.7 (median),
    with 3 cm ≈ 1.5. Flagged when > 0.3 (SPEC: "acceleration variance / mean velocity").
    positions: (T, 22, 3) metres.
    """
    return _jitter(_at_analysis_rate(positions, fps))


def static_share(positions: np.ndarray, fps: float) -> float:
    """Share of frames in which nothing moves, in [0, 1].

    A 20-fps frame is static when its fastest joint moves less than 0.005 m in that frame
    (0.1 m/s). The fastest joint rather than the mean, so that a person standing and waving
    one hand is not static (the mean joint speed is under 0.2 m/s in most frames of such
    clips). Flagged when the share is > 0.8.
    """
    return _static_share(_at_analysis_rate(positions, fps))


def explosion_score(positions: np.ndarray, fps: float) -> float:
    """Robust z-score of the largest one-frame speed spike (a teleport or glitch).

    At 20 fps, with s_t,j the speed of joint j between frames t and t+1 (m/s):
    spike_t = max_j (s_t,j − max(s_t−2,j, s_t+2,j)), how far a joint's speed stands above
    its speed 0.1 s before and after; a teleport makes a one- or two-frame spike, a kick or
    a sprint keeps its speed for several frames. z = (max_t spike_t − median spike) / scale,
    scale = max(1.4826 · MAD(spike), 2 m/s); the floor means z > 3 needs a spike > 6 m/s
    above typical, i.e. a joint jumping ≈ 0.3–0.4 m within one frame. Real Bandai clips
    (kicks, dashes, punches) reach spikes of ≤ 4.6 m/s, z ≤ 2.1. Flagged when z > 3.
    """
    return _explosion(_at_analysis_rate(positions, fps))[0]


def repetition_score(positions: np.ndarray, fps: float) -> float:
    """Autocorrelation of the joint-velocity signal at its repeat lag within 5–20 frames (20 fps).

    The signal is every joint's velocity (66 numbers per frame) with its clip mean removed (so
    steady travel does not count). r_k = Σ_t u_t·u_t+k / sqrt(Σ|u_t|² Σ|u_t+k|²) over the
    overlapping frames (lags with < 20 frames of overlap are skipped). The score is the largest
    r_k for k in 5..20 *after r has first dropped below 0*: before that, a high r only says
    the motion is slow and smooth, not that it repeats. 0 when the clip is too short or never
    decorrelates within 20 frames. An exact loop of period 0.25–1 s scores ≈ 1. Flagged when
    > 0.7 — but real periodic motion (gait, waving) scores as high: see ``docs/curation.md``.
    """
    return _repetition(_at_analysis_rate(positions, fps))[0]


# Share of frame pairs with a skating toe (``foot_skating_ratio``) that few real clips reach:
# over the 2,813 real clips median 0, 99th percentile 0.48, 99.5th 0.52, max 0.73 (two
# Bandai-1 takes, real backward walks); a gliding generated walk scores 0.6-1.0. The restyle
# and in-between glide warnings (``pipeline``) compare against it, and the sanity checker's
# "sliding" compares ``sliding_ratio`` against it: real clips reach 0.37 at most on that
# (waltzes, runs; 0.53 in one 10-s test window of a waltz).
SKATING_LIMIT = 0.55


def foot_skating_ratio(positions: np.ndarray, fps: float) -> float:
    """Share of 20-fps frame pairs in which either toe skates (GMD / OmniControl definition).

    A toe joint (``LEFT_FOOT`` / ``RIGHT_FOOT``) is in contact over frames (t, t+1) when its
    height is under 0.05 m in both; it skates when, in contact, its horizontal speed
    |Δ(x, z)| · 20 exceeds 0.5 m/s. Returns the share of the T−1 frame pairs with a skating
    toe, in [0, 1].
    """
    return _skating_sliding(_at_analysis_rate(positions, fps))[0]


def sliding_ratio(positions: np.ndarray, fps: float) -> float:
    """Share of 20-fps frame pairs in which a toe skates while the other toe is not planted.

    As ``foot_skating_ratio``, but a skating toe counts only when the other toe is not in
    contact and still (<= ``PLANTED_SPEED``) over the same frame pair: with one foot planted the body
    is supported and the low, fast toe is swinging, not sliding. A backward walk swings its
    toe 1-4 cm above the floor (6 of the 11 real walk-backs skate in 0.45-0.73 of their frame
    pairs) and slides in none; a gliding walk or run, whose stance foot moves with the body,
    slides in as many frame pairs as it skates.
    """
    return _skating_sliding(_at_analysis_rate(positions, fps))[1]


def ground_penetration(positions: np.ndarray) -> float:
    """Depth in metres of the lowest point below the floor: max over frames of max(0, −min_j y)."""
    p = check_positions(positions)
    return float(max(0.0, -p[:, :, 1].min()))


def floating_height(positions: np.ndarray) -> float:
    """Mean over frames of the lowest joint's height above the floor, max(0, min_j y), metres.

    Frame-rate free. Jumps count: a clip that jumps for a third of its frames floats a little.
    """
    p = check_positions(positions)
    return float(np.mean(np.maximum(0.0, p[:, :, 1].min(axis=1))))


def max_joint_speed(positions: np.ndarray, fps: float) -> float:
    """Largest speed of any joint between consecutive 20-fps frames, m/s."""
    p = _at_analysis_rate(positions, fps)
    if p.shape[0] < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(p, axis=0), axis=-1).max() * ANALYSIS_FPS)


def bone_length_drift(positions: np.ndarray) -> float:
    """Largest relative variation of a bone's length: max over bones of std/mean over frames."""
    p = check_positions(positions)
    lengths = bone_lengths(p)  # (T, 21)
    mean = lengths.mean(axis=0)
    return float(np.max(lengths.std(axis=0) / np.maximum(mean, 1e-6)))


# ---- combined report -----------------------------------------------------------------------
def _ramp(value: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi``, linear in between."""
    return float(np.clip((value - lo) / (hi - lo), 0.0, 1.0))


# Quality penalties: (weight, value at which the penalty starts, value at which it is full).
QUALITY_PENALTIES: dict[str, tuple[float, float, float]] = {
    # Real walking already scores 0.2-0.5 (the toe clears the floor by only 2-4 cm in swing),
    # so the penalty starts above that and is mild.
    "foot_skating": (0.35, 0.4, 1.0),  # share of frames
    "penetration": (0.4, 0.03, 0.10),  # m
    "floating": (0.4, 0.05, 0.20),  # m, mean over frames
    # Marker-based positions (the dance set) vary bones by 10-14 % (short bones, soft tissue);
    # rigid skeletons (BVH, FK) by 0.
    "bone_drift": (0.5, 0.15, 0.40),  # std / mean of the worst bone
}


@dataclass
class ArtifactReport:
    """All artifact and plausibility scores of one motion, with flags and two summaries.

    quality: 1 = physically clean, 0 = unusable; the product over the plausibility metrics
        of (1 − weight · ramp(value)) with ``QUALITY_PENALTIES``.
    artifact: 0 = no artifact, up to 0.9; the largest over static, explosion, overspeed,
        jittery and penetration of severity × s, where s = 1 when the flag is raised and
        otherwise rises linearly from 0 at half the threshold to 0.5 at the threshold (so
        near-misses count a little, for the stricter SFT cut). The repetition flag is reported
        but not part of ``artifact``: real gait and waving raise it as often as loops do.
    """

    jitter: float
    static_share: float
    explosion: float
    max_speed_spike: float  # m/s within one 20-fps frame
    repetition: float
    repetition_lag: int  # 20-fps frames
    foot_skating: float
    sliding: float  # ``sliding_ratio``
    penetration: float
    floating: float
    max_speed: float
    bone_drift: float
    jittery: bool
    static: bool
    exploding: bool
    repetitive: bool
    overspeed: bool
    penetrating: bool
    quality: float
    artifact: float
    frames: int  # at the analysis rate

    @property
    def flags(self) -> list[str]:
        """Names of the raised flags (keys of ``SEVERITY``)."""
        names = {
            "static": self.static,
            "explosion": self.exploding,
            "overspeed": self.overspeed,
            "repetitive": self.repetitive,
            "jittery": self.jittery,
            "penetration": self.penetrating,
        }
        return [k for k, v in names.items() if v]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _soft(value: float, threshold: float, flagged: bool) -> float:
    if flagged:
        return 1.0
    return 0.5 * _ramp(value, 0.5 * threshold, threshold)


def artifact_report(positions: np.ndarray, fps: float) -> ArtifactReport:
    """Every metric of this module on one motion. positions: (T, 22, 3) metres."""
    raw = check_positions(positions, fps)
    p = resample_positions(raw, fps)
    jitter = _jitter(p)
    static = _static_share(p)
    expl, jump = _explosion(p)
    rep, lag = _repetition(p)
    skate, slide = _skating_sliding(p)
    pen = float(max(0.0, -raw[:, :, 1].min()))
    flo = float(np.mean(np.maximum(0.0, raw[:, :, 1].min(axis=1))))
    speed = (
        float(np.linalg.norm(np.diff(p, axis=0), axis=-1).max() * ANALYSIS_FPS)
        if p.shape[0] > 1
        else 0.0
    )
    drift = bone_length_drift(raw)

    flags = {
        "jittery": jitter > JITTER_THRESHOLD,
        "static": static > STATIC_SHARE,
        "exploding": expl > EXPLOSION_Z,
        "repetitive": rep > REPETITION_THRESHOLD,
        "overspeed": speed > OVERSPEED,
        "penetrating": pen > PENETRATION_LIMIT,
    }
    artifact = max(
        SEVERITY["static"] * _soft(static, STATIC_SHARE, flags["static"]),
        SEVERITY["explosion"] * _soft(expl, EXPLOSION_Z, flags["exploding"]),
        SEVERITY["overspeed"] * _soft(speed, OVERSPEED, flags["overspeed"]),
        SEVERITY["jittery"] * _soft(jitter, JITTER_THRESHOLD, flags["jittery"]),
        SEVERITY["penetration"] * _soft(pen, PENETRATION_LIMIT, flags["penetrating"]),
    )
    values = {"foot_skating": skate, "penetration": pen, "floating": flo, "bone_drift": drift}
    quality = 1.0
    for key, (weight, lo, hi) in QUALITY_PENALTIES.items():
        quality *= 1.0 - weight * _ramp(values[key], lo, hi)
    return ArtifactReport(
        jitter=jitter,
        static_share=static,
        explosion=expl,
        max_speed_spike=jump,
        repetition=rep,
        repetition_lag=lag,
        foot_skating=skate,
        sliding=slide,
        penetration=pen,
        floating=flo,
        max_speed=speed,
        bone_drift=drift,
        quality=float(quality),
        artifact=float(artifact),
        frames=int(p.shape[0]),
        **flags,
    )


# A joint is at rest slower than JOINT_STILL_SPEED (m/s, of the motion low-passed at
# STILL_SIGMA_SECONDS) for REST_SECONDS, moving faster than JOINT_MOVING_SPEED:
# ``postprocess.settle_still_joints`` low-passes joints at rest, ``rest_shimmer`` reads them.
STILL_SIGMA_SECONDS = 0.1
JOINT_STILL_SPEED = 0.1
JOINT_MOVING_SPEED = 0.3
REST_SECONDS = 0.5  # how long a joint must stay slow to count as at rest


def moving_weight(
    positions: np.ndarray,
    fps: float,
    sigma_seconds: float = STILL_SIGMA_SECONDS,
    still: float = JOINT_STILL_SPEED,
    moving: float = JOINT_MOVING_SPEED,
) -> tuple[np.ndarray, np.ndarray]:
    """(weight (T, J): 0 for a joint at rest, 1 for one moving, smooth between; the motion
    low-passed at ``sigma_seconds``, (T, J, 3)). ``positions`` (T, J, 3) with T >= 2."""
    p = np.asarray(positions, dtype=np.float64)
    low = gaussian_filter1d(p, sigma=sigma_seconds * fps, axis=0, mode="nearest")
    speed = np.linalg.norm(np.gradient(low, axis=0), axis=-1) * fps  # (T, J)
    # at rest over a neighbourhood: a wave's wrist slows to nought at every turn, and taking
    # the low-pass there flattened its peaks (its jerk rose 112 -> 170 m/s^3)
    size = max(1, int(round(REST_SECONDS * fps)) | 1)
    speed = maximum_filter1d(speed, size=size, axis=0, mode="nearest")
    w = np.clip((speed - still) / (moving - still), 0.0, 1.0)
    return w * w * (3.0 - 2.0 * w), low  # smoothstep: no kink where a joint starts to move


def rest_shimmer(positions: np.ndarray, fps: float) -> float:
    """How much joints at rest wobble: the median |second difference| (mm) of joints over the
    frames they are at rest (``moving_weight`` below 0.5: slower than
    about 0.2 m/s for half a second); NaN when none is. Real capture's limbs at rest move
    fractions of a millimetre a frame; a generated bow's hanging wrists wobbled 4 mm. Per
    frame at ``fps``: compare motions at one frame rate (the benchmarks use 20)."""
    p = np.asarray(positions, dtype=np.float64)
    if len(p) < 8:
        return float("nan")
    w, _ = moving_weight(p, fps)
    wobble = np.linalg.norm(p[2:] - 2 * p[1:-1] + p[:-2], axis=-1) * 1000.0  # (T - 2, J)
    rest = w[1:-1] < 0.5
    return float(np.median(wobble[rest])) if rest.any() else float("nan")
