"""What the pipeline hands to clean-up, recorded while it runs: for benchmarks that clean the
network's exact output with several post-processing variants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def cleanup_inputs() -> Iterator[list[tuple[np.ndarray, float, dict[str, Any]]]]:
    """Within the block, every ``motiongen.postprocess.postprocess`` call (the pipeline looks
    it up at call time) is appended to the yielded list as (positions float64, fps, options)
    and then runs as usual."""
    import motiongen.postprocess as pp

    clean = pp.postprocess
    calls: list[tuple[np.ndarray, float, dict[str, Any]]] = []

    def recording(p: np.ndarray, fps: float, **kw: Any) -> np.ndarray:
        calls.append((np.asarray(p, dtype=np.float64), fps, kw))
        return clean(p, fps, **kw)

    pp.postprocess = recording
    try:
        yield calls
    finally:
        pp.postprocess = clean
