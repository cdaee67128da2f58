"""Style pace: each style's walking speed measured on labelled clips, and a restyle to a
slower style walking the kept path at that pace (its feet slid at the source's speed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motiongen.checkpoint import read_action_styles, write_vocabulary
from motiongen.data.synthetic import synth_motion
from motiongen.errors import FormatError, InputError
from motiongen.skeleton import PELVIS
from motiongen.tasks.pace import ground_speed, pace_ratio, paced_path, style_pace
from tests.test_pipeline import make_checkpoint


def _walk_at(speed: float, frames: int = 60, fps: float = 20.0) -> np.ndarray:
    """A stick body gliding forward at ``speed`` m/s (only the pelvis path matters here)."""
    p = np.zeros((frames, 22, 3))
    p[:, :, 1] = np.linspace(0.0, 1.6, 22)
    p[:, :, 2] += (np.arange(frames) * speed / fps)[:, None]
    return p


def test_style_pace_is_each_style_s_speed_over_its_action_s_usual_speed():
    clips = [
        ({"content": "walk", "style": "normal"}, _walk_at(1.0), 20.0),
        ({"content": "walk", "style": "sad"}, _walk_at(0.5), 20.0),
        ({"content": "walk", "style": "active"}, _walk_at(1.5), 20.0),
        ({"content": "run", "style": "sad"}, _walk_at(1.5, fps=30.0), 30.0),
        ({"content": "run", "style": "normal"}, _walk_at(3.0), 20.0),
        ({"content": "wave-both-hands", "style": "happy"}, _walk_at(0.02), 20.0),  # in place
        ({"dance_type": "waltz"}, _walk_at(1.0), 20.0),
        ({"content": "walk", "style": "tired"}, _walk_at(0.9), 20.0),  # a synonym of exhausted
    ]
    assert ground_speed(_walk_at(1.5, fps=30.0), 30.0) == pytest.approx(1.5)
    pace = style_pace(clips)
    # walk's usual: the median of 1.0, 0.5, 1.5, 0.9 (0.95); run's: of 1.5 and 3.0 (2.25)
    assert pace["normal"] == pytest.approx(np.median([1.0 / 0.95, 3.0 / 2.25]), abs=1e-3)
    assert pace["sad"] == pytest.approx(np.median([0.5 / 0.95, 1.5 / 2.25]), abs=1e-3)
    assert pace["active"] == pytest.approx(1.5 / 0.95, abs=1e-3)
    assert "exhausted" in pace and "tired" not in pace
    assert "happy" not in pace  # recorded only in place: nothing said of its pace


def test_pace_ratio_slows_to_the_target_s_pace_and_never_speeds_up():
    pace = {"sad": 0.5, "normal": 1.0, "active": 1.4}
    assert pace_ratio(pace, {"normal": 1.0}, "sad") == pytest.approx(0.5)
    # the source's pace is its recognised styles' mean, weighted by their probability
    assert pace_ratio(pace, {"normal": 0.5, "active": 0.5, "giant": 0.9}, "sad") == pytest.approx(
        0.5 / 1.2
    )
    assert pace_ratio(pace, {"normal": 1.0}, "active") == 1.0
    assert pace_ratio(pace, {"normal": 1.0}, "giant") == 1.0  # no pace known
    assert pace_ratio(pace, {"giant": 1.0}, "sad") == 1.0
    assert pace_ratio(pace, {"normal": 1.0}, "normal", ("sad", 0.5)) == pytest.approx(0.75)


def test_a_paced_path_covers_its_share_of_the_same_path_in_the_same_frames():
    p = synth_motion("walk", seconds=4.0, seed=1).positions.astype(np.float64)
    # bend the path: the second half turns left, so a shortened walk must not cut the corner
    half = len(p) // 2
    turn = p[half:, :, 2] - p[half, PELVIS, 2]
    p[half:, :, 0] += turn
    p[half:, :, 2] -= turn * 0.5
    np.testing.assert_array_equal(paced_path(p, 1.0), p)
    slow = paced_path(p, 0.6)
    assert slow.shape == p.shape
    np.testing.assert_allclose(slow[0], p[0])
    np.testing.assert_array_equal(slow[:, PELVIS, 1], p[:, PELVIS, 1])  # the bob's own timing

    def covered(q):
        return np.linalg.norm(np.diff(q[:, PELVIS][:, [0, 2]], axis=0), axis=1).cumsum()

    np.testing.assert_allclose(covered(slow), 0.6 * covered(p), atol=0.02)
    # every paced pelvis position lies on the source's path
    src = p[:, PELVIS][:, [0, 2]]
    gaps = [np.linalg.norm(src - q, axis=1).min() for q in slow[:, PELVIS][:, [0, 2]]]
    assert max(gaps) < 0.05
    with pytest.raises(ValueError, match="ratio"):
        paced_path(p, 1.2)
    share = np.where(np.arange(len(p)) < half, 0.5, 1.0)
    # strided: the same frames and turns at the same times, every step shortened in place
    from motiongen.tasks.pace import strided_path

    short = strided_path(p, share)
    np.testing.assert_allclose(np.diff(short[:, PELVIS][:, [0, 2]], axis=0),
                               share[1:, None] * np.diff(p[:, PELVIS][:, [0, 2]], axis=0),
                               atol=1e-9)  # fmt: skip
    np.testing.assert_allclose(short - short[:, PELVIS : PELVIS + 1], p - p[:, PELVIS : PELVIS + 1])
    np.testing.assert_array_equal(short[:, :, 1], p[:, :, 1])


def test_checkpoints_store_style_pace_with_their_styles(tmp_path):
    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"walk": ["a person walks"]}, {"walk": ["sad"]}, {"sad": ["sadly"]},
                     {"sad": 0.55})  # fmt: skip
    assert read_action_styles(path)["pace"] == {"sad": 0.55}
    write_vocabulary(path, {"walk": ["a person walks"]}, {"walk": ["sad"]}, {"sad": ["sadly"]})
    assert "pace" not in read_action_styles(path)  # checkpoints before pace still read
    styles = path / "action_styles.json"
    for bad in ({"sad": -1}, {"sad": "slow"}, [0.5]):
        styles.write_text(json.dumps({"actions": {}, "words": {}, "pace": bad}))
        with pytest.raises(FormatError, match="pace"):
            read_action_styles(path)
    for bad in ({"kick": 0}, {"kick": 1.5}, {"kick": True}, [1]):
        styles.write_text(json.dumps({"actions": {}, "words": {}, "clips": bad}))
        with pytest.raises(FormatError, match="clips"):
            read_action_styles(path)


@pytest.fixture(scope="module")
def control():
    from motiongen.pipeline import Pipeline

    return Pipeline.from_pretrained("tiny-control")


def _made_walk(pipe):
    # literal: "briskly" is said "energetically" otherwise (vocabulary.MANNER_WORDS), another walk
    return pipe("a person walks forward briskly", seconds=3.0, seed=2, literal=True)


def test_a_restyle_to_a_slower_style_walks_the_path_at_that_style_s_pace(control):
    walk = _made_walk(control)
    assert ground_speed(walk.positions, walk.fps) > 0.5
    sad = control.restyle(walk, "sad", seed=0, steps=2)
    assert 0.3 < sad.meta["pace"] < 0.9
    src = walk.positions[:, PELVIS][:, [0, 2]].astype(np.float64)
    got = sad.positions[:, PELVIS][:, [0, 2]].astype(np.float64)
    expected = paced_path(walk.positions, sad.meta["pace"])[:, PELVIS][:, [0, 2]]
    np.testing.assert_allclose(got, expected, atol=3e-3)  # 2.6 mm since the soft leg IK
    assert np.linalg.norm(got[-1] - got[0]) < 0.9 * np.linalg.norm(src[-1] - src[0])

    kept = control.restyle(walk, "sad", seed=0, steps=2, keep_speed=True)
    assert "pace" not in kept.meta
    # what keeping the speed costs is said (a new user's kept sad walk read as "normal")
    assert f"({sad.meta['pace']:.0%} of this speed), and shows less" in kept.meta["warning"]
    np.testing.assert_allclose(  # the path over the ground; the height is the style's own
        kept.positions[:, PELVIS][:, [0, 2]], walk.positions[:, PELVIS][:, [0, 2]], atol=2e-4
    )
    assert "pace" not in control.restyle(walk, "active", seed=0, steps=2).meta  # never faster
    with pytest.raises(InputError, match="keep_speed must be true or false"):
        control.restyle(walk, "sad", keep_speed="yes")


def test_a_restyle_lifts_feet_that_swing_flat_along_the_path_into_steps(control, monkeypatch):
    import motiongen.postprocess.transitions as transitions
    from motiongen.artifacts import foot_skating_ratio

    walk = _made_walk(control)
    stepped = control.restyle(walk, "elderly", seed=0, steps=2)
    monkeypatch.setattr(transitions, "step_gliding_feet", lambda p, gaps, fps: p)
    flat = control.restyle(walk, "elderly", seed=0, steps=2)
    # the elderly legs swung forward along the floor (skating 0.53); lifted, 0.19
    assert foot_skating_ratio(stepped.positions, 20.0) < 0.6 * foot_skating_ratio(
        flat.positions, 20.0
    )
    np.testing.assert_allclose(stepped.positions[:, PELVIS], flat.positions[:, PELVIS])


def test_a_restyle_stands_on_the_floor_at_its_style_s_own_height(control, monkeypatch):
    from motiongen.generation.constraints import Constraints

    walk = _made_walk(control)
    lowest = lambda m: m.positions[:, [7, 8, 10, 11], 1].min(axis=1)  # noqa: E731
    proud = control.restyle(walk, "proud", seed=0, steps=2)
    monkeypatch.setattr(Constraints, "at_own_height", lambda self, positions: self)
    floating = control.restyle(walk, "proud", seed=0, steps=2)
    # at the source's pelvis height the proud body hung with both feet up to 15 cm off the
    # floor in a third of its frames; set down, the path over the ground the same
    assert (lowest(floating) > 0.05).mean() > 0.25
    assert (lowest(proud) > 0.05).mean() < 0.1
    np.testing.assert_allclose(
        proud.positions[:, PELVIS][:, [0, 2]], floating.positions[:, PELVIS][:, [0, 2]], atol=1e-6
    )
    monkeypatch.undo()
    # a 30-fps source comes back at 30 fps with the same height: its path pasted over the
    # ground only (pasted whole, the source's height pulled the pelvis 1-10 cm off the hips)
    at30 = control.restyle(walk.resample(30.0), "proud", seed=0, steps=2)
    hips = np.linalg.norm(at30.positions[:, 1] - at30.positions[:, PELVIS], axis=-1)
    assert at30.fps == 30.0 and np.ptp(hips) < 0.003


def test_a_restyled_timeline_restyles_each_segment_with_its_own_words_and_pace(control):
    """A composed run, stop and bow restyled "sad" had been described by one action (the bow)
    and run along the kept path at 3 m/s without running (a new user's trial): each segment
    now keeps its own words in the style, a segment that travels walks at the style's pace
    and one that stands does not."""
    made = control.timeline(
        [("a person walks forward briskly", 3.0), ("a person bows", 3.0)], seed=1, steps=2
    )
    sad = control.restyle(made, "sad", seed=0, steps=2)
    assert sad.texts == [
        "a person walks forward briskly in a sad way",
        "a person bows in a sad way",
    ]
    walk_pace, bow_pace = sad.meta["segment_paces"]
    # each segment restyled alone, the join in-betweened (a bow after a stop had stood upright)
    assert sad.meta["segments_from"] == control.name and "join_sampling" in sad.meta
    assert walk_pace < 0.9 and bow_pace == 1.0 and sad.meta["pace"] == walk_pace
    src = made.positions[:, PELVIS][:, [0, 2]].astype(np.float64)
    got = sad.positions[:, PELVIS][:, [0, 2]].astype(np.float64)
    assert np.linalg.norm(got[59] - got[0]) < 0.9 * np.linalg.norm(src[59] - src[0])
    # the bow stands where the slowed walk left it, as the source's bow stands
    assert np.linalg.norm(got[-1] - got[70], axis=-1) < 0.3
    # restyled again: the new style replaces the old in each segment's words
    happy = control.restyle(sad, "happy", seed=0, steps=2)
    assert happy.texts == ["a person walks forward briskly in a happy way",
                           "a person bows in a happy way"]  # fmt: skip
    # blended too, each segment keeps its words (a blend had kept the first segment's alone
    # and walked the whole: a web developer's trial)
    blended = control.restyle(made, "sad", blend=("happy", 0.5), seed=0, steps=2)
    assert blended.texts == sad.texts and blended.meta["blend"] == ["happy", 0.5]
    assert walk_pace < blended.meta["segment_paces"][0] < 1.0  # between sad's and happy's
    # cut, it is no longer the timeline its segments say: one reading of the whole, said
    cut = control.restyle(made.copy(positions=made.positions[:100]), "sad", seed=0, steps=2)
    assert "segment_paces" not in cut.meta
    assert "timeline segments are not used (its segments last 6.00 s" in cut.meta["warning"]


def test_a_restyle_walks_the_whole_path_at_the_style_s_pace_when_asked(control):
    from motiongen.motion import Motion

    walk = _made_walk(control)
    start, end = walk.positions[0, PELVIS, [0, 2]], walk.positions[-1, PELVIS, [0, 2]]
    whole = control.restyle(walk, "sad", seed=0, whole_path=True)
    share = whole.meta["whole_path"]["pace"]
    assert share < 0.8 and whole.meta["whole_path"]["source_seconds"] == pytest.approx(3.0)
    assert whole.seconds == pytest.approx(3.0 / share, abs=0.1)  # more time, the same path
    np.testing.assert_allclose(whole.positions[-1, PELVIS, [0, 2]], end, atol=0.05)
    np.testing.assert_allclose(whole.positions[0, PELVIS, [0, 2]], start, atol=0.05)
    assert "pace" not in whole.meta  # nothing left short of the path's end
    assert "whole_path" not in control.restyle(walk, "active", seed=0, whole_path=True).meta
    with pytest.raises(InputError, match="give one of them"):
        control.restyle(walk, "sad", whole_path=True, keep_speed=True)
    timeline = Motion(positions=walk.positions, fps=walk.fps,
                      meta={"segments": [["a person walks", 1.5], ["a person walks", 1.5]]})  # fmt: skip
    with pytest.raises(InputError, match="restyles one motion, and this one is a timeline"):
        control.restyle(timeline, "sad", whole_path=True)
    with pytest.raises(InputError, match="whole_path must be true or false"):
        control.restyle(walk, "sad", whole_path="yes")


def test_a_motion_s_music_plays_on_under_what_a_control_task_makes_of_it(control):
    # a danced song's bow (predict) and restyle had come back silent (a choreographer's trial)
    from motiongen.motion import AudioRef

    walk = _made_walk(control)
    walk.audio = AudioRef("song.ogg", 2.5)
    said = {
        "predict": control.predict(walk, 4.0, seed=0, steps=2),
        "restyle": control.restyle(walk, "sad", seed=0, steps=2),
        "edit": control.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0, steps=2),
    }
    for task, made in said.items():
        assert made.audio == AudioRef("song.ogg", 2.5), task
    # a slower style walking the whole path takes longer than the song's part
    assert control.restyle(walk, "sad", seed=0, steps=2, whole_path=True).audio is None
