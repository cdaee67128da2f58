"""Augmentations: mirror, speed, scale, placement."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d

from motiongen.augment import mirror, mirror_label, rotate_about_y, scale, speed, translate
from motiongen.canonical import canonicalize, heading
from motiongen.errors import InputError
from motiongen.features import positions_to_features
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import (
    BONES,
    FOOT_JOINTS,
    JOINT_NAMES,
    LEFT_HIP,
    LEFT_WRIST,
    MIRROR_PERM,
    PELVIS,
    RIGHT_HIP,
    RIGHT_WRIST,
    bone_lengths,
)

# A rough SMPL rest pose: metres, facing +Z, left side at +X, feet on the floor.
REST = np.array(
    [
        [0.00, 0.93, 0.00], [0.06, 0.84, 0.00], [-0.06, 0.84, 0.00], [0.00, 1.04, -0.01],
        [0.10, 0.47, 0.00], [-0.10, 0.47, 0.00], [0.00, 1.17, 0.00], [0.09, 0.07, -0.04],
        [-0.09, 0.07, -0.04], [0.00, 1.23, 0.02], [0.12, 0.02, 0.08], [-0.12, 0.02, 0.08],
        [0.00, 1.45, 0.00], [0.08, 1.38, 0.00], [-0.08, 1.38, 0.00], [0.00, 1.55, 0.03],
        [0.17, 1.40, -0.01], [-0.17, 1.40, -0.01], [0.42, 1.40, -0.03], [-0.42, 1.40, -0.03],
        [0.67, 1.40, -0.02], [-0.67, 1.40, -0.02],
    ]
)  # fmt: skip


def walking(frames: int = 60, seed: int = 0) -> Motion:
    """A canonical motion drifting forward with smooth random wiggles (left arm waving)."""
    rng = np.random.default_rng(seed)
    pos = np.repeat(REST[None], frames, axis=0)
    pos = pos + gaussian_filter1d(rng.normal(0, 0.1, pos.shape), 3, axis=0)
    pos[..., 2] += np.linspace(0, 1.5, frames)[:, None]
    pos[:, LEFT_WRIST, 1] += 0.3 * np.sin(np.linspace(0, 6, frames))
    return Motion(
        positions=canonicalize(pos),
        fps=30.0,
        texts=["A person waves the left hand while walking, then turns clockwise."],
        labels={"source": "test", "content": "wave-left-hand", "style": "normal"},
        actions=["walk-turn-left"] * (frames // 2) + ["wave-right-hand"] * (frames - frames // 2),
        audio=AudioRef("song.ogg", 1.5),
        name="clip",
        meta={"k": 1},
    )


# ---- mirror -----------------------------------------------------------------------------


def test_mirror_permutation_pairs_left_with_right() -> None:
    for j, m in enumerate(MIRROR_PERM):
        name, other = JOINT_NAMES[j], JOINT_NAMES[m]
        assert other == name.replace("left_", "#").replace("right_", "left_").replace("#", "right_")


def test_mirror_twice_is_identity() -> None:
    motion = walking()
    twice = mirror(mirror(motion))
    assert np.array_equal(twice.positions, motion.positions)
    assert twice.texts == motion.texts and twice.labels == motion.labels
    assert twice.actions == motion.actions
    arr = motion.positions
    assert np.array_equal(mirror(mirror(arr)), arr)


def test_mirror_moves_the_other_wrist() -> None:
    motion = walking()
    m = mirror(motion)
    travel = np.ptp(m.positions[:, :, 1], axis=0)
    assert np.isclose(travel[RIGHT_WRIST], np.ptp(motion.positions[:, LEFT_WRIST, 1]))
    assert travel[RIGHT_WRIST] > 0.5 > travel[LEFT_WRIST]


def test_mirror_keeps_a_valid_forward_facing_skeleton() -> None:
    motion = walking()
    m = mirror(motion).positions
    assert (m[:, LEFT_HIP, 0] > m[:, RIGHT_HIP, 0]).all()  # new left side is at +X
    assert m[0, LEFT_HIP, 0] > 0
    assert abs(heading(m[:1])[0]) < 1e-3  # still facing +Z
    # Each bone keeps its length under the mirror, with left and right bones swapped.
    swapped = [BONES.index((MIRROR_PERM[c], MIRROR_PERM[p])) for c, p in BONES]
    assert np.allclose(bone_lengths(m), bone_lengths(motion.positions)[:, swapped], atol=1e-6)
    assert np.allclose(m[..., 1], motion.positions[:, list(MIRROR_PERM), 1])  # heights kept


def test_mirror_swaps_words_in_texts_labels_and_actions() -> None:
    motion = walking()
    m = mirror(motion)
    assert m.labels == {"source": "test", "content": "wave-right-hand", "style": "normal"}
    assert m.texts == ["A person waves the right hand while walking, then turns counterclockwise."]
    assert m.actions[0] == "walk-turn-right" and m.actions[-1] == "wave-left-hand"
    assert m.meta["augment"] == ["mirror"] and m.meta["k"] == 1
    assert motion.labels["content"] == "wave-left-hand"  # input untouched
    assert "augment" not in motion.meta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wave-left-hand", "wave-right-hand"),
        ("raise-up-right-hand", "raise-up-left-hand"),
        ("Left", "Right"),
        ("turns LEFT then right", "turns RIGHT then left"),
        ("moves leftwards", "moves rightwards"),
        ("spins anti-clockwise", "spins clockwise"),
        ("left_wrist", "right_wrist"),
        ("leftover brightness", "leftover brightness"),
        ("walk", "walk"),
    ],
)
def test_mirror_label(text: str, expected: str) -> None:
    assert mirror_label(text) == expected


# ---- speed ------------------------------------------------------------------------------


def test_speed_shortens_duration_by_factor() -> None:
    motion = walking(61)
    fast = speed(motion, 1.25)
    assert fast.fps == motion.fps
    assert fast.num_frames == round(61 / 1.25)
    assert abs(fast.seconds - motion.seconds / 1.25) <= 1 / motion.fps
    assert fast.audio is None and fast.meta["augment"] == ["speed 1.25"]
    assert len(fast.actions) == fast.num_frames and fast.texts == motion.texts


def test_speed_two_takes_every_other_frame_and_half_speed_interpolates() -> None:
    motion = walking(60)
    double = speed(motion, 2.0)
    assert np.allclose(double.positions, motion.positions[::2], atol=1e-6)
    slow = speed(motion, 0.5)
    assert slow.num_frames == 120
    # the original frames kept, the new ones between them on a smooth curve (Motion.resample)
    assert np.allclose(slow.positions[8], motion.positions[4], atol=1e-6)
    midpoint = 0.5 * (motion.positions[3] + motion.positions[4])
    assert np.abs(slow.positions[7] - midpoint).max() < 0.01


# ---- scale ------------------------------------------------------------------------------


@pytest.mark.parametrize("factor", [0.8, 1.2])
def test_scale_keeps_feet_on_floor_and_scales_bones(factor: float) -> None:
    motion = walking()
    big = scale(motion, factor)
    feet = list(FOOT_JOINTS)
    assert np.isclose(big.positions[:, feet, 1].min(), motion.positions[:, feet, 1].min())
    assert np.allclose(bone_lengths(big.positions), factor * bone_lengths(motion.positions))
    assert np.allclose(big.positions[0, PELVIS, [0, 2]], motion.positions[0, PELVIS, [0, 2]])
    travel = np.linalg.norm(np.diff(motion.positions[[0, -1], PELVIS, ::2], axis=0))
    big_travel = np.linalg.norm(np.diff(big.positions[[0, -1], PELVIS, ::2], axis=0))
    assert np.isclose(big_travel, factor * travel, rtol=1e-5)  # strides grow with the legs
    assert big.labels == motion.labels and big.fps == motion.fps


def test_scale_refloors_a_motion_off_the_floor() -> None:
    motion = translate(walking(), (0.0, 0.3, 0.0))
    small = scale(motion, 0.5)
    feet = list(FOOT_JOINTS)
    assert np.isclose(small.positions[:, feet, 1].min(), motion.positions[:, feet, 1].min())


# ---- placement --------------------------------------------------------------------------


def test_translate_and_rotate_leave_features_unchanged() -> None:
    motion = walking()
    moved = rotate_about_y(translate(motion, (2.0, 0.0, -3.0)), 0.9)
    assert moved.meta["augment"] == ["translate 2 0 -3", "rotate_y 0.9"]
    f = positions_to_features(motion.positions, motion.fps)
    g = positions_to_features(moved.positions, moved.fps)
    assert np.abs(f - g).max() < 1e-5


def test_rotate_about_y_turns_the_heading_in_place() -> None:
    motion = walking()
    turned = rotate_about_y(motion, 0.5)
    assert np.allclose(turned.positions[0, PELVIS], motion.positions[0, PELVIS], atol=1e-6)
    delta = heading(turned.positions) - heading(motion.positions)
    assert np.allclose(np.angle(np.exp(1j * delta)), 0.5, atol=1e-5)
    around_origin = rotate_about_y(translate(motion, (1.0, 0.0, 0.0)), np.pi, pivot=(0.0, 0.0))
    assert np.allclose(around_origin.positions[0, PELVIS, 0], -1.0, atol=1e-5)


# ---- errors -----------------------------------------------------------------------------


def test_bad_arguments_raise_input_error() -> None:
    motion = walking(10)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(InputError):
            speed(motion, bad)
        with pytest.raises(InputError):
            scale(motion, bad)
    with pytest.raises(InputError):
        translate(motion, (1.0, 2.0))
    with pytest.raises(InputError):
        rotate_about_y(motion, float("inf"))
    with pytest.raises(InputError):
        mirror(np.zeros((5, 21, 3)))


def test_a_mirrored_timeline_s_segments_swap_their_sides_too():
    from motiongen.data.synthetic import synth_motion

    m = synth_motion("walk", seconds=2.0)
    m = m.copy(meta={"segments": [["a person turns left", 1.0], ["a person waves", 1.0]]})
    assert mirror(m).meta["segments"] == [["a person turns right", 1.0], ["a person waves", 1.0]]
