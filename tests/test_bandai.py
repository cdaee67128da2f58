"""The Bandai Namco source: folder and xz-tar reading, labels, orientation on the real data."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from motiongen.data.bandai import count_bandai, iter_bandai
from motiongen.data.records import BadFile
from motiongen.errors import FormatError
from motiongen.motion import Motion
from motiongen.paths import data_dir
from motiongen.skeleton import JOINT_INDEX

# ---- a synthetic Bandai-named skeleton (Y-up offsets, zero rotations) -----------------------

# (name, parent, offset in cm): standing, facing +Z, left at +X, toes on the floor.
_BANDAI = [
    ("joint_Root", None, (0, 0, 0)),
    ("Hips", "joint_Root", (0, 94, 0)),
    ("Spine", "Hips", (0, 15.7, 0)),
    ("Chest", "Spine", (0, 9.0, 0)),
    ("Neck", "Chest", (0, 16.4, 0)),
    ("Head", "Neck", (0, 6.5, 0)),
    ("Shoulder_L", "Chest", (5, 13, 0)),
    ("UpperArm_L", "Shoulder_L", (5.3, 0, 0)),
    ("LowerArm_L", "UpperArm_L", (0, -24.3, 0)),
    ("Hand_L", "LowerArm_L", (0, -22.3, 0)),
    ("Shoulder_R", "Chest", (-5, 13, 0)),
    ("UpperArm_R", "Shoulder_R", (-5.3, 0, 0)),
    ("LowerArm_R", "UpperArm_R", (0, -24.3, 0)),
    ("Hand_R", "LowerArm_R", (0, -22.3, 0)),
    ("UpperLeg_L", "Hips", (6.5, -2.2, 0)),
    ("LowerLeg_L", "UpperLeg_L", (0, -39.1, 0)),
    ("Foot_L", "LowerLeg_L", (0, -41.0, 0)),
    ("Toes_L", "Foot_L", (0, -7.0, 10)),
    ("UpperLeg_R", "Hips", (-6.5, -2.2, 0)),
    ("LowerLeg_R", "UpperLeg_R", (0, -39.1, 0)),
    ("Foot_R", "LowerLeg_R", (0, -41.0, 0)),
    ("Toes_R", "Foot_R", (0, -7.0, 10)),
]
_CH = "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"


def bandai_bvh(frames: int = 4, *, wave_left: bool = False) -> str:
    """A Bandai-style BVH (6 channels on every joint); optionally the left forearm swings."""
    lines = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        _, _, off = next(b for b in _BANDAI if b[0] == name)
        lines.append(f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {name}")
        lines.extend([f"{pad}{{", f"{pad}  OFFSET {off[0]} {off[1]} {off[2]}", f"{pad}  {_CH}"])
        children = [b[0] for b in _BANDAI if b[1] == name]
        for child in children:
            emit(child, depth + 1)
        if not children:
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0 0 0", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    emit("joint_Root", 0)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    for t in range(frames):
        row = []
        for name, _, off in _BANDAI:
            swing = 20.0 * t if (wave_left and name == "LowerArm_L") else 0.0
            row += [*off, swing, 0, 0]
        lines.append(" ".join(f"{v:g}" for v in row))
    return "\n".join(lines) + "\n"


def write_cfg(folder: Path, dataset: str) -> None:
    (folder / "cfg").mkdir(parents=True, exist_ok=True)
    (folder / "cfg" / "content_label.txt").write_text(f"{dataset}_walk\n{dataset}_wave-left-hand")
    (folder / "cfg" / "style_label.txt").write_text(f"{dataset}_normal\n{dataset}_happy")


@pytest.fixture
def fake_bandai(tmp_path: Path) -> Path:
    """A bandai/ folder with 2 good clips + 1 truncated clip in dataset-1, 2 clips in the tar."""
    d1 = tmp_path / "bandai" / "dataset-1"
    write_cfg(d1, "dataset-1")
    (d1 / "data").mkdir()
    (d1 / "data" / "dataset-1_walk_happy_001.bvh").write_text(bandai_bvh())
    (d1 / "data" / "dataset-1_walk_happy_001.json").write_text('{"content": 0, "style": 1}')
    (d1 / "data" / "dataset-1_wave-left-hand_normal_001.bvh").write_text(bandai_bvh(wave_left=True))
    (d1 / "data" / "dataset-1_walk_normal_002.bvh").write_text(bandai_bvh()[:-40])
    d2 = tmp_path / "bandai" / "dataset-2"
    write_cfg(d2, "dataset-2")
    with tarfile.open(d2 / "data.tar.xz", "w:xz") as tar:
        for stem, labels in (
            ("dataset-2_walk_normal_001", {"content": 0, "style": 0}),
            ("dataset-2_wave-left-hand_happy_001", {"content": 1, "style": 1}),
        ):
            for suffix, data in ((".bvh", bandai_bvh(6)), (".json", json.dumps(labels))):
                raw = data.encode()
                info = tarfile.TarInfo(f"data/{stem}{suffix}")
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    return tmp_path / "bandai"


def test_folder_reading_labels_and_bad_files(fake_bandai: Path) -> None:
    items = list(iter_bandai(fake_bandai, "dataset-1"))
    good = [m for m in items if isinstance(m, Motion)]
    bad = [b for b in items if isinstance(b, BadFile)]
    assert [m.name for m in good] == [
        "dataset-1_walk_happy_001",
        "dataset-1_wave-left-hand_normal_001",
    ]
    assert good[0].labels == {
        "source": "bandai-1",
        "dataset": "dataset-1",
        "content": "walk",
        "style": "happy",
    }
    # No JSON beside the second clip: labels come from its file name.
    assert good[1].labels["content"] == "wave-left-hand" and good[1].labels["style"] == "normal"
    assert good[0].fps == 30.0 and good[0].meta["skeleton"] == "bandai"
    assert len(bad) == 1 and bad[0].path == "dataset-1_walk_normal_002.bvh"
    assert "truncated" in bad[0].reason
    assert count_bandai(fake_bandai, "dataset-1") == 3


def test_load_of_one_clip_in_its_folder_has_its_labels(fake_bandai: Path, tmp_path: Path) -> None:
    import motiongen

    data = fake_bandai / "dataset-1" / "data"
    m = motiongen.load(data / "dataset-1_walk_happy_001.bvh")  # labels from its JSON
    assert m.labels == next(iter_bandai(fake_bandai, "dataset-1")).labels
    assert m.texts and "walk" in m.texts[0]
    wave = motiongen.load(data / "dataset-1_wave-left-hand_normal_001.bvh")  # from its name
    assert wave.labels["content"] == "wave-left-hand" and wave.texts
    moved = tmp_path / "dataset-1_walk_happy_001.bvh"  # outside the layout: a plain BVH
    moved.write_text((data / "dataset-1_walk_happy_001.bvh").read_text())
    assert motiongen.load(moved).labels == {}


def test_synthetic_bandai_orientation(fake_bandai: Path) -> None:
    m = next(iter_bandai(fake_bandai, "dataset-1"))
    p = m.positions[0]
    j = JOINT_INDEX
    assert p[j["pelvis"], 1] == pytest.approx(0.94 - 0.04 + 0.0, abs=0.03)
    assert p[j["left_hip"], 0] > 0 > p[j["right_hip"], 0]
    assert p[j["left_foot"], 2] > p[j["left_ankle"], 2]  # toes point forward (+Z)
    assert min(p[j["left_foot"], 1], p[j["right_foot"], 1]) == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("workers", [1, 2])
def test_tar_streaming(fake_bandai: Path, workers: int) -> None:
    items = list(iter_bandai(fake_bandai, "dataset-2", workers=workers))
    assert [m.name for m in items] == [
        "dataset-2_walk_normal_001",
        "dataset-2_wave-left-hand_happy_001",
    ]
    assert items[1].labels["source"] == "bandai-2"
    assert items[1].labels["style"] == "happy" and items[1].texts
    assert count_bandai(fake_bandai, "dataset-2") == 2
    picked = list(iter_bandai(fake_bandai, "dataset-2", select=lambda s: "wave" in s))
    assert [m.name for m in picked] == ["dataset-2_wave-left-hand_happy_001"]


def test_corrupt_or_empty_tar_is_a_format_error(fake_bandai: Path) -> None:
    tar = fake_bandai / "dataset-2" / "data.tar.xz"
    tar.write_bytes(tar.read_bytes()[:200])
    with pytest.raises(FormatError, match="corrupt"):
        list(iter_bandai(fake_bandai, "dataset-2"))
    tar.write_bytes(b"not an xz file at all")
    with pytest.raises(FormatError, match="data.tar.xz"):
        list(iter_bandai(fake_bandai, "dataset-2"))
    with tarfile.open(tar, "w:xz"):
        pass
    with pytest.raises(FormatError, match="no data/\\*.bvh"):
        list(iter_bandai(fake_bandai, "dataset-2"))


# ---- the real data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bandai_dir() -> Path:
    root = data_dir() / "bandai"
    if (
        not (root / "dataset-1" / "data").is_dir()
        or not (root / "dataset-2" / "data.tar.xz").is_file()
    ):
        pytest.skip(f"Bandai data not found under {root}")
    return root


@pytest.fixture(scope="module")
def dataset1(bandai_dir: Path) -> list[Motion | BadFile]:
    return list(iter_bandai(bandai_dir, "dataset-1"))


@pytest.fixture(scope="module")
def waves(bandai_dir: Path) -> dict[str, Motion]:
    """The first normal-style wave-left-hand and wave-right-hand clips of dataset-2."""
    found: dict[str, Motion] = {}
    for m in iter_bandai(bandai_dir, "dataset-2", select=lambda s: "-hand_normal_00" in s):
        assert isinstance(m, Motion), m
        found.setdefault(m.labels["content"], m)
        if "wave-left-hand" in found and "wave-right-hand" in found:
            break
    return found


@pytest.mark.realdata
def test_dataset1_reads_completely(dataset1: list[Motion | BadFile]) -> None:
    assert len(dataset1) == 162
    assert not [b for b in dataset1 if isinstance(b, BadFile)]
    assert sum(m.num_frames for m in dataset1) == 29_705
    assert {m.labels["source"] for m in dataset1} == {"bandai-1"}
    assert {m.fps for m in dataset1} == {30.0}
    # 17 content labels exist but no dance-long clip ships, so 16 appear.
    assert len({m.labels["content"] for m in dataset1}) == 16
    # The JSON label indices agree with the file names.
    for m in dataset1:
        assert m.name.split("_")[1:3] == [m.labels["content"], m.labels["style"]], m.name
    assert len({m.labels["style"] for m in dataset1}) == 15


@pytest.mark.realdata
def test_real_clip_is_upright_and_on_the_floor(dataset1: list[Motion | BadFile]) -> None:
    clip = next(m for m in dataset1 if m.name == "dataset-1_bow_normal_001")
    p = clip.positions[0]
    j = JOINT_INDEX
    assert 0.85 < p[j["pelvis"], 1] < 0.95
    assert 1.25 < p[j["neck"], 1] < 1.40
    assert p[j["head"], 1] > p[j["neck"], 1] + 0.07
    assert min(p[j["left_foot"], 1], p[j["right_foot"], 1]) < 0.02


@pytest.mark.realdata
def test_real_left_side_is_at_plus_x_when_facing_plus_z(dataset1: list[Motion | BadFile]) -> None:
    for m in dataset1:
        p = m.positions[0]
        assert p[JOINT_INDEX["left_hip"], 0] > p[JOINT_INDEX["right_hip"], 0], m.name
        assert p[JOINT_INDEX["left_shoulder"], 0] > p[JOINT_INDEX["right_shoulder"], 0], m.name


@pytest.mark.realdata
def test_real_bone_lengths_are_constant(dataset1: list[Motion | BadFile]) -> None:
    from motiongen.skeleton import bone_lengths

    for m in dataset1[:20]:
        assert bone_lengths(m.positions).std(axis=0).max() < 1e-4, m.name


@pytest.mark.realdata
def test_real_wave_left_hand_moves_the_left_wrist(waves: dict[str, Motion]) -> None:
    def travel(m: Motion, joint: str) -> float:
        return float(
            np.linalg.norm(np.diff(m.positions[:, JOINT_INDEX[joint]], axis=0), axis=-1).sum()
        )

    left, right = waves["wave-left-hand"], waves["wave-right-hand"]
    assert left.labels["source"] == "bandai-2"
    assert travel(left, "left_wrist") > 3 * travel(left, "right_wrist")
    assert travel(right, "right_wrist") > 3 * travel(right, "left_wrist")
    # The waving hand is raised above the head.
    assert (
        left.positions[:, JOINT_INDEX["left_wrist"], 1].max()
        > left.positions[0, JOINT_INDEX["head"], 1]
    )


def test_two_processes_preparing_at_once_both_get_the_cache(fake_bandai: Path, tmp_path: Path):
    # Two benchmarks started together on a stale cache wrote the same temporary file and one
    # died renaming it; the second now waits for the first and reads its cache.
    import subprocess
    import sys

    out = tmp_path / "cache"
    code = (
        "import sys; from pathlib import Path; from motiongen.data.prepare import prepare; "
        "r = prepare(Path(sys.argv[1]), Path(sys.argv[2])); print(len(r.data.clips), r.reused)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(fake_bandai.parent), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    counts, reused = zip(*(out.split() for out, _ in results), strict=True)
    assert counts == ("4", "4")
    assert sorted(reused) == ["False", "True"]  # one built the cache, the other read it
