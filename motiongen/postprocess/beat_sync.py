"""Beat sync: retime a motion so its accents land on the music's beats, within a bound.

Motion accents are the moments a dancer "hits": local minima of the mean joint speed after a
deceleration (the kinematic beats of AIST++'s beat-align score), weighted by how sharp the
stop is. Music beats come from the audio features' beat tracker (librosa). Both become
Gaussian-blurred pulse trains on a 20 fps grid, and librosa's dynamic time warping aligns the
motion's to the music's with steps (1, 1), (4, 5) and (5, 4) (single horizontal or vertical
steps cost extra), after trying global tempo ratios within the bound; the local tempo
changes by at most 25 % (``max_stretch``, enforced on the smoothed map); the path is smoothed into a monotone time map and
the motion is resampled along it (linear interpolation of positions). The music is not
touched, so it can be muxed in as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.errors import InputError

GRID_FPS = 20.0
PULSE_SECONDS = 0.05
# Diagonal steps and 4:5 / 5:4 ones (a 25 % tempo change); lone horizontal or vertical steps
# only at a price, to let the path reach the corner (the bound is enforced on the smoothed map).
STEPS = np.array([[1, 1], [4, 5], [5, 4], [1, 0], [0, 1]])
STEP_PRICE = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
MAX_STRETCH = 1.25
MAX_SYNC_SECONDS = 180.0


@dataclass
class Retiming:
    positions: np.ndarray  # (T', 22, 3) at the input fps, on the music's clock
    time_map: np.ndarray  # (T',) motion time (s) shown at each output frame
    beats_hit: float  # share of music beats with a motion accent within 0.1 s, after
    beats_hit_before: float

    @property
    def improves(self) -> bool:
        """More beats get an accent than before: worth changing the motion's timing for."""
        return self.beats_hit > self.beats_hit_before


def motion_accents(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T,) accent strength: at local minima of mean joint speed, the speed drop before it."""
    speed = np.linalg.norm(np.diff(positions, axis=0), axis=-1).mean(axis=1) * fps
    speed = np.concatenate([speed[:1], speed])
    out = np.zeros(len(speed))
    w = max(1, int(round(0.15 * fps)))
    for t in range(1, len(speed) - 1):
        if speed[t] <= speed[t - 1] and speed[t] < speed[t + 1]:
            out[t] = max(0.0, speed[max(0, t - w) : t].max() - speed[t])
    peak = out.max()
    return out / peak if peak > 0 else out


def pulses(times: np.ndarray, length: int, weights: np.ndarray | None = None) -> np.ndarray:
    """A pulse train on the grid: Gaussian bumps of ``PULSE_SECONDS`` at ``times``."""
    t = np.arange(length) / GRID_FPS
    out = np.zeros(length)
    weights = np.ones(len(times)) if weights is None else weights
    for when, w in zip(times, weights, strict=True):
        out += w * np.exp(-0.5 * ((t - when) / PULSE_SECONDS) ** 2)
    return np.minimum(out, 1.0)


def hit_rate(accent_times: np.ndarray, beat_times: np.ndarray, within: float = 0.1) -> float:
    if len(beat_times) == 0:
        return 0.0
    if len(accent_times) == 0:
        return 0.0
    gaps = np.abs(beat_times[:, None] - accent_times[None, :]).min(axis=1)
    return float((gaps <= within).mean())


def accent_times(
    positions: np.ndarray, fps: float, floor: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    a = motion_accents(positions, fps)
    idx = np.flatnonzero(a >= floor)
    return idx / fps, a[idx]


def beat_sync(
    positions: np.ndarray, fps: float, beat_times: np.ndarray, *, max_stretch: float = MAX_STRETCH
) -> Retiming:
    """``positions`` (T, 22, 3) at ``fps`` retimed onto ``beat_times`` (s, from the motion's
    first frame), as long as the music it covers."""
    import librosa
    from scipy.ndimage import gaussian_filter1d

    if not 1.0 < max_stretch <= 2.0:
        raise InputError(f"max_stretch must be in (1, 2], got {max_stretch}")
    beats = np.asarray(beat_times, dtype=np.float64)
    duration = (len(positions) - 1) / fps
    beats = beats[(beats >= 0) & (beats <= duration * max_stretch)]
    if len(beats) < 4:
        raise InputError(
            f"beat sync needs at least 4 music beats over the motion, found {len(beats)}; is "
            "the music rhythmic and as long as the motion?"
        )
    if duration > MAX_SYNC_SECONDS:
        raise InputError(f"beat sync takes at most {MAX_SYNC_SECONDS:g} s of motion (its time "
                         f"warp is a dense dynamic program), got {duration:.0f} s")  # fmt: skip
    a_times, a_weights = accent_times(positions, fps)
    n_motion = int(duration * GRID_FPS) + 1
    motion_pulse = pulses(a_times, n_motion, a_weights)
    best = None
    # A global tempo ratio first (the motion may be played too fast or too slow as a whole),
    # then the warp within it; the ratio with the cheapest path per step wins. (Choosing the
    # ratio by matching accent and beat periodicities instead did worse on every measure of
    # benchmarks/beat_sync.py: dancers move at half or double the beat as often as on it.)
    for ratio in np.geomspace(1.0 / max_stretch, max_stretch, 9):
        n_music = max(8, int(round((n_motion - 1) / ratio)) + 1)
        music_pulse = pulses(beats, n_music)
        cost = (motion_pulse[:, None] - music_pulse[None, :]) ** 2
        try:
            total, path = librosa.sequence.dtw(C=cost, step_sizes_sigma=STEPS,
                                               weights_add=STEP_PRICE, global_constraints=True,
                                               band_rad=0.25)  # fmt: skip
        except librosa.util.exceptions.ParameterError:
            continue
        score = float(total[-1, -1]) / len(path)
        if np.isfinite(score) and (best is None or score < best[0]):
            best = (score, path, n_music)
    if best is None:
        raise InputError("beat sync found no alignment within the tempo bound")
    _, path, n_music = best
    path = path[::-1].astype(np.float64) / GRID_FPS  # (motion time, music time), increasing
    music_t, first = np.unique(path[:, 1], return_index=True)
    motion_t = path[first, 0]
    grid = np.arange(n_music) / GRID_FPS
    mapped = gaussian_filter1d(np.interp(grid, music_t, motion_t), sigma=2.0, mode="nearest")
    # The bound: local slope (motion seconds per music second) within [1/max, max].
    slope = np.clip(np.diff(mapped) * GRID_FPS, 1.0 / max_stretch, max_stretch)
    mapped = np.clip(np.concatenate([[0.0], np.cumsum(slope) / GRID_FPS]), 0.0, duration)
    out_t = np.arange(int(round(grid[-1] * fps)) + 1) / fps
    source_t = np.interp(out_t, grid, mapped)
    idx = source_t * fps
    lo = np.clip(np.floor(idx).astype(int), 0, len(positions) - 1)
    hi = np.clip(lo + 1, 0, len(positions) - 1)
    w = (idx - lo)[:, None, None]
    retimed = positions[lo] * (1 - w) + positions[hi] * w
    before = hit_rate(a_times, beats[beats <= duration])
    after_times, _ = accent_times(retimed, fps)
    return Retiming(positions=retimed, time_map=source_t,
                    beats_hit=hit_rate(after_times, beats[beats <= out_t[-1]]),
                    beats_hit_before=before)  # fmt: skip
