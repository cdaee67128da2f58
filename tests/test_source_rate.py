"""Control results come back at the frame rate the user's motion came in, kept frames exact."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_sequence
from motiongen.errors import InputError
from motiongen.generation.control import resolve_joints
from motiongen.generation.source_rate import (
    at_source_rate,
    edit_kept,
    frame_at,
    keyframes_kept,
    source_rate,
)
from motiongen.motion import Motion
from motiongen.skeleton import NUM_JOINTS, PELVIS
from tests.test_pipeline import control_and_text_pipes


def _take(seconds: float, fps: float, seed: int = 1) -> Motion:
    walk = synth_sequence(["walk"], seconds=seconds, seed=seed)
    return walk.resample(fps)


@pytest.fixture(scope="module")
def pipes(tmp_path_factory):
    return control_and_text_pipes(tmp_path_factory.mktemp("ck"))


def test_kept_frames_are_decided_at_the_source_rate():
    take = _take(3.0, 60.0)  # 180 frames
    kept = edit_kept(take.positions, 60.0, (1.0, 3.0), None)
    rows = np.isfinite(kept).all(axis=(1, 2))
    assert rows[:60].all() and not rows[60:].any()  # frame 60 is at 1.0 s: edited
    kept = edit_kept(take.positions, 30.0, (1.0667, 2.0667), [20])
    free = np.flatnonzero(~np.isfinite(kept).all(axis=-1).all(axis=-1))
    assert free[0] == 33 and free[-1] == 62  # 32 / 30 = 1.0667 s is before the span's start
    assert np.isfinite(kept[:, :20]).all()  # only the wrist is edited
    assert frame_at(0.625, 24.0) == 15 and frame_at(1.125, 24.0) == 27  # halves round up
    keys = keyframes_kept([(0.0, take.positions[:1]), (0.625, take.positions[5:7])], 24.0)
    assert len(keys) == 17 and np.isfinite(keys[[0, 15, 16]]).all()
    assert not np.isfinite(keys[1:15]).any()
    made = Motion(positions=np.zeros((40, NUM_JOINTS, 3), np.float32), fps=20.0)
    src = source_rate(60.0, 20.0, edit_kept(take.positions[:120], 60.0, (1.0, 2.0), None))
    out = at_source_rate(made, src)
    assert out.fps == 60.0 and out.num_frames == 120 and out.meta["model_fps"] == 20.0
    np.testing.assert_array_equal(out.positions[:60], take.positions[:60])
    assert np.abs(out.positions[60:]).max() == 0.0 and "original_fps" not in out.meta
    assert source_rate(20.0, 20.0, kept) is None


def test_frames_resampled_back_keep_the_body_s_bone_lengths():
    # interpolated between model frames a kicking leg's bones came out up to 6 mm short, and a
    # BVH (one length per bone) moved the kept frames by 1.8 mm: a new user's trial
    from motiongen.postprocess.bones import fix_bone_lengths
    from motiongen.skeleton import BONES

    take = _take(4.0, 30.0, seed=3)
    take.positions = fix_bone_lengths(take.positions).astype(np.float32)  # one body throughout
    pos = take.positions.astype(np.float64)
    made = take.resample(20.0)
    fast = made.positions.astype(np.float64)
    spin = np.linspace(0.0, 12.0, len(fast))  # a leg swung round fast: chords cut its bones
    knee, ankle = 4, 7
    bone = fast[:, ankle] - fast[:, knee]
    fast[:, ankle] = fast[:, knee] + np.linalg.norm(bone, axis=-1, keepdims=True) * np.stack(
        [np.sin(spin), -np.cos(spin), np.zeros_like(spin)], axis=1
    )
    made.positions = fast.astype(np.float32)
    kept = edit_kept(pos, 30.0, (1.0, 3.0), None)
    lengths = lambda p: np.stack(  # noqa: E731
        [np.linalg.norm(p[:, c] - p[:, a], axis=-1) for a, c in BONES], axis=1
    )
    body = lengths(pos[:30]).mean(axis=0)
    loose = at_source_rate(made, source_rate(30.0, 20.0, kept)).positions.astype(np.float64)
    laid = at_source_rate(made, source_rate(30.0, 20.0, kept), bones=body).positions
    assert np.abs(lengths(loose) - body).max() > 0.003
    assert np.abs(lengths(laid.astype(np.float64)) - body).max() < 1e-5
    np.testing.assert_array_equal(laid[:30], take.positions[:30])  # kept as they were
    np.testing.assert_array_equal(laid[90:], take.positions[90:])


@pytest.mark.parametrize(("fps", "frames"), [(30.0, 32), (60.0, 61), (120.0, 121), (30.0, 2)])
def test_every_frame_of_the_past_is_kept_whatever_its_length(pipes, fps, frames):
    control, _ = pipes
    past = _take(3.0, fps, seed=4).crop(0, frames)
    out = control.predict(past, 3.0, "a person walks", seed=0)
    assert out.fps == fps and out.num_frames == int(3.0 * fps)
    np.testing.assert_array_equal(out.positions[:frames], past.positions)


def test_an_edit_span_at_60_fps_changes_exactly_its_own_frames(pipes):
    control, _ = pipes
    take = _take(4.0, 60.0, seed=5)
    out = control.edit(take, text="a person waves", frames=(1.0, 3.0), seed=0,
                       segment_model="self")  # fmt: skip
    changed = np.flatnonzero(np.abs(out.positions - take.positions).max(axis=(1, 2)) > 0)
    assert changed.min() >= 60 and changed.max() <= 179
    assert changed.min() < 65 and changed.max() > 174


def test_keyframes_on_a_rounding_tie_are_kept(pipes):
    control, _ = pipes
    take = _take(3.0, 24.0, seed=6)
    keys = [take.crop(0, 1), take.crop(15, 16), take.crop(27, 28)]
    out = control.inbetween(keys, [0.0, 0.625, 1.125], seed=0)
    assert out.fps == 24.0
    np.testing.assert_array_equal(out.positions[[0, 15, 27]], take.positions[[0, 15, 27]])
    mixed = control.inbetween([take.crop(0, 1), _take(3.0, 30.0).crop(60, 61)], [0.0, 2.0])
    assert mixed.fps == 20.0 and "keyframes come at 24 and 30 fps" in mixed.meta["warning"]


def test_far_apart_keyframes_and_a_too_long_past_are_said(pipes):
    control, _ = pipes
    take = _take(3.0, 20.0, seed=7)
    far = take.crop(20, 21)
    far.positions[..., 0] += 5.0  # another take's place, 5 m away
    req = control.check_inbetween([take.crop(0, 1), far], [0.0, 1.0], "a person walks")
    assert "lie 5." in req.meta["warning"] and "m apart on the ground" in req.meta["warning"]
    for _ in range(2):  # a checked request can be run again and says it again
        assert "m apart" in control.run_request(req).meta["warning"]
    # asked nothing, keyframes that far apart are run between (they had glided), and it is said
    assumed = control.check_inbetween([take.crop(0, 1), far], [0.0, 1.0])
    assert assumed.text == assumed.meta["text_assumed"] == "a person runs forward"
    assert "no text given: made as 'a person runs forward'" in assumed.meta["warning"]
    from motiongen.generation.control import GLIDES

    # it says nothing of gliding: a warning that the result glides would be kept from saying so
    assert GLIDES not in assumed.meta["warning"]
    near = control.check_inbetween(
        [take.crop(0, 1), take.crop(20, 21)], [0.0, 1.0], "a person walks"
    )
    assert "warning" not in near.meta
    with pytest.raises(InputError, match=r"lasts 3 s and the result 2 s"):
        control.check_predict(_take(3.0, 30.0), 2.0)


def test_control_tasks_on_a_30_fps_take_come_back_at_30_fps_with_its_frames(pipes):
    control, text = pipes
    take = _take(4.0, 30.0, seed=2)  # 120 frames
    past = take.crop(0, 45)
    out = control.predict(past, 5.0, "a person walks", seed=0)
    assert out.fps == 30.0 and out.num_frames == 150
    np.testing.assert_array_equal(out.positions[:45], past.positions)
    edit = control.edit(take, text="a person bows", frames=(1.0, 2.5), seed=0, segment_model=text)
    assert edit.fps == 30.0 and edit.num_frames == 120
    outside = np.r_[0:30, 75:120]
    np.testing.assert_array_equal(edit.positions[outside], take.positions[outside])
    assert not np.allclose(edit.positions[35:70], take.positions[35:70], atol=1e-2)
    arms = control.edit(take, text="a person waves", joints=["arms"], seed=0)
    still = [j for j in range(NUM_JOINTS) if j not in resolve_joints("arms")]
    np.testing.assert_array_equal(arms.positions[:, still], take.positions[:, still])
    restyled = control.restyle(take, text="a person walks sadly", seed=0)
    assert restyled.num_frames == 120
    ground = (slice(None), PELVIS, [0, 2])  # the path over the ground; the height its own
    np.testing.assert_array_equal(restyled.positions[ground], take.positions[ground])
    keys = [take.crop(0, 1), take.crop(90, 92)]
    through = control.inbetween(keys, [0.0, 3.0], seed=0)
    assert through.fps == 30.0 and through.num_frames == 92
    np.testing.assert_array_equal(through.positions[[0, 90, 91]], take.positions[[0, 90, 91]])


def test_a_take_at_the_model_s_rate_is_not_resampled(pipes):
    control, _ = pipes
    take = _take(4.0, 20.0, seed=3)
    out = control.edit(take, text="a person waves", joints=["arms"], seed=0)
    assert out.fps == 20.0 and "model_fps" not in out.meta


def test_a_120_fps_past_goes_on_without_a_jump_and_short_results_are_said(pipes):
    control, _ = pipes
    take = _take(3.0, 120.0, seed=8)
    past = take.crop(0, 181)  # 1.5 s: its last frame falls between two model frames
    assert len(control._as_positions(past, "past", cover=True)) == 31  # reaches 1.5 s
    out = control.predict(past, 3.0, "a person walks", seed=0)
    step = np.linalg.norm(np.diff(out.positions[178:186], axis=0), axis=-1).max()
    own = np.linalg.norm(np.diff(take.positions[170:180], axis=0), axis=-1).max()
    assert step < 4 * own  # (the model's past ending a frame early jumped ~8 own steps)
    with pytest.raises(InputError, match=r"ask for at least 1\.6 s"):
        control.check_predict(past, 1.52)


def test_keyframes_overlapping_at_their_own_rate_and_too_short_spans_are_refused(pipes):
    control, _ = pipes
    take = _take(3.0, 120.0, seed=9)
    keys = [take.crop(0, 7), take.crop(6, 7), take.crop(240, 241)]  # 7 frames = 0.058 s
    with pytest.raises(InputError, match=r"keyframe 0 lasts 0.06 s \(7 frames at 120 fps\)"):
        control.check_inbetween(keys, [0.0, 0.05, 2.0])
    with pytest.raises(InputError, match="shorter than one frame of the model"):
        control.check_edit(take, text="a person waves", frames=(2.0, 2.02))


def test_the_travel_warning_allows_a_run_when_the_text_asks_for_one(pipes):
    from motiongen.generation.control import travel_warning

    pose = _take(1.0, 20.0).positions[:1].astype(np.float64)
    far = pose.copy()
    far[..., 0] += 3.0  # 3 m in a second
    assert "3.0 m/s" in travel_warning([pose, far], [0, 20], 20.0, "a person waves")
    assert travel_warning([pose, far], [0, 20], 20.0, "a person runs forward") == ""


def test_the_travel_warning_says_when_keyframes_lie_behind_the_way_they_face():
    from motiongen.canonical import forward_direction
    from motiongen.generation.control import travel_warning
    from motiongen.generation.stand import standing

    pose = standing(1)
    facing = forward_direction(pose)[0]
    back = pose - 1.5 * facing  # 1.5 m behind, facing the same way, 2 s later
    said = travel_warning([pose, back], [0, 40], 20.0, "a person starts running")
    assert "starts 1.5 m behind where keyframe 0 ends" in said
    assert travel_warning([pose, back], [0, 40], 20.0, "a person walks backwards") == ""
    assert travel_warning([pose, pose + 1.5 * facing], [0, 40], 20.0, None) == ""  # ahead
    # behind the first's facing but ahead of the second's, turned round: it walks forwards
    from motiongen.canonical import rotate_y

    turned = rotate_y(pose - pose[:, :1], np.pi) + back[:, :1]
    assert "behind" not in travel_warning([pose, turned], [0, 40], 20.0, None)
