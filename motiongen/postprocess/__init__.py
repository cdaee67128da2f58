"""Post-processing that makes generated motion physically sane (SPEC §2).

``postprocess(positions, fps)`` runs, in this order:

1. ``limit_jerk``: glitches damped; ``settle_still_joints``: joints at rest low-passed, so
   limbs that should be still do not shimmer (moving joints keep their shape);
2. ``gaussian_smooth`` then ``fix_bone_lengths``: every bone gets one length (the clip's
   median, left and right alike, or ``bone_lengths``); motion that is then no more jittery
   than real capture (``SMOOTH_ENOUGH``) is left as it is, other motion gets a light low-pass
   (25 ms) first, widened step by step (up to 0.1 s) while it is still jittery; toes near
   the floor stay on their own path (its frame-to-frame jitter low-passed), the legs
   re-solved to reach them (``keep_toes``, ``toe_shift_seconds``);
3. ``snap_to_floor``: the planted foot of each neighbourhood at y = 0 (floating and sinking
   removed, jumps kept; ``grounded``, for motion that never leaves the floor: the lowest foot
   of each +-0.15 s at any speed, so hovers are set down);
4. ``fix_foot_sliding``: planted toes locked (a toe that travels over 0.6 m within one
   contact is sliding: cut into several locks; a model's contacts are completed by the low,
   slow toes they leave out, ``add_guessed``), legs re-solved by two-bone IK; the body
   follows both planted feet's slow correction along the floor, and is shifted towards a
   foot a leg cannot reach;
5. ``lift_above_floor``: nothing below the floor.

Steps 3-5 are rigid translations or length-preserving IK, so bone lengths stay exact.
"""

from __future__ import annotations

import numpy as np

from motiongen.errors import InputError
from motiongen.postprocess.bones import (
    fix_bone_lengths,
    median_bone_lengths,
    symmetric_bone_lengths,
)
from motiongen.postprocess.floor import (
    MAX_LOCK_TRAVEL,
    SUPPORT_SECONDS,
    fix_foot_sliding,
    floor_heights,
    lift_above_floor,
    snap_to_floor,
    toe_contacts,
    two_bone_ik,
)
from motiongen.postprocess.smoothing import (
    DEFAULT_MAX_JERK,
    DEFAULT_SIGMA_SECONDS,
    MAX_SIGMA_SECONDS,
    SMOOTH_ENOUGH,
    TARGET_JITTER,
    gaussian_smooth,
    jerk,
    limit_jerk,
    settle_still_joints,
)
from motiongen.skeleton import NUM_JOINTS

__all__ = [
    "DEFAULT_MAX_JERK",
    "DEFAULT_SIGMA_SECONDS",
    "MAX_LOCK_TRAVEL",
    "MAX_SIGMA_SECONDS",
    "SMOOTH_ENOUGH",
    "SUPPORT_SECONDS",
    "TARGET_JITTER",
    "fix_bone_lengths",
    "fix_foot_sliding",
    "floor_heights",
    "gaussian_smooth",
    "jerk",
    "lift_above_floor",
    "limit_jerk",
    "median_bone_lengths",
    "postprocess",
    "settle_still_joints",
    "snap_to_floor",
    "symmetric_bone_lengths",
    "toe_contacts",
    "two_bone_ik",
]


