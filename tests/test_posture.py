"""Style posture: each style's body-frame pose and energy against the normal takes of the same
action, and a restyle of an action never recorded in the asked style starting from the motion
moved into that style's posture (from noise it lost the action and the style)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motiongen.checkpoint import read_action_styles, write_vocabulary
from motiongen.data.synthetic import synth_motion
from motiongen.errors import FormatError
from motiongen.features import CONTACTS, LOCAL_POS, VEL, positions_to_features
from motiongen.skeleton import JOINT_INDEX
from motiongen.tasks.posture import posed, style_posture
from tests.test_pipeline import make_checkpoint

HEAD = JOINT_INDEX["head"]


def _clip(action: str, seed: int, head_drop: float = 0.0, swing: float = 1.0) -> np.ndarray:
    """A synthetic take, its head ``head_drop`` m lower and its joints' motion about their
    pelvis-relative mean ``swing`` times as wide."""
    p = synth_motion(action, seconds=3.0, seed=seed).positions.astype(np.float64)
    rel = p - p[:, :1]
    mean = rel.mean(axis=0)
    p = p[:, :1] + mean + swing * (rel - mean)
    p[:, HEAD, 1] -= head_drop
    return p


def test_style_posture_is_each_style_s_pose_and_energy_against_the_normal_takes():
    clips = [
        ({"content": "walk", "style": "normal"}, _clip("walk", 0), 20.0),
        ({"content": "walk", "style": "sad"}, _clip("walk", 0, head_drop=0.1), 20.0),
        ({"content": "wave", "style": "normal"}, _clip("wave", 1), 20.0),
        ({"content": "wave", "style": "sad"}, _clip("wave", 1, head_drop=0.1), 20.0),
        ({"content": "wave", "style": "active"}, _clip("wave", 1, swing=2.0), 20.0),
        ({"content": "kick", "style": "happy"}, _clip("walk", 2), 20.0),  # no normal kick
        ({"content": "walk", "style": "tired"}, _clip("walk", 0), 20.0),  # exhausted's synonym
        ({"dance_type": "waltz"}, _clip("walk", 3), 20.0),
    ]
    posture = style_posture(clips)
    assert set(posture) == {"normal", "sad", "active", "exhausted"}  # happy: nothing to compare
    sad = np.asarray(posture["sad"]["offset"]).reshape(21, 3)
    # the head drops 10 cm (local positions leave the pelvis out: joint j is row j - 1)
    assert sad[HEAD - 1, 1] == pytest.approx(-0.1, abs=2e-3)
    assert np.abs(np.delete(sad, HEAD - 1, axis=0)).max() < 2e-3
    assert posture["sad"]["energy"] == pytest.approx(1.0, abs=0.05)
    assert posture["active"]["energy"] > 1.5  # twice the swing moves its joints faster
    assert posture["normal"] == {"offset": [0.0] * 63, "energy": 1.0}
    assert style_posture([]) == {}


def test_posed_moves_the_body_between_two_styles_and_keeps_the_root():
    f = positions_to_features(_clip("wave", 1))
    posture = {
        "normal": {"offset": [0.0] * 63, "energy": 1.0},
        "sad": {"offset": [0.01] * 63, "energy": 0.5},
        "elderly": {"offset": [0.03] * 63, "energy": 0.5},
    }
    np.testing.assert_allclose(posed(f, posture, "normal", "normal"), f, atol=1e-6)
    sad = posed(f, posture, "sad", "normal", strength=1.0)
    local = f[:, LOCAL_POS].astype(np.float64)
    np.testing.assert_allclose(
        sad[:, LOCAL_POS], local.mean(0) + 0.5 * (local - local.mean(0)) + 0.01, atol=1e-5
    )
    np.testing.assert_allclose(sad[:, VEL], 0.5 * f[:, VEL], atol=1e-6)
    keep = np.r_[0 : LOCAL_POS.start, CONTACTS]  # path, heading, height and contacts
    np.testing.assert_array_equal(sad[:, keep], f[:, keep])
    # from another style: the difference of the two (an elderly take restyled sad moves more)
    from_old = posed(f, posture, "sad", "old", strength=1.0)  # "old" is elderly's synonym
    np.testing.assert_allclose(from_old[:, LOCAL_POS].mean(0), local.mean(0) - 0.02, atol=1e-5)
    np.testing.assert_allclose(from_old[:, VEL], f[:, VEL], atol=1e-6)
    assert posed(f, posture, "giant", "normal") is None  # a style it does not know
    np.testing.assert_allclose(posed(f, posture, "sad", None, 1.0), sad)  # unknown: normal


def test_checkpoints_store_style_posture_with_their_styles(tmp_path):
    path = make_checkpoint(tmp_path / "ck")
    posture = {"sad": {"offset": [0.0] * 63, "energy": 0.5}}
    write_vocabulary(path, {"walk": ["a person walks"]}, {"walk": ["sad"]}, {"sad": ["sadly"]},
                     posture=posture)  # fmt: skip
    assert read_action_styles(path)["posture"] == posture
    styles = path / "action_styles.json"
    for bad in (
        {"sad": {"offset": [0.0] * 62, "energy": 0.5}},
        {"sad": {"offset": [0.0] * 63, "energy": 0}},
        {"sad": {"offset": [None] * 63, "energy": 1.0}},
        {"sad": {"offset": [0.0] * 63}},
        [1],
    ):
        styles.write_text(json.dumps({"actions": {}, "words": {}, "posture": bad}))
        with pytest.raises(FormatError, match="posture"):
            read_action_styles(path)


@pytest.fixture(scope="module")
def control():
    from motiongen.pipeline import Pipeline

    return Pipeline.from_pretrained("tiny-control")


def test_a_restyle_to_a_style_its_action_was_never_recorded_in_starts_from_it_posed(control):
    from motiongen.motion import Motion

    raise_hands = control("a person raises both hands", seconds=3.0, seed=1)
    seen = control._recognised(raise_hands.positions).content[0]
    assert seen == "raise-up-both-hands"  # recorded in elderly, never in sad
    sad = control.restyle(Motion(positions=raise_hands.positions, fps=raise_hands.fps), "sad",
                          seed=0)  # fmt: skip
    assert sad.meta["restyle_start"] == "posed" and sad.meta["prior_start"] == 0.25
    old = control.restyle(Motion(positions=raise_hands.positions, fps=raise_hands.fps),
                          "elderly", seed=0)  # fmt: skip
    assert "restyle_start" not in old.meta  # a recorded pair: its own takes, or noise


def test_a_restyle_told_what_the_motion_does_says_the_style_and_starts_posed_too(control):
    from motiongen.motion import Motion

    raise_hands = control("a person raises both hands", seconds=3.0, seed=1)
    told = control.restyle(Motion(positions=raise_hands.positions, fps=raise_hands.fps), "sad",
                           text="a person raises both hands", seed=0)  # fmt: skip
    # the words say the style (as a continuation's do): from the style vector alone the
    # network had made no restyle of a never-recorded pair in its style
    assert told.meta["vocabulary"]["unseen_style"]["styles"] == ["sad"]
    assert told.meta["restyle_start"] == "posed"


def test_a_restyle_that_lost_its_action_says_so(control):
    from motiongen.generation.vocabulary import action_family
    from motiongen.motion import Motion

    assert action_family("bye") == action_family("wave-right-hand") == "waving"
    assert action_family("raise-up-left-hand") == "raising" != action_family("wave-left-hand")
    assert action_family("walk-turn-left") == action_family("run") == "travelling"
    assert action_family("bow") == "bow"
    raise_hands = control("a person raises both hands", seconds=3.0, seed=1)
    old = control.restyle(Motion(positions=raise_hands.positions, fps=raise_hands.fps),
                          "elderly", seed=0)  # fmt: skip
    (kept,) = old.meta["action_kept"]
    assert kept["action"] == "raise-up-both-hands" and kept["probability"] > 0.5
    assert "lost its action" not in old.meta.get("warning", "")
    # a walk said to raise its hands: read as another action, and said so
    walk = control("a person walks forward", seconds=3.0, seed=1).positions
    made = Motion(positions=walk, fps=control.fps)
    asked = [("a person raises both hands in a sad way", 0, len(walk))]
    note = control._action_kept(asked, made, "style")
    assert note.startswith("the restyle may have lost its action: 'a person raises both hands'")
    assert made.meta["action_kept"][0]["probability"] < 0.2
    # a span edit's span the same way (a bow over 1.5 s of a walk did not bow: a trial)
    note = control._action_kept([("a person bows", 20, 40)], made, "edit")
    assert note.startswith("the edited span may not show its action: 'a person bows' (1-3 s)")
    span = control.check_edit(made, text="a person bows", frames=(1.0, 2.5))
    assert span.action_parts == (("a person bows", 20, 30),)
    arms = control.check_edit(made, text="a person waves", joints=["arms"])
    assert arms.action_parts is None  # the whole body is not the arms' action
