"""The text encoder as an ONNX graph: the same embeddings without sentence-transformers.

Importing sentence-transformers (and through it transformers and scikit-learn) and loading
MiniLM took 4.4-4.8 s of a 9 s ``motiongen generate``; onnxruntime and ``tokenizers`` load the
same network in about 0.3 s and encode a prompt 3-4x faster (docs/conditioning.md, "Start-up").
A plain mean-pooled BERT-style folder (all-MiniLM-L6-v2 and its kin: a Transformer module, mean
Pooling, optionally Normalize) is exported once, on first use, to ``cache_dir()/text-onnx``
and checked against PyTorch there; anything else (CLS pooling, a Dense head) keeps
sentence-transformers. Token embeddings agree with PyTorch's to ~2e-6, pooled ones to ~2e-7
(the same order as batching a prompt with others changes them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

# Part of the cache key: a change to how the graph is made re-exports it.
EXPORT_VERSION = 1
# One thread: a prompt of a few words encodes in ~1 ms on one (2.4 ms on two, whose pool
# threads then competed with the sampler); a whole index's phrases take a few seconds more.
TEXT_THREADS = 1
# Largest difference from PyTorch's token embeddings accepted when the graph is made.
TOLERANCE = 1e-4
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Probes for the export check: short, long, punctuation, and a padded batch.
_PROBES = ("a person", "a person waves with both hands happily, then bows deeply", "kick!")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def plain_mean_pooled(model_dir: Path) -> bool:
    """True for a sentence-transformers folder whose embedding is the mean of a transformer's
    last hidden states (normalised or not) and that has a ``tokenizer.json``."""
    modules = _read_json(model_dir / "modules.json")
    if not isinstance(modules, list) or not (model_dir / "tokenizer.json").is_file():
        return False
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    bert = _read_json(model_dir / "sentence_bert_config.json") or {}
    if bert.get("do_lower_case"):  # sentence-transformers lowers the text before tokenizing
        return False
    pooling = _read_json(model_dir / str(modules[1].get("path", "")) / "config.json") or {}
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    config = _read_json(model_dir / "config.json") or {}
    return modes == {"pooling_mode_mean_tokens"} and config.get("model_type") == "bert"


def _weights(model_dir: Path) -> Path:
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (model_dir / name).is_file():
            return model_dir / name
    raise FileNotFoundError(f"no model weights in {model_dir}")


def graph_path(model_dir: Path) -> Path:
    """Where the folder's graph is kept: keyed by the folder and its weights' size and time
    (hashing 90 MB of weights would cost a start 0.2 s)."""
    from motiongen.paths import cache_dir

    weights = _weights(model_dir)
    stat = weights.stat()
    key = f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{EXPORT_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "text-onnx" / f"{model_dir.name}-{digest}.onnx"


def export_text_onnx(model_dir: Path, path: Path) -> float:
    """Write the folder's transformer as an ONNX graph at ``path`` (hidden states of every
    token; pooling stays outside) and return its largest difference from PyTorch on probe
    prompts. ``ValueError`` above ``TOLERANCE`` (nothing is written then)."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from motiongen.deploy.onnx import quiet_exporter

    hf_logging.disable_progress_bar()
    # Eager attention traces the padding mask as ordinary arithmetic; the fused path may
    # drop an all-ones mask while tracing, and padded batches would then attend to padding.
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    tokenizer = _tokenizer(model_dir, 64)
    feeds = _encode(tokenizer, list(_PROBES))
    example = tuple(torch.from_numpy(feeds[n]) for n in _INPUTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.onnx")
    auto = torch.export.Dim.AUTO
    try:
        with torch.no_grad(), quiet_exporter():
            program = torch.onnx.export(
                Hidden(), example, input_names=list(_INPUTS), output_names=["hidden"],
                dynamic_shapes=({0: auto, 1: auto},) * 3, dynamo=True, external_data=False,
            )  # fmt: skip
            program.save(str(tmp))
            want = Hidden()(*example).numpy()
        got = _session(tmp, 1).run(None, feeds)[0]
        mask = feeds["attention_mask"].astype(bool)
        diff = float(np.abs(got - want)[mask].max())
        if not diff <= TOLERANCE:
            raise ValueError(f"the ONNX graph differs from PyTorch by {diff:.2g}")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return diff


def _tokenizer(model_dir: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # The file's own padding (often fixed at 128) and truncation are replaced: pad to the
    # batch's longest prompt, cut at max_tokens, as sentence-transformers does.
    pad = tok.padding or {}
    tok.enable_padding(
        pad_id=int(pad.get("pad_id", 0)), pad_token=str(pad.get("pad_token", "[PAD]"))
    )
    tok.enable_truncation(max_length=int(max_tokens))
    return tok


def _encode(tok: Any, texts: list[str]) -> dict[str, np.ndarray]:
    batch = tok.encode_batch(texts)
    return {
        "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
    }


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads spin-wait after each run and slowed the rest of the process: with 2
    # threads the next motion's sampler took 25.8 ms instead of 12.7 (benchmarks/latency.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTextModel:
    """The folder's tokenizer and exported transformer: ``model(texts)`` gives the hidden
    states (B, L, C) float32 and the attention mask (B, L) int64."""

    def __init__(self, model_dir: Path, path: Path, *, max_tokens: int, threads: int) -> None:
        self.path = path
        self.tokenizer = _tokenizer(model_dir, max_tokens)
        self.session = _session(path, threads)

    def num_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        feeds = _encode(self.tokenizer, texts)
        return self.session.run(None, feeds)[0], feeds["attention_mask"]


def load_onnx_text_model(
    model_dir: Path, *, max_tokens: int, threads: int = TEXT_THREADS
) -> OnnxTextModel:
    """The folder's ONNX text model, exported (and checked) on first use. Raises when the
    folder is not ``plain_mean_pooled`` or the graph cannot be made or loaded."""
    if not plain_mean_pooled(model_dir):
        raise ValueError(f"{model_dir} is not a plain mean-pooled BERT folder")
    path = graph_path(model_dir)
    if not path.is_file():
        logger.info("making the text encoder's ONNX graph (once): %s", path)
        diff = export_text_onnx(model_dir, path)
        logger.info("text encoder graph made; largest difference from PyTorch %.2g", diff)
        _note_source(path, model_dir)
        prune_graphs(path)
    return OnnxTextModel(model_dir, path, max_tokens=max_tokens, threads=threads)


def _note_source(path: Path, model_dir: Path) -> None:
    """Beside a graph, the weights it was made from (what ``prune_graphs`` compares)."""
    with contextlib.suppress(OSError):
        path.with_suffix(".json").write_text(
            json.dumps({"weights": str(_weights(model_dir).resolve())})
        )


# A scratch graph older than this (s) belongs to an export that was killed.
STALE_SCRATCH_SECONDS = 3600.0


def prune_graphs(kept: Path) -> list[Path]:
    """Remove the graphs made before ``kept`` from the same weights (a model package
    reinstalled gets a new one, ~90 MB each) and scratch files of killed exports; the paths
    removed. A graph without its note is left alone."""
    import time

    source = _read_json(kept.with_suffix(".json")) or {}
    removed = []
    for other in kept.parent.glob("*.onnx"):
        if other == kept:
            continue
        stale = other.name.endswith(".tmp.onnx") and (
            time.time() - other.stat().st_mtime > STALE_SCRATCH_SECONDS
        )
        note = _read_json(other.with_suffix(".json")) or {}
        if stale or (source.get("weights") and note.get("weights") == source["weights"]):
            with contextlib.suppress(OSError):
                other.unlink()
                other.with_suffix(".json").unlink(missing_ok=True)
                removed.append(other)
    return removed
