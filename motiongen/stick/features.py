"""What the stick-native models see: the 20 stick numbers made translation-free.

Per frame (22 numbers): the pelvis's (torso end point's) horizontal step to the next frame,
its height, then the 20 stick numbers with the pelvis's x subtracted from every x (heights
stay absolute: the floor is the floor). The inverse integrates the steps from x = 0, so
``stick_from_features(stick_features(s))`` is ``s`` moved to start at x = 0. Clips are seen
from the front (the canonical motion faces +Z at frame 0), as the story renderer shows them.
"""

from __future__ import annotations

import numpy as np

from motiongen.errors import InputError
from motiongen.stick.representation import STICK_DIM, to_stick

STICK_FEATURES = STICK_DIM + 2
PELVIS_X, PELVIS_Y = 6, 7  # the torso segment's lower end point in the 20 numbers
X_COLUMNS = np.arange(0, STICK_DIM, 2)


def stick_features(stick: np.ndarray) -> np.ndarray:
    """(T, 20) stick numbers -> (T, 22) model features."""
    s = np.asarray(stick, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] != STICK_DIM or len(s) < 1:
        raise InputError(f"stick numbers must be (frames, {STICK_DIM}), got {s.shape}")
    px = s[:, PELVIS_X]
    step = np.diff(px, append=px[-1:] if len(px) < 2 else 2 * px[-1] - px[-2])
    rel = s.copy()
    rel[:, X_COLUMNS] -= px[:, None]
    return np.concatenate([step[:, None], s[:, PELVIS_Y : PELVIS_Y + 1], rel], axis=1)


def stick_from_features(features: np.ndarray) -> np.ndarray:
    """(..., T, 22) model features -> (..., T, 20) stick numbers (path from x = 0)."""
    f = np.asarray(features, dtype=np.float64)
    if f.shape[-1] != STICK_FEATURES:
        raise InputError(f"stick features must have {STICK_FEATURES} numbers, got {f.shape[-1]}")
    px = np.concatenate([np.zeros_like(f[..., :1, 0]), np.cumsum(f[..., :-1, 0], axis=-1)], -1)
    out = f[..., 2:].copy()
    out[..., X_COLUMNS] += px[..., None]
    return out


def motion_stick_features(positions: np.ndarray) -> np.ndarray:
    """(T, 22, 3) canonical positions -> (T, 22) stick features, seen from the front."""
    return stick_features(to_stick(positions))
