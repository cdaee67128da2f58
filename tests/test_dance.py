"""The music-to-dance source: reading, axes/handedness, retargeting, music offset, bad folders."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from motiongen.canonical import forward_direction
from motiongen.data.dance import (
    RAW,
    iter_dance,
    load_dance,
    raw_to_world,
    read_dance_raw,
    retarget,
    track_floor,
)
from motiongen.data.records import BadFile
from motiongen.errors import DataNotFoundError, FormatError
from motiongen.paths import data_dir
from motiongen.skeleton import JOINT_INDEX as J

DANCE_ROOT = data_dir() / "dance"


# ---- synthetic folders (no real data needed) ---------------------------------------------------
def _write_folder(folder: Path, frames: int = 30, *, audio: bool = True) -> Path:
    """A tiny dance folder: a standing figure in the source's left-handed convention."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    skel = np.zeros((frames, 23, 3))
    # body facing +Z in a left-handed frame: the left side is at -X
    pts = {
        "head_left": (-5, 75, 0), "head_right": (5, 75, 0), "pelvis": (0, 10, 0),
        "left_shoulder": (-15, 55, 0), "left_elbow": (-18, 25, 0),
        "left_forearm": (-18, 13, 3), "left_wrist": (-18, 0, 5),
        "left_hip": (-10, -5, 0), "left_knee": (-10, -50, 3), "left_ankle": (-10, -85, 0),
        "left_heel": (-10, -92, -5), "left_toe": (-10, -92, 12),
        "right_shoulder": (15, 55, 0), "right_elbow": (18, 25, 0),
        "right_forearm": (18, 13, 3), "right_wrist": (18, 0, 5),
        "right_hip": (10, -5, 0), "right_knee": (10, -50, 3), "right_ankle": (10, -85, 0),
        "right_heel": (10, -92, -5), "right_toe": (10, -92, 12),
        "right_hand_extra": (18, -4, 6), "left_hand_extra": (-18, -4, 6),
    }  # fmt: skip
    for name, p in pts.items():
        skel[:, RAW[name]] = p
    skel += rng.normal(0, 0.1, skel.shape)
    center = np.tile([30.0, 95.0, -40.0], (frames, 1))
    data = {"length": frames, "center": center.tolist(), "skeletons": skel.tolist()}
    with gzip.open(folder / "skeletons.json.gz", "wt") as f:
        json.dump(data, f)
    (folder / "config.json").write_text(json.dumps({"start_position": 50, "end_position": 90}))
    if audio:
        t = np.arange(22050 * 4) / 22050
        sf.write(str(folder / "audio.ogg"), 0.3 * np.sin(2 * np.pi * 220 * t), 22050)
    return folder


def test_synthetic_folder_loads_upright_facing_z_left_at_plus_x(tmp_path):
    m = load_dance(_write_folder(tmp_path / "DANCE_W_99"))
    assert m.num_frames == 30 and m.fps == 25
    assert m.labels == {"source": "dance", "dance_type": "waltz", "song": "DANCE_W_99"}
    assert m.audio is not None and m.audio.offset == pytest.approx(2.0)  # 50 / 25
    p = m.positions
    assert p[0, J["head"], 1] > p[0, J["pelvis"], 1] > p[0, J["left_knee"], 1]
    assert p[0, J["left_hip"], 0] > 0 > p[0, J["right_hip"], 0]
    # the toes were in front (+Z in the source) and stay in front after canonicalising
    assert p[0, J["left_foot"], 2] > p[0, J["left_ankle"], 2]
    # centimetres became metres: hip-to-ankle 0.8 m
    assert np.linalg.norm(p[0, J["left_hip"]] - p[0, J["left_ankle"]]) == pytest.approx(
        0.8, abs=0.01
    )
    assert p[:, [J["left_foot"], J["right_foot"]], 1].min() == pytest.approx(0.0, abs=0.01)


def test_retarget_interpolates_missing_joints_between_their_neighbours(tmp_path):
    world = raw_to_world(read_dance_raw(_write_folder(tmp_path / "DANCE_C_1")))
    out = retarget(world)
    sh_mid = 0.5 * (world[:, RAW["left_shoulder"]] + world[:, RAW["right_shoulder"]])
    head = 0.5 * (world[:, RAW["head_left"]] + world[:, RAW["head_right"]])
    np.testing.assert_allclose(out[:, J["head"]], head)
    assert (out[:, J["neck"], 1] > sh_mid[:, 1]).all() and (out[:, J["neck"], 1] < head[:, 1]).all()
    y = out[0, [J["pelvis"], J["spine1"], J["spine2"], J["spine3"], J["neck"]], 1]
    assert np.all(np.diff(y) > 0)
    # collars lie between the shoulder midpoint and their own shoulder
    lc = out[0, J["left_collar"]]
    ls = world[0, RAW["left_shoulder"]]
    assert np.linalg.norm(lc - sh_mid[0]) < np.linalg.norm(ls - sh_mid[0])
    assert np.linalg.norm(lc - ls) < np.linalg.norm(ls - sh_mid[0])


