"""Long motions from overlapping windows, stitched in position space.

A model samples at most ``window`` frames at once (196 = 9.8 s). A longer motion is a chain
of windows: each after the first starts ``overlap`` frames before the previous one ends and
is sampled with those frames known, then placed onto them (a turn about Y and a shift on
the ground, since each window's features start at the origin facing +Z) with a raised-cosine
crossfade over the overlap, so even an inexact overlap leaves no seam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from motiongen.canonical import rotate_y, yaw_between

# Consecutive windows share this much motion: long enough to carry velocity and the phase
# of a gait cycle (about 1 s) into the next window, short enough that a 9.8 s window still
# makes 7.8 s of new motion.
OVERLAP_SECONDS = 2.0

# (noise (B, L, D), audio (B, L, A) or None, known (B, L, D) or None, known_mask (B, L, 1)
# or None) -> normalised features (B, L, D) of one window.
WindowSampler = Callable[[Tensor, Tensor | None, Tensor | None, Tensor | None], Tensor]


def window_plan(total: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """Overlapping windows covering ``total`` frames: [(start, length), ...].

    Each window after the first starts ``overlap`` frames before the previous one ends; the
    last is only as long as needed. Requires 0 <= overlap < window.
    """
    if total <= window:
        return [(0, total)]
    plan = [(0, window)]
    while plan[-1][0] + plan[-1][1] < total:
        start = plan[-1][0] + plan[-1][1] - overlap
        plan.append((start, min(window, total - start)))
    return plan


def segment_plan(frames: list[int], window: int, overlap: int) -> list[tuple[int, int, int]]:
    """Windows for consecutive segments of ``frames`` each: [(start, length, segment)].

    Every window after the first starts ``overlap`` frames before the previous one ends (those
    frames are known while it is sampled) and belongs to one segment, whose new frames it
    makes; a segment longer than a window takes several.
    """
    if any(f < 1 for f in frames) or not frames:
        raise ValueError("segments need at least one frame each")
    plan: list[tuple[int, int, int]] = []
    end = 0
    for seg, n in enumerate(frames):
        target = end + n
        while end < target:
            if not plan:
                length = min(window, target)
                plan.append((0, length, seg))
                end = length
                continue
            start = max(0, end - overlap)  # a first segment shorter than the overlap: all of it
            length = min(window, target - start)
            plan.append((start, length, seg))
            end = start + length
    return plan


def fit_yaw(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation about +Y and ground translation taking ``source`` onto ``target`` (least
    squares over all points, in x and z).

    source, target: (B, N, 3). Returns angle (B,) for ``rotate_y`` and shift (B, 3), y = 0.
    """
    centred = [p - p.mean(axis=1, keepdims=True) for p in (source, target)]
    angle = yaw_between(*centred)  # (B,)
    rotated = rotate_y(source, angle)
    shift = (target - rotated).mean(axis=1)
    shift[:, 1] = 0.0
    return angle, shift


