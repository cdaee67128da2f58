"""Model features: joint positions <-> a (T, 137) per-frame vector, with an exact inverse.

Layout per frame (see ``docs/representation.md`` for units and conventions):

| slice          | size | meaning                                                           |
|----------------|------|-------------------------------------------------------------------|
| ROOT_ROT_VEL   | 1    | heading change to the next frame, rad/frame (about +Y)            |
| ROOT_LIN_VEL   | 2    | pelvis (x, z) step to the next frame in the facing frame, m/frame |
| ROOT_Y         | 1    | pelvis height above the floor, m                                  |
| LOCAL_POS      | 63   | joints 1..21 relative to the pelvis in x, z (facing frame); y absolute |
| VEL            | 66   | joints 0..21 step to the next frame in the facing frame, m/frame  |
| CONTACTS       | 4    | foot contact flags (left ankle, left toe, right ankle, right toe) |

Frame ``t``'s velocities describe the step ``t -> t+1``; the last frame repeats the
previous frame's velocities, so T frames go in and T come out. The inverse integrates the
heading and the root from frame 0, whose heading and root (x, z) are taken as the origin:
``features_to_positions(positions_to_features(p)) == align_to_first_frame(p)``, which is
``p`` itself for a canonical motion (``motiongen.canonical.canonicalize``).
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.skeleton import FOOT_JOINTS, NUM_JOINTS, PELVIS, checked_positions

if TYPE_CHECKING:
    import torch

    from motiongen.motion import Motion

# 20 fps, as HumanML3D and the models trained on it: 196 frames = 9.8 s per window, and a
# third fewer tokens than 30 fps for motion whose useful content lies below ~8 Hz.
MODEL_FPS: float = 20.0

ROOT_ROT_VEL = slice(0, 1)
ROOT_LIN_VEL = slice(1, 3)
ROOT_Y = slice(3, 4)
LOCAL_POS = slice(4, 4 + (NUM_JOINTS - 1) * 3)  # 4:67
VEL = slice(LOCAL_POS.stop, LOCAL_POS.stop + NUM_JOINTS * 3)  # 67:133
CONTACTS = slice(VEL.stop, VEL.stop + len(FOOT_JOINTS))  # 133:137
FEATURE_DIM: int = CONTACTS.stop

# Named groups, in layout order (used for group-wise statistics and documentation).
FEATURE_GROUPS: dict[str, slice] = {
    "root_rot_vel": ROOT_ROT_VEL,
    "root_lin_vel": ROOT_LIN_VEL,
    "root_y": ROOT_Y,
    "local_pos": LOCAL_POS,
    "vel": VEL,
    "contacts": CONTACTS,
}

# A foot joint touches the floor when it is below its height threshold and slower than the
# speed threshold. Ankles rest ~5-8 cm above the floor and the heel rolls during stance, toes
# rest at ~0-2 cm; the margins keep planted feet of slightly mis-floored clips in contact.
CONTACT_HEIGHT: tuple[float, float, float, float] = (0.12, 0.06, 0.12, 0.06)  # metres
CONTACT_SPEED: float = 0.7  # metres per second


def _check_positions(positions: np.ndarray) -> np.ndarray:
    return checked_positions(positions)


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles into [-pi, pi)."""
    return (angle + np.pi) % (2.0 * np.pi) - np.pi


def _steps(x: np.ndarray) -> np.ndarray:
    """x[t+1] - x[t] along axis 0: (T, ...) -> (T-1, ...)."""
    return np.diff(x, axis=0)


def _repeat_last(x: np.ndarray, n: int) -> np.ndarray:
    """Pad (n-1, ...) per-step values to n frames by repeating the last (zeros when n = 1)."""
    if n < 2:
        return np.zeros((n, *x.shape[1:]), dtype=x.dtype)
    return np.concatenate([x, x[-1:]], axis=0)


def align_to_first_frame(positions: np.ndarray) -> np.ndarray:
    """What the feature round trip returns: frame-0 pelvis moved to x = z = 0 and frame-0
    heading turned to +Z. Heights are untouched.

    positions: (T, 22, 3) -> (T, 22, 3) float64.
    """
    pos = _check_positions(positions).copy()
    pos[..., 0] -= pos[0, PELVIS, 0]
    pos[..., 2] -= pos[0, PELVIS, 2]
    return rotate_y(pos, -heading(pos[:1])[0])


