"""Model features: exact inverse, layout, contacts, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import gaussian_filter1d

from motiongen.canonical import canonicalize, heading, rotate_y
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.features import (
    CONTACTS,
    FEATURE_DIM,
    FEATURE_GROUPS,
    LOCAL_POS,
    MODEL_FPS,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    ROOT_Y,
    VEL,
    NormStats,
    align_to_first_frame,
    features_to_motion,
    features_to_positions,
    features_to_positions_torch,
    motion_to_features,
    positions_to_features,
)
from motiongen.motion import Motion
from motiongen.paths import data_dir
from motiongen.skeleton import FOOT_JOINTS, LEFT_ANKLE, LEFT_FOOT, PELVIS

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


def random_motion(
    seed: int, frames: int, *, walk: float = 1.5, turn: float = 1.0, start_turned: bool = True
) -> np.ndarray:
    """A smooth random motion (T, 22, 3) float32: a random-walk trajectory with a turning
    heading, plus smooth random joint offsets around the rest pose."""
    rng = np.random.default_rng(seed)
    dt = 1.0 / 30.0
    rate = gaussian_filter1d(rng.normal(0, turn * 8, frames), 5) * dt  # rad / frame
    theta = np.cumsum(rate) + (rng.uniform(-np.pi, np.pi) if start_turned else 0.0)
    speed = np.abs(gaussian_filter1d(rng.normal(walk, walk, frames), 8)) * dt
    step = np.stack([np.sin(theta) * speed, np.zeros(frames), np.cos(theta) * speed], -1)
    root = np.cumsum(step, axis=0) + [rng.uniform(-5, 5), 0.0, rng.uniform(-5, 5)]
    wiggle = gaussian_filter1d(rng.normal(0, 0.4, (frames, 22, 3)), 4, axis=0)
    body = rotate_y(REST[None] + wiggle, theta)
    body[..., 1] = REST[None, :, 1] + wiggle[..., 1]
    return (body + root[:, None, :] * [1, 0, 1]).astype(np.float32)


# ---- layout ----------------------------------------------------------------------------


def test_layout_is_contiguous_and_137_wide() -> None:
    groups = list(FEATURE_GROUPS.values())
    assert groups == [ROOT_ROT_VEL, ROOT_LIN_VEL, ROOT_Y, LOCAL_POS, VEL, CONTACTS]
    assert groups[0].start == 0 and groups[-1].stop == FEATURE_DIM == 137
    for a, b in zip(groups, groups[1:], strict=False):
        assert a.stop == b.start
    sizes = [g.stop - g.start for g in groups]
    assert sizes == [1, 2, 1, 63, 66, 4]
    assert MODEL_FPS == 20.0


def test_features_shape_and_dtype() -> None:
    f = positions_to_features(random_motion(0, 50), 30.0)
    assert f.shape == (50, FEATURE_DIM) and f.dtype == np.float32
    assert set(np.unique(f[:, CONTACTS])) <= {0.0, 1.0}


# ---- exact inverse ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    frames=st.integers(1, 400),
    walk=st.floats(0.0, 4.0),
    turn=st.floats(0.0, 6.0),
)
def test_round_trip_random_motions(seed: int, frames: int, walk: float, turn: float) -> None:
    p = random_motion(seed, frames, walk=walk, turn=turn)
    back = features_to_positions(positions_to_features(p, 30.0))
    assert back.shape == p.shape
    assert np.abs(back - align_to_first_frame(p)).max() < 1e-5


def test_round_trip_30_second_clip_below_1e5_m() -> None:
    p = random_motion(7, 900, walk=2.0, turn=2.0)  # 30 s at 30 fps, ~60 m of walking
    back = features_to_positions(positions_to_features(p, 30.0))
    err = np.abs(back - align_to_first_frame(p)).max()
    assert err < 1e-5, err


def test_round_trip_of_canonical_motion_is_identity() -> None:
    p = canonicalize(random_motion(3, 300))
    back = features_to_positions(positions_to_features(p, 30.0))
    assert np.abs(back - p).max() < 1e-5


def test_align_to_first_frame_faces_plus_z_at_origin() -> None:
    a = align_to_first_frame(random_motion(4, 20))
    assert abs(heading(a[:1])[0]) < 1e-9
    assert np.allclose(a[0, PELVIS, [0, 2]], 0.0)


def test_spinning_faster_than_half_a_turn_per_frame_still_exact() -> None:
    # Wrapped per-frame heading changes lose whole turns, which rotations do not see.
    p = random_motion(5, 60, turn=0.0, start_turned=False).astype(np.float64)
    theta = np.arange(60) * 2.5  # rad / frame, beyond pi
    root = p[:, :1] * [1, 0, 1]
    p = (rotate_y(p - root, theta) + root).astype(np.float32)
    back = features_to_positions(positions_to_features(p, 30.0))
    assert np.abs(back - align_to_first_frame(p)).max() < 1e-5


def test_batched_inverse_matches_per_clip() -> None:
    feats = np.stack([positions_to_features(random_motion(s, 40), 30.0) for s in range(3)])
    batched = features_to_positions(feats)
    assert batched.shape == (3, 40, 22, 3)
    for i in range(3):
        assert np.array_equal(batched[i], features_to_positions(feats[i]))


def test_features_invariant_to_placement_on_the_ground() -> None:
    p = random_motion(6, 120).astype(np.float64)
    moved = rotate_y(p, 1.234) + np.array([3.0, 0.0, -7.0])
    f, g = positions_to_features(p, 30.0), positions_to_features(moved, 30.0)
    assert np.abs(f - g).max() < 1e-5


def test_velocity_block_is_consistent_with_positions() -> None:
    p = align_to_first_frame(random_motion(8, 100))
    f = positions_to_features(p, 30.0).astype(np.float64)
    theta = np.concatenate([[0.0], np.cumsum(f[:-1, 0])])
    vel = f[:, VEL].reshape(-1, 22, 3)
    world_steps = rotate_y(vel, theta)  # back out of each frame's facing frame
    assert np.abs(world_steps[:-1] - np.diff(p, axis=0)).max() < 1e-5
    assert np.array_equal(vel[-1], vel[-2])  # last frame repeats the previous step
    # The pelvis's own ground-plane step is the root linear velocity.
    assert np.abs(vel[:, PELVIS, [0, 2]] - f[:, ROOT_LIN_VEL]).max() < 1e-6
    assert np.abs(f[:, ROOT_Y][:, 0] - p[:, PELVIS, 1]).max() < 1e-6


def test_single_frame() -> None:
    p = random_motion(9, 1)
    f = positions_to_features(p, 20.0)
    assert f.shape == (1, FEATURE_DIM)
    assert np.all(f[:, VEL] == 0) and np.all(f[:, ROOT_ROT_VEL] == 0)
    assert np.abs(features_to_positions(f) - align_to_first_frame(p)).max() < 1e-6


# ---- torch ------------------------------------------------------------------------------


def test_torch_inverse_matches_numpy() -> None:
    feats = np.stack([positions_to_features(random_motion(s, 200), 30.0) for s in range(2)])
    expected = features_to_positions(feats)
    got64 = features_to_positions_torch(torch.from_numpy(feats).double())
    assert got64.dtype == torch.float64 and got64.shape == (2, 200, 22, 3)
    assert np.abs(got64.numpy() - expected).max() < 1e-5
    got32 = features_to_positions_torch(torch.from_numpy(feats[0]))
    assert got32.shape == (200, 22, 3)
    assert np.abs(got32.numpy() - expected[0]).max() < 1e-3


def test_torch_inverse_is_differentiable() -> None:
    f = torch.from_numpy(positions_to_features(random_motion(1, 30), 30.0)).double()
    f.requires_grad_(True)
    features_to_positions_torch(f[None])[..., -1, :, :].sum().backward()
    assert f.grad is not None and torch.isfinite(f.grad).all()
    assert f.grad[:, ROOT_ROT_VEL].abs().sum() > 0  # heading steps move later frames
    assert f.grad[:, VEL].abs().sum() == 0  # the redundant block is not used


# ---- contacts ---------------------------------------------------------------------------


def test_contacts_standing_lifting_and_sliding() -> None:
    still = np.repeat(REST[None], 10, axis=0)
    assert positions_to_features(still, 20.0)[:, CONTACTS].all()

    lifted = still.copy()
    lifted[:, LEFT_ANKLE, 1] += 0.3
    lifted[:, LEFT_FOOT, 1] += 0.3
    c = positions_to_features(lifted, 20.0)[:, CONTACTS]
    assert not c[:, :2].any() and c[:, 2:].all()

    sliding = still.copy()
    sliding[:, FOOT_JOINTS[2:], 2] += (np.arange(10) * 0.1)[:, None]  # 2 m/s at 20 fps
    c = positions_to_features(sliding, 20.0)[:, CONTACTS]
    assert c[:, :2].all() and not c[:, 2:].any()


# ---- conveniences and errors ------------------------------------------------------------


def test_motion_to_features_resamples_to_model_fps() -> None:
    motion = Motion(positions=canonicalize(random_motion(2, 90)), fps=30.0)
    f = motion_to_features(motion)
    assert f.shape == (60, FEATURE_DIM)
    back = features_to_motion(f, name="x")
    assert back.fps == MODEL_FPS and back.name == "x" and back.num_frames == 60
    assert np.abs(back.positions[0] - motion.positions[0]).max() < 1e-5


def test_bad_input_raises_input_error() -> None:
    with pytest.raises(InputError, match="shape"):
        positions_to_features(np.zeros((10, 21, 3)), 20.0)
    with pytest.raises(InputError, match="NaN"):
        positions_to_features(np.full((10, 22, 3), np.nan), 20.0)
    with pytest.raises(InputError, match="frame rate"):
        positions_to_features(np.zeros((10, 22, 3)), 0.0)
    with pytest.raises(InputError, match="137"):
        features_to_positions(np.zeros((10, 263)))
    with pytest.raises(InputError, match="137"):
        features_to_positions_torch(torch.zeros(10, 136))


# ---- normalisation ----------------------------------------------------------------------


def _clips() -> list[np.ndarray]:
    return [positions_to_features(random_motion(s, 50 + 10 * s), 30.0) for s in range(4)]


def test_norm_stats_round_trip_numpy_and_torch(tmp_path) -> None:
    clips = _clips()
    stats = NormStats.compute(clips)
    all_frames = np.concatenate(clips)
    normed = stats.normalize(all_frames)
    assert normed.dtype == np.float32
    big = stats.std > 1e-3
    assert np.allclose(normed.mean(axis=0)[big], 0.0, atol=1e-4)
    assert np.allclose(normed.std(axis=0)[big], 1.0, atol=1e-3)
    assert np.abs(stats.denormalize(normed) - all_frames).max() < 1e-5

    t = torch.from_numpy(all_frames).double()
    assert torch.allclose(stats.denormalize(stats.normalize(t)), t, atol=1e-5)

    path = stats.save(tmp_path / "stats.npz")
    loaded = NormStats.load(path)
    assert np.array_equal(loaded.mean, stats.mean) and np.array_equal(loaded.std, stats.std)


def test_norm_stats_floor_and_groups() -> None:
    clips = _clips()
    for c in clips:
        c[:, CONTACTS] = 1.0  # constant dimension
    stats = NormStats.compute(clips, min_std=1e-3)
    assert np.all(stats.std[CONTACTS] == np.float32(1e-3))
    grouped = NormStats.compute(clips, group_std=True)
    assert np.unique(grouped.std[LOCAL_POS]).size == 1
    assert np.unique(grouped.std[VEL]).size == 1
    assert np.array_equal(grouped.std[ROOT_Y], stats.std[ROOT_Y])


def test_norm_stats_errors(tmp_path) -> None:
    with pytest.raises(DataNotFoundError):
        NormStats.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, something=np.zeros(3))
    with pytest.raises(FormatError):
        NormStats.load(bad)
    with pytest.raises(FormatError, match="shape"):
        NormStats(mean=np.zeros(263), std=np.ones(263))
    with pytest.raises(InputError, match="shape"):  # clips of different widths
        NormStats.compute([np.zeros((5, 137)), np.zeros((5, 10))])
    # another representation (the stick models' 22 numbers) keeps its own width
    assert NormStats.compute([np.random.default_rng(0).normal(size=(5, 22))]).dim == 22
    with pytest.raises(InputError, match="group_std"):
        NormStats.compute([np.zeros((5, 22))], group_std=True)


# ---- real data --------------------------------------------------------------------------


@pytest.fixture
def humanml3d_sample() -> tuple[np.ndarray, np.ndarray]:
    folder = data_dir() / "humanml3d-sample"
    joints = folder / "new_joints" / "012314.npy"
    if not joints.exists():
        pytest.skip(f"HumanML3D sample not found at {joints}")
    return np.load(joints), np.load(folder / "new_joint_vecs" / "012314.npy")


@pytest.mark.realdata
def test_round_trip_on_humanml3d_sample(humanml3d_sample) -> None:
    joints, _ = humanml3d_sample
    back = features_to_positions(positions_to_features(joints, 20.0))
    assert np.abs(back - align_to_first_frame(joints)).max() < 1e-5


@pytest.mark.realdata
def test_contacts_agree_with_humanml3d_flags(humanml3d_sample) -> None:
    joints, vecs = humanml3d_sample
    ours = positions_to_features(joints, 20.0)[:, CONTACTS] > 0.5
    theirs = vecs[:, -4:] > 0.5
    n = min(len(ours), len(theirs)) - 1
    assert (ours[:n] == theirs[:n]).mean() > 0.85
