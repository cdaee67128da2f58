"""Capture: keypoint readers and their errors, camera geometry, Kalman fusion (with IMU), the
lifter's input/output conventions and the whole chain through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motiongen.capture.camera import coco_points, film, look_at
from motiongen.capture.fusion import smooth
from motiongen.capture.imu import read_imu
from motiongen.capture.keypoints import COCO17, checked, read_keypoints
from motiongen.capture.lifter import (
    Lifter,
    level_frame,
    normalise,
    positions_from,
    save_lifter,
    targets,
)
from motiongen.capture.pipeline import capture, resample
from motiongen.data.synthetic import synth_motion
from motiongen.errors import FormatError, InputError
from motiongen.skeleton import JOINT_INDEX
from tests.cli_helpers import error_line, run


def frames_array(T: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((T, 17, 3))
    out[..., 0] = rng.uniform(800, 1100, (T, 17))
    out[..., 1] = rng.uniform(300, 900, (T, 17))
    out[..., 2] = 0.9
    return out


# ---- readers ------------------------------------------------------------------------------
def test_json_coco_nested_and_flat(tmp_path) -> None:
    data = frames_array()
    nested = tmp_path / "a.json"
    nested.write_text(json.dumps({"fps": 30, "width": 1920, "height": 1080,
                                  "frames": data.tolist()}))  # fmt: skip
    flat = tmp_path / "b.json"
    flat.write_text(json.dumps({"fps": 30, "frames": [{"keypoints": f.ravel().tolist()}
                                                      for f in data]}))  # fmt: skip
    a, b = read_keypoints(nested), read_keypoints(flat, width=1920, height=1080)
    assert a.xy.shape == (10, 17, 2) and a.fps == 30
    np.testing.assert_allclose(a.xy, b.xy)
    np.testing.assert_allclose(a.conf, 0.9)


def test_mediapipe_normalised(tmp_path) -> None:
    rng = np.random.default_rng(1)
    frames = [[[float(x), float(y), 0.8] for x, y in rng.uniform(0.2, 0.8, (33, 2))]
              for _ in range(5)]  # fmt: skip
    path = tmp_path / "mp.json"
    path.write_text(json.dumps({"fps": 25, "layout": "mediapipe33", "frames": frames}))
    with pytest.raises(InputError, match="image size"):
        read_keypoints(path)
    k = read_keypoints(path, width=1000, height=500)
    assert k.xy.shape == (5, 17, 2)
    assert k.xy[0, 0, 0] == pytest.approx(frames[0][0][0] * 1000)  # the nose
    assert k.xy[0, 5, 1] == pytest.approx(frames[0][11][1] * 500)  # left shoulder = 11


def test_csv_wide_and_long(tmp_path) -> None:
    data = frames_array(4)
    wide = tmp_path / "w.csv"
    header = ",".join(f"{j}_x,{j}_y,{j}_c" for j in COCO17)
    rows = [",".join(f"{v:.3f}" for v in f.ravel()) for f in data]
    wide.write_text(header + "\n" + "\n".join(rows) + "\n")
    long = tmp_path / "l.csv"
    lines = ["frame,joint,x,y,confidence"] + [
        f"{t},{j},{data[t, k, 0]:.3f},{data[t, k, 1]:.3f},{data[t, k, 2]}"
        for t in range(4) for k, j in enumerate(COCO17)
    ]  # fmt: skip
    long.write_text("\n".join(lines) + "\n")
    a, b = read_keypoints(wide, fps=20), read_keypoints(long, fps=20)
    np.testing.assert_allclose(a.xy, b.xy, atol=1e-3)
    # Frames a detector left out (no person) are kept as unseen frames, not dropped.
    gaps = tmp_path / "gaps.csv"
    gaps.write_text("frame,joint,x,y,confidence\n0,nose,10,20,0.9\n0,left_hip,5,50,0.9\n"
                    "4,nose,12,21,0.9\n4,left_hip,6,51,0.9\n")  # fmt: skip
    k = read_keypoints(gaps, fps=20)
    assert k.num_frames == 5 and (k.conf[1:4] == 0).all() and k.conf[4, 0] == 0.9
    shouted = tmp_path / "s.csv"  # headers as another tool writes them
    shouted.write_text(header.upper().replace(",", ", ") + "\n" + "\n".join(rows) + "\n")
    np.testing.assert_allclose(read_keypoints(shouted, fps=20).xy, a.xy)
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,joint,x,y\n0,nose,1,2\n0,tail,3,4\n")
    with pytest.raises(InputError, match="tail"):
        read_keypoints(bad, fps=20)


def test_openpose_folder(tmp_path) -> None:
    for t in range(3):
        flat = np.zeros((25, 3))
        flat[:, 0], flat[:, 1], flat[:, 2] = 500 + t, np.arange(25) * 10 + 100, 0.7
        person = {"people": [{"pose_keypoints_2d": flat.ravel().tolist()}]}
        (tmp_path / f"v_{t:012d}_keypoints.json").write_text(json.dumps(person))
    (tmp_path / f"v_{3:012d}_keypoints.json").write_text(json.dumps({"people": []}))
    k = read_keypoints(tmp_path, fps=30)
    assert k.num_frames == 4
    assert k.xy[0, 5, 1] == pytest.approx(5 * 10 + 100)  # BODY_25 5 = left shoulder
    assert k.xy[0, 11, 1] == pytest.approx(12 * 10 + 100)  # BODY_25 12 = left hip
    assert (k.conf[3] == 0).all() and any("without a usable" in r for r in k.report)


def test_unsaid_normalised_coordinates_and_a_zero_size_option(tmp_path) -> None:
    path = tmp_path / "n.json"
    small = frames_array(3)
    small[..., :2] /= 2000.0  # pixels said as 0..1, nowhere flagged
    path.write_text(json.dumps({"fps": 30, "frames": small.tolist()}))
    k = read_keypoints(path)
    assert any("within 0..1" in r for r in k.report)
    with pytest.raises(InputError, match="--width must be a positive"):
        read_keypoints(path, width=0)


def with_frames(fields: str) -> str:
    """A keypoints JSON file's text: ``fields`` (each followed by ", ") then 3 good frames."""
    return "{" + fields + '"frames": ' + json.dumps(frames_array(3).tolist()) + "}"


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        ("{not json", FormatError, "not valid JSON"),
        ('{"fps": 30, "frames": []}', FormatError, "no frames"),
        ('{"fps": 30, "frames": [[[1, 2, 0.5]]]}', FormatError, "joints"),
        ('{"fps": 30, "layout": "body99", "frames": [[[1, 2, 0.5]]]}', InputError, "layout"),
        (with_frames(""), InputError, "frame rate"),
        ('{"fps": 30, "frames": [1, 2]}', FormatError, "frame 0"),
        ('{"fps": 30, "frames": ["1.5", "2"]}', FormatError, "frame 0"),
        (
            with_frames('"fps": "abc", '),
            FormatError,
            "fps",
        ),
        (
            with_frames('"fps": 30, "width": [1], '),
            FormatError,
            "width",
        ),
        ('{"fps": 30, "layout": 5, "frames": [[[1, 2, 0.5]]]}', FormatError, "layout"),
        ('{"people": ["x"]}', FormatError, "people"),
        # a rate of 0 is a wrong rate, not a missing one (it was "does not give its frame rate")
        (
            with_frames('"fps": 0, '),
            InputError,
            "must be 1..1000 fps, got 0",
        ),
        (
            with_frames('"fps": 30, "width": 0, '),
            InputError,
            "width must be a positive number of pixels",
        ),
    ],
)
def test_bad_files(tmp_path, content, error, words) -> None:
    path = tmp_path / "k.json"
    path.write_text(content)
    with pytest.raises(error, match=words):
        read_keypoints(path)


