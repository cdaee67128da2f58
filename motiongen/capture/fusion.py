"""Kalman filtering and smoothing of lifted joints, weighted by confidence, with optional IMUs.

Each joint coordinate is a constant-acceleration track (position, velocity, acceleration);
one filterpy ``KalmanFilter`` per joint (its three tracks), then its Rauch-Tung-Striebel
smoother. Measurements:
- the lifted position of every joint, with a standard deviation of ``sigma`` metres divided
  by the joint's 2-D confidence (a joint whose keypoints were not seen is barely trusted);
- for joints with an IMU, its acceleration (the positions' frame, gravity removed, m/s^2) with
  ``imu_sigma``: during an occlusion the track follows the sensor instead of the guess.
"""

from __future__ import annotations

import numpy as np

from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS

# Which COCO points see each joint (for the joint's confidence); others use the frame mean.
SEEN_BY = {
    "head": (0, 1, 2, 3, 4), "neck": (5, 6), "left_shoulder": (5,), "right_shoulder": (6,),
    "left_collar": (5,), "right_collar": (6,), "left_elbow": (7,), "right_elbow": (8,),
    "left_wrist": (9,), "right_wrist": (10,), "left_hip": (11,), "right_hip": (12,),
    "pelvis": (11, 12), "left_knee": (13,), "right_knee": (14,), "left_ankle": (15,),
    "right_ankle": (16,), "left_foot": (15,), "right_foot": (16,),
}  # fmt: skip


def joint_confidence(conf: np.ndarray) -> np.ndarray:
    """(T, 17) keypoint confidences -> (T, 22) joint confidences."""
    out = np.repeat(conf.mean(axis=1, keepdims=True), NUM_JOINTS, axis=1)
    for name, points in SEEN_BY.items():
        out[:, JOINT_INDEX[name]] = conf[:, list(points)].mean(axis=1)
    return out


def motion_model(dt: float, process: float, tracks: int) -> tuple[np.ndarray, np.ndarray]:
    """(F, Q) of ``tracks`` independent constant-acceleration tracks over ``dt`` seconds, with
    white jerk of standard deviation ``process`` (m/s^3)."""
    f1 = np.array([[1, dt, dt * dt / 2], [0, 1, dt], [0, 0, 1]])
    q1 = process**2 * np.array(
        [[dt**5 / 20, dt**4 / 8, dt**3 / 6], [dt**4 / 8, dt**3 / 3, dt**2 / 2],
         [dt**3 / 6, dt**2 / 2, dt]]
    )  # fmt: skip
    return np.kron(np.eye(tracks), f1), np.kron(np.eye(tracks), q1)


def initial_covariance(sigma: float, tracks: int) -> np.ndarray:
    return np.kron(np.eye(tracks), np.diag([sigma**2 * 4, 1.0, 10.0]))


def smooth(
    positions: np.ndarray,
    confidence: np.ndarray,
    fps: float,
    *,
    sigma: float = 0.03,
    process: float = 30.0,
    imu: dict[int, np.ndarray] | None = None,
    imu_sigma: float = 0.5,
) -> np.ndarray:
    """Smoothed (T, 22, 3) positions.

    positions: lifted (T, 22, 3) metres; confidence: (T, 22) in [0, 1]; process: the
    standard deviation of the jerk (m/s^3) the motion model allows; imu: joint index ->
    (T, 3) accelerations on the same frames (NaN where the sensor gave nothing).
    """
    T = len(positions)
    imu = imu or {}
    out = np.empty((T, NUM_JOINTS, 3))
    conf = np.clip(confidence, 0.02, 1.0)
    # One filter per joint (its x, y, z tracks): the tracks are independent, and 22 small
    # filters run ~50x faster than one over all 66 tracks.
    for j in range(NUM_JOINTS):
        kf = joint_filter(positions[0, j], fps, sigma, process, with_imu=j in imu)
        zs, Rs = [], []
        for t in range(T):
            z, r = positions[t, j], np.full(3, (sigma / conf[t, j]) ** 2)
            if j in imu:
                acc = imu[j][t]
                missing = ~np.isfinite(acc)
                z = np.concatenate([z, np.where(missing, 0.0, acc)])
                r = np.concatenate([r, np.where(missing, 1e6, imu_sigma**2)])
            zs.append(z)
            Rs.append(np.diag(r))
        means, covs, _, _ = kf.batch_filter(zs, Rs=Rs)
        smoothed, _, _, _ = kf.rts_smoother(means, covs)
        out[:, j] = smoothed[:, 0::3]
    return out


def joint_filter(
    start: np.ndarray, fps: float, sigma: float, process: float, *, with_imu: bool = False
):
    """A filterpy ``KalmanFilter`` for one joint: state (x, vx, ax, y, vy, ay, z, vz, az),
    measuring the position (and, with an IMU, the acceleration)."""
    from filterpy.kalman import KalmanFilter

    m = 6 if with_imu else 3
    kf = KalmanFilter(dim_x=9, dim_z=m)
    kf.F, kf.Q = motion_model(1.0 / fps, process, 3)
    H = np.zeros((m, 9))
    H[np.arange(3), [0, 3, 6]] = 1.0
    if with_imu:
        H[3 + np.arange(3), [2, 5, 8]] = 1.0
    kf.H = H
    kf.x = np.zeros(9)
    kf.x[0::3] = start
    kf.P = initial_covariance(sigma, 3)
    return kf
