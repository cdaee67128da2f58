"""Fuzzed inputs: hundreds of malformed BVH, npy/npz, .motion, audio files and dance folders,
generated here from valid ones with a seeded random generator.

Every one must end in a ``MotionGenError`` (one clear line) or in a motion that passes the
plausibility gate; none in another exception, none in more than ``LIMIT_SECONDS``.
"""

from __future__ import annotations

import gzip
import io
import json
import signal
import struct
import zipfile
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pytest
import soundfile as sf

import motiongen
from motiongen.data.synthetic import synth_motion
from motiongen.errors import MotionGenError
from motiongen.io.numpy_io import save_numpy
from motiongen.plausibility import check_motion

LIMIT_SECONDS = 10
BAD_NUMBERS = ["1e30", "-1e30", "nan", "inf", "1e308", "x", "99999999999999999999999", "0x10",
               "1.2.3", "--1", "1e-320", "\u00bd"]  # fmt: skip


@contextmanager
def time_limit(seconds: int):
    def fail(signum, frame):  # noqa: ANN001
        raise TimeoutError(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def judge(read: Callable[[], object], label: str) -> str:
    """'error' (a clean MotionGenError), 'ok' (a plausible motion or a valid audio read) or
    a failure description."""
    try:
        with time_limit(LIMIT_SECONDS):
            result = read()
    except MotionGenError as err:
        message = str(err)
        if "\n" in message.strip() or not message:
            return f"{label}: error message is not one line: {message!r}"
        return "error"
    except Exception as err:  # noqa: BLE001 - this is what the test looks for
        return f"{label}: {type(err).__name__}: {str(err)[:160]}"
    if isinstance(result, motiongen.Motion):
        try:
            check_motion(result.positions, result.fps, label)
        except MotionGenError as err:
            return f"{label}: implausible motion returned: {err}"
    return "ok"


def run_cases(
    cases: list[tuple[str, Callable[[], object]]], minimum: int, *, broken_share: float = 1 / 3
) -> Counter:
    assert len(cases) >= minimum
    outcomes = Counter()
    failures = []
    for label, read in cases:
        verdict = judge(read, label)
        if verdict in ("ok", "error"):
            outcomes[verdict] += 1
        else:
            failures.append(verdict)
    assert not failures, "\n".join(failures[:20])
    # the mutations must mostly break the file, or the test would exercise little
    assert outcomes["error"] > broken_share * len(cases), outcomes
    return outcomes


def _motion() -> motiongen.Motion:
    return synth_motion("walk", seconds=1.0, seed=0)


def _mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:  # flip bytes
        for i in rng.integers(0, len(b), size=int(rng.integers(1, 8))):
            b[i] ^= int(rng.integers(1, 256))
    elif kind == 1:  # truncate
        b = b[: int(rng.integers(0, len(b)))]
    elif kind == 2:  # duplicate a chunk
        i, n = int(rng.integers(0, len(b))), int(rng.integers(1, 200))
        b[i:i] = b[i : i + n]
    elif kind == 3:  # delete a chunk
        i, n = int(rng.integers(0, len(b))), int(rng.integers(1, 200))
        del b[i : i + n]
    else:  # insert random bytes
        i = int(rng.integers(0, len(b)))
        b[i:i] = bytes(rng.integers(0, 256, size=int(rng.integers(1, 40))).astype(np.uint8))
    return bytes(b)


# ---- BVH --------------------------------------------------------------------------------------
def _bvh_mutations(text: str, rng: np.random.Generator) -> str:
    head, motion = text.split("MOTION", 1)
    lines = motion.strip().splitlines()  # Frames:, Frame Time:, rows
    rows = lines[2:]
    kind = rng.integers(10)
    if kind == 0:  # a bad number somewhere in the data
        r = int(rng.integers(len(rows)))
        tok = rows[r].split()
        tok[int(rng.integers(len(tok)))] = str(rng.choice(BAD_NUMBERS))
        rows[r] = " ".join(tok)
    elif kind == 1:  # one number too many in a row
        r = int(rng.integers(len(rows)))
        rows[r] += " 0.0"
    elif kind == 2:  # one number missing in a row
        r = int(rng.integers(len(rows)))
        rows[r] = " ".join(rows[r].split()[:-1])
    elif kind == 3:  # rows duplicated or dropped
        r = int(rng.integers(len(rows)))
        rows = rows[:r] + rows[r:] * int(rng.integers(0, 3))
    elif kind == 4:  # the declared frame count
        n = rng.choice(["0", "-1", str(10**12), str(len(rows) + 1), str(len(rows) - 1), "abc",
                        str(max(1, len(rows) // 6))])  # fmt: skip
        lines[0] = f"Frames: {n}"
    elif kind == 5:  # the frame time
        lines[1] = f"Frame Time: {rng.choice(['0', '-1', '1e30', '1e-30', 'nan', 'inf', '2'])}"
    elif kind == 6:  # every value scaled absurdly
        scale = float(rng.choice([1e30, 1e6, 1e-6, 100.0]))
        rows = [" ".join(f"{float(v) * scale:g}" for v in row.split()) for row in rows]
    elif kind == 7:  # hierarchy damage
        which = rng.integers(4)
        if which == 0:
            head = head.replace("CHANNELS 6", "CHANNELS 7", 1)
        elif which == 1:
            head = head.replace("OFFSET", "OFFSET 1", 1)
        elif which == 2:
            head = head.replace("}", "", 1)
        else:
            head = head.replace("JOINT", "JOINT {" * 200, 1)
    elif kind == 8:  # huge rotation values
        r = int(rng.integers(len(rows)))
        tok = rows[r].split()
        tok[4] = "1e12"
        rows[r] = " ".join(tok)
    else:
        return _mutate_bytes(text.encode(), rng).decode("latin-1")
    return head + "MOTION\n" + "\n".join(lines[:2] + rows) + "\n"


def test_fuzzed_bvh(tmp_path):
    from motiongen.io.bvh import motion_to_bvh_text

    text = motion_to_bvh_text(_motion())
    rng = np.random.default_rng(0)
    cases = []
    for i in range(160):
        path = tmp_path / f"f{i}.bvh"
        path.write_text(_bvh_mutations(text, rng), encoding="latin-1")
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    run_cases(cases, 150)


# ---- npy / npz --------------------------------------------------------------------------------
def _npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _forge_header(data: bytes, replacement: str) -> bytes:
    """Replace the header dict of an .npy file, keeping the 16-byte alignment NumPy wants."""
    magic, rest = data[:8], data[8:]
    (hlen,) = struct.unpack("<H", rest[:2])
    body = rest[2 + hlen :]
    header = replacement.encode("latin-1")
    header += b" " * (-(len(header) + 11) % 16) + b"\n"
    return magic + struct.pack("<H", len(header)) + header + body


def test_fuzzed_numpy(tmp_path):
    pos = _motion().positions.astype(np.float32)
    good = _npy_bytes(pos)
    rng = np.random.default_rng(1)
    cases = []
    headers = [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000, 22, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 22, 4), }",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (10, 22, 3), }",
        "{'descr': '|O', 'fortran_order': False, 'shape': (20, 22, 3), }",
        "{'descr': '<c8', 'fortran_order': False, 'shape': (10, 22, 3), }",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (20, 22, 3), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-5, 22, 3), }",
        "{'descr': '<f4', 'shape': (20, 22, 3), }",
        "not a dict at all",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "(" * 500 + "), }",
    ]
    for i, h in enumerate(headers):
        path = tmp_path / f"h{i}.npy"
        path.write_bytes(_forge_header(good, h))
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    arrays = [
        pos.astype(np.int64), (pos * 1000).astype(np.int32), pos.astype(bool), pos * 1e28,
        pos * 100.0, pos * 1e-3, np.full_like(pos, 1e38), pos[:, :21], pos[:0],
        np.zeros((20, 263), np.float32), np.zeros((5,), np.float32), pos.astype(np.float16),
    ]  # fmt: skip
    for i, a in enumerate(arrays):
        path = tmp_path / f"a{i}.npy"
        np.save(path, a)
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    for i in range(120):
        path = tmp_path / f"m{i}.npy"
        path.write_bytes(_mutate_bytes(good, rng))
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    # npz: written by save_numpy, then damaged
    base = tmp_path / "base.npz"
    save_numpy(_motion(), base)
    good_npz = base.read_bytes()
    for i in range(80):
        path = tmp_path / f"z{i}.npz"
        path.write_bytes(_mutate_bytes(good_npz, rng))
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    for i, (key, value) in enumerate(
        [
            ("fps", np.float64(1e30)), ("fps", np.float64(1e-30)), ("fps", np.array([1.0, 2.0])),
            ("fps", np.float64(np.nan)), ("info", np.array("[1, 2]")),
            ("info", np.array('{"texts": 5, "labels": [1]}')),
            ("info", np.array('{"audio": {"path": 3, "offset": "x"}}')),
            ("info", np.array("[" * 100000 + "]" * 100000)),
            ("info", np.array('{"name": "\\ud800"}')),
            ("positions", pos.astype(np.int16)),
        ]
    ):  # fmt: skip
        path = tmp_path / f"k{i}.npz"
        arrays = {"positions": pos, "fps": np.float64(20.0), key: value}
        np.savez(path, **arrays)
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    # a decompression bomb: 300 MB of zeros in a few hundred kB
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        header = _forge_header(_npy_bytes(np.zeros((1, 22, 3), np.float64)),
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (568181, 22, 3), }")  # fmt: skip
        with z.open("positions.npy", "w", force_zip64=True) as f:
            f.write(header[: header.index(b"\n") + 1])
            chunk = bytes(1 << 20)
            for _ in range(300):
                f.write(chunk)
    cases.append((bomb.name, lambda p=bomb: motiongen.load(p)))
    outcomes = run_cases(cases, 200)
    assert outcomes["ok"] >= 1  # some mutations leave a readable file (e.g. float16 positions)


# ---- .motion JSON ------------------------------------------------------------------------------
def _json_mutations(obj: dict, rng: np.random.Generator) -> str:
    obj = json.loads(json.dumps(obj))
    kind = rng.integers(8)
    weird = [None, True, "6.5", [1, 2], {"a": 1}, 10**400, -1, 0, float("nan"), "\ud800"]
    if kind == 0:
        key = rng.choice(["fps", "motion", "meta", "skeleton"])
        obj[str(key)] = weird[int(rng.integers(len(weird)))]
    elif kind == 1:
        key = rng.choice(
            ["frames", "joints", "version", "texts", "labels", "info", "audio", "name"]
        )
        obj["meta"][str(key)] = weird[int(rng.integers(len(weird)))]
    elif kind == 2:
        obj["meta"]["audio"] = {"path": "song.ogg", "offset": weird[int(rng.integers(len(weird)))]}
    elif kind == 3:
        i = int(rng.integers(len(obj["motion"])))
        obj["motion"][i] = weird[int(rng.integers(len(weird)))]
    elif kind == 4:
        obj["motion"] = obj["motion"][: int(rng.integers(len(obj["motion"])))]
    elif kind == 5:
        return "[" * 100000 + "]" * 100000
    elif kind == 6:
        obj["motion"] = [v * float(rng.choice([1e30, 100.0, 1e-4])) for v in obj["motion"]]
    else:
        return _mutate_bytes(json.dumps(obj).encode(), rng).decode("latin-1")
    return json.dumps(obj)


def test_fuzzed_motion_json(tmp_path):
    base = tmp_path / "base.motion"
    _motion().save(base)
    obj = json.loads(base.read_text())
    rng = np.random.default_rng(2)
    cases = []
    for i in range(150):
        path = tmp_path / f"j{i}.motion"
        path.write_text(_json_mutations(obj, rng), encoding="utf-8", errors="surrogatepass")
        cases.append((path.name, lambda p=path: motiongen.load(p)))
    run_cases(cases, 150)


# ---- audio -------------------------------------------------------------------------------------
def _wav(seconds: float = 1.0, sr: int = 22050) -> bytes:
    t = np.arange(int(seconds * sr)) / sr
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 220 * t), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def test_fuzzed_audio(tmp_path):
    from motiongen.conditioning.audio_features import features_from_file
    from motiongen.io.audio import audio_duration, load_audio

    good = _wav()
    rng = np.random.default_rng(3)
    cases = []
    variants = []
    for rate in (4_000_000, 1, 0, 2**32 - 1):  # sample rate fields of the fmt chunk
        b = bytearray(good)
        b[24:28] = struct.pack("<I", rate)
        b[28:32] = struct.pack("<I", min(rate * 2, 2**32 - 1))
        variants.append(bytes(b))
    for channels in (0, 1000):
        b = bytearray(good)
        b[22:24] = struct.pack("<H", channels)
        variants.append(bytes(b))
    variants += [_mutate_bytes(good, rng) for _ in range(70)]
    variants += [b"", b"RIFF", b"not audio at all" * 100]
    for i, data in enumerate(variants):
        path = tmp_path / f"a{i}.wav"
        path.write_bytes(data)
        cases.append((f"{path.name} duration", lambda p=path: audio_duration(p)))
        cases.append((f"{path.name} samples", lambda p=path: load_audio(p, 22050)))
        cases.append((f"{path.name} features", lambda p=path: features_from_file(p, 20.0)))
    # flipped PCM bytes are still a readable (noisier) recording, so fewer mutations break it
    run_cases(cases, 200, broken_share=0.1)


