"""Inference checkpoints: one folder that ``Pipeline.from_pretrained`` needs nothing else for.

Layout::

    config.json        {"format": "motiongen-checkpoint", "version": 1,
                        "architecture": "dit" | "unet1d", "model": {...network config...},
                        "process": "flow" | "ddpm", "process_config": {...},
                        "conditioning": {"text_model": ..., "text_dim": 384, "max_tokens": 64,
                                         "audio_dim": 50, "fps": 20.0, "window": 196},
                        "training": {...how it was made: command, steps, wall time ...}}
    model.safetensors  network weights (the EMA weights when training used EMA)
    norm.npz           feature normalisation (``motiongen.features.NormStats``)

Weights are safetensors, never pickle. Loading checks every tensor for NaN/inf and for the
shapes the config implies, and says what is wrong in one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from motiongen.errors import DataNotFoundError, FormatError
from motiongen.features import NormStats

FORMAT = "motiongen-checkpoint"
VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
NORM_NAME = "norm.npz"


@dataclass
class CheckpointConfig:
    architecture: str  # key of motiongen.models.ARCHITECTURES
    model: dict[str, Any]  # the network config as a dict (Config.to_dict())
    process: str  # "flow" or "ddpm"
    process_config: dict[str, Any] = field(default_factory=dict)
    conditioning: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **self.__dict__}


@dataclass
class Checkpoint:
    config: CheckpointConfig
    model: nn.Module
    norm: NormStats
    path: Path | None = None


def write_model_folder(
    path: str | Path, model: nn.Module, norm: NormStats, config: dict, fmt: str
) -> Path:
    """Write ``path/`` (created): ``model.safetensors`` (no pickle, metadata format ``fmt``),
    ``norm.npz``, and ``config.json`` last, so a folder with a config is a complete one (an
    interrupted save leaves no config, which readers report as such)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg_path = path / CONFIG_NAME
    if cfg_path.exists():
        cfg_path.unlink()
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / (WEIGHTS_NAME + ".tmp")), metadata={"format": fmt})
    (path / (WEIGHTS_NAME + ".tmp")).replace(path / WEIGHTS_NAME)
    norm.save(path / NORM_NAME)
    tmp = path / (CONFIG_NAME + ".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    tmp.replace(cfg_path)
    return path


def save_checkpoint(
    path: str | Path, config: CheckpointConfig, model: nn.Module, norm: NormStats
) -> Path:
    """Write a generator checkpoint folder (``write_model_folder``)."""
    return write_model_folder(path, model, norm, config.to_json(), FORMAT)


def read_config(path: str | Path) -> CheckpointConfig:
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"no checkpoint at {path}; give a checkpoint folder")
    cfg_path = path / CONFIG_NAME if path.is_dir() else path
    if not cfg_path.is_file():
        raise DataNotFoundError(
            f"{path} is not a checkpoint: {CONFIG_NAME} is missing (an interrupted save?)"
        )
    try:
        raw = json.loads(cfg_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormatError(f"checkpoint config {cfg_path} is not valid JSON ({err})") from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise FormatError(f"{cfg_path} is not a motiongen checkpoint config")
    if raw.get("version") != VERSION:
        raise FormatError(
            f"checkpoint {path} has format version {raw.get('version')}; this motiongen reads "
            f"version {VERSION}"
        )
    try:
        return CheckpointConfig(
            architecture=raw["architecture"],
            model=raw["model"],
            process=raw["process"],
            process_config=raw.get("process_config", {}),
            conditioning=raw.get("conditioning", {}),
            training=raw.get("training", {}),
        )
    except KeyError as err:
        raise FormatError(f"checkpoint config {cfg_path} lacks the key {err}") from err


def load_checked_state(
    model: torch.nn.Module,
    weights_path: Path,
    what: str,
    *,
    nan_hint: str = "the file is damaged or the training diverged",
    device: str = "cpu",
) -> dict[str, torch.Tensor]:
    """``model``'s state from a safetensors file, checked before use: readable, the same
    tensor names and shapes as ``model``, no NaN or infinite values. ``what`` names the file's
    owner in the messages (e.g. "checkpoint runs/x")."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights_path), device=device)
    except (SafetensorError, OSError, ValueError) as err:
        raise FormatError(f"{what}: weights {weights_path} are missing or corrupt ({err})") from err
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise FormatError(
            f"{what} does not match its config: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]} (weights saved from another model?)"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise FormatError(
                f"{what}: tensor {name} has shape {tuple(tensor.shape)}, the config "
                f"implies {tuple(expected[name].shape)}"
            )
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise FormatError(f"{what}: tensor {name} contains NaN or infinite values; {nan_hint}")
    return state


def load_checkpoint(path: str | Path, *, device: str = "cpu") -> Checkpoint:
    """Rebuild the network from ``path`` and load its weights, checking them first."""
    from motiongen.models import build_model

    path = Path(path)
    config = read_config(path)
    if config.process not in ("flow", "ddpm"):
        raise FormatError(f"checkpoint {path}: unknown process {config.process!r}")
    model = build_model(config.architecture, config.model)
    weights_path = path / WEIGHTS_NAME
    if not weights_path.is_file():
        raise DataNotFoundError(f"checkpoint {path} has no {WEIGHTS_NAME}")
    state = load_checked_state(
        model,
        weights_path,
        f"checkpoint {path}",
        nan_hint="the training diverged or the file is damaged — use an earlier checkpoint",
        device=device,
    )
    model.load_state_dict(state)
    model.eval()
    norm_path = path / NORM_NAME
    if not norm_path.is_file():
        raise DataNotFoundError(f"checkpoint {path} has no {NORM_NAME} (normalisation stats)")
    norm = NormStats.load(norm_path)
    return Checkpoint(config=config, model=model.to(device), norm=norm, path=path)
