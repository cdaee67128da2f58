"""Music–motion metrics: beat alignment (Bailando / AIST++), beat consistency (PantoMatrix),
and motion energy vs onset strength.

The scoring functions are pure functions of times in seconds and positions ``(T, 22, 3)``;
``analyse_music`` turns an audio signal into the beat and onset times they need (librosa).
Definitions, the direction of each score and why: ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.ndimage import gaussian_filter1d, minimum_filter1d
from scipy.signal import find_peaks

from motiongen.artifacts import check_positions, resample_positions
from motiongen.errors import InputError

# ---- Beat Align Score (Bailando utils/beat_align_score.py) -----------------------------
BAS_FPS = 60.0  # Bailando/AIST++ evaluate at 60 fps; their frame constants below are at 60
BAS_SMOOTH_S = 5.0 / 60.0  # Gaussian smoothing of the speed curve: 5 frames at 60 fps
BAS_SIGMA_S = 3.0 / 60.0  # tolerance: sigma² = 9 frames² at 60 fps -> 0.05 s

# ---- beat consistency (PantoMatrix emage_evaltools/mertic.py, class BC) ---------------
BC_FPS = 30.0  # BEAT2 poses are 30 fps; the minima order is in those frames
BC_ORDER = 7  # a minimum must be the lowest within ±7 frames (±0.23 s)
BC_THRESHOLD = 0.1  # speed / joint's mean speed must exceed this at the minimum
BC_SIGMA_S = 0.3  # tolerance in seconds
# PantoMatrix's upper-body joints; SMPL order, so the indices are ours too: spine1-3, neck,
# collars, head, shoulders, elbows, wrists.
BC_JOINTS: tuple[int, ...] = (3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)

# ---- energy vs onset ------------------------------------------------------------------
ENERGY_MAX_LAG_S = 0.1

Direction = Literal["music", "motion"]


# ---- kinematic beats --------------------------------------------------------------------
def local_minima(x: np.ndarray, order: int = 1) -> np.ndarray:
    """Indices of local minima of a 1-D signal: points lower than their neighbours and the
    lowest within ±``order`` samples (``scipy.signal.argrelextrema(x, np.less, order)``),
    except that a flat-bottomed minimum (two or more equal samples) counts once, at its
    middle, where argrelextrema's strict test misses it. Such ties are common: the speed of a
    linearly upsampled motion is piecewise constant, and a symmetric dip sampled on both
    sides of its centre gives two equal values. The first and last samples are never minima.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size < 3:
        return np.zeros(0, dtype=np.int64)
    idx, _ = find_peaks(-x)
    if order > 1 and idx.size:
        lowest = minimum_filter1d(x, size=2 * order + 1, mode="nearest")
        idx = idx[x[idx] <= lowest[idx]]
    return idx.astype(np.int64)


def mean_joint_speed(positions: np.ndarray, fps: float) -> np.ndarray:
    """Mean over joints of the speed between consecutive frames, m/s: (T, 22, 3) -> (T-1,).

    Entry k describes the step k -> k+1 and belongs to time (k + 0.5) / fps.
    """
    p = check_positions(positions, fps)
    if p.shape[0] < 2:
        return np.zeros(0)
    return np.linalg.norm(np.diff(p, axis=0), axis=-1).mean(axis=1) * fps


def kinematic_beats(
    positions: np.ndarray, fps: float, *, smooth_s: float = BAS_SMOOTH_S
) -> np.ndarray:
    """Motion beat times in seconds (Bailando): local minima of the smoothed mean joint speed.

    The motion is resampled to 60 fps (Bailando's rate, linear interpolation); the mean joint
    speed is smoothed with a Gaussian of ``smooth_s`` (5 frames at 60 fps) and every local
    minimum (``local_minima``, order 1: Bailando's ``argrelextrema(np.less)`` plus
    flat-bottomed minima) is a beat, placed at the middle of its frame step, (k + 0.5) / 60
    (Bailando uses k / 60, 8 ms earlier).
    """
    p = resample_positions(check_positions(positions, fps), fps, BAS_FPS)
    speed = mean_joint_speed(p, BAS_FPS)
    if speed.size < 3:
        return np.zeros(0)
    smooth = gaussian_filter1d(speed, smooth_s * BAS_FPS, mode="reflect")
    return (local_minima(smooth) + 0.5) / BAS_FPS


