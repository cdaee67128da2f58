"""How near a motion comes to a training take: the mean joint distance to the nearest take of
its label (both canonicalised: facing +Z, pelvis over the origin, feet on the floor; the take's
best start, every ``hop`` frames). The default samples from a retrieved training take, so its
scores could measure copying; the held-out real windows give the level the data's own near-
repeats reach (one actor records several takes of each action and style)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motiongen.canonical import canonicalize


def nearest_take(positions: np.ndarray, takes: Sequence[np.ndarray], hop: int = 5) -> float:
    """Metres: the least mean joint distance between ``positions`` (T, 22, 3) and any
    stretch of a take (each (T_i, 22, 3), canonicalised or not) as long as both, each
    canonicalised from its own first frame; inf without takes."""
    motion = canonicalize(positions)
    best = np.inf
    for take in takes:
        n = min(len(motion), len(take))
        for start in range(0, len(take) - n + 1, max(1, hop)):
            stretch = canonicalize(take[start : start + n])
            best = min(best, float(np.linalg.norm(stretch - motion[:n], axis=-1).mean()))
    return best
