"""Generator networks. They map (x, t, conditions, mask) to a tensor like x and know nothing
of noise, schedules or datasets; ``motiongen.generative`` turns them into samplers."""

from __future__ import annotations

from typing import Any

from torch import nn

from motiongen.errors import InputError
from motiongen.models.conditions import ModelConditions
from motiongen.models.dit import MotionDiT, MotionDiTConfig
from motiongen.models.unet1d import UNet1D, UNet1DConfig

# Architecture name -> (network class, config class), for checkpoints that store the name.
ARCHITECTURES: dict[str, tuple[type[nn.Module], Any]] = {
    "dit": (MotionDiT, MotionDiTConfig),
    "unet1d": (UNet1D, UNet1DConfig),
}


def build_model(architecture: str, config: dict[str, Any]) -> nn.Module:
    """A fresh network from an architecture name and a config dict (as saved in a checkpoint)."""
    if architecture not in ARCHITECTURES:
        raise InputError(
            f"unknown architecture {architecture!r}; choose one of {sorted(ARCHITECTURES)}"
        )
    net_class, config_class = ARCHITECTURES[architecture]
    return net_class(config_class.from_dict(config))


__all__ = [
    "ARCHITECTURES",
    "ModelConditions",
    "MotionDiT",
    "MotionDiTConfig",
    "UNet1D",
    "UNet1DConfig",
    "build_model",
]
