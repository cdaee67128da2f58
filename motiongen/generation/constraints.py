"""What a controlled generation must keep, and keeping it exactly.

``Constraints`` holds target world positions (T, 22, 3) with the given joints of the given
frames (continuation, keyframes, the untouched part of an edit, a path). During sampling they
become known control values per window (``window_control``); afterwards ``enforce`` moves the
motion so every given joint of every given frame is exactly where it was asked to be, with
the corrections eased into the frames around (no pops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.canonical import heading, rotate_y, yaw_between
from motiongen.errors import InputError
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, positions_to_features
from motiongen.skeleton import NUM_JOINTS, PELVIS
from motiongen.tasks import CONTROL_DIM, TASK_ID, WORLD, control_mask, world_channels

EASE_SECONDS = 0.25  # corrections fade out over this long around a given frame
END_BODY_SECONDS = 1.0  # a continuation's body: its past's last second
END_BODY_FRAMES = int(round(END_BODY_SECONDS * MODEL_FPS))  # constraints are at the model's rate
# A border between given and free frames is eased only where some joint jumps faster than
# this (30 cm in one 20-fps frame: no body does that). Easing every border from 15 cm a frame
# up made 15-frame in-betweening worse on val (L2P 1.46 -> 1.66; `benchmarks/tasks.py --split
# val --windows 20`): smaller jumps are mostly the raw output's own noise in the fit.
EASE_JUMP_SPEED = 6.0  # m/s
# A smaller jump is eased too where some joint pops: steps off (or into) the given frame
# faster than POP_SPEED and POP_RATIO times its steps on either side. A pose keyframe has no
# velocity, and the network's next frame leaned a head 20 cm into a bow at once (no-text walk
# -> bow in-betweens, 6 seeds: the largest joint step per motion, median 0.19 -> 0.085 m). Val
# (`benchmarks/tasks.py --split val --tasks inbetween`): L2P 1.080 / 1.617 / 2.353 -> 1.056 /
# 1.656 / 2.361, NPSS better at every gap; easing every border from 3 m/s instead: 0.985 /
# 1.786 / 2.373.
POP_SPEED = 3.0  # m/s
POP_RATIO = 2.5


@dataclass
class Constraints:
    """targets: (T, 22, 3) world positions, NaN where nothing is given; task: a name of
    ``tasks.TASKS``. ``known`` (T, 22) is where targets are given.

    source: (T, 22, 3) the whole motion the targets were cut from (an edit, a restyle), or
    None. The network's control values are computed from it and masked to what is given,
    exactly as in training, where they come from the whole real clip: a pelvis path alone
    says nothing of where the body faces, the source does.
    """

    targets: np.ndarray
    task: str
    source: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = np.asarray(self.targets, dtype=np.float64)
        if t.ndim != 3 or t.shape[1:] != (NUM_JOINTS, 3):
            raise InputError(f"constraint targets must be (T, {NUM_JOINTS}, 3), got {t.shape}")
        partial = np.isnan(t).any(axis=-1) & ~np.isnan(t).all(axis=-1)
        if partial.any():
            raise InputError("a constrained joint must give all three coordinates")
        if self.task not in TASK_ID:
            raise InputError(f"unknown task {self.task!r}; choose one of {sorted(TASK_ID)}")
        self.targets = t
        if self.source is not None:
            src = np.asarray(self.source, dtype=np.float64)
            if src.shape != t.shape or not np.isfinite(src).all():
                raise InputError("the source motion of constraints must be finite, like targets")
            self.source = src
        self._generated: np.ndarray | None = None

    @property
    def known(self) -> np.ndarray:
        return ~np.isnan(self.targets).any(axis=-1)

    def at_own_height(self, positions: np.ndarray) -> Constraints:
        """These constraints with the pelvis's given height taken from ``positions`` (T, 22,
        3): its path over the ground kept, its height the motion's own."""
        t = self.targets.copy()
        given = self.known[:, PELVIS]
        t[given, PELVIS, 1] = np.asarray(positions, dtype=np.float64)[given, PELVIS, 1]
        return Constraints(t, self.task, source=self.source)

    @property
    def frames(self) -> int:
        return len(self.targets)

    def free_gaps(self) -> tuple[tuple[int, int], ...]:
        """The runs [start, stop) of frames whose pelvis is not given, between given frames
        on both sides (an in-betweening's gaps between its keyframes)."""
        from motiongen.postprocess.floor import true_runs

        free = ~self.known[:, PELVIS]
        return tuple((a, b) for a, b in true_runs(free) if a > 0 and b < len(free))

    def given_runs(self) -> list[tuple[int, int]]:
        """The runs [start, stop) of frames whose whole pose is given (an in-betweening's
        keyframes)."""
        from motiongen.postprocess.floor import true_runs

        return true_runs(self.known.all(axis=1))

    def given_bone_lengths(self) -> np.ndarray:
        """(21,) in ``skeleton.BONES`` order: each bone's median length over the frames that
        give both its joints; a bone never given takes the source motion's (an edit, a
        restyle: the same person), else NaN. Post-processing gives the generated frames this
        body, so they do not change build at a keyframe, and an edit of the arms keeps the
        forearms it had (a new-user trial: 19.1 cm made where the walk's were 22.5 cm). A
        continuation takes its past's last ``END_BODY_FRAMES``: a dance take's bones drift
        (an upper arm 10 cm off its median by the end), and the whole past's median changed
        the build at the seam, a wrist jumping 15 cm in one frame (a new user's trial)."""
        from motiongen.skeleton import bone_lengths

        lengths = bone_lengths(self.targets)  # (T, 21), NaN where either end is free
        if self.task == "predict":  # the body the past ends with, where the motion goes on
            lengths = lengths[np.flatnonzero(self.known.any(axis=1))[-END_BODY_FRAMES:]]
        out = np.full(lengths.shape[1], np.nan)
        given = ~np.isnan(lengths).all(axis=0)
        out[given] = np.nanmedian(lengths[:, given], axis=0)
        if self.source is not None and not given.all():
            out[~given] = np.median(bone_lengths(self.source)[:, ~given], axis=0)
        return out

    def in_generated_frame(self) -> np.ndarray:
        """The motion the control values come from (the source, else the targets with free
        joints interpolated), moved into the frame the network generates in: its first frame's
        pelvis over the origin, facing +Z. Later windows relate these to poses already
        generated, so both must be in that frame."""
        if self._generated is None:
            full = self.source if self.source is not None else _filled(self.targets, self.known)
            first_given = self.source is not None or self.known[0].all()
            if first_given:
                origin = np.array([full[0, PELVIS, 0], 0.0, full[0, PELVIS, 2]])
                full = rotate_y(full - origin, -heading(full[:1])[0])
            self._generated = full
        return self._generated


