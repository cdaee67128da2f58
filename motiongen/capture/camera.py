"""Where COCO-17 keypoints sit on our skeleton, and pinhole cameras that film a 3-D motion.

The 22-joint skeleton has no face: nose, eyes and ears are placed from the head and neck and
the facing direction (shoulder line), at typical adult offsets. Hips are our hip joints, a
few centimetres inside where a detector puts COCO hips: the lifter learns this mapping, so it
matters only as a small systematic offset on real detections.

Cameras look at the subject, level or tilted down a little, from 2.5-7 m, with a focal length
of 0.9-1.8 image heights; projections are in pixels of a 1920x1080 image (x right, y down).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.skeleton import JOINT_INDEX

J = JOINT_INDEX
# COCO-17 points taken straight from joints (the face comes from _face).
BODY = {
    5: J["left_shoulder"], 6: J["right_shoulder"], 7: J["left_elbow"], 8: J["right_elbow"],
    9: J["left_wrist"], 10: J["right_wrist"], 11: J["left_hip"], 12: J["right_hip"],
    13: J["left_knee"], 14: J["right_knee"], 15: J["left_ankle"], 16: J["right_ankle"],
}  # fmt: skip
WIDTH, HEIGHT = 1920.0, 1080.0


def coco_points(positions: np.ndarray) -> np.ndarray:
    """(T, 22, 3) metres -> (T, 17, 3) the COCO-17 points in 3-D."""
    out = np.zeros((*positions.shape[:-2], 17, 3))
    for c, j in BODY.items():
        out[..., c, :] = positions[..., j, :]
    out[..., :5, :] = _face(positions)
    return out


def _face(p: np.ndarray) -> np.ndarray:
    head, neck = p[..., J["head"], :], p[..., J["neck"], :]
    left = p[..., J["left_shoulder"], :] - p[..., J["right_shoulder"], :]
    left = left / np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-6)
    up = head - neck
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-6)
    forward = np.cross(left, up)  # the skeleton faces +Z with left at +X: left x up = forward
    forward = forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-6)
    nose = head + 0.10 * forward + 0.0 * up
    eye = head + 0.08 * forward + 0.04 * up
    ear = head + 0.0 * forward + 0.02 * up
    return np.stack(
        [nose, eye + 0.032 * left, eye - 0.032 * left, ear + 0.075 * left, ear - 0.075 * left],
        axis=-2,
    )


@dataclass
class Camera:
    """A pinhole camera: world -> camera rotation R (3, 3), position (3,), focal in pixels."""

    rotation: np.ndarray
    position: np.ndarray
    focal: float
    width: float = WIDTH
    height: float = HEIGHT

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) in camera coordinates (x right, y down, z forward)."""
        return (points - self.position) @ self.rotation.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points (..., 3) -> pixels (..., 2)."""
        c = self.to_camera(points)
        z = np.maximum(c[..., 2:3], 1e-3)
        return c[..., :2] / z * self.focal + np.array([self.width / 2, self.height / 2])


def look_at(eye: np.ndarray, target: np.ndarray, focal: float) -> Camera:
    """A level-horizon camera at ``eye`` looking at ``target`` (Y up in the world)."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, np.array([0.0, 1.0, 0.0]))
    right = right / np.linalg.norm(right)
    down = np.cross(forward, right)
    return Camera(rotation=np.stack([right, down, forward]), position=eye, focal=focal)


def random_camera(positions: np.ndarray, rng: np.random.Generator) -> Camera:
    """A camera filming the whole motion: around it at any angle, 2.5-7 m from its centre,
    0.6-2.2 m high, looking at its mid-height."""
    centre = positions[:, 0].mean(axis=0)
    reach = float(np.linalg.norm(positions[:, 0, [0, 2]] - centre[[0, 2]], axis=-1).max())
    angle = rng.uniform(0, 2 * np.pi)
    distance = rng.uniform(2.5, 7.0) + reach
    eye = centre + np.array([np.sin(angle) * distance, 0.0, np.cos(angle) * distance])
    eye[1] = rng.uniform(0.6, 2.2)
    target = centre.copy()
    target[1] = rng.uniform(0.7, 1.1)
    return look_at(eye, target, focal=rng.uniform(0.9, 1.8) * HEIGHT)


