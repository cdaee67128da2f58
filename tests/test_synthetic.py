"""The procedural generator: rigid bones, feet on the floor, right limbs, clean by our metrics."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.artifacts import artifact_report
from motiongen.canonical import heading
from motiongen.data.curation import CurationConfig
from motiongen.data.synthetic import (
    ACTIONS,
    STYLES,
    physics_features,
    synth_dataset,
    synth_motion,
    synth_sequence,
)
from motiongen.errors import InputError
from motiongen.skeleton import (
    HEAD,
    LEFT_FOOT,
    LEFT_WRIST,
    PELVIS,
    RIGHT_FOOT,
    RIGHT_WRIST,
    bone_lengths,
)

FEET = [LEFT_FOOT, RIGHT_FOOT]


@pytest.mark.parametrize("action", ACTIONS)
def test_bones_rigid_and_feet_on_floor(action):
    m = synth_motion(action, "normal", 4.0, seed=1)
    assert m.positions.shape == (80, 22, 3) and m.fps == 20
    lengths = bone_lengths(m.positions.astype(np.float64))
    assert np.max(lengths.std(axis=0)) < 1e-5
    assert 0.85 < lengths.sum(axis=1).mean() / 5 < 1.2  # bones of a 1.7 m adult, not a toy
    toes = m.positions[:, FEET, 1]
    assert toes.min() > -1e-3  # nothing under the floor
    on_floor = toes.min(axis=1) < 0.015
    if action not in ("jump", "run"):
        assert on_floor.all(), action  # always one foot down
    else:
        assert on_floor.mean() > 0.5
    assert 0.85 < m.positions[0, PELVIS, 1] < 0.95


def test_walk_moves_forward_with_planted_feet():
    m = synth_motion("walk", "normal", 6.0, seed=2)
    p = m.positions.astype(np.float64)
    assert p[-1, PELVIS, 2] - p[0, PELVIS, 2] > 3.0  # ~1 m/s for 5 s of steady walking
    assert abs(p[-1, PELVIS, 0] - p[0, PELVIS, 0]) < 0.2
    assert np.allclose(p[0, PELVIS, [0, 2]], 0.0, atol=1e-5)
    assert abs(heading(p[:1])[0]) < 0.05  # facing +Z at frame 0
    # A toe resting on the floor (three frames in a row) barely moves: the stance foot is
    # pinned; touchdown frames themselves may still carry some speed, as in real gait.
    toes = p[:, FEET]
    low = toes[:, :, 1] < 0.005
    down = low[:-2] & low[1:-1] & low[2:]
    speed = np.linalg.norm(toes[2:, :, [0, 2]] - toes[:-2, :, [0, 2]], axis=-1) * 10
    assert down.sum() > 60
    assert np.median(speed[down]) < 0.06
    assert np.mean(speed[down] > 0.5) < 0.05  # under the skating speed


def test_run_is_faster_than_walk_and_tired_is_slower():
    def dist(action, style):
        p = synth_motion(action, style, 6.0, seed=5).positions
        return p[-1, PELVIS, 2] - p[0, PELVIS, 2]

    assert dist("run", "normal") > 1.8 * dist("walk", "normal")
    assert dist("walk", "tired") < 0.8 * dist("walk", "normal")
    slumped = synth_motion("idle", "tired", 3.0, seed=0).positions
    upright = synth_motion("idle", "normal", 3.0, seed=0).positions
    assert slumped[:, HEAD, 1].mean() < upright[:, HEAD, 1].mean() - 0.03
    assert slumped[:, HEAD, 2].mean() > upright[:, HEAD, 2].mean() + 0.03  # leaning forward


@pytest.mark.parametrize(
    ("action", "up", "down"),
    [("wave-left-hand", LEFT_WRIST, RIGHT_WRIST), ("wave-right-hand", RIGHT_WRIST, LEFT_WRIST)],
)
def test_wave_moves_the_named_wrist(action, up, down):
    p = synth_motion(action, "normal", 4.0, seed=0).positions
    mid = slice(20, 60)
    assert (p[mid, up, 1] > p[mid, HEAD, 1]).all()  # hand above the head
    assert p[mid, down, 1].max() < 1.0  # the other hand hangs
    assert np.ptp(p[mid, up, 0]) > 0.1  # it waves side to side
    side = np.sign(p[mid, up, 0].mean())
    assert side == (1 if action.startswith("wave-left") else -1)  # left side is +X
    both = synth_motion("wave-both-hands", "normal", 4.0, seed=0).positions
    assert (both[mid][:, [LEFT_WRIST, RIGHT_WRIST], 1] > 1.6).all()


@pytest.mark.parametrize(("action", "sign"), [("turn-left", 1), ("turn-right", -1)])
def test_turn_direction(action, sign):
    p = synth_motion(action, "normal", 4.0, seed=0).positions
    turned = heading(p[-1:])[0]
    assert sign * turned == pytest.approx(np.pi / 2, abs=0.45)


def test_synthetic_motions_pass_sft_curation_thresholds():
    cfg = CurationConfig.preset("sft")
    motions = synth_dataset(60, seed=7)
    for m in motions:
        rep = artifact_report(m.positions, m.fps)
        assert rep.quality >= cfg.min_quality, (m.name, rep)
        assert rep.artifact <= cfg.max_artifact, (m.name, rep)
    for style in STYLES:
        rep = artifact_report(synth_motion("kick", style, 4.0).positions, 20)
        assert not rep.flags or rep.flags == ["repetitive"], (style, rep.flags)


def test_determinism_by_seed():
    a = synth_dataset(5, seed=11)
    b = synth_dataset(5, seed=11)
    c = synth_dataset(5, seed=12)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.positions, y.positions) and x.texts == y.texts
    assert [m.name for m in a] != [m.name for m in c] or not all(
        np.array_equal(x.positions, z.positions) for x, z in zip(a, c, strict=True)
    )
    assert np.array_equal(
        synth_motion("jump", "happy", 3, seed=1).positions,
        synth_motion("jump", "happy", 3, seed=1).positions,
    )


def test_labels_texts_and_sequences():
    m = synth_motion("wave-left-hand", "happy", 3.0, seed=0)
    assert m.labels == {"source": "synthetic", "content": "wave-left-hand", "style": "happy"}
    assert m.texts[0] == "a person waves with the left hand happily"
    assert len(m.texts) == 3 and all("happily" in t for t in m.texts)
    seq = synth_sequence(["walk", "wave", "sit"], "slow", [3.0, 2.0, 2.5], seed=3)
    assert seq.num_frames == 60 + 40 + 50
    assert seq.actions[:60] == ["walk"] * 60 and seq.actions[-1] == "sit"
    assert seq.labels["content"] == "walk+wave-right-hand+sit"
    assert "then" in seq.texts[0] and "slowly" in seq.texts[0]
    rep = artifact_report(seq.positions, seq.fps)
    assert rep.artifact <= 0.35 and rep.quality >= 0.8
    assert len(seq.meta["physics"]) == seq.num_frames


def test_physics_features():
    m = synth_motion("walk", "normal", 5.0, seed=0)
    phys = physics_features(m.positions, m.fps)
    assert phys.shape == (100, 6) and phys.dtype == np.float32
    steady = slice(30, 70)
    assert 0.6 < phys[steady, 0].mean() < 1.8  # m/s forward
    assert abs(phys[steady, 1].mean()) < 0.05
    # Momentum = 70 kg x centre-of-mass velocity, mostly along +Z.
    assert 40 < phys[steady, 5].mean() < 130 and abs(phys[steady, 3].mean()) < 10
    still = physics_features(np.repeat(m.positions[:1], 10, axis=0), 20)
    assert np.allclose(still, 0.0)


def test_bad_arguments():
    with pytest.raises(InputError):
        synth_motion("moonwalk")
    with pytest.raises(InputError):
        synth_motion("walk", "sleepy")
    with pytest.raises(InputError):
        synth_sequence(["walk"] * 4)
    with pytest.raises(InputError):
        synth_motion("walk", seconds=0.0)
