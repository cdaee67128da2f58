"""Training-free motion features for FID_k and FID_g (AIST++ API ``features/``, as used by
FACT, Bailando and EDGE), vectorised and on our 22-joint skeleton.

- ``kinetic_features``: per joint, average horizontal kinetic energy, average vertical kinetic
  energy and average energy expenditure -> 66 numbers (AIST++: 72 for 24 SMPL joints).
- ``geometric_features``: 32 boolean relations between body parts per frame (Müller et al.'s
  relational features as in AIST++ ``features/manual.py``), averaged over frames -> 32
  numbers in [0, 1].

Both are computed at 20 fps (``ANALYSIS_FPS``) in SI units. Compare them between sets with
``motiongen.eval.distribution.normalised_frechet`` (z-normalised by the real set).
"""

from __future__ import annotations

import numpy as np

from motiongen.artifacts import ANALYSIS_FPS, check_positions, resample_positions
from motiongen.canonical import unit as _unit  # a local name ``unit`` is a scale's key
from motiongen.errors import InputError
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS

KINETIC_DIM = 3 * NUM_JOINTS  # 66
KINETIC_WINDOW = 1  # ±1 frame at 20 fps (±0.05 s); AIST++ uses ±2 frames at 60 fps (±0.033 s)
MIN_FRAMES = 4  # at 20 fps


def _prepare(positions: np.ndarray, fps: float) -> np.ndarray:
    p = resample_positions(check_positions(positions, fps), fps, ANALYSIS_FPS)
    if p.shape[0] < MIN_FRAMES:
        raise InputError(
            f"motion has {p.shape[0]} frames at {ANALYSIS_FPS:g} fps; kinetic and geometric "
            f"features need at least {MIN_FRAMES} (0.2 s)"
        )
    return p


def _window_mean(x: np.ndarray, centres: np.ndarray, w: int) -> np.ndarray:
    """Mean of x[c - w .. c + w] clipped to the array, for each centre: (n, ...) -> (len(c), ...)."""
    cums = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    lo = np.clip(centres - w, 0, x.shape[0])
    hi = np.clip(centres + w + 1, 0, x.shape[0])
    count = (hi - lo).reshape((-1,) + (1,) * (x.ndim - 1))
    return (cums[hi] - cums[lo]) / np.maximum(count, 1)


def kinetic_features(
    positions: np.ndarray, fps: float, *, window: int = KINETIC_WINDOW
) -> np.ndarray:
    """AIST++ kinetic features: (T, 22, 3) -> (66,), joint-major [KE_h, KE_v, EE] per joint.

    At 20 fps, for frames i = 1..T−1 (AIST++ ``KineticFeatures``): v̄_i = mean of the frame
    steps Δp_{i+j−1} · fps for j in −w..w that exist (m/s); ā_i = mean of the second
    differences Δ²p_{i+j−1} · fps² that exist (m/s²). Per joint:
    KE_h = mean_i |v̄_i,xz|² and KE_v = mean_i v̄_i,y² ((m/s)², "kinetic energy" per unit mass
    without the ½, as AIST++), EE = mean_i |ā_i| (m/s², "energy expenditure").
    """
    p = _prepare(positions, fps)
    n = p.shape[0]
    vel = np.diff(p, axis=0) * ANALYSIS_FPS  # (n-1, J, 3), step k = frames k -> k+1
    acc = np.diff(p, n=2, axis=0) * ANALYSIS_FPS**2  # (n-2, J, 3)
    centres = np.arange(1, n) - 1  # step index i-1 for frames i = 1..n-1
    v = _window_mean(vel, centres, window)  # (n-1, J, 3)
    a = _window_mean(acc, centres, window)
    ke_h = np.mean(v[..., 0] ** 2 + v[..., 2] ** 2, axis=0)  # (J,)
    ke_v = np.mean(v[..., 1] ** 2, axis=0)
    ee = np.mean(np.linalg.norm(a, axis=-1), axis=0)
    return np.stack([ke_h, ke_v, ee], axis=1).reshape(-1).astype(np.float64)


