"""IMU streams for capture: accelerations of some joints, on the keypoints' frame grid.

CSV columns: ``time`` (seconds on the video's clock), ``joint`` (a skeleton joint name such
as ``left_wrist``) and either

- ``ax, ay, az``: linear acceleration in m/s^2, gravity removed, in the camera's level frame
  (y up, z horizontal away from the camera, x = y cross z), as a sensor-fusion chip gives it
  once turned by the camera's heading; or
- ``ax, ay, az, gx, gy, gz``: raw readings in the sensor's own axes, the accelerometer with
  gravity (m/s^2, about 9.8 at rest) and the gyroscope in rad/s. Each sensor's orientation is
  then estimated with Madgwick's filter (the ``ahrs`` package), the acceleration turned into
  a level frame and gravity taken off. Without a magnetometer a sensor's heading is its own,
  so those streams are turned about the vertical onto the lifted joint's own acceleration
  before fusion (``align_headings``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motiongen.errors import FormatError, InputError
from motiongen.skeleton import JOINT_INDEX

MAX_ACCELERATION = 500.0  # m/s^2: beyond any human limb; a unit mistake (mg, g)
MAX_GYRO = 50.0  # rad/s: beyond any human limb; degrees per second given by mistake
GRAVITY = 9.80665
GYRO = ("gx", "gy", "gz")
GAIN = 0.1  # Madgwick's beta: how fast gravity pulls the tilt back (rad/s)
HEADING_SECONDS = 4.0  # one heading per this long (a gyro's heading drifts)


@dataclass
class ImuStreams:
    """Joint index -> (frames, 3) linear accelerations in a level frame with y up (NaN
    outside a stream). heading_known: x and z are the camera's (level-frame input); False:
    each sensor has its own heading (raw readings), turned onto the video by
    ``align_headings`` before use."""

    acc: dict[int, np.ndarray] = field(default_factory=dict)
    heading_known: bool = True

    def __bool__(self) -> bool:
        return bool(self.acc)

    def __len__(self) -> int:
        """How many joints carry a sensor."""
        return len(self.acc)


def read_imu(path: str | Path, fps: float, frames: int) -> ImuStreams:
    """The file's streams at ``fps`` on a grid of ``frames`` frames from time 0."""
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
            "frame, gravity removed, m/s^2), or those and gx, gy, gz (raw sensor readings, "
            "rad/s)"
        )
    given = set(GYRO) & set(rows[0])
    if given and given != set(GYRO):
        raise InputError(
            f"{path.name}: gyro columns {', '.join(sorted(given))} without the others; raw "
            "readings need all of gx, gy, gz (rad/s)"
        )
    raw = bool(given)
    keys = ("time", "ax", "ay", "az", *(GYRO if raw else ()))
    streams: dict[str, list[tuple[float, ...]]] = {}
    for i, row in enumerate(rows, 2):
        joint = (row["joint"] or "").strip()
        if joint not in JOINT_INDEX:
            raise InputError(f"{path.name}:{i}: unknown joint {joint!r}; use one of "
                             f"{', '.join(JOINT_INDEX)}")  # fmt: skip
        try:
            values = tuple(float(row[k]) for k in keys)
        except (TypeError, ValueError):
            raise FormatError(
                f"{path.name}:{i}: time and {', '.join(keys[1:])} must be numbers"
            ) from None
        if not np.isfinite(values).all():
            raise FormatError(f"{path.name}:{i}: NaN or infinite value")
        if max(abs(v) for v in values[1:4]) > MAX_ACCELERATION:
            raise InputError(f"{path.name}:{i}: acceleration over {MAX_ACCELERATION:g} m/s^2; "
                             "give m/s^2 (not mg)")  # fmt: skip
        if raw and max(abs(v) for v in values[4:]) > MAX_GYRO:
            raise InputError(f"{path.name}:{i}: rotation rate over {MAX_GYRO:g} rad/s; give "
                             "rad/s (not degrees per second)")  # fmt: skip
        streams.setdefault(joint, []).append(values)
    out = {}
    for joint, samples in streams.items():
        data = np.asarray(samples)
        if (np.diff(data[:, 0]) <= 0).any():
            raise InputError(
                f"{path.name}: the {joint} timestamps are not strictly increasing; sort the rows "
                "by time per joint"
            )
        linear = data[:, 1:4]
        if not raw and abs(float(np.median(np.linalg.norm(linear, axis=1))) - GRAVITY) < 1.0:
            raise InputError(
                f"{path.name}: the {joint} accelerations are about {GRAVITY:.1f} m/s^2 "
                "throughout: gravity is still in them; remove it, or add the gyro columns "
                "gx, gy, gz (rad/s) so it is taken off here"
            )
        if raw:
            linear = level_acceleration(data[:, 0], data[:, 1:4], data[:, 4:7],
                                        where=f"{path.name} ({joint})")  # fmt: skip
        out[JOINT_INDEX[joint]] = on_grid(data[:, 0], linear, fps, frames)
    return ImuStreams(out, heading_known=not raw)


def on_grid(times: np.ndarray, values: np.ndarray, fps: float, frames: int) -> np.ndarray:
    """Samples (N, 3) at ``times`` -> (frames, 3) at ``fps`` from 0 (NaN outside them)."""
    grid = np.arange(frames) / fps
    out = np.full((frames, 3), np.nan)
    inside = (grid >= times[0]) & (grid <= times[-1])
    for k in range(3):
        out[inside, k] = np.interp(grid[inside], times, values[:, k])
    return out


