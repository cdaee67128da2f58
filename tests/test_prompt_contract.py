"""benchmarks/prompt_contract.py: the in-place drift compared at the real clips' lengths."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_motion
from motiongen.eval.contracts import root_drift
from tests.test_classifier import load_script

contract = load_script("prompt_contract")


def _drifting(seconds: float, mps: float, seed: int, fps: float = 20.0):
    """A standing motion whose pelvis slides forward at ``mps``."""
    m = synth_motion("wave", seconds=seconds, fps=fps, seed=seed)
    t = np.arange(m.num_frames) / m.fps
    m.positions[:, :, 2] += (mps * t)[:, None] - m.positions[:1, :1, 2]
    return m


def test_drift_is_also_compared_at_the_real_clips_lengths(monkeypatch):
    # Generated and real motions slide at the same rate; the generated last 6.5 s at 30 fps,
    # the real 2 s or 8 s at 20 fps.
    monkeypatch.setattr(contract, "real_motions", lambda split, content: [
        _drifting(8.0 if i == 0 else 2.0, 0.01, seed=i) for i in range(3)])  # fmt: skip
    made = lambda prompt, n: [_drifting(6.5, 0.01, seed=i, fps=30.0)  # noqa: E731
                              for i in range(n)]  # fmt: skip
    result = contract.run(made, seeds=2, split="test")
    e = result["extra"]
    assert e["in_place_drift_generated"] > 3 * e["in_place_drift_real"]
    assert e["in_place_drift_generated_matched"] == pytest.approx(0.02, rel=0.1)  # 2 s at 1 cm/s
    assert e["in_place_drift_real_matched"] == pytest.approx(0.02, rel=0.1)
    assert "cut to the shorter's seconds" in contract.markdown(result)


def test_root_drift_reads_the_pelvis_first_to_last():
    m = _drifting(4.0, 0.05, seed=0)
    assert root_drift(m.positions) == pytest.approx(0.05 * (m.num_frames - 1) / m.fps, rel=0.05)
