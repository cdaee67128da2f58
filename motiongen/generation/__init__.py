"""What a generation is asked for (``GenerationRequest`` and its checks) and how long motions
are built from model windows (``windows``). ``motiongen.pipeline`` wires these to a model."""

from motiongen.generation.request import (
    MAX_BATCH,
    MAX_GUIDANCE,
    MAX_SECONDS,
    MAX_STEPS,
    GenerationRequest,
    Guidance,
    check_int,
    check_seconds,
    parse_guidance,
)
from motiongen.generation.windows import (
    OVERLAP_SECONDS,
    fit_yaw,
    place_on,
    sample_windows,
    stitch,
    window_plan,
)

__all__ = [
    "MAX_BATCH",
    "MAX_GUIDANCE",
    "MAX_SECONDS",
    "MAX_STEPS",
    "OVERLAP_SECONDS",
    "GenerationRequest",
    "Guidance",
    "check_int",
    "check_seconds",
    "fit_yaw",
    "parse_guidance",
    "place_on",
    "sample_windows",
    "stitch",
    "window_plan",
]
