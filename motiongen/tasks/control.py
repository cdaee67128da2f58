"""Known values for control: one mechanism for continuation, in-betweening, editing and paths.

A window's *control values* are ``CONTROL_DIM`` numbers per frame: its 137 model features
(normalised, as the network sees them) followed by the world-space root of the window: the
pelvis's ground position (x, z) relative to the window's first frame, in ``WORLD_SCALE``
metres, and its heading relative to the first frame as (cos, sin). The features hold the root
only as velocities, so a keyframe's place in the room could not be asked for without the
world channels.

A *control mask* of the same shape says which values are given. It is built from what a user
asks (frames x joints, see ``joint_dims``): a given joint gives its local position and, for
frames whose neighbours are given too, its velocity; the root (pelvis) gives its height,
velocities and the world channels.
"""

from __future__ import annotations

import numpy as np

from motiongen.canonical import heading
from motiongen.features import (
    CONTACTS,
    FEATURE_DIM,
    LOCAL_POS,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    ROOT_Y,
    VEL,
)
from motiongen.skeleton import FOOT_JOINTS, NUM_JOINTS, PELVIS

WORLD = slice(FEATURE_DIM, FEATURE_DIM + 4)  # root x, z (scaled), heading cos, sin
CONTROL_DIM = WORLD.stop  # 141
WORLD_SCALE = 2.0  # metres per unit of the world channels


def world_channels(positions: np.ndarray) -> np.ndarray:
    """(T, 22, 3) positions -> (T, 4): root x, z relative to frame 0 in its facing frame
    (/ WORLD_SCALE) and the heading change from frame 0 as (cos, sin)."""
    p = np.asarray(positions, dtype=np.float64)
    theta = heading(p)
    c0, s0 = np.cos(theta[0]), np.sin(theta[0])
    d = p[:, PELVIS, [0, 2]] - p[0, PELVIS, [0, 2]]
    # into frame 0's facing frame (rotate by -theta0 about +Y)
    x = c0 * d[:, 0] - s0 * d[:, 1]
    z = s0 * d[:, 0] + c0 * d[:, 1]
    dh = theta - theta[0]
    return np.stack([x / WORLD_SCALE, z / WORLD_SCALE, np.cos(dh), np.sin(dh)], axis=1)


def control_values(normalised_features: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """(T, 137) normalised features and the (T, 22, 3) positions they came from -> (T, 141)."""
    return np.concatenate([normalised_features, world_channels(positions)], axis=1).astype(
        np.float32
    )


def joint_dims(joint: int, *, velocities: bool = True) -> np.ndarray:
    """Control dimensions that describe one joint (its position, and its velocity when
    ``velocities``); the pelvis also owns the root channels and the world channels."""
    dims: list[int] = []
    if joint == PELVIS:
        dims += [ROOT_Y.start, *range(WORLD.start, WORLD.stop)]
        if velocities:
            dims += [ROOT_ROT_VEL.start, *range(ROOT_LIN_VEL.start, ROOT_LIN_VEL.stop)]
    else:
        base = LOCAL_POS.start + 3 * (joint - 1)
        dims += [base, base + 1, base + 2]
    if velocities:
        base = VEL.start + 3 * joint
        dims += [base, base + 1, base + 2]
        if joint in FOOT_JOINTS:
            dims.append(CONTACTS.start + FOOT_JOINTS.index(joint))
    return np.asarray(dims, dtype=np.int64)


_POSE_DIMS = {j: joint_dims(j, velocities=False) for j in range(NUM_JOINTS)}
_FULL_DIMS = {j: joint_dims(j, velocities=True) for j in range(NUM_JOINTS)}


def control_mask(known: np.ndarray) -> np.ndarray:
    """(T, 22) bool: which joint is given in which frame -> (T, 141) float mask.

    A given joint always gives its position (the pelvis: height and world channels); it gives
    its velocity too where the next frame gives it as well (velocities describe t -> t+1).
    """
    known = np.asarray(known, dtype=bool)
    t = len(known)
    mask = np.zeros((t, CONTROL_DIM), dtype=np.float32)
    with_next = known.copy()
    with_next[:-1] &= known[1:]
    if t:
        with_next[-1] &= False
    for j in range(NUM_JOINTS):
        rows = np.flatnonzero(known[:, j])
        if rows.size:
            mask[np.ix_(rows, _POSE_DIMS[j])] = 1.0
        rows = np.flatnonzero(with_next[:, j])
        if rows.size:
            mask[np.ix_(rows, _FULL_DIMS[j])] = 1.0
    return mask
