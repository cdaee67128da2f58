"""How fast each style moves, and a path walked at another pace.

Restyling a walk keeps its path, but a sad walk covers about half the ground of a normal one
in the same time (the Bandai sets: walks 0.49 m/s sad, 1.09 normal, 1.41 active). Kept at
the source's speed, a slower style's short steps could not keep up and the feet slid (97 % of
the frames of a walk restyled sad). ``style_pace`` measures, from labelled clips, each
style's speed as a share of its action's median over styles (stored with a checkpoint's
styles); ``paced_path`` walks a path at a share of its own speed.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from motiongen.evaluators.labels import style_label
from motiongen.skeleton import PELVIS

# An action counts as locomotion when its clips' median pelvis speed is above this (the
# Bandai in-place actions: 0.01-0.31 m/s, mostly swaying; the slowest walk cell: 0.42).
MOVING_SPEED = 0.4  # m/s


def ground_speed(positions: np.ndarray, fps: float) -> float:
    """Median horizontal speed of the pelvis, m/s (0 for a single frame)."""
    p = np.asarray(positions, dtype=np.float64)[:, PELVIS][:, [0, 2]]
    if len(p) < 2:
        return 0.0
    return float(np.median(np.linalg.norm(np.diff(p, axis=0), axis=1)) * fps)


def style_pace(clips: Iterable[tuple[dict[str, str], np.ndarray, float]]) -> dict[str, float]:
    """Style -> its speed as a share of the median over styles, the median over locomotion
    actions that recorded the style (sad ~0.55, normal ~1.0, active ~1.4).

    clips: (labels, (T, 22, 3) positions, fps) of labelled clips; clips without a content or
    style label (dances) are skipped. Actions whose median speed is under ``MOVING_SPEED``
    say nothing of pace and are left out; a style recorded with no locomotion is absent.
    """
    cells: dict[str, dict[str, list[float]]] = {}
    for labels, positions, fps in clips:
        content, style = labels.get("content"), style_label(labels)
        if not content or not style:
            continue
        cells.setdefault(content, {}).setdefault(style, []).append(ground_speed(positions, fps))
    shares: dict[str, list[float]] = {}
    for by_style in cells.values():
        speeds = {s: float(np.median(v)) for s, v in by_style.items()}
        typical = float(np.median(list(speeds.values())))
        if typical < MOVING_SPEED:
            continue
        for style, speed in speeds.items():
            shares.setdefault(style, []).append(speed / typical)
    return {s: round(float(np.median(v)), 3) for s, v in sorted(shares.items())}


def pace_ratio(
    pace: dict[str, float],
    source_probs: dict[str, float],
    target: str,
    blend: tuple[str, float] | None = None,
) -> float:
    """How much slower than the source a restyle to ``target`` (moved ``blend[1]`` of the
    way to ``blend[0]``) walks: the target's pace over the source's, the source's being its
    recognised style probabilities' mean pace; at most 1 (a faster style keeps the source's
    speed: sped up paths slid more on val, 0.36 -> 0.47 of frames). 1 when a style has no
    pace."""
    want = pace.get(target)
    if blend is not None:
        other = pace.get(blend[0])
        want = None if want is None or other is None else want + blend[1] * (other - want)
    weights = {s: p for s, p in source_probs.items() if s in pace}
    total = sum(weights.values())
    if want is None or total <= 0:
        return 1.0
    own = sum(p * pace[s] for s, p in weights.items()) / total
    return float(min(1.0, want / own))


def strided_path(positions: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``positions`` (T, 22, 3) whose every step along the floor is ``share`` (T,) of its own
    (the share of the step into each frame; 0 < share <= 1), each frame's pose moved with its
    pelvis: the same frames and turns at the same times, over less ground. For a timeline,
    where each segment's text belongs to its own frames: ``paced_path`` keeps turns at their
    place on the path instead, so a slowed walk backwards had not reached the place of the
    turn when the next segment's text said "turns to the left" (a new user's trial)."""
    p = np.asarray(positions, dtype=np.float64)
    share = np.asarray(share, dtype=np.float64)
    if share.shape != (len(p),) or not np.all((share > 0.0) & (share <= 1.0)):
        raise ValueError(f"share must be one number in (0, 1] per frame ({len(p)})")
    steps = np.diff(p[:, PELVIS, [0, 2]], axis=0)
    walked = np.concatenate([np.zeros((1, 2)), np.cumsum(share[1:, None] * steps, axis=0)])
    offset = walked - (p[:, PELVIS, [0, 2]] - p[0, PELVIS, [0, 2]])
    out = p.copy()
    out[..., 0] += offset[:, None, 0]
    out[..., 2] += offset[:, None, 1]
    return out


def segment_shares(
    shares: list[float], seconds: list[float], frames: int, fps: float
) -> np.ndarray:
    """(frames,) the share of its step each of ``frames`` frames at ``fps`` walks
    (``strided_path``): that of the segment (``seconds`` long each, in order) it falls in."""
    ends = np.cumsum(seconds)
    at = np.minimum(np.searchsorted(ends, np.arange(frames) / fps, "right"), len(shares) - 1)
    return np.asarray(shares, dtype=np.float64)[at]


def paced_path(positions: np.ndarray, ratio: float) -> np.ndarray:
    """``positions`` (T, 22, 3) walked at ``ratio`` (0 < ratio <= 1) of their speed along the
    same path, over the same frames: frame t shows the motion where it was once the pelvis had
    covered ``ratio`` of the ground it covered by t (so the path is covered ``ratio`` of the
    way, turns on it come at their place). The pelvis keeps its own height at t: the bob of
    the steps keeps the source's timing."""
    p = np.asarray(positions, dtype=np.float64)
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"ratio must be in (0, 1], got {ratio!r}")
    t = np.arange(len(p), dtype=np.float64)
    steps = np.linalg.norm(np.diff(p[:, PELVIS][:, [0, 2]], axis=0), axis=1)
    covered = np.concatenate([[0.0], np.cumsum(steps)])
    if ratio == 1.0 or covered[-1] <= 0.0:
        return p.copy()
    # the frame at which the source had covered that much ground (standing stretches, where
    # ``covered`` is flat, are passed through at their first frame)
    at = np.interp(ratio * covered, covered, t)
    lo = np.floor(at).astype(int)
    hi = np.minimum(lo + 1, len(p) - 1)
    w = (at - lo)[:, None, None]
    out = (1.0 - w) * p[lo] + w * p[hi]
    out[:, PELVIS, 1] = p[:, PELVIS, 1]
    return out
