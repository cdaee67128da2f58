"""Prompt contracts (``motiongen.eval.contracts``): the measures on known poses, and the other
wordings kept out of every training text (they test meaning, not memorised words)."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.synthetic import synth_motion
from motiongen.data.text import STYLE_PHRASES, describe, training_phrasings
from motiongen.eval.contracts import CONTRACTS, both_hands_up_share, contract, forward_travel
from motiongen.skeleton import LEFT_SHOULDER, LEFT_WRIST, RIGHT_SHOULDER, RIGHT_WRIST


def test_other_wordings_are_no_training_text():
    for c in CONTRACTS:
        assert len(c.other_wordings) >= 3, c.name
        seen = set()
        for style in STYLE_PHRASES:
            labels = {"content": c.content, "style": style}
            seen |= {t.lower() for t in training_phrasings(labels) + list(describe(labels))}
        assert not seen & {w.lower() for w in c.other_wordings}, c.name


def test_both_hands_share_counts_frames_with_both_wrists_up():
    p = synth_motion("walk", seconds=2.0, seed=0).positions.astype(np.float64)
    assert both_hands_up_share(p) == 0.0
    up = p.copy()
    up[: len(p) // 2, LEFT_WRIST, 1] = up[: len(p) // 2, LEFT_SHOULDER, 1] + 0.2
    assert both_hands_up_share(up) == 0.0  # one hand is not both
    up[: len(p) // 2, RIGHT_WRIST, 1] = up[: len(p) // 2, RIGHT_SHOULDER, 1] + 0.2
    assert abs(both_hands_up_share(up) - 0.5) < 0.02


def test_walk_rules_read_the_direction_of_travel():
    walk = synth_motion("walk", seconds=3.0, seed=1).positions.astype(np.float64)
    forward = contract("walk forward")
    travel = forward_travel(walk)
    assert forward.passes(forward.measure(walk, 20.0)) == (travel > 1.0)
    back = walk.copy()
    back[..., 2] = 2 * walk[:1, :1, 2] - walk[..., 2]  # mirrored along the facing axis
    assert np.isclose(forward_travel(back), -travel)


def test_turn_rules_read_a_quarter_turn_to_its_side():
    from motiongen.canonical import rotate_y
    from motiongen.eval.contracts import turn_degrees

    walk = synth_motion("walk", seconds=4.0, seed=2).positions.astype(np.float64)
    n = len(walk)
    angle = np.clip((np.arange(n) - n / 3) / (n / 3), 0.0, 1.0) * np.pi / 2  # over the middle
    pelvis = walk[:, :1]
    left = rotate_y(walk - pelvis, angle) + pelvis  # the body turned about its pelvis
    assert np.isclose(turn_degrees(walk, 20.0), 0.0, atol=10.0)
    assert np.isclose(turn_degrees(left, 20.0), 90.0, atol=10.0)
    assert contract("turn left").passes(turn_degrees(left, 20.0))
    assert not contract("turn right").passes(turn_degrees(left, 20.0))
    spun = rotate_y(walk - pelvis, angle * 4) + pelvis  # a whole turn is not a quarter one
    assert not contract("turn left").passes(turn_degrees(spun, 20.0))


def test_wrist_speed_counts_a_wave_not_a_shake_nor_the_body_travelling():
    from motiongen.eval.contracts import wrist_speed
    from motiongen.skeleton import RIGHT_WRIST

    T, fps = 80, 20.0
    t = np.arange(T) / fps

    def moving(amplitude: float, hz: float) -> np.ndarray:
        p = np.zeros((T, 22, 3))
        p[:, RIGHT_WRIST, 0] = amplitude * np.sin(2 * np.pi * hz * t)
        return p

    wave = wrist_speed(moving(0.1, 1.5), fps)
    assert wave == pytest.approx(4 * 1.5 * 0.1, rel=0.15)  # 4 f A, a little smoothed
    assert wrist_speed(moving(0.05, 1.5), fps) == pytest.approx(wave / 2, rel=1e-3)
    for hz, share in ((5.0, 0.35), (7.5, 0.1), (10.0, 0.1)):  # shakes count a share of theirs
        assert wrist_speed(moving(0.1, hz), fps) < share * 4 * hz * 0.1
    walking = moving(0.1, 1.5)
    walking[:, :, 2] += 1.3 * t[:, None]  # the whole body travels
    assert wrist_speed(walking, fps) == pytest.approx(wave, rel=1e-6)
