"""Training: YAML configs, losses, the accelerate training loop and resumable state.

``motiongen train --config configs/tiny_flow.yaml`` (``motiongen/cli/train.py``) wraps
``train(load_config(path))``; see ``docs/training.md``.
"""

from motiongen.train.config import TrainConfig, config_from_dict, load_config
from motiongen.train.losses import LossTerms, TrainingLoss, position_terms
from motiongen.train.trainer import Trainer, TrainingDiverged, TrainResult, train

__all__ = [
    "LossTerms",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingDiverged",
    "TrainingLoss",
    "config_from_dict",
    "load_config",
    "position_terms",
    "train",
]
