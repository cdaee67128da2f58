"""Training the style encoder (``tasks.style``) on the train split's style labels.

Each batch holds ``styles_per_batch`` styles with ``clips_per_style`` crops each, the crops of
one style taken from clips of different contents where the data has them, so the supervised
contrastive loss (Khosla et al. 2020, https://arxiv.org/abs/2004.11362) can only pull a
style's crops together by what they share: the way of moving, not the action. Crops are
random 60-196 frames, mirrored half the time, with light feature noise (the evaluators'
batches, ``evaluators.features``). ``motiongen style train`` runs it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from motiongen.errors import DataNotFoundError
from motiongen.evaluators.features import clip_features, random_crops
from motiongen.evaluators.labels import content_label, style_label
from motiongen.evaluators.training import run_training
from motiongen.features import NormStats
from motiongen.tasks.style import StyleEncoder, StyleNet, StyleNetConfig

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData


@dataclass
class StyleTrainConfig:
    steps: int = 1500
    styles_per_batch: int = 12
    clips_per_style: int = 6
    lr: float = 2e-3
    warmup: int = 100
    weight_decay: float = 0.05
    temperature: float = 0.1
    min_crop: int = 60
    max_crop: int = 196
    mirror_prob: float = 0.5  # a mirror image moves in the same style
    noise: float = 0.05
    seed: int = 0
    network: dict[str, Any] = field(default_factory=dict)  # StyleNetConfig overrides


@dataclass
class _Item:
    name: str
    source: str
    features: np.ndarray
    mirrored: np.ndarray
    style: str
    content: str


@dataclass
class StyleTrainResult:
    encoder: StyleEncoder
    seconds: float
    losses: list[float]


def supcon_loss(z: Tensor, labels: Tensor, temperature: float) -> Tensor:
    """Supervised contrastive loss of unit vectors z (B, S) with integer labels (B,): for each
    anchor, the mean log-probability of its positives among all other samples."""
    sim = z @ z.T / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    positive = (labels[:, None] == labels[None, :]) & ~self_mask
    count = positive.sum(1).clamp_min(1)
    return -(log_prob.masked_fill(~positive, 0.0).sum(1) / count).mean()


def _items(data: PreparedData, split: str) -> list[_Item]:
    items = []
    for rec, feats, mirrored in clip_features(data, split):
        style, content = style_label(rec.labels), content_label(rec.labels)
        if style and content:
            items.append(_Item(rec.name, rec.source, feats, mirrored, style, content))
    return items


def _batch_picks(by_style: dict[str, dict[str, list[int]]], cfg: StyleTrainConfig,
                 rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Item indices: a few styles, a few crops each, spread over the style's contents."""
    names = sorted(by_style)
    chosen = rng.choice(len(names), size=min(cfg.styles_per_batch, len(names)), replace=False)
    picks = []
    for k in chosen:
        contents = by_style[names[k]]
        keys = sorted(contents)
        order = rng.permutation(len(keys))
        for j in range(cfg.clips_per_style):
            pool = contents[keys[order[j % len(keys)]]]
            picks.append(pool[int(rng.integers(0, len(pool)))])
    return np.asarray(picks)


def prototypes(encoder: StyleEncoder, items: list[_Item]) -> dict[str, np.ndarray]:
    """Per style, the normalised mean vector of its clips and of their mirror images."""
    vectors = encoder.embed([it.features for it in items] + [it.mirrored for it in items])
    styles = [it.style for it in items] * 2
    out = {}
    for style in sorted(set(styles)):
        mean = vectors[[i for i, s in enumerate(styles) if s == style]].mean(0)
        out[style] = (mean / max(np.linalg.norm(mean), 1e-12)).astype(np.float32)
    return out


def train_style_encoder(
    data: PreparedData,
    cfg: StyleTrainConfig | None = None,
    *,
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
) -> StyleTrainResult:
    """Train on the style-labelled clips of the ``train`` split; prototypes from them too."""
    cfg = cfg or StyleTrainConfig()
    t0, cpu0 = time.perf_counter(), time.process_time()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    items = _items(data, "train")
    if len({it.style for it in items}) < 2:
        raise DataNotFoundError("the training clips carry fewer than two style labels to learn")
    by_style: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, it in enumerate(items):
        by_style[it.style][it.content].append(i)
    style_ids = {s: k for k, s in enumerate(sorted(by_style))}
    norm = NormStats.compute([it.features for it in items] + [it.mirrored for it in items])
    model = StyleNet(StyleNetConfig(**cfg.network))

    def batch_loss(step: int) -> Tensor:
        picks = _batch_picks(by_style, cfg, rng)
        x, mask, _ = random_crops(
            items, picks, norm, rng, min_crop=cfg.min_crop, max_crop=cfg.max_crop,
            mirror_prob=cfg.mirror_prob, noise=cfg.noise,
        )  # fmt: skip
        labels = torch.tensor([style_ids[items[i].style] for i in picks])
        return supcon_loss(model(x, mask), labels, cfg.temperature)

    losses = run_training(
        model, batch_loss, steps=cfg.steps, lr=cfg.lr, warmup=cfg.warmup,
        weight_decay=cfg.weight_decay, progress=progress, log_every=log_every,
    )  # fmt: skip
    encoder = StyleEncoder(model, norm, {}, max_frames=cfg.max_crop)
    encoder.prototypes = prototypes(encoder, items)
    seconds = time.perf_counter() - t0
    encoder.info = {
        "train": {
            **asdict(cfg),
            "seconds": round(seconds, 1),
            "cpu_seconds": round(time.process_time() - cpu0, 1),
        },  # fmt: skip
        "params": sum(p.numel() for p in model.parameters()),
        "train_clips": len(items),
    }
    return StyleTrainResult(encoder, seconds, losses)


def style_quality(encoder: StyleEncoder, data: PreparedData, split: str) -> dict[str, Any]:
    """How well the vectors tell styles apart on real clips of ``split``: nearest-prototype
    accuracy, and the mean cosine of clip pairs sharing the style but not the content against
    pairs sharing the content but not the style (a style vector should follow the former)."""
    items = _items(data, split)
    if not items:
        return {"clips": 0}
    vectors = encoder.embed([it.features for it in items])
    names = encoder.styles
    protos = np.stack([encoder.prototypes[s] for s in names])
    known = [i for i, it in enumerate(items) if it.style in encoder.prototypes]
    nearest = (vectors @ protos.T).argmax(1)
    accuracy = float(np.mean([names[nearest[i]] == items[i].style for i in known]))
    cos = vectors @ vectors.T
    same_style, same_content = [], []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            s = items[i].style == items[j].style
            c = items[i].content == items[j].content
            if s and not c:
                same_style.append(cos[i, j])
            elif c and not s:
                same_content.append(cos[i, j])

    def mean(v: list[float]) -> float | None:
        return round(float(np.mean(v)), 4) if v else None

    return {
        "clips": len(items),
        "nearest_prototype_accuracy": round(accuracy, 4),
        "cos_same_style_other_content": mean(same_style),
        "cos_same_content_other_style": mean(same_content),
    }