def foot_contacts(positions: np.ndarray, fps: float) -> np.ndarray:
    """Foot contact flags from heights and speeds (see ``CONTACT_HEIGHT``, ``CONTACT_SPEED``).

    The floor is y = 0 (canonical skeleton); speed is the forward step x[t+1] - x[t] times
    fps, the last frame repeating the previous one (as the velocity features do).
    positions: (T, 22, 3) -> (T, 4) bool in ``FOOT_JOINTS`` order.
    """
    pos = _check_positions(positions)
    feet = pos[:, list(FOOT_JOINTS)]  # (T, 4, 3)
    speed = _repeat_last(np.linalg.norm(_steps(feet), axis=-1) * fps, len(feet))  # (T, 4)
    low = feet[..., 1] < np.asarray(CONTACT_HEIGHT)
    return low & (speed < CONTACT_SPEED)


def positions_to_features(positions: np.ndarray, fps: float = MODEL_FPS) -> np.ndarray:
    """Joint positions to model features.

    positions: (T, 22, 3) metres on the canonical skeleton at ``fps`` frames per second
    (fps only sets the contact speed threshold; velocities are per frame).
    Returns (T, 137) float32; see the module docstring for the layout.
    """
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"frame rate must be a positive number, got {fps!r}")
    pos = _check_positions(positions)
    n = pos.shape[0]

    theta = heading(pos)  # (T,)
    root = pos[:, PELVIS]  # (T, 3)

    # Steps t -> t+1 live in frame t's facing frame; the last frame copies the feature
    # values of the one before, so the velocity channels stay smooth at the clip end.
    rot_vel = _repeat_last(_wrap(_steps(theta)), n)  # (T,)
    root_step = _steps(root)
    root_step[:, 1] = 0.0
    lin_vel = _repeat_last(rotate_y(root_step, -theta[:-1])[:, [0, 2]], n)  # (T, 2)

    local = pos[:, 1:].copy()  # (T, 21, 3); y stays the absolute height, as in HumanML3D
    local[..., 0] -= root[:, None, 0]
    local[..., 2] -= root[:, None, 2]
    local = rotate_y(local, -theta)

    vel = _repeat_last(rotate_y(_steps(pos), -theta[:-1]), n)  # (T, 22, 3)

    out = np.concatenate(
        [
            rot_vel[:, None],
            lin_vel,
            root[:, 1:2],
            local.reshape(n, -1),
            vel.reshape(n, -1),
            foot_contacts(pos, fps).astype(np.float64),
        ],
        axis=1,
    )
    return out.astype(np.float32)


def _check_features(shape: tuple[int, ...]) -> None:
    if len(shape) not in (2, 3) or shape[-1] != FEATURE_DIM:
        raise InputError(
            f"features must have shape (T, {FEATURE_DIM}) or (B, T, {FEATURE_DIM}), got "
            f"{tuple(shape)}; denormalise model output before converting it to positions"
        )
    if shape[-2] < 1:
        raise InputError("features have no frames")


