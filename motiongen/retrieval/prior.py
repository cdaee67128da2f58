"""The prior builder: retrieved phrases -> one motion prior aligned to the target length.

softmax(score / temperature) weights; each phrase aligned to the target (time-stretched
toward the target tempo within ``max_stretch``, then stretched to fit when the length ratio
is within ``max_stretch``, else looped with a cross-fade or cut); a weighted blend of the
aligned phrases' features; Gaussian smoothing along time. The blend is in the model's feature
space (pose relative to the pelvis, root velocities), where averaging takes after the
shared shape of the phrases instead of their unrelated world paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motiongen.errors import InputError
from motiongen.features import features_to_positions, positions_to_features

CROSSFADE_SECONDS = 0.25
NEGLIGIBLE_WEIGHT = 1e-4  # a phrase weighted less is left out of the prior


@dataclass
class Prior:
    """features: (T, 137) raw model features; positions: (T, 22, 3) of them; phrases: what
    went in (id, clip, span, text, label, score, weight), best first."""

    features: np.ndarray
    phrases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def positions(self) -> np.ndarray:
        return features_to_positions(self.features)

    @property
    def frames(self) -> int:
        return len(self.features)


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) / max(temperature, 1e-6)
    z = np.exp(z - z.max())
    return z / z.sum()


def stretch(positions: np.ndarray, frames: int) -> np.ndarray:
    """``positions`` (T, 22, 3) resampled to ``frames`` frames by linear interpolation."""
    T = len(positions)
    if frames == T:
        return positions
    src = np.linspace(0.0, T - 1, frames)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (src - i0)[:, None, None]
    return positions[i0] * (1 - w) + positions[i1] * w


def loop_features(features: np.ndarray, frames: int, fade: int) -> np.ndarray:
    """Features repeated to ``frames`` frames; each repeat cross-fades in over ``fade``
    frames (root channels are velocities, so the path continues instead of jumping back)."""
    out = features.copy()
    fade = max(0, min(fade, len(features) // 2))
    while len(out) < frames:
        nxt = features.copy()
        if fade:
            w = np.linspace(0.0, 1.0, fade + 2)[1:-1, None]
            nxt[:fade] = out[-fade:] * (1 - w) + nxt[:fade] * w
            out = np.concatenate([out[:-fade], nxt])
        else:
            out = np.concatenate([out, nxt])
    return out[:frames]


@dataclass
class PriorBuilder:
    """How retrieved phrases become a prior (see the module docstring)."""

    temperature: float = 0.05
    sigma_seconds: float = 0.1
    max_stretch: float = 1.5

    def __post_init__(self) -> None:
        if not self.temperature > 0 or not self.max_stretch >= 1 or self.sigma_seconds < 0:
            raise InputError(
                "prior builder needs temperature > 0, max_stretch >= 1 and sigma_seconds >= 0"
            )

    def align(
        self,
        positions: np.ndarray,
        frames: int,
        fps: float,
        *,
        tempo: float = 0.0,
        phrase_tempo: float = 0.0,
    ) -> np.ndarray:
        """(frames, 137) features of one phrase aligned to the target length and tempo."""
        if len(positions) < 2:
            raise InputError("a phrase needs at least 2 frames")
        lo, hi = 1.0 / self.max_stretch, self.max_stretch
        if tempo > 0 and phrase_tempo > 0:  # play the phrase at the music's tempo
            factor = float(np.clip(phrase_tempo / tempo, lo, hi))
            positions = stretch(positions, max(2, int(round(len(positions) * factor))))
        elif lo <= frames / len(positions) <= hi:  # close enough: fit it exactly
            positions = stretch(positions, frames)
        feats = positions_to_features(positions, fps)
        if len(feats) >= frames:
            return feats[:frames]
        return loop_features(feats, frames, int(round(CROSSFADE_SECONDS * fps)))

    def build(
        self,
        motions: Sequence[np.ndarray],
        scores: Sequence[float],
        frames: int,
        fps: float,
        *,
        tempo: float = 0.0,
        phrase_tempi: Sequence[float] | None = None,
        phrases: list[dict[str, Any]] | None = None,
        temperature: float | None = None,
    ) -> Prior:
        """The blended prior of phrases (their positions and scores, best first)."""
        if not motions:
            raise InputError("no retrieved phrases to build a prior from")
        if len(motions) != len(scores):
            raise InputError(f"{len(motions)} phrases but {len(scores)} scores")
        if frames < 2:
            raise InputError(f"a prior needs at least 2 frames, got {frames}")
        weights = softmax(np.asarray(scores), temperature or self.temperature)
        tempi = phrase_tempi or [0.0] * len(motions)
        blend = np.zeros((frames, 137))
        for w, pos, pt in zip(weights, motions, tempi, strict=True):
            if w < NEGLIGIBLE_WEIGHT:  # it would cost an alignment for nothing
                continue
            blend += w * self.align(pos, frames, fps, tempo=tempo, phrase_tempo=pt)
        blend /= max(float(weights[weights >= NEGLIGIBLE_WEIGHT].sum()), 1e-12)
        sigma = self.sigma_seconds * fps
        if sigma > 0:
            blend = gaussian_filter1d(blend, sigma, axis=0, mode="nearest")
        info = [dict(p) for p in (phrases or [{} for _ in motions])]
        for item, w in zip(info, weights, strict=True):
            item["weight"] = round(float(w), 4)
        return Prior(blend.astype(np.float32), info)
