"""Rendering to MP4 / GIF / PNG: frame counts, audio, errors, and which side is which."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import soundfile

import motiongen
from motiongen.canonical import rotate_y
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.io import render
from motiongen.io.render import render_frame, render_video, save_png
from motiongen.motion import AudioRef, Motion
from motiongen.paths import data_dir
from motiongen.skeleton import JOINT_INDEX, JOINT_NAMES

STAND = {
    "pelvis": (0.0, 0.93, 0.0),
    "left_hip": (0.09, 0.85, 0.0),
    "right_hip": (-0.09, 0.85, 0.0),
    "spine1": (0.0, 1.03, -0.01),
    "left_knee": (0.1, 0.48, 0.01),
    "right_knee": (-0.1, 0.48, 0.01),
    "spine2": (0.0, 1.16, 0.0),
    "left_ankle": (0.1, 0.08, -0.03),
    "right_ankle": (-0.1, 0.08, -0.03),
    "spine3": (0.0, 1.22, 0.01),
    "left_foot": (0.11, 0.02, 0.1),
    "right_foot": (-0.11, 0.02, 0.1),
    "neck": (0.0, 1.44, 0.0),
    "left_collar": (0.08, 1.36, 0.0),
    "right_collar": (-0.08, 1.36, 0.0),
    "head": (0.0, 1.55, 0.03),
    "left_shoulder": (0.18, 1.38, -0.01),
    "right_shoulder": (-0.18, 1.38, -0.01),
    "left_elbow": (0.22, 1.12, -0.02),
    "right_elbow": (-0.22, 1.12, -0.02),
    "left_wrist": (0.24, 0.88, 0.02),
    "right_wrist": (-0.24, 0.88, 0.02),
}
STAND_POSE = np.array([STAND[name] for name in JOINT_NAMES])


def walking(frames: int = 30, fps: float = 30.0) -> Motion:
    """A crude walk along +Z at 1.2 m/s: legs and arms swing in opposite phase."""
    t = np.arange(frames) / fps
    phase = 2 * np.pi * 1.8 * t
    pos = np.repeat(STAND_POSE[None], frames, axis=0)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = sign * np.sin(phase)
        for joint, reach in (("knee", 0.15), ("ankle", 0.3), ("foot", 0.3)):
            pos[:, JOINT_INDEX[f"{side}_{joint}"], 2] += reach * swing
        for joint, reach in (("elbow", 0.08), ("wrist", 0.16)):
            pos[:, JOINT_INDEX[f"{side}_{joint}"], 2] -= reach * swing
    pos[..., 2] += 1.2 * t[:, None]
    return Motion(positions=pos, fps=fps, texts=["a person walks forward"], name="walk")


def _near(image: np.ndarray, colour: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.abs(image.astype(int) - np.array(colour)).sum(axis=-1) < tol


def _audio_streams(path: Path) -> list[str]:
    """Lines of ffmpeg's stream listing that describe audio streams."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in proc.stderr.splitlines() if "Stream #" in line and "Audio:" in line]


def _decode_audio(path: Path, rate: int = 8000) -> np.ndarray:
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-vn", "-ac", "1"]
        + ["-ar", str(rate), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, dtype=np.float32)


def _two_tone_wav(path: Path, rate: int = 8000) -> Path:
    """1 s of 440 Hz then 1 s of 1000 Hz: which tone comes out shows where the cut started."""
    t = np.arange(rate) / rate
    signal = np.concatenate([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 1000 * t)])
    soundfile.write(path, 0.5 * signal, rate)
    return path


def _dominant_hz(signal: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.fft.rfftfreq(len(signal), 1 / rate)[spectrum.argmax()])


# ---- pictures --------------------------------------------------------------------------
def test_render_frame_not_blank_and_sized() -> None:
    image = render_frame(walking(), 10, width=320, height=240)
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    assert _near(image, render.LEFT).sum() > 50
    assert _near(image, render.RIGHT).sum() > 50
    assert _near(image, render.SHADOW, tol=12).sum() > 20  # the floor shadow is drawn


@pytest.mark.parametrize("turn, left_on_right", [(0.0, True), (np.pi, False)])
def test_left_side_appears_where_the_camera_sees_it(turn: float, left_on_right: bool) -> None:
    # Facing +Z the figure faces the camera, so its left (+X) is on the image's right;
    # turned around it shows its back and its left is on the image's left.
    motion = Motion(positions=rotate_y(STAND_POSE[None].repeat(2, axis=0), turn), fps=30)
    image = render_frame(motion, 0, width=320, height=240)
    left_x = np.nonzero(_near(image, render.LEFT))[1].mean()
    right_x = np.nonzero(_near(image, render.RIGHT))[1].mean()
    assert (left_x > right_x) == left_on_right


def test_figure_is_upright() -> None:
    image = render_frame(Motion(positions=STAND_POSE[None], fps=30), 0, width=320, height=240)
    head_rows = np.nonzero(_near(image, render.CENTRE, tol=20))[0]
    leg_rows = np.nonzero(_near(image, render.LEFT))[0]
    assert np.median(head_rows) < np.median(leg_rows)


