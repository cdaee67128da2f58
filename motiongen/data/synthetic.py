"""Procedural, labelled motions on the canonical skeleton (for rare combinations and tests).

Every motion is built by forward kinematics from joint angles on one fixed rest skeleton
(``REST_OFFSETS``: realistic bone lengths, pelvis 0.92 m high), so bone lengths are exactly
constant. Feet are kept honest by construction: in each frame one foot is the *pinned* foot
(the stance foot for gaits, the supporting foot otherwise) and the root is translated so that
this foot does not move; the root height puts the pinned toe on the floor; flight phases
(running, jumping) follow a ballistic parabola under g = 9.81 m/s². Feet stay flat (the ankle
cancels the leg's pitch), so a planted toe and ankle both rest.

Conventions (``motiongen.skeleton``): metres, Y up, floor at 0, facing +Z at frame 0, the
left side at +X. Joint rotations rotate the joint's child bones (the SMPL convention); a
local rotation is R = Ry(ry) · Rx(rx) · Rz(rz). With bones hanging down, a negative rx swings
a leg or arm forward; a positive rx bends the spine forward and the knee backward.

Public: ``synth_motion``, ``synth_sequence``, ``synth_dataset``, ``physics_features``,
``ACTIONS``, ``STYLES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motiongen.errors import InputError
from motiongen.motion import Motion
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS

ACTIONS: tuple[str, ...] = (
    "walk",
    "run",
    "jump",
    "wave-left-hand",
    "wave-right-hand",
    "wave-both-hands",
    "bow",
    "turn-left",
    "turn-right",
    "sit",
    "kick",
    "idle",
)
ALIASES = {"wave": "wave-right-hand", "turn": "turn-left", "stand": "idle"}
BODY_MASS = 70.0  # kg, for the momentum feature
GRAVITY = 9.81

J = JOINT_INDEX
_L_HIP, _R_HIP, _L_KNEE, _R_KNEE = J["left_hip"], J["right_hip"], J["left_knee"], J["right_knee"]
_L_ANK, _R_ANK, _L_TOE, _R_TOE = J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"]
_L_SH, _R_SH, _L_EL, _R_EL = (
    J["left_shoulder"],
    J["right_shoulder"],
    J["left_elbow"],
    J["right_elbow"],
)
_SPINE = (J["spine1"], J["spine2"], J["spine3"])
_NECK = J["neck"]

# Offset of each joint from its parent in the rest pose (standing, arms hanging), metres.
REST_OFFSETS = np.array(
    [
        [0.0, 0.0, 0.0],  # pelvis (root)
        [0.09, -0.07, 0.0],  # left_hip
        [-0.09, -0.07, 0.0],  # right_hip
        [0.0, 0.11, -0.01],  # spine1
        [0.0, -0.40, 0.0],  # left_knee
        [0.0, -0.40, 0.0],  # right_knee
        [0.0, 0.13, 0.01],  # spine2
        [0.0, -0.39, 0.0],  # left_ankle
        [0.0, -0.39, 0.0],  # right_ankle
        [0.0, 0.06, 0.02],  # spine3
        [0.0, -0.06, 0.13],  # left_foot (toe)
        [0.0, -0.06, 0.13],  # right_foot
        [0.0, 0.21, -0.02],  # neck
        [0.07, 0.12, -0.01],  # left_collar
        [-0.07, 0.12, -0.01],  # right_collar
        [0.0, 0.10, 0.04],  # head
        [0.11, 0.03, -0.01],  # left_shoulder
        [-0.11, 0.03, -0.01],  # right_shoulder
        [0.02, -0.27, 0.0],  # left_elbow
        [-0.02, -0.27, 0.0],  # right_elbow
        [0.0, -0.25, 0.01],  # left_wrist
        [0.0, -0.25, 0.01],  # right_wrist
    ]
)


@dataclass(frozen=True)
class Style:
    """How a style changes a motion.

    tempo: speed factor of every cycle; amp: amplitude of limb motion; lean: extra forward
    spine bend (rad, negative = chest up); head: head bend (rad, positive = looking down);
    arms: arm-swing factor; bounce: extra knee bounce in gaits; adverb: for descriptions.
    """

    tempo: float
    amp: float
    lean: float
    head: float
    arms: float
    bounce: float
    adverb: str


STYLES: dict[str, Style] = {
    "normal": Style(1.0, 1.0, 0.0, 0.0, 1.0, 0.0, ""),
    "fast": Style(1.3, 1.15, 0.08, 0.0, 1.3, 0.0, "quickly"),
    "slow": Style(0.7, 0.8, 0.0, 0.05, 0.6, 0.0, "slowly"),
    "happy": Style(1.15, 1.1, -0.06, -0.12, 1.4, 0.12, "happily"),
    "sad": Style(0.8, 0.75, 0.2, 0.45, 0.4, 0.0, "sadly"),
    "tired": Style(0.72, 0.7, 0.32, 0.3, 0.35, 0.0, "wearily"),
    "angry": Style(1.2, 1.15, 0.12, 0.05, 1.2, 0.0, "angrily"),
}

# Verb phrases per action, third person ("a person ___").
_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks forward", "walks", "is walking"),
    "run": ("runs forward", "runs", "is running"),
    "jump": ("jumps", "jumps up and down", "hops in place"),
    "wave-left-hand": ("waves with the left hand", "waves the left hand", "raises the left hand and waves"),
    "wave-right-hand": ("waves with the right hand", "waves the right hand", "raises the right hand and waves"),
    "wave-both-hands": ("waves with both hands", "waves both arms", "waves both hands in the air"),
    "bow": ("bows", "takes a bow", "bends forward in a bow"),
    "turn-left": ("turns left", "turns to the left", "turns around to the left"),
    "turn-right": ("turns right", "turns to the right", "turns around to the right"),
    "sit": ("sits down", "sits down on a chair", "lowers into a seat"),
    "kick": ("kicks with the right leg", "kicks", "does a front kick"),
    "idle": ("stands still", "stands in place", "stands and waits"),
}  # fmt: skip


# ---- rotations and forward kinematics -----------------------------------------------------
def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], axis=-1).reshape(*a.shape, 3, 3)


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], axis=-1).reshape(*a.shape, 3, 3)


def _rot_z(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], axis=-1).reshape(*a.shape, 3, 3)


def _local_rotations(angles: np.ndarray) -> np.ndarray:
    """(T, 22, 3) angles (rx, ry, rz) -> (T, 22, 3, 3) as Ry · Rx · Rz."""
    return _rot_y(angles[..., 1]) @ _rot_x(angles[..., 0]) @ _rot_z(angles[..., 2])


def forward_kinematics(angles: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Joint positions relative to the pelvis (T, 22, 3) from angles (T, 22, 3) and yaw (T,)."""
    local = _local_rotations(angles)
    glob = np.empty_like(local)
    pos = np.zeros(angles.shape[:2] + (3,))
    glob[:, 0] = _rot_y(yaw) @ local[:, 0]
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        glob[:, j] = glob[:, p] @ local[:, j]
        pos[:, j] = pos[:, p] + glob[:, p] @ REST_OFFSETS[j]
    return pos


