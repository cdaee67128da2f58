"""benchmarks/locomotion_pace.py: the per-condition pace and energy ratios, and its variants."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.augment import speed
from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.eval.kinetic import kinetic_features
from tests.test_classifier import load_script

pace = load_script("locomotion_pace")


def _set(n: int = 72):
    """n synthetic motions, a third of them walks and runs, with their condition keys."""
    actions = ["walk", "run", "wave"]
    motions = [synth_motion(actions[i % 3], seconds=4.0, seed=i) for i in range(n)]
    keys = [f"{actions[i % 3]}|normal" for i in range(n)]
    return motions, keys


def _slower(motion, factor: float):
    """The same motion played ``factor`` times as fast, cropped back to its length."""
    return speed(motion, factor).crop(0, motion.num_frames)


def test_real_against_itself_is_one_and_swapping_changes_nothing():
    motions, keys = _set()
    reference = np.stack([kinetic_features(m.positions, m.fps) for m in motions])
    row = pace.measure(motions, motions, reference, keys, [False] * len(keys), reference)
    assert row["walk_pace"] == pytest.approx(1.0)
    assert row["run_pace"] == pytest.approx(1.0)
    assert row["locomotion_energy"] == pytest.approx(1.0)
    assert row["in_place_energy"] == pytest.approx(1.0)
    assert row["fid_k_locomotion_real"] == pytest.approx(row["fid_k"])
    assert row["conditions"] == {"locomotion": 48, "in_place": 24, "waves": 24, "raises": 0}
    assert row["wave_arm_pace"] == pytest.approx(1.0) and row["raise_arm_pace"] is None


def test_slow_locomotion_shows_in_pace_energy_and_the_swap():
    real, keys = _set()
    reference = np.stack([kinetic_features(m.positions, m.fps) for m in real])
    slow = [
        _slower(m, 0.8) if pace.is_locomotion(k) else m for m, k in zip(real, keys, strict=True)
    ]
    row = pace.measure(slow, real, reference, keys, [False] * len(keys), reference)
    assert 0.7 < row["walk_pace"] < 0.9 and 0.7 < row["run_pace"] < 0.9
    assert row["locomotion_energy"] < 0.8  # energy goes with the square of the pace
    assert row["in_place_energy"] == pytest.approx(1.0)
    assert row["fid_k_locomotion_real"] < row["fid_k"]  # the gap was the locomotion's


def test_variant_parsing():
    assert pace.parse_variant("r3=tiny-flow-rollout-r3") == ("r3", "tiny-flow-rollout-r3", None)
    assert pace.parse_variant("g=runs/x/best@1.25") == ("g", "runs/x/best", 1.25)
    for bad in ("tiny-flow", "=x", "a=", "a=b@fast"):
        with pytest.raises(InputError):
            pace.parse_variant(bad)
