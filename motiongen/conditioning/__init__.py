"""Conditioners: turn prompts, audio and user constraints into what a model is conditioned on.

``TextEncoder`` (text.py) needs torch and sentence-transformers and is imported lazily, so
``import motiongen.conditioning`` stays light for audio-only and data-preparation code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from motiongen.conditioning.audio_features import (
    FEATURE_DIM,
    FEATURE_SLICES,
    AudioFeatures,
    audio_features,
    features_from_file,
)

if TYPE_CHECKING:
    from motiongen.conditioning.text import TextEmbedding, TextEncoder

__all__ = [
    "FEATURE_DIM",
    "FEATURE_SLICES",
    "AudioFeatures",
    "TextEmbedding",
    "TextEncoder",
    "audio_features",
    "features_from_file",
]


def __getattr__(name: str) -> Any:
    if name in ("TextEncoder", "TextEmbedding"):
        from motiongen.conditioning import text

        return getattr(text, name)
    raise AttributeError(f"module 'motiongen.conditioning' has no attribute {name!r}")
