"""Audio input: samples, durations and the errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.io.audio import audio_duration, check_audio, load_audio


def _sine(path: Path, seconds: float = 2.0, sr: int = 16000, freq: float = 440.0, channels=1):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    if channels == 2:
        y = np.stack([y, y], axis=1)
    sf.write(str(path), y, sr)
    return path


@pytest.mark.parametrize("ext", ["wav", "ogg", "flac"])
def test_load_sine_resamples_to_requested_rate(tmp_path, ext):
    path = _sine(tmp_path / f"sine.{ext}")
    y, sr = load_audio(path, sr=22050)
    assert sr == 22050
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 2 * 22050) <= 2
    # a 0.5-amplitude sine has RMS 0.5 / sqrt(2); lossy OGG stays within a few percent
    assert np.sqrt(np.mean(y**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.fft.rfftfreq(len(y), 1 / sr)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_stereo_is_mixed_to_mono(tmp_path):
    y, _ = load_audio(_sine(tmp_path / "st.wav", channels=2), sr=16000)
    assert y.ndim == 1 and len(y) == 32000


def test_offset_and_duration_cut_the_right_span(tmp_path):
    sr = 8000
    y = np.zeros(3 * sr)
    y[sr : 2 * sr] = 0.3  # only the middle second is loud
    sf.write(str(tmp_path / "step.wav"), y, sr)
    part, _ = load_audio(tmp_path / "step.wav", sr=sr, offset=1.0, duration=0.5)
    assert len(part) == sr // 2
    np.testing.assert_allclose(part, 0.3, atol=1e-4)


def test_audio_duration_from_header(tmp_path):
    assert audio_duration(_sine(tmp_path / "a.wav", seconds=1.25)) == pytest.approx(1.25)
    assert audio_duration(_sine(tmp_path / "a.ogg", seconds=1.25)) == pytest.approx(1.25, abs=0.01)


def test_check_audio_accepts_music_and_reports_facts(tmp_path):
    info = check_audio(_sine(tmp_path / "a.flac", seconds=1.5, sr=16000))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 24000)
    assert info.duration == pytest.approx(1.5)


def test_missing_file(tmp_path):
    for fn in (load_audio, audio_duration, check_audio):
        with pytest.raises(DataNotFoundError, match="no such audio file"):
            fn(tmp_path / "nope.wav")


@pytest.mark.parametrize("name", ["junk.wav", "junk.ogg", "junk.mp3", "junk.bin"])
def test_garbage_bytes_are_a_format_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    for fn in (load_audio, check_audio, audio_duration):
        with pytest.raises(FormatError, match=r"cannot read audio .*WAV/OGG/FLAC/MP3"):
            fn(path)


def test_zero_length_file(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0), 22050)
    for fn in (load_audio, check_audio):
        with pytest.raises(InputError, match="no samples"):
            fn(path)


def test_silent_file(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(str(path), np.full(22050, 1e-6), 22050)
    for fn in (load_audio, check_audio):
        with pytest.raises(InputError, match="silent"):
            fn(path)


def test_silent_span_of_a_loud_file(tmp_path):
    sr = 8000
    y = np.zeros(2 * sr)
    y[:sr] = 0.2
    sf.write(str(tmp_path / "half.wav"), y, sr)
    check_audio(tmp_path / "half.wav")  # the file as a whole is fine
    with pytest.raises(InputError, match="silent"):
        load_audio(tmp_path / "half.wav", sr=sr, offset=1.0)


def test_bad_arguments(tmp_path):
    path = _sine(tmp_path / "a.wav", seconds=1.0)
    with pytest.raises(InputError, match="past the end"):
        load_audio(path, offset=5.0)
    with pytest.raises(InputError, match="offset"):
        load_audio(path, offset=-1.0)
    with pytest.raises(InputError, match="duration"):
        load_audio(path, duration=0.0)
    with pytest.raises(InputError, match="folder"):
        load_audio(tmp_path)


def test_float_samples_past_full_scale_are_clipped_or_refused(tmp_path):
    t = np.arange(16000) / 16000
    y = 0.5 * np.sin(2 * np.pi * 440 * t)
    y[100:110] = 1e30  # a few broken samples: clipped, as a player would
    y[2000:4000] *= 3.4  # and a hot master's 13 % of samples up to 1.7
    sf.write(str(tmp_path / "spiky.wav"), y, 16000, subtype="FLOAT")
    out, _ = load_audio(tmp_path / "spiky.wav", sr=16000)
    assert np.isfinite(out).all() and np.abs(out).max() <= 1.0
    sf.write(str(tmp_path / "scaled.wav"), y * 1000, 16000, subtype="FLOAT")
    with pytest.raises(FormatError, match="beyond 10"):
        load_audio(tmp_path / "scaled.wav")
    with pytest.raises(FormatError, match="beyond 10"):  # the upload check says so too
        check_audio(tmp_path / "scaled.wav")


def test_garbage_mp3_is_not_said_missing_and_its_decoder_warnings_are_held_back(tmp_path, capfd):
    path = tmp_path / "random.mp3"
    path.write_bytes(np.random.default_rng(1).bytes(50_000))
    with pytest.raises(FormatError) as err:
        load_audio(path)
    assert "does not exist" not in str(err.value) and "not a sound file" in str(err.value)
    assert "libmpg123" not in capfd.readouterr().err


def test_an_mp3_cut_short_is_refused_beyond_what_it_holds(tmp_path):
    whole = tmp_path / "whole.mp3"
    t = np.arange(6 * 22050) / 22050
    sf.write(str(whole), 0.3 * np.sin(2 * np.pi * 440 * t), 22050, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert audio_duration(cut) > 5.5  # the header still says the whole length
    from motiongen.io.audio import decoded_duration

    assert 2.0 < decoded_duration(cut) < 4.0 and decoded_duration(whole) == pytest.approx(
        6.0, abs=0.1
    )
    with pytest.raises(FormatError, match="cut short or damaged"):
        load_audio(cut)
    y, sr = load_audio(cut, duration=2.0)  # what it holds is read as before
    assert len(y) == pytest.approx(2 * sr, abs=2)
    load_audio(whole)


def test_overlapping_readers_leave_stderr_as_it_was():
    """Two threads reading audio at once (a service): the first out must not put fd 2 back on
    the other's held copy (it had left fd 2 on a deleted file for good)."""
    import os
    import threading
    import time

    from motiongen.io import audio

    before = os.readlink("/proc/self/fd/2") if os.path.exists("/proc/self/fd/2") else None

    def slow():
        with audio._decoder_quiet():
            time.sleep(0.2)

    with audio._decoder_quiet():
        other = threading.Thread(target=slow)
        other.start()
        time.sleep(0.05)
    other.join()
    if before is not None:
        assert os.readlink("/proc/self/fd/2") == before
    assert audio._quiet_state is None and audio._quiet_depth == 0
