"""The contrastive text-motion evaluator: training, files, the shipped weights on real clips."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from motiongen.checkpoint import record_manifest
from motiongen.data.prepare import prepare_synthetic
from motiongen.data.store import PreparedData
from motiongen.data.synthetic import synth_motion
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.eval.distribution import r_precision
from motiongen.evaluators.labels import label_key
from motiongen.evaluators.text_motion import TextMotionEvaluator
from motiongen.evaluators.text_motion.train import TextMotionTrainConfig, train_text_motion
from motiongen.features import FEATURE_DIM
from motiongen.motion import Motion


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return prepare_synthetic(tmp_path_factory.mktemp("synth") / "prepared", n=120, seed=5)


@pytest.fixture(scope="module")
def trained(synthetic):
    cfg = TextMotionTrainConfig(steps=120, batch_size=32, lr=3e-3, warmup=10, seed=0)
    return train_text_motion(synthetic, cfg, log_every=20)


def test_training_lowers_the_contrastive_loss(trained):
    assert trained.losses[-1] < 0.7 * trained.losses[0]
    assert trained.evaluator.info["train_clips"] > 0


def test_trained_evaluator_retrieves_its_own_descriptions(trained, synthetic):
    ev = trained.evaluator
    recs = [r for r in synthetic.select() if r.texts]
    motions = [synthetic.motion(r) for r in recs]
    m = ev.encode_motions(motions)
    t = ev.encode_texts([r.texts[0] for r in recs])
    assert m.shape == t.shape == (len(recs), ev.embed_dim)
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-5)
    # synthetic data has few distinct descriptions: rank among distinct ones
    keys = [label_key(r.labels) for r in recs]
    n_keys = len(set(keys))
    batch = min(8, n_keys)
    matched = r_precision(t, m, groups=keys, batch_size=batch, seed=0)
    shuffled = r_precision(t, m[np.random.default_rng(0).permutation(len(m))], batch_size=batch)
    assert matched.top_k[0] > shuffled.top_k[0] + 0.2


def test_save_load_round_trip_and_corrupt_files(trained, tmp_path, synthetic):
    ev = trained.evaluator
    path = ev.save(tmp_path / "ev")
    again = TextMotionEvaluator.from_pretrained(path)
    motions = [synthetic.motion(r) for r in synthetic.select()[:5]]
    np.testing.assert_allclose(ev.encode_motions(motions), again.encode_motions(motions), atol=1e-6)

    state = load_file(str(path / "model.safetensors"))
    state["inp.weight"][0, 0] = float("nan")
    save_file(state, str(path / "model.safetensors"))
    with pytest.raises(FormatError, match=r"model\.safetensors (changed|has)"):
        TextMotionEvaluator.from_pretrained(path)
    record_manifest(path)
    with pytest.raises(FormatError, match="NaN"):
        TextMotionEvaluator.from_pretrained(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(FormatError, match="unreadable"):
        TextMotionEvaluator.from_pretrained(path)
    with pytest.raises(DataNotFoundError, match="motiongen evaluator train text-motion"):
        TextMotionEvaluator.from_pretrained(tmp_path / "nowhere")


def test_bad_motions_are_clear_errors(trained):
    ev = trained.evaluator
    walk = synth_motion("walk", seconds=3, seed=0)
    bad = walk.positions.copy()
    bad[5, 3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        ev.encode_motions([Motion(positions=bad, fps=walk.fps)])
    with pytest.raises(InputError, match=f"T >= 2, {FEATURE_DIM}"):
        ev.encode_features([np.zeros((10, 12))])
    with pytest.raises(InputError, match="no motions"):
        ev.encode_features([])
    with pytest.raises(InputError):
        ev.encode_texts([""])


def test_shipped_evaluator_matches_real_test_clips(prepared_dir):
    """Trained on the train split only; on held-out real clips, matched pairs beat shuffled."""
    ev = TextMotionEvaluator.from_pretrained()
    info = ev.info
    assert info["train"]["steps"] >= 1000 and info["train_clips"] > 2000
    data = PreparedData.open(prepared_dir)
    recs = [r for r in data.select(split="test") if r.num_frames >= 40]
    m = ev.encode_motions([data.motion(r) for r in recs])
    t = ev.encode_texts([r.texts[0] for r in recs])
    keys = [label_key(r.labels) for r in recs]
    matched = r_precision(t, m, groups=keys, seed=0)
    shuffled = r_precision(t, m[np.random.default_rng(1).permutation(len(m))], groups=keys, seed=0)
    assert matched.top_k[2] > 2 * shuffled.top_k[2]
    assert matched.matching_distance < shuffled.matching_distance
    json.dumps(info)  # the shipped config stays JSON


def test_evaluator_is_deterministic_in_eval_mode(trained):
    ev = trained.evaluator
    x = [np.random.default_rng(0).normal(size=(50, FEATURE_DIM)).astype(np.float32)]
    with torch.no_grad():
        assert np.array_equal(ev.encode_features(x), ev.encode_features(x))
