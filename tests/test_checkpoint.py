"""Checkpoint folders: round trip, and one clear error for each way a checkpoint can be bad."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from motiongen.checkpoint import (
    CheckpointConfig,
    load_checkpoint,
    record_manifest,
    save_checkpoint,
)
from motiongen.errors import DataNotFoundError, FormatError
from motiongen.features import FEATURE_DIM, NormStats
from motiongen.models import MotionDiT, MotionDiTConfig
from motiongen.paths import DEFAULT_MODEL

CONDITIONING = {
    "text_model": None,
    "text_dim": 0,
    "max_tokens": 64,
    "audio_dim": 0,
    "fps": 20.0,
    "window": 196,
}


def make(tmp_path):
    cfg = MotionDiTConfig.preset("tiny", feature_dim=FEATURE_DIM, depth=1)
    model = MotionDiT(cfg)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    ck = CheckpointConfig.create("dit", cfg.to_dict(), "flow", conditioning=CONDITIONING)
    return save_checkpoint(tmp_path / "ck", ck, model, norm), model


def test_round_trip(tmp_path):
    path, model = make(tmp_path)
    loaded = load_checkpoint(path)
    assert loaded.config.process == "flow" and loaded.config.conditioning.fps == 20.0
    assert loaded.config.process_config.sigma_min == 0.0
    for (k, a), (_, b) in zip(
        model.state_dict().items(), loaded.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k


def test_missing_folder_and_config(tmp_path):
    with pytest.raises(DataNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="config.json is missing"):
        load_checkpoint(tmp_path / "empty")


def test_nan_weights(tmp_path):
    from safetensors.torch import load_file, save_file

    path, _ = make(tmp_path)
    state = load_file(str(path / "model.safetensors"))
    name = next(iter(state))
    state[name][..., 0] = float("nan")
    save_file(state, str(path / "model.safetensors"))
    record_manifest(path)  # as a diverged training run would have saved it
    with pytest.raises(FormatError, match="NaN"):
        load_checkpoint(path)


def test_wrong_shapes(tmp_path):
    path, _ = make(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    cfg["model"]["width"] = 64
    (path / "config.json").write_text(json.dumps(cfg))
    record_manifest(path)
    with pytest.raises(FormatError, match="shape"):
        load_checkpoint(path)


def test_corrupt_weights_and_config(tmp_path):
    path, _ = make(tmp_path)
    (path / "model.safetensors").write_bytes(b"\x00" * 64)
    record_manifest(path)
    with pytest.raises(FormatError, match="corrupt"):
        load_checkpoint(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(FormatError, match="JSON"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("where", "change", "message"),
    [
        ("conditioning", lambda c: c.pop("fps"), r"missing keys \['fps'\]"),
        ("conditioning", lambda c: c.update(fsp=20.0), r"unknown keys \['fsp'\]"),
        ("process_config", lambda c: c.pop("t_sampling"), "process_config keys"),
        ("process_config", lambda c: c.update(sigma=0.1), "process_config keys"),
        ("conditioning", lambda c: c.update(fps=-1.0), "fps"),
        ("conditioning", lambda c: c.update(tasks={"dance": {}}), r"unknown tasks \['dance'\]"),
        (
            "conditioning",
            lambda c: c.update(tasks={"edit": {"cfg": 3}}),
            r"conditioning.tasks.edit has unknown options \['cfg'\]",
        ),
        (
            "conditioning",
            lambda c: c.update(tasks={"inbetween": {"steps": 0}}),
            r"conditioning.tasks.inbetween.steps = 0 is not a valid steps",
        ),
        (
            "conditioning",
            lambda c: c.update(tasks={"edit": {"guidance": "6"}}),
            "conditioning.tasks.edit.guidance",
        ),
        (
            "conditioning",
            lambda c: c.update(tasks={"timeline": {"segment_model": 3}}),
            "conditioning.tasks.timeline.segment_model",
        ),
        (
            "conditioning",
            lambda c: c.update(tasks={"edit": {"segment_model": ""}}),
            "conditioning.tasks.edit.segment_model",
        ),
        (
            "conditioning",
            lambda c: c.update(tasks={"inbetween": {"segment_model": "tiny-flow"}}),
            r"conditioning.tasks.inbetween has unknown options \['segment_model'\]",
        ),
    ],
)
def test_config_is_read_strictly(tmp_path, where, change, message):
    path, _ = make(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    change(cfg[where])
    (path / "config.json").write_text(json.dumps(cfg))
    record_manifest(path)
    with pytest.raises(FormatError, match=message):
        load_checkpoint(path)


def test_unknown_process_and_top_level_key(tmp_path):
    path, _ = make(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**cfg, "process": "magic"}))
    record_manifest(path)
    with pytest.raises(FormatError, match="unknown generative process 'magic'"):
        load_checkpoint(path)
    (path / "config.json").write_text(json.dumps({**cfg, "extra": 1}))
    record_manifest(path)
    with pytest.raises(FormatError, match=r"unknown keys \['extra'\]"):
        load_checkpoint(path)


def test_version_1_is_refused_then_upgraded_once(tmp_path):
    from motiongen.checkpoint import upgrade_checkpoint

    path, model = make(tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    v1 = {
        **cfg,
        "version": 1,
        "process_config": {},
        "conditioning": {"text_dim": 0, "audio_dim": 0},
    }
    (path / "config.json").write_text(json.dumps(v1))
    (path / "manifest.json").unlink()
    with pytest.raises(FormatError, match="motiongen checkpoint upgrade"):
        load_checkpoint(path)
    assert upgrade_checkpoint(path) is True
    loaded = load_checkpoint(path)
    assert loaded.config.conditioning.fps == 20.0 and loaded.config.conditioning.window == 196
    assert loaded.config.conditioning.guidance is None
    assert loaded.config.training["upgraded_from_version"] == 1
    assert upgrade_checkpoint(path) is False  # already current


def _flip_last_byte(file):
    data = bytearray(file.read_bytes())
    data[-1] ^= 0x01
    file.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        # a weight byte flipped near the end is still a finite float: without the manifest it
        # would load and generate nonsense
        ("model.safetensors", "flip"),
        ("model.safetensors", "truncate"),
        ("model.safetensors", "swap"),  # the weights of another checkpoint of the same shape
        ("norm.npz", "flip"),
        ("norm.npz", "truncate"),
        ("config.json", "edit"),
    ],
)
def test_damaged_files_are_named(tmp_path, name, damage):
    path, _ = make(tmp_path / "a")
    other, _ = make(tmp_path / "b")
    file = path / name
    if damage == "flip":
        _flip_last_byte(file)
    elif damage == "truncate":
        file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    elif damage == "swap":
        file.write_bytes((other / name).read_bytes())
    else:
        file.write_text(file.read_text().replace('"window": 196', '"window": 197'))
    with pytest.raises(FormatError, match=name.replace(".", r"\.")):
        load_checkpoint(path)


def test_missing_manifest_and_unreadable_norm(tmp_path):
    path, _ = make(tmp_path)
    (path / "manifest.json").unlink()
    with pytest.raises(FormatError, match="no manifest.json.*motiongen checkpoint upgrade"):
        load_checkpoint(path)
    (path / "norm.npz").write_bytes(b"PK\x03\x04 truncated")
    record_manifest(path)
    with pytest.raises(FormatError, match="norm.npz is not a readable"):
        load_checkpoint(path)


def test_shipped_models_verify():
    from motiongen.checkpoint import shipped_model_path
    from motiongen.integrity import verify_manifest

    assert DEFAULT_MODEL == "tiny-flow-rollout-r5"  # the README's test tables describe this model
    for name in sorted({"tiny-flow", "tiny-ddim", DEFAULT_MODEL}):
        verify_manifest(shipped_model_path(name), name)


def test_a_run_folder_or_training_state_given_as_a_checkpoint_names_the_checkpoints(tmp_path):
    from motiongen.checkpoint import read_config
    from motiongen.errors import DataNotFoundError

    run = tmp_path / "run"
    for name in ("best", "final"):
        (run / name).mkdir(parents=True)
        (run / name / "config.json").write_text("{}")
    (run / "config.json").write_text("{}")  # the resolved training config
    (run / "last").mkdir()
    (run / "last" / "state.json").write_text("{}")
    with pytest.raises(DataNotFoundError, match="is a training run; its checkpoints are .*best"):
        read_config(run)
    with pytest.raises(DataNotFoundError, match=r"is a training state \(`motiongen train --resume"):
        read_config(run / "last")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DataNotFoundError, match="is a file; a checkpoint is a folder"):
        read_config(tmp_path / "afile")
