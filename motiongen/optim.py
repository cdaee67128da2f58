"""The optimiser and learning-rate schedule every trained network here uses: AdamW with weight
decay on matrices only, linear warm-up then cosine decay to a floor. One definition for the
generator's trainer and the learned evaluators."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on matrices only (not biases, norms, null embeddings or adaLN tables)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_matrix = p.ndim >= 2 and "mod_table" not in name
        (decay if is_matrix else no_decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def adamw(
    model: nn.Module,
    *,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.AdamW:
    """AdamW over ``param_groups``."""
    return torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=betas)


def warmup_cosine(
    step: int, *, warmup: int, total: int, min_ratio: float, progress_floor: float = 0.0
) -> float:
    """Learning-rate factor: (step + 1) / warmup during warm-up, then a cosine from 1 down to
    ``min_ratio`` at ``total`` steps. progress_floor in [0, 1] moves the cosine at least that
    far (a time budget that runs out before the step budget)."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    progress = min(1.0, max(progress, progress_floor))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