def test_track_floor_removes_slow_drift_but_keeps_steps():
    t = np.arange(1500) / 25
    step = 0.05 * (np.sin(2 * np.pi * 1.5 * t) > 0)  # one foot lifts 5 cm, 1.5 times a second
    drift = 0.008 * t  # 0.48 m over the minute, like the worst real take
    floor = track_floor(step + drift)
    residual = step + drift - floor
    assert np.abs(residual.min()) < 0.02
    assert residual.max() > 0.04


@pytest.mark.parametrize(
    ("breakage", "error", "match"),
    [
        ("missing_folder", DataNotFoundError, "no such dance folder"),
        ("no_skeletons", DataNotFoundError, "has no skeletons.json.gz"),
        ("no_audio", DataNotFoundError, "has no audio.ogg"),
        ("corrupt_gzip", FormatError, "skeletons.json.gz is corrupt"),
        ("bad_json", FormatError, "config.json is corrupt"),
        ("length_mismatch", FormatError, "length says 31 frames but skeletons hold 30"),
        ("bad_positions", FormatError, "start/end positions"),
        ("bad_name", FormatError, "DANCE_<C|R|T|W>_<n>"),
    ],
)
def test_broken_folders_give_one_clear_line(tmp_path, breakage, error, match):
    name = "DANCE_X_1" if breakage == "bad_name" else "DANCE_R_1"
    folder = _write_folder(tmp_path / name, audio=breakage != "no_audio")
    if breakage == "missing_folder":
        folder = tmp_path / "DANCE_R_404"
    elif breakage == "no_skeletons":
        (folder / "skeletons.json.gz").unlink()
    elif breakage == "corrupt_gzip":
        (folder / "skeletons.json.gz").write_bytes(b"\x1f\x8b\x08garbage")
    elif breakage == "bad_json":
        (folder / "config.json").write_text("{start_position: ")
    elif breakage == "length_mismatch":
        with gzip.open(folder / "skeletons.json.gz", "rt") as f:
            data = json.load(f)
        data["length"] = 31
        with gzip.open(folder / "skeletons.json.gz", "wt") as f:
            json.dump(data, f)
    elif breakage == "bad_positions":
        (folder / "config.json").write_text(json.dumps({"start_position": 9, "end_position": 3}))
    with pytest.raises(error, match=match) as info:
        load_dance(folder)
    assert "\n" not in str(info.value)


def test_iter_dance_reports_bad_folders_and_keeps_going(tmp_path):
    _write_folder(tmp_path / "DANCE_C_1")
    bad = _write_folder(tmp_path / "DANCE_C_2")
    (bad / "skeletons.json.gz").write_bytes(b"not gzip at all")
    _write_folder(tmp_path / "DANCE_T_3")
    items = list(iter_dance(tmp_path))
    assert [type(i).__name__ for i in items] == ["Motion", "BadFile", "Motion"]
    assert isinstance(items[1], BadFile)
    assert items[1].path.endswith("DANCE_C_2") and "corrupt" in items[1].reason
    with pytest.raises(DataNotFoundError):
        list(iter_dance(tmp_path / "nowhere"))


# ---- the real data set ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real() -> dict:
    if not DANCE_ROOT.is_dir():
        pytest.skip(f"no dance data at {DANCE_ROOT}")
    folders = sorted(p for p in DANCE_ROOT.glob("DANCE_*") if p.is_dir())
    raws = {f.name: read_dance_raw(f) for f in folders}
    return {"raws": raws, "worlds": {k: raw_to_world(r) for k, r in raws.items()}}


def _hz(v: np.ndarray) -> np.ndarray:
    v = v.copy()
    v[..., 1] = 0.0
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


@pytest.mark.realdata
def test_real_set_size(real):
    raws = real["raws"]
    assert len(raws) == 38
    frames = sum(r.num_frames for r in raws.values())
    assert frames == 62075
    assert frames / 25 / 60 == pytest.approx(41.4, rel=0.01)


@pytest.mark.realdata
def test_real_y_is_up_and_units_are_cm(real):
    for world in real["worlds"].values():
        head = 0.5 * (world[:, RAW["head_left"], 1] + world[:, RAW["head_right"], 1])
        toes = world[:, [RAW["left_toe"], RAW["right_toe"]], 1].min(axis=1)
        # ear-level head centre above the toes, metres after the cm -> m conversion
        assert 1.3 < np.median(head - toes) < 1.8  # 1.40-1.58 m measured
        assert np.mean(world[:, RAW["pelvis"], 1] > world[:, RAW["left_knee"], 1]) > 0.99


