"""Live capture: one frame of keypoints in, one 3-D pose out.

The lifter looks 2 s ahead and back; live there is no future, so each new frame is lifted
as the last frame of the past 4 s (re-sampled to 20 fps, the future side padded with the
present, as the network's replicate padding does at a clip's end), then one step of a
forward Kalman filter (the same motion model as the offline smoother, without the backward
pass). Poses are in the camera's level frame (y up, z away from the camera), pelvis-relative
trajectory included, metres.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from motiongen.capture.fusion import joint_confidence, joint_filter, motion_model
from motiongen.capture.lifter import FPS, Lifter, normalise, positions_from
from motiongen.errors import InputError
from motiongen.skeleton import NUM_JOINTS

HISTORY_SECONDS = 4.0


class CaptureStream:
    """``push(xy (17, 2), conf (17,), time=None) -> (22, 3)``; ``time`` in seconds (default:
    frames at ``fps``)."""

    def __init__(
        self, lifter: Lifter, fps: float, *, sigma: float = 0.03, process: float = 30.0
    ) -> None:
        if not (np.isfinite(fps) and 1.0 <= fps <= 1000.0):
            raise InputError(f"frame rate must be 1..1000 fps, got {fps}")
        self.lifter = lifter.eval()
        self.fps = float(fps)
        self.frames: deque[tuple[float, np.ndarray, np.ndarray]] = deque()
        self.count = 0
        self.sigma, self.process = sigma, process
        self.filters: list | None = None  # one filterpy KalmanFilter per joint
        self.last_time: float | None = None

    def push(self, xy: np.ndarray, conf: np.ndarray, time: float | None = None) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64)
        conf = np.asarray(conf, dtype=np.float64)
        if xy.shape != (17, 2) or conf.shape != (17,):
            raise InputError(f"a frame is 17 points (17, 2) and 17 confidences, got {xy.shape} "
                             f"and {conf.shape}")  # fmt: skip
        now = self.count / self.fps if time is None else float(time)
        if not np.isfinite(now):
            raise InputError(f"frame time must be a finite number of seconds, got {time}")
        if self.last_time is not None and now <= self.last_time:
            raise InputError(f"frame time {now} is not after the previous {self.last_time}")
        bad = ~np.isfinite(xy).all(axis=1) | ~np.isfinite(conf)
        xy, conf = np.where(bad[:, None], 0.0, xy), np.where(bad, 0.0, np.clip(conf, 0, 1))
        self.frames.append((now, xy, conf))
        while self.frames[0][0] < now - HISTORY_SECONDS:
            self.frames.popleft()
        self.count += 1
        grid_xy, grid_conf = self._grid(now)
        with torch.no_grad():
            out = self.lifter(torch.from_numpy(normalise(grid_xy, grid_conf))[None])[0, -1]
        pose = positions_from(out.numpy().astype(np.float64)[None])[0]
        confidence = joint_confidence(grid_conf[-1:])[0]
        fused = self._filter(pose, confidence, now)
        self.last_time = now
        return fused

    def _grid(self, now: float) -> tuple[np.ndarray, np.ndarray]:
        times = np.array([f[0] for f in self.frames])
        xy = np.stack([f[1] for f in self.frames])
        conf = np.stack([f[2] for f in self.frames])
        grid = now - np.arange(int(HISTORY_SECONDS * FPS), -1, -1) / FPS
        grid = grid[grid >= times[0]]
        idx = np.clip(np.searchsorted(times, grid), 1, len(times) - 1) if len(times) > 1 else None
        if idx is None:
            return xy[:1].repeat(2, axis=0), conf[:1].repeat(2, axis=0)
        lo = idx - 1
        w = np.clip((grid - times[lo]) / np.maximum(times[idx] - times[lo], 1e-9), 0, 1)
        gx = xy[lo] * (1 - w)[:, None, None] + xy[idx] * w[:, None, None]
        # A point counts as seen where each neighbour that contributes saw it (as resample).
        gc = np.minimum(
            np.where(w[:, None] < 1, conf[lo], 1.0), np.where(w[:, None] > 0, conf[idx], 1.0)
        )
        gx[gc == 0] = 0.0
        if len(gx) < 2:
            gx, gc = np.concatenate([gx, gx]), np.concatenate([gc, gc])
        return gx, gc

    def _filter(self, pose: np.ndarray, confidence: np.ndarray, now: float) -> np.ndarray:
        r = (self.sigma / np.clip(confidence, 0.02, 1.0)) ** 2
        if self.filters is None:
            self.filters = [joint_filter(pose[j], self.fps, self.sigma, self.process)
                            for j in range(NUM_JOINTS)]  # fmt: skip
            return pose
        F, Q = motion_model(now - float(self.last_time), self.process, 3)
        out = np.empty_like(pose)
        for j, kf in enumerate(self.filters):
            kf.predict(F=F, Q=Q)
            kf.update(pose[j], R=np.eye(3) * r[j])
            out[j] = kf.x[0::3]
        return out
