"""How the dance motions line up with their songs: offset, frame rate, beat locking.

Run:  .venv/bin/python benchmarks/dance_alignment.py [--songs DANCE_W_1 ...]

For every DANCE_* folder it prints one row and then a summary (docs/dance-alignment.md quotes
it). Signals: motion = mean joint speed of the 23 raw points in the world frame (m/s, 25 fps),
kinematic beats = its local minima; music = librosa onset strength (10 ms hop) and beats.

Columns
  bpm        librosa tempo of the song section the dance covers
  fps*       frame rate at which the motion's dominant rhythm matches the music's metre:
             25 * f_music * ratio / f_motion, ratio the metric ratio (1/4..3) that best explains
             the motion's spectral peak; 25 means the README's frame rate is right
  pow        relative power of that motion peak (1.0 = it is the strongest rhythm in 0.35-4 Hz)
  plv25 / plvT / plv*   phase locking of kinematic beats to music beats (0 = none, 1 = all at
             one phase) at 25 fps, at 25*T/(b-a) fps, and at fps*; chance level is sqrt(pi/4n)
  d_off      offset change (s) from a/25 that maximises the correlation of onset strength
             with motion speed (scan +-2 s, 10 ms steps), with r at that point and at 0 and
             z = (r_best - mean) / std over the scan (z ~ 2.5-3 is what noise gives)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import fftconvolve, find_peaks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from motiongen.data.dance import DANCE_FPS, RawDance, raw_to_world, read_dance_raw  # noqa: E402
from motiongen.io.audio import load_audio  # noqa: E402
from motiongen.paths import data_dir  # noqa: E402

SR = 22050
HOP = 220  # ~10 ms onset frames
EFS = SR / HOP
SCAN_S = 2.0
STEP_S = 0.01
RATIOS = (1 / 4, 1 / 3, 1 / 2, 2 / 3, 1.0, 3 / 2, 2.0, 3.0)


@dataclass
class SongResult:
    name: str
    frames: int
    bpm: float
    fps_star: float
    power: float
    plv25: float
    plv_t: float
    plv_star: float
    chance: float
    d_off: float
    r_best: float
    r0: float
    z: float
    curve: np.ndarray  # correlation vs offset change, for the pooled curve


def _z(x: np.ndarray) -> np.ndarray:
    x = x - x.mean()
    return x / (x.std() + 1e-12)


def _spectrum(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    n = 1 << 21  # zero padding: peak positions to ~1e-4 Hz (resolution is still 1/duration)
    power = np.abs(np.fft.rfft(_z(x) * np.hanning(len(x)), n)) ** 2
    return np.fft.rfftfreq(n, 1 / fs), power


def _peak_near(freq, power, f0, tol):
    band = (freq > f0 * (1 - tol)) & (freq < f0 * (1 + tol))
    i = int(np.argmax(np.where(band, power, -1.0)))
    ref = power[(freq > 0.35) & (freq < 4.0)].max()
    return float(freq[i]), float(power[i] / ref)


def _plv(times: np.ndarray, beats: np.ndarray) -> float:
    k = np.searchsorted(beats, times) - 1
    ok = (k >= 0) & (k < len(beats) - 1)
    k = k[ok]
    phase = (times[ok] - beats[k]) / (beats[k + 1] - beats[k])
    return float(np.abs(np.mean(np.exp(2j * np.pi * phase)))) if len(phase) else 0.0


def _offset_scan(env: np.ndarray, speed: np.ndarray, start_s: float, fps: float) -> np.ndarray:
    """Pearson r of onset strength vs motion speed for offsets start_s + [-SCAN_S, SCAN_S]."""
    t_motion = np.arange(0, (len(speed) - 1) / fps, 1 / EFS)
    m = _z(np.interp(t_motion * fps, np.arange(len(speed)), speed))
    n = len(m)
    cc = fftconvolve(env, m[::-1], mode="valid")  # cc[k] = sum_j env[k + j] m[j]
    c1 = np.concatenate([[0.0], np.cumsum(env)])
    c2 = np.concatenate([[0.0], np.cumsum(env**2)])
    deltas = np.arange(-SCAN_S, SCAN_S + STEP_S / 2, STEP_S)
    k = np.round((start_s + deltas) * EFS).astype(int)
    valid = (k >= 0) & (k < len(cc))
    kc = np.clip(k, 0, len(cc) - 1)
    mu = (c1[kc + n] - c1[kc]) / n
    sd = np.sqrt(np.maximum((c2[kc + n] - c2[kc]) / n - mu**2, 1e-12))
    r = cc[kc] / n / sd  # m has zero mean and unit std
    return np.where(valid, r, np.nan)


def analyse(raw: RawDance) -> SongResult:
    import librosa

    world = raw_to_world(raw)
    speed = np.linalg.norm(np.gradient(world, axis=0), axis=-1).mean(axis=1) * DANCE_FPS
    smooth = gaussian_filter1d(speed, 1.0)
    kin_beats, _ = find_peaks(-smooth, distance=5)
    y, _ = load_audio(raw.folder / "audio.ogg", sr=SR)
    env = librosa.onset.onset_strength(y=y, sr=SR, hop_length=HOP)
    _, beat_frames = librosa.beat.beat_track(onset_envelope=env, sr=SR, hop_length=HOP)
    beats = librosa.frames_to_time(beat_frames, sr=SR, hop_length=HOP)
    start = raw.start / DANCE_FPS
    seg = env[int(start * EFS) : int((start + raw.num_frames / DANCE_FPS) * EFS)]
    bpm = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=seg, sr=SR, hop_length=HOP))[0])

    # frame-rate check: the motion's strongest rhythm against the music's metre
    f_freq, f_pow = _spectrum(seg, EFS)
    f_beat, _ = _peak_near(f_freq, f_pow, bpm / 60, 0.1)
    best = (-1.0, 25.0)
    for signal in (speed, np.gradient(world[:, 2, 1])):  # all joints' speed, pelvis rise/fall
        m_freq, m_pow = _spectrum(signal, DANCE_FPS)
        for ratio in RATIOS:
            target = f_beat * ratio
            if 0.35 < target < 4.0:
                f_mot, power = _peak_near(m_freq, m_pow, target, 0.05)
                if power > best[0]:
                    best = (power, DANCE_FPS * target / f_mot)
    power, fps_star = best

    fps_t = DANCE_FPS * raw.num_frames / (raw.end - raw.start)
    curve = _offset_scan(gaussian_filter1d(env, 3.0), smooth, start, DANCE_FPS)
    i = int(np.nanargmax(curve))
    mid = len(curve) // 2
    return SongResult(
        name=raw.folder.name,
        frames=raw.num_frames,
        bpm=bpm,
        fps_star=fps_star,
        power=power,
        plv25=_plv(start + kin_beats / DANCE_FPS, beats),
        plv_t=_plv(start + kin_beats / fps_t, beats),
        plv_star=_plv(start + kin_beats / fps_star, beats),
        chance=float(np.sqrt(np.pi / (4 * max(len(kin_beats), 1)))),
        d_off=(i - mid) * STEP_S,
        r_best=float(curve[i]),
        r0=float(curve[mid]),
        z=float((curve[i] - np.nanmean(curve)) / np.nanstd(curve)),
        curve=curve,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=data_dir() / "dance")
    parser.add_argument("--songs", nargs="*", help="folder names (default: all)")
    args = parser.parse_args(argv)
    folders = sorted(p for p in args.root.glob("DANCE_*") if p.is_dir())
    if args.songs:
        folders = [f for f in folders if f.name in set(args.songs)]
    t0 = time.perf_counter()
    results = []
    print(
        f"{'song':<11} {'T':>5} {'bpm':>6} {'fps*':>6} {'pow':>4} {'plv25':>6} {'plvT':>5} "
        f"{'plv*':>5} {'chance':>6} {'d_off':>6} {'r_best':>6} {'r0':>6} {'z':>5}"
    )
    for folder in folders:
        r = analyse(read_dance_raw(folder))
        results.append(r)
        print(
            f"{r.name:<11} {r.frames:>5} {r.bpm:>6.1f} {r.fps_star:>6.2f} {r.power:>4.2f} "
            f"{r.plv25:>6.2f} {r.plv_t:>5.2f} {r.plv_star:>5.2f} {r.chance:>6.2f} "
            f"{r.d_off:>+6.2f} {r.r_best:>6.3f} {r.r0:>6.3f} {r.z:>5.2f}",
            flush=True,
        )
    if not results:
        print("no DANCE_* folders found")
        return 1
    fps = np.array([r.fps_star for r in results])
    clean = np.array([r.fps_star for r in results if r.power > 0.99])
    plv = {k: np.array([getattr(r, k) for r in results]) for k in ("plv25", "plv_t", "plv_star")}
    chance = np.array([r.chance for r in results])
    d_off = np.array([r.d_off for r in results])
    pooled = np.nanmean(np.stack([r.curve for r in results]), axis=0)
    mid = len(pooled) // 2
    ip = int(np.nanargmax(pooled))
    print()
    print(f"songs: {len(results)}, frames: {sum(r.frames for r in results)}")
    print(
        f"fps* (motion rhythm vs music metre): median {np.median(fps):.2f}, "
        f"IQR {np.percentile(fps, 25):.2f}-{np.percentile(fps, 75):.2f}; songs whose motion "
        f"rhythm is clean (pow = 1): n={len(clean)}, median {np.median(clean):.2f}, "
        f"IQR {np.percentile(clean, 25):.2f}-{np.percentile(clean, 75):.2f}"
    )
    print(
        "phase locking, mean over songs: "
        + ", ".join(f"{k} {v.mean():.3f}" for k, v in plv.items())
        + f"; chance {chance.mean():.3f}; songs above 2x chance at 25 fps: "
        f"{int(np.sum(plv['plv25'] > 2 * chance))}/{len(results)}"
    )
    print(
        f"best offset change per song: median {np.median(d_off):+.2f} s, "
        f"|d| < 0.1 s in {int(np.sum(np.abs(d_off) < 0.1))}/{len(results)} songs, "
        f"median z {np.median([r.z for r in results]):.2f}"
    )
    print(
        f"pooled correlation curve: peak at {(ip - mid) * STEP_S:+.2f} s (r {pooled[ip]:.3f}), "
        f"r at 0: {pooled[mid]:.3f}, curve mean {np.nanmean(pooled):.3f} std "
        f"{np.nanstd(pooled):.3f}; r at +-0.25 s: {pooled[mid - 25]:.3f} / {pooled[mid + 25]:.3f}"
    )
    print(f"time: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