def level_acceleration(
    times: np.ndarray, acc: np.ndarray, gyr: np.ndarray, *, where: str = "IMU"
) -> np.ndarray:
    """Raw sensor readings (N, 3) -> linear acceleration (N, 3) in a level frame, y up, with
    the sensor's own heading: orientation from Madgwick's filter (gyro and gravity), the
    accelerometer turned by it, gravity taken off."""
    from ahrs.filters import Madgwick
    from scipy.spatial.transform import Rotation

    if len(times) < 10:
        raise InputError(f"{where}: at least 10 samples are needed to find the orientation")
    size = np.linalg.norm(acc, axis=1)
    low, high = np.percentile(size, [10, 90])
    # With gravity in, a reading is often near 9.8 m/s^2 whatever the arm does: readings
    # mostly far below it are in g or had gravity removed; mostly far above, in mg or ft/s^2.
    if not (high > 0.5 * GRAVITY and low < 3.0 * GRAVITY):
        raise InputError(
            f"{where}: raw accelerometer readings (with gyro columns) must include gravity, "
            f"about {GRAVITY:.1f} m/s^2 at rest; these run from {low:.2f} to {high:.2f} m/s^2 "
            "(give m/s^2, or linear acceleration without the gyro columns)"
        )
    steps = np.diff(times, prepend=times[0] - np.median(np.diff(times)))
    filt = Madgwick(gain=GAIN)
    # ahrs skips the whole update (gravity's pull included) when the rate is exactly zero,
    # as in rounded readings at rest: a rate far below any sensor's noise avoids that.
    rates = np.where((np.abs(gyr).sum(axis=1) == 0.0)[:, None], 1e-9, gyr)

    def run(order: np.ndarray, sign: float, q: np.ndarray) -> np.ndarray:
        quats = np.empty((len(order), 4))
        for n, i in enumerate(order):
            q = filt.updateIMU(q, gyr=sign * rates[i], acc=acc[i], dt=float(steps[i]))
            quats[n] = q
        return quats

    # The whole file is at hand: a pass backwards in time settles the tilt at the start
    # (where a guess from one reading would be off by the arm's own acceleration), then
    # the forward pass starts from it.
    last = acc[-min(len(acc), 20) :].mean(axis=0)
    guess, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [last / np.linalg.norm(last)])
    x, y, z, w = guess.as_quat()
    back = run(np.arange(len(times))[::-1], -1.0, np.array([w, x, y, z]))
    quats = run(np.arange(len(times)), 1.0, back[-1])
    earth = Rotation.from_quat(quats[:, [1, 2, 3, 0]]).apply(acc)  # z up
    earth[:, 2] -= GRAVITY
    return np.stack([earth[:, 0], earth[:, 2], -earth[:, 1]], axis=1)  # y up, right-handed


def align_headings(
    imu: ImuStreams, positions: np.ndarray, confidence: np.ndarray, fps: float
) -> tuple[ImuStreams, list[str]]:
    """Streams of unknown heading turned about the vertical onto the acceleration of the
    joints they are worn on (``positions`` (T, 22, 3), the lifted motion, where
    ``confidence`` (T, 22) > 0.5), by least squares, one angle per few seconds. A stream with
    under a second of such frames cannot be placed and is left out; the notes say so."""
    from scipy.ndimage import gaussian_filter1d

    from motiongen.canonical import rotate_y, yaw_between

    if imu.heading_known:
        return imu, []
    names = {v: k for k, v in JOINT_INDEX.items()}
    out, notes = {}, []
    for j, acc in imu.acc.items():
        seen = gaussian_filter1d(positions[:, j], 1.0, axis=0)
        kp = np.full_like(seen, np.nan)
        kp[1:-1] = (seen[2:] - 2 * seen[1:-1] + seen[:-2]) * fps**2
        ok = (confidence[:, j] > 0.5) & np.isfinite(acc).all(axis=1) & np.isfinite(kp).all(axis=1)
        ok[1:-1] &= (confidence[:-2, j] > 0.5) & (confidence[2:, j] > 0.5)
        if not np.isfinite(acc).all(axis=1).any():
            notes.append(f"IMU on {names[j]} left out: its stream does not overlap the video")
            continue
        if ok.sum() < fps:
            notes.append(f"IMU on {names[j]} left out: under a second of confident keypoints "
                         "to find its heading")  # fmt: skip
            continue
        # A gyro's heading drifts slowly: one angle per few seconds, interpolated between.
        centres, angles = [], []
        block = int(HEADING_SECONDS * fps)
        for start in range(0, len(acc), block):
            part = ok.copy()
            part[:start] = part[start + block :] = False
            if part.sum() >= fps:
                centres.append(start + (min(start + block, len(acc)) - start) / 2)
                angles.append(float(yaw_between(acc[part], kp[part])))
        if not angles:
            centres, angles = [len(acc) / 2], [float(yaw_between(acc[ok], kp[ok]))]
        angle = np.interp(np.arange(len(acc)), centres, np.unwrap(angles))
        out[j] = rotate_y(acc, angle)
    return ImuStreams(out, heading_known=True), notes