# ---- dance folders -----------------------------------------------------------------------------
def test_fuzzed_dance_folders(tmp_path):
    from tests.test_dance import _write_folder

    template = _write_folder(tmp_path / "DANCE_W_1", audio=True)
    skeletons = (template / "skeletons.json.gz").read_bytes()
    config = (template / "config.json").read_text()
    rng = np.random.default_rng(4)
    cases = []
    for i in range(60):
        folder = tmp_path / f"DANCE_T_{i}"
        folder.mkdir()
        (folder / "audio.ogg").write_bytes((template / "audio.ogg").read_bytes())
        kind = rng.integers(4)
        if kind == 0:
            (folder / "skeletons.json.gz").write_bytes(_mutate_bytes(skeletons, rng))
            (folder / "config.json").write_text(config)
        elif kind == 1:
            (folder / "skeletons.json.gz").write_bytes(skeletons)
            (folder / "config.json").write_text(
                _mutate_bytes(config.encode(), rng).decode("latin-1")
            )
        elif kind == 2:
            data = json.loads(gzip.decompress(skeletons))
            key = str(rng.choice(["length", "center", "skeletons"]))
            data[key] = [None, "x", 10**40, [], {"a": 1}][int(rng.integers(5))]
            (folder / "skeletons.json.gz").write_bytes(gzip.compress(json.dumps(data).encode()))
            (folder / "config.json").write_text(config)
        else:
            (folder / "skeletons.json.gz").write_bytes(skeletons)
            value = [None, "50", -10, 10**30, float("nan"), [1]][int(rng.integers(6))]
            (folder / "config.json").write_text(
                json.dumps({"start_position": value, "end_position": 90})
            )
        cases.append((folder.name, lambda p=folder: motiongen.load(p)))
    run_cases(cases, 60)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("one extra number", "frame 1 does not end at the end of a row"),
        ("frames too few", "numbers after the last"),
        ("values 1e30", "rotation of .* degrees"),
        ("frame time 1e-30", "Frame Time"),
    ],
)
def test_bvh_failures_name_the_problem(tmp_path, content, needle):
    from motiongen.io.bvh import motion_to_bvh_text

    head, motion = motion_to_bvh_text(_motion()).split("MOTION", 1)
    lines = motion.strip().splitlines()
    rows = lines[2:]
    if content == "one extra number":
        rows[1] += " 0.0"
        rows[2] = " ".join(rows[2].split()[:-1])
    elif content == "frames too few":
        lines[0] = "Frames: 3"
    elif content == "values 1e30":
        rows = [" ".join(f"{float(v) * 1e30:g}" for v in row.split()) for row in rows]
    else:
        lines[1] = "Frame Time: 1e-30"
    path = tmp_path / "x.bvh"
    path.write_text(head + "MOTION\n" + "\n".join(lines[:2] + rows) + "\n")
    with pytest.raises(MotionGenError, match=needle):
        motiongen.load(path)


