"""Lifting 2-D keypoints to 3-D: a temporal convolution network (~220 K parameters).

In the spirit of VideoPose3D (Pavllo et al. 2019, https://arxiv.org/abs/1811.11742): dilated
1-D convolutions over time (dilations 1, 3, 9, 27: a receptive field of 81 frames, 4 s at
20 fps), residual blocks, "same" padding so any length lifts in one pass.

Input per frame (``normalise``): the 17 COCO points relative to the hip centre, divided by
the clip's median torso length in pixels, with their confidences (unseen points are zero with
confidence 0), plus the hip centre's offset from its clip mean and the log of the frame's
torso length over the median (where the body is in the image and how near: what a monocular
root trajectory can be read from). Output per frame: the 22 joints relative to the pelvis and
the pelvis relative to its frame-0 position (height absolute), in metres, in the camera's
level frame (y up, z away from the camera, x = y cross z).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from motiongen.errors import DataNotFoundError, FormatError
from motiongen.skeleton import NUM_JOINTS

FPS = 20.0
IN_DIM = 17 * 3 + 3
OUT_DIM = NUM_JOINTS * 3 + 3
HIPS = (11, 12)
SHOULDERS = (5, 6)


@dataclass
class LifterConfig:
    width: int = 112
    dilations: tuple[int, ...] = (1, 3, 9, 27)
    dropout: float = 0.1


class _Block(nn.Module):
    def __init__(self, width: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(width, width, 3, dilation=dilation, padding=dilation,
                              padding_mode="replicate")  # fmt: skip
        self.mix = nn.Conv1d(width, width, 1)
        self.norm1, self.norm2 = nn.BatchNorm1d(width), nn.BatchNorm1d(width)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        h = self.drop(torch.relu(self.norm1(self.conv(x))))
        return x + self.drop(torch.relu(self.norm2(self.mix(h))))


class Lifter(nn.Module):
    """(B, T, IN_DIM) normalised keypoints -> (B, T, OUT_DIM) metres."""

    def __init__(self, config: LifterConfig | None = None) -> None:
        super().__init__()
        self.config = config or LifterConfig()
        w = self.config.width
        self.inp = nn.Conv1d(IN_DIM, w, 3, padding=1, padding_mode="replicate")
        self.blocks = nn.ModuleList(
            [_Block(w, d, self.config.dropout) for d in self.config.dilations]
        )
        self.out = nn.Conv1d(w, OUT_DIM, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = torch.relu(self.inp(x.transpose(1, 2)))
        for block in self.blocks:
            h = block(h)
        return self.out(h).transpose(1, 2)


def _fill(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Per column, frames not seen get the value linearly interpolated from seen ones."""
    out = values.copy()
    t = np.arange(len(values))
    for j in range(values.shape[1]):
        ok = seen[:, j]
        if ok.all() or not ok.any():
            continue
        for k in range(values.shape[2]):
            out[~ok, j, k] = np.interp(t[~ok], t[ok], values[ok, j, k])
    return out


def _mean_seen(filled: np.ndarray, seen: np.ndarray, joints: tuple[int, ...]) -> np.ndarray:
    ever = [j for j in joints if seen[:, j].any()] or list(joints)
    return filled[:, ever].mean(axis=1)


def normalise(xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T, 17, 2) pixels and (T, 17) confidences -> (T, IN_DIM) lifter input."""
    seen = conf > 0
    filled = _fill(xy, seen)
    hips_seen = seen[:, list(HIPS)].any(axis=1)
    # A hip or shoulder never seen in the clip (a side view) must not pull the mean to (0, 0).
    hips = _mean_seen(filled, seen, HIPS)  # (T, 2)
    shoulders = _mean_seen(filled, seen, SHOULDERS)
    torso = np.linalg.norm(shoulders - hips, axis=-1)  # (T,)
    ok = hips_seen & seen[:, list(SHOULDERS)].any(axis=1) & (torso > 1e-3)
    scale = float(np.median(torso[ok])) if ok.any() else float(np.ptp(filled[..., 1]) / 3 or 1.0)
    torso = np.where(ok, torso, scale)
    rel = (xy - hips[:, None]) / scale
    rel[~seen] = 0.0
    where = (hips - hips.mean(axis=0)) / scale
    near = np.log(np.clip(torso / scale, 0.2, 5.0))[:, None]
    return np.concatenate([rel.reshape(len(xy), -1), conf, where, near], axis=1).astype(np.float32)


def level_frame(camera_rotation: np.ndarray) -> np.ndarray:
    """(3, 3) rows: a turn about world Y whose z axis is the camera's horizontal forward
    (x = y cross z, so the frame is proper and nothing is mirrored)."""
    forward = camera_rotation[2].copy()
    forward[1] = 0.0
    forward /= max(np.linalg.norm(forward), 1e-9)
    up = np.array([0.0, 1.0, 0.0])
    return np.stack([np.cross(up, forward), up, forward])


def targets(positions: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """(T, 22, 3) world positions -> (T, OUT_DIM) lifter targets in ``frame`` (level_frame)."""
    local = (positions - positions[:, :1]) @ frame.T
    root = (positions[:, 0] - positions[0, 0] * np.array([1.0, 0.0, 1.0])) @ frame.T
    return np.concatenate([local.reshape(len(positions), -1), root], axis=1).astype(np.float32)


def positions_from(output: np.ndarray) -> np.ndarray:
    """(T, OUT_DIM) lifter output -> (T, 22, 3) positions in the level frame."""
    local = output[:, : NUM_JOINTS * 3].reshape(len(output), NUM_JOINTS, 3)
    return local - local[:, :1] + output[:, None, NUM_JOINTS * 3 :]


def save_lifter(model: Lifter, folder: str | Path, info: dict) -> Path:
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(folder / "model.safetensors"))  # fmt: skip
    config = {"format": "motiongen-lifter", "version": 1, "config": asdict(model.config), **info}
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    return folder


def load_lifter(folder: str | Path) -> Lifter:
    from safetensors.torch import load_file

    folder = Path(folder)
    if not (folder / "model.safetensors").is_file():
        raise DataNotFoundError(
            f"no lifter at {folder}; train one with `motiongen capture train --out {folder}`"
        )
    raw = json.loads((folder / "config.json").read_text())
    if raw.get("format") != "motiongen-lifter":
        raise FormatError(f"{folder} is not a motiongen lifter (config.json format)")
    cfg = raw["config"]
    cfg["dilations"] = tuple(cfg["dilations"])
    model = Lifter(LifterConfig(**cfg))
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model.eval()


def lift(model: Lifter, xy: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Keypoints at ``FPS`` -> (T, 22, 3) positions in the camera's level frame."""
    with torch.no_grad():
        out = model(torch.from_numpy(normalise(xy, conf))[None])[0].numpy()
    return positions_from(out.astype(np.float64))
