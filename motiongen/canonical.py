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


def unit(v: np.ndarray) -> np.ndarray:
    """Vectors (..., 3) scaled to length 1 along the last axis (near-zero ones stay near 0)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


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


def orthonormal_pair(exact: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exact, other) (..., 3) as unit vectors, ``other`` made perpendicular to ``exact``
    (one Gram-Schmidt step): the axes of a frame built from two joint directions, the one
    that must stay as measured first."""
    e = unit(exact)
    return e, unit(other - np.sum(other * e, axis=-1, keepdims=True) * e)


def body_frame(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(poses in the body's own frame (T, 22, 3): pelvis over the origin, facing +Z; the
    facing (T,) radians, unwrapped; the pelvis's path on the floor (T, 3), y = 0):
    ``from_body_frame`` puts them back together."""
    p = np.asarray(positions, dtype=np.float64)
    facing = np.unwrap(heading(p))
    root = p[:, PELVIS, :].copy()
    root[:, 1] = 0.0
    return rotate_y(p - root[:, None, :], -facing), facing, root


def from_body_frame(local: np.ndarray, facing: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Positions (T, 22, 3) of poses ``local`` turned to ``facing`` and set on ``root``."""
    return rotate_y(local, facing) + root[:, None, :]


def turned_path(root: np.ndarray, turn: np.ndarray) -> np.ndarray:
    """The path ``root`` (T, 3) with each step t -> t + 1 turned about +Y by ``turn[t]``
    radians and the steps laid end to end from ``root[0]``: a body whose facing is turned
    frame by frame walks where its steps then take it."""
    steps = rotate_y(np.diff(root, axis=0), np.asarray(turn, dtype=np.float64)[: len(root) - 1])
    return np.concatenate([root[:1], root[0] + np.cumsum(steps, axis=0)])


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


# Horn's route for batches of at least this many frames (below, numpy's SVD loop is faster:
# 57 against 490 us at 6 frames), and for frames whose top eigenvector is this well set apart
# (the adjugate's column norm over the unit-norm covariance's; the product of the eigenvalue
# gaps): nearly repeated eigenvalues (a rank-1 covariance plus 1e-5 noise) left 2e-5 between
# the two routes at 1e-5.
HORN_FROM = 64
HORN_GAP = 1e-3


def kabsch(h: np.ndarray) -> np.ndarray:
    """The proper rotations (..., 3, 3) of cross-covariances h = rest^T observed (..., 3, 3).

    Horn's quaternion form (J. Opt. Soc. Am. A 4, 1987): the rotation is the top eigenvector
    of a 4 x 4 key matrix, its eigenvalue found by Newton's method on the characteristic
    polynomial from above (Theobald's QCP, Acta Cryst. A61, 2005) and the eigenvector read
    from the adjugate. All of it is arithmetic on whole arrays: numpy's batched 3 x 3 SVD
    loops over LAPACK at ~3 us a matrix, 2.3x slower, and post-processing fits 392 such
    rotations several times a motion. A frame whose top eigenvalue is (nearly) repeated has
    no well-defined eigenvector there and takes the SVD route; the two agree to ~1e-12.
    """
    h = np.asarray(h, dtype=np.float64)
    batch = h.shape[:-2]
    flat = h.reshape(-1, 3, 3)
    if len(flat) < HORN_FROM:  # a few frames: LAPACK's loop costs less than the array work
        return _kabsch_svd(flat).reshape(*batch, 3, 3)
    # Each frame scaled to unit norm: the same rotation, and no overflow in the adjugate's
    # sixth powers (a norm of 1e51 gave a zero matrix).
    norm = np.sqrt(np.einsum("nab,nab->n", flat, flat))
    r, ok = _horn_rotations(flat / np.where(norm > 0, norm, 1.0)[:, None, None])
    ok &= norm > 0
    if not ok.all():
        r[~ok] = _kabsch_svd(flat[~ok])
    return r.reshape(*batch, 3, 3)


def _kabsch_svd(h: np.ndarray) -> np.ndarray:
    """Kabsch rotations (N, 3, 3) by SVD, a reflection turned into the nearest rotation."""
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(np.swapaxes(vt, -1, -2) @ np.swapaxes(u, -1, -2)))
    fix = np.ones((*d.shape, 3))
    fix[..., 2] = d
    return np.swapaxes(vt, -1, -2) @ (fix[..., :, None] * np.swapaxes(u, -1, -2))


def _horn_rotations(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotations (N, 3, 3) from Horn's key matrix, and which frames are well defined."""
    (sxx, sxy, sxz), (syx, syy, syz), (szx, szy, szz) = np.moveaxis(h, 0, -1)  # (N,) each
    off = {
        (0, 1): syz - szy,
        (0, 2): szx - sxz,
        (0, 3): sxy - syx,
        (1, 2): sxy + syx,
        (1, 3): szx + sxz,
        (2, 3): syz + szy,
    }
    diag = [sxx + syy + szz, sxx - syy - szz, -sxx + syy - szz, -sxx - syy + szz]

    def key(lam: np.ndarray | float) -> list[list[np.ndarray]]:
        return [
            [diag[i] - lam if i == j else off[(min(i, j), max(i, j))] for j in range(4)]
            for i in range(4)
        ]

    frob2 = np.einsum("nab,nab->n", h, h)
    det_h = (
        sxx * (syy * szz - syz * szy)
        - sxy * (syx * szz - syz * szx)
        + sxz * (syx * szy - syy * szx)
    )
    # The key matrix is traceless: its characteristic polynomial is l^4 + c2 l^2 + c1 l + c0.
    c2, c1 = -2.0 * frob2, -8.0 * det_h
    c0 = _det4(key(0.0))
    lam = np.sqrt(3.0 * frob2)  # >= the singular values' sum >= the top eigenvalue
    for _ in range(60):
        l2 = lam * lam
        value = (l2 + c2) * l2 + c1 * lam + c0
        slope = 4.0 * l2 * lam + 2.0 * c2 * lam + c1
        step = value / np.where(slope > 0, slope, 1.0)
        lam = lam - step
        if (np.abs(step) <= 1e-14 * np.maximum(lam, 1e-3)).all():  # each frame's own size
            break
    cols = np.array(_adjugate4(key(lam)))  # (4, 4, N); symmetric, so column j = row j
    norms = np.einsum("ijn,ijn->in", cols, cols)  # (4, N)
    best = norms.argmax(axis=0)
    frames = np.arange(len(h))
    size = np.sqrt(norms[best, frames])
    ok = size > HORN_GAP * np.maximum(frob2, 1e-300) ** 1.5
    w, x, y, z = cols[best, :, frames].T / np.where(ok, size, 1.0)
    r = np.stack(
        [
            w * w + x * x - y * y - z * z,
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            w * w - x * x + y * y - z * z,
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            w * w - x * x - y * y + z * z,
        ],
        axis=-1,
    ).reshape(-1, 3, 3)
    return r, ok


def _pair_minors(a: list[list[np.ndarray]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The 2 x 2 minors (s0..s5 of the top row pair, c0..c5 of the bottom one) of 4 x 4
    matrices given as rows of (N,) component arrays: the Laplace expansion both the
    determinant and the adjugate are made of."""
    (a00, a01, a02, a03), (a10, a11, a12, a13), (a20, a21, a22, a23), (a30, a31, a32, a33) = a
    s = [a00 * a11 - a10 * a01, a00 * a12 - a10 * a02, a00 * a13 - a10 * a03,
         a01 * a12 - a11 * a02, a01 * a13 - a11 * a03, a02 * a13 - a12 * a03]  # fmt: skip
    c = [a20 * a31 - a30 * a21, a20 * a32 - a30 * a22, a20 * a33 - a30 * a23,
         a21 * a32 - a31 * a22, a21 * a33 - a31 * a23, a22 * a33 - a32 * a23]  # fmt: skip
    return s, c


def _det4(a: list[list[np.ndarray]]) -> np.ndarray:
    """Determinants (N,) of 4 x 4 matrices given as rows of (N,) component arrays."""
    (s0, s1, s2, s3, s4, s5), (c0, c1, c2, c3, c4, c5) = _pair_minors(a)
    return s0 * c5 - s1 * c4 + s2 * c3 + s3 * c2 - s4 * c1 + s5 * c0


def _adjugate4(a: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    """Adjugates of 4 x 4 matrices given as rows of (N,) component arrays (from
    ``_pair_minors``)."""
    (a00, a01, a02, a03), (a10, a11, a12, a13), (a20, a21, a22, a23), (a30, a31, a32, a33) = a
    (s0, s1, s2, s3, s4, s5), (c0, c1, c2, c3, c4, c5) = _pair_minors(a)
    adj = [
        [
            a11 * c5 - a12 * c4 + a13 * c3,
            -a01 * c5 + a02 * c4 - a03 * c3,
            a31 * s5 - a32 * s4 + a33 * s3,
            -a21 * s5 + a22 * s4 - a23 * s3,
        ],
        [
            -a10 * c5 + a12 * c2 - a13 * c1,
            a00 * c5 - a02 * c2 + a03 * c1,
            -a30 * s5 + a32 * s2 - a33 * s1,
            a20 * s5 - a22 * s2 + a23 * s1,
        ],
        [
            a10 * c4 - a11 * c2 + a13 * c0,
            -a00 * c4 + a01 * c2 - a03 * c0,
            a30 * s4 - a31 * s2 + a33 * s0,
            -a20 * s4 + a21 * s2 - a23 * s0,
        ],
        [
            -a10 * c3 + a11 * c1 - a12 * c0,
            a00 * c3 - a01 * c1 + a02 * c0,
            -a30 * s3 + a31 * s1 - a32 * s0,
            a20 * s3 - a21 * s1 + a22 * s0,
        ],
    ]
    return adj
