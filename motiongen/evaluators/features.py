"""What both learned evaluators share: their motion input (crops of 20-fps model features),
the dilated-conv trunk with mean + max pooling, and the training batches (random crops,
mirror images, feature noise, source-balanced sampling)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motiongen.augment import mirror
from motiongen.errors import InputError
from motiongen.features import (
    MODEL_FPS,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    VEL,
    NormStats,
    positions_to_features,
)

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData


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


def pooled_trunk(
    inp: nn.Module, blocks: nn.ModuleList, norm: nn.Module, x: Tensor, mask: Tensor
) -> Tensor:
    """Linear -> dilated conv blocks -> LayerNorm -> [masked mean, masked max]: (B, 2W).

    x: (B, T, D) normalised features, mask (B, T) bool. Padded frames are zeroed after every
    layer and the convolutions pad with zeros, so padding never changes a clip's result.
    """
    keep = mask[..., None].to(x.dtype)  # (B, T, 1)
    h = inp(x) * keep
    for block in blocks:
        h = block(h, keep)
    h = norm(h)
    mean = (h * keep).sum(dim=1) / keep.sum(dim=1).clamp_min(1.0)
    peak = h.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)
    return torch.cat([mean, peak], dim=-1)


def pad_batch(clips: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Clips (T_i, D) -> (B, T_max, D) zero-padded and the (B, T_max) bool mask."""
    if not clips:
        raise InputError("no motions given to the evaluator")
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


def clip_features(
    data: PreparedData,
    split: str,
    min_frames: int = 8,
    features: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[tuple[Any, np.ndarray, np.ndarray]]:
    """(record, features, mirrored features) of every kept clip of ``split`` at 20 fps.

    features: positions (T, 22, 3) -> (T, D); default the 137 model features (another
    representation, e.g. the stick figures' ``stick.features.motion_stick_features``)."""
    if features is None:
        features = lambda p: positions_to_features(p, MODEL_FPS)  # noqa: E731
    out = []
    for rec in data.select(split=split):
        m = data.motion(rec)
        if abs(m.fps - MODEL_FPS) > 1e-9:
            m = m.resample(MODEL_FPS)
        if m.num_frames < min_frames:
            continue
        out.append((rec, features(m.positions), features(mirror(m.positions))))
    return out


class CropSource(Protocol):
    source: str
    features: np.ndarray  # (T, D) raw features
    mirrored: np.ndarray  # (T, D) raw features of the mirror image


def sampling_probs(items: Sequence[CropSource], share: dict[str, float]) -> np.ndarray:
    """Per-item draw probabilities giving each source its ``share`` (sources not listed
    split the rest evenly), items of one source equally likely."""
    sources = sorted({it.source for it in items})
    listed = {s: share[s] for s in sources if s in share}
    rest = [s for s in sources if s not in share]
    left = max(0.0, 1.0 - sum(listed.values()))
    weights = {**listed, **{s: left / len(rest) for s in rest}} if rest else listed
    total = sum(weights.values()) or 1.0
    counts = {s: sum(1 for it in items if it.source == s) for s in sources}
    p = np.array([weights[it.source] / total / counts[it.source] for it in items])
    return p / p.sum()


def random_crops(
    items: Sequence[CropSource],
    picks: np.ndarray,
    norm: NormStats,
    rng: np.random.Generator,
    *,
    min_crop: int,
    max_crop: int,
    mirror_prob: float,
    noise: float,
) -> tuple[Tensor, Tensor, list[bool]]:
    """A training batch of the picked items: a random crop of min_crop..max_crop frames (whole
    clips when shorter), the mirror image with ``mirror_prob``, normalised, padded, plus
    Gaussian noise of std ``noise`` on real frames. Returns x (B, T, D), mask (B, T) and
    which items were mirrored."""
    clips, flips = [], []
    for i in picks:
        it = items[i]
        flip = bool(rng.random() < mirror_prob)
        feats = it.mirrored if flip else it.features
        n = min(int(rng.integers(min_crop, max_crop + 1)), len(feats))
        start = int(rng.integers(0, len(feats) - n + 1))
        clips.append(norm.normalize(crop_features(feats, start, n)))
        flips.append(flip)
    x, mask = pad_batch(clips)
    if noise > 0:
        x = x + noise * rng.standard_normal(x.shape).astype(np.float32) * mask[..., None]
    return torch.from_numpy(x), torch.from_numpy(mask), flips
