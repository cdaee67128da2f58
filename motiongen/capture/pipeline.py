"""Keypoints to a clean 3-D motion: resample, lift, fuse (Kalman), canonicalise, clean up.

``capture(keypoints)`` is the whole chain; ``stages`` also returns what each step gave (the
benchmark scores raw / fused / cleaned separately).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motiongen.capture.fusion import joint_confidence, smooth
from motiongen.capture.imu import ImuStreams, align_headings
from motiongen.capture.keypoints import Keypoints
from motiongen.capture.lifter import FPS, Lifter, lift, load_lifter
from motiongen.errors import InputError
from motiongen.motion import Motion

SHIPPED_LIFTER = Path(__file__).resolve().parents[1] / "assets" / "lifter"
_LIFTERS: dict[str, Lifter] = {}


def shipped_lifter(path: str | Path | None = None) -> Lifter:
    key = str(path or SHIPPED_LIFTER)
    if key not in _LIFTERS:
        _LIFTERS[key] = load_lifter(key)
    return _LIFTERS[key]


def resample(keypoints: Keypoints, fps: float = FPS) -> tuple[np.ndarray, np.ndarray]:
    """(xy, conf) at ``fps``: linear in time, a point unseen at either neighbour is unseen."""
    T = keypoints.num_frames
    if T < 2:
        raise InputError("keypoints need at least 2 frames")
    duration = (T - 1) / keypoints.fps
    n = int(round(duration * fps)) + 1
    t = np.arange(n) / fps * keypoints.fps  # positions on the source frame axis
    lo = np.clip(np.floor(t).astype(int), 0, T - 1)
    hi = np.clip(lo + 1, 0, T - 1)
    w = (t - lo)[:, None]
    xy = keypoints.xy[lo] * (1 - w[..., None]) + keypoints.xy[hi] * w[..., None]
    conf = np.minimum(keypoints.conf[lo], np.where(w > 0, keypoints.conf[hi], 1.0))
    seen = conf > 0
    xy[~seen] = 0.0
    return xy, conf


@dataclass
class Stages:
    raw: np.ndarray  # lifted, (T, 22, 3) in the camera's level frame
    fused: np.ndarray  # after the Kalman smoother
    cleaned: np.ndarray  # canonical and post-processed
    confidence: np.ndarray  # (T, 22)
    imu_joints: list[int] = field(default_factory=list)  # IMU streams used
    notes: list[str] = field(default_factory=list)  # IMU streams left out, and why


def stages(
    keypoints: Keypoints,
    *,
    lifter: Lifter | None = None,
    imu: ImuStreams | dict[int, np.ndarray] | None = None,
    cleanup: bool = True,
) -> Stages:
    from motiongen.canonical import canonicalize
    from motiongen.postprocess import postprocess

    xy, conf = resample(keypoints)
    model = lifter or shipped_lifter()
    raw = lift(model, xy, conf)
    confidence = joint_confidence(conf)
    streams = imu if isinstance(imu, ImuStreams) else ImuStreams(dict(imu or {}))
    streams, notes = align_headings(streams, raw, confidence, FPS)
    fused = smooth(raw, confidence, FPS, imu=streams.acc)
    cleaned = canonicalize(fused).astype(np.float64)
    if cleanup:
        cleaned = postprocess(cleaned, FPS)
    return Stages(raw=raw, fused=fused, cleaned=np.asarray(cleaned, dtype=np.float64),
                  confidence=confidence, imu_joints=sorted(streams.acc), notes=notes)  # fmt: skip


def capture(
    keypoints: Keypoints,
    *,
    lifter: Lifter | None = None,
    imu: ImuStreams | dict[int, np.ndarray] | None = None,
    cleanup: bool = True,
) -> Motion:
    """A clean 3-D motion at 20 fps from 2-D keypoints (and IMU accelerations, if any)."""
    result = stages(keypoints, lifter=lifter, imu=imu, cleanup=cleanup)
    meta = {
        "source": "capture",
        "keypoint_fps": keypoints.fps,
        "report": list(keypoints.report) + result.notes,
        "mean_confidence": round(float(result.confidence.mean()), 3),
        "imu_joints": [int(j) for j in result.imu_joints],
    }
    return Motion(positions=result.cleaned.astype(np.float32), fps=FPS, meta=meta)
