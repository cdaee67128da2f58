"""motiongen: generate, edit, score and serve 3-D human motion."""

from typing import Any

from motiongen.data.load import load_any as load
from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.io import save
from motiongen.motion import AudioRef, Motion

__all__ = [
    "AudioRef",
    "DataNotFoundError",
    "FormatError",
    "InputError",
    "Motion",
    "MotionGenError",
    "Pipeline",
    "load",
    "save",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Pipeline pulls in torch; keep `import motiongen` light for data and I/O users.
    if name == "Pipeline":
        from motiongen.pipeline import Pipeline

        return Pipeline
    raise AttributeError(f"module 'motiongen' has no attribute {name!r}")
