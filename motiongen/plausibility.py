"""One plausibility gate for every motion a reader returns (and every generated one).

A reader that parses a file without complaint can still hand over nonsense: values of 1e30,
integers taken as metres, centimetres taken as metres, a frame rate of 1e-30. These checks
turn that into one clear error naming the file and the problem:

- every coordinate finite and within ``MAX_ABS_POSITION`` (1 km) of the origin;
- ``MIN_FPS`` <= fps <= ``MAX_FPS``;
- a human-sized body: the median lengths of the leg (hip-knee-ankle-toe) plus the spine
  (pelvis to head) between ``MIN_STATURE`` and ``MAX_STATURE`` metres, which catches wrong
  units (centimetres read as metres make a 170 m person) and collapsed skeletons;
- Y up: a body whose spine lies flat or points down in nearly every frame was written with
  another up axis (a Z-up export read as Y-up walks lying on its back, flying upwards).
"""

from __future__ import annotations

import math

import numpy as np

from motiongen.errors import FormatError
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS

# Metres. The longest motion the generator makes (120 s) can run 8 m/s; 100 m refused a
# 120 s walk the generator had written. Wrong units are the stature check's to catch.
MAX_ABS_POSITION = 1000.0
MIN_FPS, MAX_FPS = 1.0, 1000.0
MIN_STATURE, MAX_STATURE = 0.4, 3.5  # metres: leg + spine chain, a toddler to a giant
# A spine (pelvis to head) rising less than this share of its length lies down; a motion
# lying down or upside down in more than LYING_SHARE of its frames is refused as written with
# another up axis (nothing in the data lies down that long; a fall or a roll stays legal).
LYING_RISE = 0.3
LYING_SHARE = 0.95

_LEG = ("left_hip", "left_knee", "left_ankle", "left_foot")
_SPINE = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")


def check_fps(fps: object, what: str) -> float:
    """The frame rate as a float, or ``FormatError`` unless MIN_FPS <= fps <= MAX_FPS."""
    try:
        value = float(fps)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise FormatError(f"{what}: frame rate {fps!r} is not a number") from None
    if not (math.isfinite(value) and MIN_FPS <= value <= MAX_FPS):
        raise FormatError(
            f"{what}: frame rate {value:g} fps is outside {MIN_FPS:g}..{MAX_FPS:g} fps "
            "(a frame time in seconds written as frames per second, or the reverse?)"
        )
    return value


def chain_length(positions: np.ndarray, names: tuple[str, ...]) -> float:
    """Median over frames of the summed segment lengths along a chain of joints, metres."""
    idx = [JOINT_INDEX[n] for n in names]
    seg = np.linalg.norm(np.diff(positions[:, idx], axis=1), axis=-1)  # (T, len - 1)
    return float(np.median(seg.sum(axis=1)))


def stature(positions: np.ndarray) -> float:
    """Leg plus spine chain length (metres): about 0.9 of standing height for a person."""
    return chain_length(positions, _LEG) + chain_length(positions, _SPINE)


def check_motion(positions: np.ndarray, fps: object, what: str) -> None:
    """``FormatError`` unless (T, 22, 3) positions at ``fps`` look like a human motion."""
    check_fps(fps, what)
    p = np.asarray(positions)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3) or p.shape[0] < 1:
        raise FormatError(f"{what}: positions have shape {p.shape}; expected (T, 22, 3)")
    if not np.issubdtype(p.dtype, np.floating):
        raise FormatError(f"{what}: positions are {p.dtype}; expected real numbers in metres")
    if not np.isfinite(p).all():
        raise FormatError(f"{what}: positions contain NaN or infinite values")
    far = float(np.abs(p).max())
    if far > MAX_ABS_POSITION:
        raise FormatError(
            f"{what}: a joint lies {far:.3g} m from the origin (more than "
            f"{MAX_ABS_POSITION:g} m); the values are corrupt or not in metres"
        )
    size = stature(p.astype(np.float64))
    if not MIN_STATURE <= size <= MAX_STATURE:
        hint = ""
        if size > MAX_STATURE:
            hint = " (centimetres read as metres? divide by 100)"
        elif size > 0:
            hint = " (a collapsed skeleton, or metres read as centimetres?)"
        raise FormatError(
            f"{what}: the skeleton's leg and spine measure {size:.3g} m, outside a human's "
            f"{MIN_STATURE:g}..{MAX_STATURE:g} m{hint}"
        )
    _check_up_axis(p.astype(np.float64), what)


def _check_up_axis(p: np.ndarray, what: str) -> None:
    """``FormatError`` for a body lying flat or upside down in nearly every frame."""
    spine = p[:, JOINT_INDEX["head"]] - p[:, JOINT_INDEX["pelvis"]]  # (T, 3)
    rise = spine[:, 1] / np.maximum(np.linalg.norm(spine, axis=-1), 1e-9)
    if np.mean(rise < LYING_RISE) <= LYING_SHARE:
        return
    if np.mean(rise < -LYING_RISE) > LYING_SHARE:
        raise FormatError(
            f"{what}: the body stands upside down in every frame (head below the pelvis): "
            "motiongen reads Y up; flip the file's Y axis (and Z, to keep it right-handed)"
        )
    axis = "XZ"[int(np.argmax(np.abs(np.median(spine[:, [0, 2]], axis=0))))]
    raise FormatError(
        f"{what}: the body lies along the floor in every frame (the spine points along "
        f"{axis}, not up): a {axis}-up file? motiongen reads Y up; reorder the axes, e.g. "
        "(x, y, z) -> (x, z, -y) for a Z-up export"
    )