def features_to_positions(features: np.ndarray) -> np.ndarray:
    """Model features back to joint positions (the exact inverse of ``positions_to_features``).

    Uses the root velocities, root height and local positions; the joint-velocity and
    contact blocks are redundant and ignored. Frame 0 faces +Z with its pelvis at x = z = 0.
    features: (T, 137) or (B, T, 137) -> (T, 22, 3) or (B, T, 22, 3) float32.
    """
    f = np.asarray(features, dtype=np.float64)
    _check_features(f.shape)
    if not np.isfinite(f).all():
        raise InputError("features contain NaN or infinite values")

    # heading[t] = sum of rotation steps before t; the last frame's step is never used.
    steps = f[..., :-1, ROOT_ROT_VEL.start]
    theta = np.concatenate([np.zeros_like(f[..., :1, 0]), np.cumsum(steps, axis=-1)], axis=-1)
    c, s = np.cos(theta), np.sin(theta)  # (..., T)

    vx, vz = f[..., ROOT_LIN_VEL.start], f[..., ROOT_LIN_VEL.start + 1]
    wx, wz = c * vx + s * vz, -s * vx + c * vz  # world-frame root steps, as rotate_y(+theta)
    zero = np.zeros_like(f[..., :1, 0])
    root_x = np.concatenate([zero, np.cumsum(wx[..., :-1], axis=-1)], axis=-1)
    root_z = np.concatenate([zero, np.cumsum(wz[..., :-1], axis=-1)], axis=-1)

    local = f[..., LOCAL_POS].reshape(*f.shape[:-1], NUM_JOINTS - 1, 3)
    lx, ly, lz = local[..., 0], local[..., 1], local[..., 2]
    cj, sj = c[..., None], s[..., None]
    joints = np.stack(
        [cj * lx + sj * lz + root_x[..., None], ly, -sj * lx + cj * lz + root_z[..., None]],
        axis=-1,
    )
    pelvis = np.stack([root_x, f[..., ROOT_Y.start], root_z], axis=-1)[..., None, :]
    return np.concatenate([pelvis, joints], axis=-2).astype(np.float32)


def features_to_positions_torch(features: torch.Tensor) -> torch.Tensor:
    """Differentiable torch version of ``features_to_positions`` (same maths, same dtype and
    device as the input; pass float64 for the exact round trip).

    features: (T, 137) or (B, T, 137) -> (T, 22, 3) or (B, T, 22, 3).
    """
    import torch

    _check_features(tuple(features.shape))
    f = features
    zero = torch.zeros_like(f[..., :1, 0])
    theta = torch.cat([zero, torch.cumsum(f[..., :-1, ROOT_ROT_VEL.start], dim=-1)], dim=-1)
    c, s = torch.cos(theta), torch.sin(theta)

    vx, vz = f[..., ROOT_LIN_VEL.start], f[..., ROOT_LIN_VEL.start + 1]
    wx, wz = c * vx + s * vz, -s * vx + c * vz
    root_x = torch.cat([zero, torch.cumsum(wx[..., :-1], dim=-1)], dim=-1)
    root_z = torch.cat([zero, torch.cumsum(wz[..., :-1], dim=-1)], dim=-1)

    local = f[..., LOCAL_POS].reshape(*f.shape[:-1], NUM_JOINTS - 1, 3)
    lx, ly, lz = local[..., 0], local[..., 1], local[..., 2]
    cj, sj = c[..., None], s[..., None]
    joints = torch.stack(
        [cj * lx + sj * lz + root_x[..., None], ly, -sj * lx + cj * lz + root_z[..., None]],
        dim=-1,
    )
    pelvis = torch.stack([root_x, f[..., ROOT_Y.start], root_z], dim=-1)[..., None, :]
    return torch.cat([pelvis, joints], dim=-2)


def motion_to_features(motion: Motion, fps: float = MODEL_FPS) -> np.ndarray:
    """A ``Motion`` resampled to ``fps`` (the model frame rate by default) as features.

    Returns (T', 137) float32 with T' = round(seconds * fps).
    """
    if abs(motion.fps - fps) > 1e-9:
        motion = motion.resample(fps)
    return positions_to_features(motion.positions, motion.fps)


def features_to_motion(features: np.ndarray, fps: float = MODEL_FPS, **fields: Any) -> Motion:
    """Features (T, 137) as a ``Motion`` at ``fps``; ``fields`` go to ``Motion`` (texts, name ...)."""
    from motiongen.motion import Motion

    f = np.asarray(features)
    if f.ndim != 2:
        raise InputError(f"one motion needs features of shape (T, {FEATURE_DIM}), got {f.shape}")
    return Motion(positions=features_to_positions(f), fps=fps, **fields)


# ---- normalisation ----------------------------------------------------------------------


