"""Seamless joins between given and generated frames (postprocess/transitions.py)."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.postprocess.transitions import (
    decay_curve,
    inertialize,
    smooth_joins,
)


def walk(frames: int = 80, joints: int = 22) -> np.ndarray:
    """Joints moving along smooth curves (T, J, 3)."""
    t = np.arange(frames)[:, None, None] / 20.0
    phase = np.linspace(0, 2, joints)[None, :, None]
    return np.concatenate(
        [1.2 * t + 0 * phase, 0.9 + 0.1 * np.sin(3 * t + phase), 0.3 * np.cos(2 * t + phase)],
        axis=-1,
    )


def jerk_near(p: np.ndarray, at: int, half: int = 6) -> float:
    return float(np.abs(np.diff(p[at - half : at + half], n=3, axis=0)).max())


def test_decay_curve_starts_with_the_offset_and_ends_at_rest():
    x0, v0 = np.array([0.3, -0.2]), np.array([-0.05, 0.04])
    c = decay_curve(x0, v0, 12)
    np.testing.assert_allclose(c[0], x0)
    np.testing.assert_allclose(c[1] - c[0], v0, atol=0.02)  # leaves with about v0
    # the polynomial reaches 0 with zero slope at frame 12: its last frames are tiny
    assert np.abs(c[-1]).max() < 0.01 * np.abs(x0).max()


def test_a_straight_motion_is_left_as_it_is_and_a_curved_one_stays_smooth():
    line = np.linspace(0, 3, 80)[:, None, None] * np.ones((1, 22, 3))
    np.testing.assert_allclose(inertialize(line, 40, frames=12), line, atol=1e-12)
    p = walk()
    for backward in (False, True):
        out = inertialize(p, 40, frames=12, backward=backward)
        assert np.abs(out - p).max() < 0.002  # quadratics through 4 frames: nearly exact
        # ~10 m/s^3 at 20 fps, the median jerk of real motion
        assert jerk_near(out, 40) < jerk_near(p, 40) + 0.00125


def test_a_pop_is_removed_without_touching_the_old_frames():
    p = walk()
    popped = p.copy()
    popped[40:] += np.array([0.15, -0.05, 0.1])  # the new part starts somewhere else
    fixed = inertialize(popped, 40, frames=12)
    np.testing.assert_array_equal(fixed[:40], popped[:40])
    np.testing.assert_allclose(fixed[52:], popped[52:])
    assert jerk_near(fixed, 40) < 0.1 * jerk_near(popped, 40)
    # backward: the frames from the join on are kept (a keyframe), the ones before bend
    back = inertialize(popped, 40, frames=12, backward=True)
    np.testing.assert_array_equal(back[40:], popped[40:])
    np.testing.assert_allclose(back[:28], popped[:28])
    assert jerk_near(back, 40) < 0.1 * jerk_near(popped, 40)


def test_joins_too_close_to_an_end_are_left_alone():
    p = walk(10)
    np.testing.assert_array_equal(inertialize(p, 1, frames=12), p)
    np.testing.assert_array_equal(inertialize(p, 9, frames=12), p)


def test_smooth_joins_applies_each_join():
    p = walk()
    popped = p.copy()
    popped[30:] += 0.1
    popped[60:] -= 0.2
    fixed = smooth_joins(popped, [(30, 12), (60, 12)])
    assert jerk_near(fixed, 30) < 0.1 * jerk_near(popped, 30)
    assert jerk_near(fixed, 60) < 0.1 * jerk_near(popped, 60)


@pytest.mark.parametrize("backward", [False, True])
def test_any_trailing_shape_works(backward):
    p = np.cumsum(np.ones((30, 4)), axis=0)
    p[15:] += 1.0
    out = inertialize(p, 15, frames=6, backward=backward)
    assert out.shape == p.shape and np.isfinite(out).all()


def test_a_timeline_is_blended_where_its_segments_meet(tmp_path):
    from motiongen.pipeline import Pipeline
    from tests.test_pipeline import FakeEncoder, make_checkpoint

    pipe = Pipeline.from_pretrained(make_checkpoint(tmp_path / "c", control=True),
                                    text_encoder=FakeEncoder())  # fmt: skip
    req = pipe.check_compose([("a person walks", 3.0), ("a person waves", 3.0),
                              ("a person bows", 3.0)])  # fmt: skip
    assert pipe._joins(req) == [(60, 16), (120, 16)]
    long = pipe.check_compose([("a person walks", 12.0), ("a person waves", 3.0)])
    assert pipe._joins(long) == [(240, 16)]  # not where one text's windows meet
    assert pipe._joins(pipe.check_request("a person walks", seconds=20.0)) == []


def test_sewing_a_gap_meets_the_kept_frames_in_position_and_velocity():
    # a timeline's in-betweened joins hit the segments' poses, not their velocities: a wrist
    # went from 4.4 to 0.9 m/s between two frames (a new user's trial)
    from motiongen.postprocess.transitions import sew

    t = np.arange(60.0)
    base = np.stack([np.sin(t / 7.0), np.zeros_like(t), np.cos(t / 9.0)], axis=1)[:, None]
    broken = base.copy()
    # a step and a ramp inside the gap, along the floor
    broken[20:40, :, [0, 2]] += 0.3 + 0.05 * (t[20:40, None, None] - 20)
    out = sew(broken, [(20, 40)])
    np.testing.assert_array_equal(out[:20], broken[:20])  # kept frames stay as they are
    np.testing.assert_array_equal(out[40:], broken[40:])
    assert np.abs(out - base).max() < 0.02  # the gap back on the curve through its ends
    speed = np.abs(np.diff(out, axis=0))
    assert speed[18:41].max() < 0.2  # no jump at either end (0.35 and 1.25 before)
    np.testing.assert_array_equal(sew(broken, [(20, 22)]), broken)  # too short to fit: left


def test_softening_a_join_s_edges_takes_out_a_jolt_and_leaves_far_frames_alone():
    # sewn gaps meet the kept frames' velocity, not their acceleration: a body jolted where a
    # join met a bow (val join edges' jerk p95 365 against real 261)
    from motiongen.postprocess.transitions import EDGE_REACH_FRAMES, soften_edges

    t = np.arange(80.0)
    x = np.where(t < 40, 0.0, 0.5 * ((t - 40) / 20.0) ** 2)  # at rest, then a jolt into a push
    pos = np.stack([x, np.full_like(t, 0.9), np.zeros_like(t)], axis=1)[:, None]
    pos = (
        pos
        + np.random.default_rng(0).normal(0, 0.004, pos.shape)
        * ((t >= 30) & (t < 40))[:, None, None]
    )  # and the gap's own jitter
    out = soften_edges(pos, [(30, 40)])
    assert jerk_near(out, 40) < 0.4 * jerk_near(pos, 40)
    assert jerk_near(out, 35) < 0.4 * jerk_near(pos, 35)
    far = 40 + EDGE_REACH_FRAMES
    np.testing.assert_array_equal(
        out[: 30 - EDGE_REACH_FRAMES - 1], pos[: 30 - EDGE_REACH_FRAMES - 1]
    )
    np.testing.assert_array_equal(out[far + 1 :], pos[far + 1 :])
    np.testing.assert_array_equal(soften_edges(pos, []), pos)


def test_a_seam_s_body_path_is_eased_from_one_pace_into_the_other():
    # a 0.3 s seam the in-betweening walked at full pace and then stopped in two frames
    # (1.15 -> 0.16 m/s): a new user's trial
    from motiongen.postprocess.transitions import eased_body_path

    x = np.concatenate([0.06 * np.arange(40.0), np.full(40, 0.06 * 39 + 0.2)])  # 1.2 m/s, stop
    x[40:46] = 0.06 * 39 + 0.2 * np.minimum(np.arange(1.0, 7.0) / 2, 1.0)  # the stop in 2 frames
    pos = np.zeros((80, 22, 3))
    pos[:, :, 0] = x[:, None] + np.linspace(0, 0.3, 22)  # a body, its joints along x
    pos[:, :, 1] = 0.9
    out = eased_body_path(pos, [(40, 46)])
    np.testing.assert_array_equal(out[:40], pos[:40])
    np.testing.assert_array_equal(out[46:], pos[46:])
    speed = np.abs(np.diff(out[:, 0, 0])) * 20
    assert np.abs(np.diff(speed[35:50])).max() < 0.5  # 2.4 m/s in one frame before
    assert np.abs(np.diff(np.abs(np.diff(pos[:, 0, 0])) * 20)[35:50]).max() > 2.0
    np.testing.assert_allclose(out[40:46] - out[40:46, :1], pos[40:46] - pos[40:46, :1])  # pose
    np.testing.assert_array_equal(out[..., 1], pos[..., 1])  # height as it was


def test_sewing_takes_back_an_upward_velocity_within_the_settle_frames():
    # a walk continued from mid-stride, its pelvis rising at 0.6 m/s, into a join the model
    # made level: taken back over the whole 1 s join, the sew carried the body 11 cm up and
    # both feet left the floor
    from motiongen.postprocess.transitions import VERTICAL_SETTLE_FRAMES, sew

    y = np.concatenate([0.9 + 0.03 * (np.arange(20.0) - 19), np.full(40, 0.9)])
    pos = np.stack([np.zeros(60), y, np.zeros(60)], axis=1)[:, None]
    rise = sew(pos, [(20, 40)])[20:40, 0, 1].max() - 0.9
    whole = sew(pos, [(20, 40)], settle=19)[20:40, 0, 1].max() - 0.9
    assert 0.0 < rise <= 0.03 * VERTICAL_SETTLE_FRAMES * 0.4  # still eased out of the rise
    assert whole > 1.8 * rise  # 13.7 vs 6.5 cm


def test_sewing_carries_the_body_s_pace_over_the_gap_and_a_limb_s_own_swing_briefly():
    # a run joined to a bow: its swing foot's velocity carried over the whole 1 s join split
    # the legs to 1.1 m (real runs 0.93 at most; a new user's trial)
    from motiongen.postprocess.transitions import VERTICAL_SETTLE_FRAMES, sew
    from motiongen.skeleton import LEFT_FOOT, PELVIS

    pos = np.zeros((60, 22, 3))
    pos[:20, :, 2] = 0.1 * (np.arange(20.0) - 19)[:, None]  # the body arrives at 2 m/s
    pos[:20, LEFT_FOOT, 2] += 0.1 * (np.arange(20.0) - 19)  # and one foot swings at 4 m/s
    out = sew(pos, [(20, 40)])
    body = out[20:40, PELVIS, 2]
    foot = out[20:40, LEFT_FOOT, 2] - body
    settle = VERTICAL_SETTLE_FRAMES
    assert body[settle:].max() > 0.3  # the body coasts on over the gap (0.37 m)
    # the foot's own swing eased out within the settle frames: what is left after them is the
    # half frame of it at the gap's edge, taken back over the gap as a step is (0.08 m); its
    # swing carried over the gap had led the body by 0.37 m
    assert np.abs(foot).max() < 0.1 * settle * 0.4
    assert np.abs(foot[settle:]).max() <= 0.1


def test_a_gap_made_without_text_lands_after_a_short_flight():
    from motiongen.data.synthetic import synth_motion
    from motiongen.postprocess.transitions import FLIGHT_FRAMES, ground_gaps
    from motiongen.skeleton import FOOT_JOINTS

    p = synth_motion("idle", "normal", 3.0, 20.0, seed=0).positions.astype(np.float64)
    p[..., 1] -= p[:, list(FOOT_JOINTS), 1].min()  # standing on the floor
    hop = p.copy()
    hop[20:40, :, 1] += 0.3 * np.sin(np.linspace(0, np.pi, 20))[:, None]  # 30 cm up and down
    out = ground_gaps(hop, [(20, 40)])
    low = out[:, list(FOOT_JOINTS), 1].min(axis=1)
    assert np.abs(low[20 + FLIGHT_FRAMES : 40 - FLIGHT_FRAMES]).max() <= 0.06  # 30 cm before
    np.testing.assert_array_equal(out[:20], hop[:20])  # kept frames as they are
    np.testing.assert_array_equal(out[40:], hop[40:])
    np.testing.assert_allclose(out[..., [0, 2]], hop[..., [0, 2]])  # only lowered
    sunk = p.copy()
    sunk[20:40, :, 1] -= 0.1  # under the floor: set on it too
    low = ground_gaps(sunk, [(20, 40)])[:, list(FOOT_JOINTS), 1].min(axis=1)
    assert low[24:36].min() >= -0.06


def test_a_foot_gliding_flat_in_a_gap_is_lifted_into_a_step():
    from motiongen.generation.stand import standing
    from motiongen.postprocess.transitions import step_gliding_feet
    from motiongen.skeleton import JOINT_INDEX, LEFT_ANKLE, LEFT_FOOT, RIGHT_ANKLE, RIGHT_FOOT

    LEFT_HIP, LEFT_KNEE = JOINT_INDEX["left_hip"], JOINT_INDEX["left_knee"]

    p = standing(40)
    p[..., 1] -= p[:, [LEFT_FOOT, RIGHT_FOOT], 1].min()  # toes on the floor
    # the left foot slides 0.6 m forward over frames 15-22, flat, the right stands
    slide = np.clip((np.arange(40) - 14) / 8.0, 0.0, 1.0) * 0.6
    glide = p.copy()
    glide[:, [LEFT_ANKLE, LEFT_FOOT], 2] += slide[:, None]
    leg = [(LEFT_HIP, LEFT_KNEE), (LEFT_KNEE, LEFT_ANKLE), (LEFT_ANKLE, LEFT_FOOT)]

    def lengths(q):
        return np.stack([np.linalg.norm(q[:, a] - q[:, b], axis=-1) for a, b in leg])

    out = step_gliding_feet(glide, [(10, 30)], 20.0)
    rise = out[:, LEFT_ANKLE, 1] - glide[:, LEFT_ANKLE, 1]
    assert 0.08 < rise[17:20].max() < 0.15  # a 0.6 m step's heel rises 10 cm
    assert out[18, LEFT_FOOT, 1] > 0.04  # the toe off the floor mid-swing
    np.testing.assert_array_equal(out[:14], glide[:14])  # lift-off and landing on the floor
    np.testing.assert_array_equal(out[23:], glide[23:])
    np.testing.assert_array_equal(out[:, RIGHT_FOOT], glide[:, RIGHT_FOOT])  # the planted foot
    np.testing.assert_allclose(lengths(out), lengths(glide), atol=1e-6)  # thigh, shin, foot
    # outside the gap, or both feet gliding: the faster alone, the body stays on the floor
    np.testing.assert_array_equal(step_gliding_feet(glide, [(25, 35)], 20.0), glide)
    both = glide.copy()
    both[:, [RIGHT_ANKLE, RIGHT_FOOT], 2] += 0.5 * slide[:, None]
    lifted = step_gliding_feet(both, [(10, 30)], 20.0)
    np.testing.assert_array_equal(lifted[:, RIGHT_FOOT], both[:, RIGHT_FOOT])
    assert lifted[18, LEFT_FOOT, 1] > 0.04


def test_a_join_s_stance_foot_holds_the_body_whatever_its_speed():
    from motiongen.generation.stand import standing
    from motiongen.postprocess import postprocess
    from motiongen.postprocess.floor import support_contacts
    from motiongen.skeleton import LEFT_ANKLE, LEFT_FOOT, RIGHT_ANKLE, RIGHT_FOOT

    p = standing(40)
    p[..., 1] -= p[:, [LEFT_FOOT, RIGHT_FOOT], 1].min()
    # the right foot swings 15 cm up over frames 12-28 while the left slides 2 m/s beneath
    p[12:28, [RIGHT_ANKLE, RIGHT_FOOT], 1] += 0.15
    p[:, [LEFT_ANKLE, LEFT_FOOT], 2] += np.clip(np.arange(40) - 12, 0, 16)[:, None] * 0.1
    held = support_contacts(p, [(10, 30)])
    assert held[12:28, 0].all() and not held[:, 1].any()  # the left toe, under the swing
    assert not held[:10].any() and not held[30:].any()  # inside the gap only
    assert not support_contacts(p, [(30, 35)]).any()
    slid = postprocess(p, 20.0, smooth=False, follow_support=None)[:, LEFT_FOOT, 2]
    out = postprocess(p, 20.0, smooth=False, follow_support=None, held=held)[:, LEFT_FOOT, 2]
    assert np.ptp(slid[13:27]) > 0.5  # the clean-up alone locks slow toes only
    assert np.ptp(out[15:26]) < 0.01  # held, it stays put (its lock eased in over 2 frames)


def test_an_arm_snapping_in_an_edit_s_seam_is_moved_at_a_gesture_s_pace():
    from motiongen.generation.stand import standing
    from motiongen.postprocess.transitions import ARM_SNAP_SPEED, ease_snapping_arms
    from motiongen.skeleton import JOINT_INDEX

    sh, el, wr = (JOINT_INDEX[f"right_{j}"] for j in ("shoulder", "elbow", "wrist"))
    p = standing(50)
    hanging = p[0, [el, wr]] - p[0, sh]
    # raised overhead until frame 30, swung down in front within 3 frames (a snap), then down
    angle = np.radians(np.interp(np.arange(50), [30, 33], [180, 0]))
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    for k, j in enumerate((el, wr)):
        x, y, z = hanging[k]
        p[:, j] = p[:, sh] + np.stack([x + 0 * c[:, 0], c[:, 0] * y - s[:, 0] * z,
                                       s[:, 0] * y + c[:, 0] * z], axis=1)  # fmt: skip

    def wrist_speed(q):
        return np.linalg.norm(np.diff(q[:, wr], axis=0), axis=-1) * 20.0

    out = ease_snapping_arms(p, [(5, 10), (30, 36)], (10, 30), 20.0)
    assert wrist_speed(p).max() > 2 * ARM_SNAP_SPEED  # 3 frames for a 1.1 m swing
    assert wrist_speed(out).max() < 0.6 * wrist_speed(p).max()
    changed = np.flatnonzero(np.abs(out - p).max(axis=(1, 2)) > 0)
    assert changed.min() >= 20 and changed.max() < 36  # widened back into the made frames only
    np.testing.assert_allclose(  # the arm's bones keep their lengths
        np.linalg.norm(out[:, wr] - out[:, el], axis=-1),
        np.linalg.norm(p[:, wr] - p[:, el], axis=-1),
    )
    assert out[29, wr, 1] < p[29, wr, 1]  # already on its way down inside the made frames
    # no snap: nothing eased
    calm = standing(50)
    np.testing.assert_array_equal(ease_snapping_arms(calm, [(30, 36)], (10, 30), 20.0), calm)
