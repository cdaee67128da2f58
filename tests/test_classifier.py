"""Label classifier (training, files, embeddings) and the two generation benchmarks' cores."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from motiongen.checkpoint import record_manifest
from motiongen.data.prepare import prepare_synthetic
from motiongen.data.synthetic import synth_motion
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.eval.evaluator_quality import classifier_accuracy
from motiongen.eval.recognition import (
    label_pairs,
    make_generate_fn,
    markdown_table,
    recognise_generated,
    recognise_real,
    summarise,
)
from motiongen.evaluators.classifier import ClassifierConfig, LabelClassifier, MotionEncoder
from motiongen.evaluators.classifier.train import ClassifierTrainConfig, train_classifier
from motiongen.evaluators.features import crop_features
from motiongen.evaluators.labels import build_vocab, content_label, style_label
from motiongen.features import FEATURE_DIM, NormStats, positions_to_features
from motiongen.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", REPO / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return prepare_synthetic(tmp_path_factory.mktemp("synth") / "prepared", n=120, seed=3)


@pytest.fixture(scope="module")
def trained(synthetic):
    cfg = ClassifierTrainConfig(
        steps=150,
        batch_size=16,
        lr=3e-3,
        warmup=10,
        min_crop=30,
        max_crop=80,
        network={"width": 32, "depth": 2, "embed_dim": 24},
        source_share={},
    )
    result = train_classifier(synthetic, cfg, log_every=10)
    metrics = {s: classifier_accuracy(result.classifier, synthetic, s) for s in ("train", "val")}
    return result, metrics


def tiny_classifier(contents=("walk", "run"), styles=("normal", "sad")) -> LabelClassifier:
    torch.manual_seed(0)
    cfg = ClassifierConfig(len(contents), len(styles), width=16, depth=2, embed_dim=8)
    norm = NormStats(np.zeros(FEATURE_DIM, np.float32), np.ones(FEATURE_DIM, np.float32))
    return LabelClassifier(MotionEncoder(cfg), list(contents), list(styles), norm, max_frames=60)


def test_labels_merge_synonyms_and_dances():
    assert content_label({"content": "walk", "style": "old"}) == "walk"
    assert style_label({"content": "walk", "style": "old"}) == "elderly"
    assert style_label({"content": "walk", "style": "masculinity"}) == "masculine"
    assert style_label({"content": "walk", "style": "happy"}) == "happy"
    dance = {"source": "dance", "dance_type": "waltz", "song": "DANCE_W_1"}
    assert content_label(dance) == "dance-waltz" and style_label(dance) is None

    class Rec:
        def __init__(self, labels):
            self.labels = labels

    contents, styles = build_vocab(
        [Rec({"content": "wave-left-hand", "style": "tired"}), Rec(dance)]
    )
    # the mirror image's label is in the vocabulary even if no clip has it
    assert contents == ["dance-waltz", "wave-left-hand", "wave-right-hand"]
    assert styles == ["exhausted"]


def test_crop_features_equal_features_of_the_crop():
    pos = synth_motion("walk", "happy", seconds=4.0, seed=1).positions
    full = positions_to_features(pos)
    for start, n in [(0, 30), (17, 40), (50, 30)]:
        expected = positions_to_features(pos[start : start + n])
        np.testing.assert_allclose(crop_features(full, start, n), expected, atol=1e-5)


def test_classifier_learns_synthetic_labels(trained, synthetic):
    result, metrics = trained
    clf = result.classifier
    assert clf.num_params() < 1_000_000
    assert result.losses[-1] < result.losses[0]
    chance_content = 1 / len(clf.contents)
    chance_style = 1 / len(clf.styles)
    train = metrics["train"]
    assert train["content"] > 2 * chance_content, train
    assert train["style"] > 2 * chance_style, train
    val = metrics["val"]
    assert val["clips"] > 0 and val["content"] > chance_content, val


def test_save_load_round_trip(trained, synthetic, tmp_path):
    clf = trained[0].classifier
    path = clf.save(tmp_path / "clf")
    loaded = LabelClassifier.from_pretrained(path)
    assert loaded.contents == clf.contents and loaded.styles == clf.styles
    motions = [synthetic.motion(r) for r in synthetic.select(split="val")[:5]]
    a, b = clf.classify(motions), loaded.classify(motions)
    assert a.content == b.content and a.style == b.style
    np.testing.assert_allclose(a.embeddings, b.embeddings, atol=1e-6)
    assert json.loads((path / "config.json").read_text())["format"] == "motiongen-label-classifier"


def test_load_errors(trained, tmp_path):
    with pytest.raises(DataNotFoundError, match="no label classifier"):
        LabelClassifier.from_pretrained(tmp_path / "missing")
    path = trained[0].classifier.save(tmp_path / "clf")
    (path / "model.safetensors").write_bytes(b"\x00" * 32)
    with pytest.raises(FormatError, match="model.safetensors has 32 bytes"):
        LabelClassifier.from_pretrained(path)
    record_manifest(path)
    with pytest.raises(FormatError, match="corrupt"):
        LabelClassifier.from_pretrained(path)
    path = trained[0].classifier.save(tmp_path / "clf2")
    cfg = json.loads((path / "config.json").read_text())
    cfg["model"]["width"] = 8
    (path / "config.json").write_text(json.dumps(cfg))
    record_manifest(path)
    with pytest.raises(FormatError, match="shape"):
        LabelClassifier.from_pretrained(path)


def test_embed_shapes_and_padding_invariance():
    clf = tiny_classifier()
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(25, FEATURE_DIM)), rng.normal(size=(40, FEATURE_DIM))
    alone = clf.embed([a])
    assert alone.shape == (1, 8)
    both = clf.embed([a, b])
    assert both.shape == (2, 8)
    np.testing.assert_allclose(both[0], alone[0], atol=1e-5)  # padding to 40 changes nothing
    padded = np.zeros((2, 40, FEATURE_DIM), np.float32)
    padded[0, :25], padded[1] = a, b
    mask = np.zeros((2, 40), bool)
    mask[0, :25], mask[1] = True, True
    np.testing.assert_allclose(clf.embed(padded, mask), both, atol=1e-5)
    assert clf.embed(torch.from_numpy(padded)).shape == (2, 8)
    assert clf.embed(b).shape == (1, 8)  # one (T, D) clip
    # clips longer than max_frames are centre-cropped, not rejected
    assert clf.embed([rng.normal(size=(200, FEATURE_DIM))]).shape == (1, 8)
    with pytest.raises(InputError, match="shape"):
        clf.embed(np.zeros((2, 10, 5)))
    with pytest.raises(InputError, match="NaN"):
        clf.embed([np.full((10, FEATURE_DIM), np.nan)])


@pytest.fixture(scope="module")
def random_checkpoint(tmp_path_factory):
    latency = load_script("latency")
    from motiongen.models import MotionDiTConfig

    net = MotionDiTConfig.preset(
        "tiny", feature_dim=FEATURE_DIM, text_dim=384, audio_dim=50, depth=1
    )
    folder = tmp_path_factory.mktemp("ck") / "tiny-flow"
    return latency.random_checkpoint(folder, net, "flow", latency.DEFAULT_CONDITIONING)


def test_recognition_on_one_pair(trained, synthetic, random_checkpoint):
    clf = trained[0].classifier
    pairs = label_pairs(synthetic, sources=("synthetic",), classifier=clf)
    assert pairs and all(p.prompt for p in pairs)
    assert len({p.key for p in pairs}) == len(pairs)
    generate = make_generate_fn(Pipeline.from_pretrained(random_checkpoint), seconds=2.0, steps=1)
    gen = recognise_generated(clf, pairs[:1], generate, samples=2, seed=0)
    assert gen[0].n == 2
    real = recognise_real(clf, synthetic, pairs, split="train")
    summary = summarise(gen, real)
    row = summary["all"]
    assert row["generated_all"]["motions"] == 2
    # real clips count only for the generated pair
    assert row["real"]["motions"] == real[0].n
    table = markdown_table(summary)
    assert "ratio generated / real" in table and table.count("\n") >= 5


def test_label_recognition_script_run(trained, synthetic, random_checkpoint):
    bench = load_script("label_recognition")
    generate = make_generate_fn(Pipeline.from_pretrained(random_checkpoint), seconds=1.5, steps=1)
    result = bench.run(
        synthetic,
        trained[0].classifier,
        generate,
        samples=1,
        max_pairs=1,
        sources=("synthetic",),
        show_progress=False,
    )
    assert len(result["pairs"]) == 1 and "all" in result["summary"]
    json.dumps(result)  # serialisable as written by --out


def test_latency_script_core(random_checkpoint):
    latency = load_script("latency")
    from motiongen.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(random_checkpoint)
    cell = latency.Cell("tiny", "random", "flow", "euler", 1, 2, 2.5)
    latency.time_cell(pipe, cell, repeats=2, budget=0.0, postprocess=False)
    assert cell.repeats == 1  # the budget stops after the first pair
    assert cell.cached_ms > 0 and cell.uncached_ms > 0
    ddim = latency.Cell("tiny", "random", "ddpm", "ddim", 50, 2, 7.5, cached_ms=100.0)
    flow = latency.Cell("tiny", "random", "flow", "euler", 4, 2, 2.5, cached_ms=10.0)
    assert latency.ratios([flow, ddim])[0]["ratio"] == 10.0
    assert "DDIM-50 / flow-4" in latency.markdown([cell, flow, ddim], threads=1)
