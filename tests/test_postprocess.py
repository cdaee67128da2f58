"""Post-processing on hand-made motions: bones become constant, floating and sinking bodies
land on the floor, a sliding planted foot stops, glitches are damped, and a walk's root path
and a jump's air time survive."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.artifacts import (
    bone_length_drift,
    foot_skating_ratio,
    ground_penetration,
    jitter_score,
)
from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.postprocess import (
    DEFAULT_MAX_JERK,
    SMOOTH_ENOUGH,
    fix_bone_lengths,
    fix_foot_sliding,
    gaussian_smooth,
    jerk,
    limit_jerk,
    median_bone_lengths,
    postprocess,
    snap_to_floor,
    toe_contacts,
    two_bone_ik,
)
from motiongen.skeleton import (
    FOOT_JOINTS,
    JOINT_INDEX,
    LEFT_FOOT,
    LEFT_WRIST,
    PELVIS,
    RIGHT_FOOT,
    bone_lengths,
)

FPS = 20.0
FEET = list(FOOT_JOINTS)
TOES = [LEFT_FOOT, RIGHT_FOOT]


def synth(action: str, seconds: float = 6.0, seed: int = 3) -> np.ndarray:
    return synth_motion(action, "normal", seconds, FPS, seed=seed).positions.astype(np.float64)


def lowest_foot(p: np.ndarray) -> np.ndarray:
    return p[:, FEET, 1].min(axis=1)


# ---- bones ---------------------------------------------------------------------------------
def test_post_processing_gives_a_lopsided_body_one_length_per_left_right_pair():
    from motiongen.postprocess.bones import symmetric_bone_lengths
    from motiongen.skeleton import BONES, JOINT_INDEX, MIRROR_BONES

    p = synth("wave-both-hands").astype(np.float64)
    forearm = BONES.index((JOINT_INDEX["right_wrist"], JOINT_INDEX["right_elbow"]))
    p[:, JOINT_INDEX["right_wrist"]] += 0.3 * (
        p[:, JOINT_INDEX["right_wrist"]] - p[:, JOINT_INDEX["right_elbow"]]
    )  # the right forearm 30 % longer than the left
    lengths = median_bone_lengths(postprocess(p, 20.0))
    np.testing.assert_allclose(lengths, lengths[list(MIRROR_BONES)], atol=1e-6)
    before = median_bone_lengths(p)
    assert lengths[forearm] == pytest.approx(symmetric_bone_lengths(before)[forearm], abs=1e-3)
    assert before[forearm] > 1.2 * before[MIRROR_BONES[forearm]]


def test_bone_lengths_become_constant():
    p = synth("wave-both-hands")
    rng = np.random.default_rng(0)
    noisy = p + rng.normal(scale=0.02, size=p.shape)
    assert bone_length_drift(noisy) > 0.02
    fixed = fix_bone_lengths(noisy)
    lengths = bone_lengths(fixed)
    np.testing.assert_allclose(
        lengths, np.broadcast_to(median_bone_lengths(noisy), lengths.shape), atol=1e-9
    )
    np.testing.assert_array_equal(fixed[:, PELVIS], noisy[:, PELVIS])  # the root is kept
    # Directions are kept: each bone still points where it pointed.
    child, parent = 20, 18  # left wrist from the left elbow
    d0 = noisy[:, child] - noisy[:, parent]
    d1 = fixed[:, child] - fixed[:, parent]
    cos = (d0 * d1).sum(-1) / np.linalg.norm(d0, axis=-1) / np.linalg.norm(d1, axis=-1)
    assert cos.min() > 1 - 1e-9


def test_a_leg_whose_length_wavers_keeps_its_planted_toe_where_it_was():
    from motiongen.skeleton import JOINT_INDEX

    p = synth("walk")
    lengths = median_bone_lengths(p)
    t = np.arange(len(p)) / FPS
    wavering = p.copy()  # knees off by up to 3 cm, slowly as a network's legs waver: thigh and
    for i, knee in enumerate(("left_knee", "right_knee")):  # shin lengths too; toes in place
        sway = 0.03 * np.sin(2 * np.pi * 0.5 * t + i)
        wavering[:, JOINT_INDEX[knee]] += sway[:, None] * np.array([1.0, 0.5, -0.7])
    moved = fix_bone_lengths(wavering, lengths)
    kept = fix_bone_lengths(wavering, lengths, keep_toes=True)
    low = p[:, TOES, 1] < 0.08  # toes near the floor stay; higher ones may move as the bones do
    toe_error = lambda q: np.abs(q[:, TOES] - p[:, TOES]).max(-1)[low].max()  # noqa: E731
    # (within 1 cm: the shift to the toe is low-passed, and where the synthetic leg is
    # straight the soft IK leaves its ankle short; a leg wavering at random from frame to
    # frame keeps its toe only on the low-passed path, within 3 cm, where the knee no longer
    # takes every frame's wavering: the trade the next test shows)
    assert toe_error(moved) > 0.02 and toe_error(kept) < 0.01
    np.testing.assert_allclose(
        bone_lengths(kept), np.broadcast_to(lengths, (len(p), 21)), atol=1e-6
    )


def test_toes_that_jitter_are_kept_on_their_path_not_their_jitter():
    p = synth("walk")
    lengths = median_bone_lengths(p)
    jittery = p.copy()  # toes off by 6 mm at random each frame, along the floor
    jittery[:, TOES] += np.random.default_rng(1).normal(0, 0.006, (len(p), 2, 3)) * [1, 0, 1]
    knees = [JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"]]
    knee_jerk = lambda q: np.percentile(jerk(q, FPS)[:, knees], 95)  # noqa: E731
    kept = fix_bone_lengths(jittery, lengths, keep_toes=True)
    exact = fix_bone_lengths(jittery, lengths, keep_toes=True, toe_shift_seconds=0.0)
    # every frame's jitter taken into the knee by the IK: far jerkier knees
    assert knee_jerk(kept) < 0.7 * knee_jerk(exact)
    assert foot_skating_ratio(kept, FPS) <= foot_skating_ratio(exact, FPS)


def test_reference_bone_lengths_and_degenerate_bones():
    p = synth("idle", 2.0)
    reference = median_bone_lengths(p) * 1.1
    p[5, LEFT_WRIST] = p[5, 18]  # a zero-length forearm in one frame: no direction there
    fixed = fix_bone_lengths(p, reference)
    np.testing.assert_allclose(
        bone_lengths(fixed), np.broadcast_to(reference, (len(p), 21)), atol=1e-9
    )
    assert np.isfinite(fixed).all()
    with pytest.raises(InputError, match="bone lengths"):
        fix_bone_lengths(p, np.ones(5))


def test_a_squashed_bone_does_not_throw_its_child():
    p = synth("idle", 2.0)
    elbow = 18  # LEFT_WRIST's parent
    forearm = p[:, LEFT_WRIST] - p[:, elbow]
    # For two frames the generator squashes the forearm to 3 cm pointing sideways: stretched
    # back to full length along that direction, the wrist would jump a forearm's length.
    side = np.cross(forearm[10], [0.0, 1.0, 0.0])
    for t in (10, 11):
        p[t, LEFT_WRIST] = p[t, elbow] + 0.03 * side / np.linalg.norm(side)
    fixed = fix_bone_lengths(p)
    step = np.linalg.norm(np.diff(fixed[:, LEFT_WRIST], axis=0), axis=-1)
    clean_step = np.linalg.norm(np.diff(synth("idle", 2.0)[:, LEFT_WRIST], axis=0), axis=-1)
    assert step.max() < clean_step.max() + 0.02
    np.testing.assert_allclose(bone_lengths(fixed)[:, 16], np.median(bone_lengths(p)[:, 16]))


def test_a_squashed_bone_between_opposite_directions_turns_evenly():
    p = synth("idle", 2.0)
    elbow = 18  # LEFT_WRIST's parent
    length = float(np.median(np.linalg.norm(p[:, LEFT_WRIST] - p[:, elbow], axis=-1)))
    down, up = np.array([0.0, -1.0, 0.05]), np.array([0.0, 1.0, 0.05])
    for t in range(len(p)):  # the forearm hangs, then points up: in between it is squashed
        d = down if t < 10 else up if t > 13 else (down + (t - 9) / 5 * (up - down)) * 0.2
        p[t, LEFT_WRIST] = p[t, elbow] + length * d / (1.0 if 10 <= t <= 13 else np.linalg.norm(d))
    fixed = fix_bone_lengths(p)
    forearm = fixed[:, LEFT_WRIST] - fixed[:, elbow]
    unit = forearm / np.linalg.norm(forearm, axis=-1, keepdims=True)
    turns = np.degrees(np.arccos(np.clip(np.sum(unit[8:16] * unit[9:17], axis=-1), -1, 1)))
    # about 175 degrees over the 5 steps from frame 9 to 14, none of them a flip
    assert turns.max() < 45.0 and turns[1:6].sum() > 150.0


# ---- floor ---------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0.3, -0.1])
def test_floating_and_sinking_motions_land_on_the_floor(offset):
    p = synth("walk")
    moved = p.copy()
    moved[..., 1] += offset
    out = postprocess(moved, FPS)
    assert ground_penetration(out) == 0.0
    contacts = toe_contacts(out, FPS)
    planted = out[:, TOES, 1][contacts]
    assert contacts.mean() > 0.3  # a walk stands on a foot most of the time
    assert planted.min() >= 0.0 and np.median(planted) < 0.005  # planted toes on the floor
    # Every half second has a foot on the floor: no floating stretch.
    per_half_second = lowest_foot(out)[: len(out) // 10 * 10].reshape(-1, 10).min(axis=1)
    assert per_half_second.max() < 0.01


def test_slow_vertical_drift_is_removed_frame_by_frame():
    p = synth("walk", 10.0)
    drift = np.linspace(0.0, 0.25, len(p))  # the body slowly rises off the floor
    p[..., 1] += drift[:, None]
    snapped = snap_to_floor(p, FPS)
    per_second = lowest_foot(snapped).reshape(-1, 20).min(axis=1)
    assert np.abs(per_second).max() < 0.02


def test_jump_keeps_its_air_time():
    p = synth("jump")
    out = postprocess(p, FPS)
    assert lowest_foot(p).max() > 0.2
    assert lowest_foot(out).max() > 0.2  # not flattened onto the floor
    assert abs(lowest_foot(out).max() - lowest_foot(p).max()) < 0.02
    assert ground_penetration(out) == 0.0


def test_a_grounded_motion_sets_a_hover_down_while_its_feet_move():
    # A dance's feet never stop, and every 1.2 s the body rises 6 cm off the floor (in 0.15 s)
    # and hovers there for half a second: the slow-foot floor leaves it so (a foot was down
    # within the second); a grounded one sets the hover down, all but its edges.
    p = synth("wave-both-hands", 6.0)
    t = np.arange(len(p)) / FPS
    p[:, FEET, 0] += 0.05 * np.sin(2 * np.pi * 1.5 * t)[:, None]  # feet always moving
    up = np.clip(np.minimum(t % 1.2, 0.8 - t % 1.2) / 0.15, 0.0, 1.0)
    p[..., 1] += 0.06 * (np.sin(0.5 * np.pi * up) ** 2)[:, None]
    default = lowest_foot(postprocess(p, FPS))
    grounded = lowest_foot(postprocess(p, FPS, grounded=True))
    middle = np.abs(t % 1.2 - 0.4) < 0.1
    assert default[middle].min() > 0.05
    # 1.5 cm before the soft IK (straight synthetic legs), 1.64 with the toe shift low-passed
    assert grounded[middle].max() < 0.0175
    assert np.mean(grounded > 0.03) < 0.5 * np.mean(default > 0.03)
    assert grounded.min() >= 0.0


# ---- feet ----------------------------------------------------------------------------------
def test_sliding_planted_feet_are_locked():
    p = synth("idle", 4.0)
    glide = np.zeros(len(p))
    glide[20:30] = np.linspace(0.0, 0.3, 10)  # the body glides 30 cm in 0.5 s, feet on the floor
    glide[30:] = 0.3
    p[..., 2] += glide[:, None]
    assert foot_skating_ratio(p, FPS) > 0.1
    out = postprocess(p, FPS)
    assert foot_skating_ratio(out, FPS) == 0.0
    contacts = toe_contacts(out, FPS)
    assert contacts.all()
    toe_xz = out[:, TOES][:, :, [0, 2]]
    assert np.linalg.norm(np.diff(toe_xz, axis=0), axis=-1).max() < 1e-3
    assert bone_length_drift(out) < 1e-5


def test_a_lock_handed_from_heel_to_toe_moves_the_ankle_at_a_bounded_pace():
    from motiongen.postprocess.floor import EASE_SPEED
    from motiongen.skeleton import JOINT_INDEX

    p = synth("idle", 3.0)
    n = len(p)
    foot = [JOINT_INDEX["left_ankle"], LEFT_FOOT]
    slide = np.clip((np.arange(n) - 20) / 20, 0, 1) * 0.4  # the left foot slides 40 cm ...
    p[:, foot, 2] += slide[:, None]
    flags = np.zeros((n, 4), dtype=bool)
    flags[:22, 0] = True  # ... said planted on its heel before the slide
    flags[22:, 1] = True  # ... and on its toe during and after it: locked 20 cm further on
    # (no root correction: a shifted body would move the unlocked ankle too)
    out = fix_foot_sliding(p, FPS, contacts=flags, root_correction=False)
    ankle = foot[0]
    step = np.linalg.norm(np.diff(out[:, ankle], axis=0), axis=-1)
    free = np.linalg.norm(np.diff(p[:, ankle], axis=0), axis=-1)
    assert (step - free).max() <= EASE_SPEED / FPS + 1e-9
    knee = JOINT_INDEX["left_knee"]
    assert np.linalg.norm(np.diff(out[:, knee], axis=0), axis=-1).max() < 0.1


def test_two_bone_ik_never_bends_a_knee_backwards():
    hip = np.array([[0.0, 1.0, 0.0]])
    knee = np.array([[0.0, 0.55, -0.02]])  # a nearly straight leg, the knee a little back
    ankle = np.array([[0.0, 0.1, 0.0]])
    target = np.array([[0.0, 0.2, 0.15]])  # its foot locked ahead: the old knee is behind
    new_knee, _ = two_bone_ik(hip, knee, ankle, target, np.array([[0.0, 0.0, 1.0]]))
    line = (target - hip) / np.linalg.norm(target - hip)
    off = (new_knee - hip) - ((new_knee - hip) @ line.T) * line
    assert off[0, 2] > 0.0  # in front of the hip-target line


def test_a_slow_planted_toe_the_model_left_out_is_locked_too():
    p = snap_to_floor(synth("idle", 4.0), FPS)
    n = len(p)
    creep = np.clip((np.arange(n) - 20) / 40, 0, 1) * 0.6  # the left toe creeps 0.6 m in 2 s
    p[:, [LEFT_FOOT], 2] += creep[:, None]
    flags = np.zeros((n, 4), dtype=bool)  # a model said nothing is planted
    flags[:, 3] = True  # ... but the right toe
    guessed = fix_foot_sliding(p, FPS, contacts=flags, root_correction=False)
    given = fix_foot_sliding(p, FPS, contacts=flags, root_correction=False, add_guessed=False)
    travel = lambda q: np.ptp(q[:, LEFT_FOOT, 2])  # noqa: E731
    assert travel(given) == pytest.approx(0.6, abs=1e-6) and travel(guessed) < 0.05
    assert foot_skating_ratio(guessed, FPS) <= foot_skating_ratio(given, FPS)


def test_predicted_contacts_lock_heel_and_toe_at_any_speed():
    p = synth("idle", 4.0)
    n = len(p)
    # the body glides 1.5 m in 0.5 s (3 m/s, far above the 1 m/s the heuristic would lock)
    glide = np.clip((np.arange(n) - 20) / 10, 0, 1) * 1.5
    p[..., 2] += glide[:, None]
    flags = np.ones((n, 4), dtype=bool)  # a model says: both feet planted throughout
    heuristic = postprocess(p, FPS)
    locked = postprocess(p, FPS, contacts=flags)
    assert foot_skating_ratio(heuristic, FPS) > 0.05  # too fast for the speed-gated lock
    assert foot_skating_ratio(locked, FPS) == 0.0
    for joints in (TOES, [7, 8]):  # toes and ankles (heels) stay put
        xz = locked[:, joints][:, :, [0, 2]]
        assert np.linalg.norm(np.diff(xz, axis=0), axis=-1).max() < 0.02
    assert bone_length_drift(locked) < 1e-5
    # contact only on the toes: the heel is free, the toe still does not slide
    toe_only = flags.copy()
    toe_only[:, [0, 2]] = False
    out = postprocess(p, FPS, contacts=toe_only)
    assert foot_skating_ratio(out, FPS) == 0.0 and bone_length_drift(out) < 1e-5
    with pytest.raises(ValueError, match="contacts must have shape"):
        fix_foot_sliding(p, FPS, contacts=np.ones((n, 3), dtype=bool))


def test_a_foot_locked_twice_a_frame_apart_catches_up_without_a_jump():
    p = synth("idle", 6.0)
    n = len(p)
    # The body creeps 1 m over 5 s while a model says the feet are planted, save one frame:
    # two locks half a metre apart with one free frame between them.
    p[..., 2] += np.clip((np.arange(n) - 10) / 100, 0, 1)[:, None]
    flags = np.ones((n, 4), dtype=bool)
    flags[60] = False
    jumpy = fix_foot_sliding(p, FPS, contacts=flags, ease_speed=None)
    eased = fix_foot_sliding(p, FPS, contacts=flags)

    def fastest(out: np.ndarray) -> float:
        return float(np.linalg.norm(np.diff(out[:, TOES], axis=0), axis=-1).max() * FPS)

    assert fastest(jumpy) > 4.0  # half a metre in a frame or two
    assert fastest(eased) < 1.5 + 0.2 + 0.05  # the fade's limit plus the creep's pace
    assert bone_length_drift(eased) < 1e-5


def test_foot_locking_is_idempotent_on_clean_motion():
    p = snap_to_floor(synth("sit", 4.0), FPS)
    out = fix_foot_sliding(p, FPS)
    assert np.abs(out - p).max() < 0.01


def test_a_lock_beginning_on_a_straight_leg_moves_no_knee():
    # the soft IK bent a straight leg as its lock began, even with its target where the ankle
    # was: the knee jumped 16-34 mm in one frame (a read-through of the thirty-fourth session)
    p = snap_to_floor(synth("idle", 3.0), FPS)
    contacts = np.zeros((len(p), 2), bool)
    contacts[30:] = True
    out = fix_foot_sliding(p, FPS, contacts=contacts, follow_support=None)
    knees = [JOINT_INDEX["left_knee"], JOINT_INDEX["right_knee"]]
    step = np.linalg.norm(np.diff(out[:, knees], axis=0), axis=-1)
    own = np.linalg.norm(np.diff(p[:, knees], axis=0), axis=-1)
    assert (step - own).max() < 1e-3


def test_walk_root_trajectory_is_not_destroyed():
    p = synth("walk", 10.0)
    out = postprocess(p, FPS)
    root_in, root_out = p[:, PELVIS][:, [0, 2]], out[:, PELVIS][:, [0, 2]]
    assert np.linalg.norm(root_out - root_in, axis=-1).max() < 0.05
    travel_in = np.linalg.norm(np.diff(root_in, axis=0), axis=-1).sum()
    travel_out = np.linalg.norm(np.diff(root_out, axis=0), axis=-1).sum()
    assert travel_in > 5.0 and abs(travel_out / travel_in - 1) < 0.02
    assert foot_skating_ratio(out, FPS) <= foot_skating_ratio(p, FPS) + 0.1
    assert jitter_score(out, FPS) < 0.3
    assert bone_length_drift(out) < 1e-5


def test_two_bone_ik_reaches_and_keeps_lengths():
    hip = np.array([[0.0, 1.0, 0.0]] * 3)
    knee = np.array([[0.0, 0.55, 0.05]] * 3)
    ankle = np.array([[0.0, 0.1, 0.0]] * 3)
    target = np.array([[0.1, 0.2, 0.1], [0.0, 0.15, 0.0], [0.0, -2.0, 0.0]])  # last: too far
    pole = np.array([[0.0, 0.0, 1.0]] * 3)
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, target, pole)
    a, b = np.linalg.norm(knee - hip, axis=-1), np.linalg.norm(ankle - knee, axis=-1)
    np.testing.assert_allclose(np.linalg.norm(new_knee - hip, axis=-1), a, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(new_ankle - new_knee, axis=-1), b, atol=1e-6)
    np.testing.assert_allclose(new_ankle[:2], target[:2], atol=1e-9)
    assert new_knee[0, 2] > 0.0  # the knee still bends forward
    np.testing.assert_allclose(new_ankle[2, [0, 2]], 0.0, atol=1e-9)  # along the hip-target line


def test_hips_and_collars_turn_as_one_rigid_bone_so_a_bvh_keeps_them(tmp_path):
    import motiongen
    from motiongen.motion import Motion
    from motiongen.postprocess.bones import fix_bone_lengths
    from motiongen.skeleton import JOINT_INDEX

    p = synth("walk", 4.0)
    n = len(p)
    wobble = 0.03 * np.sin(np.arange(n) / 3.0)  # a generated hip width wandering by 6 cm
    for joint, side in (("left_hip", 1.0), ("left_collar", -1.0)):
        p[:, JOINT_INDEX[joint], 0] += side * wobble
    out = fix_bone_lengths(p)

    def width(q, a, b):
        return np.linalg.norm(q[:, JOINT_INDEX[a]] - q[:, JOINT_INDEX[b]], axis=-1)

    for a, b in (("left_hip", "right_hip"), ("left_collar", "right_collar")):
        assert np.ptp(width(p, a, b)) > 0.02 and np.ptp(width(out, a, b)) < 1e-6
    path = motiongen.save(Motion(positions=out.astype(np.float32), fps=FPS), tmp_path / "w.bvh")
    back = motiongen.load(path).positions
    assert np.abs(back - out).max() < 1e-3  # the BVH's rigid pelvis holds it all
    clean = synth("walk", 4.0)  # a captured-like body is rigid there already: left as it is
    np.testing.assert_allclose(fix_bone_lengths(clean), clean, atol=1e-4)


# ---- smoothing -----------------------------------------------------------------------------
def test_jerk_limiter_removes_a_glitch_and_leaves_the_rest():
    p = synth("idle", 3.0)
    glitch = p.copy()
    glitch[30, LEFT_WRIST] += [0.3, 0.0, 0.0]
    assert jerk(glitch, FPS).max() > DEFAULT_MAX_JERK
    out = limit_jerk(glitch, FPS)
    assert jerk(out, FPS).max() < DEFAULT_MAX_JERK
    assert np.abs(out[30, LEFT_WRIST] - p[30, LEFT_WRIST]).max() < 0.1
    far = np.r_[0:20, 41 : len(p)]
    np.testing.assert_array_equal(out[far], glitch[far])
    # Real motion is under the limit and passes through untouched.
    np.testing.assert_array_equal(limit_jerk(p, FPS), p)


def test_gaussian_smoothing_damps_jitter_and_keeps_still_poses():
    p = synth("idle", 3.0)
    still = np.repeat(p[:1], 40, axis=0)
    np.testing.assert_allclose(gaussian_smooth(still, FPS), still, atol=1e-12)
    t = np.arange(60)
    ones = np.ones((1, 22, 3))
    # Known answers for the discrete kernel (sigma = half a frame: weights 0.107, 0.787,
    # 0.107): frame-to-frame alternation (10 Hz) keeps 0.575 of its amplitude, 1 Hz 0.989.
    zigzag = (-1.0) ** t[:, None, None] * ones
    np.testing.assert_allclose(gaussian_smooth(zigzag, FPS)[5:-5], 0.575 * zigzag[5:-5], atol=2e-3)
    slow = np.sin(2 * np.pi * 1.0 * t / FPS)[:, None, None] * ones
    assert np.abs(gaussian_smooth(slow, FPS) - slow)[5:-5].max() < 0.012  # 1 Hz motion kept


def test_jittery_motion_is_smoothed_until_it_is_not():
    p = synth("walk", 6.0)
    rng = np.random.default_rng(2)
    jittery = p + rng.normal(scale=0.02, size=p.shape)  # 2 cm of noise per joint and frame
    assert jitter_score(jittery, FPS) > 0.6
    light = postprocess(jittery, FPS, max_jitter=None)  # the default width only
    adaptive = postprocess(jittery, FPS)
    assert jitter_score(light, FPS) > 0.3  # flagged
    assert jitter_score(adaptive, FPS) < 0.25
    assert bone_length_drift(adaptive) < 1e-5
    # Clean motion needs no more than the default width: both settings agree exactly.
    np.testing.assert_array_equal(postprocess(p, FPS), postprocess(p, FPS, max_jitter=None))


def test_motion_as_smooth_as_capture_is_not_low_passed():
    p = synth("walk", 6.0)
    assert jitter_score(p, FPS) <= SMOOTH_ENOUGH
    # only the bones and the floor: the same as with smoothing off
    unsettled = postprocess(p, FPS, settle=False)
    np.testing.assert_allclose(unsettled, postprocess(p, FPS, smooth=False), atol=1e-6)
    # settling joints at rest (a planted foot) moves them by millimetres at most
    assert np.abs(postprocess(p, FPS) - unsettled).max() < 5e-3
    forced = postprocess(p, FPS, smooth_enough=None)
    assert np.abs(forced - postprocess(p, FPS)).max() > 1e-3


def test_joints_at_rest_stop_shimmering_and_moving_ones_keep_their_shape():
    from motiongen.postprocess import settle_still_joints

    rng = np.random.default_rng(3)
    t = np.arange(120) / FPS
    p = np.zeros((120, 22, 3))
    p[:, 1, 0] = 0.15 * np.sin(2 * np.pi * 2.5 * t)  # a waving wrist: 2.5 Hz, 15 cm
    p += rng.normal(scale=0.003, size=p.shape)  # 3 mm of shimmer everywhere
    out = settle_still_joints(p, FPS)
    shimmer = lambda a: np.abs(np.diff(a, 2, axis=0)).mean()  # noqa: E731
    assert shimmer(out[:, 2]) < 0.3 * shimmer(p[:, 2])  # a joint at rest is settled
    np.testing.assert_allclose(out[:, 1], p[:, 1], atol=1e-9)  # the wave as it was, peaks too


# ---- the whole chain -----------------------------------------------------------------------
@pytest.mark.parametrize("frames", [1, 2, 3, 5])
def test_short_clips(frames):
    out = postprocess(synth("idle", 2.0)[:frames], FPS)
    assert out.shape == (frames, 22, 3) and out.dtype == np.float32 and np.isfinite(out).all()


def test_noise_comes_out_physically_sane():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(120, 22, 3))
    out = postprocess(noise, FPS)
    assert np.isfinite(out).all()
    assert bone_length_drift(out) < 1e-5
    assert ground_penetration(out) == 0.0


def test_switches_and_bad_input():
    p = synth("walk", 2.0)
    p[..., 1] += 0.2
    out = postprocess(p, FPS, floor=False, smooth=False, bones=False)
    np.testing.assert_allclose(out, p, atol=1e-6)
    with pytest.raises(InputError, match="shape"):
        postprocess(np.zeros((10, 21, 3)), FPS)
    bad = p.copy()
    bad[3, 3, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        postprocess(bad, FPS)
    with pytest.raises(InputError, match="frame rate"):
        postprocess(p, 0.0)


@pytest.mark.realdata
def test_real_capture_changes_little(data_root):
    import motiongen

    path = data_root / "bandai" / "dataset-1" / "data" / "dataset-1_walk_normal_001.bvh"
    if not path.exists():
        pytest.skip(f"{path.name} not in the data")
    p = motiongen.load(path).resample(FPS).positions
    out = postprocess(p, FPS)
    moved = np.linalg.norm(out - p, axis=-1)
    assert np.median(moved) < 0.02 and moved.max() < 0.15
    assert bone_length_drift(out) < 1e-5 and ground_penetration(out) == 0.0
    # The skating metric also counts fast low toes in swing (0.19 on this clip as captured);
    # post-processing must not add much, and planted toes must not move at all.
    assert foot_skating_ratio(out, FPS) <= foot_skating_ratio(p, FPS) + 0.05
    contacts = toe_contacts(out, FPS)
    toe_step = np.linalg.norm(np.diff(out[:, TOES][:, :, [0, 2]], axis=0), axis=-1)
    assert toe_step[contacts[:-1] & contacts[1:]].max() < 1e-3


def test_two_bone_ik_leaves_a_raised_leg_bent_its_own_way():
    # an arabesque: the foot raised behind, above the hip, the knee bent down, "behind" the
    # hip-ankle line by the facing (+z); its target moved a little
    hip, knee = np.array([[0.0, 1.0, 0.0]]), np.array([[0.0, 0.8, -0.38]])
    ankle = np.array([[0.0, 1.2, -0.7]])
    pole = np.array([[0.0, 0.0, 1.0]])
    new_knee, _ = two_bone_ik(hip, knee, ankle, ankle + [0.0, 0.02, 0.0], pole)
    assert np.linalg.norm(new_knee - knee) < 0.05  # still bent down (it was flipped up)
    # a straight leg raised forward, its target pulled closer: it bends, keeping its bones
    hip, knee, ankle = (np.array([[0.0, 1.0 + 0.2 * k, 0.4 * k]]) for k in range(3))
    new_knee, new_ankle = two_bone_ik(hip, knee, ankle, np.array([[0.0, 1.3, 0.6]]), pole)
    thigh, shin = np.linalg.norm(knee - hip), np.linalg.norm(ankle - knee)
    assert np.linalg.norm(new_knee - hip) == pytest.approx(thigh)
    assert np.linalg.norm(new_ankle - new_knee) == pytest.approx(shin)


def test_a_long_slow_slide_is_not_locked_in_one_place():
    p = synth("idle", 4.0)
    p[..., 1] -= p[..., 1].min()
    # the whole body shuffles 2 m at 0.5 m/s: toes low and slow, "planted" by speed alone
    p[..., 2] += (np.arange(len(p)) / FPS * 0.5)[:, None]
    for travel, drops in ((1e9, True), (0.6, False)):
        out = fix_foot_sliding(p, FPS, max_lock_travel=travel, follow_support=None)
        drop = float((p[:, PELVIS, 1] - out[:, PELVIS, 1]).max())
        # one lock at the slide's middle pulled the pelvis down to reach it, legs folded
        assert (drop > 0.2) is drops, (travel, drop)


def test_a_figure_sliding_as_a_whole_keeps_its_pelvis_over_its_feet():
    p = synth("idle", 4.0)
    p[..., 1] -= p[..., 1].min()
    # feet and pelvis alike creep 12 cm (a generated bow that drifts): the feet get pinned
    p[..., 2] += np.linspace(0.0, 0.12, len(p))[:, None]
    over_feet = p[:, PELVIS, 2] - p[:, TOES, 2].mean(axis=1)
    for follow, slant in ((None, True), (0.5, False)):
        out = fix_foot_sliding(p, FPS, follow_support=follow)
        toe_step = np.linalg.norm(np.diff(out[:, TOES][:, :, [0, 2]], axis=0), axis=-1)
        assert toe_step.max() < 1e-3  # pinned either way
        # without following, the pelvis kept its slide and the legs slanted to reach the feet
        moved = np.abs(out[:, PELVIS, 2] - out[:, TOES, 2].mean(axis=1) - over_feet).max()
        assert bool(moved > 0.04) is slant, (follow, moved)
    drift = np.linalg.norm(out[-1, PELVIS, [0, 2]] - out[0, PELVIS, [0, 2]])
    assert drift < 0.03


def test_following_the_feet_keeps_a_walk_and_a_shuffle_going():
    p = synth("idle", 4.0)
    p[..., 1] -= p[..., 1].min()
    p[..., 2] += (np.arange(len(p)) / FPS * 0.5)[:, None]  # a 2 m shuffle, locks cut at 0.6 m
    out = fix_foot_sliding(p, FPS)
    travel = out[-1, PELVIS, 2] - out[0, PELVIS, 2]
    # its locks are cut from a slide, not plants: not followed (0.2 m shorter when they were)
    assert abs(travel - (p[-1, PELVIS, 2] - p[0, PELVIS, 2])) < 0.06
    walk = snap_to_floor(synth("walk", 10.0), FPS)
    out = fix_foot_sliding(walk, FPS)
    root_in, root_out = walk[:, PELVIS][:, [0, 2]], out[:, PELVIS][:, [0, 2]]
    assert np.linalg.norm(root_out - root_in, axis=-1).max() < 0.05


def test_free_frames_turn_no_faster_than_people_do():
    """Keyframes 3 m apart sideways: the control model snapped 110 degrees round in 4 frames
    next to each (a new-user trial); the turn is spread over the free frames instead."""
    from motiongen.canonical import heading, rotate_y
    from motiongen.postprocess.turns import MAX_TURN_RATE, limit_turn_rate

    base = synth_motion("walk", seconds=0.5, seed=0).positions[:1].astype(np.float64)
    turn = np.radians(np.r_[0, 30, 70, 105, np.full(40, 110.0), 105, 70, 30, 0])
    motion = rotate_y(np.repeat(base, len(turn), axis=0), turn)
    fixed = np.zeros(len(turn), bool)
    fixed[[0, -1]] = True
    out, applied = limit_turn_rate(motion, 20.0, fixed)
    rate = np.abs(np.diff(np.unwrap(heading(out)))) * 20.0
    assert rate.max() <= MAX_TURN_RATE + 1e-6 and applied > 20.0
    np.testing.assert_allclose(out[fixed], motion[fixed])  # given frames exactly as given
    np.testing.assert_allclose(out[20], motion[20], atol=1e-9)  # caught up in between
    # a spin asked for (four whole turns in 3 s, 480 deg/s) is left a spin
    spin = rotate_y(np.repeat(base, 60, axis=0), np.linspace(0, 8 * np.pi, 60))
    kept, applied = limit_turn_rate(spin, 20.0, np.r_[True, np.zeros(59, bool)])
    np.testing.assert_allclose(kept, spin)
    assert applied == 0.0


def test_a_join_swings_no_further_than_its_ends_allow():
    """A stop joined to a bow twisted the body 26 degrees round and back inside the join's
    second, feet planted; the swing past the ends is scaled down to the limit, its shape kept,
    and the frames outside the join, or a join that turns only from one end to the other, are
    left alone."""
    from motiongen.canonical import heading, rotate_y
    from motiongen.postprocess.turns import MAX_OVERTURN, limit_overturn, overturn

    base = synth_motion("walk", seconds=0.5, seed=0).positions[:1].astype(np.float64)
    n = 40
    gap = (10, 31)
    swing = np.zeros(n)
    swing[gap[0] : gap[1]] = np.radians(30.0) * np.sin(np.linspace(0, np.pi, 23)[1:-1])
    ends = np.radians(np.r_[np.zeros(20), np.linspace(0, 20, 20)])  # a 20 deg turn meanwhile
    motion = rotate_y(np.repeat(base, n, axis=0), ends + swing)
    out, applied = limit_overturn(motion, (gap,))
    facing = np.unwrap(heading(out))
    assert overturn(facing[gap[0] - 1 : gap[1] + 1]) <= MAX_OVERTURN + 1e-6
    assert overturn(np.unwrap(heading(motion))[gap[0] - 1 : gap[1] + 1]) > 15.0
    assert 5.0 < applied < 30.0
    outside = np.r_[0 : gap[0], gap[1] : n]
    np.testing.assert_allclose(out[outside], motion[outside], atol=1e-9)
    # still a swing the same way, smaller: its shape scaled, not clipped flat
    left = np.unwrap(heading(out))[gap[0] : gap[1]] - ends[gap[0] : gap[1]]
    assert np.all(left >= -1e-9) and np.argmax(left) == np.argmax(swing[gap[0] : gap[1]])
    # a join turning straight from one end's facing to the other's is left as it is
    straight = rotate_y(np.repeat(base, n, axis=0), ends)
    kept, applied = limit_overturn(straight, (gap,))
    np.testing.assert_allclose(kept, straight)
    assert applied == 0.0
    # a join spinning round a whole turn (to 355 deg, where -5 would do) turns the short way;
    # one turning 190 deg (where the other way is 170) keeps its own way round
    for total, way in ((355.0, -5.0), (190.0, 190.0)):
        turn = np.radians(np.r_[np.zeros(10), np.linspace(0, total, 23)[1:-1], np.full(9, total)])
        spun = rotate_y(np.repeat(base, n, axis=0), turn)
        out, _ = limit_overturn(spun, (gap,))
        facing = np.degrees(np.unwrap(heading(out)))
        assert np.all(np.abs(np.diff(facing)) < 20.0)  # no pop at either end of the join
        assert abs(facing[gap[1] - 1] - way) < 25.0
