"""2-D keypoints from pose estimators, read into one layout: COCO-17 pixels with confidences.

Readers (``read_keypoints`` picks by file type and content):
- JSON: ``{"fps": 30, "width": 1920, "height": 1080, "layout": "coco17" | "mediapipe33",
  "frames": [[[x, y, c] x J] ...]}`` (a frame may also be ``{"keypoints": [...]}`` with a
  flat ``[x, y, c, x, y, c ...]`` list, and the file may be the bare list of frames).
  MediaPipe's normalised ``x, y`` in [0, 1] (with ``visibility`` as confidence) are scaled by
  ``width`` / ``height``.
- CSV: one row per frame with columns ``<joint>_x, <joint>_y, <joint>_c`` (COCO or MediaPipe
  joint names), or one row per frame and joint: ``frame, joint, x, y, confidence``.
- OpenPose output folders: one ``*_keypoints.json`` per frame (BODY_25 or COCO-18), the first
  person of each.

Frames that cannot be used (NaN, a joint outside the image by more than its size, a missing
person) are kept with confidence 0 and listed in ``Keypoints.report``; a file with no usable
frame, a layout with joints missing, or all-zero confidences is refused with the reason.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import FormatError, InputError

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# MediaPipe Pose's 33 landmarks: the indices of the COCO-17 points among them.
MEDIAPIPE33_TO_COCO = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
MEDIAPIPE33_NAMES = {
    "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24, "left_knee": 25,
    "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
}  # fmt: skip
# OpenPose: BODY_25 and COCO-18 indices of the COCO-17 points.
OPENPOSE_TO_COCO = {
    25: (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11),
    18: (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10),
}
LAYOUTS = {"coco17": 17, "mediapipe33": 33}
MAX_FRAMES = 100_000
MIN_FRAMES = 2
MAX_SECONDS = 600.0  # ten minutes of video per capture


@dataclass
class Keypoints:
    """xy: (T, 17, 2) pixels (x right, y down); conf: (T, 17) in [0, 1] (0 = not seen)."""

    xy: np.ndarray
    conf: np.ndarray
    fps: float
    width: float
    height: float
    report: list[str] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return int(self.xy.shape[0])


def read_keypoints(
    path: str | Path, *, fps: float | None = None, width: float | None = None,
    height: float | None = None,
) -> Keypoints:  # fmt: skip
    """Keypoints of a JSON or CSV file or an OpenPose folder (see the module docstring);
    ``fps`` / ``width`` / ``height`` fill in what the file does not say."""
    path = Path(path)
    if path.is_dir():
        raw, meta = _openpose_folder(path)
    elif not path.is_file():
        raise InputError(f"keypoints file {path} not found")
    elif path.suffix.lower() == ".json":
        raw, meta = _json_file(path)
    elif path.suffix.lower() == ".csv":
        raw, meta = _csv_file(path)
    else:
        raise InputError(
            f"cannot read keypoints from {path.name}: use a .json or .csv file or an OpenPose "
            "output folder"
        )
    if fps is not None and not _rate_ok(fps):
        # checked even where the file gives its own rate (a bad --fps was silently ignored)
        raise InputError(f"the frame rate given (--fps, or POST /capture's fps) must be "
                         f"1..1000 fps, got {fps}")  # fmt: skip
    given = _number(meta.get("fps"), "fps", path.name)
    fps = given if given is not None else fps  # "fps": 0 is a wrong rate, not a missing one
    if fps is None:
        raise InputError(
            f"{path.name} does not give its frame rate; pass it (--fps on the command line, "
            "the fps field of POST /capture)"
        )
    sizes = {k: _number(meta.get(k), k, path.name) for k in ("width", "height")}
    for k, v in sizes.items():
        if v is not None and v <= 0:  # a wrong size, not a missing one
            raise InputError(f"{path.name}: {k} must be a positive number of pixels, got {v:g}")
    for k, v in (("width", width), ("height", height)):  # given as an option: the same rule
        if v is not None and not (np.isfinite(v) and v > 0):
            raise InputError(f"--{k} must be a positive number of pixels, got {v:g}")
    width = sizes["width"] or width or None
    height = sizes["height"] or height or None
    return checked(raw, float(fps), width, height, meta.get("normalised", False), path.name)


def _rate_ok(fps: float) -> bool:
    return bool(np.isfinite(fps) and 1.0 <= fps <= 1000.0)


def _number(value: Any, what: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise FormatError(f"{name}: {what} must be a number, got {value!r}")
    return float(value)


def checked(
    raw: np.ndarray,
    fps: float,
    width: float | None,
    height: float | None,
    normalised: bool,
    name: str = "keypoints",
) -> Keypoints:
    """Keypoints from raw (T, 17, 3) [x, y, c]: frames that cannot be used get confidence 0
    and a line in the report; refused when nothing is usable."""
    if not _rate_ok(fps):
        raise InputError(f"{name}: frame rate must be 1..1000 fps, got {fps}")
    if raw.ndim != 3 or raw.shape[1:] != (17, 3):
        raise FormatError(f"{name}: expected (frames, 17, 3) keypoints, got {raw.shape}")
    if not MIN_FRAMES <= len(raw) <= MAX_FRAMES:
        raise InputError(f"{name}: {len(raw)} frames; give {MIN_FRAMES}..{MAX_FRAMES}")
    if (len(raw) - 1) / fps > MAX_SECONDS:
        raise InputError(f"{name}: {(len(raw) - 1) / fps:.0f} s of keypoints; at most "
                         f"{MAX_SECONDS:g} s per capture (split the video)")  # fmt: skip
    raw = raw.astype(np.float64).copy()
    if normalised:
        if not (width and height):
            raise InputError(
                f"{name}: normalised (0..1) coordinates need the image size; pass width and "
                "height (--width/--height)"
            )
        raw[..., 0] *= width
        raw[..., 1] *= height
    report = []
    bad = ~np.isfinite(raw).all(axis=-1)
    if bad.any():
        report.append(f"{int(bad.any(axis=1).sum())} frame(s) with NaN or infinite values")
    raw[bad] = 0.0
    out_of_range = ~bad & ((raw[..., 2] < 0.0) | (raw[..., 2] > 1.0))
    if out_of_range.any():  # some estimators score heatmap peaks, not probabilities
        report.append(f"{int(out_of_range.sum())} confidence(s) outside 0..1 clipped to it")
    conf = np.clip(raw[..., 2], 0.0, 1.0)
    conf[bad] = 0.0
    xy = raw[..., :2]
    seen = conf > 0
    if not seen.any():
        raise InputError(
            f"{name}: every keypoint has confidence 0; nothing was detected (check the pose "
            "estimator's output)"
        )
    if not normalised and float(np.abs(xy[seen]).max()) <= 1.0:
        # COCO pixels in 0..1 are normalised coordinates said nowhere: lifted all the same
        # (the lifter reads shapes, not sizes), but points outside the image are not caught
        report.append(
            'every coordinate lies within 0..1: if they are normalised, say so ("normalised": '
            "true, with the image's width and height) so points outside the image are caught"
        )
    if width is None or height is None:
        span = xy[seen]
        width = width or float(span[:, 0].max() - min(0.0, span[:, 0].min()))
        height = height or float(span[:, 1].max() - min(0.0, span[:, 1].min()))
    outside = seen & (
        (xy[..., 0] < -width) | (xy[..., 0] > 2 * width)
        | (xy[..., 1] < -height) | (xy[..., 1] > 2 * height)
    )  # fmt: skip
    if outside.any():
        report.append(f"{int(outside.sum())} keypoint(s) far outside the image ignored")
        conf[outside] = 0.0
    empty = (conf == 0).all(axis=1)
    if empty.all():
        raise InputError(f"{name}: no frame has a usable keypoint")
    if empty.any():
        report.append(f"{int(empty.sum())} frame(s) without a usable keypoint (filled in)")
    return Keypoints(xy=xy, conf=conf, fps=fps, width=float(width), height=float(height),
                     report=report)  # fmt: skip


def _frames_array(frames: list[Any], layout: str, name: str) -> np.ndarray:
    count = LAYOUTS[layout]
    rows = []
    for i, frame in enumerate(frames):
        if isinstance(frame, dict):
            frame = frame.get("keypoints", frame.get("landmarks"))
        if frame is None or (isinstance(frame, list) and not frame):
            rows.append(np.full((count, 3), np.nan))  # no person in this frame
            continue
        values = np.asarray(frame, dtype=np.float64) if _numeric(frame) else None
        if values is None or values.ndim not in (1, 2):
            raise FormatError(f"{name}: frame {i} is not a list of [x, y, c] numbers")
        if values.ndim == 1 and values.size == count * 3:
            values = values.reshape(count, 3)
        if values.ndim == 2 and values.shape == (count, 2):
            values = np.concatenate([values, np.ones((count, 1))], axis=1)
        if values.shape != (count, 3):
            raise FormatError(
                f"{name}: frame {i} has {values.size // 3 if values.ndim == 1 else len(values)} "
                f"joints; layout {layout} has {count} ({', '.join(COCO17) if count == 17 else '33 MediaPipe landmarks'})"
            )
        rows.append(values)
    data = np.stack(rows)
    return data[:, list(MEDIAPIPE33_TO_COCO)] if layout == "mediapipe33" else data


def _numeric(value: Any) -> bool:
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        return False
    try:
        np.asarray(value, dtype=np.float64)
        return True
    except (TypeError, ValueError):
        return False


def _json_file(path: Path) -> tuple[np.ndarray, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path.name} is not valid JSON ({exc})") from None
    meta: dict[str, Any] = {}
    frames = data
    if isinstance(data, dict):
        if not isinstance(data.get("layout", "coco17"), str):
            raise FormatError(f"{path.name}: layout must be a name (coco17 or mediapipe33)")
        if "people" in data:  # a single OpenPose frame
            frames = [_openpose_person(data, path.name)]
            meta["layout"] = "coco17"
        else:
            frames = data.get("frames")
            meta = {k: data.get(k) for k in ("fps", "width", "height", "layout")}
            meta["normalised"] = data.get("normalized", data.get("normalised"))
    if not isinstance(frames, list) or not frames:
        raise FormatError(
            f'{path.name}: no frames; expected {{"fps": 30, "frames": [[[x, y, c] x 17], ...]}}'
        )
    layout = (meta.get("layout") or _guess_layout(frames)).lower()
    if layout not in LAYOUTS:
        raise InputError(f"{path.name}: unknown layout {layout!r}; use coco17 or mediapipe33")
    if meta.get("normalised") is None:  # MediaPipe gives 0..1 image coordinates by default
        meta["normalised"] = layout == "mediapipe33"
    meta["normalised"] = bool(meta["normalised"])
    return _frames_array(frames, layout, path.name), meta


def _guess_layout(frames: list[Any]) -> str:
    for frame in frames:
        if isinstance(frame, dict):
            frame = frame.get("keypoints", frame.get("landmarks"))
        if isinstance(frame, list) and frame:
            n = len(frame) // 3 if not isinstance(frame[0], list) else len(frame)
            return "mediapipe33" if n == 33 else "coco17"
    return "coco17"


def _csv_file(path: Path) -> tuple[np.ndarray, dict]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{path.name} is not a readable CSV file ({exc})") from None
    if not rows:
        raise FormatError(f"{path.name}: no rows")
    # headers as any tool writes them: "Nose_X", " nose_x " are nose_x
    rows = [{str(k).strip().lower(): v for k, v in row.items() if k is not None} for row in rows]
    columns = set(rows[0])
    if {"frame", "joint", "x", "y"} <= columns:
        return _csv_long(rows, path.name), {}
    missing = [j for j in COCO17 if f"{j}_x" not in columns or f"{j}_y" not in columns]
    if missing:
        raise InputError(
            f"{path.name}: columns for {', '.join(missing)} are missing; give "
            "<joint>_x, <joint>_y (and <joint>_c) for the 17 COCO joints, or rows of "
            "frame, joint, x, y, confidence"
        )
    out = np.zeros((len(rows), 17, 3))
    for i, row in enumerate(rows):
        for j, joint in enumerate(COCO17):
            out[i, j] = [_float(row.get(f"{joint}_x")), _float(row.get(f"{joint}_y")),
                         _float(row.get(f"{joint}_c", "1"))]  # fmt: skip
    return out, {}


def _csv_long(rows: list[dict], name: str) -> np.ndarray:
    frames: dict[int, dict[str, list[float]]] = {}
    for row in rows:
        try:
            frame = int(row["frame"])
        except (TypeError, ValueError):
            raise FormatError(f"{name}: frame {row.get('frame')!r} is not a whole number") from None
        joint = (row.get("joint") or "").strip().lower()
        conf = row.get("confidence", row.get("c", "1"))
        frames.setdefault(frame, {})[joint] = [_float(row["x"]), _float(row["y"]), _float(conf)]
    unknown = sorted({j for f in frames.values() for j in f} - set(COCO17) - set(MEDIAPIPE33_NAMES))
    if unknown:
        raise InputError(f"{name}: unknown joint name(s) {', '.join(unknown[:5])}; use COCO names "
                         f"({', '.join(COCO17)})")  # fmt: skip
    first, last = min(frames), max(frames)
    if last - first + 1 > MAX_FRAMES:
        raise InputError(f"{name}: frames {first}..{last}; at most {MAX_FRAMES} frames")
    # Frames without a row (no detection: pose estimators leave them out) stay, unseen.
    out = np.zeros((last - first + 1, 17, 3))
    for frame, joints in frames.items():
        for j, joint in enumerate(COCO17):
            if joint in joints:
                out[frame - first, j] = joints[joint]
    return out


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _openpose_person(data: Any, name: str) -> list[list[float]]:
    people = data.get("people") if isinstance(data, dict) else None
    if not people:
        return []
    if not isinstance(people, list) or not isinstance(people[0], dict):
        raise FormatError(f"{name}: 'people' must be a list of objects with pose_keypoints_2d")
    flat = people[0].get("pose_keypoints_2d") or []
    if not _numeric(flat):
        raise FormatError(f"{name}: pose_keypoints_2d must be a list of numbers")
    count = len(flat) // 3
    if count not in OPENPOSE_TO_COCO:
        raise FormatError(f"{name}: {count} OpenPose keypoints; BODY_25 (25) or COCO-18 expected")
    points = np.asarray(flat, dtype=np.float64).reshape(count, 3)
    return points[list(OPENPOSE_TO_COCO[count])].tolist()


def _openpose_folder(folder: Path) -> tuple[np.ndarray, dict]:
    files = sorted(folder.glob("*_keypoints.json")) or sorted(folder.glob("*.json"))
    if not files:
        raise InputError(f"{folder} has no OpenPose *_keypoints.json files")
    frames = []
    for f in files:
        try:
            frames.append(_openpose_person(json.loads(f.read_text(encoding="utf-8")), f.name))
        except (UnicodeDecodeError, json.JSONDecodeError):
            frames.append([])  # an unreadable frame is a frame without a person
    return _frames_array(frames, "coco17", folder.name), {}
