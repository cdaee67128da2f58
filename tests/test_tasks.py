"""Control tasks: known values with world root channels, per-value masks, training pairs,
and a control network that starts as the legacy one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongen.canonical import rotate_y
from motiongen.data.synthetic import synth_motion
from motiongen.features import FEATURE_DIM, LOCAL_POS, ROOT_Y, VEL
from motiongen.models import ModelConditions
from motiongen.models.dit import MotionDiT, MotionDiTConfig, expand_for_control
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS, PELVIS
from motiongen.tasks import (
    BODY_PARTS,
    CONTROL_DIM,
    TASK_ID,
    WORLD,
    WORLD_SCALE,
    TaskSchedule,
    control_mask,
    sample_task,
    world_channels,
)


def test_world_channels_follow_the_root_in_the_first_frame_s_facing_frame():
    walk = synth_motion("walk", seconds=3.0, seed=0).positions.astype(np.float64)
    w = world_channels(walk)
    assert w.shape == (len(walk), 4)
    np.testing.assert_allclose(w[0], [0, 0, 1, 0], atol=1e-9)
    # turning the whole motion about Y does not change them: they are relative to frame 0
    turned = rotate_y(walk, 1.1) + np.array([3.0, 0.0, -2.0])
    np.testing.assert_allclose(world_channels(turned), w, atol=1e-6)
    travel = np.linalg.norm(walk[-1, PELVIS, [0, 2]] - walk[0, PELVIS, [0, 2]])
    assert np.linalg.norm(w[-1, :2]) * WORLD_SCALE == pytest.approx(travel, rel=1e-6)


def test_control_mask_gives_positions_and_velocities_where_both_ends_are_given():
    known = np.zeros((10, NUM_JOINTS), dtype=bool)
    known[0:3] = True  # a prefix
    known[7, JOINT_INDEX["left_wrist"]] = True  # one joint of one frame
    m = control_mask(known)
    assert m.shape == (10, CONTROL_DIM)
    assert m[0:2, :FEATURE_DIM].all() and m[0:3, WORLD].all()
    assert not m[2, VEL].any() and m[2, LOCAL_POS].all() and m[2, ROOT_Y].all()
    wrist = LOCAL_POS.start + 3 * (JOINT_INDEX["left_wrist"] - 1)
    assert m[7].sum() == 3 and m[7, wrist : wrist + 3].all()
    assert not m[3:7].any() and not m[8:].any()


def test_training_tasks_follow_the_schedule():
    rng = np.random.default_rng(0)
    schedule = TaskSchedule(predict_from=10, all_from=20)
    assert {sample_task(rng, 100, schedule.weights_at(5))[0] for _ in range(50)} == {0}
    early = {sample_task(rng, 100, schedule.weights_at(15))[0] for _ in range(100)}
    assert early == {TASK_ID["gen"], TASK_ID["predict"]}
    seen = {}
    for _ in range(400):
        task, known = sample_task(rng, 100, schedule.weights_at(30))
        seen[task] = known
    assert set(seen) == {0, 1, 2, 3, 4}
    assert not seen[0].any()
    k = seen[TASK_ID["predict"]]
    first_unknown = np.argmin(k.all(axis=1))
    assert k[:first_unknown].all() and not k[first_unknown:].any()
    inb = seen[TASK_ID["inbetween"]]
    assert inb[0].all() and not inb.all()
    runs = np.flatnonzero(np.diff(inb[:, 0].astype(int)) == 1)  # where keyframes begin
    assert len(runs) >= 1  # a context, then at least one keyframe after a gap
    assert seen[TASK_ID["style"]][:, PELVIS].all() and seen[TASK_ID["style"]].sum() == 100
    assert set(BODY_PARTS) == {"arms", "upper_body", "legs"}


def test_control_network_starts_as_the_legacy_one():
    old = MotionDiTConfig.preset("tiny", feature_dim=FEATURE_DIM, text_dim=8, patch_size=2)
    new = MotionDiTConfig.from_dict({**old.to_dict(), "control_dim": CONTROL_DIM, "num_tasks": 6})
    torch.manual_seed(0)
    legacy = MotionDiT(old)
    with torch.no_grad():
        for p in legacy.parameters():
            p.add_(0.05 * torch.randn_like(p))
    control = MotionDiT(new)
    control.load_state_dict(expand_for_control(legacy.state_dict(), old, new))
    x, t = torch.randn(2, 21, FEATURE_DIM), torch.rand(2)
    known = torch.randn(2, 21, FEATURE_DIM)
    per_frame = torch.zeros(2, 21, 1)
    per_frame[:, :6] = 1
    values = torch.zeros(2, 21, CONTROL_DIM)
    values[..., :FEATURE_DIM] = known
    per_value = torch.zeros(2, 21, CONTROL_DIM)
    per_value[:, :6, :FEATURE_DIM] = 1
    a = legacy(x, t, ModelConditions(known=known, known_mask=per_frame))
    b = control(
        x, t, ModelConditions(known=values, known_mask=per_value, task=torch.tensor([1, 2]))
    )
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(legacy(x, t), control(x, t))


def test_training_with_tasks_from_scratch_and_from_a_legacy_checkpoint(tmp_path):
    from motiongen.checkpoint import load_checkpoint
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.train import config_from_dict, train
    from tests.test_train import tiny_config

    synth = tmp_path / "synth"
    prepare_synthetic(synth, 40, seed=0)
    base = train(config_from_dict(tiny_config(synth, tmp_path / "legacy")))
    tasks = {"enabled": True, "predict_from": 2, "all_from": 4}
    scratch = train(config_from_dict(tiny_config(synth, tmp_path / "scratch", tasks=tasks)))
    tuned = train(config_from_dict(tiny_config(
        synth, tmp_path / "tuned", stage="sft", init_from=str(base.final), tasks=tasks,
        optim={"lr": 1e-4},
    )))  # fmt: skip
    for result in (scratch, tuned):
        cfg = load_checkpoint(result.final).config.model
        assert cfg["control_dim"] == CONTROL_DIM and cfg["num_tasks"] == 6


def test_a_path_gives_the_network_what_training_gives_it_wherever_the_motion_stands():
    """Restyle keeps the pelvis only, but the control values come from the whole motion, in
    the frame the network generates in: a turned, shifted walk gets the same values as the
    same walk at the origin facing +Z, and the values of a later window agree with a
    reference pose taken from the generated (canonical) frame."""
    from motiongen.canonical import canonicalize
    from motiongen.features import NormStats
    from motiongen.generation.constraints import window_control
    from motiongen.generation.control import path_constraints
    from motiongen.tasks import WORLD

    walk = synth_motion("walk", seconds=6.0, seed=1).resample(20.0).positions.astype(np.float64)
    walk = canonicalize(walk).astype(np.float64)
    moved = rotate_y(walk, 1.1) + np.array([3.0, 0.0, -2.0])
    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    a = window_control(path_constraints(walk), 0, 60, norm, None)
    b = window_control(path_constraints(moved), 0, 60, norm, None)
    np.testing.assert_allclose(a[0][:, WORLD], b[0][:, WORLD], atol=1e-5)
    np.testing.assert_allclose(a[0] * a[1], b[0] * b[1], atol=1e-4)
    assert np.abs(b[0][:, WORLD][:, 3]).max() < 0.5  # facing kept: the walk does not turn
    later = window_control(path_constraints(moved), 60, 60, norm, walk[60])
    want = world_channels(walk[60:120])
    np.testing.assert_allclose(later[0][:, WORLD], want, atol=1e-4)


def test_guidance_s_unconditional_branch_is_the_unconditional_task():
    from motiongen.tasks import TASK_ID

    cond = ModelConditions(task=torch.tensor([TASK_ID["gen"], TASK_ID["edit"]]))
    assert cond.with_drops(text=True, audio=True).task.tolist() == [TASK_ID["uncond"],
                                                                    TASK_ID["edit"]]  # fmt: skip
    assert cond.with_drops(text=True, audio=False).task.tolist() == [TASK_ID["gen"],
                                                                     TASK_ID["edit"]]  # fmt: skip


def test_a_control_model_distils_into_a_smooth_few_step_student(tmp_path):
    """Reflow with tasks on: the pairs carry every task's known values and task ids, and the
    student stays a control network."""
    from motiongen.checkpoint import load_checkpoint
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.train import config_from_dict, train
    from motiongen.train.reflow import load_batch
    from tests.test_train import tiny_config

    synth = tmp_path / "synth"
    prepare_synthetic(synth, 40, seed=0)
    tasks = {"enabled": True, "predict_from": 0, "all_from": 0}
    text = {"conditioning": {"text": True, "audio": False}}
    teacher = train(config_from_dict(tiny_config(synth, tmp_path / "teacher", tasks=tasks, **text)))
    student = train(config_from_dict(tiny_config(
        synth, tmp_path / "student", stage="reflow", init_from=str(teacher.final), tasks=tasks,
        reflow={"teacher": str(teacher.final), "pairs": 4, "val_pairs": 1, "teacher_steps": 2,
                "target_lowpass_hz": 6.0, "student_steps": 4},
        **text,
    )))  # fmt: skip
    shards = sorted((tmp_path / "student" / "pairs" / "train").glob("shard_*.safetensors"))
    cond = torch.cat([load_batch(p).cond.task for p in shards])
    assert len(set(cond.tolist())) > 1  # not only text-to-motion
    assert load_batch(shards[0]).cond.known_mask is not None
    ck = load_checkpoint(student.final)
    assert ck.config.model["control_dim"] == CONTROL_DIM
    assert ck.config.conditioning.steps == 4


def test_a_keyframe_the_network_left_far_behind_is_eased_into_with_its_body():
    from motiongen.generation.constraints import Constraints, enforce
    from motiongen.skeleton import JOINT_INDEX, bone_lengths

    walk = synth_motion("walk", seconds=3.0, seed=0).positions.astype(np.float64)
    generated = walk.copy()
    wrist = JOINT_INDEX["right_wrist"]
    generated[1:, wrist] += [0.0, 0.6, 0.0]  # every free frame: the wrist 60 cm off the key's
    targets = np.full_like(walk, np.nan)
    targets[0] = walk[0]  # a keyframe at frame 0, the rest free
    constraints = Constraints(targets, "inbetween")
    out = enforce(generated, constraints, 20.0, bone_lengths=bone_lengths(walk[:1])[0])
    assert np.array_equal(out[0], walk[0])  # the keyframe exactly as given
    first_step = np.linalg.norm(out[1, wrist] - out[0, wrist])
    assert first_step < 0.1  # no 60 cm jump out of the keyframe
    assert np.allclose(bone_lengths(out), bone_lengths(walk[:1]), atol=1e-9)  # one body
    # a second on, the network's motion is its own again (up to the bone lengths)
    assert np.linalg.norm(out[30:, wrist] - generated[30:, wrist], axis=-1).max() < 0.3
    # the same at the end (a keyframe the motion arrives at), and between close keyframes
    end_targets = np.full_like(walk, np.nan)
    end_targets[-1] = walk[-1]
    end_targets[0] = walk[0]
    arriving = walk.copy()
    arriving[1:-1, wrist] += [0.0, 0.6, 0.0]
    out = enforce(arriving, Constraints(end_targets, "inbetween"), 20.0)
    steps = np.linalg.norm(np.diff(out[:, wrist], axis=0), axis=-1)
    assert steps[0] < 0.1 and steps[-1] < 0.1
    close = walk.copy()
    close[11:14] = np.nan  # three free frames between given ones
    short = walk.copy()
    short[11:14, wrist] += [0.0, 0.6, 0.0]
    out = enforce(short, Constraints(close, "inbetween"), 20.0)
    assert np.linalg.norm(np.diff(out[:, wrist], axis=0), axis=-1).max() < 0.35
    small = walk.copy()
    small[1:, wrist] += [0.0, 0.05, 0.0]  # a few centimetres: left to the 0.25 s ease
    eased = enforce(small, constraints, 20.0)
    assert np.allclose(eased[10:], small[10:])


def test_a_free_frame_that_pops_off_a_keyframe_is_eased_though_the_jump_is_small():
    from motiongen.generation.constraints import Constraints, enforce
    from motiongen.skeleton import JOINT_INDEX

    # a pose keyframe whose next frame the network put 20 cm away (a head already leaning
    # into a bow), then moves on slowly: under EASE_JUMP_SPEED, but a pop
    walk = synth_motion("walk", seconds=3.0, seed=0).positions.astype(np.float64)
    head = JOINT_INDEX["head"]
    made = walk.copy()
    made[1:, head] += [0.0, 0.0, 0.2]
    targets = np.full_like(walk, np.nan)
    targets[0] = walk[0]
    out = enforce(made, Constraints(targets, "inbetween"), 20.0)
    assert np.linalg.norm(made[1, head] - made[0, head]) > 0.15
    assert np.linalg.norm(out[1, head] - out[0, head]) < 0.1
    # a joint moving that fast on both sides of the border is motion, not a pop: left alone
    fast = walk.copy()
    fast[:, head, 2] += 0.2 * np.arange(len(walk))
    targets[0] = fast[0]
    assert np.allclose(enforce(fast, Constraints(targets, "inbetween"), 20.0), fast)


def test_a_short_free_stretch_between_opposite_corrections_has_no_jump_inside():
    from motiongen.generation.constraints import Constraints, enforce
    from motiongen.skeleton import JOINT_INDEX

    walk = synth_motion("walk", seconds=2.0, seed=1).positions.astype(np.float64)
    wrist = JOINT_INDEX["left_wrist"]
    targets = walk.copy()
    targets[14:20] = np.nan  # a 0.3 s seam between two given stretches
    made = walk.copy()  # the network's wrist 25 cm off one way before the seam, the other after
    made[:, wrist, 0] += np.interp(np.arange(len(walk)), [13, 20], [-0.25, 0.25])
    out = enforce(made, Constraints(targets, "inbetween"), 20.0)
    steps = np.linalg.norm(np.diff(out[12:22, wrist], axis=0), axis=-1)
    own = np.linalg.norm(np.diff(walk[12:22, wrist], axis=0), axis=-1)
    # the two opposite corrections meet smoothly (the nearest side's alone jumped 18 cm)
    assert (steps - own).max() < 0.08


def test_a_limb_edited_over_a_span_leaves_the_given_pose_at_the_given_speed():
    from motiongen.generation.constraints import Constraints, enforce
    from motiongen.skeleton import JOINT_INDEX

    walk = synth_motion("walk", seconds=4.0, seed=2).positions.astype(np.float64)
    arm = [JOINT_INDEX[j] for j in ("right_shoulder", "right_elbow", "right_wrist")]
    targets = walk.copy()
    targets[30:60, arm] = np.nan  # the right arm edited over 1.5-3 s, the rest as given
    made = walk.copy()
    # the network's wrist starts on the given pose but shoots off at 4 m/s (no position jump)
    rise = np.clip(np.arange(len(walk)) - 29, 0, 30) * 0.2
    made[:, arm[-1], 1] += np.where(np.arange(len(walk)) < 60, rise, 0.0)
    out = enforce(made, Constraints(targets, "edit"), 20.0)
    given = ~np.isnan(targets).any(axis=-1)
    np.testing.assert_array_equal(out[given], walk[given])
    steps = np.linalg.norm(np.diff(out[26:40, arm[-1]], axis=0), axis=-1)
    own = np.linalg.norm(np.diff(walk[26:40, arm[-1]], axis=0), axis=-1)
    assert steps[3] - own[3] < 0.02  # the frame after the border: 0.2 m more before
    assert np.abs(np.diff(steps)).max() < 0.08  # then it speeds up over frames, not at once


def test_free_frames_are_lifted_to_the_given_frames_floor():
    from motiongen.generation.constraints import lift_free_frames

    walk = synth_motion("walk", seconds=3.0, seed=3).positions.astype(np.float64)
    walk[..., 1] -= walk[..., 1].min(axis=1, keepdims=True).min()  # feet on the floor
    known = np.zeros(walk.shape[:2], bool)
    known[:10] = known[-10:] = True
    sunk = walk.copy()
    sunk[20:40, :, 1] -= 0.05  # a join's frames 5 cm under the floor
    lifted = lift_free_frames(sunk, known, 20.0)
    np.testing.assert_array_equal(lifted[known], sunk[known])  # given: exactly as given
    assert lifted[..., 1].min() > -1e-9 and np.abs(np.diff(lifted[..., 1], axis=0)).max() < 0.1
    # a file whose floor is 3 cm lower: free frames are not lifted above its given frames
    low = walk - np.array([0.0, 0.03, 0.0])
    np.testing.assert_allclose(lift_free_frames(low, known, 20.0), low)
    # a free frame right after a given one, 10 cm under the floor (a random network's join):
    # the lift fades towards given frames, but not to leave it in the floor
    dip = walk.copy()
    dip[10, :, 1] -= 0.1
    lifted = lift_free_frames(dip, known, 20.0)
    assert lifted[10, :, 1].min() > -1e-9
    np.testing.assert_array_equal(lifted[known], dip[known])


def test_bones_never_given_take_the_source_s_lengths():
    """An edit of the arms (all frames) or a restyle (the path only) keeps the build of the
    motion it edits: its bones, not the generated frames' (forearms 19.1 cm made of 22.5)."""
    from motiongen.data.synthetic import synth_motion
    from motiongen.generation.constraints import Constraints
    from motiongen.skeleton import BONES, bone_lengths

    source = synth_motion("walk", seconds=2.0, seed=0).positions.astype(np.float64)
    targets = source.copy()
    arms = [i for name, i in JOINT_INDEX.items() if "elbow" in name or "wrist" in name]
    targets[:, arms] = np.nan
    body = Constraints(targets, "edit", source=source).given_bone_lengths()
    np.testing.assert_allclose(body, np.median(bone_lengths(source), axis=0), atol=1e-9)
    assert np.isnan(Constraints(targets, "edit").given_bone_lengths()).any()  # no source: free
    assert len(body) == len(BONES)
