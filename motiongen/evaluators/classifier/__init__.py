"""The label classifier: ``model.py`` (network, loading, inference), ``train.py``."""

from motiongen.evaluators.classifier.model import (
    DEFAULT_DIR,
    ClassifierConfig,
    LabelClassifier,
    MotionEncoder,
    Predictions,
)

__all__ = ["DEFAULT_DIR", "ClassifierConfig", "LabelClassifier", "MotionEncoder", "Predictions"]