@pytest.mark.realdata
def test_real_points_are_relative_to_center(real):
    # stance feet almost stop in the world (points + center), not in the centred points:
    # the slower ankle moves 25-60 % less once center is added (measured over all 38 takes)
    for name, raw in real["raws"].items():
        ankles = [RAW["left_ankle"], RAW["right_ankle"]]
        rel = np.linalg.norm(np.diff(raw.skeletons[:, ankles], axis=0), axis=-1).min(axis=1)
        world = raw.skeletons + raw.center[:, None]
        glo = np.linalg.norm(np.diff(world[:, ankles], axis=0), axis=-1).min(axis=1)
        assert np.percentile(glo, 25) < 0.7 * np.percentile(rel, 25), name
        assert np.median(glo) < 0.8 * np.median(rel), name
        # and the centre is the points' centroid (within a few cm)
        assert np.abs(raw.skeletons.mean(axis=(0, 1))).max() < 5.0, name


@pytest.mark.realdata
def test_real_knees_and_toes_point_forward(real):
    for name, world in real["worlds"].items():
        left = world[:, RAW["left_hip"]] - world[:, RAW["right_hip"]]
        left += world[:, RAW["left_shoulder"]] - world[:, RAW["right_shoulder"]]
        fwd = _hz(np.cross(left, [0.0, 1.0, 0.0]))  # right-handed: left x up = forward
        for side in ("left", "right"):
            hip, knee, ankle = (world[:, RAW[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
            axis = (ankle - hip) / np.linalg.norm(ankle - hip, axis=-1, keepdims=True)
            bend = (knee - hip) - np.sum((knee - hip) * axis, -1, keepdims=True) * axis
            bent = np.linalg.norm(bend, axis=-1) > 0.03
            ahead = np.sum(bend * fwd, -1)[bent] > 0
            assert ahead.mean() > 0.5, (name, side, ahead.mean())
            toe = world[:, RAW[f"{side}_toe"]] - world[:, RAW[f"{side}_heel"]]
            assert np.mean(np.sum(_hz(toe) * fwd, -1) > 0) > 0.85, (name, side)


@pytest.mark.realdata
def test_real_ballroom_head_turns_left(real):
    # In closed-hold waltz and tango both partners turn the head to their own left; the
    # latin dances have no such rule. This fixes handedness, which anatomy alone cannot.
    def turn(world):
        head = _hz(world[:, RAW["head_left"]] - world[:, RAW["head_right"]])
        shoulders = _hz(world[:, RAW["left_shoulder"]] - world[:, RAW["right_shoulder"]])
        # right-handed yaw about +Y from the shoulder line to the head line, degrees
        return np.degrees(
            np.median(np.arctan2(np.cross(shoulders, head)[:, 1], np.sum(shoulders * head, -1)))
        )

    ballroom = [turn(w) for n, w in real["worlds"].items() if n[6] in "WT"]
    latin = [turn(w) for n, w in real["worlds"].items() if n[6] in "CR"]
    # A positive yaw about +Y turns the face from +Z towards +X, i.e. to the dancer's left
    # (and the head's left-pointing axis back, towards -Z).
    assert np.median(ballroom) - np.median(latin) > 15  # head line yawed ~25 deg further
    assert all(t > 10 for t in ballroom)


@pytest.mark.realdata
def test_real_load_all_canonical(real):
    items = list(iter_dance(DANCE_ROOT))
    assert len(items) == 38 and all(not isinstance(i, BadFile) for i in items)
    for m in items:
        p = m.positions
        assert p.shape[1:] == (22, 3) and m.fps == 25
        assert m.labels["dance_type"] in {"cha-cha", "rumba", "tango", "waltz"}
        assert 0 <= m.audio.offset < m.meta["song_seconds"]
        assert m.audio.offset + m.seconds <= m.meta["song_seconds"] + 1.0
        # faces +Z at frame 0, left hip at +X
        fwd = forward_direction(p[:1])[0]
        assert fwd[2] > 0.99
        assert p[0, J["left_hip"], 0] > p[0, J["right_hip"], 0]
        # feet on the floor: the lowest foot point sits near y = 0 through the whole take
        low = p[:, [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]], 1]
        low = low.min(axis=1)
        assert np.percentile(low, 2) == pytest.approx(0.0, abs=0.01)
        assert np.percentile(low, 95) < 0.08, m.name
        # toes ahead of ankles in the body's own frame most of the time (the ballroom
        # takes twist hips against shoulders, so not always)
        fwd_t = forward_direction(p)[:, None]
        toe = p[:, [J["left_foot"], J["right_foot"]]] - p[:, [J["left_ankle"], J["right_ankle"]]]
        assert np.mean(np.sum(toe * fwd_t, -1) > 0) > 0.75, m.name
