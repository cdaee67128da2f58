"""Control results at the frame rate the user's motion came in, its given frames untouched.

Control tasks run at the model's frame rate (20 fps): a 30- or 60-fps take to continue, edit
or restyle is resampled down first. Handing back 20 fps would halve an animator's frame rate
and change the frames the task promised to keep (they were interpolated twice). So the
result goes back to the source's rate, and every joint of every source frame the task keeps
(decided at the source's rate: the past, the frames outside an edited span, the joints not
edited, keyframes, a restyled path) is pasted from the source exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from motiongen.motion import Motion
from motiongen.skeleton import NUM_JOINTS, PELVIS


@dataclass
class SourceRate:
    """fps: the source's frame rate; kept: (N, 22, 3) the result's N frames at that rate,
    holding the source's value of every joint of every frame the task keeps, NaN elsewhere."""

    fps: float
    kept: np.ndarray


def frame_at(seconds: float, fps: float) -> int:
    """The frame at ``seconds``, halves rounded up (Python's ``round`` takes halves to the even
    frame: a keyframe on a tie landed a frame apart at 24 fps and at 20)."""
    return int(np.floor(seconds * fps + 0.5))


def source_rate(fps: float, model_fps: float, kept: np.ndarray) -> SourceRate | None:
    """The source of a control task, ``kept`` as in ``SourceRate``; None when the source is at
    the model's rate (nothing to do)."""
    if abs(fps - model_fps) < 1e-9:
        return None
    return SourceRate(float(fps), np.asarray(kept, dtype=np.float64))


def keyframes_kept(pieces: Sequence[tuple[float, np.ndarray]], fps: float) -> np.ndarray:
    """``SourceRate.kept`` of keyframes (start second, (k, 22, 3) frames at ``fps``): each from
    its own frame on, the result ending with the last."""
    starts = [frame_at(t, fps) for t, _ in pieces]
    kept = np.full((starts[-1] + len(pieces[-1][1]), NUM_JOINTS, 3), np.nan)
    for start, (_, frames) in zip(starts, pieces, strict=True):
        kept[start : start + len(frames)] = frames[: len(kept) - start]
    return kept


def at_source_rate(
    motion: Motion,
    source: SourceRate,
    own_height: bool = False,
    bones: np.ndarray | None = None,
) -> Motion:
    """``motion`` (at the model's rate) resampled to the source's, the kept frames pasted;
    own_height: the pelvis's height as ``motion`` has it (a restyle keeps its path over the
    ground: pasted whole, the source's height pulled the pelvis off the hips by up to 10 cm).
    bones: (21,) the body's bone lengths (the ones ``motion`` was made with), given to the
    resampled frames again (interpolated between model frames, a kicking leg's bones came out
    up to 6 mm short: a BVH, which holds one length per bone, then moved the kept frames by
    1.8 mm; a new user's trial); None: as interpolated."""
    out = motion.resample(source.fps, frames=len(source.kept))
    kept = np.isfinite(source.kept).all(axis=-1)
    pos = out.positions.astype(np.float64)
    height = pos[:, PELVIS, 1].copy()

    def pasted(p: np.ndarray) -> np.ndarray:
        p[kept] = source.kept[kept]
        if own_height:
            p[:, PELVIS, 1] = height
        return p

    pos = pasted(pos)
    if bones is not None:  # from the pasted joints (from the resampled pelvis: hips 0.3 mm off)
        from motiongen.postprocess.bones import fix_bone_lengths

        pos = pasted(fix_bone_lengths(pos, bones))
    out.positions = pos.astype(np.float32)
    out.meta["model_fps"] = motion.fps
    if "seconds" in out.meta:
        out.meta["seconds"] = round(out.num_frames / out.fps, 4)
    if "original_fps" not in motion.meta:  # resample's note would name the model's rate
        out.meta.pop("original_fps", None)
    return out


def edit_kept(
    positions: np.ndarray,
    fps: float,
    frames: tuple[float, float] | None,
    joints: Sequence[int] | None,
) -> np.ndarray:
    """``SourceRate.kept`` of an edit of ``positions`` (T, 22, 3) at ``fps``: everything but
    the source frames whose time lies in the span ``frames`` (start, end seconds; all frames
    when None) and, when given, only ``joints`` of those."""
    kept = np.array(positions, dtype=np.float64, copy=True)
    rows = slice(0, len(kept))
    if frames is not None:  # frame i is edited when start <= i / fps < end
        rows = slice(int(np.ceil(frames[0] * fps - 1e-6)), int(np.ceil(frames[1] * fps - 1e-6)))
    cols = list(range(NUM_JOINTS)) if joints is None else list(joints)
    kept[rows, cols] = np.nan
    return kept
