"""A motion label classifier: content and style heads on a small temporal-conv encoder.

It scores generated motions (does "a person waves with the left hand sadly" look like the
real ``wave-left-hand`` / ``sad`` clips?) and, through ``embed``, serves as the motion
feature extractor for distribution metrics (FID, diversity).

Input: model features (``motiongen.features``, 20 fps, (T, 137)) normalised with the
classifier's own statistics; any length from a few frames to a few hundred (trained on random
crops of 60-196 frames). Network::

    x (B, T, 137) -> Linear -> 4 x residual [LayerNorm, Conv1d k=5 (dilation 1, 2, 4, 8), GELU,
    Conv1d k=1] -> masked mean + max over valid frames (B, 2W) -> Linear, GELU = embedding (B, E)
    -> content logits, style logits

Padded frames are zeroed after every layer and the convolutions pad with zeros, so a clip's
prediction does not depend on how much padding its batch has.

Labels (``content_label`` / ``style_label``): Bandai contents of both datasets share one
vocabulary ("walk" and "run" of dataset-1 and dataset-2 are one label each); style synonyms the
text prompts cannot tell apart are merged (``STYLE_SYNONYMS``); a dance clip's content is
``dance-<type>`` and it has no style label (dances are not acted in a style).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motiongen.augment import mirror, mirror_label
from motiongen.checkpoint import CONFIG_NAME, NORM_NAME, WEIGHTS_NAME
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.features import (
    FEATURE_DIM,
    MODEL_FPS,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    VEL,
    NormStats,
    motion_to_features,
    positions_to_features,
)
from motiongen.paths import PACKAGE_ROOT

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData
    from motiongen.motion import Motion

logger = logging.getLogger(__name__)

FORMAT = "motiongen-label-classifier"
VERSION = 1
DEFAULT_DIR = PACKAGE_ROOT / "assets" / "evaluators" / "label-classifier"
IGNORE = -100  # target index of a missing label (cross-entropy ignores it)

# Styles whose prompts (motiongen.data.text.STYLE_PHRASES) say the same thing in both Bandai
# datasets; a generator cannot tell them apart, so neither should the judge.
STYLE_SYNONYMS: dict[str, str] = {
    "masculinity": "masculine",
    "old": "elderly",
    "tired": "exhausted",
}


def content_label(labels: dict[str, str]) -> str | None:
    """The classifier's content label of a clip: Bandai content, ``dance-<type>``, or None."""
    if labels.get("dance_type"):
        return f"dance-{labels['dance_type']}"
    return labels.get("content") or None


def style_label(labels: dict[str, str]) -> str | None:
    """The classifier's style label (synonyms merged), or None (dances, unlabelled clips)."""
    if labels.get("dance_type"):
        return None
    style = labels.get("style") or None
    return STYLE_SYNONYMS.get(style, style) if style else None


# ---- network -----------------------------------------------------------------------------


@dataclass
class ClassifierConfig:
    num_contents: int  # content vocabulary size
    num_styles: int  # style vocabulary size
    feature_dim: int = FEATURE_DIM  # D: input features per frame
    width: int = 128  # W: channels of the conv trunk
    depth: int = 4  # residual blocks; block i has dilation 2**i
    kernel: int = 5  # temporal kernel size (frames)
    embed_dim: int = 128  # E: embedding size (the FID feature)
    dropout: float = 0.1  # before the heads

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise FormatError(f"unknown classifier config keys {unknown}; known: {sorted(known)}")
        return cls(**data)


