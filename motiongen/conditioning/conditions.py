"""What a user asks a generation to follow, as one typed object.

``Conditions`` holds user-level inputs only (a prompt, an audio file, a seed motion,
keyframes, a style name), validated on construction. Turning them into tensors is the
conditioners' job (``TextEncoder``, ``audio_features``) and the model's batch type lives in
``motiongen.models``; nothing here knows about a particular network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from motiongen.conditioning.text import validate_prompt
from motiongen.errors import DataNotFoundError, InputError
from motiongen.motion import Motion
from motiongen.skeleton import NUM_JOINTS

MAX_STYLE_CHARS = 100


@dataclass
class Conditions:
    """Conditions for one generated motion; every field is optional (none = unconditional).

    text: a prompt, stripped; empty or over 1,000 characters raises ``InputError``.
    audio_path: music or speech file that plays with the motion; must exist.
    audio_offset: seconds into the audio file at which motion frame 0 plays (>= 0).
    seed_motion: a canonical motion whose frames are held fixed as the generated prefix
        (one frame = a starting pose). The pipeline resamples it to the model's fps.
    keyframes: {frame index: (22, 3) joint positions}, canonical skeleton, metres, Y up,
        at the generated motion's frame rate; those frames are held fixed.
    style: a free-form style word or phrase ("happy", "old"); models map it as they can.
    """

    text: str | None = None
    audio_path: str | None = None
    audio_offset: float = 0.0
    seed_motion: Motion | None = None
    keyframes: dict[int, np.ndarray] | None = field(default=None)
    style: str | None = None

    def __post_init__(self) -> None:
        if self.text is not None:
            self.text = validate_prompt(self.text)
        if self.audio_path is not None:
            path = Path(self.audio_path).expanduser()
            if not path.is_file():
                raise DataNotFoundError(
                    f"audio file not found: {path}; give an existing music or speech file"
                )
            self.audio_path = str(path)
        offset = self.audio_offset
        if isinstance(offset, bool) or not isinstance(offset, (int, float, np.number)):
            raise InputError(f"audio offset must be a number of seconds, got {offset!r}")
        if not (math.isfinite(offset) and offset >= 0):
            raise InputError(f"audio offset must be >= 0 seconds, got {offset!r}")
        self.audio_offset = float(offset)
        if self.audio_path is None and self.audio_offset != 0.0:
            raise InputError("an audio offset was given without an audio file; add the file")
        if self.seed_motion is not None and not isinstance(self.seed_motion, Motion):
            raise InputError(
                f"seed motion must be a motiongen.Motion, got {type(self.seed_motion).__name__}; "
                "load it with motiongen.load(path)"
            )
        if self.keyframes is not None:
            self.keyframes = _check_keyframes(self.keyframes)
        if self.style is not None:
            if not isinstance(self.style, str):
                raise InputError(f"style must be a string, got {type(self.style).__name__}")
            style = self.style.strip()
            if not style:
                raise InputError("style is empty; give a word such as 'happy' or leave it out")
            if len(style) > MAX_STYLE_CHARS:
                raise InputError(
                    f"style has {len(style)} characters, over the limit of {MAX_STYLE_CHARS}; "
                    "give a short word or phrase"
                )
            self.style = style

    @property
    def is_unconditional(self) -> bool:
        return (
            self.text is None
            and self.audio_path is None
            and self.seed_motion is None
            and not self.keyframes
            and self.style is None
        )

    @property
    def has_audio(self) -> bool:
        return self.audio_path is not None

    def check_length(self, num_frames: int) -> None:
        """``InputError`` unless the seed prefix and every keyframe fit in ``num_frames``."""
        if self.seed_motion is not None and self.seed_motion.num_frames >= num_frames:
            raise InputError(
                f"seed motion has {self.seed_motion.num_frames} frames but only {num_frames} "
                "are generated; ask for a longer motion or give a shorter seed"
            )
        if self.keyframes:
            late = [k for k in self.keyframes if k >= num_frames]
            if late:
                raise InputError(
                    f"keyframe {min(late)} is past the last generated frame {num_frames - 1}; "
                    "ask for a longer motion or move the keyframe"
                )


def _check_keyframes(keyframes: object) -> dict[int, np.ndarray]:
    if not isinstance(keyframes, dict):
        raise InputError(
            f"keyframes must be a dict {{frame: (22, 3) positions}}, got {type(keyframes).__name__}"
        )
    checked: dict[int, np.ndarray] = {}
    for frame, pose in keyframes.items():
        if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 0:
            raise InputError(f"keyframe index must be an integer >= 0, got {frame!r}")
        arr = np.asarray(pose, dtype=np.float32)
        if arr.shape != (NUM_JOINTS, 3):
            raise InputError(
                f"keyframe {frame} has shape {arr.shape}, expected ({NUM_JOINTS}, 3) canonical "
                "joint positions in metres"
            )
        if not np.isfinite(arr).all():
            raise InputError(f"keyframe {frame} contains NaN or infinite positions")
        checked[int(frame)] = arr
    return dict(sorted(checked.items()))
