"""Training the text-motion evaluator on the train split (symmetric InfoNCE).

Batches are random crops of source-balanced clips, mirrored half the time (texts swap
left/right), each with one of its descriptions; clips of the anchor's own label pair are
masked out of its negatives. ``motiongen evaluator train text-motion`` runs it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from motiongen.augment import mirror_label
from motiongen.errors import DataNotFoundError
from motiongen.evaluators.features import clip_features, random_crops, sampling_probs
from motiongen.evaluators.labels import clip_texts, label_key
from motiongen.evaluators.text_motion.model import (
    TextMotionConfig,
    TextMotionEvaluator,
    TextMotionModel,
    sentence_embeddings,
)
from motiongen.evaluators.training import run_training
from motiongen.features import NormStats

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData


@dataclass
class TextMotionTrainConfig:
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
class TextMotionTrainResult:
    evaluator: TextMotionEvaluator
    seconds: float
    losses: list[float]


def train_text_motion(
    data: PreparedData,
    cfg: TextMotionTrainConfig | None = None,
    *,
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
) -> TextMotionTrainResult:
    """Train on the ``train`` split (``eval.evaluator_quality`` measures the result)."""
    cfg = cfg or TextMotionTrainConfig()
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    clips = clip_features(data, "train")
    if not clips:
        raise DataNotFoundError("the prepared data has no training clips to train on")
    texts = sorted({t for rec, _, _ in clips for t in clip_texts(rec)})
    texts = sorted(set(texts) | {mirror_label(t) for t in texts})
    sentences = {t: i for i, t in enumerate(texts)}
    from motiongen.conditioning.text import shared_text_encoder

    table = torch.from_numpy(sentence_embeddings(shared_text_encoder(), texts))
    items = _items(clips, sentences)
    norm = NormStats.compute([f for _, f, _ in clips] + [m for _, _, m in clips])
    probs = sampling_probs(items, cfg.source_share)

    model = TextMotionModel(TextMotionConfig(**cfg.network))

    def batch_loss(step: int) -> torch.Tensor:
        picks = rng.choice(len(items), size=cfg.batch_size, p=probs)
        x, mask, flips = random_crops(
            items, picks, norm, rng, min_crop=cfg.min_crop, max_crop=cfg.max_crop,
            mirror_prob=cfg.mirror_prob, noise=cfg.noise,
        )  # fmt: skip
        text_ids, keys = [], []
        for i, flip in zip(picks, flips, strict=True):
            it = items[i]
            options = it.mirrored_texts if flip else it.texts
            text_ids.append(options[int(rng.integers(len(options)))])
            keys.append(it.mirrored_key if flip else it.key)
        m = model.encode_motion(x, mask)
        t = model.encode_text(table[text_ids])
        logits = model.logit_scale.clamp(max=math.log(100.0)).exp() * (t @ m.T)
        key_ids = np.unique(keys, return_inverse=True)[1]
        same = torch.from_numpy(key_ids[:, None] == key_ids[None, :])
        logits = logits.masked_fill(same & ~torch.eye(len(keys), dtype=torch.bool), -1e4)
        target = torch.arange(len(keys))
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))

    losses = run_training(
        model, batch_loss, steps=cfg.steps, lr=cfg.lr, warmup=cfg.warmup,
        weight_decay=cfg.weight_decay, progress=progress, log_every=log_every,
    )  # fmt: skip
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
    return TextMotionTrainResult(evaluator, seconds, losses)
