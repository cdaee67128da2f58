"""An arms edit whose text names the body's steps and an arm action follows the arm action
(the shipped tiny-control and text encoder: what the words are near is the real vocabulary's)."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.skeleton import JOINT_INDEX


@pytest.fixture(scope="module")
def control():
    from motiongen.pipeline import Pipeline

    return Pipeline.from_pretrained("tiny-control")


def test_an_arms_edit_of_a_jog_with_raised_hands_raises_the_hands(control):
    # "a person jogs with both hands raised above the head" was made as a run, its arms held
    # forward: both wrists above the head in 0-15 % of frames (a new user's trial)
    asked = "a person jogs with both hands raised above the head"
    phrase = control._arm_action_text(asked)
    assert phrase in control.vocabulary["raise-up-both-hands"]
    for steps in ("a person jogs forward", "a person walks happily", "a person waves"):
        assert control._arm_action_text(steps) is None  # nothing but steps, or no steps
    jog = control("a person jogs forward", seconds=4.0, seed=11)
    edited = control.edit(jog, text=asked, joints=["arms"], seed=0)
    assert edited.meta["arms_text"] == phrase and "the arms follow" in edited.meta["warning"]
    p = edited.positions
    head = p[:, JOINT_INDEX["head"], 1]
    up = (p[:, JOINT_INDEX["left_wrist"], 1] > head) & (p[:, JOINT_INDEX["right_wrist"], 1] > head)
    assert up.mean() > 0.5
    legs = [j for name, j in JOINT_INDEX.items() if name.split("_")[-1] in ("hip", "knee",
                                                                          "ankle", "foot")]  # fmt: skip
    np.testing.assert_allclose(p[:, legs], jog.positions[:, legs], atol=1e-5)