def test_a_bad_fps_is_refused_even_where_the_file_gives_its_own(tmp_path) -> None:
    path = tmp_path / "k.json"
    path.write_text(with_frames('"fps": 30, '))
    with pytest.raises(InputError, match="1..1000 fps, got 0"):
        read_keypoints(path, fps=0)
    assert read_keypoints(path, fps=25).fps == 30  # the file's own rate wins over a fallback


def test_confidences_outside_0_1_are_clipped_and_said() -> None:
    raw = frames_array(6)
    raw[:, :, 2] = 5.0
    k = checked(raw, 30.0, 1920, 1080, False)
    assert (k.conf == 1.0).all() and any("outside 0..1" in r for r in k.report)


def test_zero_confidences_and_partial_frames() -> None:
    raw = frames_array(6)
    raw[..., 2] = 0.0
    with pytest.raises(InputError, match="confidence 0"):
        checked(raw, 30.0, 1920, 1080, False)
    raw = frames_array(6)
    raw[2, 3] = np.nan
    raw[4, 7, 0] = 1e7  # far outside the image
    k = checked(raw, 30.0, 1920, 1080, False)
    assert k.conf[2, 3] == 0 and k.conf[4, 7] == 0 and k.conf[0, 0] > 0
    assert len(k.report) == 2


