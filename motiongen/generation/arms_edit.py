"""Arm edits whose arms come from a text model's motion, set on the edited motion's body.

The control model alone made "a person raises both hands above the head" on a walk with the
wrists above the head in 0-5 % of frames (seeds 0-3; "raises both hands" 18-72 %) and a right
hand wave at shoulder height in 3-86 % of frames (a new user's trial): its edits follow the
prompt's wording less than the text model with its retrieved takes does. So an edit of arm
joints only takes those joints from the text model's motion of the prompt: each where it is
in that motion's chest frame, set into the edited motion's chest frame frame by frame, so the
arms ride on the body's own torso (its walk, its turns) and do the new action. Everything else
stays as given; ``constraints.enforce`` eases the arms into and out of a span and gives them
the body's bone lengths. Pure functions of positions; ``Pipeline`` runs the models.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from motiongen.canonical import orthonormal_pair
from motiongen.skeleton import JOINT_INDEX
from motiongen.tasks import BODY_PARTS

ARM_JOINTS = frozenset(BODY_PARTS["arms"])
_CHEST = JOINT_INDEX["spine3"]


def arms_only(joints: Sequence[int] | None) -> bool:
    """Whether an edit's joints are all arm joints (collars, shoulders, elbows, wrists)."""
    return joints is not None and len(joints) > 0 and set(joints) <= ARM_JOINTS


def chest_axes(positions: np.ndarray) -> np.ndarray:
    """(T, 3, 3): per frame the chest's side, up and forward unit vectors (rows). Side from
    the hips, up from the spine: no arm joint sets the frame the arms are placed in."""
    p = np.asarray(positions, dtype=np.float64)
    up, side = orthonormal_pair(  # the spine as measured (a BVH frame keeps the hips instead)
        p[:, JOINT_INDEX["neck"]] - p[:, JOINT_INDEX["spine2"]],
        p[:, JOINT_INDEX["left_hip"]] - p[:, JOINT_INDEX["right_hip"]],
    )
    return np.stack([side, up, np.cross(side, up)], axis=1)


def transplanted(body: np.ndarray, donor: np.ndarray, joints: Sequence[int]) -> np.ndarray:
    """``body`` (T, 22, 3) with ``joints`` where they are in ``donor``'s chest frame (relative
    to spine3), set into the body's chest frame; the donor is looped to the body's length."""
    b = np.asarray(body, dtype=np.float64)
    d = np.asarray(donor, dtype=np.float64)[np.arange(len(b)) % len(donor)]
    cols = list(joints)
    local = np.einsum("tij,tkj->tki", chest_axes(d), d[:, cols] - d[:, [_CHEST]])
    out = b.copy()
    out[:, cols] = b[:, [_CHEST]] + np.einsum("tki,tij->tkj", local, chest_axes(b))
    return out
