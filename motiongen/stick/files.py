"""Stick data on disk: ``.npz`` and a ``.motion`` JSON (meta, the flattened 20-number frames,
optional physics, camera and per-frame actions), one or several actors per file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motiongen.errors import FormatError, InputError
from motiongen.stick.representation import PHYSICS_DIM, STICK_DIM

FORMAT = "motiongen-stick"
MAX_BYTES = 200 * 1024 * 1024


@dataclass
class StickData:
    """stick: (A, T, 20) for A actors; physics (A, T, 6) or None; camera (T, 3) x, y, zoom
    or None; actions: per actor, one label per frame (or empty)."""

    stick: np.ndarray
    fps: float
    physics: np.ndarray | None = None
    camera: np.ndarray | None = None
    actions: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = np.asarray(self.stick, dtype=np.float32)
        if s.ndim == 2:
            s = s[None]
        if s.ndim != 3 or s.shape[2] != STICK_DIM or s.shape[1] < 1:
            raise InputError(f"stick data must be (actors, frames, {STICK_DIM}), got {s.shape}")
        if not np.isfinite(s).all():
            raise InputError("stick data contain NaN or infinite values")
        if not (np.isfinite(self.fps) and 1 <= self.fps <= 1000):
            raise InputError(f"frame rate must be 1..1000, got {self.fps}")
        self.stick = s
        A, T = s.shape[:2]
        try:
            if self.physics is not None:
                self.physics = np.asarray(self.physics, dtype=np.float32).reshape(A, T, PHYSICS_DIM)
            if self.camera is not None:
                self.camera = np.asarray(self.camera, dtype=np.float32).reshape(T, 3)
        except ValueError:
            raise InputError(
                f"physics must be ({A}, {T}, {PHYSICS_DIM}) and camera ({T}, 3)"
            ) from None
        if self.actions and (len(self.actions) != A or any(len(a) != T for a in self.actions)):
            raise InputError("actions must give one label per frame for every actor")


def save_stick(data: StickData, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix == ".npz":
        arrays = {"stick": data.stick, "fps": np.float32(data.fps)}
        if data.physics is not None:
            arrays["physics"] = data.physics
        if data.camera is not None:
            arrays["camera"] = data.camera
        if data.actions:
            arrays["actions"] = np.asarray(data.actions, dtype=str)
        np.savez_compressed(path, **arrays)
        return path
    if path.name.endswith((".motion", ".motion.json")):
        A, T = data.stick.shape[:2]
        body = {
            "meta": {"format": FORMAT, "version": 1, "fps": data.fps, "actors": A, "frames": T,
                     "numbers_per_frame": STICK_DIM,
                     "segments": ["head", "torso", "left_arm", "right_arm", "legs"]},
            "motion": np.round(data.stick, 5).reshape(-1).tolist(),
        }  # fmt: skip
        if data.physics is not None:
            body["physics"] = np.round(data.physics, 5).reshape(-1).tolist()
        if data.camera is not None:
            body["camera"] = np.round(data.camera, 5).reshape(-1).tolist()
        if data.actions:
            body["actions"] = data.actions
        path.write_text(json.dumps(body))
        return path
    raise InputError(f"stick data are written as .npz or .motion, got {path.name}")


def load_stick(path: str | Path) -> StickData:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"stick file {path} not found")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path.name} is over {MAX_BYTES // 2**20} MB")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                actions = [list(a) for a in z["actions"]] if "actions" in z else []
                return StickData(
                    stick=z["stick"], fps=float(z["fps"]),
                    physics=z.get("physics"),
                    camera=z.get("camera"), actions=actions,
                )  # fmt: skip
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise FormatError(f"{path.name} is not readable stick data ({exc})") from None
    meta = body.get("meta", {}) if isinstance(body, dict) else {}
    if meta.get("format") != FORMAT:
        raise FormatError(f"{path.name} is not a stick .motion file (meta.format {FORMAT!r})")
    try:
        A, T = int(meta["actors"]), int(meta["frames"])
        stick = np.asarray(body["motion"], dtype=np.float32).reshape(A, T, STICK_DIM)
        physics = body.get("physics")
        camera = body.get("camera")
        return StickData(
            stick=stick, fps=float(meta["fps"]),
            physics=None if physics is None else np.asarray(physics, dtype=np.float32),
            camera=None if camera is None else np.asarray(camera, dtype=np.float32),
            actions=body.get("actions") or [],
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"{path.name}: stick data do not fit their meta ({exc})") from None
