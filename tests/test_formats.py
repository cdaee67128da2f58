"""Round trips and error handling of the .motion JSON and NumPy formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import motiongen
from motiongen.canonical import rotate_y
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.io.motion_json import load_motion_json, save_motion_json
from motiongen.io.numpy_io import load_numpy, recover_from_ric, save_numpy
from motiongen.motion import AudioRef, Motion
from motiongen.paths import data_dir
from motiongen.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

STAND = np.array(
    [
        [0.0, 0.93, 0.0],  # pelvis
        [0.09, 0.85, 0.0],
        [-0.09, 0.85, 0.0],
        [0.0, 1.03, -0.01],  # spine1
        [0.1, 0.48, 0.01],
        [-0.1, 0.48, 0.01],
        [0.0, 1.16, 0.0],  # spine2
        [0.1, 0.08, -0.03],
        [-0.1, 0.08, -0.03],
        [0.0, 1.22, 0.01],  # spine3
        [0.11, 0.02, 0.1],
        [-0.11, 0.02, 0.1],
        [0.0, 1.44, 0.0],  # neck
        [0.08, 1.36, 0.0],
        [-0.08, 1.36, 0.0],
        [0.0, 1.55, 0.03],  # head
        [0.18, 1.38, -0.01],
        [-0.18, 1.38, -0.01],
        [0.22, 1.12, -0.02],
        [-0.22, 1.12, -0.02],
        [0.24, 0.88, 0.02],
        [-0.24, 0.88, 0.02],
    ]
)


def moving_motion(frames: int = 12, fps: float = 30.0) -> Motion:
    rng = np.random.default_rng(0)
    pos = STAND[None] + 0.01 * rng.standard_normal((frames, NUM_JOINTS, 3))
    pos[..., 2] += np.linspace(0.0, 1.0, frames)[:, None]
    return Motion(
        positions=pos,
        fps=fps,
        texts=["a person walks forward", "someone steps ahead"],
        labels={"source": "test", "style": "normal"},
        actions=["walk"] * frames,
        name="walker",
        meta={"original_fps": 120, "note": "synthetic"},
    )


# ---- .motion JSON ------------------------------------------------------------------------
def test_motion_json_round_trip(tmp_path: Path) -> None:
    motion = moving_motion()
    audio = tmp_path / "music" / "song.ogg"
    audio.parent.mkdir()
    audio.write_bytes(b"")
    motion.audio = AudioRef(str(audio), 1.25)
    path = save_motion_json(motion, tmp_path / "clip.motion")
    back = load_motion_json(path)
    assert np.abs(back.positions - motion.positions).max() <= 1e-4 * 0.5 + 1e-6
    assert back.fps == motion.fps
    assert back.texts == motion.texts
    assert back.labels == motion.labels
    assert back.actions == motion.actions
    assert back.name == "walker"
    assert back.meta == motion.meta
    assert back.audio is not None and Path(back.audio.path) == audio.resolve()
    assert back.audio.offset == 1.25


def test_motion_json_schema(tmp_path: Path) -> None:
    motion = moving_motion(frames=3)
    data = json.loads(save_motion_json(motion, tmp_path / "x.motion").read_text())
    meta = data["meta"]
    assert meta["version"] == 1
    assert (meta["frames"], meta["joints"], meta["units"], meta["up"]) == (3, 22, "m", "y")
    assert meta["fps"] == data["fps"] == 30.0
    assert meta["audio"] is None
    assert data["skeleton"] == {"joints": list(JOINT_NAMES), "parents": list(PARENTS)}
    assert len(data["motion"]) == 3 * 22 * 3
    # frame-major, joint, xyz order and 4 decimals
    assert data["motion"][3 * 15 + 1] == round(float(motion.positions[0, 15, 1]), 4)
    assert all(len(repr(v).split(".")[-1]) <= 4 for v in data["motion"])


def test_motion_json_audio_inside_folder_is_relative(tmp_path: Path) -> None:
    (tmp_path / "song.wav").write_bytes(b"")
    motion = moving_motion(frames=2)
    motion.audio = AudioRef(str(tmp_path / "song.wav"), 0.0)
    path = save_motion_json(motion, tmp_path / "x.motion")
    assert json.loads(path.read_text())["meta"]["audio"]["path"] == "song.wav"


def test_motion_json_via_io_dispatch(tmp_path: Path) -> None:
    motion = moving_motion()
    for name in ("a.motion", "b.motion.json"):
        back = motiongen.load(motiongen.save(motion, tmp_path / name))
        np.testing.assert_allclose(back.positions, motion.positions, atol=1e-4)


def test_a_writer_option_a_format_does_not_take_is_said(tmp_path: Path) -> None:
    motion = moving_motion()
    with pytest.raises(InputError, match=r"it takes skeleton; .*motion.resample\(fps\)"):
        motiongen.save(motion, tmp_path / "a.bvh", fps=60)  # was a bare TypeError
    with pytest.raises(InputError, match="'bogus'.* takes fps, title"):
        motiongen.save(motion, tmp_path / "a.mp4", bogus=1)
    assert not (tmp_path / "a.bvh").exists()


def test_load_takes_a_prepared_clip_name_too(tmp_path: Path, monkeypatch) -> None:
    from motiongen.data.prepare import prepare_synthetic

    data = prepare_synthetic(tmp_path / "prepared", 4, seed=0)
    monkeypatch.setattr("motiongen.data.prepare.default_prepared_dir", lambda: data.root)
    name = data.clips[0].name
    assert motiongen.load(name).name == name
    with pytest.raises(DataNotFoundError, match="nor a clip of that name"):
        motiongen.load(name + "x")
    # a part of a name: the clips like it, and where they are listed
    part = name.split("_")[1]
    with pytest.raises(DataNotFoundError, match=f"clips like it: '[^']*{part}.*data clips"):
        motiongen.load(part)


def _write_json(tmp_path: Path, data: object, name: str = "bad.motion") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("motion"), "missing key 'motion'"),
        (lambda d: d.pop("meta"), "missing key 'meta'"),
        (lambda d: d["motion"].pop(), "not a multiple of 66"),
        (lambda d: d["meta"].update(frames=5), "meta says 5 frames"),
        (lambda d: d.update(fps=0), "'fps' must be a positive number"),
        (lambda d: d.update(fps=60.0), "'fps' says 60.0 and 'meta.fps' 30.0"),
        (lambda d: d["motion"].__setitem__(0, "x"), "only numbers"),
        (lambda d: d.update(motion=[]), "non-empty list"),
        (lambda d: d["meta"].update(version=7), "version 7"),
        (lambda d: d["skeleton"].update(joints=["a", "b"]), "not the canonical"),
        (lambda d: d.update(actions=["walk"]), "'actions' must be a list of 2"),
        (lambda d: d["meta"].update(audio="song.ogg"), "meta.audio"),
    ],
)
def test_motion_json_errors(tmp_path: Path, mutate, message: str) -> None:
    data = json.loads(save_motion_json(moving_motion(frames=2), tmp_path / "ok.motion").read_text())
    mutate(data)
    with pytest.raises(FormatError, match=message):
        load_motion_json(_write_json(tmp_path, data))


def test_motion_json_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.motion"
    path.write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        load_motion_json(path)
    with pytest.raises(FormatError, match="expected a JSON object"):
        load_motion_json(_write_json(tmp_path, [1, 2, 3]))
    with pytest.raises(DataNotFoundError):
        load_motion_json(tmp_path / "missing.motion")


def test_motion_json_nan_is_format_error(tmp_path: Path) -> None:
    path = save_motion_json(moving_motion(frames=2), tmp_path / "x.motion")
    data = json.loads(path.read_text())
    data["motion"][5] = float("nan")  # Python's json writes and reads the NaN literal
    path.write_text(json.dumps(data))
    with pytest.raises(FormatError, match="NaN"):
        load_motion_json(path)


def test_motion_json_unserialisable_meta(tmp_path: Path) -> None:
    motion = moving_motion(frames=2)
    motion.meta["bad"] = object()
    with pytest.raises(InputError, match="JSON-serialisable"):
        save_motion_json(motion, tmp_path / "x.motion")


# ---- NumPy -------------------------------------------------------------------------------
def test_npy_round_trip_and_default_fps(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a .npy stores no frame rate and reads back as 20 fps"):
        save_numpy(moving_motion(fps=30.0), tmp_path / "x.npy")  # it would play 1.5x slower
    motion = moving_motion(fps=20.0)
    path = save_numpy(motion, tmp_path / "x.npy")
    raw = np.load(path)
    assert raw.shape == (12, 22, 3) and raw.dtype == np.float32
    back = load_numpy(path)
    np.testing.assert_array_equal(back.positions, motion.positions)
    assert back.fps == 20.0 and "fps_assumed" in back.meta
    assert back.name == "x"
    given = load_numpy(path, fps=30)
    assert given.fps == 30.0 and "fps_assumed" not in given.meta


def test_a_long_walk_far_from_the_origin_reads_back(tmp_path: Path) -> None:
    # a 120 s walk ends ~170 m away: what the generator writes, its readers take
    motion = moving_motion()
    motion.positions = motion.positions + np.array([170.0, 0.0, -40.0], np.float32)
    back = motiongen.load(motiongen.save(motion, tmp_path / "far.motion"))
    np.testing.assert_allclose(back.positions, motion.positions, atol=1e-4)
    motion.positions = motion.positions * 1000.0  # millimetres taken as metres: refused
    with pytest.raises(FormatError):
        motiongen.load(motiongen.save(motion, tmp_path / "mm.motion"))


def test_npy_flat_66(tmp_path: Path) -> None:
    motion = moving_motion()
    np.save(tmp_path / "flat.npy", motion.positions.reshape(12, 66))
    np.testing.assert_array_equal(load_numpy(tmp_path / "flat.npy").positions, motion.positions)


def test_npz_round_trip_keeps_everything(tmp_path: Path) -> None:
    motion = moving_motion()
    motion.audio = AudioRef("/music/song.ogg", 2.5)
    path = save_numpy(motion, tmp_path / "x.npz")
    assert path.name == "x.npz" and path.exists()
    back = motiongen.load(path)
    np.testing.assert_array_equal(back.positions, motion.positions)
    assert (back.fps, back.texts, back.labels, back.actions, back.name) == (
        motion.fps,
        motion.texts,
        motion.labels,
        motion.actions,
        motion.name,
    )
    assert back.audio == motion.audio
    assert back.meta == motion.meta
    assert load_numpy(path, fps=60).fps == 60.0


@pytest.mark.parametrize("suffix", [".npz", ".motion"])
def test_a_relative_audio_path_is_found_from_any_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    (tmp_path / "song.wav").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    motion = moving_motion()
    motion.audio = AudioRef("song.wav", 0.5)  # as `motiongen dance song.wav` records it
    motiongen.save(motion, "out" + suffix)
    monkeypatch.chdir(tmp_path / "sub")
    back = motiongen.load(Path("..") / ("out" + suffix))
    assert Path(back.audio.path).resolve() == (tmp_path / "song.wav").resolve()
    # an archive written before paths were stored beside it: the path from the working folder
    legacy = moving_motion()
    legacy.audio = AudioRef("other.wav", 0.0)
    (tmp_path / "sub" / "other.wav").write_bytes(b"")
    save_numpy(legacy, tmp_path / "old.npz")
    archive = dict(np.load(tmp_path / "old.npz"))
    info = json.loads(str(archive["info"]))
    info["audio"]["path"] = "other.wav"
    np.savez(tmp_path / "old.npz", **{**archive, "info": json.dumps(info)})
    assert load_numpy(tmp_path / "old.npz").audio.path == "other.wav"


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((10, 23, 3)), "23 joints"),
        (np.zeros((10, 22)), r"shape \(10, 22\)"),
        (np.zeros((10, 251)), "feature vector"),
        (np.zeros((10, 22, 3, 1)), "expected joint positions"),
        (np.zeros((0, 22, 3)), "no frames"),
        (np.array(["a", "b"]), "expected"),
    ],
)
def test_npy_bad_shapes(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(FormatError, match=message):
        load_numpy(tmp_path / "bad.npy")


def test_npy_nan_and_garbage(tmp_path: Path) -> None:
    pos = moving_motion().positions.copy()
    pos[3, 4, 1] = np.nan
    np.save(tmp_path / "nan.npy", pos)
    with pytest.raises(FormatError, match="NaN or infinite values in 1 frame"):
        load_numpy(tmp_path / "nan.npy")
    np.savez(tmp_path / "nan.npz", positions=pos)  # said once, not wrapped in "unreadable"
    with pytest.raises(FormatError, match=r"^nan.npz contains NaN or infinite values in 1 frame"):
        load_numpy(tmp_path / "nan.npz")
    (tmp_path / "junk.npy").write_bytes(b"not an array at all")
    with pytest.raises(FormatError, match="not a readable .npy"):
        load_numpy(tmp_path / "junk.npy")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="not a readable .npz"):
        load_numpy(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3), b=np.zeros(3))
    with pytest.raises(FormatError, match="no 'positions' array"):
        load_numpy(tmp_path / "other.npz")
    with pytest.raises(DataNotFoundError):
        load_numpy(tmp_path / "missing.npy")


def _features_walking_in_a_circle(frames: int, half_yaw_step: float, speed: float) -> np.ndarray:
    """A 263-d HumanML3D vector: constant turn, constant forward speed, fixed standing pose."""
    feats = np.zeros((frames, 263))
    feats[:, 0] = half_yaw_step
    feats[:, 2] = speed  # forward (+Z in the facing frame)
    feats[:, 3] = STAND[0, 1]
    local = STAND[1:] - STAND[0] * np.array([1.0, 0.0, 1.0])  # XZ relative, Y absolute
    feats[:, 4:67] = local.reshape(-1)
    return feats


def test_recover_from_ric_hand_computed() -> None:
    frames, h, v = 15, 0.05, 0.04
    pos = recover_from_ric(_features_walking_in_a_circle(frames, h, v))
    # Frame t is yawed by -2ht (HumanML3D applies the inverse of the half-angle quaternion);
    # the root adds the forward step of frame k seen in frame k's yaw, summed up to t.
    root = np.zeros(3)
    for t in range(frames):
        if t > 0:
            root = root + rotate_y(np.array([0.0, 0.0, v]), -2 * h * t)
        local = STAND - STAND[0] * np.array([1.0, 0.0, 1.0])
        expected = rotate_y(local, -2 * h * t) + root * np.array([1.0, 0.0, 1.0])
        np.testing.assert_allclose(pos[t], expected, atol=1e-5)


def test_load_263_via_load_numpy(tmp_path: Path) -> None:
    np.save(tmp_path / "vecs.npy", _features_walking_in_a_circle(8, 0.02, 0.03).astype(np.float32))
    motion = load_numpy(tmp_path / "vecs.npy")
    assert motion.positions.shape == (8, 22, 3)
    assert "recovered_from" in motion.meta
    np.save(tmp_path / "noise.npy", np.random.default_rng(1).standard_normal((8, 263)))
    with pytest.raises(FormatError, match="normalised"):
        load_numpy(tmp_path / "noise.npy")


# ---- the real HumanML3D sample -------------------------------------------------------------
@pytest.fixture
def humanml3d_sample() -> Path:
    folder = data_dir() / "humanml3d-sample"
    if not (folder / "new_joints" / "012314.npy").is_file():
        pytest.skip(f"HumanML3D sample not found under {data_dir()} (set MOTIONGEN_DATA)")
    return folder


@pytest.mark.realdata
def test_real_humanml3d_joints_and_features_agree(humanml3d_sample: Path) -> None:
    joints = motiongen.load(humanml3d_sample / "new_joints" / "012314.npy")
    assert joints.positions.shape == (170, 22, 3) and joints.fps == 20.0
    assert 0.7 < joints.positions[0, 0, 1] < 1.0  # pelvis height, metres, Y up
    recovered = load_numpy(humanml3d_sample / "new_joint_vecs" / "012314.npy")
    assert np.abs(recovered.positions - joints.positions).max() < 1e-5


@pytest.mark.realdata
def test_real_normalised_features_rejected(humanml3d_sample: Path, tmp_path: Path) -> None:
    vecs = np.load(humanml3d_sample / "new_joint_vecs" / "012314.npy")
    mean = np.load(humanml3d_sample / "Mean.npy")
    std = np.load(humanml3d_sample / "Std.npy")
    np.save(tmp_path / "norm.npy", (vecs - mean) / std)
    with pytest.raises(FormatError, match="Mean.npy/Std.npy"):
        load_numpy(tmp_path / "norm.npy")


@pytest.mark.realdata
def test_real_sample_through_all_formats(humanml3d_sample: Path, tmp_path: Path) -> None:
    motion = load_numpy(humanml3d_sample / "new_joints" / "012314.npy")
    for name in ("a.motion", "a.npz", "a.npy"):
        back = motiongen.load(motiongen.save(motion, tmp_path / name))
        assert np.abs(back.positions - motion.positions).max() <= 5e-5 + 1e-6
        assert back.fps == 20.0


def test_the_service_s_json_answer_reads_as_a_motion(tmp_path):
    # a saved /compose answer was refused as "not a .motion file" by `motiongen render`
    # (a new user's trial)
    from motiongen.data.synthetic import synth_sequence
    from motiongen.io import load
    from motiongen.serve.results import motion_payload

    walk = synth_sequence(["walk"], seconds=1.0, seed=0)
    walk.texts, walk.meta = ["a person walks"], {"seed": 3, "checkpoint": "tiny"}
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(motion_payload(walk)))
    back = load(path)
    np.testing.assert_allclose(back.positions, walk.positions, atol=1e-4)
    assert back.fps == walk.fps and back.texts == ["a person walks"]
    assert back.meta["checkpoint"] == "tiny"
    bad = motion_payload(walk)
    bad["positions"] = bad["positions"][0]  # one frame's joints, not frames of them
    path.write_text(json.dumps(bad))
    with pytest.raises(FormatError, match="shape"):
        load(path)


def test_load_numpy_passes_the_plausibility_gate_too(tmp_path: Path) -> None:
    # read alone it had loaded a walk in centimetres, which motiongen.load refuses (a new
    # user's trial of the docs: formats.md names load_numpy the .npy reader)
    pos = moving_motion().positions.astype(np.float64)
    np.save(tmp_path / "cm.npy", pos * 100.0)
    with pytest.raises(FormatError) as fine:
        motiongen.load(tmp_path / "cm.npy")
    with pytest.raises(FormatError) as alone:
        load_numpy(tmp_path / "cm.npy", fps=30)
    assert str(alone.value) == str(fine.value)
    np.save(tmp_path / "m.npy", pos)
    assert load_numpy(tmp_path / "m.npy", fps=30).fps == 30.0
