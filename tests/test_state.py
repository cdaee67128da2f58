"""Resumable training state: the rolling pair, manifests, and kills during a save."""

from __future__ import annotations

import json

import pytest
import torch

from motiongen.errors import FormatError
from motiongen.train import state as state_module
from motiongen.train.state import find_state, load_state, save_state


def _save(run_dir, step: int):
    model = {"w": torch.full((4, 4), float(step))}
    opt = {"state": {0: {"exp_avg": torch.zeros(4, 4), "step": torch.tensor(step)}},
           "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.99), "params": [0]}]}  # fmt: skip
    return save_state(run_dir, model=model, ema=None, optimizer=opt,
                      rng={"g": torch.zeros(3, dtype=torch.uint8)}, meta={"step": step})  # fmt: skip


def test_saves_keep_the_newest_pair(tmp_path):
    for step in (10, 20, 30):
        _save(tmp_path, step)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last", "prev"]
    assert json.loads((tmp_path / "last" / "state.json").read_text())["step"] == 30
    assert json.loads((tmp_path / "prev" / "state.json").read_text())["step"] == 20
    assert (tmp_path / "last" / "manifest.json").is_file()
    assert find_state(tmp_path) == tmp_path / "last"
    assert float(load_state(find_state(tmp_path))["model"]["w"][0, 0]) == 30.0


def test_a_kill_during_a_save_falls_back_to_the_previous_save(tmp_path, monkeypatch):
    _save(tmp_path, 10)
    _save(tmp_path, 20)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies while writing the new state's files

    monkeypatch.setattr(state_module, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, 30)
    monkeypatch.undo()
    assert (tmp_path / "last.tmp").is_dir()  # the half-written save is ignored
    assert find_state(tmp_path) == tmp_path / "last"
    assert float(load_state(find_state(tmp_path))["model"]["w"][0, 0]) == 20.0
    _save(tmp_path, 40)  # the next save cleans up and rotates as usual
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last", "prev"]


def test_a_kill_between_rotation_steps_keeps_the_complete_new_save(tmp_path, monkeypatch):
    _save(tmp_path, 10)
    _save(tmp_path, 20)
    monkeypatch.setattr(state_module, "_rotate", lambda run_dir: None)  # killed before it
    _save(tmp_path, 30)
    monkeypatch.undo()
    assert find_state(tmp_path) == tmp_path / "last.tmp"  # complete and newest
    _save(tmp_path, 40)  # the complete save is rotated in, not thrown away
    assert json.loads((tmp_path / "prev" / "state.json").read_text())["step"] == 30


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_newest_state_is_skipped_for_the_previous_one(tmp_path, damage):
    _save(tmp_path, 10)
    _save(tmp_path, 20)
    weights = tmp_path / "last" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    if damage == "flip":
        data[-1] ^= 0x01  # still a finite number: only the manifest can tell
        weights.write_bytes(bytes(data))
    elif damage == "truncate":
        weights.write_bytes(bytes(data[: len(data) // 2]))
    else:
        weights.unlink()
    assert find_state(tmp_path) == tmp_path / "prev"
    assert float(load_state(find_state(tmp_path))["model"]["w"][0, 0]) == 10.0


def test_both_damaged_means_no_state(tmp_path):
    _save(tmp_path, 10)
    _save(tmp_path, 20)
    for name in ("last", "prev"):
        (tmp_path / name / "optimizer.safetensors").write_bytes(b"junk")
    assert find_state(tmp_path) is None


def test_unreadable_state_files_are_one_clear_error(tmp_path):
    path = _save(tmp_path, 10)
    (path / "state.json").write_text("{not json")
    with pytest.raises(FormatError, match="unreadable"):
        load_state(path)