def test_every_fuzz_outcome_is_one_cli_line(tmp_path, monkeypatch, capsys):
    from tests.cli_helpers import error_line, run

    rng = np.random.default_rng(5)
    base = tmp_path / "base.motion"
    _motion().save(base)
    for i in range(5):
        path = tmp_path / f"c{i}.motion"
        path.write_bytes(_mutate_bytes(base.read_bytes(), rng))
        code, _, err = run(["info", path], monkeypatch, capsys)
        assert code in (0, 1)
        if code:
            assert path.name in error_line(err)


def test_a_file_with_another_up_axis_is_refused_with_the_fix(tmp_path):
    from motiongen.errors import FormatError

    pos = synth_motion("walk", seconds=3.0, seed=0).positions.astype(np.float32)
    check_motion(pos, 20.0, "walk")  # upright: fine
    z_up = tmp_path / "zup.npy"
    np.save(z_up, pos[..., [0, 2, 1]])  # a Z-up export: height in z, travel in y
    with pytest.raises(FormatError, match=r"lies along the floor .* Z-up file\? .*\(x, z, -y\)"):
        motiongen.load(z_up)
    upside_down = pos * np.array([1.0, -1.0, -1.0], np.float32)
    with pytest.raises(FormatError, match="upside down"):
        check_motion(upside_down, 20.0, "flipped")
    fallen = pos.copy()  # lying for the last third of the clip (a fall): still a motion
    fallen[40:] = fallen[40:][..., [0, 2, 1]]
    check_motion(fallen, 20.0, "fall")
