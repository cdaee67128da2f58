"""Audio features on the motion frame grid: a synthetic click track with known beats, errors,
and the shared music and speech recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motiongen.conditioning.audio_features import (
    FEATURE_DIM,
    FEATURE_SLICES,
    AudioFeatures,
    audio_features,
    features_from_file,
    fine_hop,
)
from motiongen.errors import DataNotFoundError, InputError

SR = 22050
FPS = 20.0
SECONDS = 10.0
CLICKS = np.arange(0.25, SECONDS, 0.5)  # 120 BPM


def click_track(seconds: float = SECONDS, sr: int = SR) -> np.ndarray:
    """Short 1 kHz pings (2 ms decay) every 0.5 s from 0.25 s, over a quiet noise floor."""
    rng = np.random.default_rng(0)
    y = (1e-3 * rng.standard_normal(int(seconds * sr))).astype(np.float32)
    n = np.arange(200)
    ping = (0.8 * np.sin(2 * np.pi * 1000 * n / sr) * np.exp(-n / 40)).astype(np.float32)
    for t in CLICKS[seconds > CLICKS]:
        i = int(round(t * sr))
        y[i : i + len(ping)] += ping[: len(y) - i]
    return y


@pytest.fixture(scope="module")
def clicks() -> AudioFeatures:
    return audio_features(click_track(), SR, FPS)


def test_layout_is_consistent() -> None:
    covered = np.zeros(FEATURE_DIM, dtype=int)
    for sl in FEATURE_SLICES.values():
        covered[sl] += 1
    assert FEATURE_DIM == 50 and np.all(covered == 1)


def test_click_track_tempo_and_beats(clicks: AudioFeatures) -> None:
    assert clicks.frames.shape == (int(SECONDS * FPS), FEATURE_DIM)
    assert clicks.frames.dtype == np.float32 and np.isfinite(clicks.frames).all()
    assert clicks.tempo_bpm == pytest.approx(120.0, rel=0.02)
    click_frames = np.round(CLICKS * FPS).astype(int)
    beat_frames = np.flatnonzero(clicks.column("beat")[:, 0] == 1)
    # Every detected beat sits on a click, within one motion frame ...
    assert len(beat_frames) >= 0.8 * len(CLICKS)
    assert np.abs(beat_frames[:, None] - click_frames[None]).min(axis=1).max() <= 1
    # ... and beat times themselves are within 25 ms (half a frame) of a click.
    assert np.abs(clicks.beat_times[:, None] - CLICKS[None]).min(axis=1).max() < 0.025
    assert set(np.unique(clicks.column("beat"))) <= {0.0, 1.0}


def test_click_track_onsets_peak_at_the_clicks(clicks: AudioFeatures) -> None:
    onset = clicks.column("onset")[:, 0]
    assert onset.max() == pytest.approx(1.0) and onset.min() >= 0
    click_frames = np.round(CLICKS * FPS).astype(int)
    strong = np.flatnonzero(onset > 0.5)
    assert np.abs(strong[:, None] - click_frames[None]).min(axis=1).max() <= 1
    assert onset[click_frames].mean() > 5 * np.median(onset)


def test_beat_phase_is_a_unit_circle_starting_at_each_beat(clicks: AudioFeatures) -> None:
    sin, cos = clicks.column("beat_phase").T
    np.testing.assert_allclose(sin**2 + cos**2, 1.0, atol=1e-5)
    beat_frames = np.flatnonzero(clicks.column("beat")[:, 0] == 1)
    # At 120 BPM one motion frame is 1/10 of a beat: on a beat frame the phase is near 0.
    assert np.all(cos[beat_frames] > np.cos(2 * np.pi * 0.1) - 1e-3)
    # Half a beat (5 frames) later it is near 0.5.
    mid = beat_frames[beat_frames + 5 < len(cos)] + 5
    assert np.all(cos[mid] < -0.8)


def test_tempo_column_is_log2_of_tempo_over_120(clicks: AudioFeatures) -> None:
    col = clicks.column("tempo")[:, 0]
    np.testing.assert_allclose(col, np.log2(clicks.tempo_bpm / 120.0), atol=1e-6)


def test_requested_frame_count_including_past_the_end() -> None:
    y = click_track(4.0)
    for n in (1, 37, 80, 150):
        feats = audio_features(y, SR, FPS, num_frames=n)
        assert feats.frames.shape == (n, FEATURE_DIM)
        assert np.isfinite(feats.frames).all()
    long = audio_features(y, SR, FPS, num_frames=150)  # 7.5 s asked of 4 s of audio
    energy = long.column("energy")[:, 0]
    # Past the end is silence: the clip's lowest energy, far below the clicks.
    np.testing.assert_allclose(energy[100:], energy.min(), atol=1e-3)
    assert energy[:80].max() > energy[100:].max() + 0.3


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0, 29.97])
def test_other_frame_rates(fps: float) -> None:
    feats = audio_features(click_track(4.0), SR, fps)
    assert feats.frames.shape == (round(4.0 * fps), FEATURE_DIM)
    beats = np.flatnonzero(feats.column("beat")[:, 0] == 1)
    click_frames = np.round(CLICKS[CLICKS < 4.0] * fps).astype(int)
    assert np.abs(beats[:, None] - click_frames[None]).min(axis=1).max() <= 1
    assert fine_hop(fps) <= SR / (2 * fps)


def test_other_sample_rate_and_stereo() -> None:
    y = click_track(4.0)
    stereo = np.stack([y, 0.5 * y])
    a = audio_features(stereo, SR, FPS)
    assert a.frames.shape == (80, FEATURE_DIM)
    import librosa

    y16 = librosa.resample(y, orig_sr=SR, target_sr=16000)
    b = audio_features(y16, 16000, FPS)
    assert b.frames.shape == (80, FEATURE_DIM)
    assert np.array_equal(a.column("beat"), b.column("beat"))


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.zeros(SR, dtype=np.float32), "silent"),
        (np.full(SR, 1e-6, dtype=np.float32), "silent"),
        (np.zeros(0, dtype=np.float32), "no samples"),
        (np.array([0.1, np.nan] * 1000, dtype=np.float32), "NaN"),
        (np.zeros((2, 2, 10)), "shape"),
    ],
)
def test_bad_signals(y: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        audio_features(y, SR, FPS)


def test_bad_arguments() -> None:
    y = click_track(1.0)
    with pytest.raises(InputError, match="frame rate"):
        audio_features(y, SR, 0.0)
    with pytest.raises(InputError, match="num_frames"):
        audio_features(y, SR, FPS, num_frames=0)
    with pytest.raises(InputError, match="sample rate"):
        audio_features(y, 0, FPS)


def test_features_from_file(tmp_path: Path) -> None:
    path = tmp_path / "clicks.wav"
    sf.write(path, click_track(6.0), SR)
    whole = features_from_file(path, FPS)
    assert whole.frames.shape == (120, FEATURE_DIM)
    part = features_from_file(path, FPS, offset=2.0, num_frames=40)
    assert part.frames.shape == (40, FEATURE_DIM)
    # Clicks at 2.25, 2.75 ... s are at 0.25, 0.75 ... s of the excerpt.
    beats = np.flatnonzero(part.column("beat")[:, 0] == 1)
    assert len(beats) and np.all(np.isin(beats % 10, [4, 5, 6]))
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, dtype=np.float32), SR)
    with pytest.raises(InputError, match="silent"):
        features_from_file(silent, FPS)
    with pytest.raises(DataNotFoundError):
        features_from_file(tmp_path / "missing.wav", FPS)


# ---- real recordings --------------------------------------------------------------------
def _recordings(data_root: Path, folder: str) -> list[Path]:
    files = sorted((data_root / folder).glob("*.ogg"))
    if not files:
        pytest.skip(f"no recordings in {data_root / folder}")
    return files


@pytest.mark.realdata
def test_shared_music_gives_finite_features(data_root: Path) -> None:
    for path in _recordings(data_root, "music"):
        feats = features_from_file(path, FPS, seconds=20.0)
        assert feats.frames.shape[1] == FEATURE_DIM and feats.num_frames > 50, path.name
        assert np.isfinite(feats.frames).all(), path.name
        assert 40.0 < feats.tempo_bpm < 260.0, path.name
        assert len(feats.beat_times) >= 3, path.name
        assert feats.column("energy").std() > 0.01, path.name


@pytest.mark.realdata
def test_shared_speech_gives_onsets_and_energy(data_root: Path) -> None:
    for path in _recordings(data_root, "speech"):
        feats = features_from_file(path, FPS)
        assert np.isfinite(feats.frames).all(), path.name
        onset = feats.column("onset")[:, 0]
        energy = feats.column("energy")[:, 0]
        # Syllables give many separate onsets; pauses give low-energy frames.
        peaks = np.flatnonzero(
            (onset[1:-1] > 0.3) & (onset[1:-1] >= onset[:-2]) & (onset[1:-1] >= onset[2:])
        )
        assert len(peaks) > feats.num_frames / FPS, path.name  # more than one per second
        assert energy.max() - np.percentile(energy, 5) > 0.3, path.name


def test_feature_cache_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module = importlib.import_module("motiongen.conditioning.audio_features")

    song = tmp_path / "clicks.wav"
    sf.write(song, click_track(4.0), SR)
    folder = tmp_path / "cache"
    first = module.cached_features_from_file(song, FPS, 1.0, num_frames=40, folder=folder)
    direct = features_from_file(song, FPS, 1.0, num_frames=40)
    np.testing.assert_array_equal(first.frames, direct.frames)
    assert len(list(folder.glob("*.npz"))) == 1

    def no_analysis(*args, **kwargs):
        raise AssertionError("the cached song was analysed again")

    monkeypatch.setattr(module, "features_from_file", no_analysis)
    # Same bytes under another name: a hit; the beats and tempo come back too.
    twin = tmp_path / "renamed.wav"
    twin.write_bytes(song.read_bytes())
    hit = module.cached_features_from_file(twin, FPS, 1.0, num_frames=40, folder=folder)
    np.testing.assert_array_equal(hit.frames, first.frames)
    np.testing.assert_array_equal(hit.beat_times, first.beat_times)
    assert hit.tempo_bpm == first.tempo_bpm
    monkeypatch.undo()
    # Another offset, or other bytes, is another entry; a damaged entry is recomputed.
    module.cached_features_from_file(song, FPS, 0.0, num_frames=40, folder=folder)
    assert len(list(folder.glob("*.npz"))) == 2
    for entry in folder.glob("*.npz"):
        entry.write_bytes(b"not an npz")
    again = module.cached_features_from_file(song, FPS, 1.0, num_frames=40, folder=folder)
    np.testing.assert_array_equal(again.frames, first.frames)
    # Off by environment: nothing is written.
    monkeypatch.setenv(module.CACHE_ENV, "0")
    other = tmp_path / "off"
    module.cached_features_from_file(song, FPS, 1.0, num_frames=40, folder=other)
    assert not other.exists()
