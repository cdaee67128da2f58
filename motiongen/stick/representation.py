"""The 2.5-D stick figure: 20 numbers per frame, projected from a canonical 3-D motion.

Five segments x two end points x (x, y), in this order (``SEGMENTS``):
head (neck -> head top), torso (neck -> pelvis), left arm (left shoulder -> left wrist),
right arm (right shoulder -> right wrist), legs (left ankle -> right ankle; drawn from the
torso's lower end to each). The head top is the head joint lifted by a tenth of the neck-head
distance beyond it. Coordinates are in "stick units": metres on a camera plane (x right, y up)
after a camera at (x, y) with a zoom, so a figure 1.7 m tall at zoom 1 is 1.7 units tall.

The camera is orthographic along the view direction (the 2.5-D of the original design: depth
is dropped, the view turns with ``yaw``); physics features per frame are the pelvis velocity
(2), acceleration (2) and the momentum of a 70 kg body (2) in the same plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.errors import InputError
from motiongen.skeleton import JOINT_INDEX

J = JOINT_INDEX
SEGMENTS = ("head", "torso", "left_arm", "right_arm", "legs")
ENDPOINTS = {
    "head": (J["neck"], J["head"]),
    "torso": (J["neck"], J["pelvis"]),
    "left_arm": (J["left_shoulder"], J["left_wrist"]),
    "right_arm": (J["right_shoulder"], J["right_wrist"]),
    "legs": (J["left_ankle"], J["right_ankle"]),
}
STICK_DIM = 20
PHYSICS_DIM = 6
BODY_MASS = 70.0


@dataclass
class StickCamera:
    """Orthographic view: turn the world by ``yaw`` (radians about +Y, 0 = looking at a
    figure that faces +Z from the front), shift by (x, y) in stick units, scale by ``zoom``."""

    x: float = 0.0
    y: float = 0.0
    zoom: float = 1.0
    yaw: float = 0.0

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) metres -> (..., 2) stick units."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        # Seen from the front (camera on +Z looking along -Z), the figure's left (+X) is on
        # the viewer's right.
        u = c * points[..., 0] - s * points[..., 2]
        v = points[..., 1]
        return (np.stack([u, v], axis=-1) - np.array([self.x, self.y])) * self.zoom


def to_stick(positions: np.ndarray, camera: StickCamera | None = None) -> np.ndarray:
    """(T, 22, 3) metres -> (T, 20) stick numbers (see the module docstring)."""
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (22, 3):
        raise InputError(f"positions must be (frames, 22, 3), got {p.shape}")
    camera = camera or StickCamera()
    head, neck = p[:, J["head"]], p[:, J["neck"]]
    points = []
    for name in SEGMENTS:
        a, b = ENDPOINTS[name]
        start, end = p[:, a], p[:, b]
        if name == "head":
            end = head + 0.1 * (head - neck)
        points += [start, end]
    stacked = np.stack(points, axis=1)  # (T, 10, 3)
    return camera.project(stacked).reshape(len(p), STICK_DIM)


def segments(stick: np.ndarray) -> dict[str, np.ndarray]:
    """(T, 20) -> segment name -> (T, 2, 2) end points."""
    s = np.asarray(stick).reshape(-1, 5, 2, 2)
    return {name: s[:, i] for i, name in enumerate(SEGMENTS)}


def physics(positions: np.ndarray, fps: float, camera: StickCamera | None = None) -> np.ndarray:
    """(T, 6): pelvis velocity (2, units/s), acceleration (2, units/s^2), momentum (2, kg
    units/s) on the camera plane."""
    pelvis = (camera or StickCamera()).project(np.asarray(positions)[:, J["pelvis"]])
    vel = np.gradient(pelvis, axis=0) * fps
    acc = np.gradient(vel, axis=0) * fps
    return np.concatenate([vel, acc, BODY_MASS * vel], axis=1)
