"""motiongen: generate, edit, score and serve 3-D human motion."""

from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.io import load, save
from motiongen.motion import AudioRef, Motion

__all__ = [
    "AudioRef",
    "DataNotFoundError",
    "FormatError",
    "InputError",
    "Motion",
    "MotionGenError",
    "load",
    "save",
]
__version__ = "0.1.0"
