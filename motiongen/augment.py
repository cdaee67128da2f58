"""Training augmentations on ``Motion`` objects: mirror, speed, body scale, placement.

Each function returns a new ``Motion`` (the input is not changed) and records what it did
in ``meta["augment"]`` (a list of strings, oldest first).
"""

from __future__ import annotations

import re
from typing import overload

import numpy as np

from motiongen.canonical import rotate_y
from motiongen.errors import InputError
from motiongen.motion import Motion
from motiongen.skeleton import FOOT_JOINTS, MIRROR_PERM, NUM_JOINTS, PELVIS

# Words that change meaning under a left/right mirror. "counterclockwise" must be tried
# before "clockwise"; the lookarounds keep "leftover" and "brighter" intact but match
# words split by non-letters: "left_hand", "wave-left-hand", "left2".
_SWAPS = {
    "left": "right",
    "right": "left",
    "leftward": "rightward",
    "rightward": "leftward",
    "leftwards": "rightwards",
    "rightwards": "leftwards",
    "counterclockwise": "clockwise",
    "counter-clockwise": "clockwise",
    "anticlockwise": "clockwise",
    "anti-clockwise": "clockwise",
    "clockwise": "counterclockwise",
}
_SWAP_RE = re.compile(
    r"(?<![a-z])("
    + "|".join(sorted((re.escape(w) for w in _SWAPS), key=len, reverse=True))
    + r")(?![a-z])",
    re.IGNORECASE,
)


def _match_case(word: str, template: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def mirror_label(text: str) -> str:
    """Swap left/right words (and clockwise/counterclockwise) in a text or label.

    "wave-left-hand" -> "wave-right-hand"; "Turns left, then right" -> "Turns right, then
    left"; case is kept. "left" as the past tense of "leave" is swapped too (a known limit).
    """
    return _SWAP_RE.sub(lambda m: _match_case(_SWAPS[m.group(0).lower()], m.group(0)), text)


def _mirror_positions(positions: np.ndarray) -> np.ndarray:
    pos = np.asarray(positions)
    if pos.ndim < 2 or pos.shape[-2:] != (NUM_JOINTS, 3):
        raise InputError(
            f"positions must have shape (..., {NUM_JOINTS}, 3), got {tuple(pos.shape)}"
        )
    out = pos[..., list(MIRROR_PERM), :].copy()
    out[..., 0] *= -1
    return out


def _with_note(meta: dict, note: str) -> dict:
    new = dict(meta)
    new["augment"] = [*meta.get("augment", []), note]
    return new


@overload
def mirror(motion: Motion) -> Motion: ...
@overload
def mirror(motion: np.ndarray) -> np.ndarray: ...
def mirror(motion: Motion | np.ndarray) -> Motion | np.ndarray:
    """Left/right mirror about the world plane x = 0.

    Every joint's x is negated and left/right joints trade places (``MIRROR_PERM``), so a
    canonical motion still faces +Z at frame 0 with its (new) left side at +X. For a
    ``Motion`` the texts, label values and per-frame actions swap their left/right words.
    Accepts positions (..., 22, 3) or a ``Motion``; returns the same kind.
    """
    if not isinstance(motion, Motion):
        return _mirror_positions(motion)
    actions = None if motion.actions is None else [mirror_label(a) for a in motion.actions]
    meta = _with_note(motion.meta, "mirror")
    if isinstance(segments := meta.get("segments"), list):  # a timeline's ("turns left" ...)
        meta["segments"] = [[mirror_label(str(t)), s] for t, s in segments]
    return motion.copy(
        positions=_mirror_positions(motion.positions),
        texts=[mirror_label(t) for t in motion.texts],
        labels={k: mirror_label(v) if isinstance(v, str) else v for k, v in motion.labels.items()},
        actions=actions,
        meta=meta,
    )


def _check_factor(factor: float, what: str) -> float:
    if not (np.isfinite(factor) and factor > 0):
        raise InputError(f"{what} factor must be a positive number, got {factor!r}")
    return float(factor)


def speed(motion: Motion, factor: float) -> Motion:
    """Play the motion ``factor`` times as fast at the same frame rate.

    factor 1.25 is 25 % faster: round(T / 1.25) frames, duration / 1.25. Positions are
    linearly interpolated in time; actions take the nearest source frame. Audio is dropped
    because it no longer lines up with the motion.
    """
    factor = _check_factor(factor, "speed")
    # Resampling to fps / factor and relabelling the result as fps plays it factor x faster.
    faster = motion.resample(motion.fps / factor)
    return faster.copy(
        fps=motion.fps,
        audio=None,
        meta=_with_note(motion.meta, f"speed {factor:g}"),
    )


def _floor_height(positions: np.ndarray) -> float:
    return float(positions[:, list(FOOT_JOINTS), 1].min())


def scale(motion: Motion, factor: float) -> Motion:
    """Make the body (and its trajectory) ``factor`` times as large, feet kept on the floor.

    All coordinates are scaled about the point under the frame-0 pelvis at the height of
    the lowest foot in the clip, so strides grow with the legs (no foot sliding) and that
    lowest foot stays at its height. Timing is unchanged.
    """
    factor = _check_factor(factor, "scale")
    pos = motion.positions.astype(np.float64)
    center = np.array([pos[0, PELVIS, 0], _floor_height(pos), pos[0, PELVIS, 2]])
    scaled = (pos - center) * factor + center
    return motion.copy(positions=scaled, meta=_with_note(motion.meta, f"scale {factor:g}"))


def translate(motion: Motion, offset: np.ndarray | tuple[float, float, float]) -> Motion:
    """Move the whole motion by ``offset`` (3,) metres (x, y, z)."""
    off = np.asarray(offset, dtype=np.float64)
    if off.shape != (3,) or not np.isfinite(off).all():
        raise InputError(f"offset must be three finite numbers (x, y, z), got {offset!r}")
    pos = motion.positions.astype(np.float64) + off
    note = "translate " + " ".join(f"{v:g}" for v in off)
    return motion.copy(positions=pos, meta=_with_note(motion.meta, note))


def rotate_about_y(
    motion: Motion, angle: float, *, pivot: tuple[float, float] | None = None
) -> Motion:
    """Turn the whole motion by ``angle`` radians about a vertical axis (right-handed, +Y).

    pivot: (x, z) of the axis; default the frame-0 pelvis, so the motion turns in place.
    """
    if not np.isfinite(angle):
        raise InputError(f"rotation angle must be a finite number of radians, got {angle!r}")
    pos = motion.positions.astype(np.float64)
    px, pz = (pos[0, PELVIS, 0], pos[0, PELVIS, 2]) if pivot is None else pivot
    center = np.array([px, 0.0, pz])
    turned = rotate_y(pos - center, float(angle)) + center
    return motion.copy(positions=turned, meta=_with_note(motion.meta, f"rotate_y {angle:g}"))
