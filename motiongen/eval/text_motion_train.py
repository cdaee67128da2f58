"""Training the contrastive text–motion evaluator on the train split (never val or test).

Each step draws a batch of clips (source shares as the label classifier, so dataset-1 is not
drowned by dataset-2), a random crop of 60–196 frames of each, a random one of its
descriptions, and a left/right mirror of both half the time. Loss: symmetric InfoNCE over the
batch's cosine similarities. Clips whose (content, style) pair equals the anchor's are not
negatives (they are masked out): Bandai has 79 label pairs in the test split and many takes per
pair, so two takes of one description in a batch are common, and pushing them apart would
teach the evaluator noise.

    python -m motiongen.eval.text_motion_train --out motiongen/assets/evaluators/text-motion
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from motiongen.augment import mirror_label
from motiongen.data.store import PreparedData
from motiongen.errors import DataNotFoundError
from motiongen.eval.classifier import (
    _pad_batch,
    _sampling_probs,
    clip_features,
    content_label,
    crop_features,
    style_label,
)
from motiongen.eval.distribution import r_precision
from motiongen.eval.text_motion import (
    DEFAULT_DIR,
    TextMotionConfig,
    TextMotionEvaluator,
    TextMotionModel,
    sentence_embeddings,
)
from motiongen.features import NormStats


@dataclass
class TrainConfig:
    steps: int = 1500
    batch_size: int = 128
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.05
    min_crop: int = 60
    max_crop: int = 196
    mirror_prob: float = 0.5
    noise: float = 0.05  # Gaussian noise on normalised features (robustness to jitter)
    source_share: dict[str, float] = field(
        default_factory=lambda: {"bandai-2": 0.55, "bandai-1": 0.35, "dance": 0.10}
    )
    seed: int = 0
    network: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Item:
    source: str
    features: np.ndarray
    mirrored: np.ndarray
    texts: list[int]  # indices into the sentence table
    mirrored_texts: list[int]
    key: str  # label pair: clips with equal keys are never each other's negatives
    mirrored_key: str


def label_key(labels: dict[str, str], mirrored: bool = False) -> str:
    content = content_label(labels) or ""
    return f"{mirror_label(content) if mirrored else content}|{style_label(labels) or ''}"


def clip_texts(rec: Any) -> list[str]:
    return list(rec.texts) or ["a person moves"]


def _items(clips: list, sentences: dict[str, int]) -> list[_Item]:
    return [
        _Item(
            source=rec.source,
            features=feats,
            mirrored=mirrored,
            texts=[sentences[t] for t in clip_texts(rec)],
            mirrored_texts=[sentences[mirror_label(t)] for t in clip_texts(rec)],
            key=label_key(rec.labels),
            mirrored_key=label_key(rec.labels, mirrored=True),
        )
        for rec, feats, mirrored in clips
    ]


@dataclass
class TrainResult:
    evaluator: TextMotionEvaluator
    seconds: float
    losses: list[float]
    metrics: dict[str, dict[str, Any]]


def train_evaluator(
    data: PreparedData,
    cfg: TrainConfig | None = None,
    *,
    eval_splits: tuple[str, ...] = ("val",),
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
) -> TrainResult:
    """Train on the ``train`` split; report retrieval on ``eval_splits`` (real clips)."""
    cfg = cfg or TrainConfig()
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    clips = clip_features(data, "train")
    if not clips:
        raise DataNotFoundError("the prepared data has no training clips to train on")
    texts = sorted({t for rec, _, _ in clips for t in clip_texts(rec)})
    texts = sorted(set(texts) | {mirror_label(t) for t in texts})
    sentences = {t: i for i, t in enumerate(texts)}
    from motiongen.pipeline import shared_text_encoder

    table = torch.from_numpy(sentence_embeddings(shared_text_encoder(), texts))
    items = _items(clips, sentences)
    norm = NormStats.compute([f for _, f, _ in clips] + [m for _, _, m in clips])
    probs = _sampling_probs(items, cfg.source_share)

    model = TextMotionModel(TextMotionConfig(**cfg.network))
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    other = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0}],
        lr=cfg.lr,
    )

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))

    model.train()
    losses, running = [], []
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        picks = rng.choice(len(items), size=cfg.batch_size, p=probs)
        feats, text_ids, keys = [], [], []
        for i in picks:
            it = items[i]
            flip = rng.random() < cfg.mirror_prob
            f = it.mirrored if flip else it.features
            n = min(int(rng.integers(cfg.min_crop, cfg.max_crop + 1)), len(f))
            start = int(rng.integers(0, len(f) - n + 1))
            feats.append(norm.normalize(crop_features(f, start, n)))
            options = it.mirrored_texts if flip else it.texts
            text_ids.append(options[int(rng.integers(len(options)))])
            keys.append(it.mirrored_key if flip else it.key)
        x, mask = _pad_batch(feats)
        if cfg.noise > 0:
            x = x + cfg.noise * rng.standard_normal(x.shape).astype(np.float32) * mask[..., None]
        m = model.encode_motion(torch.from_numpy(x), torch.from_numpy(mask))
        t = model.encode_text(table[text_ids])
        logits = model.logit_scale.clamp(max=math.log(100.0)).exp() * (t @ m.T)
        key_ids = np.unique(keys, return_inverse=True)[1]
        same = torch.from_numpy(key_ids[:, None] == key_ids[None, :])
        logits = logits.masked_fill(same & ~torch.eye(len(keys), dtype=torch.bool), -1e4)
        target = torch.arange(len(keys))
        loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
            losses.append(float(np.mean(running)))
            running = []
            if progress is not None:
                progress(step + 1, cfg.steps, losses[-1])
    model.eval()
    seconds = time.perf_counter() - t0
    evaluator = TextMotionEvaluator(
        model,
        norm,
        max_frames=cfg.max_crop,
        info={
            "train": {**asdict(cfg), "seconds": round(seconds, 1)},
            "params": sum(p.numel() for p in model.parameters()),
            "train_clips": len(items),
            "train_texts": len(texts),
        },
    )
    metrics = {split: retrieval_on_real(evaluator, data, split) for split in eval_splits}
    evaluator.info["metrics"] = metrics
    return TrainResult(evaluator, seconds, losses, metrics)


def retrieval_on_real(evaluator: TextMotionEvaluator, data: PreparedData, split: str) -> dict:
    """R-precision (distinct-label batches of 32) of real clips of ``split`` and their texts."""
    clips = clip_features(data, split)
    if len(clips) < 32:
        return {"clips": len(clips)}
    motion = evaluator.encode_features([f for _, f, _ in clips])
    text = evaluator.encode_texts([clip_texts(rec)[0] for rec, _, _ in clips])
    keys = [label_key(rec.labels) for rec, _, _ in clips]
    scores = r_precision(text, motion, query="motion", groups=keys, seed=0)
    return {
        "clips": len(clips),
        "batches": scores.batches,
        "r_precision": [round(v, 4) for v in scores.top_k],
        "matching_distance": round(scores.matching_distance, 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m motiongen.eval.text_motion_train --out DIR`: train on the prepared data."""
    from motiongen.eval.train_cli import train_main

    def run(data, steps, batch_size, seed, progress):
        cfg = TrainConfig(steps=steps, batch_size=batch_size, seed=seed)
        result = train_evaluator(data, cfg, eval_splits=("val", "test"), progress=progress)
        return result.evaluator, result

    return train_main(
        argv,
        module="motiongen.eval.text_motion_train",
        what="text-motion evaluator",
        default_out=DEFAULT_DIR,
        steps=TrainConfig.steps,
        batch_size=TrainConfig.batch_size,
        run=run,
    )


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