def _filled(targets: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Targets with every free joint of every frame filled by linear interpolation in time
    (and held at the ends), so features can be computed; the mask hides the filled values."""
    out = targets.copy()
    t = np.arange(len(targets))
    for j in range(NUM_JOINTS):
        rows = np.flatnonzero(known[:, j])
        if rows.size == 0:
            # a joint never given: put it where the pelvis is (masked out anyway)
            out[:, j] = 0.0
            continue
        for axis in range(3):
            out[:, j, axis] = np.interp(t, rows, targets[rows, j, axis])
    return out


def window_control(
    constraints: Constraints,
    start: int,
    length: int,
    norm: NormStats,
    reference: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Known control values and mask (length, CONTROL_DIM) for one window, or None when the
    window holds no constraint.

    The values are relative to the window's first frame: ``reference`` (22, 3), the already
    generated pose at ``start`` (None for the first window: the targets' own first frame).
    Without a given root at the reference, the world channels are left free.
    """
    known = constraints.known[start : start + length]
    if not known.any():
        return None
    filled = constraints.in_generated_frame()[start : start + length]
    if reference is not None:
        filled = np.concatenate([reference[None], filled[1:]], axis=0)
    feats = norm.normalize(positions_to_features(filled).astype(np.float32))
    values = np.zeros((length, CONTROL_DIM), dtype=np.float32)
    values[:, :FEATURE_DIM] = feats
    values[:, WORLD] = world_channels(filled)
    mask = control_mask(known)
    if reference is None and not known[0, PELVIS]:
        mask[:, WORLD] = 0.0  # no given origin for the world channels
    return values, mask


def place(positions: np.ndarray, constraints: Constraints) -> np.ndarray:
    """Turn and shift (about Y, on the ground) ``positions`` (T, 22, 3) so its given joints
    lie on their targets as closely as a rigid motion allows."""
    known = constraints.known
    if not known.any():
        return positions
    src = positions[known]  # (N, 3)
    dst = constraints.targets[known]
    angle = float(yaw_between(src - src.mean(0), dst - dst.mean(0))) if len(src) > 1 else 0.0
    turned = rotate_y(positions, angle)
    shift = (dst - rotate_y(src, angle)).mean(axis=0)
    shift[1] = 0.0
    return turned + shift


def enforce(
    positions: np.ndarray,
    constraints: Constraints,
    fps: float,
    bone_lengths: np.ndarray | None = None,
) -> np.ndarray:
    """``positions`` (T, 22, 3) with every given joint exactly on its target.

    First the whole body follows the pelvis corrections (interpolated between given frames,
    held beyond them), then each given joint takes its remaining offset exactly, eased out
    into the free frames on both sides over ``EASE_SECONDS``; then free frames next to wholly
    given ones are bent towards them where the network left a jump (``_ease_from_given_frames``).
    bone_lengths: (21,) in ``skeleton.BONES`` order; given, every frame is re-laid with these
    lengths (joints eased apart would stretch bones) and the given joints put back exactly (a
    free joint below a given one then keeps where it was laid: an edited arm may sit off its
    given collar by the given frames' own bone noise, a few millimetres).
    """
    p = np.asarray(positions, dtype=np.float64).copy()
    known = constraints.known
    targets = constraints.targets
    n = len(p)
    t = np.arange(n)
    root_rows = np.flatnonzero(known[:, PELVIS])
    if root_rows.size:
        delta = targets[root_rows, PELVIS] - p[root_rows, PELVIS]  # (K, 3)
        shift = np.stack([np.interp(t, root_rows, delta[:, a]) for a in range(3)], axis=1)
        p += shift[:, None, :]
    width = max(1, int(round(EASE_SECONDS * fps)))
    for j in range(NUM_JOINTS):
        rows = np.flatnonzero(known[:, j])
        if rows.size == 0:
            continue
        offset = targets[rows, j] - p[rows, j]  # (K, 3)
        # ease: the offsets of the given frames before and after each frame, each fading
        # with the distance to it, averaged where both still weigh more than 1 in all. (The
        # nearest given frame's offset alone switched sides mid-gap: a short free stretch
        # between two far apart offsets jumped there, a wrist at 9 m/s in a sewn edit's seam.)
        after = np.clip(np.searchsorted(rows, t), 0, rows.size - 1)
        before = np.clip(np.searchsorted(rows, t, side="right") - 1, 0, rows.size - 1)
        eased = np.zeros((n, 3))
        total = np.zeros(n)
        for side in (before, after) if rows.size > 1 else (before,):
            fade = np.clip(1.0 - np.abs(t - rows[side]) / (width + 1), 0.0, 1.0)
            fade = 0.5 - 0.5 * np.cos(np.pi * fade)
            if side is after:  # a frame on a given row counts it once
                fade = np.where(rows[after] == rows[before], 0.0, fade)
            eased += offset[side] * fade[:, None]
            total += fade
        p[:, j] += eased / np.maximum(total, 1.0)[:, None]
        p[rows, j] = targets[rows, j]  # exact where given
    # a continuation's one seam is always eased: the network's first free frames broke off the
    # past's pace below EASE_JUMP_SPEED (val: pelvis speed jump there p95 0.198 -> 0.098 m/s,
    # prediction error the same to 0.2 mm; `benchmarks/tasks.py --split val --tasks predict`)
    p = _ease_from_given_frames(p, known, fps, every_border=constraints.task == "predict")
    if bone_lengths is not None:
        from motiongen.postprocess.bones import fix_bone_lengths

        p = fix_bone_lengths(p, bone_lengths)
        p[known] = targets[known]
    return p


def _ease_from_given_frames(
    p: np.ndarray, known: np.ndarray, fps: float, every_border: bool = False
) -> np.ndarray:
    """Free frames next to wholly given ones (a keyframe, the past, the frames around an
    edit) bent towards them so the motion leaves and reaches them without a jump.

    The network's frame next to a given one can be far from it (a wrist 77 cm away when the
    text asks for another pose than the keyframe shows): replacement during sampling makes
    the given frame exact, not its neighbour. At each border the free side is extrapolated
    onto the given frame (a quadratic through its first 4 frames, or its first frame held
    when the stretch is shorter); the difference, in
    position and (where the given side has two frames) velocity, is added to the free frames
    and decays to zero along Bollo's quintic (``postprocess.transitions.decay_curve``) within
    ``transitions.BLEND_SECONDS`` or the free stretch, whichever is shorter. Given frames are
    untouched; the offsets of both borders of a stretch are measured on the same input.
    known: (T, 22) the given joints. A stretch whose frames still hold given joints (some
    joints edited over a span) is always eased, its free joints only: the edited limb left
    the given pose at 4 m/s where the given side moved at 1.4 (a wrist 20 cm in one 20-fps
    frame, on the pose's path, so no position jump showed); wholly free stretches from
    ``EASE_JUMP_SPEED`` up or where a joint pops off the given frame (``_pops``), or every one
    (``every_border``: a continuation's seam).
    """
    from motiongen.postprocess.transitions import BLEND_SECONDS, decay_curve

    n = len(p)
    given, partly = known.all(axis=1), known.any(axis=1)
    if given.all() or not given.any() or n < 6:
        return p
    blend = max(2, int(round(BLEND_SECONDS * fps)))
    t_fit = np.arange(4, dtype=np.float64) + 1.0  # free frames 1..4 away from the border
    basis = np.stack([np.ones(4), t_fit, t_fit**2], axis=1)
    out = p.copy()
    for direction in (1, -1):
        q = p if direction == 1 else p[::-1]
        g = given if direction == 1 else given[::-1]
        some = partly if direction == 1 else partly[::-1]
        add = np.zeros_like(q)
        for at in np.flatnonzero(g[:-1] & ~g[1:]):  # given frame `at`, free from at + 1
            stretch = np.flatnonzero(g[at + 1 :])
            free = int(stretch[0]) if stretch.size else n - at - 1
            if free >= 4:
                coef = np.linalg.lstsq(basis, q[at + 1 : at + 5].reshape(4, -1), rcond=None)[0]
                start = coef[0].reshape(q.shape[1:])  # the free side's value at the given frame
                slope = coef[1].reshape(q.shape[1:])
            else:  # too few frames for a curve: the first free frame, held
                start, slope = q[at + 1], np.zeros_like(q[at])
            x0 = q[at] - start
            jump = np.linalg.norm(x0.reshape(-1, 3), axis=-1).max()
            given_before = at >= 1 and bool(g[at - 1])
            if (
                not every_border
                and not some[at + 1]
                and jump < EASE_JUMP_SPEED / fps
                and not _pops(q, at, free, given_before, fps)
            ):
                continue  # the network already met it: a fit of raw frames adds only noise
            v0 = (q[at] - q[at - 1]) - slope if given_before else np.zeros_like(x0)
            length = min(blend, free + 1)
            add[at + 1 : at + length] += decay_curve(x0, v0, length)[1:]
        out += np.where(known[..., None], 0.0, add if direction == 1 else add[::-1])
    return out


def _pops(q: np.ndarray, at: int, free: int, given_before: bool, fps: float) -> bool:
    """Whether some joint steps from given frame ``at`` to the free frame after it faster than
    ``POP_SPEED`` and ``POP_RATIO`` times faster than it steps on either side (the given
    frames' last step, where there are two, and the free frames' next)."""
    step = lambda a: np.linalg.norm(q[a + 1] - q[a], axis=-1)  # noqa: E731
    border = step(at)
    around = np.maximum(step(at + 1) if free >= 2 else 0.0, step(at - 1) if given_before else 0.0)
    return bool(((border > POP_SPEED / fps) & (border > POP_RATIO * around)).any())


def lift_free_frames(positions: np.ndarray, known: np.ndarray, fps: float) -> np.ndarray:
    """``positions`` (T, 22, 3) with frames that hold no given joint lifted where the body is
    below the floor (y = 0): the clean-up's own lift is undone there by ``enforce`` easing
    towards given frames, which left feet up to 9 cm under the floor inside timeline joins.
    The lift is smooth (``postprocess.floor.smooth_lift``, as the clean-up's own) and fades to
    nothing at the given frames, which stay exactly as given. Given joints below y = 0 (a file
    whose floor is a few cm lower) set the floor instead: the free frames are not lifted above
    them."""
    from motiongen.postprocess.floor import LIFT_SMOOTH_SECONDS, smooth_lift

    p = np.asarray(positions, dtype=np.float64).copy()
    free = ~known.any(axis=1)
    floor = min(0.0, float(p[..., 1][known].min())) if known.any() else 0.0
    depth = np.where(free, np.maximum(0.0, floor - p[..., 1].min(axis=1)), 0.0)
    if not depth.any():
        return p
    lift = smooth_lift(depth, fps)
    r = max(1, int(round(LIFT_SMOOTH_SECONDS * fps)))
    if (~free).any():  # fade out towards the given frames: no step into them
        t = np.arange(len(p))
        held = np.flatnonzero(~free)
        dist = np.abs(t[:, None] - held[None, :]).min(axis=1)
        ramp = np.clip(dist / (r + 1), 0.0, 1.0)
        lift *= 0.5 - 0.5 * np.cos(np.pi * ramp)
    # never less than a free frame's own depth: faded next to a given frame, the lift left a
    # random network's join 10 cm under the floor (a step at the seam is the lesser harm)
    p[..., 1] += np.maximum(lift, depth)[:, None]
    return p
