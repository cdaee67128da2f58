"""Putting positions into the canonical frame: facing +Z at frame 0, root over the origin,
lowest foot on the floor."""

from __future__ import annotations

import numpy as np

from motiongen.skeleton import (
    FOOT_JOINTS,
    LEFT_HIP,
    LEFT_SHOULDER,
    PELVIS,
    RIGHT_HIP,
    RIGHT_SHOULDER,
)


def forward_direction(positions: np.ndarray) -> np.ndarray:
    """Unit facing direction in the ground plane per frame.

    The body's left-to-right axis (hips and shoulders averaged) crossed with up gives forward:
    with the left side at +X and Y up, forward is +Z.
    positions: (T, 22, 3) -> (T, 3) with y = 0.
    """
    across = (positions[:, LEFT_HIP] - positions[:, RIGHT_HIP]) + (
        positions[:, LEFT_SHOULDER] - positions[:, RIGHT_SHOULDER]
    )
    up = np.array([0.0, 1.0, 0.0], dtype=positions.dtype)
    fwd = np.cross(across, up)
    fwd[:, 1] = 0.0
    norm = np.linalg.norm(fwd, axis=-1, keepdims=True)
    return fwd / np.maximum(norm, 1e-8)


def heading(positions: np.ndarray) -> np.ndarray:
    """Facing angle about +Y per frame, radians; 0 means facing +Z. (T, 22, 3) -> (T,)."""
    fwd = forward_direction(positions)
    return np.arctan2(fwd[:, 0], fwd[:, 2])


def rotate_y(points: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Rotate points (..., 3) about +Y by ``angle`` radians (right-handed).

    A per-frame angle array of shape (T,) rotates points of shape (T, ..., 3) frame by frame.
    """
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    while c.ndim < points.ndim - 1:
        c, s = c[..., None], s[..., None]
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    out = np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)
    return out.astype(points.dtype, copy=False)


def yaw_between(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The ``rotate_y`` angle (...,) that turns the vectors ``source`` (..., N, 3) onto
    ``target`` best (least squares over the N, in x and z; centre them first to fit points).
    rotate_y maps (x, z) -> (x cos + z sin, -x sin + z cos): this maximises sum t . R s."""
    s, t = source[..., [0, 2]], target[..., [0, 2]]
    cross = (s[..., 1] * t[..., 0] - s[..., 0] * t[..., 1]).sum(axis=-1)
    return np.arctan2(cross, (s * t).sum(axis=(-2, -1)))


def canonicalize(
    positions: np.ndarray, *, face_forward: bool = True, center: bool = True, floor: bool = True
) -> np.ndarray:
    """Return positions facing +Z at frame 0, pelvis over the origin at frame 0, feet on the floor.

    The floor is put at the lowest foot height seen in the clip (robust to a single frame of
    noise by taking the 2nd percentile of the per-frame minimum foot height).
    positions: (T, 22, 3) -> (T, 22, 3) float32.
    """
    pos = np.asarray(positions, dtype=np.float64).copy()
    if center:
        root0 = pos[0, PELVIS].copy()
        pos[..., 0] -= root0[0]
        pos[..., 2] -= root0[2]
    if face_forward:
        pos = rotate_y(pos, -heading(pos[:1])[0])
    if floor:
        foot_min = pos[:, list(FOOT_JOINTS), 1].min(axis=1)
        pos[..., 1] -= np.percentile(foot_min, 2.0) if len(foot_min) > 10 else foot_min.min()
    return pos.astype(np.float32)


def best_rotations(rest: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) best mapping rest vectors (K, 3) onto observed ones (T, K, 3)
    (Kabsch: least squares, a proper rotation)."""
    return kabsch(np.einsum("ka,tkb->tab", rest, observed))


def kabsch(h: np.ndarray) -> np.ndarray:
    """The proper rotations (..., 3, 3) of cross-covariances h = rest^T observed (..., 3, 3)."""
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.ones((*d.shape, 3))
    fix[..., 2] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))
