import numpy as np
import pytest

from motiongen import InputError, Motion
from motiongen.canonical import _kabsch_svd, canonicalize, heading, kabsch, rotate_y
from motiongen.skeleton import (
    JOINT_NAMES,
    LEFT_HIP,
    MIRROR_PERM,
    NUM_JOINTS,
    PARENTS,
    RIGHT_HIP,
    bone_lengths,
)


def standing_pose() -> np.ndarray:
    """A rough T-pose facing +Z with the left side at +X, feet on the floor."""
    p = {
        "pelvis": (0, 0.9, 0), "left_hip": (0.1, 0.85, 0), "right_hip": (-0.1, 0.85, 0),
        "spine1": (0, 1.0, 0), "left_knee": (0.1, 0.48, 0.02), "right_knee": (-0.1, 0.48, 0.02),
        "spine2": (0, 1.12, 0), "left_ankle": (0.1, 0.08, 0), "right_ankle": (-0.1, 0.08, 0),
        "spine3": (0, 1.25, 0), "left_foot": (0.1, 0.0, 0.12), "right_foot": (-0.1, 0.0, 0.12),
        "neck": (0, 1.45, 0), "left_collar": (0.08, 1.4, 0), "right_collar": (-0.08, 1.4, 0),
        "head": (0, 1.6, 0), "left_shoulder": (0.18, 1.42, 0), "right_shoulder": (-0.18, 1.42, 0),
        "left_elbow": (0.45, 1.42, 0), "right_elbow": (-0.45, 1.42, 0),
        "left_wrist": (0.7, 1.42, 0), "right_wrist": (-0.7, 1.42, 0),
    }  # fmt: skip
    return np.array([p[n] for n in JOINT_NAMES], dtype=np.float32)


def test_skeleton_tables_consistent():
    assert NUM_JOINTS == 22 == len(PARENTS)
    assert all(p < j for j, p in enumerate(PARENTS))  # parents come first
    assert sorted(MIRROR_PERM) == list(range(22))
    assert all(MIRROR_PERM[MIRROR_PERM[j]] == j for j in range(22))
    assert JOINT_NAMES[MIRROR_PERM[JOINT_NAMES.index("left_wrist")]] == "right_wrist"


