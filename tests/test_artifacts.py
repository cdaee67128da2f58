"""Artifact metrics on hand-made motions with known answers (and real clips when present)."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen import artifacts as A
from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.skeleton import LEFT_FOOT, LEFT_WRIST, NUM_JOINTS, RIGHT_FOOT


def _standing(t: int = 60) -> np.ndarray:
    """A still body: joints on a vertical line at 0.05–1.5 m, toes at 0.02 m."""
    pose = np.zeros((NUM_JOINTS, 3))
    pose[:, 1] = np.linspace(0.05, 1.5, NUM_JOINTS)
    pose[:, 0] = np.linspace(-0.2, 0.2, NUM_JOINTS)
    pose[[LEFT_FOOT, RIGHT_FOOT], 1] = 0.02
    return np.repeat(pose[None], t, axis=0)


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    return synth_motion("walk", "normal", 6.0, fps=20, seed=3).positions.astype(np.float64)


def test_frozen_motion_is_static_and_dropped_by_artifact_score():
    rep = A.artifact_report(_standing(80), 20)
    assert rep.static_share == 1.0 and rep.static
    assert rep.artifact == pytest.approx(A.SEVERITY["static"])
    assert not rep.jittery and not rep.exploding


def test_white_noise_is_jitter_and_clean_walk_is_not(walk):
    clean = A.jitter_score(walk, 20)
    noisy = A.jitter_score(walk + np.random.default_rng(0).normal(0, 0.03, walk.shape), 20)
    assert clean < 0.1
    assert noisy > 1.0
    assert A.artifact_report(
        walk + np.random.default_rng(1).normal(0, 0.02, walk.shape), 20
    ).jittery


def test_teleport_is_explosion_but_kick_and_run_are_not(walk):
    tele = walk.copy()
    tele[60:, [LEFT_WRIST, LEFT_WRIST - 2]] += np.array([0.5, 0.0, 0.0])  # wrist + elbow jump
    assert A.explosion_score(tele, 20) > A.EXPLOSION_Z
    glitch = walk.copy()
    glitch[70, :] += np.array([0.0, 0.6, 0.0])  # whole body for one frame
    assert A.artifact_report(glitch, 20).exploding
    assert A.explosion_score(walk, 20) < 2.0
    for action in ("kick", "run", "jump"):
        m = synth_motion(action, "fast", 5.0, seed=0)
        assert not A.artifact_report(m.positions, m.fps).exploding, action


def test_short_loop_is_repetitive_and_a_single_slow_bow_is_not():
    t = np.arange(120)
    loop = _standing(120)
    loop[:, LEFT_WRIST, 2] += 0.3 * np.sin(2 * np.pi * t / 10)  # 0.5 s period
    loop[:, LEFT_WRIST - 2, 2] += 0.15 * np.sin(2 * np.pi * t / 10)
    score, lag = A._repetition(loop)
    assert score > 0.95 and lag == 10
    assert A.artifact_report(loop, 20).repetitive
    bow = synth_motion("bow", "normal", 4.0, seed=0)
    assert A.repetition_score(bow.positions, bow.fps) < A.REPETITION_THRESHOLD
    # A smooth one-off movement correlates with itself at small lags; that is not repetition.
    sweep = _standing(80)
    sweep[:, LEFT_WRIST, 2] += 0.5 * (1 - np.cos(np.pi * np.arange(80) / 80))
    assert A.repetition_score(sweep, 20) == 0.0


def test_foot_skating_planted_vs_sliding():
    still = _standing(41)
    assert A.foot_skating_ratio(still, 20) == 0.0
    slide = still.copy()
    slide[:, :, 0] += np.arange(41)[:, None] / 20.0  # the whole body slides at 1 m/s
    assert A.foot_skating_ratio(slide, 20) == pytest.approx(1.0)
    half = still.copy()
    half[20:, :, 0] += np.arange(21)[:, None] / 20.0  # slides for the last 20 of 40 steps
    assert A.foot_skating_ratio(half, 20) == pytest.approx(0.5)
    lifted = slide.copy()
    lifted[:, [LEFT_FOOT, RIGHT_FOOT], 1] = 0.10  # moving feet off the floor do not skate
    assert A.foot_skating_ratio(lifted, 20) == 0.0
    slow = still.copy()
    slow[:, :, 0] += np.arange(41)[:, None] * 0.4 / 20.0  # 0.4 m/s is under the threshold
    assert A.foot_skating_ratio(slow, 20) == 0.0


def test_sliding_counts_a_skating_toe_only_without_a_planted_one():
    still = _standing(41)
    slide = still.copy()
    slide[:, :, 0] += np.arange(41)[:, None] / 20.0  # the whole body slides at 1 m/s
    assert A.sliding_ratio(slide, 20) == pytest.approx(1.0)
    swing = still.copy()
    # the left toe sweeps 1 cm above the floor at 1 m/s while the right one stays put
    swing[:, LEFT_FOOT, 0] += np.arange(41) / 20.0
    swing[:, LEFT_FOOT, 1] = 0.01
    assert A.foot_skating_ratio(swing, 20) == pytest.approx(1.0)
    assert A.sliding_ratio(swing, 20) == 0.0
    lifted = swing.copy()
    lifted[20:, RIGHT_FOOT, 1] = 0.10  # the right foot leaves the floor from frame 20
    assert A.sliding_ratio(lifted, 20) == pytest.approx(21 / 40)
    report = A.artifact_report(lifted, 20)
    assert report.sliding == pytest.approx(21 / 40) and report.foot_skating == pytest.approx(1.0)
    creep = swing.copy()
    # a glide whose stance toe creeps at 0.45 m/s holds nothing: the swinging toe slides
    creep[:, RIGHT_FOOT, 0] += np.arange(41) * 0.45 / 20.0
    assert A.foot_skating_ratio(creep, 20) == pytest.approx(1.0)
    assert A.sliding_ratio(creep, 20) == pytest.approx(1.0)


def test_penetration_floating_exact_values():
    pos = _standing(4)
    pos[:, :, 1] += 0.03  # lowest joint (toes) at 0.05
    pos[2, LEFT_FOOT, 1] = -0.04
    assert A.ground_penetration(pos) == pytest.approx(0.04)
    # Per-frame lowest point: 0.05, 0.05, -0.04 (-> 0), 0.05.
    assert A.floating_height(pos) == pytest.approx(0.15 / 4)
    assert A.ground_penetration(_standing(3)) == 0.0


def test_bone_drift_and_speed():
    pos = _standing(10)
    assert A.bone_length_drift(pos) == pytest.approx(0.0, abs=1e-9)
    moved = pos.copy()
    moved[::2, LEFT_WRIST, 1] -= 0.1  # one bone alternates between two lengths
    assert A.bone_length_drift(moved) > 0.1
    fast = pos.copy()
    fast[:, :, 2] += np.arange(10)[:, None] * 1.0  # 1 m per frame at 20 fps = 20 m/s
    assert A.max_joint_speed(fast, 20) == pytest.approx(20.0)
    rep = A.artifact_report(fast, 20)
    assert rep.overspeed and rep.artifact >= A.SEVERITY["overspeed"]


def test_metrics_do_not_depend_on_the_frame_rate():
    a = synth_motion("walk", "happy", 5.0, fps=20, seed=4)
    b = synth_motion("walk", "happy", 5.0, fps=60, seed=4)
    ra, rb = A.artifact_report(a.positions, a.fps), A.artifact_report(b.positions, b.fps)
    assert ra.frames == rb.frames == 100
    assert abs(ra.jitter - rb.jitter) < 0.05
    assert abs(ra.foot_skating - rb.foot_skating) < 0.05
    assert abs(ra.max_speed - rb.max_speed) < 0.3


def test_bad_input_raises_input_error():
    with pytest.raises(InputError):
        A.artifact_report(np.zeros((10, 21, 3)), 20)
    with pytest.raises(InputError):
        A.jitter_score(_standing(10), 0.0)
    rep = A.artifact_report(_standing(1), 20)  # one frame: defined, flagged static
    assert rep.static and rep.jitter == 0.0


@pytest.mark.realdata
def test_real_bandai_clips_are_not_flagged(data_root):
    from motiongen.data.bandai import iter_bandai
    from motiongen.data.records import BadFile

    reps = [
        A.artifact_report(m.positions, m.fps)
        for m in iter_bandai(data_root / "bandai", "dataset-1")
        if not isinstance(m, BadFile)
    ]
    assert len(reps) > 150
    for flag in ("jittery", "static", "exploding", "overspeed", "penetrating"):
        assert sum(getattr(r, flag) for r in reps) <= 0.02 * len(reps), flag
    assert np.mean([r.quality >= 0.8 and r.artifact <= 0.35 for r in reps]) > 0.9


def test_rest_shimmer_reads_the_wobble_of_joints_at_rest_only():
    from motiongen.artifacts import rest_shimmer

    rng = np.random.default_rng(0)
    t = np.arange(100) / 20.0
    p = np.zeros((100, 22, 3))
    p[:, :11, 0] = 0.5 * np.sin(2 * np.pi * 1.0 * t)[:, None]  # half the joints swing
    assert np.isnan(rest_shimmer(p[:, :11], 20.0))  # every joint swings: none at rest
    assert rest_shimmer(p, 20.0) == 0.0  # the still ones read, the swinging ones not
    p[:, 11:] += rng.normal(scale=0.002, size=(100, 11, 3))  # 2 mm of wobble at rest
    assert 2.0 < rest_shimmer(p, 20.0) < 12.0
    assert np.isnan(rest_shimmer(p[:5], 20.0))