def test_render_frame_bad_index() -> None:
    with pytest.raises(InputError, match="outside"):
        render_frame(walking(frames=5), 5)
    assert render_frame(walking(frames=5), -1, width=128, height=96).shape == (96, 128, 3)


def test_save_png_contact_sheet(tmp_path: Path) -> None:
    path = save_png(walking(), tmp_path / "sheet.png", frames=4, width=160, height=200)
    assert iio.imread(path).shape == (200, 4 * 160, 3)
    path = save_png(walking(), tmp_path / "two.png", frames=[0, -1], width=160, height=200)
    assert iio.imread(path).shape == (200, 2 * 160, 3)


# ---- video files -------------------------------------------------------------------------
def test_mp4_has_one_frame_per_motion_frame(tmp_path: Path) -> None:
    path = render_video(walking(frames=24, fps=24), tmp_path / "walk.mp4", width=320, height=240)
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 24 and seconds == pytest.approx(1.0, abs=0.05)
    assert not _audio_streams(path)
    assert [p.name for p in tmp_path.iterdir()] == ["walk.mp4"]  # temp files cleaned up


def test_mp4_fps_resamples_keeping_duration(tmp_path: Path) -> None:
    path = render_video(walking(frames=30), tmp_path / "walk.mp4", fps=10, width=160, height=120)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 10


def test_gif_is_subsampled_to_at_most_20_fps(tmp_path: Path) -> None:
    path = motiongen.save(walking(frames=30, fps=30), tmp_path / "walk.gif", width=160, height=120)
    frames = iio.imread(path, index=None)
    assert frames.shape == (20, 120, 160, 3)
    assert iio.immeta(path)["duration"] == 50


def test_gif_runs_as_long_as_the_motion_at_any_frame_rate(tmp_path: Path) -> None:
    from PIL import Image

    from motiongen.io.render import gif_durations

    assert sum(gif_durations(70, 7.0)) == 10_000  # one rounded 140 ms a frame gave 9.8 s
    assert all(d % 10 == 0 for d in gif_durations(70, 7.0))
    motion = walking(frames=30, fps=30)  # 1 s
    path = motiongen.save(motion, tmp_path / "slow.gif", fps=7, width=96, height=72)
    with Image.open(path) as gif:
        total = 0
        for i in range(gif.n_frames):
            gif.seek(i)
            total += gif.info["duration"]
    assert total == pytest.approx(1000, abs=10)
    with pytest.raises(InputError, match="at most 20 fps"):  # 10 ms delays play at ~100 ms
        motiongen.save(motion, tmp_path / "fast.gif", fps=60, width=96, height=72)


def test_mp4_with_audio_starts_at_the_offset(tmp_path: Path) -> None:
    wav = _two_tone_wav(tmp_path / "tones.wav")
    motion = walking(frames=15, fps=30)  # 0.5 s
    motion.audio = AudioRef(str(wav), 1.2)  # inside the 1000 Hz half
    path = render_video(motion, tmp_path / "with_audio.mp4", width=160, height=120)
    assert len(_audio_streams(path)) == 1
    audio = _decode_audio(path)
    assert len(audio) == pytest.approx(0.5 * 8000, rel=0.1)
    assert _dominant_hz(audio[500:-500]) == pytest.approx(1000, abs=20)

    motion.audio = AudioRef(str(wav), 0.2)  # inside the 440 Hz half
    audio = _decode_audio(render_video(motion, tmp_path / "early.mp4", width=160, height=120))
    assert _dominant_hz(audio[500:-500]) == pytest.approx(440, abs=20)

    silent = render_video(motion, tmp_path / "silent.mp4", audio=False, width=160, height=120)
    assert not _audio_streams(silent)


