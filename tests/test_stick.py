"""Stick figures: the 20-number projection of known poses through known cameras, physics
features, and rendering (frames, faces, MP4, errors)."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.skeleton import JOINT_INDEX
from motiongen.stick.render import Actor, Scene, draw_frame, render_scene
from motiongen.stick.representation import STICK_DIM, StickCamera, physics, segments, to_stick

J = JOINT_INDEX


def test_projection_of_a_known_pose() -> None:
    pose = np.zeros((1, 22, 3))
    pose[0, J["neck"]] = [0.0, 1.5, 0.0]
    pose[0, J["head"]] = [0.0, 1.6, 0.0]
    pose[0, J["pelvis"]] = [0.0, 1.0, 0.0]
    pose[0, J["left_shoulder"]] = [0.2, 1.45, 0.0]
    pose[0, J["left_wrist"]] = [0.7, 1.45, 0.3]
    pose[0, J["right_shoulder"]] = [-0.2, 1.45, 0.0]
    pose[0, J["right_wrist"]] = [-0.2, 0.9, 0.0]
    pose[0, J["left_ankle"]] = [0.1, 0.05, 0.0]
    pose[0, J["right_ankle"]] = [-0.1, 0.05, 0.0]
    stick = to_stick(pose)
    assert stick.shape == (1, STICK_DIM)
    want = [0, 1.5, 0, 1.61, 0, 1.5, 0, 1.0, 0.2, 1.45, 0.7, 1.45, -0.2, 1.45, -0.2, 0.9,
            0.1, 0.05, -0.1, 0.05]  # fmt: skip
    np.testing.assert_allclose(stick[0], want, atol=1e-9)
    # A camera shifted by (0.5, 1) and zoomed 2x; then one turned 90 degrees: depth (z)
    # becomes the horizontal axis.
    moved = to_stick(pose, StickCamera(x=0.5, y=1.0, zoom=2.0))
    np.testing.assert_allclose(moved[0, 10:12], [(0.7 - 0.5) * 2, (1.45 - 1.0) * 2])
    turned = to_stick(pose, StickCamera(yaw=np.pi / 2))
    np.testing.assert_allclose(turned[0, 10], -0.3, atol=1e-9)
    assert set(segments(stick)) == {"head", "torso", "left_arm", "right_arm", "legs"}


def test_physics_features() -> None:
    pos = np.zeros((20, 22, 3))
    pos[:, :, 0] = np.arange(20)[:, None] * 0.1  # 2 m/s along x at 20 fps
    f = physics(pos, 20.0)
    assert f.shape == (20, 6)
    np.testing.assert_allclose(f[:, 0], 2.0)
    np.testing.assert_allclose(f[:, 2], 0.0, atol=1e-9)
    np.testing.assert_allclose(f[:, 4], 140.0)  # 70 kg x 2 m/s


def test_render(tmp_path) -> None:
    walk = to_stick(synth_motion("walk", seconds=1.0, seed=0).positions)
    wave = to_stick(synth_motion("wave", seconds=1.0, seed=1).positions, StickCamera(x=-0.8))
    scene = Scene([Actor(walk, expression="happy"),
                   Actor(wave, expression=["sad"] * 10 + ["surprised"] * 11,
                         talking=np.ones(21, bool), colour=(150, 30, 30))],
                  width=960, captions=[(0.0, 1.0, "hello")])  # fmt: skip
    frame = draw_frame(scene, 0.5)
    assert frame.shape == (480, 960, 3) and frame.dtype == np.uint8
    assert (frame.reshape(-1, 3).min(axis=1) < 100).mean() > 0.001  # strokes were drawn
    out = render_scene(scene, tmp_path / "s.mp4")
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    frames = sum(1 for _ in reader)
    # 26 frames are written (0 to 1 s at 25 fps); the reader may drop the last one.
    assert meta["size"] == (960, 480) and meta["fps"] == 25.0 and frames in (25, 26)
    with pytest.raises(InputError, match="640x480"):
        render_scene(Scene([Actor(walk)], width=800, height=600), tmp_path / "x.mp4")
    with pytest.raises(InputError, match="expression"):
        render_scene(Scene([Actor(walk, expression="smug")]), tmp_path / "y.mp4")
    with pytest.raises(InputError, match="MP4"):
        render_scene(Scene([Actor(walk)]), tmp_path / "z.gif")
