"""The canonical skeleton every source is retargeted to.

22 joints in the SMPL / HumanML3D order, metres, Y up, floor at y = 0, the body facing +Z
at frame 0 with its left side at +X (a right-handed frame: X = Y x Z).
"""

from __future__ import annotations

import numpy as np

from motiongen.errors import InputError

JOINT_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)

# Parent of each joint (-1 for the root), as in SMPL's kinematic tree.
PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
)  # fmt: skip

JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

PELVIS = JOINT_INDEX["pelvis"]
LEFT_HIP, RIGHT_HIP = JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]
LEFT_SHOULDER, RIGHT_SHOULDER = JOINT_INDEX["left_shoulder"], JOINT_INDEX["right_shoulder"]
LEFT_ANKLE, RIGHT_ANKLE = JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]
LEFT_FOOT, RIGHT_FOOT = JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]
LEFT_WRIST, RIGHT_WRIST = JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]
HEAD = JOINT_INDEX["head"]

# Feet in the order the foot-contact flags use: (left ankle, left toe, right ankle, right toe).
FOOT_JOINTS: tuple[int, int, int, int] = (LEFT_ANKLE, LEFT_FOOT, RIGHT_ANKLE, RIGHT_FOOT)


def _mirror_permutation() -> tuple[int, ...]:
    perm = []
    for name in JOINT_NAMES:
        if name.startswith("left_"):
            perm.append(JOINT_INDEX["right_" + name[5:]])
        elif name.startswith("right_"):
            perm.append(JOINT_INDEX["left_" + name[6:]])
        else:
            perm.append(JOINT_INDEX[name])
    return tuple(perm)


# MIRROR_PERM[j] is the joint that j becomes under a left/right mirror.
MIRROR_PERM: tuple[int, ...] = _mirror_permutation()

# CHILDREN[j]: the joints whose parent is j (the pelvis and upper chest have three).
CHILDREN: tuple[tuple[int, ...], ...] = tuple(
    tuple(c for c, p in enumerate(PARENTS) if p == j) for j in range(len(PARENTS))
)
# Bones as (child, parent) pairs, for bone-length checks and drawing.
BONES: tuple[tuple[int, int], ...] = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)
# MIRROR_BONES[i] is the bone that bone i becomes under a left/right mirror (itself on the
# spine), in ``BONES`` order.
MIRROR_BONES: tuple[int, ...] = tuple(
    BONES.index((MIRROR_PERM[c], MIRROR_PERM[p])) for c, p in BONES
)

UPPER_BODY: tuple[int, ...] = tuple(
    JOINT_INDEX[n]
    for n in JOINT_NAMES
    if n.startswith(("spine3", "neck", "head", "left_c", "right_c", "left_s", "right_s"))
    or n.endswith(("elbow", "wrist"))
)


def bone_lengths(positions: np.ndarray) -> np.ndarray:
    """Bone lengths per frame.

    positions: (T, 22, 3) -> (T, 21) in the order of ``BONES``.
    """
    child = np.array([c for c, _ in BONES])
    parent = np.array([p for _, p in BONES])
    return np.linalg.norm(positions[:, child] - positions[:, parent], axis=-1)


def hands_raised(positions: np.ndarray, sides: tuple[str, ...], every: bool = True) -> float:
    """Share of frames of ``positions`` (T, 22, 3), Y up, in which every hand of ``sides``
    ("left", "right"), or any one of them (``every`` False), is above its shoulder."""
    y = np.asarray(positions)[..., 1]
    up = [y[:, JOINT_INDEX[f"{s}_wrist"]] > y[:, JOINT_INDEX[f"{s}_shoulder"]] for s in sides]
    return float(np.mean(np.all(up, axis=0) if every else np.any(up, axis=0)))


def checked_positions(
    positions: np.ndarray, *, dtype: type = np.float64, what: str = "positions"
) -> np.ndarray:
    """Joint positions as a (T, 22, 3) array of ``dtype``; ``InputError`` for another shape,
    no frames, or NaN / infinite values."""
    pos = np.asarray(positions, dtype=dtype)
    if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(
            f"{what} must have shape (T, {NUM_JOINTS}, 3), got {tuple(pos.shape)}; "
            f"retarget the source to the canonical {NUM_JOINTS}-joint skeleton first"
        )
    if pos.shape[0] < 1:
        raise InputError(f"{what} have no frames")
    if not np.isfinite(pos).all():
        raise InputError(f"{what} contain NaN or infinite values")
    return pos
