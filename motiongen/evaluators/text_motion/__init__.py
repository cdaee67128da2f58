"""The text-motion evaluator: ``model.py`` (dual encoder, loading, inference), ``train.py``."""

from motiongen.evaluators.text_motion.model import (
    DEFAULT_DIR,
    TextMotionConfig,
    TextMotionEvaluator,
    TextMotionModel,
    sentence_embeddings,
)

__all__ = [
    "DEFAULT_DIR",
    "TextMotionConfig",
    "TextMotionEvaluator",
    "TextMotionModel",
    "sentence_embeddings",
]