def test_motion_validates_shape_and_values():
    with pytest.raises(InputError, match="shape"):
        Motion(np.zeros((10, 23, 3)), fps=30)
    bad = np.zeros((10, 22, 3))
    bad[3, 4, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        Motion(bad, fps=30)
    with pytest.raises(InputError, match="frame rate"):
        Motion(np.zeros((10, 22, 3)), fps=0)
    with pytest.raises(InputError, match="actions"):
        Motion(np.zeros((10, 22, 3)), fps=30, actions=["walk"] * 9)


def test_resample_keeps_duration_and_interpolates_linearly():
    t = np.arange(31) / 30.0
    pos = np.tile(standing_pose(), (31, 1, 1))
    pos[:, :, 0] += t[:, None]  # moves 1 m/s along x
    m = Motion(pos, fps=30, actions=["walk"] * 31)
    r = m.resample(20)
    assert r.num_frames == 21 and r.fps == 20
    assert abs(r.seconds - m.seconds) < 0.06
    np.testing.assert_allclose(r.positions[:, 0, 0], np.arange(21) / 20.0, atol=1e-5)
    assert r.actions == ["walk"] * 21
    # up: the last frame lasts 1/30 s too, so the frames in it go on moving (none frozen)
    up = m.resample(120)
    assert up.num_frames == 124
    assert np.diff(up.positions[:, 0, 0]).min() == pytest.approx(1 / 120, abs=1e-5)
    assert m.resample(30, frames=40).positions[-1, 0, 0] == pytest.approx(31 / 30, abs=1e-5)


def test_upsampling_follows_a_smooth_curve_through_the_frames():
    # a joint on a circle at 20 fps, written at 60: linear interpolation cut corners and
    # left the acceleration zero on 2 of every 3 frames (a stepped look in an engine)
    t = np.arange(40) / 20.0
    pos = np.tile(standing_pose(), (40, 1, 1))
    pos[:, :, 0] += 0.3 * np.cos(2 * np.pi * t)[:, None]
    pos[:, :, 2] += 0.3 * np.sin(2 * np.pi * t)[:, None]
    up = Motion(pos, fps=20).resample(60).positions.astype(np.float64)
    np.testing.assert_allclose(up[::3][:40], pos, atol=1e-5)  # the frames themselves kept
    inside = up[: 3 * 39 + 1, 0]
    acc = np.linalg.norm(np.diff(inside, 2, axis=0), axis=-1) * 60**2
    assert acc.min() > 0.5 * acc.max()  # about (2 pi)^2 * 0.3 = 11.8 m/s^2 in every frame
    radius = np.linalg.norm(inside[:, [0, 2]] - pos[0, 0, [0, 2]] + [0.3, 0.0], axis=-1)
    assert np.abs(radius - 0.3).max() < 0.002  # linear: chords 4 mm inside the circle
    assert up[..., 1].min() >= pos[..., 1].min() - 1e-6


def test_without_travel_takes_out_the_travel_along_the_floor_only():
    t = np.arange(30) / 30.0
    pos = np.tile(standing_pose(), (30, 1, 1))
    pos[:, :, 0] += t[:, None]  # 1 m/s along x
    pos[:, :, 1] += 0.05 * np.sin(6 * t)[:, None]  # bobbing
    still = Motion(pos, fps=30).without_travel()
    np.testing.assert_allclose(
        still.positions[:, 0, [0, 2]], np.tile(pos[0, 0, [0, 2]], (30, 1)), atol=1e-6
    )
    np.testing.assert_allclose(still.positions[..., 1], pos[..., 1], atol=1e-6)
    limbs = still.positions - still.positions[:, :1]
    np.testing.assert_allclose(limbs, pos - pos[:, :1], atol=1e-6)  # the pose itself unchanged
    assert still.meta["without_travel"] is True


def test_crop_moves_audio_offset():
    from motiongen import AudioRef

    m = Motion(np.tile(standing_pose(), (50, 1, 1)), fps=25, audio=AudioRef("song.ogg", 2.0))
    c = m.crop(25, 50)
    assert c.num_frames == 25 and c.audio.offset == pytest.approx(3.0)
    with pytest.raises(InputError):
        m.crop(40, 60)
    with pytest.raises(InputError, match="frame numbers.*multiply by the motion's fps, 25"):
        m.crop(0, 2.0)  # seconds: was numpy's bare TypeError
    assert m.crop(np.int64(5), np.int64(10)).num_frames == 5


def test_heading_and_canonicalize():
    pose = standing_pose()
    assert abs(heading(pose[None])[0]) < 1e-6  # faces +Z
    turned = rotate_y(pose[None], np.pi / 2)  # now faces +X
    assert heading(turned)[0] == pytest.approx(np.pi / 2, abs=1e-5)
    moved = turned + np.array([3.0, 0.25, -2.0], dtype=np.float32)
    canon = canonicalize(np.repeat(moved, 5, axis=0))
    np.testing.assert_allclose(canon[0], pose, atol=1e-5)
    assert canon[0, LEFT_HIP, 0] > canon[0, RIGHT_HIP, 0]  # left side at +X


def test_bone_lengths_constant_for_rigid_motion():
    pos = np.stack([rotate_y(standing_pose()[None], a)[0] for a in np.linspace(0, 3, 12)])
    bl = bone_lengths(pos)
    assert bl.shape == (12, 21)
    np.testing.assert_allclose(bl, np.repeat(bl[:1], 12, axis=0), atol=1e-5)


def test_kabsch_matches_the_svd_route_and_stays_proper():
    """Horn's closed form gives the SVD's rotation, reflections and degenerate covariances
    included (one vector: no unique rotation, so both take the SVD route)."""
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    turns = Rotation.random(200, random_state=4).as_matrix()
    for k in (1, 2, 3, 5):
        rest = rng.normal(size=(k, 3))
        for noise in (0.0, 0.3, 4.0):  # 4.0: many cross-covariances reflect
            seen = np.einsum("tij,kj->tki", turns, rest) + noise * rng.normal(size=(200, k, 3))
            h = np.einsum("ka,tkb->tab", rest, seen)
            got = kabsch(h)
            assert np.abs(got - _kabsch_svd(h)).max() < 1e-9
            assert np.allclose(np.linalg.det(got), 1.0)
    odd = np.stack([np.zeros((3, 3)), np.ones((3, 3)), -np.eye(3), np.diag([1.0, 1.0, 0.0])])
    assert np.abs(kabsch(odd) - _kabsch_svd(odd)).max() < 1e-12
    assert kabsch(rng.normal(size=(4, 2, 3, 3))).shape == (4, 2, 3, 3)  # few: the SVD route
    for scale in (1e-54, 1e51):  # each frame scaled to unit norm first: no under- or overflow
        big = scale * rng.normal(size=(100, 3, 3))
        assert np.abs(kabsch(big) - _kabsch_svd(big)).max() < 1e-9
    line = rng.normal(size=(100, 3, 1)) @ rng.normal(size=(100, 1, 3))  # rank 1: no unique turn
    near = line + 1e-6 * rng.normal(size=(100, 3, 3))
    assert np.abs(kabsch(near) - _kabsch_svd(near)).max() < 1e-9
    assert np.allclose(kabsch(h[:1])[0], kabsch(h)[0])  # a frame's rotation is its own