def place_on(positions: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``positions`` (B, T, 22, 3) turned and shifted so their first len(target) frames lie
    on ``target`` (n, 22, 3) as closely as a turn about Y and a ground shift allow."""
    n, batch = len(target), len(positions)
    goal = np.broadcast_to(target, (batch, *target.shape))
    angle, shift = fit_yaw(positions[:, :n].reshape(batch, -1, 3), goal.reshape(batch, -1, 3))
    return rotate_y(positions, angle[:, None]) + shift[:, None, None, :]


def stitch(out: np.ndarray, window: np.ndarray, start: int, overlap: int) -> None:
    """Write a window's positions into ``out`` from frame ``start``, in place.

    The window's first ``overlap`` frames repeat ``out[:, start : start + overlap]`` (they were
    known while sampling) up to a turn about Y and a shift on the ground: fit that motion
    over all joints, apply it, and crossfade over the overlap (raised cosine).
    out: (B, T, 22, 3); window: (B, L, 22, 3) with start + L <= T.
    """
    batch, length = window.shape[:2]
    angle, shift = fit_yaw(
        window[:, :overlap].reshape(batch, -1, 3),
        out[:, start : start + overlap].reshape(batch, -1, 3),
    )
    placed = rotate_y(window, angle[:, None]) + shift[:, None, None, :]
    w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 1) / (overlap + 1))
    w = w[None, :, None, None]
    seam = out[:, start : start + overlap]
    out[:, start : start + overlap] = (1 - w) * seam + w * placed[:, :overlap]
    out[:, start + overlap : start + length] = placed[:, overlap:]


# (start, length, reference pose (22, 3) at ``start`` or None) -> (values (L, C), mask (L, C))
# of the constraints falling in a window, or None.
ControlFn = Callable[[int, int, np.ndarray | None], tuple[np.ndarray, np.ndarray] | None]


def sample_windows(
    *,
    total: int,
    window: int,
    overlap: int,
    batch: int,
    feature_dim: int,
    noise: Callable[[int], Tensor],
    sample: WindowSampler,
    to_positions: Callable[[Tensor], tuple[np.ndarray, np.ndarray]],
    audio: Tensor | None = None,
    prefix: Tensor | None = None,
    plan: list[tuple[int, int]] | None = None,
    control_dim: int = 0,
    world: Callable[[np.ndarray], np.ndarray] | None = None,
    control: ControlFn | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (B, total, 22, 3) and per-frame flags (B, total, C) of ``batch`` motions
    sampled window by window.

    noise(length): each window's starting noise (B, length, D), drawn in window order.
    sample(noise, audio, known, known_mask, k): window k's normalised features.
    to_positions: normalised features (B, L, D) -> (positions (B, L, 22, 3), flags (B, L, C)),
    e.g. the foot contacts the model predicted; in an overlap the later window's flags count
    from the overlap's middle on.
    audio: (B, total, A) or None; prefix: (S, D) normalised features fixed at the start.
    plan: the windows [(start, length)] (default ``window_plan``; each after the first starts
    at most ``overlap`` frames before the previous one ends; those frames are carried over).
    control_dim: 0 for networks that take known features with a per-frame mask; C for control
    networks (known values with world channels and per-value masks): then ``world``
    (positions (L, 22, 3) -> (L, 4) world channels) expresses overlaps and the prefix in each
    window's own frame, and ``control`` adds the constraints of each window.
    """
    plan = plan or window_plan(total, window, overlap)
    out = np.zeros((batch, total, 22, 3), dtype=np.float64)
    flags: np.ndarray | None = None
    previous: Tensor | None = None  # the last window's normalised features (B, L, D)
    prefix_positions: np.ndarray | None = None
    if prefix is not None and control_dim:
        prefix_positions = to_positions(prefix[None])[0][0]  # (S, 22, 3)
    previous_end = 0
    for k, (start, length) in enumerate(plan):
        n_known = 0
        if k == 0 and prefix is not None:
            n_known = prefix.shape[0]
            values = prefix.expand(batch, -1, -1)
        elif previous is not None:
            n_known = previous_end - start
            if not 0 < n_known <= min(overlap, previous.shape[1]):
                raise ValueError(f"window {k} must start inside the previous one's last frames")
            values = previous[:, -n_known:]
        noise_k = noise(length)
        dev = noise_k.device
        if control_dim == 0:
            known = known_mask = None
            if n_known:
                known = torch.zeros(batch, length, feature_dim, device=dev)
                known[:, :n_known] = values
                known_mask = torch.zeros(batch, length, 1, device=dev)
                known_mask[:, :n_known] = 1.0
        else:
            known, known_mask = _control_known(
                out, k, start, length, n_known, values if n_known else None, batch,
                feature_dim, control_dim, world, control, prefix_positions, dev,
            )  # fmt: skip
        window_audio = None if audio is None else audio[:, start : start + length]
        x = sample(noise_k, window_audio, known, known_mask, k)
        previous = x
        pos, window_flags = to_positions(x)  # (B, L, 22, 3), (B, L, C)
        if flags is None:
            flags = np.zeros((batch, total, window_flags.shape[-1]), dtype=window_flags.dtype)
        if k == 0:
            out[:, :length] = pos
            flags[:, :length] = window_flags
        else:
            stitch(out, pos, start, n_known)
            half = n_known // 2
            flags[:, start + half : start + length] = window_flags[:, half:]
        previous_end = start + length
    assert flags is not None
    return out, flags


def _control_known(
    out: np.ndarray,
    k: int,
    start: int,
    length: int,
    n_known: int,
    values: Tensor | None,
    batch: int,
    feature_dim: int,
    control_dim: int,
    world: Callable[[np.ndarray], np.ndarray] | None,
    control: ControlFn | None,
    prefix_positions: np.ndarray | None,
    dev: torch.device,
) -> tuple[Tensor | None, Tensor | None]:
    """Known control values and per-value mask (B, L, C) of one window: the frames carried
    over (prefix or overlap: every value, world channels in this window's frame) and the
    constraints that fall in it."""
    known = torch.zeros(batch, length, control_dim, device=dev)
    mask = torch.zeros_like(known)
    world_slice = slice(feature_dim, feature_dim + 4)
    if n_known and values is not None:
        known[:, :n_known, :feature_dim] = values
        mask[:, :n_known] = 1.0
        for b in range(batch):
            carried = prefix_positions if k == 0 else out[b, start : start + n_known]
            if world is not None and carried is not None:
                known[b, :n_known, world_slice] = torch.as_tensor(world(carried), device=dev)
            elif world is None:
                mask[b, :n_known, world_slice] = 0.0
    if control is not None:
        for b in range(batch):
            reference = None if k == 0 else out[b, start]
            given = control(start, length, reference)
            if given is None:
                continue
            v, m = (torch.as_tensor(a, dtype=torch.float32, device=dev) for a in given)
            fresh = (m > 0) & (mask[b] == 0)
            known[b] = torch.where(fresh, v, known[b])
            mask[b] = torch.maximum(mask[b], m)
    if not mask.any():
        return None, None
    return known, mask