def test_missing_audio_fails_before_rendering(tmp_path: Path) -> None:
    motion = walking(frames=5)
    motion.audio = AudioRef(str(tmp_path / "nowhere.ogg"), 0.0)
    with pytest.raises(DataNotFoundError, match="audio file not found"):
        render_video(motion, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()
    # GIF has no sound, and audio=False skips it
    render_video(motion, tmp_path / "x.gif", width=96, height=96)
    render_video(motion, tmp_path / "y.mp4", audio=False, width=96, height=96)


def test_unreadable_audio_and_bad_offset(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_text("this is not audio")
    motion = walking(frames=5)
    motion.audio = AudioRef(str(junk), 0.0)
    with pytest.raises(FormatError, match="cannot read audio file junk.wav"):
        render_video(motion, tmp_path / "x.mp4")
    motion.audio = AudioRef(str(_two_tone_wav(tmp_path / "t.wav")), 5.0)
    with pytest.raises(InputError, match="past the end"):
        render_video(motion, tmp_path / "x.mp4")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=".mp4 or .gif"):
        render_video(walking(frames=3), tmp_path / "x.avi")
    with pytest.raises(InputError, match="outside 64x64"):
        render_video(walking(frames=3), tmp_path / "x.mp4", width=10)
    with pytest.raises(InputError, match="frame rate"):
        render_video(walking(frames=3), tmp_path / "x.mp4", fps=0)


@pytest.mark.realdata
def test_real_humanml3d_sample_renders(tmp_path: Path) -> None:
    sample = data_dir() / "humanml3d-sample" / "new_joints" / "012314.npy"
    if not sample.is_file():
        pytest.skip(f"HumanML3D sample not found under {data_dir()}")
    motion = motiongen.load(sample)
    path = render_video(motion, tmp_path / "sample.mp4", width=320, height=240)
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (170, pytest.approx(8.5, abs=0.05))
    image = render_frame(motion, 0)
    assert _near(image, render.LEFT).sum() > 200 and _near(image, render.RIGHT).sum() > 200


def test_a_timeline_video_names_the_segment_playing():
    from motiongen.data.synthetic import synth_motion
    from motiongen.io.render import _scene

    m = synth_motion("walk", seconds=4.0, seed=0)
    m.meta["segments"] = [["a person walks", 1.5], ["a person waves", 2.5]]
    scene = _scene(m, None, 320, 240, None, False)
    assert scene._segment_title(0) == "1/2: a person walks"
    assert scene._segment_title(int(1.6 * m.fps)) == "2/2: a person waves"
    assert scene._segment_title(m.num_frames - 1) == "2/2: a person waves"
    first, later = (render_frame(m, i, width=320, height=240) for i in (0, int(3 * m.fps)))
    assert not np.array_equal(first[:20], later[:20])  # the title band differs
    assert _scene(m, None, 320, 240, "my title", False).segments is None  # a title given wins


def test_a_timeline_picture_drops_the_title_its_segments_replace():
    from motiongen.data.synthetic import synth_motion
    from motiongen.io.render import picture_title

    m = synth_motion("walk", seconds=4.0, seed=0)
    assert picture_title(m, "a person walks, then waves") == "a person walks, then waves"
    m.meta["segments"] = [["a person walks", 1.5], ["a person waves", 2.5]]
    assert picture_title(m, "a person walks, then waves") is None
    # a loop of it has no segments: the prompt names it (its first text had, a review)
    looped = m.looped(min_seconds=1.5)
    assert picture_title(looped, "a person walks, then waves") == "a person walks, then waves"


def test_a_timeline_contact_sheet_shows_every_segment():
    from motiongen.data.synthetic import synth_motion
    from motiongen.io.render import contact_frames

    m = synth_motion("walk", seconds=9.0, seed=0)  # 180 frames
    assert contact_frames(m, 5) == [0, 45, 90, 134, 179]
    # a short stop between longer actions falls between the even panels: its middle is added
    m.meta["segments"] = [["a person jogs", 4.6], ["a person stops", 0.6], ["a person bows", 3.8]]
    assert contact_frames(m, 5) == [0, 45, 90, 98, 134, 179]
    with pytest.raises(InputError, match="at least 1"):
        contact_frames(m, 0)


def test_a_timeline_contact_sheet_names_the_segment_on_every_panel(tmp_path):
    import imageio.v3 as iio

    from motiongen.data.synthetic import synth_motion

    m = synth_motion("walk", seconds=4.0, seed=0)
    plain = iio.imread(save_png(m, tmp_path / "plain.png", frames=2, width=320, height=240))
    m.meta["segments"] = [["a person walks", 1.5], ["a person waves", 2.5]]
    named = iio.imread(save_png(m, tmp_path / "named.png", frames=2, width=320, height=240))
    # the second panel's title band: empty for one motion, "2/2: a person waves" for a timeline
    assert np.array_equal(plain[:20, 330:], plain[:20, 330 : 330 + 1].repeat(310, axis=1))
    assert not np.array_equal(named[:20, 330:], plain[:20, 330:])
    # any other long title runs on across the sheet, not cut at the first panel (restyles'
    # sheets all read "a person waves with the right hand in a s…": an animator's trial)
    m.meta.pop("segments")
    long = "a person waves with the right hand in a very sad and tired way, slowly"
    titled = iio.imread(save_png(m, tmp_path / "long.png", frames=2, width=320, height=240,
                                 title=long))  # fmt: skip
    assert not np.array_equal(titled[:20, 330:], plain[:20, 330:])


def test_an_excerpt_s_panels_count_in_the_whole_motion(tmp_path, monkeypatch):
    from motiongen.data.synthetic import synth_motion
    from motiongen.io import render

    m = synth_motion("walk", seconds=6.0, seed=0)
    piece = m.crop(48, 74)
    assert render._scene(piece, None, 320, 240, None, False).frame_label(0).split() == [
        "frame", "1/26", "0.00", "s", "/", "1.30", "s"
    ]  # fmt: skip
    scene = render._scene(piece, None, 320, 240, None, False, excerpt=(2.4, 6.0))
    assert scene.frame_label(0).split()[:4] == ["frame", "49/120", "2.40", "s"]
    # what render --start passes the sheet
    seen = {}
    monkeypatch.setattr(render, "_scene", lambda *a, **k: seen.update(k) or scene)
    save_png(piece, tmp_path / "p.png", frames=2, excerpt=(2.4, 6.0))
    assert seen["excerpt"] == (2.4, 6.0)