class ConvBlock(nn.Module):
    """x + Conv1x1(GELU(ConvK(LayerNorm(x)))), dilated; (B, T, W) -> (B, T, W)."""

    def __init__(self, width: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = nn.Conv1d(width, width, kernel, dilation=dilation, padding="same")
        self.proj = nn.Conv1d(width, width, 1)

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        h = self.norm(x).transpose(1, 2)  # (B, W, T)
        h = self.proj(F.gelu(self.conv(h * keep.transpose(1, 2))))
        return (x + h.transpose(1, 2)) * keep


class MotionEncoder(nn.Module):
    """forward(x (B, T, D) normalised, mask (B, T) bool) -> (embedding (B, E), content logits
    (B, Nc), style logits (B, Ns))."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = c = config
        self.inp = nn.Linear(c.feature_dim, c.width)
        self.blocks = nn.ModuleList(ConvBlock(c.width, c.kernel, 2**i) for i in range(c.depth))
        self.norm = nn.LayerNorm(c.width)
        self.embed = nn.Linear(2 * c.width, c.embed_dim)
        self.drop = nn.Dropout(c.dropout)
        self.content_head = nn.Linear(c.embed_dim, c.num_contents)
        self.style_head = nn.Linear(c.embed_dim, c.num_styles)

    def encode(self, x: Tensor, mask: Tensor) -> Tensor:
        """Pooled embedding (B, E) of normalised features x (B, T, D) over ``mask`` (B, T)."""
        keep = mask[..., None].to(x.dtype)  # (B, T, 1)
        h = self.inp(x) * keep
        for block in self.blocks:
            h = block(h, keep)
        h = self.norm(h)
        count = keep.sum(dim=1).clamp_min(1.0)  # (B, 1)
        mean = (h * keep).sum(dim=1) / count
        peak = h.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
        return F.gelu(self.embed(torch.cat([mean, peak], dim=-1)))  # (B, E)

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        emb = self.encode(x, mask)
        h = self.drop(emb)
        return emb, self.content_head(h), self.style_head(h)


# ---- the classifier with its vocabularies and normalisation --------------------------------


@dataclass
class Predictions:
    """Per-motion predictions: labels, their probabilities and the embeddings.

    content, style: N predicted labels; content_prob, style_prob: (N,) their probabilities;
    content_probs (N, Nc), style_probs (N, Ns); embeddings (N, E).
    """

    content: list[str]
    style: list[str]
    content_prob: np.ndarray
    style_prob: np.ndarray
    content_probs: np.ndarray
    style_probs: np.ndarray
    embeddings: np.ndarray


def _pad_batch(clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Clips (T_i, D) -> (B, T_max, D) zero-padded and the (B, T_max) bool mask."""
    if not clips:
        raise InputError("no motions given to the classifier")
    length = max(len(c) for c in clips)
    x = np.zeros((len(clips), length, clips[0].shape[-1]), dtype=np.float32)
    mask = np.zeros((len(clips), length), dtype=bool)
    for i, c in enumerate(clips):
        x[i, : len(c)] = c
        mask[i, : len(c)] = True
    return x, mask


def center_crop(features: np.ndarray, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` frames from the middle of a clip (T, D), end velocities fixed."""
    length = len(features)
    if length <= max_frames:
        return features
    start = (length - max_frames) // 2
    return crop_features(features, start, max_frames)


def crop_features(features: np.ndarray, start: int, n: int) -> np.ndarray:
    """Rows [start, start + n) of a clip's features, as if the crop had been featurised alone.

    The features are invariant to where the clip starts and which way it faces, so a crop of
    the whole clip's features equals the crop's own features except the last frame, whose
    velocities repeat the frame before (``positions_to_features``); that is patched here.
    """
    out = features[start : start + n].copy()
    if start + n < len(features) and n >= 2:
        for block in (ROOT_ROT_VEL, ROOT_LIN_VEL, VEL):
            out[-1, block] = out[-2, block]
    return out


class LabelClassifier:
    """The trained classifier: network, label vocabularies and feature normalisation.

    >>> clf = LabelClassifier.from_pretrained()          # the shipped weights
    >>> clf.classify(motions).content                    # e.g. ["walk", "wave-left-hand"]
    >>> clf.embed(features)                              # (B, 128) for FID
    """

    def __init__(
        self,
        model: MotionEncoder,
        contents: list[str],
        styles: list[str],
        norm: NormStats,
        *,
        max_frames: int = 196,
        info: dict[str, Any] | None = None,
    ) -> None:
        if len(contents) != model.config.num_contents or len(styles) != model.config.num_styles:
            raise FormatError(
                f"classifier vocabularies ({len(contents)} contents, {len(styles)} styles) do "
                f"not match its heads ({model.config.num_contents}, {model.config.num_styles})"
            )
        self.model = model.eval()
        self.contents = list(contents)
        self.styles = list(styles)
        self.content_index = {c: i for i, c in enumerate(self.contents)}
        self.style_index = {s: i for i, s in enumerate(self.styles)}
        self.norm = norm
        self.max_frames = max_frames
        self.info = dict(info or {})

    @property
    def embed_dim(self) -> int:
        return self.model.config.embed_dim

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- inference ---------------------------------------------------------------------------
    def _as_clips(self, features: Any) -> list[np.ndarray]:
        if isinstance(features, torch.Tensor):
            features = features.detach().cpu().numpy()
        if isinstance(features, np.ndarray):
            if features.ndim == 2:
                features = features[None]
            if features.ndim != 3:
                raise InputError(
                    f"features must have shape (B, T, {FEATURE_DIM}) or (T, {FEATURE_DIM}), "
                    f"got {features.shape}"
                )
            features = list(features)
        clips = [np.asarray(f, dtype=np.float32) for f in features]
        for f in clips:
            if f.ndim != 2 or f.shape[-1] != FEATURE_DIM or len(f) < 1:
                raise InputError(
                    f"each motion's features must have shape (T, {FEATURE_DIM}) with T >= 1, "
                    f"got {f.shape}; use motiongen.features.motion_to_features"
                )
            if not np.isfinite(f).all():
                raise InputError("features contain NaN or infinite values")
        return [center_crop(f, self.max_frames) for f in clips]

    @torch.inference_mode()
    def _run(
        self, features: Any, mask: np.ndarray | None, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if mask is not None:
            arr = np.asarray(
                features.detach().cpu() if isinstance(features, torch.Tensor) else features
            )
            m = np.asarray(mask, dtype=bool)
            if arr.ndim != 3 or m.shape != arr.shape[:2]:
                raise InputError(
                    f"mask must have shape (B, T) of the features {arr.shape[:2]}, got {m.shape}"
                )
            features = [a[k] for a, k in zip(arr, m, strict=True)]  # the real frames
        clips = self._as_clips(features)
        embs, cps, sps = [], [], []
        for i in range(0, len(clips), batch_size):
            x, m = _pad_batch([self.norm.normalize(c) for c in clips[i : i + batch_size]])
            emb, cl, sl = self.model(torch.from_numpy(x), torch.from_numpy(m))
            embs.append(emb.numpy())
            cps.append(torch.softmax(cl, -1).numpy())
            sps.append(torch.softmax(sl, -1).numpy())
        return np.concatenate(embs), np.concatenate(cps), np.concatenate(sps)

    def embed(
        self, features: Any, mask: np.ndarray | None = None, *, batch_size: int = 64
    ) -> np.ndarray:
        """Embeddings (B, E) of raw (unnormalised) model features.

        features: (B, T, 137) array or tensor (with ``mask`` (B, T) marking real frames), or
        a list of (T_i, 137) arrays. Clips longer than ``max_frames`` are centre-cropped.
        """
        return self._run(features, mask, batch_size)[0]

    def predict(
        self, features: Any, mask: np.ndarray | None = None, *, batch_size: int = 64
    ) -> Predictions:
        """Content and style predictions for raw model features (see ``embed``)."""
        emb, cp, sp = self._run(features, mask, batch_size)
        ci, si = cp.argmax(-1), sp.argmax(-1)
        rows = np.arange(len(ci))
        return Predictions(
            content=[self.contents[i] for i in ci],
            style=[self.styles[i] for i in si],
            content_prob=cp[rows, ci],
            style_prob=sp[rows, si],
            content_probs=cp,
            style_probs=sp,
            embeddings=emb,
        )

    def classify(self, motions: Sequence[Motion], *, batch_size: int = 64) -> Predictions:
        """Predictions for motions at any frame rate (resampled to 20 fps first)."""
        return self.predict([motion_to_features(m) for m in motions], batch_size=batch_size)

    def embed_motions(self, motions: Sequence[Motion], *, batch_size: int = 64) -> np.ndarray:
        """Embeddings (N, E) of motions at any frame rate."""
        return self.embed([motion_to_features(m) for m in motions], batch_size=batch_size)

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (no pickle) and ``norm.npz``."""
        from motiongen.checkpoint import write_model_folder

        config = {
            "format": FORMAT,
            "version": VERSION,
            "model": asdict(self.model.config),
            "contents": self.contents,
            "styles": self.styles,
            "style_synonyms": STYLE_SYNONYMS,
            "fps": MODEL_FPS,
            "max_frames": self.max_frames,
            "info": self.info,
        }
        return write_model_folder(path, self.model, self.norm, config, FORMAT)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None) -> LabelClassifier:
        """Load a saved classifier folder (None: the one shipped with motiongen)."""
        from motiongen.checkpoint import load_checked_state

        path = Path(path) if path is not None else DEFAULT_DIR
        cfg_path = path / CONFIG_NAME
        if not cfg_path.is_file():
            raise DataNotFoundError(
                f"no label classifier at {path} ({CONFIG_NAME} missing); train one with "
                "`python -m motiongen.eval.classifier --out DIR`"
            )
        try:
            raw = json.loads(cfg_path.read_text())
            if raw.get("format") != FORMAT:
                raise FormatError(f"{cfg_path} is not a motiongen label-classifier config")
            if raw.get("version") != VERSION:
                raise FormatError(
                    f"classifier {path} has version {raw.get('version')}; this code reads {VERSION}"
                )
            config = ClassifierConfig.from_dict(raw["model"])
            contents, styles = list(raw["contents"]), list(raw["styles"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise FormatError(f"classifier config {cfg_path} is unreadable ({err})") from err
        model = MotionEncoder(config)
        state = load_checked_state(model, path / WEIGHTS_NAME, f"classifier {path}")
        model.load_state_dict(state)
        norm = NormStats.load(path / NORM_NAME)
        return cls(
            model,
            contents,
            styles,
            norm,
            max_frames=int(raw.get("max_frames", 196)),
            info=raw.get("info", {}),
        )


# ---- training ----------------------------------------------------------------------------


@dataclass
class TrainConfig:
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


def clip_features(
    data: PreparedData, split: str, min_frames: int = 8
) -> list[tuple[Any, np.ndarray, np.ndarray]]:
    """(record, features, mirrored features) of every kept clip of ``split`` at 20 fps."""
    out = []
    for rec in data.select(split=split):
        m = data.motion(rec)
        if abs(m.fps - MODEL_FPS) > 1e-9:
            m = m.resample(MODEL_FPS)
        if m.num_frames < min_frames:
            continue
        feats = positions_to_features(m.positions, MODEL_FPS)
        mirrored = positions_to_features(mirror(m.positions), MODEL_FPS)
        out.append((rec, feats, mirrored))
    return out


def build_vocab(records: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Sorted content and style vocabularies of clip records (mirror images included)."""
    contents, styles = set(), set()
    for rec in records:
        c, s = content_label(rec.labels), style_label(rec.labels)
        if c:
            contents.update({c, mirror_label(c)})
        if s:
            styles.add(s)
    if not contents or not styles:
        raise InputError("the training clips carry no content and style labels to learn")
    return sorted(contents), sorted(styles)


def _batch(
    items: list[_Item],
    probs: np.ndarray,
    cfg: TrainConfig,
    norm: NormStats,
    rng: np.random.Generator,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    picks = rng.choice(len(items), size=cfg.batch_size, p=probs)
    clips, content, style = [], [], []
    for i in picks:
        it = items[i]
        flip = rng.random() < cfg.mirror_prob
        feats = it.mirrored if flip else it.features
        n = min(int(rng.integers(cfg.min_crop, cfg.max_crop + 1)), len(feats))
        start = int(rng.integers(0, len(feats) - n + 1))
        clips.append(norm.normalize(crop_features(feats, start, n)))
        content.append(it.mirrored_content if flip else it.content)
        style.append(it.style)
    x, mask = _pad_batch(clips)
    if cfg.noise > 0:
        x = x + cfg.noise * rng.standard_normal(x.shape).astype(np.float32) * mask[..., None]
    return (
        torch.from_numpy(x),
        torch.from_numpy(mask),
        torch.tensor(content, dtype=torch.long),
        torch.tensor(style, dtype=torch.long),
    )


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


def _sampling_probs(items: list[_Item], share: dict[str, float]) -> np.ndarray:
    sources = sorted({it.source for it in items})
    listed = {s: share[s] for s in sources if s in share}
    rest = [s for s in sources if s not in share]
    left = max(0.0, 1.0 - sum(listed.values()))
    weights = {**listed, **{s: left / len(rest) for s in rest}} if rest else listed
    total = sum(weights.values()) or 1.0
    counts = {s: sum(1 for it in items if it.source == s) for s in sources}
    p = np.array([weights[it.source] / total / counts[it.source] for it in items])
    return p / p.sum()


@dataclass
class TrainResult:
    classifier: LabelClassifier
    seconds: float
    losses: list[float]  # mean training loss per logging interval
    metrics: dict[str, dict[str, Any]]  # split -> evaluate() output


def train_classifier(
    data: PreparedData,
    cfg: TrainConfig | None = None,
    *,
    eval_splits: tuple[str, ...] = ("val", "test"),
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
) -> TrainResult:
    """Train on the ``train`` split of prepared data; evaluate on ``eval_splits``.

    progress(step, total, loss) is called every ``log_every`` steps. Deterministic for a
    given ``cfg.seed`` and thread count.
    """
    cfg = cfg or TrainConfig()
    t0, cpu0 = time.perf_counter(), time.process_time()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    clips = clip_features(data, "train")
    if not clips:
        raise DataNotFoundError("the prepared data has no training clips to train on")
    contents, styles = build_vocab([rec for rec, _, _ in clips])
    items = _items(clips, contents, styles)
    norm = NormStats.compute([f for _, f, _ in clips] + [m for _, _, m in clips])
    probs = _sampling_probs(items, cfg.source_share)

    net_cfg = ClassifierConfig(num_contents=len(contents), num_styles=len(styles), **cfg.network)
    model = MotionEncoder(net_cfg)
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
        x, mask, yc, ys = _batch(items, probs, cfg, norm, rng)
        _, cl, sl = model(x, mask)
        loss = F.cross_entropy(
            cl, yc, ignore_index=IGNORE, label_smoothing=cfg.label_smoothing
        ) + F.cross_entropy(sl, ys, ignore_index=IGNORE, label_smoothing=cfg.label_smoothing)
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
    metrics = {split: evaluate(clf, data, split) for split in eval_splits}
    clf.info["metrics"] = metrics
    return TrainResult(clf, seconds, losses, metrics)


def evaluate(clf: LabelClassifier, data: PreparedData, split: str) -> dict[str, Any]:
    """Top-1 accuracy on the kept clips of ``split``, each clip whole (centre 196 frames).

    Returns {"clips", "content", "style", "both", "by_source": {source: {...}}}; accuracies
    count only clips whose label the classifier knows (``content_clips``, ``style_clips``).
    """
    clips = clip_features(data, split)
    if not clips:
        return {"clips": 0}
    pred = clf.predict([f for _, f, _ in clips])
    rows = []
    for (rec, _, _), pc, ps in zip(clips, pred.content, pred.style, strict=True):
        c, s = content_label(rec.labels), style_label(rec.labels)
        rows.append(
            (
                rec.source,
                None if c not in clf.content_index else pc == c,
                None if s not in clf.style_index else ps == s,
            )
        )
    return _accuracy(rows) | {
        "by_source": {
            src: _accuracy([r for r in rows if r[0] == src]) for src in sorted({r[0] for r in rows})
        }
    }


def _accuracy(rows: list[tuple[str, bool | None, bool | None]]) -> dict[str, Any]:
    content = [r[1] for r in rows if r[1] is not None]
    style = [r[2] for r in rows if r[2] is not None]
    both = [r[1] and r[2] for r in rows if r[1] is not None and r[2] is not None]

    def mean(v: list[bool]) -> float | None:
        return round(float(np.mean(v)), 4) if v else None

    return {
        "clips": len(rows),
        "content_clips": len(content),
        "style_clips": len(style),
        "content": mean(content),
        "style": mean(style),
        "both": mean(both),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m motiongen.eval.classifier --out DIR`: train on the prepared real data."""
    from motiongen.eval.train_cli import train_main

    def run(data, steps, batch_size, seed, progress):
        cfg = TrainConfig(steps=steps, batch_size=batch_size, seed=seed)
        result = train_classifier(data, cfg, progress=progress)
        return result.classifier, result

    return train_main(
        argv,
        module="motiongen.eval.classifier",
        what="classifier",
        default_out=DEFAULT_DIR,
        steps=TrainConfig.steps,
        batch_size=TrainConfig.batch_size,
        run=run,
    )


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
