"""A motion sampled from a retrieved take turns as much as that take does.

Sampling from the prior (``Pipeline.start_time``, docs/retrieval.md) starts the flow from a
recorded take of the prompt's action and leaves the network its last steps. Those steps add
turning: every distilled text model learned its teacher's guided samples (tiny-rag at guidance
2.0), and guidance inflates the turn a text asks for (tiny-rag from noise: "a person walks and
turns right" -63 to -251 degrees at guidance 1.0, -268 to -883 at 2.0; the data's walk-turns
turn 93 degrees). Started from a take turning 85-98 degrees, tiny-flow-rollout-r4 turned
111-163. So the slow heading (the cumulative turn, low-passed) of a sample that turns further
than its take is set to the take's, its quick sway kept: the turn is the action's, which the
take decides, the rest the network's. Imposing the take's heading channel whole during
sampling turned as well but slid runs' feet (skating 0.08 -> 0.28): their step-by-step sway is
the network's own.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from motiongen.features import ROOT_ROT_VEL, NormStats

# How slow a heading change must be to be the take's (Gaussian sigma, seconds). Chosen on
# walk-turn prompts (6 seeds each): 0.5 s left the turns 87-100 degrees where their takes
# turned 85-98; 1.0 s, lagging at the ends, 89-105.
SIGMA_SECONDS = 0.5


def follow_start_heading(
    x: torch.Tensor, start: torch.Tensor, norm: NormStats, fps: float
) -> torch.Tensor:
    """``x`` (B, T, D) normalised features with the cumulative heading of ``start`` (the
    take it was sampled from, normalised alike) below ``SIGMA_SECONDS`` and its own above,
    where it turns further than the take ever does; norm: the features' normalisation."""
    ch = ROOT_ROT_VEL.start
    mean, std = float(norm.mean[ch]), float(norm.std[ch])
    own = np.cumsum((x[..., ch] * std + mean).double().cpu().numpy(), axis=1)
    take = np.cumsum((start[..., ch] * std + mean).double().cpu().numpy(), axis=1)
    # only a sample that turns further than its take ever does: the data's one kick spins
    # round and its one punch turns to and fro, which the network had turned less; set to the
    # take's, span edits to them read as a dance or a run (recognised 60 -> 50 %)
    further = np.abs(own).max(axis=1) > np.abs(take).max(axis=1)
    if not further.any():
        return x
    change = gaussian_filter1d(take - own, SIGMA_SECONDS * fps, axis=1, mode="nearest")
    heading = own + change * further[:, None]
    steps = np.diff(heading, axis=1, prepend=0.0)
    out = x.clone()
    out[..., ch] = (torch.as_tensor(steps, dtype=x.dtype, device=x.device) - mean) / std
    return out