# ---- geometry -----------------------------------------------------------------------------
def test_projection_of_known_points() -> None:
    camera = look_at(np.array([0.0, 1.0, -5.0]), np.array([0.0, 1.0, 0.0]), focal=1000.0)
    px = camera.project(np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 2.0, 0.0]]))
    centre = np.array([960.0, 540.0])
    np.testing.assert_allclose(px[0], centre, atol=1e-9)
    # 1 m to the world's +X at 5 m: the camera looks along +Z, so +X is to the image's left.
    np.testing.assert_allclose(px[1], centre + [-200.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(px[2], centre + [0.0, -200.0], atol=1e-9)  # up is image up


def test_coco_points_and_level_frame() -> None:
    motion = synth_motion("walk", seconds=2.0, seed=0).positions.astype(np.float64)
    pts = coco_points(motion)
    np.testing.assert_allclose(pts[:, 9], motion[:, JOINT_INDEX["left_wrist"]])
    assert (pts[:, 0, 1] > motion[:, JOINT_INDEX["neck"], 1]).all()  # the nose above the neck
    camera = look_at(np.array([3.0, 1.8, -4.0]), np.array([0.0, 0.9, 0.0]), focal=1200.0)
    frame = level_frame(camera.rotation)
    np.testing.assert_allclose(frame @ frame.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(frame) == pytest.approx(1.0)  # proper: nothing mirrored
    out = positions_from(targets(motion, frame).astype(np.float64))
    want = (motion - motion[0, 0] * np.array([1.0, 0.0, 1.0])) @ frame.T
    np.testing.assert_allclose(out, want, atol=1e-5)


def test_normalise_is_shift_and_scale_invariant() -> None:
    motion = synth_motion("wave", seconds=2.0, seed=1).positions.astype(np.float64)
    xy, conf, _ = film(motion, np.random.default_rng(0), noise=0.0, dropout=0.0)
    a = normalise(xy, conf)
    b = normalise(xy * 2.0 + 300.0, conf)
    np.testing.assert_allclose(a, b, atol=1e-4)


# ---- fusion -------------------------------------------------------------------------------
def test_smoothing_follows_confidence_and_imu() -> None:
    rng = np.random.default_rng(0)
    T, fps = 120, 20.0
    t = np.arange(T) / fps
    truth = np.zeros((T, 22, 3))
    truth[..., 0] = np.sin(2 * np.pi * 0.5 * t)[:, None]
    noisy = truth + rng.normal(0, 0.02, truth.shape)
    conf = np.ones((T, 22))
    out = smooth(noisy, conf, fps)
    assert np.abs(out - truth).mean() < 0.6 * np.abs(noisy - truth).mean()
    # A joint unseen for 1 s (confidence 0, its lifted value a bad guess): with an IMU the
    # track follows the sensor.
    j = JOINT_INDEX["right_wrist"]
    hidden = slice(40, 60)
    guess = noisy.copy()
    guess[hidden, j] += 0.3
    conf[hidden, j] = 0.0
    acc = np.gradient(np.gradient(truth[:, j], axis=0), axis=0) * fps * fps
    without = smooth(guess, conf, fps)
    with_imu = smooth(guess, conf, fps, imu={j: acc + rng.normal(0, 0.3, acc.shape)})
    err = lambda p: np.abs(p[hidden, j] - truth[hidden, j]).mean()  # noqa: E731
    assert err(with_imu) < 0.7 * err(without)


def test_imu_file_errors(tmp_path) -> None:
    good = tmp_path / "imu.csv"
    good.write_text("time,joint,ax,ay,az\n0,left_wrist,0,0,0\n0.5,left_wrist,1,0,0\n")
    streams = read_imu(good, 20.0, 20)
    acc = streams.acc
    assert streams.heading_known and acc[JOINT_INDEX["left_wrist"]].shape == (20, 3)
    assert np.isnan(acc[JOINT_INDEX["left_wrist"]][15]).all()  # after the stream: no reading
    for body, words in [
        ("time,joint,ax,ay,az\n0.5,left_wrist,0,0,0\n0.1,left_wrist,0,0,0\n", "increasing"),
        ("time,joint,ax,ay,az\n0,tail,0,0,0\n", "tail"),
        ("time,joint,ax,ay,az\n0,left_wrist,9810,0,0\n", "m/s"),
        ("time,joint,ax\n0,left_wrist,0\n", "columns"),
        ("time,joint,ax,ay,az,gx,gy,gz\n0,left_wrist,0,0,9.8,90,0,0\n", "rad/s"),
        (
            "time,joint,ax,ay,az,gx,gy,gz\n"
            + "".join(f"{i / 100},left_wrist,0,0,0.5,0,0,0\n" for i in range(20)),
            "gravity",
        ),
        ("time,joint,ax,ay,az,gx,gy,gz\n0,left_wrist,0,0,9.8,0,0,0\n", "10 samples"),
        ("time,joint,ax,ay,az,gx,gy\n0,left_wrist,0,0,9.8,0,0\n", "gz"),
        ("time,joint,ax,ay,az\n0,left_wrist,0,9.8,0\n0.5,left_wrist,0,9.7,0.2\n", "gravity"),
    ]:
        path = tmp_path / "bad.csv"
        path.write_text(body)
        with pytest.raises(InputError, match=words):
            read_imu(path, 20.0, 20)


def swinging_arm(frames: int = 200, fps: float = 20.0) -> np.ndarray:
    """(T, 22, 3): a forearm swinging and turning in front of a still body."""
    t = np.arange(frames)[:, None] / fps
    pos = np.zeros((frames, 22, 3))
    pos[:] = np.linspace(0.0, 1.6, 22)[None, :, None] * np.array([0.0, 1.0, 0.0])
    for side, sign in (("left", 1.0), ("right", -1.0)):
        elbow = np.array([0.2 * sign, 1.1, 0.0]) + 0.1 * np.concatenate(
            [np.sin(1.3 * t), np.zeros_like(t), np.cos(1.3 * t)], axis=1)  # fmt: skip
        phase = 2.1 * t + (0.0 if sign > 0 else 1.0)
        wrist = elbow + 0.28 * np.concatenate(
            [np.cos(phase) * np.cos(0.7 * t), np.sin(phase), np.sin(0.7 * t) * np.cos(phase)],
            axis=1,
        )
        pos[:, JOINT_INDEX[f"{side}_elbow"]] = elbow
        pos[:, JOINT_INDEX[f"{side}_wrist"]] = wrist
    return pos


def test_raw_imu_readings_become_level_acceleration(tmp_path) -> None:
    from scipy.interpolate import CubicSpline

    from motiongen.capture.camera import wrist_imu
    from motiongen.capture.imu import ImuStreams, align_headings, level_acceleration

    fps = 20.0
    pos = swinging_arm()
    t = np.arange(len(pos)) / fps
    j = JOINT_INDEX["right_wrist"]
    truth = CubicSpline(t, pos[:, j])(t, 2)
    times, acc, gyr = wrist_imu(pos, fps, "right", np.random.default_rng(0))
    level = level_acceleration(times, acc, gyr)
    # gravity is gone and up is up: the vertical part is right without any heading
    on_grid = np.stack([np.interp(t, times, level[:, k]) for k in range(3)], axis=1)
    inside = t <= times[-1]
    rms = lambda e: float(np.sqrt((e[inside] ** 2).mean()))  # noqa: E731
    assert rms(on_grid[:, 1] - truth[:, 1]) < 0.1 * rms(truth)
    # the sensor's own heading is unknown; the lifted joint's acceleration gives it
    streams = ImuStreams({j: np.where(inside[:, None], on_grid, np.nan)}, heading_known=False)
    aligned, notes = align_headings(streams, pos, np.ones((len(pos), 22)), fps)
    assert not notes and aligned.heading_known
    assert rms(aligned.acc[j] - truth) < 0.3 * rms(truth)  # sensor noise on a gentle swing
    # the same through a CSV file
    path = tmp_path / "raw.csv"
    rows = ["time,joint,ax,ay,az,gx,gy,gz"] + [
        f"{ti:.4f},right_wrist,{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},{g[0]:.5f},{g[1]:.5f},{g[2]:.5f}"
        for ti, a, g in zip(times, acc, gyr, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    read = read_imu(path, fps, len(pos))
    assert not read.heading_known and set(read.acc) == {j}
    # at rest with rounded (exactly zero) gyro readings, tilted: gravity still comes off
    tilt = np.array([0.0, 9.80665 * np.sin(0.3), 9.80665 * np.cos(0.3)])
    still = level_acceleration(np.arange(300) / 100, np.tile(tilt, (300, 1)), np.zeros((300, 3)))
    assert np.abs(still).max() < 0.05
    # a sensor on a joint never seen with confidence cannot be placed: left out, said so
    _, notes = align_headings(read, pos, np.zeros((len(pos), 22)), fps)
    assert notes and "right_wrist" in notes[0]


# ---- the chain ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lifter_dir(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    return save_lifter(Lifter(), tmp_path_factory.mktemp("lifter") / "lifter", {"step": 0})


def test_capture_chain_and_cli(lifter_dir, tmp_path, monkeypatch, capsys) -> None:
    motion = synth_motion("walk", seconds=3.0, seed=2).positions.astype(np.float64)
    xy, conf, camera = film(motion, np.random.default_rng(3), noise=0.005, dropout=0.02)
    path = tmp_path / "k.json"
    frames = np.concatenate([xy, conf[..., None]], axis=-1)
    path.write_text(json.dumps({"fps": 20, "width": camera.width, "height": camera.height,
                                "frames": frames.tolist()}))  # fmt: skip
    from motiongen.capture.lifter import load_lifter

    points = read_keypoints(path)
    assert len(resample(points)[0]) == 60
    result = capture(points, lifter=load_lifter(lifter_dir))
    assert result.num_frames == 60 and result.fps == 20.0
    out = tmp_path / "out.npz"
    code, stdout, stderr = run(["capture", path, "-o", out, "--lifter", lifter_dir],
                               monkeypatch, capsys)  # fmt: skip
    assert code == 0, stderr
    assert out.is_file() and "60 frames" in stdout
    imu = tmp_path / "imu.csv"  # a wrist sensor: the summary counts it (it once crashed there)
    imu.write_text(
        "time,joint,ax,ay,az\n" + "".join(f"{i / 20},left_wrist,0,0,0\n" for i in range(60))
    )
    code, stdout, stderr = run(["capture", path, "-o", out, "--lifter", lifter_dir, "--imu", imu],
                               monkeypatch, capsys)  # fmt: skip
    assert code == 0, stderr
    assert "IMU on 1 joint(s)" in stdout
    code, _, stderr = run(["capture", tmp_path / "none.json", "-o", out, "--lifter", lifter_dir],
                          monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "not found" in error_line(stderr)
    code, _, stderr = run(["capture", path, "-o", tmp_path / "x.doc"], monkeypatch, capsys)
    assert code == 1 and ".bvh" in error_line(stderr)


def test_stream_frame_by_frame(lifter_dir) -> None:
    import time

    from motiongen.capture.lifter import load_lifter
    from motiongen.capture.stream import CaptureStream

    motion = synth_motion("walk", seconds=2.0, seed=4).positions.astype(np.float64)
    xy, conf, _ = film(motion, np.random.default_rng(5), noise=0.005, dropout=0.0)
    stream = CaptureStream(load_lifter(lifter_dir), fps=20.0)
    poses, took = [], []
    for t in range(len(xy)):
        t0 = time.perf_counter()
        poses.append(stream.push(xy[t], conf[t]))
        took.append(time.perf_counter() - t0)
    assert np.stack(poses).shape == (40, 22, 3) and np.isfinite(poses).all()
    with pytest.raises(InputError, match="after the previous"):
        stream.push(xy[0], conf[0], time=0.5)
    with pytest.raises(InputError, match="17 points"):
        stream.push(xy[0, :5], conf[0, :5])
    with pytest.raises(InputError, match="finite"):
        stream.push(xy[0], conf[0], time=float("nan"))


def bouncing(seconds: float, hz: float, fps: float = 20.0) -> np.ndarray:
    """A standing body bobbing up and down, stopping sharply ``hz`` times a second."""
    base = synth_motion("walk", seconds=0.5, seed=0).positions[:1].astype(np.float64)
    t = np.arange(int(seconds * fps)) / fps
    phase = (t * hz) % 1.0
    height = 0.15 * np.sin(np.pi * phase) ** 0.5  # fast at the start of each beat, a stop at 0
    return base + height[:, None, None] * np.array([0.0, 1.0, 0.0])


def test_beat_sync_moves_accents_onto_beats_within_the_bound() -> None:
    from motiongen.postprocess.beat_sync import accent_times, beat_sync, hit_rate

    motion = bouncing(10.0, 2.0)
    beats = np.arange(0.3, 12.0, 1 / 2.3)  # the music is faster and offset
    before = hit_rate(accent_times(motion, 20.0)[0], beats[beats <= 10.0])
    out = beat_sync(motion, 20.0, beats)
    slope = np.diff(out.time_map) * 20.0
    assert slope.min() >= 1 / 1.25 - 1e-6 and slope.max() <= 1.25 + 1e-6
    assert np.all(np.diff(out.time_map) >= 0)
    assert out.beats_hit > before + 0.2
    with pytest.raises(InputError, match="4 music beats"):
        beat_sync(motion, 20.0, np.array([1.0, 2.0]))


def test_capture_cli_with_music(lifter_dir, tmp_path, monkeypatch, capsys) -> None:
    from tests.serve_helpers import write_song

    motion = synth_motion("walk", seconds=4.0, seed=2).positions.astype(np.float64)
    xy, conf, camera = film(motion, np.random.default_rng(3), noise=0.005, dropout=0.0)
    path = tmp_path / "k.json"
    frames = np.concatenate([xy, conf[..., None]], axis=-1)
    path.write_text(json.dumps({"fps": 20, "frames": frames.tolist()}))
    song = write_song(tmp_path / "song.wav", seconds=6.0, bpm=120)
    out = tmp_path / "out.motion"
    code, stdout, stderr = run(["capture", path, "-o", out, "--lifter", lifter_dir,
                                "--audio", song], monkeypatch, capsys)  # fmt: skip
    assert code == 0, stderr
    assert "beats" in stdout and out.is_file()
    # a retiming that lands no more accents on beats leaves the capture's timing alone
    from motiongen.postprocess import beat_sync as beatsync

    plain = tmp_path / "plain.npy"  # raw arrays: this test's small lifter makes odd bodies
    assert run(["capture", path, "-o", plain, "--lifter", lifter_dir], monkeypatch, capsys)[0] == 0
    captured = np.load(plain)
    worse = beatsync.Retiming(positions=captured[::2], time_map=np.zeros(1),
                              beats_hit=0.4, beats_hit_before=0.44)  # fmt: skip
    monkeypatch.setattr(beatsync, "beat_sync", lambda *a, **k: worse)
    kept = tmp_path / "kept.npy"
    code, stdout, stderr = run(["capture", path, "-o", kept, "--lifter", lifter_dir,
                                "--audio", song], monkeypatch, capsys)  # fmt: skip
    assert code == 0 and "timing kept" in " ".join(stdout.split()), stderr
    np.testing.assert_allclose(np.load(kept), captured, atol=1e-5)


def test_rest_capture(tmp_path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from motiongen.serve import ServeSettings, create_app
    from tests.serve_helpers import assert_error

    motion = synth_motion("walk", seconds=3.0, seed=2).positions.astype(np.float64)
    xy, conf, camera = film(motion, np.random.default_rng(3), noise=0.005, dropout=0.0)
    body = json.dumps({"fps": 20, "frames": np.concatenate([xy, conf[..., None]], -1).tolist()})
    imu = "time,joint,ax,ay,az\n0,left_wrist,0,0,0\n2.5,left_wrist,0.5,0,0\n"
    with TestClient(create_app(ServeSettings(store=tmp_path / "store"))) as client:
        answer = client.post("/capture", files={"keypoints": ("k.json", body),
                                                "imu": ("imu.csv", imu)})  # fmt: skip
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data["num_frames"] == 60 and data["meta"]["imu_joints"] == [20]
        bvh = client.post("/capture", files={"keypoints": ("k.json", body)},
                          data={"format": "bvh"})  # fmt: skip
        assert bvh.status_code == 200 and bvh.text.startswith("HIERARCHY")
        assert_error(client.post("/capture", files={"keypoints": ("k.txt", body)}), 415, ".json")
        assert_error(client.post("/capture", files={"keypoints": ("k.json", "{bad")}), 422, "JSON")
        assert_error(client.post("/capture", json={"keypoints": 1}), 415, "multipart")
        # fields it does not read, or sent twice, are refused as /dance refuses them
        assert_error(client.post("/capture", files={"keypoints": ("k.json", body)},
                                 data={"bogus": "1"}), 422, "unknown field(s) 'bogus'")  # fmt: skip
        assert_error(client.post("/capture", files=[("keypoints", ("k.json", body)),
                                                    ("keypoints", ("k.json", body))]),
                     422, "sent more than once")  # fmt: skip
        no_fps = json.dumps({"frames": json.loads(body)["frames"]})
        assert_error(client.post("/capture", files={"keypoints": ("k.json", no_fps)}), 422,
                     "frame rate")  # fmt: skip
        assert not list((tmp_path / "store" / "uploads").glob("*/*"))  # nothing left behind


def test_rest_capture_runs_long_recordings_as_jobs(tmp_path, monkeypatch) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from motiongen.serve import ServeSettings, create_app
    from motiongen.serve import capture as serve_capture
    from tests.test_serve_api import wait_job as wait_for_job

    motion = synth_motion("walk", seconds=3.0, seed=2).positions.astype(np.float64)
    xy, conf, _ = film(motion, np.random.default_rng(3), noise=0.005, dropout=0.0)
    body = json.dumps({"fps": 20, "frames": np.concatenate([xy, conf[..., None]], -1).tolist()})
    imu = "time,joint,ax,ay,az\n0,left_wrist,0,0,0\n2.5,left_wrist,0.5,0,0\n"
    monkeypatch.setattr(serve_capture, "MAX_REST_SECONDS", 2.0)  # 3 s counts as long here
    store = tmp_path / "store"
    with TestClient(create_app(ServeSettings(store=store))) as client:
        r = client.post("/capture", files={"keypoints": ("k.json", body), "imu": ("imu.csv", imu)},
                        data={"format": "bvh"})  # fmt: skip
        assert r.status_code == 202, r.text
        assert "runs as a job" in r.json()["note"]
        info = wait_for_job(client, r.json()["job_id"])
        assert info["status"] == "done", info
        motion = client.get(f"{r.json()['url']}/result", params={"format": "json"}).json()
        assert motion["num_frames"] == 60 and motion["meta"]["imu_joints"] == [20]
        bvh = client.get(f"{r.json()['url']}/result", params={"format": "bvh"})
        assert bvh.text.startswith("HIERARCHY")
        short = client.post("/capture", files={"keypoints": ("k.json", body)},
                            data={"async": "true"})  # fmt: skip
        assert short.status_code == 202 and short.json()["note"] is None
        assert wait_for_job(client, short.json()["job_id"])["status"] == "done"
        # A bad file fails at once, not as a job.
        bad = client.post(
            "/capture", files={"keypoints": ("k.json", "{bad")}, data={"async": "true"}
        )
        assert bad.status_code == 422
    assert not list((store / "uploads").glob("*/*"))
    assert not list((store / "inputs").glob("*/*"))  # a finished job's inputs are removed
