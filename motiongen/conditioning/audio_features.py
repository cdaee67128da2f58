"""Music and speech features on the motion's frame grid.

One row per motion frame k, describing the audio around time t_k = k / fps (motion frame 0
plays at audio time 0, i.e. at the offset the audio was loaded from). Layout of the
``FEATURE_DIM`` = 50 columns (``FEATURE_SLICES`` names them):

| columns | name        | what                                                            |
|---------|-------------|-----------------------------------------------------------------|
| 0:32    | logmel      | log-mel (32 bands, dB re. clip peak, floor -80), minus each      |
|         |             | band's clip mean, / 20                                          |
| 32      | onset       | onset strength (spectral flux of the log-mel), / clip max: [0,1] |
| 33      | energy      | RMS in dB re. clip peak, floor -80, mapped to [0, 1]             |
| 34:36   | beat_phase  | sin, cos of 2 pi x (phase within the current beat, 0 at a beat)  |
| 36      | beat        | 1 on the motion frame nearest each tracked beat, else 0          |
| 37      | tempo       | log2(tempo / 120 BPM), constant over the clip                    |
| 38:50   | chroma      | 12 pitch classes, each frame scaled to max 1                     |

Timing: audio is resampled to 22,050 Hz and analysed at a fine hop (a power of two, at most
half a motion frame and at most 256 samples = 11.6 ms: 256 at 20-30 fps, 128 at 60 fps). Each motion frame
then pools the fine frames whose centres fall in [t_k - 1/(2 fps), t_k + 1/(2 fps)): mean for
spectra, max for onsets, so a click is never missed between two samples. Beat phase and the
beat indicator are computed from the beat times directly at t_k, so they are exact at any
fps (no rounding of the hop to the frame rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motiongen.errors import InputError

FEATURE_SR = 22050
N_FFT = 2048
N_MELS = 32
N_CHROMA = 12
TOP_DB = 80.0
# RMS below -80 dBFS is silence, the same bound as ``motiongen.io.audio.load_audio``.
SILENCE_RMS = 1e-4
REFERENCE_BPM = 120.0

FEATURE_SLICES: dict[str, slice] = {
    "logmel": slice(0, N_MELS),
    "onset": slice(N_MELS, N_MELS + 1),
    "energy": slice(N_MELS + 1, N_MELS + 2),
    "beat_phase": slice(N_MELS + 2, N_MELS + 4),
    "beat": slice(N_MELS + 4, N_MELS + 5),
    "tempo": slice(N_MELS + 5, N_MELS + 6),
    "chroma": slice(N_MELS + 6, N_MELS + 6 + N_CHROMA),
}
FEATURE_DIM = N_MELS + 6 + N_CHROMA  # 50


@dataclass
class AudioFeatures:
    """Audio features on a motion frame grid.

    frames: (T, FEATURE_DIM) float32, layout in ``FEATURE_SLICES``.
    tempo_bpm: global tempo in beats per minute (0.0 when no beat was found).
    beat_times: (N,) float64 seconds from the start of the analysed audio.
    fps: frame rate of ``frames``.
    """

    frames: np.ndarray
    tempo_bpm: float
    beat_times: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def column(self, name: str) -> np.ndarray:
        """The columns of one feature group, e.g. ``column("beat")`` -> (T, 1)."""
        return self.frames[:, FEATURE_SLICES[name]]


def fine_hop(fps: float, sr: int = FEATURE_SR) -> int:
    """Analysis hop in samples: a power of two <= half a motion frame, 64..256.

    256 samples (11.6 ms) at 22,050 Hz bounds the onset/beat time quantisation well under a
    motion frame at 20-30 fps; higher frame rates get a finer hop so every frame pools at
    least two analysis frames.
    """
    hop = 2 ** int(math.floor(math.log2(sr / (2.0 * fps))))
    return int(min(max(hop, 64), 256))


def audio_features(
    y: np.ndarray, sr: int, fps: float, num_frames: int | None = None
) -> AudioFeatures:
    """Features of ``y`` for each of ``num_frames`` motion frames at ``fps``.

    y: (n,) mono or (channels, n) samples (averaged to mono).
    num_frames: rows wanted; default round(duration * fps). Frames past the end of the audio
        describe silence (the audio is zero-padded), so any length can be asked for.
    Raises ``InputError`` for empty, non-finite or silent audio and bad fps / num_frames.
    """
    import librosa

    y = _check_signal(y, sr)
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"motion frame rate must be a positive number, got {fps!r}")
    if sr != FEATURE_SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=FEATURE_SR, res_type="soxr_hq")
    sr = FEATURE_SR
    if num_frames is None:
        num_frames = max(1, int(round(len(y) / sr * fps)))
    if int(num_frames) != num_frames or num_frames < 1:
        raise InputError(f"num_frames must be a positive integer, got {num_frames!r}")
    num_frames = int(num_frames)
    hop = fine_hop(fps, sr)
    # Cover the last motion frame's whole window, in silence where the audio has ended.
    needed = int(math.ceil((num_frames - 0.5) / fps * sr)) + hop
    if len(y) < needed:
        y = np.pad(y, (0, needed - len(y)))

    power = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=hop)) ** 2  # (1 + N_FFT/2, n_fine)
    mel_db = librosa.power_to_db(
        librosa.feature.melspectrogram(S=power, sr=sr, n_mels=N_MELS), ref=np.max, top_db=TOP_DB
    )  # (N_MELS, n_fine)
    onset_env = librosa.onset.onset_strength(S=mel_db, sr=sr, n_fft=N_FFT, hop_length=hop)
    rms_db = librosa.amplitude_to_db(
        librosa.feature.rms(S=np.sqrt(power), frame_length=N_FFT, hop_length=hop)[0],
        ref=np.max,
        top_db=TOP_DB,
    )
    # tuning=0 (A440): estimating it costs a pitch track of the whole clip, ~40% of the run.
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, n_fft=N_FFT, hop_length=hop, tuning=0.0)
    tempo_raw, beat_times = librosa.beat.beat_track(
        onset_envelope=onset_env, sr=sr, hop_length=hop, units="time"
    )
    beat_times = np.asarray(beat_times, dtype=np.float64)
    tempo_bpm = _tempo(float(np.atleast_1d(tempo_raw)[0]), beat_times)

    times = np.arange(num_frames) / fps
    fine_bins = _fine_to_frame(mel_db.shape[1], hop / sr, fps, num_frames)
    logmel = _pool(mel_db.T, fine_bins, num_frames, "mean")
    logmel = (logmel - logmel.mean(axis=0, keepdims=True)) / 20.0
    onset = _pool(onset_env[:, None], fine_bins, num_frames, "max")
    onset = onset / onset.max() if onset.max() > 0 else onset
    energy = _pool(rms_db[:, None], fine_bins, num_frames, "mean") / TOP_DB + 1.0
    chroma_k = _pool(chroma.T, fine_bins, num_frames, "mean")
    chroma_k = chroma_k / np.maximum(chroma_k.max(axis=1, keepdims=True), 1e-8)
    phase, has_phase = _beat_phase(times, beat_times, tempo_bpm)
    angle = 2.0 * np.pi * phase
    beat_phase = np.stack([np.sin(angle), np.cos(angle)], axis=1) * has_phase
    beat = np.zeros((num_frames, 1))
    idx = np.round(beat_times * fps).astype(int)
    beat[idx[(idx >= 0) & (idx < num_frames)], 0] = 1.0
    tempo_col = np.full(
        (num_frames, 1), math.log2(tempo_bpm / REFERENCE_BPM) if tempo_bpm > 0 else 0.0
    )
    frames = np.concatenate(
        [logmel, onset, energy, beat_phase, beat, tempo_col, chroma_k], axis=1
    ).astype(np.float32)
    return AudioFeatures(frames=frames, tempo_bpm=tempo_bpm, beat_times=beat_times, fps=float(fps))


def features_from_file(
    path: str | Path,
    fps: float,
    offset: float = 0.0,
    seconds: float | None = None,
    *,
    num_frames: int | None = None,
) -> AudioFeatures:
    """Load ``seconds`` of audio from ``offset`` (whole file if None) and featurise it.

    With ``num_frames`` and no ``seconds``, exactly num_frames / fps seconds are read. Missing,
    unreadable or silent files raise the ``motiongen.io.audio.load_audio`` errors.
    """
    from motiongen.io.audio import load_audio

    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"motion frame rate must be a positive number, got {fps!r}")
    if seconds is None and num_frames is not None:
        seconds = num_frames / fps
    y, sr = load_audio(path, sr=FEATURE_SR, offset=offset, duration=seconds)
    return audio_features(y, sr, fps, num_frames=num_frames)


# The features of a song are the same every time it is danced to: a cache keyed by the
# file's content (not its name or date), its offset, length and frame rate. A bump of
# FEATURES_VERSION orphans old entries when the layout or the analysis changes.
FEATURES_VERSION = 1
CACHE_ENTRIES = 512
CACHE_ENV = "MOTIONGEN_AUDIO_CACHE"  # "0" turns the cache off


def file_digest(path: str | Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def cached_features_from_file(
    path: str | Path,
    fps: float,
    offset: float = 0.0,
    *,
    num_frames: int,
    folder: Path | None = None,
) -> AudioFeatures:
    """``features_from_file`` through an on-disk cache (``<cache>/audio-features``): a song
    seen before costs a hash of its bytes and one small read instead of decoding, resampling
    and librosa's analysis (and, in a fresh process, librosa's ~5 s of numba compilation)."""
    import os

    from motiongen.paths import cache_dir

    if os.environ.get(CACHE_ENV, "1") == "0" or not Path(path).is_file():
        return features_from_file(path, fps, offset, num_frames=num_frames)
    folder = folder or cache_dir() / "audio-features"
    key = f"{file_digest(path)[:32]}-{float(fps):g}-{float(offset):.6f}-{num_frames}-v{FEATURES_VERSION}"
    entry = folder / f"{key}.npz"
    if entry.is_file():
        try:
            with np.load(entry) as data:
                return AudioFeatures(
                    frames=data["frames"],
                    tempo_bpm=float(data["tempo_bpm"]),
                    beat_times=data["beat_times"],
                    fps=float(fps),
                )
        except (OSError, ValueError, KeyError):
            entry.unlink(missing_ok=True)  # a damaged entry is recomputed
    features = features_from_file(path, fps, offset, num_frames=num_frames)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{key}.{os.getpid()}.npz"
        np.savez(partial, frames=features.frames, tempo_bpm=features.tempo_bpm,
                 beat_times=features.beat_times)  # fmt: skip
        partial.replace(entry)
        _prune(folder)
    except OSError:
        pass  # a read-only cache only costs speed
    return features


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime)
    for stale in entries[: max(0, len(entries) - CACHE_ENTRIES)]:
        stale.unlink(missing_ok=True)


# ---- helpers ----------------------------------------------------------------------------
def _check_signal(y: np.ndarray, sr: int) -> np.ndarray:
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number):
        raise InputError(f"audio samples must be numbers, got dtype {y.dtype}")
    if y.ndim == 2:
        y = y.mean(axis=0)  # librosa's layout: (channels, samples)
    if y.ndim != 1:
        raise InputError(f"audio must be (samples,) or (channels, samples), got shape {y.shape}")
    if not (isinstance(sr, (int, np.integer)) and sr > 0):
        raise InputError(f"sample rate must be a positive integer, got {sr!r}")
    if y.size < 2:
        raise InputError("audio has no samples; give a non-empty recording")
    y = y.astype(np.float32)
    if not np.isfinite(y).all():
        raise InputError("audio contains NaN or infinite samples; re-encode the file")
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if rms < SILENCE_RMS:
        raise InputError(
            f"audio is silent (RMS {rms:.1e} < {SILENCE_RMS:g}); "
            "give a recording with audible music or speech"
        )
    return y


def _tempo(librosa_bpm: float, beat_times: np.ndarray) -> float:
    """Tempo from the median beat interval, which is finer than librosa's tempo bins."""
    if len(beat_times) >= 3:
        intervals = np.diff(beat_times)
        median = float(np.median(intervals))
        # Mean of the regular intervals: each beat time is quantised to the hop, and those
        # errors cancel along a run of beats (a median would keep one hop's error);
        # missed or doubled beats are left out.
        regular = intervals[np.abs(intervals - median) < 0.25 * median]
        if median > 0 and len(regular) > 0:
            return 60.0 / float(regular.mean())
    return librosa_bpm if np.isfinite(librosa_bpm) and librosa_bpm > 0 else 0.0