def _times(x: np.ndarray, name: str) -> np.ndarray:
    t = np.asarray(x, dtype=np.float64).reshape(-1)
    if not np.isfinite(t).all():
        raise InputError(f"{name} contain NaN or infinite times")
    return np.sort(t)


def _nearest_gap(queries: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """For each query time, the distance to the nearest reference time (both sorted)."""
    if len(refs) == 1:
        return np.abs(queries - refs[0])
    i = np.clip(np.searchsorted(refs, queries), 1, len(refs) - 1)
    return np.minimum(np.abs(queries - refs[i - 1]), np.abs(queries - refs[i]))


def beat_align_score(
    motion_beats: np.ndarray,
    music_beats: np.ndarray,
    *,
    sigma: float = BAS_SIGMA_S,
    direction: Direction = "music",
) -> float:
    """Beat Align Score in [0, 1] (higher = motion accents closer to the music's beats).

    direction="music" (default; Bailando's code, ``BA()`` in utils/beat_align_score.py, and
        ANCHORS): mean over **music** beats b of exp(−min_d (d − b)² / (2σ²)), d over motion
        beats. Asks: is there a motion accent at each beat? A motion with accents everywhere
        scores high.
    direction="motion" (AIST++/FACT, google-research/mint ``alignment_score``, and the formula
        printed in the Bailando paper): mean over **motion** beats d of the same kernel to the
        nearest music beat. Asks: does each motion accent fall on a beat? Accents between beats
        lower it.
    sigma: tolerance in seconds (default 0.05 s = 3 frames at 60 fps, Bailando's σ² = 9).
    Times in seconds. Returns 0.0 when either set is empty (nothing is aligned).
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise InputError(f"sigma must be a positive number of seconds, got {sigma!r}")
    if direction not in ("music", "motion"):
        raise InputError(f"direction must be 'music' or 'motion', got {direction!r}")
    motion = _times(motion_beats, "motion beats")
    music = _times(music_beats, "music beats")
    if motion.size == 0 or music.size == 0:
        return 0.0
    queries, refs = (music, motion) if direction == "music" else (motion, music)
    gap = _nearest_gap(queries, refs)
    return float(np.mean(np.exp(-(gap**2) / (2.0 * sigma**2))))


# ---- beat consistency --------------------------------------------------------------------
def joint_beats(
    positions: np.ndarray,
    fps: float,
    *,
    order: int = BC_ORDER,
    threshold: float = BC_THRESHOLD,
    joints: tuple[int, ...] = BC_JOINTS,
) -> list[np.ndarray]:
    """Per-joint motion beat times (s), PantoMatrix style, one array per joint in ``joints``.

    At 30 fps: joint speed by central differences (one-sided at the ends), divided by that
    joint's mean speed over the clip (PantoMatrix divides by a dataset-wide mean speed per
    joint, which we do not have for generated motion); beats are local minima of order 7
    (lowest within ±7 frames) whose normalised speed exceeds 0.1, i.e. pauses of a moving
    joint, not a joint at rest.
    """
    p = resample_positions(check_positions(positions, fps), fps, BC_FPS)
    if p.shape[0] < 3:
        return [np.zeros(0) for _ in joints]
    vel = np.gradient(p[:, list(joints)], 1.0 / BC_FPS, axis=0)  # (T, J', 3)
    speed = np.linalg.norm(vel, axis=-1)
    norm = speed / np.maximum(speed.mean(axis=0, keepdims=True), 1e-8)
    out = []
    for j in range(norm.shape[1]):
        idx = local_minima(norm[:, j], order)
        idx = idx[norm[idx, j] > threshold]
        out.append(idx / BC_FPS)
    return out


def beat_consistency(
    positions: np.ndarray,
    fps: float,
    onset_times: np.ndarray,
    *,
    sigma: float = BC_SIGMA_S,
    joints: tuple[int, ...] = BC_JOINTS,
) -> float:
    """Beat consistency (PantoMatrix BC) in [0, 1]: for each upper-body joint, the mean over
    audio onsets of exp(−Δt² / (2 · 0.3²)), Δt = distance to that joint's nearest motion beat
    (``joint_beats``); averaged over the 13 joints, a joint without beats counting 0.
    Direction: over audio onsets (PantoMatrix ``GAHR(pose_bt, onsets)``). 0.0 without onsets.
    """
    onsets = _times(onset_times, "onset times")
    if onsets.size == 0:
        return 0.0
    scores = [
        beat_align_score(b, onsets, sigma=sigma, direction="music") if b.size else 0.0
        for b in joint_beats(positions, fps, joints=joints)
    ]
    return float(np.mean(scores))


# ---- energy vs onset strength ------------------------------------------------------------
def energy_onset_correlation(
    positions: np.ndarray,
    fps: float,
    onset_strength: np.ndarray,
    *,
    max_lag_s: float = ENERGY_MAX_LAG_S,
) -> tuple[float, float, float]:
    """Pearson correlation between motion energy and onset strength on the motion frame grid.

    energy_k = mean joint speed at frame k (central differences, m/s); onset_strength: (T,)
    one value per motion frame (e.g. the ``onset`` column of
    ``motiongen.conditioning.audio_features``). r(ℓ) correlates energy_k with onset_{k−ℓ}
    over the overlapping frames, for lags ℓ of 0..±round(0.1 s · fps) frames (ℓ > 0: motion
    after the sound). Returns (r at the best lag, that lag in seconds, r at lag 0). The best
    lag lets a dancer answer a sound a frame or two late; with ±0.1 s the search adds little
    to chance (see docs/metrics.md). Constant signals give r = 0.
    """
    p = check_positions(positions, fps)
    onset = np.asarray(onset_strength, dtype=np.float64).reshape(-1)
    if onset.shape[0] != p.shape[0]:
        raise InputError(
            f"onset strength has {onset.shape[0]} values but the motion has {p.shape[0]} "
            "frames; compute it on the motion's frame grid"
        )
    if p.shape[0] < 3:
        return 0.0, 0.0, 0.0
    energy = np.linalg.norm(np.gradient(p, 1.0 / fps, axis=0), axis=-1).mean(axis=1)
    max_lag = int(round(max_lag_s * fps))
    best, best_lag, r0 = -np.inf, 0, 0.0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = energy[lag:], onset[: len(onset) - lag]
        else:
            a, b = energy[:lag], onset[-lag:]
        r = _pearson(a, b)
        if lag == 0:
            r0 = r
        # on a tie the smaller |lag| wins, so a flat curve reports lag 0
        if r > best + 1e-12 or (abs(r - best) <= 1e-12 and abs(lag) < abs(best_lag)):
            best, best_lag = r, lag
    return float(best), best_lag / fps, float(r0)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3:
        return 0.0
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / den) if den > 1e-12 else 0.0


# ---- audio side ---------------------------------------------------------------------------
@dataclass
class MusicAnalysis:
    """What the music metrics need from the audio, aligned so that t = 0 is motion frame 0.

    beat_times: (N,) librosa beat-tracker beats, seconds.
    onset_times: (M,) librosa onset detections, seconds.
    onset_strength: (T,) onset strength on the motion frame grid, scaled to max 1.
    tempo_bpm: the beat tracker's tempo (0 when no beat was found).
    """

    beat_times: np.ndarray
    onset_times: np.ndarray
    onset_strength: np.ndarray
    tempo_bpm: float


def analyse_music(y: np.ndarray, sr: int, fps: float, num_frames: int) -> MusicAnalysis:
    """Beats, onsets and onset strength of mono samples ``y`` for a motion of ``num_frames``.

    Beats and the onset-strength column come from ``motiongen.conditioning.audio_features``
    (librosa beat tracking on a mel onset envelope at a ~11 ms hop, max-pooled per motion
    frame); onsets from ``librosa.onset.onset_detect`` (default peak picking, 512-sample hop at
    22,050 Hz) on the same signal. Beats and onsets after the motion's end are dropped.
    """
    import librosa

    from motiongen.conditioning.audio_features import FEATURE_SR, audio_features

    feats = audio_features(y, sr, fps, num_frames=num_frames)
    y22 = np.asarray(y, dtype=np.float32)
    if y22.ndim == 2:
        y22 = y22.mean(axis=0)
    if sr != FEATURE_SR:
        y22 = librosa.resample(y22, orig_sr=sr, target_sr=FEATURE_SR, res_type="soxr_hq")
    onsets = librosa.onset.onset_detect(y=y22, sr=FEATURE_SR, hop_length=512, units="time")
    end = num_frames / fps
    beats = feats.beat_times[feats.beat_times < end]
    onsets = np.asarray(onsets, dtype=np.float64)
    return MusicAnalysis(
        beat_times=beats,
        onset_times=onsets[onsets < end],
        onset_strength=feats.column("onset")[:, 0].astype(np.float64),
        tempo_bpm=float(feats.tempo_bpm),
    )


# ---- dance-music agreement: shared periodicities ---------------------------------------
AGREEMENT_FPS = 20.0  # both signals are compared on this grid
AGREEMENT_BAND_HZ = (0.5, 4.0)  # 30-240 events per minute: steps, beats, bars
AGREEMENT_BINS = 64  # log-spaced frequencies in the band
# Other tempi the same music is compared at: a dance that follows its music's tempo agrees
# with it better than with the music played faster or slower.
AGREEMENT_STRETCHES = (0.8, 0.87, 0.93, 1.07, 1.15, 1.25)


def _band() -> np.ndarray:
    lo, hi = AGREEMENT_BAND_HZ
    return np.geomspace(lo, hi, AGREEMENT_BINS)


def periodicity_profile(signal: np.ndarray, fps: float, freqs: np.ndarray) -> np.ndarray:
    """Unit-norm power spectrum of a 1-D signal at ``freqs`` (Hz): standardised, Hann-windowed,
    zero-padded to 4x, interpolated. (T,) -> (len(freqs),); zeros for a flat signal."""
    x = np.asarray(signal, dtype=np.float64)
    if x.size < 8 or x.std() < 1e-9:
        return np.zeros(len(freqs))
    x = (x - x.mean()) / x.std()
    x = x * np.hanning(x.size)
    n = 1 << int(np.ceil(np.log2(4 * x.size)))
    power = np.abs(np.fft.rfft(x, n)) ** 2
    grid = np.fft.rfftfreq(n, 1.0 / fps)
    profile = np.interp(freqs, grid, power, left=0.0, right=0.0)
    norm = np.linalg.norm(profile)
    return profile / norm if norm > 0 else profile


def motion_accents(positions: np.ndarray, fps: float) -> np.ndarray:
    """Mean joint acceleration magnitude (m/s²) at ``AGREEMENT_FPS``: (T, 22, 3) -> (T',)."""
    p = resample_positions(check_positions(positions, fps), fps, AGREEMENT_FPS)
    if len(p) < 3:
        return np.zeros(len(p))
    acc = np.diff(p, n=2, axis=0) * AGREEMENT_FPS**2  # (T'-2, 22, 3)
    return np.linalg.norm(acc, axis=-1).mean(axis=1)


@dataclass
class Agreement:
    """agreement: cosine of the motion's and the music's periodicity profiles, in [0, 1].
    stretched: the same with the music played at each of ``AGREEMENT_STRETCHES``.
    margin: agreement minus the mean of ``stretched`` (> 0: the dance follows this tempo).
    """

    agreement: float
    stretched: list[float]
    margin: float


def dance_music_agreement(
    positions: np.ndarray, fps: float, onset_strength: np.ndarray, onset_fps: float
) -> Agreement:
    """How well a dance's movement periodicities match its music's (docs/metrics.md).

    positions: (T, 22, 3) at ``fps``; onset_strength: the music's onset envelope from the
    dance's first frame on, at ``onset_fps`` (e.g. the ``onset`` column of
    ``conditioning.audio_features``). Both are cut to their common length.
    """
    accents = motion_accents(positions, fps)
    onset = np.asarray(onset_strength, dtype=np.float64)
    if abs(onset_fps - AGREEMENT_FPS) > 1e-9 and len(onset) > 1:
        t = np.arange(int(len(onset) * AGREEMENT_FPS / onset_fps)) / AGREEMENT_FPS
        onset = np.interp(t, np.arange(len(onset)) / onset_fps, onset)
    n = min(len(accents), len(onset))
    if n < 2 * AGREEMENT_FPS:
        raise InputError(
            f"dance-music agreement needs at least 2 s of motion and music, got {n / AGREEMENT_FPS:.1f} s"
        )
    freqs = _band()
    motion = periodicity_profile(accents[:n], AGREEMENT_FPS, freqs)

    def with_music(stretch: float) -> float:
        # Music played ``stretch`` times as fast has its periodicities at stretch x f.
        music = periodicity_profile(onset[:n], AGREEMENT_FPS * stretch, freqs)
        return float(np.dot(motion, music))

    own = with_music(1.0)
    others = [with_music(s) for s in AGREEMENT_STRETCHES]
    return Agreement(agreement=own, stretched=others, margin=own - float(np.mean(others)))
