"""Control results at the frame rate the user's motion came in, its given frames untouched.

Control tasks run at the model's frame rate (20 fps): a 30- or 60-fps take to continue, edit
or restyle is resampled down first. Handing back 20 fps would halve an animator's frame rate
and change the frames the task promised to keep (they were interpolated twice). So the
result goes back to the source's rate, and every joint of every source frame the task kept
(given in the model frame nearest to it) is pasted from the source exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motiongen.motion import Motion
from motiongen.skeleton import NUM_JOINTS


@dataclass
class SourceRate:
    """fps: the source's frame rate; canvas: (N, 22, 3) the source's frames where the result
    (N frames at ``fps``) has them, NaN elsewhere; known: (T, 22) what the task keeps, at the
    model's rate (``Constraints.known``)."""

    fps: float
    canvas: np.ndarray
    known: np.ndarray


def source_rate(
    fps: float,
    model_fps: float,
    pieces: Sequence[tuple[float, np.ndarray]],
    seconds: float,
    known: np.ndarray,
) -> SourceRate | None:
    """The source of a control task given as pieces (start second, (k, 22, 3) frames at
    ``fps``) of a ``seconds``-long result; None when the source is at the model's rate."""
    if abs(fps - model_fps) < 1e-9:
        return None
    n = max(1, int(round(seconds * fps)))
    canvas = np.full((n, NUM_JOINTS, 3), np.nan)
    for start, frames in pieces:
        a = int(round(start * fps))
        k = min(len(frames), n - a)
        if k > 0:
            canvas[a : a + k] = frames[:k]
    return SourceRate(float(fps), canvas, np.asarray(known, dtype=bool))


def at_source_rate(motion: Motion, source: SourceRate) -> Motion:
    """``motion`` (at the model's rate) resampled to the source's, the kept frames pasted."""
    out = motion.resample(source.fps, frames=len(source.canvas))
    t = np.arange(len(source.canvas)) * (motion.fps / source.fps)  # in model frames
    nearest = np.clip(np.floor(t + 0.5).astype(int), 0, len(source.known) - 1)
    kept = source.known[nearest] & np.isfinite(source.canvas).all(axis=-1)
    pos = out.positions.astype(np.float64)
    pos[kept] = source.canvas[kept]
    out.positions = pos.astype(np.float32)
    out.meta["model_fps"] = motion.fps
    if "original_fps" not in motion.meta:  # resample's note would name the model's rate
        out.meta.pop("original_fps", None)
    return out
