"""A generated ``Motion`` as the API's JSON body and as downloadable files."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.io.numpy_io import HUMANML3D_FPS as NPY_FPS
from motiongen.io.numpy_io import npy_rate_problem
from motiongen.motion import Motion
from motiongen.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

MEDIA_TYPES = {
    "json": "application/json",
    "bvh": "text/plain; charset=utf-8",
    "motion": "application/json",
    "npy": "application/octet-stream",
    "mp4": "video/mp4",
}
FILE_NAMES = {
    "json": "motion.json",
    "bvh": "motion.bvh",
    "motion": "motion.motion",
    "npy": "motion.npy",
    "mp4": "motion.mp4",
}
# Every finished job keeps these (cheap to write); mp4 only when it was asked for.
JOB_FORMATS = ("json", "bvh", "motion", "npy")
DECIMALS = 4  # 0.1 mm, as in the .motion files


def motion_payload(motion: Motion) -> dict[str, Any]:
    """The JSON body of a generated motion (``schemas.MotionBody``)."""
    positions = np.round(motion.positions.astype(np.float64), DECIMALS) + 0.0
    return {
        "fps": motion.fps,
        "num_frames": motion.num_frames,
        "num_joints": NUM_JOINTS,
        "joints": list(JOINT_NAMES),
        "parents": list(PARENTS),
        "positions": positions.tolist(),
        # a timeline says every segment, in turn (its first alone read as the whole answer)
        "text": ", then ".join(motion.texts)
        if motion.meta.get("segments") and motion.texts
        else (motion.texts[0] if motion.texts else None),
        "seed": int(motion.meta.get("seed", 0)),
        "meta": motion.meta,
    }


def _write_atomic(path: Path, write) -> None:  # noqa: ANN001 - write(tmp_path)
    """Write through a temporary name in the same folder, then rename: a crash mid-write
    leaves no half file under the final name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix="-" + path.name)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_file(
    motion: Motion,
    fmt: str,
    folder: Path,
    *,
    title: str | None = None,
    skeleton: str = "own",
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Write ``motion`` in format ``fmt`` to ``folder/FILE_NAMES[fmt]`` (a BVH on
    ``skeleton``: ``io.bvh.SKELETONS``); an MP4's render stops when ``cancel`` says so."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAMES[fmt]
    if fmt == "json":
        text = json.dumps(motion_payload(motion), separators=(",", ":"), allow_nan=False)
        _write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
        return path
    options: dict[str, Any] = (
        {"title": title, "cancel": cancel}
        if fmt == "mp4"
        else {"skeleton": skeleton}
        if fmt == "bvh"
        else {}
    )
    if fmt == "npy" and npy_rate_problem(motion.fps):
        # A .npy stores no frame rate and is read as 20 fps (HumanML3D): a control result at
        # its take's 30 fps goes into it at 20 (the json, bvh and motion files keep 30).
        motion = motion.resample(NPY_FPS)
    # The writers choose the format by extension, so the temporary name keeps it.
    suffix = ".motion" if fmt == "motion" else path.suffix

    def write(tmp: Path) -> None:
        real = tmp.with_name(tmp.name + suffix)
        try:
            motion.save(real, **options)
            os.replace(real, tmp)
        finally:
            if real.exists():
                real.unlink()

    _write_atomic(path, write)
    return path


def file_bytes(motion: Motion, fmt: str, skeleton: str = "own") -> bytes:
    """One file's bytes, for a synchronous answer."""
    with tempfile.TemporaryDirectory(prefix="motiongen-serve-") as tmp:
        return write_file(motion, fmt, Path(tmp), skeleton=skeleton).read_bytes()
