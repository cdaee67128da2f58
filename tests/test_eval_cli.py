"""`motiongen eval` and the evaluation loop: the real-data reference row, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motiongen.data.store import PreparedData
from motiongen.errors import InputError
from motiongen.eval.evaluator import (
    REAL_ROW,
    EvalCondition,
    _windows,
    check_set,
    split_conditions,
)
from motiongen.motion import Motion
from tests.cli_helpers import error_line, run


def test_windows_cover_long_clips_evenly():
    assert _windows(100, 196, 4) == [(0, 100)]
    assert _windows(300, 196, 1) == [(52, 196)]
    starts = [s for s, _ in _windows(1000, 196, 4)]
    assert starts[0] == 0 and starts[-1] == 1000 - 196 and len(starts) == 4


def test_split_conditions_match_their_real_windows(prepared_dir):
    data = PreparedData.open(prepared_dir)
    conds, real = split_conditions(data, "test")
    assert len(conds) == len(real) > 200
    for c, m in zip(conds, real, strict=True):
        assert m.num_frames == c.frames <= 196 and m.fps == 20.0
        if c.music is not None:  # dance: the window's music starts where its motion does
            assert m.audio is not None and m.audio.offset == pytest.approx(c.music_offset)
    assert any(c.music for c in conds) and not any(
        c.source == "dance" and not c.music for c in conds
    )
    # train clips never appear among the test conditions
    train = {r.name for r in data.select(split="train")}
    assert not train & {c.name for c in conds}


def _cond(i: int) -> EvalCondition:
    return EvalCondition(f"c{i}", "a person walks", "walk|", "x", 0, 40)


def test_check_set_names_the_fid_minimum_nans_and_joint_counts():
    ok = Motion(positions=np.zeros((40, 22, 3)), fps=20.0, name="ok")
    with pytest.raises(InputError, match="needs at least 129"):
        check_set([ok] * 10, [_cond(i) for i in range(10)], 128)
    nan = ok.positions.copy()
    nan[3, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        check_set([ok] * 4 + [_broken(nan)], [_cond(0)] * 5, 3)
    with pytest.raises(InputError, match=r"\(T, 22, 3\)"):
        check_set([ok] * 4 + [_broken(np.zeros((40, 24, 3)))], [_cond(0)] * 5, 3)
    with pytest.raises(InputError, match="4 motions for 5 conditions"):
        check_set([ok] * 4, [_cond(0)] * 5, 3)


def _broken(positions: np.ndarray) -> Motion:
    """A motion whose positions were changed after it was made (a generator bug)."""
    m = Motion(positions=np.zeros((40, 22, 3)), fps=20.0, name="broken")
    m.positions = positions
    return m


def test_eval_too_small_set_is_a_clear_error(prepared_dir, tmp_path, monkeypatch, capsys):
    args = ["eval", "--json", tmp_path / "e.json", "--limit", 10, "--prepared", prepared_dir]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1
    assert "needs at least 129" in error_line(err)
    code, _, err = run(
        ["eval", "--json", tmp_path / "e.json", "--split", "dev"], monkeypatch, capsys
    )
    assert code == 1 and "--split must be" in error_line(err)


@pytest.mark.slow
def test_eval_writes_metrics_reference_row_and_report(prepared_dir, tmp_path, monkeypatch, capsys):
    out = tmp_path / "eval.json"
    args = ["eval", "--json", out, "--limit", 140, "--prepared", prepared_dir, "--no-progress"]
    code, stdout, err = run(args, monkeypatch, capsys)
    assert code == 0, err
    result = json.loads(out.read_text())
    sets = result["sets"]
    assert list(sets)[0] == REAL_ROW and len(sets) == 2
    real, gen = sets[REAL_ROW], sets[list(sets)[1]]
    for row in (real, gen):
        assert row["n"] == 140
        assert len(row["r_precision"]) == 3 and row["r_precision"] == sorted(row["r_precision"])
        for key in ("fid", "matching_distance", "diversity", "fid_k", "fid_g"):
            assert np.isfinite(row[key]), key
        assert 0 <= row["sanity_pass_rate"] <= 1
        assert set(row["physics"]) >= {"foot_skating_ratio", "pfc", "bone_length_drift"}
    # held-out real motion is closer to the training clips than a model's (the shipped model
    # learned the real data, not this synthetic set; its text-space FID can come out close)
    assert real["fid_k"] < gen["fid_k"] and real["r_precision"][0] >= gen["r_precision"][0]
    assert gen["ms_per_sample"] > 0 and "ms_per_sample" not in real
    report = out.with_suffix(".md").read_text()
    assert REAL_ROW in report and "![embeddings]" in report
    assert (tmp_path / "eval_embeddings.png").stat().st_size > 10_000
    assert (tmp_path / "eval_examples.png").stat().st_size > 10_000 and "![examples]" in report
    assert REAL_ROW in stdout
