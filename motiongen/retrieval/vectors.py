"""The index's vectors: text embedding ⊕ motion statistics ⊕ learned motion embedding.

Each block is unit-normalised and scaled by the square root of its weight, and the whole
vector is unit-normalised, so the inner product is a weighted sum of the blocks' cosine
similarities. A query fills the blocks it has (a prompt: text; a music clip: the tempo
statistic; an example motion: statistics and motion embedding) and leaves the others at zero,
which adds nothing to any score: the missing blocks are neutral, not "average".

Motion statistics are z-scored with the index's own means, so they compare like with like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motiongen.errors import InputError

STAT_NAMES = ("log_energy", "tempo", "root_speed", "pelvis_range", "hand_height")


@dataclass
class VectorLayout:
    """Block sizes and weights of an index's vectors."""

    text_dim: int
    motion_dim: int
    text_weight: float = 1.0
    stats_weight: float = 0.3
    motion_weight: float = 0.5

    @property
    def stats_dim(self) -> int:
        return len(STAT_NAMES)

    @property
    def dim(self) -> int:
        return self.text_dim + self.stats_dim + self.motion_dim

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)

    def reach(self, blocks: set[str]) -> float:
        """The best inner product a query filling ``blocks`` (of "text", "stats", "motion")
        can reach with a phrase vector: scores divided by it are weighted mean cosines."""
        weights = {"text": self.text_weight, "stats": self.stats_weight,
                   "motion": self.motion_weight if self.motion_dim else 0.0}  # fmt: skip
        return float(np.sqrt(sum(weights[b] for b in blocks) / sum(weights.values())))

    def compose(
        self,
        n: int,
        *,
        text: np.ndarray | None = None,
        stats: np.ndarray | None = None,
        motion: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n, dim) float32 unit vectors from whichever blocks are given (others zero)."""
        out = np.zeros((n, self.dim), dtype=np.float32)
        spans = (
            (text, 0, self.text_dim, self.text_weight, "text"),
            (stats, self.text_dim, self.stats_dim, self.stats_weight, "stats"),
            (motion, self.text_dim + self.stats_dim, self.motion_dim, self.motion_weight, "motion"),
        )
        for block, at, width, weight, name in spans:
            if block is None or width == 0:
                continue
            block = np.asarray(block, dtype=np.float32).reshape(n, -1)
            if block.shape[1] != width:
                raise InputError(
                    f"{name} embedding has {block.shape[1]} dimensions but this index was built "
                    f"with {width}; query with the encoder the index was built with "
                    "(see `motiongen index info`) or rebuild the index"
                )
            out[:, at : at + width] = unit(block) * np.sqrt(weight)
        return unit(out)


def unit(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (zero rows stay zero)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norm, 1e-12)).astype(np.float32)


def motion_stats(positions: np.ndarray, fps: float, tempo: float) -> np.ndarray:
    """The raw statistics of ``STAT_NAMES`` for one motion (T, 22, 3)."""
    from motiongen.retrieval.phrases import joint_speed
    from motiongen.skeleton import JOINT_INDEX

    pelvis = positions[:, 0]
    root_step = np.linalg.norm(np.diff(pelvis[:, [0, 2]], axis=0), axis=-1) * fps
    hands = positions[:, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]], 1]
    return np.array(
        [
            np.log(max(float(joint_speed(positions, fps).mean()), 1e-3)),
            tempo / 120.0 if tempo > 0 else 0.0,
            float(root_step.mean()) if len(root_step) else 0.0,
            float(np.ptp(pelvis[:, 1])),
            float((hands - pelvis[:, None, 1]).mean()),
        ],
        dtype=np.float32,
    )


@dataclass
class StatsScaler:
    """Per-statistic mean and std of an index's phrases (z-scores for comparison)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, stats: Sequence[np.ndarray]) -> StatsScaler:
        arr = np.stack(stats).astype(np.float64)
        return cls(arr.mean(axis=0), np.maximum(arr.std(axis=0), 1e-6))

    def __call__(self, stats: np.ndarray) -> np.ndarray:
        return ((np.asarray(stats) - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> StatsScaler:
        return cls(np.asarray(data["mean"]), np.asarray(data["std"]))
