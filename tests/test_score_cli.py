"""`motiongen score`: JSON with the sanity verdict beside the metrics; clear errors for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from motiongen.data.synthetic import synth_motion
from tests.cli_helpers import error_line, run


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "walk.npz"
    synth_motion("walk", "normal", 4.0, fps=20, seed=0).save(path)
    return path


def test_score_json_has_sanity_beside_metrics(walk_file, monkeypatch, capsys):
    code, out, _ = run(["score", str(walk_file), "--json"], monkeypatch, capsys)
    assert code == 0
    result = json.loads(out)
    assert result["sanity"]["passed"] is True and result["sanity"]["reasons"] == []
    assert {"foot_skating_ratio", "pfc", "jerk_mps3"} <= set(result["physics"])
    assert result["music"] is None and "no audio" in result["music_note"]
    code, out, _ = run(["score", str(walk_file)], monkeypatch, capsys)
    # named as given: the stored name ("generated_0" for every seed 0) tells files apart badly
    assert code == 0 and "walk.npz" in out.replace("\n", "") and "synthetic_walk" not in out


def test_frozen_file_fails_with_reason(tmp_path, monkeypatch, capsys):
    m = synth_motion("idle", "normal", 2.0, fps=20, seed=0)
    path = tmp_path / "frozen.npy"
    np.save(path, np.repeat(m.positions[:1], 60, axis=0))
    code, out, _ = run(["score", str(path), "--json"], monkeypatch, capsys)
    assert code == 0
    sanity = json.loads(out)["sanity"]
    assert sanity["passed"] is False and sanity["reasons"][0].startswith("frozen")
    code, out, _ = run(["score", str(path)], monkeypatch, capsys)
    assert code == 0 and "failed" in out and "frozen" in out


def test_score_with_music(walk_file, tmp_path, monkeypatch, capsys):
    sr = 22050
    t = np.arange(int(5.0 * sr)) / sr
    y = (0.5 * np.sin(2 * np.pi * 440 * t) * (np.mod(t, 0.5) < 0.05)).astype(np.float32)
    audio = tmp_path / "beat.wav"
    sf.write(audio, y, sr)
    code, out, err = run(
        ["score", str(walk_file), "--json", "--music", str(audio)], monkeypatch, capsys
    )
    assert code == 0, err
    music = json.loads(out)["music"]
    assert 0.0 <= music["musicality"] <= 1.0 and music["music_beats"] > 3


def test_audio_shorter_than_motion_is_a_clear_error(walk_file, tmp_path, monkeypatch, capsys):
    short = tmp_path / "short.wav"
    sf.write(short, (0.3 * np.sin(np.arange(2 * 22050) * 0.2)).astype(np.float32), 22050)
    code, _, err = run(["score", str(walk_file), "--music", str(short)], monkeypatch, capsys)
    assert code != 0
    line = error_line(err)
    assert "2.00 s" in line and "4.00 s" in line


def test_wrong_joint_count_and_nan_are_clear_errors(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "j21.npy"
    np.save(bad, np.zeros((30, 21, 3), np.float32))
    code, _, err = run(["score", str(bad)], monkeypatch, capsys)
    assert code != 0 and "21 joints" in error_line(err)
    nan = np.zeros((30, 22, 3), np.float32)
    nan[5, 3, 0] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    code, _, err = run(["score", str(tmp_path / "nan.npy")], monkeypatch, capsys)
    assert code != 0 and "NaN" in error_line(err)
    code, _, err = run(
        ["score", str(tmp_path / "nan.npy"), "--music", "nope.wav"], monkeypatch, capsys
    )
    assert code != 0 and "nope.wav" in error_line(err)