# ---- geometric (relational) features --------------------------------------------------------
# AIST++ joint names -> ours (the AIST++ list is the SMPL order, the same as ours).
_NAMES = {
    "root": "pelvis",
    "lhip": "left_hip",
    "rhip": "right_hip",
    "belly": "spine1",
    "lknee": "left_knee",
    "rknee": "right_knee",
    "spine": "spine2",
    "lankle": "left_ankle",
    "rankle": "right_ankle",
    "chest": "spine3",
    "ltoes": "left_foot",
    "rtoes": "right_foot",
    "neck": "neck",
    "linshoulder": "left_collar",
    "rinshoulder": "right_collar",
    "head": "head",
    "lshoulder": "left_shoulder",
    "rshoulder": "right_shoulder",
    "lelbow": "left_elbow",
    "relbow": "right_elbow",
    "lwrist": "left_wrist",
    "rwrist": "right_wrist",
}

# (kind, points, threshold or angle range, scale). Thresholds are multiples of a body
# measure: hl = humerus (shoulder-elbow), sw = shoulder width, hw = hip width, per clip.
# Velocity thresholds are in body measures per second. The list and order follow AIST++
# features/manual.py; see docs/metrics.md for the differences.
GEOMETRIC_FEATURES: tuple[tuple[str, tuple[str, ...], object, str], ...] = (
    ("nmove", ("neck", "rhip", "lhip", "rwrist"), 1.8, "hl"),
    ("nmove", ("neck", "lhip", "rhip", "lwrist"), 1.8, "hl"),
    ("nplane", ("chest", "neck", "neck", "rwrist"), 0.2, "hl"),
    ("nplane", ("chest", "neck", "neck", "lwrist"), 0.2, "hl"),
    ("move", ("belly", "chest", "chest", "rwrist"), 1.8, "hl"),
    ("move", ("belly", "chest", "chest", "lwrist"), 1.8, "hl"),
    ("angle", ("relbow", "rshoulder", "relbow", "rwrist"), (0, 110), ""),
    ("angle", ("lelbow", "lshoulder", "lelbow", "lwrist"), (0, 110), ""),
    ("nplane", ("lshoulder", "rshoulder", "lwrist", "rwrist"), 2.5, "sw"),
    ("move", ("lwrist", "rwrist", "rwrist", "lwrist"), 1.4, "hl"),
    ("move", ("rwrist", "root", "lwrist", "root"), 1.4, "hl"),
    ("move", ("lwrist", "root", "rwrist", "root"), 1.4, "hl"),
    ("fast", ("rwrist",), 2.5, "hl"),
    ("fast", ("lwrist",), 2.5, "hl"),
    ("plane", ("root", "lhip", "ltoes", "rankle"), 0.38, "hl"),
    ("plane", ("root", "rhip", "rtoes", "lankle"), 0.38, "hl"),
    ("nplane", ("zero", "y_unit", "y_min", "rankle"), 1.2, "hl"),
    ("nplane", ("zero", "y_unit", "y_min", "lankle"), 1.2, "hl"),
    ("nplane", ("lhip", "rhip", "lankle", "rankle"), 2.1, "hw"),
    ("angle", ("rknee", "rhip", "rknee", "rankle"), (0, 110), ""),
    ("angle", ("lknee", "lhip", "lknee", "lankle"), (0, 110), ""),
    ("fast", ("rankle",), 2.5, "hl"),
    ("fast", ("lankle",), 2.5, "hl"),
    ("angle", ("neck", "root", "rshoulder", "relbow"), (25, 180), ""),
    ("angle", ("neck", "root", "lshoulder", "lelbow"), (25, 180), ""),
    ("angle", ("neck", "root", "rhip", "rknee"), (50, 180), ""),
    ("angle", ("neck", "root", "lhip", "lknee"), (50, 180), ""),
    ("plane", ("rankle", "neck", "lankle", "root"), 0.5, "hl"),
    ("angle", ("neck", "root", "zero", "y_unit"), (70, 110), ""),
    ("nplane", ("zero", "minus_y_unit", "y_min", "rwrist"), -1.2, "hl"),
    ("nplane", ("zero", "minus_y_unit", "y_min", "lwrist"), -1.2, "hl"),
    ("fast", ("root",), 2.3, "hl"),
)
GEOMETRIC_DIM = len(GEOMETRIC_FEATURES)  # 32