def postprocess(
    positions: np.ndarray,
    fps: float,
    *,
    smooth: bool = True,
    sigma_seconds: float = DEFAULT_SIGMA_SECONDS,
    max_sigma_seconds: float = MAX_SIGMA_SECONDS,
    max_jitter: float | None = TARGET_JITTER,
    smooth_enough: float | None = SMOOTH_ENOUGH,
    max_jerk: float = DEFAULT_MAX_JERK,
    bones: bool = True,
    bone_lengths: np.ndarray | None = None,
    keep_toes: bool = True,
    toe_shift_seconds: float | None = None,
    floor: bool = True,
    feet: bool = True,
    contacts: np.ndarray | None = None,
    max_lock_travel: float = MAX_LOCK_TRAVEL,
    follow_support: float | None = SUPPORT_SECONDS,
    add_guessed: bool = True,
    grounded: bool = False,
    settle: bool = False,
    held: np.ndarray | None = None,
) -> np.ndarray:
    """Clean up joint positions (see the module docstring for the steps).

    positions: (T, 22, 3) metres, Y up, at ``fps`` frames per second.
    smooth / bones / floor / feet switch steps off; ``floor=False`` also skips the foot
    locking and the final lift, which need a floor at y = 0.
    sigma_seconds: the Gaussian's width for clean motion; while the result is still jittery
    (``motiongen.artifacts.jitter_score`` above ``max_jitter``) it grows by steps of 1.5x up to
    ``max_sigma_seconds``. ``max_jitter=None`` smooths with ``sigma_seconds`` only.
    smooth_enough: a motion whose jitter score is at most this once its bones are fixed is
    not low-passed at all (default: real capture's 90th percentile); None always smooths.
    bone_lengths: (21,) in ``skeleton.BONES`` order; default each bone's median in the clip,
    left and right twins averaged (``symmetric_bone_lengths``).
    keep_toes: the legs are re-solved so toes near the floor stay where the motion had them
    (a leg whose length the model varied moved its planted toe with every correction); False
    keeps every bone's direction instead. toe_shift_seconds: the sigma of the Gaussian over
    time that low-passes the shift taking each ankle to its kept toe (``bones.reach_toes``;
    None: ``bones.TOE_SHIFT_SIGMA_SECONDS``; 0: each frame's toe exactly).
    contacts: (T, 4) bool foot contacts (left ankle, left toe, right ankle, right toe), e.g.
    what a model predicted with the motion: heel and toe are locked where they are set, at any
    speed; default: toes low and slower than 1 m/s (``toe_contacts``).
    max_lock_travel, follow_support, add_guessed: step 4's (``fix_foot_sliding``; with
    add_guessed, toes low and slow that the given contacts leave out are locked too);
    follow_support=None
    leaves the pelvis's path along the floor to the model (a controlled motion's may be given).
    settle: joints at rest low-passed (``settle_still_joints``; with ``smooth`` only): the
    pipeline's generated motion without music; off for capture and other callers, unmeasured.
    held: (T, 2) toes planted at any speed besides the guessed ones (``fix_foot_sliding``;
    without given contacts only: with them, it is not read).
    grounded: the motion never leaves the floor (a dance): the floor is the lowest foot of
    each +-0.15 s at any speed, not only slow feet's over a second (``floor_heights``).
    Returns (T, 22, 3) float32.
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3) or p.shape[0] < 1:
        raise InputError(
            f"positions must have shape (T, {NUM_JOINTS}, 3) with T >= 1, got {tuple(p.shape)}"
        )
    if not np.isfinite(p).all():
        raise InputError("positions contain NaN or infinite values; cannot post-process them")
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"frame rate must be a positive number, got {fps!r}")
    if smooth:
        p = limit_jerk(p, fps, max_jerk)
        if settle:
            p = settle_still_joints(p, fps)
    if bones and bone_lengths is None:
        bone_lengths = symmetric_bone_lengths(median_bone_lengths(p))
    if smooth:
        p = _smooth_skeleton(
            p,
            fps,
            bone_lengths if bones else None,
            (sigma_seconds, max_sigma_seconds),
            max_jitter,
            smooth_enough,
            keep_toes=keep_toes,
            toe_shift_seconds=toe_shift_seconds,
        )
    elif bones:
        p = fix_bone_lengths(
            p, bone_lengths, keep_toes=keep_toes, toe_shift_seconds=toe_shift_seconds, fps=fps
        )
    if floor:
        p = snap_to_floor(p, fps, grounded=grounded)
        if feet:
            p = fix_foot_sliding(
                p,
                fps,
                contacts=contacts,
                max_lock_travel=max_lock_travel,
                follow_support=follow_support,
                add_guessed=add_guessed,
                held=held,
            )
        p = lift_above_floor(p, fps)
    return p.astype(np.float32)


def _smooth_skeleton(
    p: np.ndarray,
    fps: float,
    lengths: np.ndarray | None,
    sigmas: tuple[float, float],
    max_jitter: float | None,
    smooth_enough: float | None,
    *,
    keep_toes: bool,
    toe_shift_seconds: float | None,
) -> np.ndarray:
    """Gaussian smoothing, then bone lengths, with the width raised until not jittery;
    nothing but the bones for motion no more jittery than ``smooth_enough``.

    Smoothing comes first because fixing lengths of a jittery skeleton amplifies the jitter
    of short bones (a generated spine segment shrunk to 1 cm and rescaled to 10 cm swings the
    whole upper body), and the check is made after the fix for the same reason.
    """
    from motiongen.artifacts import jitter_score

    sigma, max_sigma_seconds = sigmas
    fix = dict(keep_toes=keep_toes, toe_shift_seconds=toe_shift_seconds, fps=fps)
    if smooth_enough is not None and len(p) >= 8:
        q = fix_bone_lengths(p, lengths, **fix) if lengths is not None else p
        if jitter_score(q, fps) <= smooth_enough:
            return q
    while True:
        q = gaussian_smooth(p, fps, sigma)
        if lengths is not None:
            q = fix_bone_lengths(q, lengths, **fix)
        if max_jitter is None or sigma >= max_sigma_seconds or len(p) < 8:
            return q
        if jitter_score(q, fps) <= max_jitter:
            return q
        sigma = min(sigma * 1.5, max_sigma_seconds)
