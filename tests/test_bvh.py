"""BVH parsing, forward kinematics, retargeting and the canonical BVH writer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motiongen.canonical import canonicalize, rotate_y
from motiongen.errors import FormatError
from motiongen.io import load, save
from motiongen.io.bvh import load_bvh, motion_to_bvh_text, parse_bvh, save_bvh
from motiongen.motion import Motion
from motiongen.retarget import BANDAI, CANONICAL, MIXAMO, detect_skeleton, retarget
from motiongen.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS, bone_lengths


def chain(root_channels: str, child_channels: str, frames: list[str], *, offset="0 10 0") -> str:
    """A two-joint BVH: root A and child B at ``offset``."""
    return (
        "HIERARCHY\nROOT A\n{\n  OFFSET 0 0 0\n"
        f"  CHANNELS {len(root_channels.split())} {root_channels}\n"
        f"  JOINT B\n  {{\n    OFFSET {offset}\n"
        f"    CHANNELS {len(child_channels.split())} {child_channels}\n"
        "    End Site\n    {\n      OFFSET 0 5 0\n    }\n  }\n}\n"
        f"MOTION\nFrames: {len(frames)}\nFrame Time: 0.05\n" + "\n".join(frames) + "\n"
    )


ROOT6 = "Xposition Yposition Zposition Zrotation Xrotation Yrotation"
ZXY = "Zrotation Xrotation Yrotation"


# ---- parsing and forward kinematics ---------------------------------------------------------


def test_two_joint_chain_with_a_known_90_degree_rotation() -> None:
    text = chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0", "1 2 3 90 0 0 0 0 0"])
    data = parse_bvh(text, "chain.bvh")
    assert data.joint_names == ["A", "B"]
    assert list(data.parents) == [-1, 0]
    assert data.fps == 20.0
    pos = data.global_positions()
    assert pos.shape == (2, 2, 3)
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, 12, 3]], atol=1e-9)
    # +90 degrees about Z turns +Y into -X.
    np.testing.assert_allclose(pos[1], [[1, 2, 3], [-9, 2, 3]], atol=1e-9)


def test_rotations_are_intrinsic_in_channel_order() -> None:
    # Z then X (intrinsic): R = Rz(90) @ Rx(90); (0, 0, 1) -> (0, -1, 0) -> (1, 0, 0).
    zx = parse_bvh(chain("Zrotation Xrotation", "", ["90 90"], offset="0 0 1"))
    np.testing.assert_allclose(zx.global_positions()[0, 1], [1, 0, 0], atol=1e-9)
    # X then Z: R = Rx(90) @ Rz(90); (0, 0, 1) is unchanged by Rz, then -> (0, -1, 0).
    xz = parse_bvh(chain("Xrotation Zrotation", "", ["90 90"], offset="0 0 1"))
    np.testing.assert_allclose(xz.global_positions()[0, 1], [0, -1, 0], atol=1e-9)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "YZX", "ZYX", "XZY", "YXZ"])
def test_every_euler_order_matches_scipy_intrinsic(order: str) -> None:
    rng = np.random.default_rng(0)
    angles = rng.uniform(-180, 180, size=(5, 3))
    chans = " ".join(f"{a}rotation" for a in order)
    frames = [" ".join(f"{v:.9f}" for v in row) for row in angles]
    pos = parse_bvh(chain(chans, "", frames, offset="1 2 3")).global_positions()
    expected = Rotation.from_euler(order, angles, degrees=True).apply([1.0, 2.0, 3.0])
    np.testing.assert_allclose(pos[:, 1], expected, atol=1e-6)


def test_position_channels_replace_the_offset_and_subsets_work() -> None:
    # B has position channels (used instead of its OFFSET) and only a Y rotation.
    text = chain("Yrotation", "Xposition Yposition Zposition Yrotation", ["90 0 0 4 0"])
    pos = parse_bvh(text).global_positions()
    # Root Ry(90) maps (0, 0, 4) to (4, 0, 0).
    np.testing.assert_allclose(pos[0, 1], [4, 0, 0], atol=1e-9)


def test_parser_accepts_blank_lines_crlf_and_wrapped_frames() -> None:
    text = chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"])
    text = text.replace("1 2 3 0 0 0 0 0 0", "1 2 3 0 0\n\n0 0 0 0").replace("{\n", "{\n\n")
    data = parse_bvh(text.replace("\n", "\r\n"))
    assert data.num_frames == 1
    np.testing.assert_allclose(data.global_positions()[0, 1], [1, 12, 3])


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0", "1 2 3"]), "frame 1 has 3 of its 9 numbers"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0", "1 2 3 0 0 0 0 0 0"]), "frame 0 has 6 of its 9"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0\n0 0 0 0", "1 2"]), "frame 1 has 2 of its 9 numbers"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0", "1 2 x3 0 0 0 0 0 0"]), "garbled"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 nan 0 0 0"]), "non-finite"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"]).replace("HIERARCHY", "HIER"), "HIERARCHY"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"]).split("MOTION")[0], "MOTION"),
        (chain(ROOT6, ZXY, []), "zero frames"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"]).replace("0.05", "0"), "frame time"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"]).replace("Zrotation", "Qrotation", 1), "channel"),
        (chain(ROOT6, ZXY, ["1 2 3 0 0 0 0 0 0"]).replace("  }\n}", "  }\n"), "unclosed"),
    ],
)
def test_malformed_files_raise_one_line_format_errors(text: str, needle: str) -> None:
    with pytest.raises(FormatError) as info:
        parse_bvh(text, "broken.bvh")
    message = str(info.value)
    assert message.startswith("broken.bvh: ")
    assert needle.lower() in message.lower()
    assert "\n" not in message


def test_garbled_error_names_the_frame() -> None:
    text = chain(ROOT6, ZXY, ["0 0 0 0 0 0 0 0 0", "0 0 0 0 0 0 0 0 0", "0 0 0 0 oops 0 0 0 0"])
    with pytest.raises(FormatError, match="frame 2"):
        parse_bvh(text, "x.bvh")


def test_unknown_skeleton_lists_known_skeletons_and_missing_joints(tmp_path) -> None:
    path = tmp_path / "robot.bvh"
    path.write_text(chain(ROOT6, ZXY, ["0 0 0 0 0 0 0 0 0"]))
    with pytest.raises(FormatError) as info:
        load_bvh(path)
    message = str(info.value)
    assert "robot.bvh" in message and "unknown skeleton" in message
    for name in ("bandai", "canonical", "mixamo", "cmu"):
        assert name in message
    assert "UpperLeg_L" in message and "mixamorig" not in message
    assert "\n" not in message


# ---- retargeting ----------------------------------------------------------------------------


def test_detects_known_skeletons_by_joint_names() -> None:
    assert detect_skeleton(list(JOINT_NAMES)) is CANONICAL
    bandai = ["joint_Root", *BANDAI.source_joints]
    assert detect_skeleton(bandai) is BANDAI
    mixamo = ["mixamorig:" + n for n in MIXAMO.source_joints] + ["mixamorig:HeadTop_End"]
    assert detect_skeleton(mixamo) is MIXAMO


def test_bandai_blends_and_units() -> None:
    names = ["joint_Root", *BANDAI.source_joints]
    rng = np.random.default_rng(1)
    pos = rng.normal(size=(3, len(names), 3)) * 50  # centimetres
    out = retarget(pos, names)
    assert out.shape == (3, NUM_JOINTS, 3)
    i = {n: k for k, n in enumerate(names)}
    np.testing.assert_allclose(
        out[:, JOINT_INDEX["spine1"]], 0.01 * (0.4 * pos[:, i["Hips"]] + 0.6 * pos[:, i["Spine"]])
    )
    np.testing.assert_allclose(out[:, JOINT_INDEX["left_wrist"]], 0.01 * pos[:, i["Hand_L"]])
    np.testing.assert_allclose(out[:, JOINT_INDEX["right_knee"]], 0.01 * pos[:, i["LowerLeg_R"]])
    head = 1.5 * pos[:, i["Head"]] - 0.5 * pos[:, i["Neck"]]
    np.testing.assert_allclose(out[:, JOINT_INDEX["head"]], 0.01 * head)


def test_unit_is_guessed_for_skeletons_without_a_fixed_unit() -> None:
    names = list(MIXAMO.source_joints)
    pose_m = np.zeros((1, len(names), 3))
    idx = {n: k for k, n in enumerate(names)}
    for side, x in (("Left", 0.1), ("Right", -0.1)):
        pose_m[0, idx[f"{side}UpLeg"]] = [x, 0.9, 0]
        pose_m[0, idx[f"{side}Leg"]] = [x, 0.5, 0]
        pose_m[0, idx[f"{side}Foot"]] = [x, 0.1, 0]
    for unit in (1.0, 0.01, 0.0254):
        out = retarget(pose_m / unit, names)
        np.testing.assert_allclose(out[0, JOINT_INDEX["left_knee"]], [0.1, 0.5, 0], atol=1e-9)


# ---- writer ---------------------------------------------------------------------------------


def standing_pose() -> np.ndarray:
    """(22, 3) a plausible standing pose in metres, facing +Z, left at +X."""
    p = {
        "pelvis": (0, 0.9, 0), "left_hip": (0.08, 0.82, 0.01), "right_hip": (-0.08, 0.82, 0.01),
        "spine1": (0, 1.0, -0.01), "left_knee": (0.09, 0.45, 0.02),
        "right_knee": (-0.09, 0.45, 0.02), "spine2": (0, 1.12, -0.02),
        "left_ankle": (0.09, 0.08, -0.02), "right_ankle": (-0.09, 0.08, -0.02),
        "spine3": (0, 1.18, -0.01), "left_foot": (0.1, 0.02, 0.11),
        "right_foot": (-0.1, 0.02, 0.11), "neck": (0, 1.42, -0.02),
        "left_collar": (0.07, 1.36, -0.01), "right_collar": (-0.07, 1.36, -0.01),
        "head": (0, 1.52, 0.01), "left_shoulder": (0.18, 1.38, -0.02),
        "right_shoulder": (-0.18, 1.38, -0.02), "left_elbow": (0.22, 1.12, -0.04),
        "right_elbow": (-0.22, 1.12, -0.04), "left_wrist": (0.24, 0.88, 0.0),
        "right_wrist": (-0.24, 0.88, 0.0),
    }  # fmt: skip
    return np.array([p[n] for n in JOINT_NAMES], dtype=np.float64)


def _rotate_about(points: np.ndarray, pivot: np.ndarray, rot: Rotation) -> np.ndarray:
    return rot.apply(points - pivot) + pivot


def articulated_motion(frames: int = 40) -> Motion:
    """Constant bone lengths: an arm and a leg swing, the body turns and walks."""
    rest = standing_pose()
    out = np.empty((frames, NUM_JOINTS, 3))
    j = JOINT_INDEX
    for t in range(frames):
        p = rest.copy()
        arm = [j["left_elbow"], j["left_wrist"]]
        p[arm] = _rotate_about(
            p[arm], p[j["left_shoulder"]], Rotation.from_euler("x", -2.0 * t, degrees=True)
        )
        fore = [j["left_wrist"]]
        p[fore] = _rotate_about(
            p[fore], p[j["left_elbow"]], Rotation.from_euler("y", 3.0 * t, degrees=True)
        )
        leg = [j["right_knee"], j["right_ankle"], j["right_foot"]]
        p[leg] = _rotate_about(
            p[leg], p[j["right_hip"]], Rotation.from_euler("x", -1.5 * t, degrees=True)
        )
        p = rotate_y(p, np.deg2rad(2.0 * t)) + np.array([0.0, 0.0, 0.02 * t])
        out[t] = p
    return Motion(positions=canonicalize(out), fps=20, name="synthetic")  # fmt: skip


def test_written_file_layout(tmp_path) -> None:
    text = motion_to_bvh_text(articulated_motion(5))
    data = parse_bvh(text)
    assert sorted(data.joint_names) == sorted(JOINT_NAMES)
    assert data.joint_names[0] == "pelvis"
    assert data.channels[0] == tuple(ROOT6.split())
    from motiongen.io.bvh import EULER_ORDERS

    for name, chans in zip(data.joint_names[1:], data.channels[1:], strict=True):
        assert chans == tuple(f"{a}rotation" for a in EULER_ORDERS.get(name, "ZXY")), name
    assert data.fps == 20.0
    # Centimetres: the rest pelvis sits about 90 cm up, the thigh is about 37 cm long.
    assert 80 < data.offsets[0, 1] < 100
    knee = data.joint_names.index("left_knee")
    assert 30 < np.linalg.norm(data.offsets[knee]) < 45


def test_a_body_turning_round_twice_gets_continuous_angles(tmp_path) -> None:
    # Euler angles wrapped to +-180 jumped 334 degrees in a frame where the pelvis turned
    # past 180: an engine interpolating the keys spun the body (a game developer's trial)
    base = articulated_motion(60).positions
    turned = np.stack([rotate_y(base[t : t + 1], np.deg2rad(12.0 * t))[0] for t in range(60)])
    motion = Motion(positions=turned, fps=20)
    data = parse_bvh(motion_to_bvh_text(motion))
    rotations = data.motion[:, 3:]
    assert np.abs(np.diff(rotations, axis=0)).max() < 20.0  # 12 degrees a frame, plus the limbs
    assert np.ptp(rotations[:, 2]) > 600  # the pelvis's yaw goes on past 360 degrees
    back = load(save(motion, tmp_path / "turn.bvh"))
    np.testing.assert_allclose(back.positions, motion.positions, atol=1e-4)


def test_a_knee_bent_past_90_degrees_keeps_its_angles_smooth(tmp_path) -> None:
    # ZXY puts a knee's bend on the middle angle: past 90 degrees (a kick, a crouch) its
    # angles stepped by up to 90 degrees between frames at a true 20-40 (gimbal lock)
    j = JOINT_INDEX
    frames = []
    for t in range(60):
        p = standing_pose()
        shin = [j["left_ankle"], j["left_foot"]]
        p[shin] = _rotate_about(
            p[shin], p[j["left_knee"]], Rotation.from_euler("x", 2.5 * t, degrees=True)
        )
        frames.append(p)
    motion = Motion(positions=canonicalize(np.stack(frames)), fps=20)
    data = parse_bvh(motion_to_bvh_text(motion))
    knee = data.joint_names.index("left_knee")
    col = 6 + 3 * (knee - 1)  # the root has 6 channels, every other joint 3
    angles = data.motion[:, col : col + 3]
    assert np.abs(np.diff(angles, axis=0)).max() < 5.0  # 2.5 degrees a frame up to 147.5
    back = load(save(motion, tmp_path / "knee.bvh"))
    np.testing.assert_allclose(back.positions, motion.positions, atol=1e-4)


def test_round_trip_of_a_rigid_motion_is_exact(tmp_path) -> None:
    motion = articulated_motion()
    np.testing.assert_allclose(bone_lengths(motion.positions).std(axis=0), 0, atol=1e-6)
    path = save(motion, tmp_path / "m.bvh")
    back = load(path)
    assert back.fps == motion.fps and back.num_frames == motion.num_frames
    err = np.linalg.norm(back.positions - motion.positions, axis=-1)
    assert err.max() < 1e-3  # 1 mm
    # Left side still at +X.
    assert (
        back.positions[0, JOINT_INDEX["left_hip"], 0]
        > back.positions[0, JOINT_INDEX["right_hip"], 0]
    )


def test_a_written_canonical_file_keeps_its_placement(tmp_path) -> None:
    # A control result lies in world space: turned 40 degrees, 3 m from the origin, 5 cm up.
    placed = rotate_y(articulated_motion().positions, np.deg2rad(40.0)) + [3.0, 0.05, -2.0]
    back = load(save(Motion(placed, fps=20), tmp_path / "placed.bvh"))
    assert np.linalg.norm(back.positions - placed, axis=-1).max() < 1e-3


def test_second_round_trip_of_any_motion_is_exact(tmp_path) -> None:
    rng = np.random.default_rng(3)
    noisy = articulated_motion().positions + rng.normal(scale=0.01, size=(40, NUM_JOINTS, 3))
    once = load_bvh(save_bvh(Motion(noisy, fps=30), tmp_path / "a.bvh"))
    twice = load_bvh(save_bvh(once, tmp_path / "b.bvh"))
    assert np.linalg.norm(twice.positions - once.positions, axis=-1).max() < 1e-3
    # Bone lengths in a written file are constant (the median of the input's).
    np.testing.assert_allclose(bone_lengths(once.positions).std(axis=0), 0, atol=1e-5)


def test_collars_moved_alone_leave_the_neck_and_head_where_they_were(tmp_path) -> None:
    # An edit of the arms (collars included) written as BVH moved the head 7 mm: the chest's
    # rotation was a best fit over the neck and both collars. It points at the neck now.
    motion = articulated_motion()
    moved = motion.positions.copy()
    for side in ("left", "right"):
        arm = [JOINT_INDEX[f"{side}_{p}"] for p in ("collar", "shoulder", "elbow", "wrist")]
        moved[10:, arm] += np.array([0.0, 0.015, 0.01])  # shrugged, not as the chest turns
    back = load(save(Motion(moved, fps=20), tmp_path / "shrug.bvh")).positions
    for name in ("neck", "head", "spine3", "left_foot"):
        j = JOINT_INDEX[name]
        assert np.linalg.norm(back[:, j] - moved[:, j], axis=-1).max() < 1e-4, name


def test_writer_handles_a_bone_pointing_opposite_its_rest_direction(tmp_path) -> None:
    pose = standing_pose()
    j = JOINT_INDEX
    # Left forearm folded straight back up: the wrist bone points exactly opposite the rest +X.
    pose[j["left_elbow"]] = pose[j["left_shoulder"]] + [0.25, 0, 0]
    pose[j["left_wrist"]] = pose[j["left_shoulder"]] + [0.01, 0, 0]
    motion = Motion(canonicalize(np.repeat(pose[None], 3, axis=0)), fps=30)
    back = load_bvh(save_bvh(motion, tmp_path / "fold.bvh"))
    assert np.abs(back.positions - motion.positions).max() < 1e-3


def test_a_folded_elbow_circling_keeps_its_twist_about_the_forearm(tmp_path) -> None:
    # the smallest rotation from the rest direction turns fast about the bone where it points
    # nearly opposite its rest: an in-between's folded elbow turned 105 degrees about the
    # forearm in one frame (a game developer's trial); the twist is carried on instead
    j = JOINT_INDEX
    frames = []
    for t in range(40):
        pose = standing_pose()
        shoulder = pose[j["right_shoulder"]]
        pose[j["right_elbow"]] = shoulder + [0.0, -0.25, 0.0]  # the upper arm hangs
        phi = 2 * np.pi * t / 10  # the hand circles 3 cm round straight back up, 10 frames a turn
        up = np.array([0.03 * np.cos(phi), 1.0, 0.03 * np.sin(phi)])
        pose[j["right_wrist"]] = pose[j["right_elbow"]] + 0.24 * up / np.linalg.norm(up)
        frames.append(pose)
    motion = Motion(positions=canonicalize(np.stack(frames)), fps=20)
    data = parse_bvh(motion_to_bvh_text(motion))
    rot, _ = data.local_transforms()
    elbow = rot[:, data.joint_names.index("right_elbow")]
    step = np.einsum("tab,tac->tbc", elbow[:-1], elbow[1:])
    turned = np.degrees(np.arccos(np.clip((np.trace(step, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert turned.max() < 5.0  # its aim moves 1.3 degrees a frame (72 before)
    back = load(save(motion, tmp_path / "fold.bvh"))
    np.testing.assert_allclose(back.positions, motion.positions, atol=1e-4)


def test_a_standard_skeleton_is_one_rig_for_every_file(tmp_path) -> None:
    # each BVH had its own bones (hips 6.41 vs 6.72 cm apart between two clips: a game
    # developer's trial); written on the standard skeleton every file has the same OFFSETs
    from motiongen.data.synthetic import synth_sequence
    from motiongen.errors import InputError
    from motiongen.io.bvh import standard_offsets

    feet = [JOINT_INDEX[f"{s}_{p}"] for s in ("left", "right") for p in ("ankle", "foot")]
    texts, backs = [], []
    for k, motion in enumerate([Motion(synth_sequence(["walk"], seconds=2.0, seed=1).positions,
                                       fps=20.0), articulated_motion()]):  # fmt: skip
        path = save(motion, tmp_path / f"{k}.bvh", skeleton="standard")
        texts.append([ln for ln in path.read_text().splitlines() if "OFFSET" in ln][1:])
        back = load(path)
        backs.append(back)
        # each limb bone turned as the motion's (a pelvis or chest of another shape fits its
        # three bones as closely as it can), the joints off by the bones' lengths
        from motiongen.skeleton import CHILDREN, PARENTS

        child = [j for j in range(1, NUM_JOINTS) if len(CHILDREN[PARENTS[j]]) == 1]
        way = [p[:, child] - p[:, [PARENTS[j] for j in child]] for p in (back.positions,
                                                                        motion.positions)]  # fmt: skip
        way = [w / np.linalg.norm(w, axis=-1, keepdims=True) for w in way]
        assert np.abs(way[0] - way[1]).max() < 2e-3
        lowest = [p[:, feet, 1].min(axis=1) for p in (back.positions, motion.positions)]
        np.testing.assert_allclose(lowest[0], lowest[1], atol=1e-3)  # feet on its floor
    assert texts[0] == texts[1]
    want = np.linalg.norm(standard_offsets()[1:], axis=-1) / 100.0
    np.testing.assert_allclose(bone_lengths(backs[0].positions)[0], want, atol=1e-4)
    with pytest.raises(InputError, match="unknown BVH skeleton 'big'; choose one of own"):
        save(articulated_motion(), tmp_path / "x.bvh", skeleton="big")
