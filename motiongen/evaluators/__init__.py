"""Learned evaluators: networks trained on the real data to judge generated motion.

- ``classifier``: content and style heads on a dilated-conv motion encoder (label
  recognition; ``motiongen/assets/evaluators/label-classifier``).
- ``text_motion``: a contrastive text-motion dual encoder (FID, R-precision, matching
  distance; ``motiongen/assets/evaluators/text-motion``).

Each has ``model.py`` (network, loading, inference) and ``train.py`` (the training loop);
``motiongen evaluator train classifier|text-motion`` trains them. How well they do on real
clips is measured by ``motiongen.eval.evaluator_quality``. The metrics that use them live in
``motiongen.eval``.
"""