def film(
    positions: np.ndarray,
    rng: np.random.Generator,
    *,
    noise: float = 0.01,
    dropout: float = 0.05,
    camera: Camera | None = None,
) -> tuple[np.ndarray, np.ndarray, Camera]:
    """Keypoints a pose estimator might give for ``positions`` (T, 22, 3): pixels (T, 17, 2)
    with Gaussian noise of ``noise`` x the body's pixel height, confidences (T, 17) that drop
    with the noise, and ``dropout`` of the points missed (confidence 0) in runs of frames."""
    camera = camera or random_camera(positions, rng)
    points = coco_points(positions)
    xy = camera.project(points)
    T = len(xy)
    body = np.maximum(np.ptp(xy[..., 1], axis=1), 1.0)[:, None, None]  # (T, 1, 1) pixels
    sigma = noise * rng.uniform(0.3, 1.7, size=(T, 17, 1))
    xy = xy + rng.standard_normal(xy.shape) * sigma * body
    conf = np.clip(1.0 - 12.0 * sigma[..., 0] + rng.normal(0, 0.05, (T, 17)), 0.05, 1.0)
    missed = np.zeros((T, 17), dtype=bool)
    if dropout > 0:
        for _ in range(rng.poisson(dropout * T * 17 / 6) if T else 0):
            j, start = rng.integers(17), rng.integers(T)
            missed[start : start + rng.integers(1, 12), j] = True
    conf[missed] = 0.0
    xy[missed] = 0.0
    return xy, conf, camera


def wrist_imu(
    positions: np.ndarray,
    fps: float,
    side: str,
    rng: np.random.Generator,
    *,
    rate: float = 100.0,
    acc_noise: float = 0.05,
    gyro_noise: float = 0.01,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw readings of a sensor strapped to a forearm near the wrist: (times (N,), accelerometer
    (N, 3) m/s^2 with gravity, gyroscope (N, 3) rad/s), both in the sensor's own axes, at
    ``rate`` Hz, from a motion (T, 22, 3) in metres with y up.

    The sensor's x axis runs along the forearm (elbow to wrist) and starts with its z axis as
    close to world up as that allows; the world frame it is seen from has z up and a random
    heading, as a sensor without a magnetometer knows it.
    """
    from scipy.interpolate import CubicSpline
    from scipy.spatial.transform import Rotation

    t = np.arange(len(positions)) / fps
    times = np.arange(0.0, t[-1], 1.0 / rate)
    turn = Rotation.from_euler("z", rng.uniform(-np.pi, np.pi))

    # y-up metres -> z-up (x, -z, y), then the unknown heading
    def earth(p: np.ndarray) -> np.ndarray:
        return turn.apply(np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1).reshape(-1, 3))

    wrist = CubicSpline(t, earth(positions[:, J[f"{side}_wrist"]]))
    elbow = CubicSpline(t, earth(positions[:, J[f"{side}_elbow"]]))
    along = wrist(times) - elbow(times)
    x = along / np.maximum(np.linalg.norm(along, axis=1, keepdims=True), 1e-6)
    # The strap turns with the forearm by the smallest rotation from sample to sample (a
    # frame built from "up" would spin wildly when the forearm points up).
    cross = np.cross(x[:-1], x[1:])
    angle = np.arctan2(np.linalg.norm(cross, axis=1), (x[:-1] * x[1:]).sum(axis=1))
    axis = cross / np.maximum(np.linalg.norm(cross, axis=1, keepdims=True), 1e-12)
    turns = Rotation.from_rotvec(axis * angle[:, None])
    up = np.array([0.0, 0.0, 1.0]) if abs(x[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    z0 = up - (x[0] @ up) * x[0]
    z0 /= np.linalg.norm(z0)
    first = Rotation.from_matrix(np.stack([x[0], np.cross(z0, x[0]), z0], axis=-1))
    frames = [first]
    for turn_i in turns:
        frames.append(turn_i * frames[-1])
    to_world = Rotation.concatenate(frames)
    linear = wrist(times, 2)
    specific = linear + np.array([0.0, 0.0, 9.80665])  # what an accelerometer feels
    acc = to_world.inv().apply(specific)
    step = to_world[:-1].inv() * to_world[1:]  # body-frame rotation from the sample before
    gyr = step.as_rotvec() * rate
    gyr = np.concatenate([gyr[:1], gyr])
    acc += rng.normal(0.0, acc_noise, acc.shape)
    gyr += rng.normal(0.0, gyro_noise, gyr.shape)
    return times, acc, gyr