@dataclass
class NormStats:
    """Per-dimension mean and std of the features, saved beside a model.

    mean, std: (137,) float32. ``normalize(x) = (x - mean) / std``. dim: the width they
    must have (another representation's, e.g. the stick models' 22).
    """

    mean: np.ndarray
    std: np.ndarray
    dim: int = FEATURE_DIM

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32)
        self.std = np.asarray(self.std, dtype=np.float32)
        if self.mean.shape != (self.dim,) or self.std.shape != (self.dim,):
            raise FormatError(
                f"normalisation stats must have shape ({self.dim},), got mean "
                f"{self.mean.shape} and std {self.std.shape}; recompute them for this feature layout"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.std).all()):
            raise FormatError("normalisation stats contain NaN or infinite values; recompute them")
        if (self.std <= 0).any():
            raise FormatError("normalisation std must be positive everywhere; recompute the stats")

    @classmethod
    def compute(
        cls,
        features_list: list[np.ndarray] | np.ndarray,
        *,
        min_std: float = 1e-3,
        group_std: bool = False,
    ) -> NormStats:
        """Statistics over all frames of all clips (each clip weighted by its length).

        features_list: clips of shape (T_i, 137), or one array (N, 137); another per-frame
            representation (the stick figures' 22 numbers) works too, all clips one width.
        min_std: floor on std so near-constant dimensions (a contact that never fires, the
            root's own zero local offset) are not blown up.
        group_std: share one std (the mean of the group's stds) within LOCAL_POS and within
            VEL, as HumanML3D does, so positions keep their relative scale; off by default:
            per-dimension unit variance suits Gaussian noise in diffusion / flow matching.
        """
        clips = [features_list] if isinstance(features_list, np.ndarray) else list(features_list)
        if not clips:
            raise InputError("no features given to compute normalisation statistics from")
        width = np.shape(clips[0])[-1] if np.ndim(clips[0]) == 2 else FEATURE_DIM
        for clip in clips:
            if np.ndim(clip) != 2 or np.shape(clip)[-1] != width:
                raise InputError(
                    f"each clip's features must have shape (T, {width}), got {np.shape(clip)}"
                )
        if group_std and width != FEATURE_DIM:
            raise InputError("group_std needs the 137 model features")
        # Two-pass sums in float64: 400k frames of float32 would lose digits in one pass.
        count = sum(len(c) for c in clips)
        if count == 0:
            raise InputError("features have no frames")
        mean = sum(np.asarray(c, np.float64).sum(axis=0) for c in clips) / count
        var = sum(((np.asarray(c, np.float64) - mean) ** 2).sum(axis=0) for c in clips) / count
        std = np.sqrt(var)
        if group_std:
            for group in (LOCAL_POS, VEL):
                std[group] = std[group].mean()
        return cls(mean=mean, std=np.maximum(std, min_std), dim=int(width))

    def _like(self, x: Any) -> tuple[Any, Any]:
        if isinstance(x, np.ndarray):
            return self.mean, self.std
        import torch

        if isinstance(x, torch.Tensor):
            return (
                torch.as_tensor(self.mean, dtype=x.dtype, device=x.device),
                torch.as_tensor(self.std, dtype=x.dtype, device=x.device),
            )
        raise InputError(f"cannot normalise a {type(x).__name__}; give a numpy array or tensor")

    def normalize(self, features: Any) -> Any:
        """(..., 137) numpy array or torch tensor -> same type, shape and dtype."""
        mean, std = self._like(features)
        out = (features - mean) / std
        return out.astype(features.dtype, copy=False) if isinstance(out, np.ndarray) else out

    def denormalize(self, features: Any) -> Any:
        """Inverse of ``normalize``: (..., 137) -> (..., 137)."""
        mean, std = self._like(features)
        out = features * std + mean
        return out.astype(features.dtype, copy=False) if isinstance(out, np.ndarray) else out

    def save(self, path: str | Path) -> Path:
        """Write ``mean``, ``std`` and the layout they belong to as a plain ``.npz``."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, mean=self.mean, std=self.std, feature_dim=np.int64(FEATURE_DIM))
        return path

    @classmethod
    def load(cls, path: str | Path, dim: int = FEATURE_DIM) -> NormStats:
        """Read stats written by ``save`` (``dim`` wide)."""
        path = Path(path)
        if not path.exists():
            raise DataNotFoundError(
                f"no normalisation stats at {path}; compute and save them first"
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                mean, std = data["mean"], data["std"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise FormatError(
                f"{path} is not a readable normalisation-stats .npz with 'mean' and 'std' "
                f"({type(err).__name__}: {err})"
            ) from err
        return cls(mean=mean, std=std, dim=dim)
