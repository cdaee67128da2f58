"""How well the learned evaluators do on real clips: the label classifier's accuracy and the
text-motion evaluator's retrieval, per split. Reported when they are trained and kept in
their ``info``, so every judge's own error is on record next to the scores it gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from motiongen.eval.distribution import r_precision
from motiongen.evaluators.features import clip_features
from motiongen.evaluators.labels import clip_texts, content_label, label_key, style_label

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData
    from motiongen.evaluators.classifier import LabelClassifier
    from motiongen.evaluators.text_motion import TextMotionEvaluator


def classifier_accuracy(clf: LabelClassifier, data: PreparedData, split: str) -> dict[str, Any]:
    """Top-1 accuracy on the kept clips of ``split``, each clip whole (centre 196 frames).

    Returns {"clips", "content", "style", "both", "by_source": {source: {...}}}; accuracies
    count only clips whose label the classifier knows (``content_clips``, ``style_clips``).
    """
    clips = clip_features(data, split)
    if not clips:
        return {"clips": 0}
    pred = clf.predict([f for _, f, _ in clips])
    rows = []
    for (rec, _, _), pc, ps in zip(clips, pred.content, pred.style, strict=True):
        c, s = content_label(rec.labels), style_label(rec.labels)
        rows.append(
            (
                rec.source,
                None if c not in clf.content_index else pc == c,
                None if s not in clf.style_index else ps == s,
            )
        )
    return _accuracy(rows) | {
        "by_source": {
            src: _accuracy([r for r in rows if r[0] == src]) for src in sorted({r[0] for r in rows})
        }
    }


def _accuracy(rows: list[tuple[str, bool | None, bool | None]]) -> dict[str, Any]:
    content = [r[1] for r in rows if r[1] is not None]
    style = [r[2] for r in rows if r[2] is not None]
    both = [r[1] and r[2] for r in rows if r[1] is not None and r[2] is not None]

    def mean(v: list[bool]) -> float | None:
        return round(float(np.mean(v)), 4) if v else None

    return {
        "clips": len(rows),
        "content_clips": len(content),
        "style_clips": len(style),
        "content": mean(content),
        "style": mean(style),
        "both": mean(both),
    }


def retrieval_on_real(evaluator: TextMotionEvaluator, data: PreparedData, split: str) -> dict:
    """R-precision (distinct-label batches of 32) of real clips of ``split`` and their texts."""
    clips = clip_features(data, split)
    if len(clips) < 32:
        return {"clips": len(clips)}
    motion = evaluator.encode_features([f for _, f, _ in clips])
    text = evaluator.encode_texts([clip_texts(rec)[0] for rec, _, _ in clips])
    keys = [label_key(rec.labels) for rec, _, _ in clips]
    scores = r_precision(text, motion, query="motion", groups=keys, seed=0)
    return {
        "clips": len(clips),
        "batches": scores.batches,
        "r_precision": [round(v, 4) for v in scores.top_k],
        "matching_distance": round(scores.matching_distance, 4),
    }
