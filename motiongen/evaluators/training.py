"""The optimisation loop both learned evaluators train with: AdamW, warm-up then cosine to 5 %,
gradient clipping at 1, the mean loss logged every ``log_every`` steps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torch import Tensor, nn
from torch.nn.utils import clip_grad_norm_

from motiongen.optim import adamw, warmup_cosine


def run_training(
    model: nn.Module,
    batch_loss: Callable[[int], Tensor],
    *,
    steps: int,
    lr: float,
    warmup: int,
    weight_decay: float,
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
) -> list[float]:
    """Train ``model`` for ``steps`` steps on ``batch_loss(step)``; returns the logged means.

    progress(step, total, loss) is called with each logged mean.
    """
    opt = adamw(model, lr=lr, weight_decay=weight_decay)
    model.train()
    losses: list[float] = []
    running: list[float] = []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * warmup_cosine(step, warmup=warmup, total=steps, min_ratio=0.05)
        loss = batch_loss(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            losses.append(float(np.mean(running)))
            running = []
            if progress is not None:
                progress(step + 1, steps, losses[-1])
    model.eval()
    return losses
