"""Generative processes: flow matching (OT-CFM) with ODE samplers, DDPM/DDIM, guidance and
known-frame replacement. Samplers take plain callables and never import a network.

Every process implements ``Process`` (``process.py``) and is built by ``build_process``.
"""

from motiongen.generative.ddpm import DDPM, DDPMConfig
from motiongen.generative.flow import (
    EVALS_PER_STEP,
    FlowConfig,
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
from motiongen.generative.process import (
    Process,
    TrainingPair,
    build_process,
    process_class,
    process_names,
    register_process,
)

__all__ = [
    "DDPM",
    "EVALS_PER_STEP",
    "DDPMConfig",
    "FlowConfig",
    "FlowMatching",
    "LossOutput",
    "PathSample",
    "Process",
    "TrainingPair",
    "build_process",
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
    "process_class",
    "process_names",
    "register_process",
    "replacement",
    "time_grid",
]
