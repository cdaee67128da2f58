"""Judging stick figures in stick space: a label classifier trained on real clips seen as
stick figures, its embedding for a stick-space FID, and label recognition of generated sticks.

The classifier is the motion label classifier's network (``evaluators.classifier``) over the
22 stick features instead of the 137 model features, trained the same way (random crops,
mirrors with swapped left/right labels, source-balanced batches) on the train split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from motiongen.paths import PACKAGE_ROOT
from motiongen.stick.features import stick_features

CLASSIFIER_DIR = PACKAGE_ROOT / "assets" / "evaluators" / "stick-classifier"
WINDOW = 120  # frames compared (6 s at 20 fps), the stick models' training window


def stick_clip_features(data: Any, split: str) -> list[tuple[Any, np.ndarray, np.ndarray]]:
    """(record, stick features, mirrored stick features) of the kept clips of ``split``."""
    from motiongen.evaluators.features import clip_features
    from motiongen.stick.features import motion_stick_features

    return clip_features(data, split, features=motion_stick_features)


def train_stick_classifier(data: Any, *, steps: int = 1500, seed: int = 0,
                           progress: Callable[[int, int, float], None] | None = None) -> Any:  # fmt: skip
    from motiongen.evaluators.classifier.train import ClassifierTrainConfig, train_classifier

    cfg = ClassifierTrainConfig(steps=steps, seed=seed, max_crop=WINDOW)
    clips = stick_clip_features(data, "train")
    return train_classifier(data, cfg, progress=progress, clips=clips).classifier


def load_stick_classifier(path: Any = None) -> Any:
    from motiongen.evaluators.classifier import LabelClassifier

    return LabelClassifier.from_pretrained(path or CLASSIFIER_DIR)


def recognise(classifier: Any, sticks: Sequence[np.ndarray], content: Sequence[str],
              style: Sequence[str]) -> dict[str, float]:  # fmt: skip
    """Shares of stick sequences (T, 20) whose content / style / both the classifier reads as
    the given labels."""
    pred = classifier.predict([stick_features(s) for s in sticks])
    c = np.array([p == w for p, w in zip(pred.content, content, strict=True)])
    s = np.array([p == w for p, w in zip(pred.style, style, strict=True)])
    return {"content": float(c.mean()), "style": float(s.mean()), "both": float((c & s).mean()),
            "n": len(c)}  # fmt: skip


def stick_fid(
    classifier: Any,
    real: Sequence[np.ndarray],
    generated: Sequence[np.ndarray],
    *,
    shrink: float = 0.0,
) -> float:
    """Fréchet distance between the classifier embeddings of real and generated sticks
    (``shrink`` > 0 for sets smaller than the embedding size, see ``frechet_distance``)."""
    from motiongen.eval.distribution import frechet_distance

    a = classifier.embed([stick_features(s) for s in real])
    b = classifier.embed([stick_features(s) for s in generated])
    return float(frechet_distance(a, b, shrink=shrink))
