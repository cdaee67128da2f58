"""IMU streams for capture: accelerations of some joints, on the keypoints' frame grid.

CSV columns: ``time`` (seconds on the video's clock), ``joint`` (a skeleton joint name such
as ``left_wrist``), ``ax, ay, az`` in m/s^2 with gravity removed, in the camera's level frame:
y up, z horizontal away from the camera, x = y cross z (a sensor fusion chip's "linear
acceleration in world coordinates" turned by the camera's heading; raw sensor-frame readings
must be rotated by the device's orientation first). Gyro columns are not read yet.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from motiongen.errors import FormatError, InputError
from motiongen.skeleton import JOINT_INDEX

MAX_ACCELERATION = 500.0  # m/s^2: beyond any human limb; a unit mistake (mg, g)


def read_imu(path: str | Path, fps: float, frames: int) -> dict[int, np.ndarray]:
    """Joint index -> (frames, 3) accelerations at ``fps`` (NaN outside the stream)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"IMU file {path} not found")
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{path.name} is not a readable CSV file ({exc})") from None
    need = {"time", "joint", "ax", "ay", "az"}
    if not rows or not need <= set(rows[0]):
        raise InputError(
            f"{path.name}: IMU CSV needs the columns time, joint, ax, ay, az (camera level "
            "frame, gravity removed, m/s^2)"
        )
    streams: dict[str, list[tuple[float, float, float, float]]] = {}
    for i, row in enumerate(rows, 2):
        joint = (row["joint"] or "").strip()
        if joint not in JOINT_INDEX:
            raise InputError(f"{path.name}:{i}: unknown joint {joint!r}; use one of "
                             f"{', '.join(JOINT_INDEX)}")  # fmt: skip
        try:
            values = tuple(float(row[k]) for k in ("time", "ax", "ay", "az"))
        except (TypeError, ValueError):
            raise FormatError(f"{path.name}:{i}: time and ax, ay, az must be numbers") from None
        if not np.isfinite(values).all():
            raise FormatError(f"{path.name}:{i}: NaN or infinite value")
        if max(abs(v) for v in values[1:]) > MAX_ACCELERATION:
            raise InputError(f"{path.name}:{i}: acceleration over {MAX_ACCELERATION:g} m/s^2; "
                             "give m/s^2 (not mg)")  # fmt: skip
        streams.setdefault(joint, []).append(values)  # type: ignore[arg-type]
    out = {}
    grid = np.arange(frames) / fps
    for joint, samples in streams.items():
        data = np.asarray(samples)
        if (np.diff(data[:, 0]) <= 0).any():
            raise InputError(
                f"{path.name}: the {joint} timestamps are not strictly increasing; sort the rows "
                "by time per joint"
            )
        acc = np.full((frames, 3), np.nan)
        inside = (grid >= data[0, 0]) & (grid <= data[-1, 0])
        for k in range(3):
            acc[inside, k] = np.interp(grid[inside], data[:, 0], data[:, k + 1])
        out[JOINT_INDEX[joint]] = acc
    return out
