"""Control results come back at the frame rate the user's motion came in, kept frames exact."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_sequence
from motiongen.generation.control import resolve_joints
from motiongen.generation.source_rate import at_source_rate, source_rate
from motiongen.motion import Motion
from motiongen.pipeline import Pipeline
from motiongen.skeleton import NUM_JOINTS, PELVIS
from tests.test_pipeline import FakeEncoder, make_checkpoint


def _take(seconds: float, fps: float, seed: int = 1) -> Motion:
    walk = synth_sequence(["walk"], seconds=seconds, seed=seed)
    return walk.resample(fps)


@pytest.fixture(scope="module")
def pipes(tmp_path_factory):
    root = tmp_path_factory.mktemp("ck")
    control = Pipeline.from_pretrained(
        make_checkpoint(root / "control", seed=5, control=True), text_encoder=FakeEncoder()
    )
    text = Pipeline.from_pretrained(
        make_checkpoint(root / "text", seed=9), text_encoder=FakeEncoder()
    )
    return control, text


def test_a_source_frame_is_kept_where_its_nearest_model_frame_is_given():
    take = _take(3.0, 30.0)  # 90 frames
    known = np.zeros((60, NUM_JOINTS), dtype=bool)
    known[:20] = True  # the model kept its first second
    src = source_rate(30.0, 20.0, [(0.0, take.positions)], 3.0, known)
    made = Motion(positions=np.zeros((60, NUM_JOINTS, 3), np.float32), fps=20.0)
    out = at_source_rate(made, src)
    assert out.fps == 30.0 and out.num_frames == 90 and out.meta["model_fps"] == 20.0
    # 30-fps frame 29 lies nearest model frame 19 (kept), frame 30 on model frame 20 (made)
    np.testing.assert_array_equal(out.positions[:30], take.positions[:30])
    assert np.abs(out.positions[30:]).max() == 0.0
    assert "original_fps" not in out.meta
    assert source_rate(20.0, 20.0, [(0.0, take.positions)], 3.0, known) is None


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
    np.testing.assert_array_equal(restyled.positions[:, PELVIS], take.positions[:, PELVIS])
    keys = [take.crop(0, 1), take.crop(90, 92)]
    through = control.inbetween(keys, [0.0, 3.0], seed=0)
    assert through.fps == 30.0 and through.num_frames == 92
    np.testing.assert_array_equal(through.positions[[0, 90, 91]], take.positions[[0, 90, 91]])


def test_a_take_at_the_model_s_rate_is_not_resampled(pipes):
    control, _ = pipes
    take = _take(4.0, 20.0, seed=3)
    out = control.edit(take, text="a person waves", joints=["arms"], seed=0)
    assert out.fps == 20.0 and "model_fps" not in out.meta
