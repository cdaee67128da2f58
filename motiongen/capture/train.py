"""Training the lifter on our 3-D data filmed by random cameras (``capture/camera.py``).

Every batch is made fresh: windows of real clips (train split, 20 fps), each filmed by its
own random camera with keypoint noise of 0-2.5 % of the body's height, 0-12 % of points
missed in runs, and confidences that fall with the noise. Loss: mean per-joint position
error of the pose (relative to the pelvis) plus half the pelvis trajectory error.
Validation: the same on val-split windows with fixed cameras and noise; the best is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from motiongen.capture.camera import film
from motiongen.capture.lifter import (
    FPS,
    Lifter,
    LifterConfig,
    level_frame,
    normalise,
    save_lifter,
    targets,
)
from motiongen.skeleton import NUM_JOINTS

WINDOW = 81


def clip_positions(split: str) -> list[np.ndarray]:
    """(T, 22, 3) positions at 20 fps of the split's clips at least one window long."""
    from motiongen.data.prepare import prepare

    data = prepare().data
    out = []
    for rec in data.select(split=split):
        positions = data.motion(rec).resample(FPS).positions.astype(np.float64)
        if len(positions) >= WINDOW:
            out.append(positions)
    return out


def make_batch(
    clips: list[np.ndarray], size: int, rng: np.random.Generator, window: int = WINDOW
) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for _ in range(size):
        clip = clips[rng.integers(len(clips))]
        start = rng.integers(len(clip) - window + 1)
        pos = clip[start : start + window]
        xy, conf, camera = film(pos, rng, noise=rng.uniform(0.0, 0.025),
                                dropout=rng.uniform(0.0, 0.12))  # fmt: skip
        xs.append(normalise(xy, conf))
        ys.append(targets(pos, level_frame(camera.rotation)))
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def loss_fn(pred: torch.Tensor, true: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(total, pose error in metres): per-joint distance of the pose + half the root's."""
    n = NUM_JOINTS * 3
    shape = (*pred.shape[:-1], NUM_JOINTS, 3)
    pose = (pred[..., :n].reshape(shape) - true[..., :n].reshape(shape)).norm(dim=-1).mean()
    root = (pred[..., n:] - true[..., n:]).norm(dim=-1).mean()
    return pose + 0.5 * root, pose


def train_lifter(
    out: Path,
    *,
    minutes: float = 10.0,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    progress: Callable[[int, float, float], None] | None = None,
) -> dict:
    """Train for ``minutes`` of wall time; the best val checkpoint goes to ``out``."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train, val = clip_positions("train"), clip_positions("val")
    val_rng = np.random.default_rng(12345)
    val_batches = [make_batch(val, 64, val_rng) for _ in range(4)]
    model = Lifter(LifterConfig())
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    start = time.perf_counter()
    budget = minutes * 60.0
    best, step, history = float("inf"), 0, []
    while time.perf_counter() - start < budget:
        frac = (time.perf_counter() - start) / budget
        for group in optim.param_groups:  # cosine to 5 %, by time
            group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0))))
        model.train()
        x, y = make_batch(train, batch_size, rng)
        loss, _ = loss_fn(model(x), y)
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        step += 1
        if step % 100 == 0:
            model.eval()
            with torch.no_grad():
                errors = [float(loss_fn(model(vx), vy)[1]) for vx, vy in val_batches]
            val_mpjpe = float(np.mean(errors))
            history.append({"step": step, "train": float(loss.detach()), "val_mpjpe_m": val_mpjpe,
                            "seconds": round(time.perf_counter() - start, 1)})  # fmt: skip
            if val_mpjpe < best:
                best = val_mpjpe
                save_lifter(model, out, {"step": step, "val_mpjpe_m": best})
            if progress is not None:
                progress(step, float(loss.detach()), val_mpjpe)
    info = {"steps": step, "best_val_mpjpe_m": best, "minutes": minutes,
            "parameters": sum(p.numel() for p in model.parameters()), "history": history}  # fmt: skip
    import json

    (out / "training.json").write_text(json.dumps(info, indent=1))
    return info