# ---- small curve helpers ------------------------------------------------------------------
def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _window(t: np.ndarray, start: float, stop: float, ramp: float) -> np.ndarray:
    """1 inside [start, stop], smooth ramps of length ``ramp`` outside, 0 beyond."""
    return _smoothstep((t - start + ramp) / ramp) * _smoothstep((stop + ramp - t) / ramp)


def _bump(t: np.ndarray, start: float, duration: float) -> np.ndarray:
    """sin² bump from 0 up to 1 and back to 0 over [start, start + duration]."""
    u = np.clip((t - start) / duration, 0.0, 1.0)
    return np.sin(np.pi * u) ** 2


@dataclass
class _Track:
    """Everything one action contributes, before root placement.

    angles: (T, 22, 3); yaw: (T,) heading, rad; stance: (T, 2) bool, left/right foot may be
    pinned; gait_phase: (T, 2) stance progress per foot in [0, 1) or -1 (the foot whose
    touchdown is most recent is pinned first); actions: per-frame label.
    """

    angles: np.ndarray
    yaw: np.ndarray
    stance: np.ndarray
    gait_phase: np.ndarray
    actions: list[str]


def _base(n: int, t: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Posture of the style plus a living layer (breath, arm and head sway) so nothing is frozen."""
    ang = np.zeros((n, NUM_JOINTS, 3))
    f = 0.35 * style.tempo * rng.uniform(0.85, 1.15)
    ph = rng.uniform(0, 2 * np.pi, size=4)
    sway = np.sin(2 * np.pi * f * t + ph[0])
    for s in _SPINE:
        ang[:, s, 0] += style.lean / 3 + 0.015 * np.sin(2 * np.pi * 0.25 * t + ph[1])
    ang[:, _NECK, 0] += style.head + 0.06 * np.sin(2 * np.pi * 0.3 * t + ph[2])
    ang[:, _NECK, 1] += 0.12 * np.sin(2 * np.pi * 0.17 * t + ph[3])
    for sh, el, side in ((_L_SH, _L_EL, 1.0), (_R_SH, _R_EL, -1.0)):
        ang[:, sh, 2] += side * 0.08
        ang[:, sh, 0] += 0.22 * style.amp * sway * side
        ang[:, el, 0] += -0.15 - 0.1 * np.sin(2 * np.pi * f * t + ph[1])
    return ang


def _gait(
    t: np.ndarray,
    style: Style,
    rng: np.random.Generator,
    *,
    run: bool,
    amp_scale: float,
    env: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leg and arm angles for walking or running; returns (angles, stance, phase)."""
    n = len(t)
    ang = np.zeros((n, NUM_JOINTS, 3))
    freq = (1.4 if run else 0.9) * style.tempo * rng.uniform(0.95, 1.05)  # strides per second
    beta = 0.38 if run else 0.5  # stance share of a stride; < 0.5 leaves a flight phase
    a = (0.5 if run else 0.4) * style.amp * amp_scale * env  # hip swing amplitude, rad
    # The knee lifts the foot early in a start or stop so small steps do not shuffle.
    knee_swing = (1.5 if run else 1.0) * min(style.amp, 1.1) * np.minimum(1.0, 3.0 * env)
    knee_stance = ((0.35 if run else 0.12) + style.bounce) * env
    stance = np.zeros((n, 2), dtype=bool)
    phase = -np.ones((n, 2))
    start = rng.uniform(0.0, 1.0)
    flex = np.zeros((n, 2))
    for k, (hip, knee, ankle, offset) in enumerate(
        ((_L_HIP, _L_KNEE, _L_ANK, 0.0), (_R_HIP, _R_KNEE, _R_ANK, 0.5))
    ):
        s = np.mod(freq * t + start + offset, 1.0)
        st = s < beta
        w = np.clip((s - beta) / (1.0 - beta), 0.0, 1.0)
        slope = -2.0 * a / beta * (1.0 - beta)  # stance slope, in swing-phase units
        h00, h10 = 2 * w**3 - 3 * w**2 + 1, w**3 - 2 * w**2 + w
        h01, h11 = -2 * w**3 + 3 * w**2, w**3 - w**2
        swing = -a * h00 + slope * h10 + a * h01 + slope * h11
        fl = np.where(st, a - 2.0 * a * s / beta, swing)  # + = leg forward
        kn = np.where(
            st, knee_stance * np.sin(np.pi * s / beta) ** 2, knee_swing * np.sin(np.pi * w) ** 2
        )
        ang[:, hip, 0] = -fl
        ang[:, knee, 0] = kn
        ang[:, ankle, 0] = fl - kn  # keeps the foot flat (cancels hip + knee pitch)
        stance[:, k] = st
        phase[:, k] = np.where(st, s / beta, -1.0)
        flex[:, k] = fl
    arm = 0.9 * style.arms
    ang[:, _L_SH, 0] = -arm * flex[:, 1]  # left arm swings with the right leg
    ang[:, _R_SH, 0] = -arm * flex[:, 0]
    bend = (-1.3 if run else -0.25) * env
    ang[:, _L_EL, 0] = bend - 0.3 * np.maximum(arm * flex[:, 1], 0)
    ang[:, _R_EL, 0] = bend - 0.3 * np.maximum(arm * flex[:, 0], 0)
    for s_ in _SPINE:
        ang[:, s_, 0] = (0.06 if run else 0.02) * env
    return ang, stance, phase


def _action(
    action: str, n: int, fps: float, style: Style, rng: np.random.Generator, *, last: bool = True
) -> _Track:
    """Angles and contacts of one action over ``n`` frames. Every action but a final "sit"
    starts and ends near the rest pose, so actions chain without jumps."""
    t = np.arange(n) / fps
    dur = n / fps
    ang = _base(n, t, style, rng)
    yaw = np.zeros(n)
    stance = np.ones((n, 2), dtype=bool)
    phase = -np.ones((n, 2))
    ramp = min(0.5, dur / 4)
    env = _window(t, ramp, dur - ramp, ramp)  # 0 at both ends so actions chain at rest

    if action in ("walk", "run", "turn-left", "turn-right"):
        turning = action.startswith("turn")
        g, stance, phase = _gait(
            t, style, rng, run=action == "run", amp_scale=0.25 if turning else 1.0, env=env
        )
        ang += g
        if turning:
            total = (np.pi / 2) * rng.uniform(0.8, 1.2) * (1 if action == "turn-left" else -1)
            yaw = total * _smoothstep((t - ramp) / max(dur - 2 * ramp, 1e-3))
    elif action.startswith("wave"):
        sides = {
            "wave-left-hand": (1.0,),
            "wave-right-hand": (-1.0,),
            "wave-both-hands": (1.0, -1.0),
        }
        f = 2.0 * style.tempo * rng.uniform(0.9, 1.1)
        osc = np.sin(2 * np.pi * f * t) * 0.35 * style.amp
        for side in sides[action]:
            sh, el = (_L_SH, _L_EL) if side > 0 else (_R_SH, _R_EL)
            ang[:, sh, 2] += side * 2.5 * env
            ang[:, sh, 0] *= 1.0 - env
            ang[:, el, 0] *= 1.0 - env
            ang[:, el, 2] += side * env * (0.45 + osc)
    elif action == "bow":
        depth = 0.95 * min(style.amp, 1.1)
        down = min(1.0, dur / 3) / style.tempo
        hold = max(0.0, dur - 2 * ramp - 2 * down)
        b = _window(t, ramp + down, ramp + down + hold * 0.4, down)
        for s in _SPINE:
            ang[:, s, 0] += depth / 3 * b
        ang[:, _NECK, 0] += 0.25 * b
        ang[:, _L_HIP, 0] -= 0.25 * b
        ang[:, _R_HIP, 0] -= 0.25 * b
        ang[:, _L_ANK, 0] += 0.25 * b
        ang[:, _R_ANK, 0] += 0.25 * b
    elif action == "sit":
        d = min(1.4 / style.tempo, (dur - 2 * ramp) / (1 if last else 2))
        go = _smoothstep((t - ramp) / d)
        lean = _bump(t, ramp, d)
        if not last:  # stand up again before the next action
            go = go * (1 - _smoothstep((t - (dur - ramp - d)) / d))
            lean = lean + _bump(t, dur - ramp - d, d)
        for hip, knee, ankle in ((_L_HIP, _L_KNEE, _L_ANK), (_R_HIP, _R_KNEE, _R_ANK)):
            ang[:, hip, 0] -= 1.5 * go
            ang[:, knee, 0] += 1.55 * go
            ang[:, ankle, 0] += -0.05 * go
        for s in _SPINE:
            ang[:, s, 0] += (0.3 * lean + 0.05 * go) / 1.0
        for sh in (_L_SH, _R_SH):
            ang[:, sh, 0] -= 0.5 * lean
    elif action == "kick":
        stance[:, 0] = True
        period = 1.6 / style.tempo
        n_kicks = max(1, int((dur - 2 * ramp) // period))
        pad = (dur - n_kicks * period) / 2
        for i in range(n_kicks):
            t0 = pad + i * period + 0.2 * period
            d = 0.9 / min(style.tempo, 1.1)
            up = _bump(t, t0, d)
            chamber = _bump(t, t0, d / 2) + _bump(t, t0 + d / 2, d / 2)
            ang[:, _R_HIP, 0] -= 1.25 * style.amp * up
            ang[:, _R_KNEE, 0] += 1.3 * chamber * (1 - up)
            ang[:, _R_ANK, 0] += 1.25 * style.amp * up - 1.3 * chamber * (1 - up)
            stance[:, 1] &= up < 0.02
            for s in _SPINE:
                ang[:, s, 0] -= 0.08 * up
            ang[:, _L_SH, 2] += 0.6 * up
            ang[:, _R_SH, 2] -= 0.6 * up
    elif action == "jump":
        period = 1.8 / style.tempo
        n_jumps = max(1, int((dur - 2 * ramp) // period))
        pad = (dur - n_jumps * period) / 2
        for i in range(n_jumps):
            t0 = pad + i * period
            crouch = _bump(t, t0, 0.7) + 0.8 * _bump(t, t0 + 0.95, 0.6)
            air = (t > t0 + 0.45) & (t < t0 + 0.45 + 0.45 * min(style.amp, 1.1))
            stance[air] = False
            for hip, knee, ankle in ((_L_HIP, _L_KNEE, _L_ANK), (_R_HIP, _R_KNEE, _R_ANK)):
                ang[:, hip, 0] -= 0.75 * crouch
                ang[:, knee, 0] += 1.3 * crouch
                ang[:, ankle, 0] += -0.55 * crouch
            for s in _SPINE:
                ang[:, s, 0] += 0.12 * crouch
            arms_up = _bump(t, t0 + 0.25, 0.6)
            ang[:, _L_SH, 0] -= 2.2 * arms_up * style.amp
            ang[:, _R_SH, 0] -= 2.2 * arms_up * style.amp
    elif action == "idle":
        pass
    else:
        raise InputError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    return _Track(ang, yaw, stance, phase, [action] * n)


def _place_root(track: _Track, fps: float) -> np.ndarray:
    """World positions (T, 22, 3): pin the support foot, put it on the floor, fly ballistically."""
    rel = forward_kinematics(track.angles, track.yaw)  # (T, 22, 3) around the pelvis
    n = rel.shape[0]
    toes = rel[:, [_L_TOE, _R_TOE]]  # (T, 2, 3)
    # Pinned foot per frame: the stance foot with the most recent touchdown (gaits), else
    # the first stance foot; -1 in flight.
    prog = np.where(track.stance, np.where(track.gait_phase >= 0, track.gait_phase, 0.5), np.inf)
    pinned = np.where(track.stance.any(axis=1), np.argmin(prog, axis=1), -1)
    rows = np.arange(n)
    root = np.zeros((n, 3))
    # Root displacement from frame t-1 to t: the foot pinned at t does not move over it.
    step = np.zeros((n, 3))
    pin = np.where(pinned >= 0, pinned, 0)
    step[1:] = toes[rows[:-1], pin[1:]] - toes[rows[1:], pin[1:]]
    fly = pinned < 0
    if fly.any():  # flight frames carry the recent ground speed
        carry = np.zeros(3)
        for i in range(1, n):
            if fly[i]:
                step[i] = carry
            else:
                carry = 0.6 * carry + 0.4 * step[i]
    step[0] = 0.0
    step[:, 1] = 0.0
    root[:, [0, 2]] = np.cumsum(step[:, [0, 2]], axis=0)
    # Height: the pinned toe on the floor; flights follow a parabola between their ends.
    # In stance the lowest foot point rests on the floor (usually the pinned toe; a landing
    # foot reaching lower than a bent stance leg takes over, so nothing sinks).
    feet_y = rel[:, [_L_TOE, _R_TOE, _L_ANK, _R_ANK], 1]
    height = -feet_y.min(axis=1)
    if fly.any():
        idx = np.flatnonzero(fly)
        breaks = np.flatnonzero(np.diff(idx) > 1)
        for seg in np.split(idx, breaks + 1):
            a, b = seg[0] - 1, seg[-1] + 1
            if a < 0 or b >= n:
                height[seg] = height[b] if a < 0 and b < n else height[max(a, 0)]
                continue
            dur = (b - a) / fps
            tau = (seg - a) / fps
            height[seg] = (
                height[a] + (height[b] - height[a]) * tau / dur + 0.5 * GRAVITY * tau * (dur - tau)
            )
    root[:, 1] = height
    # Touchdowns and take-offs leave kinks in the root path that read as jitter; a 50 ms
    # Gaussian removes them while moving the pinned foot by millimetres.
    smooth = gaussian_filter1d(root, sigma=0.05 * fps, axis=0, mode="nearest")
    root[:, [0, 2]] = smooth[:, [0, 2]]
    root[:, 1] = smooth[:, 1]
    # Smoothing may sink a foot by millimetres at a touchdown; lift those frames back.
    root[:, 1] += np.maximum(0.0, -(feet_y.min(axis=1) + root[:, 1]))
    pos = rel + root[:, None, :]
    # Canonical frame: pelvis over the origin at frame 0 (facing +Z already, yaw starts at 0).
    pos[..., 0] -= pos[0, 0, 0]
    pos[..., 2] -= pos[0, 0, 2]
    pos[..., 1] -= min(0.0, float(pos[:, [_L_TOE, _R_TOE, _L_ANK, _R_ANK], 1].min()))
    return pos


def _check_args(style: str, seconds: float, fps: float) -> Style:
    if style not in STYLES:
        raise InputError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if not (np.isfinite(seconds) and 0.5 <= seconds <= 600):
        raise InputError(f"seconds must be between 0.5 and 600, got {seconds!r}")
    if not (np.isfinite(fps) and 5 <= fps <= 240):
        raise InputError(f"fps must be between 5 and 240, got {fps!r}")
    return STYLES[style]


def _normalise(action: str) -> str:
    action = ALIASES.get(action, action)
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    return action


def _texts(actions: list[str], style: str, rng: np.random.Generator) -> list[str]:
    adverb = STYLES[style].adverb
    out = []
    for variant in range(3):
        subject = ("a person", "someone", "a character")[variant]
        parts = [_PHRASES[a][(variant + i) % 3] for i, a in enumerate(actions)]
        body = ", then ".join(parts)
        out.append(f"{subject} {body} {adverb}".strip() if adverb else f"{subject} {body}")
    first, rest = out[:1], out[1:]
    rng.shuffle(rest)
    return first + rest


def physics_features(positions: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame physics features (T, 6) for Stick-Gen's "velocity, acceleration, momentum".

    Columns: 0 root (pelvis) horizontal speed, m/s; 1 root vertical velocity, m/s; 2 mean
    joint acceleration magnitude, m/s²; 3–5 linear momentum, kg·m/s = 70 kg × the velocity
    of the centre of mass, approximated by the mean of the 22 joints (x, y, z). Derivatives
    are central differences (``np.gradient``) at ``fps``.
    positions: (T, 22, 3) metres -> (T, 6) float32.
    """
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[1:] != (NUM_JOINTS, 3):
        raise InputError(f"positions must have shape (T, {NUM_JOINTS}, 3), got {tuple(pos.shape)}")
    if pos.shape[0] < 2:
        return np.zeros((pos.shape[0], 6), dtype=np.float32)
    dt = 1.0 / fps
    vel = np.gradient(pos, dt, axis=0)  # (T, 22, 3)
    acc = np.gradient(vel, dt, axis=0)
    root_v = vel[:, 0]
    com_v = vel.mean(axis=1)
    out = np.column_stack(
        [
            np.linalg.norm(root_v[:, [0, 2]], axis=-1),
            root_v[:, 1],
            np.linalg.norm(acc, axis=-1).mean(axis=1),
            BODY_MASS * com_v,
        ]
    )
    return out.astype(np.float32)


def synth_sequence(
    actions: list[str],
    style: str = "normal",
    seconds: float | list[float] = 3.0,
    fps: float = 20.0,
    seed: int = 0,
) -> Motion:
    """One motion chaining 1–3 actions (each starts and ends near the rest pose).

    seconds: per action (one number for all, or one per action). The ``actions`` field holds
    the per-frame label; ``labels["content"]`` is the actions joined by "+"; the physics
    features are stored as ``meta["physics"]`` (a (T, 6) list, see ``physics_features``).
    """
    if not 1 <= len(actions) <= 3:
        raise InputError(f"a sequence chains 1 to 3 actions, got {len(actions)}")
    names = [_normalise(a) for a in actions]
    durations = (
        [float(seconds)] * len(names) if np.isscalar(seconds) else [float(s) for s in seconds]
    )  # type: ignore[arg-type]
    if len(durations) != len(names):
        raise InputError(f"got {len(durations)} durations for {len(names)} actions")
    st = None
    for d in durations:
        st = _check_args(style, d, fps)
    assert st is not None
    rng = np.random.default_rng(seed)
    tracks = [
        _action(a, max(2, int(round(d * fps))), fps, st, rng, last=i == len(names) - 1)
        for i, (a, d) in enumerate(zip(names, durations, strict=True))
    ]
    yaw_offset = 0.0
    for tr in tracks:
        tr.yaw = tr.yaw + yaw_offset
        yaw_offset = float(tr.yaw[-1])
    track = _Track(
        angles=np.concatenate([t.angles for t in tracks]),
        yaw=np.concatenate([t.yaw for t in tracks]),
        stance=np.concatenate([t.stance for t in tracks]),
        gait_phase=np.concatenate([t.gait_phase for t in tracks]),
        actions=[a for t in tracks for a in t.actions],
    )
    pos = _place_root(track, fps)
    content = "+".join(names)
    physics = physics_features(pos, fps)
    return Motion(
        positions=pos.astype(np.float32),
        fps=fps,
        texts=_texts(names, style, rng),
        labels={"source": "synthetic", "content": content, "style": style},
        actions=track.actions,
        name=f"synthetic_{content}_{style}_{seed}",
        meta={"physics": np.round(physics, 4).tolist(), "seed": seed, "generator": "procedural-v1"},
    )


def synth_motion(
    action: str, style: str = "normal", seconds: float = 3.0, fps: float = 20.0, seed: int = 0
) -> Motion:
    """One labelled synthetic motion, e.g. ``synth_motion("walk", "tired", 4.0)``."""
    return synth_sequence([action], style, seconds, fps, seed)


def synth_dataset(n: int, seed: int = 0, fps: float = 20.0) -> list[Motion]:
    """``n`` varied motions, deterministic in ``seed``.

    Actions and styles cycle so every pair appears once ``n`` ≥ 84; a quarter of the motions
    chain two or three actions. Durations are 2–6 s per action.
    """
    if n < 0:
        raise InputError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    styles = list(STYLES)
    pairs = [(a, s) for a in ACTIONS for s in styles]
    order = rng.permutation(len(pairs))
    out = []
    for i in range(n):
        action, style = pairs[order[i % len(pairs)]]
        chain = [action]
        if rng.random() < 0.25:
            chain += list(rng.choice(ACTIONS, size=int(rng.integers(1, 3))))
        secs = [float(np.round(rng.uniform(2.0, 6.0), 1)) for _ in chain]
        m = synth_sequence(chain, style, secs, fps, seed=int(rng.integers(0, 2**31 - 1)))
        m.name = f"synthetic_{i:05d}_{m.labels['content']}_{style}"
        out.append(m)
    return out