def _points(p: np.ndarray, name: str) -> np.ndarray:
    """(T, 3) track of a joint or of one of AIST++'s virtual points."""
    t = p.shape[0]
    if name == "zero":
        return np.zeros((t, 3))
    if name == "y_unit":
        return np.tile([0.0, 1.0, 0.0], (t, 1))
    if name == "minus_y_unit":
        return np.tile([0.0, -1.0, 0.0], (t, 1))
    if name == "y_min":
        out = np.zeros((t, 3))
        out[:, 1] = p[:, :, 1].min(axis=1)
        return out
    return p[:, JOINT_INDEX[_NAMES[name]]]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1)


def geometric_features(positions: np.ndarray, fps: float) -> np.ndarray:
    """AIST++-style boolean relational features averaged over frames: (T, 22, 3) -> (32,).

    At 20 fps, for frames t = 1..T−1 (velocities use frame t−1), each feature is one of:
    move(j1, j2, j3, j4, k): velocity of j4 relative to j1 along j1→j2 > k (per second);
    nmove(j1, j2, j3, j4, k): the same along the normal of the plane (j1, j2, j3);
    plane(j1, j2, j3, j4, k): signed distance of j4 from the plane (j1, j2, j3) > k;
    nplane(j1, j2, j3, j4, k): distance of j4 from the plane through j3 with normal j1→j2 > k;
    angle(j1, j2, j3, j4, (lo, hi)): angle between j1→j2 and j3→j4 in (lo, hi) degrees;
    fast(j, k): speed of j > k. Thresholds k scale with the clip's median humerus length,
    shoulder width or hip width. Returns the share of frames in which each holds.
    """
    p = _prepare(positions, fps)
    j = {
        n: JOINT_INDEX[n]
        for n in ("left_shoulder", "left_elbow", "right_shoulder", "left_hip", "right_hip")
    }
    scale = {
        "hl": float(
            np.median(np.linalg.norm(p[:, j["left_shoulder"]] - p[:, j["left_elbow"]], axis=-1))
        ),
        "sw": float(
            np.median(np.linalg.norm(p[:, j["left_shoulder"]] - p[:, j["right_shoulder"]], axis=-1))
        ),
        "hw": float(np.median(np.linalg.norm(p[:, j["left_hip"]] - p[:, j["right_hip"]], axis=-1))),
        "": 1.0,
    }
    cur, prev = p[1:], p[:-1]
    out = np.zeros((cur.shape[0], GEOMETRIC_DIM), dtype=bool)
    for k, (kind, names, arg, unit) in enumerate(GEOMETRIC_FEATURES):
        pts = [_points(cur, n) for n in names]
        if kind in ("move", "nmove"):
            j1p = _points(prev, names[0])
            j4p = _points(prev, names[3])
            rel_vel = ((pts[3] - pts[0]) - (j4p - j1p)) * ANALYSIS_FPS
            if kind == "move":
                direction = pts[1] - pts[0]
            else:
                direction = np.cross(pts[2] - pts[0], pts[1] - pts[0])
            out[:, k] = _dot(rel_vel, _unit(direction)) > arg * scale[unit]
        elif kind == "plane":
            normal = _unit(np.cross(pts[2] - pts[0], pts[1] - pts[0]))
            out[:, k] = _dot(pts[3] - pts[0], normal) > arg * scale[unit]
        elif kind == "nplane":
            normal = _unit(pts[1] - pts[0])
            out[:, k] = _dot(pts[3] - pts[2], normal) > arg * scale[unit]
        elif kind == "angle":
            cos = _dot(_unit(pts[1] - pts[0]), _unit(pts[3] - pts[2]))
            angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
            lo, hi = arg
            out[:, k] = (angle > lo) & (angle < hi)
        else:  # fast
            speed = np.linalg.norm(pts[0] - _points(prev, names[0]), axis=-1) * ANALYSIS_FPS
            out[:, k] = speed > arg * scale[unit]
    return out.mean(axis=0).astype(np.float64)