def _fine_to_frame(n_fine: int, fine_dt: float, fps: float, num_frames: int) -> np.ndarray:
    """Motion frame index of each fine frame (by its centre time); -1 past the last frame."""
    k = np.floor(np.arange(n_fine) * fine_dt * fps + 0.5).astype(np.int64)
    k[k >= num_frames] = -1
    return k


def _pool(values: np.ndarray, bins: np.ndarray, num_frames: int, how: str) -> np.ndarray:
    """(n_fine, F) -> (num_frames, F): mean or max over each motion frame's fine frames.

    ``bins`` is non-decreasing (fine frames are in time order), so each motion frame owns a
    contiguous run; a frame with no fine frame (only at very high fps) takes its nearest one.
    """
    keep = bins >= 0
    values, bins = values[keep], bins[keep]
    frames = np.arange(num_frames)
    starts = np.searchsorted(bins, frames, side="left")
    ends = np.searchsorted(bins, frames, side="right")
    counts = ends - starts
    if how == "mean":
        cums = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
        out = (cums[ends] - cums[starts]) / np.maximum(counts, 1)[:, None]
    else:
        out = np.zeros((num_frames, values.shape[1]))
        full = counts > 0
        # Runs of non-empty frames tile ``values`` exactly, so reduceat's last run is right.
        out[full] = np.maximum.reduceat(values, starts[full], axis=0)
    empty = counts == 0
    if empty.any():
        nearest = np.clip(np.searchsorted(bins, frames[empty]), 0, len(values) - 1)
        out[empty] = values[nearest]
    return out


def _beat_phase(
    times: np.ndarray, beats: np.ndarray, tempo_bpm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Phase in [0, 1) within the current beat at each time, and a (T, 1) validity flag.

    Between tracked beats the phase runs linearly from one beat to the next; before the first
    and after the last it continues at the tempo's period. No beats and no tempo: invalid.
    """
    valid = np.ones((len(times), 1))
    if len(beats) == 0 or tempo_bpm <= 0:
        return np.zeros(len(times)), valid * 0.0
    period = 60.0 / tempo_bpm
    phase = ((times - beats[0]) / period) % 1.0
    after = times >= beats[-1]
    phase[after] = ((times[after] - beats[-1]) / period) % 1.0
    if len(beats) >= 2:
        inside = (times >= beats[0]) & ~after
        i = np.searchsorted(beats, times[inside], side="right") - 1
        phase[inside] = (times[inside] - beats[i]) / (beats[i + 1] - beats[i])
    return phase, valid
