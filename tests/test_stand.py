"""Timeline segments that stop: recognised from their words, made as the data's standing pose
held, joined into from the action before."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.canonical import heading, rotate_y
from motiongen.generation.stand import STOP_SECONDS, is_stop, standing
from motiongen.pipeline import Pipeline
from motiongen.skeleton import HEAD, LEFT_FOOT, PELVIS, RIGHT_FOOT
from tests.test_pipeline import FakeEncoder, make_checkpoint


@pytest.mark.parametrize(
    ("text", "stop"),
    [
        ("a person stops", True),
        ("the man comes to a halt", True),
        ("she stands still for 2 seconds", True),
        ("a tired person slowly comes to a stop.", True),
        ("a person waits", True),
        ("a person stops in a sad way", True),
        ("a person stops and stands still", True),  # one stop said twice
        ("she halts, and waits for 2 seconds", True),
        ("a person stops and stands up", False),
        ("a person stops and waves", False),  # does something too: the text model makes it
        ("a person stands up", False),
        ("a person walks to a stop sign", False),
        ("a person stops the car", False),
    ],
)
def test_a_stop_is_a_segment_that_only_stops(text: str, stop: bool) -> None:
    assert is_stop(text) is stop


def test_the_standing_pose_stands_on_the_floor_facing_forward() -> None:
    pose = standing(3)
    assert pose.shape == (3, 22, 3) and np.array_equal(pose[0], pose[2])
    assert abs(pose[0, [LEFT_FOOT, RIGHT_FOOT], 1]).max() < 0.01  # toes on the floor
    assert 0.8 < pose[0, PELVIS, 1] < 0.95 and pose[0, HEAD, 1] > 1.3
    assert abs(np.rad2deg(heading(pose[:1])[0])) < 10  # facing +Z, at the origin
    assert np.allclose(pose[0, PELVIS, [0, 2]], 0.0)


def test_a_timeline_stops_where_a_segment_says_stop(tmp_path) -> None:
    control = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "control", seed=5, control=True), text_encoder=FakeEncoder()
    )
    text = Pipeline.from_pretrained(make_checkpoint(tmp_path / "text", seed=9),
                                    text_encoder=FakeEncoder())  # fmt: skip
    m = control.timeline("a person walks, then stops", seed=4, segment_model=text,
                         postprocess=False)  # fmt: skip
    (_, walk), (_, stop) = m.meta["segments"]
    assert stop == STOP_SECONDS and m.meta["segment_lengths_from"][1] == "a stop"
    p = m.positions.astype(np.float64)
    held = p[-int(STOP_SECONDS * 20) + 10 :]  # after the join into it: the pose, held
    assert np.abs(held - held[:1]).max() < 1e-5
    # the pose, turned to face as the walk ended and set where it ended
    pose = held[:1] - held[0, PELVIS] * np.array([1.0, 0.0, 1.0])
    turn = float(heading(pose)[0] - heading(standing(1))[0])
    np.testing.assert_allclose(pose, rotate_y(standing(1), turn), atol=1e-4)


def test_a_shipped_timeline_that_stops_says_nothing_of_a_far_action() -> None:
    # "a person stops" is far from every trained action: made by the text model it walked on
    m = Pipeline.from_pretrained()("a person walks, then stops", seconds=5.0, steps=2, seed=1)
    assert m.meta["segment_vocabulary"][1]["stop"]
    assert "far from" not in m.meta.get("warning", "")
    speed = np.linalg.norm(np.diff(m.positions[-20:, PELVIS, :][:, [0, 2]], axis=0), axis=1)
    assert speed.max() * 20 < 0.05  # standing still in its last second
