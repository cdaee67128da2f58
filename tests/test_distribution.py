"""Distribution metrics and training-free features with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.eval import distribution as D
from motiongen.eval import kinetic as K
from motiongen.skeleton import NUM_JOINTS


@pytest.fixture(scope="module")
def feats() -> np.ndarray:
    rng = np.random.default_rng(0)
    mix = rng.normal(size=(8, 8))
    return rng.normal(size=(500, 8)) @ mix + 3.0


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise(feats):
    assert D.frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-8)
    rng = np.random.default_rng(1)
    values = [
        D.frechet_distance(feats, feats + rng.normal(0, s, feats.shape))
        for s in (0.1, 0.5, 1.0, 2.0)
    ]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert values[0] < 0.1 < values[-1]


def test_fid_known_answers():
    # diagonal covariances: ‖Δμ‖² + Σ (√a − √b)²
    mu1, mu2 = np.array([0.0, 1.0]), np.array([3.0, 5.0])
    c1, c2 = np.diag([4.0, 9.0]), np.diag([1.0, 1.0])
    assert D.frechet_from_stats(mu1, c1, mu2, c2) == pytest.approx(9 + 16 + 1 + 4)
    # general SPD matrices: agrees with the textbook sqrtm formula
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + np.eye(5), b @ b.T + 0.1 * np.eye(5)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    ref = float(
        np.sum((m1 - m2) ** 2) + np.trace(s1 + s2) - 2 * np.trace(linalg.sqrtm(s1 @ s2).real)
    )
    assert D.frechet_from_stats(m1, s1, m2, s2) == pytest.approx(ref, rel=1e-8)


def test_fid_too_small_set_names_the_minimum(feats):
    with pytest.raises(InputError, match="at least 9 per set"):
        D.frechet_distance(feats[:5], feats)
    assert D.frechet_distance(feats[:5], feats, shrink=0.1) > 0  # 2 suffice with shrinkage
    with pytest.raises(InputError, match="at least 2"):
        D.frechet_distance(feats[:1], feats, shrink=0.1)
    with pytest.raises(InputError, match="dimensions"):
        D.frechet_distance(feats, feats[:, :4])
    assert D.fid_min_samples(66) == 67


def test_diversity_and_multimodality_known_answers():
    two = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert D.diversity(two, n_pairs=50) == pytest.approx(5.0)  # small set: distinct pairs only
    same = np.zeros((400, 3))
    assert D.diversity(same) == 0.0
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4))
    assert D.diversity(x, seed=3) == D.diversity(x, seed=3)
    assert D.diversity(x) == pytest.approx(np.sqrt(2 * 4), rel=0.15)  # E|a−b| ≈ √(2D)
    # two conditions, each with two samples 1 and 3 apart
    f = np.array([[0.0], [1.0], [10.0], [13.0]])
    assert D.multimodality(f, ["a", "a", "b", "b"]) == pytest.approx(2.0)
    with pytest.raises(InputError, match="2 samples for one condition"):
        D.multimodality(f, ["a", "b", "c", "d"])


def test_r_precision_matched_beats_shuffled():
    rng = np.random.default_rng(0)
    text = rng.normal(size=(128, 16))
    motion = text + rng.normal(0, 0.3, text.shape)
    matched = D.r_precision(text, motion)
    shuffled = D.r_precision(text, motion[rng.permutation(128)])
    assert matched.batches == 4
    assert matched.top_k[0] > 0.9 and shuffled.top_k[0] < 0.2
    assert matched.top_k == sorted(matched.top_k)
    assert matched.matching_distance < shuffled.matching_distance
    by_motion = D.r_precision(text, motion, query="motion")
    assert by_motion.top_k[0] > 0.9


def test_r_precision_known_answers():
    text = np.eye(32) * 10.0
    offset = np.zeros(32)
    offset[0] = 0.5
    res = D.r_precision(text, text + offset)
    assert res.top_k == [1.0, 1.0, 1.0]
    assert res.matching_distance == pytest.approx(0.5)
    # 40 pairs: one batch of 32 is scored, the remaining 8 are dropped (T2M drop_last)
    assert D.r_precision(np.vstack([text, text[:8]]), np.vstack([text, text[:8]])).batches == 1
    with pytest.raises(InputError, match="at least 32"):
        D.r_precision(text[:20], text[:20])


def _shift(motion_positions: np.ndarray, v: np.ndarray, fps: float = 20.0) -> np.ndarray:
    t = np.arange(motion_positions.shape[0]) / fps
    return motion_positions + t[:, None, None] * v[None, None, :]


def test_kinetic_features_known_answer():
    pose = np.zeros((NUM_JOINTS, 3))
    pose[:, 1] = np.linspace(0.1, 1.6, NUM_JOINTS)
    still = np.repeat(pose[None], 40, axis=0)
    f = K.kinetic_features(_shift(still, np.array([1.0, 0.0, 2.0])), 20)
    assert f.shape == (K.KINETIC_DIM,)
    per_joint = f.reshape(NUM_JOINTS, 3)
    assert np.allclose(per_joint[:, 0], 5.0)  # |v_xz|² = 1 + 4
    assert np.allclose(per_joint[:, 1], 0.0)
    assert np.allclose(per_joint[:, 2], 0.0, atol=1e-9)  # no acceleration
    up = K.kinetic_features(_shift(still, np.array([0.0, 0.5, 0.0])), 20).reshape(NUM_JOINTS, 3)
    assert np.allclose(up[:, 1], 0.25) and np.allclose(up[:, 0], 0.0)
    with pytest.raises(InputError, match="at least 4"):
        K.kinetic_features(still[:2], 20)


def test_geometric_features_and_fid_k_g_separate_actions():
    walks = [synth_motion("walk", "normal", 3.0, fps=20, seed=s).positions for s in range(12)]
    waves = [synth_motion("wave", "normal", 3.0, fps=20, seed=s).positions for s in range(12)]
    g = K.geometric_features(walks[0], 20)
    assert g.shape == (K.GEOMETRIC_DIM,) and ((g >= 0) & (g <= 1)).all()
    i_fast_root = len(K.GEOMETRIC_FEATURES) - 1
    assert g[i_fast_root] > 0.5  # walking pelvis moves faster than 2.3 humerus lengths/s
    assert K.geometric_features(waves[0], 20)[i_fast_root] < 0.2
    for extract in (K.kinetic_features, K.geometric_features):
        a = np.stack([extract(p, 20) for p in walks])
        b = np.stack([extract(p, 20) for p in waves])
        same = D.normalised_frechet(a[:6], a[6:], shrink=0.1)
        different = D.normalised_frechet(a[:6], b[:6], shrink=0.1)
        assert different > 3 * same, extract.__name__


def test_zscore_floors_constant_dimensions():
    real = np.column_stack([np.arange(10.0), np.zeros(10)])
    gen = np.column_stack([np.arange(10.0), np.full(10, 1e-6)])
    r, g = D.zscore_by_reference(real, gen)
    assert np.isfinite(g).all() and np.abs(g[:, 1]).max() < 1.0


def test_distinct_batches_hold_each_group_once():
    groups = [i % 10 for i in range(95)]  # 10 groups, 9-10 rows each
    order = D.distinct_batches(groups, 8, seed=0)
    assert order.shape[1] == 8 and len(order) >= 9
    for batch in order:
        assert len({groups[i] for i in batch}) == 8
    assert len(set(order.ravel())) == order.size  # no row twice
    assert np.array_equal(order, D.distinct_batches(groups, 8, seed=0))


def test_r_precision_with_groups_ignores_duplicate_descriptions():
    # 8 descriptions, 4 takes each: in plain batches a take ties with its siblings
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(8, 16)) * 5
    groups = [i // 4 for i in range(32)]
    text = centres[groups]
    motion = text + rng.normal(0, 0.1, text.shape)
    grouped = D.r_precision(text, motion, groups=groups, batch_size=8, seed=0)
    assert grouped.top_k[0] == 1.0 and grouped.batches == 4
    plain = D.r_precision(text, motion, batch_size=32)
    assert plain.top_k[0] < 0.6
    with pytest.raises(InputError, match="different groups"):
        D.r_precision(text, motion, groups=[0] * 32, batch_size=8)


def test_normalised_frechet_leaves_out_constant_reference_dimensions():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(300, 5))
    real[:, 4] = 0.0  # a relation never true in real motion
    gen = real + rng.normal(0, 0.01, real.shape)
    gen[:3, 4] = 1.0  # ... true in three generated frames
    assert D.normalised_frechet(real, gen) < 0.05
    with pytest.raises(InputError, match="constant"):
        D.normalised_frechet(np.zeros((10, 3)), np.zeros((10, 3)))
