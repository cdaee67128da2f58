"""``Motion.looped``: a motion cut and bent so its last frame leads back into its first."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.canonical import heading, rotate_y
from motiongen.data.synthetic import synth_sequence
from motiongen.errors import InputError
from motiongen.loop import wrap_jump
from motiongen.motion import Motion
from motiongen.skeleton import JOINT_INDEX, PELVIS

FPS = 20.0


def _walk(seconds: float = 6.0, veer_deg_per_s: float = 0.0) -> Motion:
    p = synth_sequence(["walk"], seconds=seconds, seed=0).positions.astype(np.float64)
    t = np.arange(len(p)) / FPS
    turn = np.deg2rad(veer_deg_per_s) * t
    p = (
        rotate_y(p - p[:, PELVIS : PELVIS + 1] * [1, 0, 1], turn)
        + np.cumsum(
            rotate_y(np.diff(p[:, PELVIS], axis=0, prepend=p[:1, PELVIS]) * [1, 0, 1], turn), axis=0
        )[:, None, :]
    )  # the path turns with the body
    # the arms start raised and come down within the first second: the motion's own ends
    # differ, as a generated motion's do
    arms = [JOINT_INDEX[f"{s}_{j}"] for s in ("left", "right") for j in ("elbow", "wrist")]
    p[:, arms, 1] += (0.3 * np.clip(1.0 - t, 0.0, 1.0) ** 2)[:, None]
    return Motion(positions=p.astype(np.float32), fps=FPS)


def test_a_loop_wraps_like_any_frame_inside_it_where_the_whole_motion_pops():
    walk = _walk()
    whole, inside = wrap_jump(walk.positions, FPS)
    loop = walk.looped()
    wrap, _ = wrap_jump(loop.positions, FPS, closed=True)
    assert whole > 2 * np.percentile(inside, 95)  # played whole, the repeat pops
    assert wrap <= np.percentile(inside, 95)  # the loop wraps as smoothly as it moves
    info = loop.meta["loop"]
    assert info["seconds"] >= 3.0 and loop.num_frames == round(info["seconds"] * FPS) + 1
    assert info["pose_gap_m"] < 0.05 and info["travel_m"] > 1.0
    # closed: the last frame is the first pose moved on by one repeat; open drops it
    p = loop.positions
    moved = p[0] + (p[-1, PELVIS] - p[0, PELVIS]) * [1, 0, 1]
    np.testing.assert_allclose(p[-1], moved, atol=1e-4)
    open_loop = walk.looped(closed=False)
    np.testing.assert_array_equal(open_loop.positions, p[:-1])
    assert wrap_jump(open_loop.positions, FPS)[0] == pytest.approx(wrap, abs=1e-6)
    # set where a motion starts: over the origin, facing +Z (an in-place loop cut 1 s into a
    # run sat 2.55 m away: a new user's trial)
    np.testing.assert_allclose(p[0, PELVIS, [0, 2]], 0.0, atol=1e-6)
    assert abs(heading(p[:1])[0]) < 1e-4
    still = loop.without_travel().positions
    np.testing.assert_allclose(still[:, PELVIS][:, [0, 2]], 0.0, atol=1e-5)


def test_a_high_rate_take_is_searched_coarsely_and_refined():
    walk = _walk()
    fast = walk.resample(60.0)
    loop = fast.looped()
    assert loop.fps == 60.0
    wrap, inside = wrap_jump(loop.positions, 60.0, closed=True)
    assert wrap <= np.percentile(inside, 95)


def test_a_small_veer_is_taken_out_and_a_short_motion_refused():
    loop = _walk(veer_deg_per_s=3.0).looped()
    info = loop.meta["loop"]
    assert info["turn_taken_out"] and 5.0 < abs(info["turn_deg"]) < 20.0
    p = loop.positions
    fwd = p[-1, PELVIS, [0, 2]] - p[0, PELVIS, [0, 2]]
    step = p[1, PELVIS, [0, 2]] - p[0, PELVIS, [0, 2]]
    cos = fwd @ step / np.linalg.norm(fwd) / np.linalg.norm(step)
    assert cos > 0.99  # walked straight: one repeat goes where its first step went
    with pytest.raises(InputError, match="a loop of at least 1 s needs a longer motion"):
        _walk(seconds=0.8).looped()


def test_a_loop_of_a_timeline_says_which_segments_it_leaves_out():
    # "walks, then waves" looped was a walk cycle, no word (a trial)
    walk = Motion(positions=synth_sequence(["walk"], seconds=8.0, seed=0).positions, fps=20.0)
    walk.meta["segments"] = [["a person walks", 6.0], ["a person waves", 2.0]]
    looped = walk.looped(min_seconds=3.0)
    start, seconds = looped.meta["loop"]["start_seconds"], looped.meta["loop"]["seconds"]
    assert start + seconds <= 7.0  # the walk's part is where a walk loops
    assert looped.meta["loop"]["segments_left_out"] == ["a person waves"]
    assert "the loop leaves out 'a person waves' of this timeline" in looped.meta["warning"]
    walk.meta["segments"] = [["a person walks", 8.0]]  # one action: nothing to say
    assert "warning" not in walk.looped(min_seconds=3.0).meta
