"""Generative processes: flow matching (OT-CFM) with ODE samplers, DDPM/DDIM, guidance and
known-frame replacement. Samplers take plain callables and never import a network."""

from motiongen.generative.ddpm import DDPM, DDPMConfig
from motiongen.generative.flow import (
    EVALS_PER_STEP,
    FlowMatching,
    LossOutput,
    PathSample,
    draw_noise,
    euler,
    heun,
    integrate,
    masked_mse,
    midpoint,
    time_grid,
)
from motiongen.generative.guidance import cfg_combine, condition_dropout, guidance_weights, guided
from motiongen.generative.inpaint import flow_coefficients, impose, replacement

__all__ = [
    "DDPM",
    "EVALS_PER_STEP",
    "DDPMConfig",
    "FlowMatching",
    "LossOutput",
    "PathSample",
    "cfg_combine",
    "condition_dropout",
    "draw_noise",
    "euler",
    "flow_coefficients",
    "guidance_weights",
    "guided",
    "heun",
    "impose",
    "integrate",
    "masked_mse",
    "midpoint",
    "replacement",
    "time_grid",
]
