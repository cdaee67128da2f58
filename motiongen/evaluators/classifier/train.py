"""Training the label classifier on the train split of the prepared real data.

Batches are random crops (60-196 frames) of source-balanced clips, mirrored half the time
(content labels swap left/right), with light feature noise; the loss is label-smoothed
cross-entropy on both heads. ``motiongen evaluator train classifier`` runs it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from motiongen.augment import mirror_label
from motiongen.errors import DataNotFoundError
from motiongen.evaluators.classifier.model import ClassifierConfig, LabelClassifier, MotionEncoder
from motiongen.evaluators.features import clip_features, random_crops, sampling_probs
from motiongen.evaluators.labels import IGNORE, build_vocab, content_label, style_label
from motiongen.evaluators.training import run_training
from motiongen.features import NormStats

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData


@dataclass
class ClassifierTrainConfig:
    steps: int = 1500  # optimiser steps
    batch_size: int = 64
    lr: float = 2e-3  # peak AdamW learning rate (warmup then cosine to 1/20 of it)
    warmup: int = 100
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    min_crop: int = 60  # random crop length range in frames at 20 fps (shorter clips: whole)
    max_crop: int = 196
    mirror_prob: float = 0.5  # left/right mirror (content labels swapped by mirror_label)
    noise: float = 0.05  # Gaussian noise on normalised features (robustness to jitter)
    # Share of each source in the training batches (sources not listed share the rest
    # evenly): dataset-2 has 14x the clips of dataset-1, which would otherwise be drowned.
    source_share: dict[str, float] = field(
        default_factory=lambda: {"bandai-2": 0.55, "bandai-1": 0.35, "dance": 0.10}
    )
    seed: int = 0
    network: dict[str, Any] = field(default_factory=dict)  # ClassifierConfig overrides


@dataclass
class _Item:
    name: str
    source: str
    features: np.ndarray  # (T, D) raw
    mirrored: np.ndarray  # (T, D) raw features of the mirrored clip
    content: int
    mirrored_content: int
    style: int


def _items(
    clips: list[tuple[Any, np.ndarray, np.ndarray]], contents: list[str], styles: list[str]
) -> list[_Item]:
    ci = {c: i for i, c in enumerate(contents)}
    si = {s: i for i, s in enumerate(styles)}
    items = []
    for rec, feats, mirrored in clips:
        c, s = content_label(rec.labels), style_label(rec.labels)
        items.append(
            _Item(
                name=rec.name,
                source=rec.source,
                features=feats,
                mirrored=mirrored,
                content=ci.get(c, IGNORE) if c else IGNORE,
                mirrored_content=ci.get(mirror_label(c), IGNORE) if c else IGNORE,
                style=si.get(s, IGNORE) if s else IGNORE,
            )
        )
    return items


@dataclass
class ClassifierTrainResult:
    classifier: LabelClassifier
    seconds: float
    losses: list[float]  # mean training loss per logging interval


def train_classifier(
    data: PreparedData,
    cfg: ClassifierTrainConfig | None = None,
    *,
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
    clips: list[tuple[Any, np.ndarray, np.ndarray]] | None = None,
) -> ClassifierTrainResult:
    """Train on the ``train`` split of prepared data.

    clips: (record, features, mirrored features) to train on instead of the train split's
    model features (another representation: the stick figures' ``stick.features``).

    progress(step, total, loss) is called every ``log_every`` steps. Deterministic for a
    given ``cfg.seed`` and thread count.
    """
    cfg = cfg or ClassifierTrainConfig()
    t0, cpu0 = time.perf_counter(), time.process_time()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    clips = clip_features(data, "train") if clips is None else clips
    if not clips:
        raise DataNotFoundError("the prepared data has no training clips to train on")
    contents, styles = build_vocab([rec for rec, _, _ in clips])
    items = _items(clips, contents, styles)
    norm = NormStats.compute([f for _, f, _ in clips] + [m for _, _, m in clips])
    probs = sampling_probs(items, cfg.source_share)

    net_cfg = ClassifierConfig(
        num_contents=len(contents), num_styles=len(styles),
        **{"feature_dim": int(clips[0][1].shape[1]), **cfg.network},
    )  # fmt: skip
    model = MotionEncoder(net_cfg)

    def batch_loss(step: int) -> torch.Tensor:
        picks = rng.choice(len(items), size=cfg.batch_size, p=probs)
        x, mask, flips = random_crops(
            items, picks, norm, rng, min_crop=cfg.min_crop, max_crop=cfg.max_crop,
            mirror_prob=cfg.mirror_prob, noise=cfg.noise,
        )  # fmt: skip
        yc = torch.tensor(
            [
                items[i].mirrored_content if f else items[i].content
                for i, f in zip(picks, flips, strict=True)
            ],
            dtype=torch.long,
        )
        ys = torch.tensor([items[i].style for i in picks], dtype=torch.long)
        _, cl, sl = model(x, mask)
        smooth = cfg.label_smoothing
        return F.cross_entropy(cl, yc, ignore_index=IGNORE, label_smoothing=smooth) + (
            F.cross_entropy(sl, ys, ignore_index=IGNORE, label_smoothing=smooth)
        )

    losses = run_training(
        model, batch_loss, steps=cfg.steps, lr=cfg.lr, warmup=cfg.warmup,
        weight_decay=cfg.weight_decay, progress=progress, log_every=log_every,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    clf = LabelClassifier(
        model,
        contents,
        styles,
        norm,
        max_frames=cfg.max_crop,
        info={
            "train": {
                **asdict(cfg),
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu_seconds, 1),
            },
            "params": sum(p.numel() for p in model.parameters()),
            "train_clips": len(items),
        },
    )
    return ClassifierTrainResult(clf, seconds, losses)
