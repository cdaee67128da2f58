"""Stick-native models (``stick.gen``, ``stick.training``) and the stick-space judge
(``stick.evaluate``): features and their inverse, the three training stages on synthetic
data, files, and the classifier over 22 numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongen.errors import DataNotFoundError, InputError
from motiongen.stick.features import (
    STICK_FEATURES,
    motion_stick_features,
    stick_features,
    stick_from_features,
)
from motiongen.stick.representation import to_stick


class BankEncoder:
    """A fake sentence encoder with the attributes TextBank.build reads."""

    def __init__(self) -> None:
        from tests.test_pipeline import FakeEncoder

        self.inner = FakeEncoder()
        self.dim = self.inner.dim
        self.model_dir = "fake"

    def encode(self, texts, cache=True):  # noqa: ANN001, ANN201
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.data.store import PreparedData

    root = tmp_path_factory.mktemp("synth")
    prepare_synthetic(root, 16, seed=0)
    return PreparedData.open(root)


def _resplit(monkeypatch):
    """Synthetic clips are all 'train': every fourth one plays val and test."""
    from dataclasses import replace

    from motiongen.data.store import PreparedData

    select = PreparedData.select

    def resplit(self, split=None, **kw):  # noqa: ANN001, ANN202
        recs = [replace(r, split=("val" if i % 4 == 1 else "test" if i % 4 == 3 else "train"))
                for i, r in enumerate(select(self, **kw))]  # fmt: skip
        return [r for r in recs if split is None or r.split == split]

    monkeypatch.setattr(PreparedData, "select", resplit)


def test_features_invert_to_the_stick_moved_to_x_zero():
    from motiongen.data.synthetic import synth_motion

    pos = synth_motion("walk", seconds=2.0, seed=1).positions
    stick = to_stick(pos)
    f = stick_features(stick)
    assert f.shape == (len(pos), STICK_FEATURES)
    back = stick_from_features(f)
    shifted = stick.copy()
    shifted[:, 0::2] -= stick[0, 6]
    assert np.allclose(back, shifted, atol=1e-9)
    assert np.allclose(motion_stick_features(pos), f)
    with pytest.raises(InputError, match="frames, 20"):
        stick_features(np.zeros((5, 19)))


def test_three_stages_train_save_load_and_generate(synth, tmp_path, monkeypatch):
    from motiongen.stickgen.model import StickGen
    from motiongen.stickgen.training import StickTrainConfig, train_stick

    _resplit(monkeypatch)
    enc = BankEncoder()
    base, report = train_stick(synth, StickTrainConfig(size="tiny", steps=4, batch_size=4,
                                                       window=40), text_encoder=enc)  # fmt: skip
    assert np.isfinite(report["val_loss"]) and report["trained_params"] == base.num_params()
    sft, _ = train_stick(synth, StickTrainConfig(stage="sft", size="tiny", steps=2, batch_size=4,
                                                 window=40, lr=1e-4), init=base, text_encoder=enc)  # fmt: skip
    lora, rep = train_stick(
        synth, StickTrainConfig(stage="lora", size="tiny", steps=2, batch_size=4, window=40,
                                lora_source="synthetic"), init=sft, text_encoder=enc,
    )  # fmt: skip
    assert 0 < rep["trained_params"] < lora.num_params() / 5  # adapters only
    assert [s["config"]["stage"] for s in lora.info["stages"]] == ["pretrain", "sft", "lora"]
    out = lora.generate(["a person walks", "a person jumps"], 30, steps=2, seed=1)
    assert out.shape == (2, 30, 20) and np.isfinite(out).all()
    lora.save(tmp_path / "m")
    again = StickGen.load(tmp_path / "m", text_encoder=enc)
    same = again.generate(["a person walks", "a person jumps"], 30, steps=2, seed=1)
    assert np.allclose(same, out, atol=1e-5)
    with pytest.raises(InputError, match="starts from a trained"):
        train_stick(synth, StickTrainConfig(stage="sft", size="tiny", steps=1), text_encoder=enc)
    with pytest.raises(InputError, match="size must be one of"):
        train_stick(synth, StickTrainConfig(size="huge", steps=1), text_encoder=enc)
    with pytest.raises(DataNotFoundError, match="stick train"):
        StickGen.load(tmp_path / "none")


def test_stick_classifier_reads_22_numbers_and_round_trips(synth, tmp_path, monkeypatch):
    from motiongen.evaluators.classifier import LabelClassifier
    from motiongen.stickgen.evaluate import recognise, stick_fid, train_stick_classifier

    _resplit(monkeypatch)
    clf = train_stick_classifier(synth, steps=3)
    assert clf.model.config.feature_dim == STICK_FEATURES
    clf.save(tmp_path / "c")
    again = LabelClassifier.from_pretrained(tmp_path / "c")
    recs = synth.select(split="train")[:3]
    sticks = [to_stick(synth.motion(r).resample(20.0).positions) for r in recs]
    from motiongen.evaluators.labels import content_label, style_label

    got = recognise(again, sticks, [content_label(r.labels) for r in recs],
                    [style_label(r.labels) for r in recs])  # fmt: skip
    assert got["n"] == 3 and 0.0 <= got["both"] <= got["content"] <= 1.0
    assert stick_fid(again, sticks, sticks, shrink=0.5) == pytest.approx(0.0, abs=1e-6)


def test_stick_training_resumes_to_the_same_weights(synth, tmp_path, monkeypatch):
    from motiongen.errors import FormatError
    from motiongen.features import NormStats
    from motiongen.stickgen.model import StickGen
    from motiongen.stickgen.training import StickTrainConfig, train_stick

    _resplit(monkeypatch)
    enc = BankEncoder()
    cfg = StickTrainConfig(size="tiny", steps=6, batch_size=4, window=40, warmup=2)
    whole, _ = train_stick(synth, cfg, text_encoder=enc, state_path=tmp_path / "a.pt",
                           save_every=2)  # fmt: skip

    def stop_at(n):
        def progress(step, steps, loss):
            if step == n:
                raise KeyboardInterrupt

        return progress

    with pytest.raises(KeyboardInterrupt):  # the state of step 4 is on disk
        train_stick(synth, cfg, text_encoder=enc, progress=stop_at(5), log_every=1,
                    state_path=tmp_path / "b.pt", save_every=2)  # fmt: skip
    resumed, report = train_stick(synth, cfg, text_encoder=enc, state_path=tmp_path / "b.pt",
                                  save_every=2)  # fmt: skip
    assert report["resumed_at"] == 4
    again = resumed.model.state_dict()
    for name, weights in whole.model.state_dict().items():
        assert torch.allclose(weights, again[name], atol=1e-6), name
    other = StickTrainConfig(size="tiny", steps=8, batch_size=4, window=40, warmup=2)
    with pytest.raises(InputError, match="steps 6 then, 8 now"):
        train_stick(synth, other, text_encoder=enc, state_path=tmp_path / "b.pt")
    (tmp_path / "cut.pt").write_bytes(b"not a state")
    with pytest.raises(FormatError, match="delete it"):
        train_stick(synth, cfg, text_encoder=enc, state_path=tmp_path / "cut.pt")

    # LoRA: adapters wrapped by peft (dropout draws from torch's global generator)
    lora = StickTrainConfig(stage="lora", size="tiny", steps=4, batch_size=4, window=40,
                            warmup=1, lora_source="synthetic")  # fmt: skip
    whole, _ = train_stick(synth, lora, init=resumed, text_encoder=enc,
                           state_path=tmp_path / "l1.pt", save_every=2)  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        train_stick(synth, lora, init=resumed, text_encoder=enc, progress=stop_at(3),
                    log_every=1, state_path=tmp_path / "l2.pt", save_every=2)  # fmt: skip
    again, report = train_stick(synth, lora, init=resumed, text_encoder=enc,
                                state_path=tmp_path / "l2.pt", save_every=2)  # fmt: skip
    assert report["resumed_at"] == 2
    merged = again.model.state_dict()
    for name, weights in whole.model.state_dict().items():
        assert torch.allclose(weights, merged[name], atol=1e-6), name
    shifted = NormStats(resumed.norm.mean + 1.0, resumed.norm.std, dim=resumed.norm.dim)
    other_init = StickGen(resumed.model, shifted, size="tiny", text_encoder=enc)
    with pytest.raises(InputError, match="another model"):
        train_stick(synth, lora, init=other_init, text_encoder=enc, state_path=tmp_path / "l2.pt")


def test_stick_train_cli_will_not_overwrite_a_saved_run(tmp_path, monkeypatch, capsys):
    from tests.cli_helpers import error_line, run

    (tmp_path / "train_state.pt").write_bytes(b"")
    code, _, err = run(["stick", "train", "-o", tmp_path], monkeypatch, capsys)
    assert code != 0 and "pass --resume" in error_line(err)
    done = tmp_path / "done"
    done.mkdir()
    (done / "model.safetensors").write_bytes(b"")
    code, _, err = run(["stick", "train", "-o", done], monkeypatch, capsys)
    assert code != 0 and "holds a finished stick model" in error_line(err)
    code, out, _ = run(["stick", "train", "-o", done, "--resume"], monkeypatch, capsys)
    assert code == 0 and "nothing to resume" in out
    code, _, err = run(["stick", "train", "-o", tmp_path / "x", "--save-every", "0"],
                       monkeypatch, capsys)  # fmt: skip
    assert code != 0 and "--save-every" in error_line(err)
