"""Distribution metrics on feature sets: Fréchet distance, diversity, multimodality,
R-precision and matching distance (the T2M / HumanML3D protocol), z-normalised FID for the
training-free kinetic and geometric features.

Inputs are plain arrays of per-sample features ``(N, D)``; which encoder made them is the
caller's business. Randomness is seeded (``seed``), so a metric run twice gives the same number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from motiongen.errors import InputError

DIVERSITY_PAIRS = 300  # T2M: diversity_times
MULTIMODALITY_PAIRS = 10  # T2M: mm_num_times
R_PRECISION_BATCH = 32
R_PRECISION_TOP_K = 3


def _features(x: np.ndarray, name: str, *, min_rows: int = 1) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(f"{name} must be a (N, D) array of per-sample features, got {a.shape}")
    if a.shape[0] < min_rows:
        raise InputError(f"{name} has {a.shape[0]} samples; at least {min_rows} are needed")
    if not np.isfinite(a).all():
        raise InputError(f"{name} contain NaN or infinite values; check the encoder's input")
    return a


# ---- Fréchet distance --------------------------------------------------------------------
def fid_min_samples(dim: int, shrink: float = 0.0) -> int:
    """Smallest set size ``frechet_distance`` accepts for ``dim``-d features.

    dim + 1 without shrinkage, so that the sample covariance can have full rank (with fewer
    samples it is singular and the distance mostly measures how few samples there were);
    2 with ``shrink`` > 0, which makes every covariance positive definite.
    """
    return 2 if shrink > 0 else dim + 1


def feature_stats(features: np.ndarray, shrink: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, N − 1), optionally shrunk towards a scaled
    identity: (1 − shrink) · C + shrink · tr(C)/D · I."""
    f = _features(features, "features", min_rows=2)
    mu = f.mean(axis=0)
    cov = np.atleast_2d(np.cov(f, rowvar=False))
    if shrink > 0:
        d = cov.shape[0]
        cov = (1.0 - shrink) * cov + shrink * (np.trace(cov) / d) * np.eye(d)
    return mu, cov


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((c + c.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_from_stats(
    mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray
) -> float:
    """‖μ1 − μ2‖² + tr(C1) + tr(C2) − 2 tr((C1 C2)^½).

    tr((C1 C2)^½) is computed as Σ sqrt(eig(C1^½ C2 C1^½)): that symmetric matrix is similar
    to C1 C2, so the eigenvalues are the same, but it is positive semi-definite by
    construction, so ``eigh`` gives real eigenvalues (tiny negatives from round-off are
    clipped to 0). This replaces the usual ``scipy.linalg.sqrtm`` fixes (adding ε·I when the
    product is singular, dropping an imaginary part) and agrees with sqrtm where that works.
    """
    mu1, mu2 = np.asarray(mu1, float), np.asarray(mu2, float)
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape[0] != mu1.shape[0]:
        raise InputError(
            f"feature statistics do not match: means {mu1.shape} / {mu2.shape}, "
            f"covariances {cov1.shape} / {cov2.shape}; use the same encoder for both sets"
        )
    s1 = _sqrt_psd(cov1)
    middle = s1 @ cov2 @ s1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_covmean = float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_covmean)
    return max(value, 0.0)


def frechet_distance(a: np.ndarray, b: np.ndarray, *, shrink: float = 0.0) -> float:
    """Fréchet distance between two feature sets (N1, D) and (N2, D) (FID when the features
    come from a learned motion encoder). 0 for identical sets; grows with any difference in
    mean or covariance.

    Each set needs at least ``fid_min_samples(D, shrink)`` samples: D + 1 without shrinkage
    (full-rank covariance), 2 with ``shrink`` in (0, 1]. Too small a set raises InputError
    naming the minimum.
    """
    if not (0.0 <= shrink <= 1.0):
        raise InputError(f"shrink must be in [0, 1], got {shrink!r}")
    fa = _features(a, "first feature set")
    fb = _features(b, "second feature set")
    if fa.shape[1] != fb.shape[1]:
        raise InputError(
            f"feature sets have different dimensions ({fa.shape[1]} vs {fb.shape[1]}); "
            "use the same encoder for both"
        )
    need = fid_min_samples(fa.shape[1], shrink)
    for name, f in (("first", fa), ("second", fb)):
        if f.shape[0] < need:
            hint = "" if shrink > 0 else ", or pass shrink > 0 (then 2 suffice)"
            raise InputError(
                f"the {name} set has {f.shape[0]} samples; the Fréchet distance on "
                f"{fa.shape[1]}-d features needs at least {need} per set (a full-rank "
                f"covariance); evaluate on more samples{hint}"
            )
    return frechet_from_stats(*feature_stats(fa, shrink), *feature_stats(fb, shrink))


def zscore_by_reference(reference: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardise every set with the reference (real) set's per-dimension mean and std.

    As Bailando / EDGE before FID_k and FID_g. A dimension that is (nearly) constant on the
    reference set gets its std floored at 1e-3 × the median std over dimensions, so one
    always-false geometric feature cannot blow the distance up by 10¹⁰.
    """
    ref = _features(reference, "reference features", min_rows=2)
    mean = ref.mean(axis=0)
    std = ref.std(axis=0)
    floor = 1e-3 * float(np.median(std)) if np.median(std) > 0 else 1e-8
    std = np.maximum(std, max(floor, 1e-12))
    out = [(ref - mean) / std]
    for i, o in enumerate(others):
        f = _features(o, f"feature set {i + 2}")
        if f.shape[1] != ref.shape[1]:
            raise InputError(
                f"feature set {i + 2} has {f.shape[1]} dimensions, the reference {ref.shape[1]}"
            )
        out.append((f - mean) / std)
    return tuple(out)


CONSTANT_SHARE = 0.01  # a dimension whose real std is below 1 % of the median std is constant


def normalised_frechet(real: np.ndarray, generated: np.ndarray, *, shrink: float = 0.0) -> float:
    """FID_k / FID_g: Fréchet distance after z-normalising both sets by the real set.

    Dimensions (nearly) constant on the real set are left out: a geometric relation that is
    never true in the real motions cannot be standardised, and with a floored std a handful of
    frames where it holds would dominate the distance (measured: real test vs real train
    windows gave FID_g 7,039 with 3 such dimensions kept, 0.96 without them).
    """
    ref = _features(real, "reference features", min_rows=2)
    gen = _features(generated, "generated features")
    if gen.shape[1] != ref.shape[1]:
        raise InputError(
            f"generated features have {gen.shape[1]} dimensions, the reference {ref.shape[1]}"
        )
    std = ref.std(axis=0)
    keep = std > CONSTANT_SHARE * float(np.median(std))
    if not keep.any():
        raise InputError("every reference feature is constant; the distance is undefined")
    r, g = zscore_by_reference(ref[:, keep], gen[:, keep])
    return frechet_distance(r, g, shrink=shrink)


# ---- diversity and multimodality ----------------------------------------------------------
def diversity(features: np.ndarray, *, n_pairs: int = DIVERSITY_PAIRS, seed: int = 0) -> float:
    """Mean Euclidean distance between ``n_pairs`` random pairs of samples (T2M protocol).

    With N ≥ n_pairs, as T2M: two index sets of n_pairs drawn without replacement, paired in
    order (a pair may repeat a sample: distance 0, as in T2M). With fewer samples (e.g. a
    296-clip test split) n_pairs pairs of *distinct* samples are drawn with replacement.
    Needs at least 2 samples. Same units as the features; compare with real data's value.
    """
    f = _features(features, "features", min_rows=2)
    if n_pairs < 1:
        raise InputError(f"n_pairs must be at least 1, got {n_pairs}")
    rng = np.random.default_rng(seed)
    n = f.shape[0]
    if n >= n_pairs:
        i = rng.choice(n, n_pairs, replace=False)
        j = rng.choice(n, n_pairs, replace=False)
    else:
        i = rng.integers(0, n, n_pairs)
        j = (i + rng.integers(1, n, n_pairs)) % n  # any other sample, uniformly
    return float(np.linalg.norm(f[i] - f[j], axis=1).mean())


def multimodality(
    features: np.ndarray,
    conditions: Sequence[object],
    *,
    n_pairs: int = MULTIMODALITY_PAIRS,
    seed: int = 0,
) -> float:
    """Mean distance between samples generated for the same condition (T2M MModality).

    features: (N, D); conditions: N hashable condition ids (e.g. the prompt). For every
    condition with at least 2 samples, min(n_pairs, R·(R−1)/2) pairs of distinct samples are
    drawn (T2M draws 10 pairs from 30 samples per text); the result is the mean over all drawn
    pairs. Raises InputError when no condition has 2 samples.
    """
    f = _features(features, "features", min_rows=2)
    if len(conditions) != f.shape[0]:
        raise InputError(
            f"{len(conditions)} condition ids for {f.shape[0]} feature rows; give one per sample"
        )
    groups: dict[object, list[int]] = {}
    for i, c in enumerate(conditions):
        groups.setdefault(c, []).append(i)
    rng = np.random.default_rng(seed)
    dists: list[np.ndarray] = []
    for idx in groups.values():
        r = len(idx)
        if r < 2:
            continue
        a, b = np.triu_indices(r, k=1)
        take = rng.choice(len(a), min(n_pairs, len(a)), replace=False)
        rows = np.asarray(idx)
        dists.append(np.linalg.norm(f[rows[a[take]]] - f[rows[b[take]]], axis=1))
    if not dists:
        raise InputError(
            "multimodality needs at least 2 samples for one condition; generate several "
            "samples per condition"
        )
    return float(np.concatenate(dists).mean())


# ---- R-precision and matching distance -----------------------------------------------------
@dataclass
class RetrievalScores:
    """T2M retrieval metrics. top_k[k-1] = R-precision top-k; matching = mean matched distance."""

    top_k: list[float]
    matching_distance: float
    batches: int


def r_precision(
    text_embeddings: np.ndarray,
    motion_embeddings: np.ndarray,
    *,
    batch_size: int = R_PRECISION_BATCH,
    top_k: int = R_PRECISION_TOP_K,
    query: Literal["text", "motion"] = "text",
    seed: int | None = None,
    groups: Sequence[object] | None = None,
) -> RetrievalScores:
    """R-precision top-1..top_k and matching distance for paired embeddings (row i of each).

    T2M protocol (``evaluate_matching_score``): the pairs are cut into batches of 32 in the
    given order (``seed`` shuffles them first); an incomplete last batch is dropped, as T2M's
    loader does (drop_last). In each batch the 32×32 Euclidean distance matrix between texts
    and motions is computed; with query="text" (T2M's code: rows are texts) each text ranks
    the 32 motions, with query="motion" each motion ranks the 32 texts. top-k = share of
    queries whose own partner is among the k nearest. Matching distance = mean distance
    between partners (the matrix trace / N). Needs at least ``batch_size`` pairs.

    groups: one id per pair (e.g. the label pair its text describes). When given, batches are
    built so that no batch holds two pairs of one group (``distinct_batches``): with few
    distinct descriptions, a batch of random pairs often holds the same sentence twice and a
    "miss" would then be a tie, not an error.
    """
    t = _features(text_embeddings, "text embeddings")
    m = _features(motion_embeddings, "motion embeddings")
    if t.shape != m.shape:
        raise InputError(
            f"text embeddings {t.shape} and motion embeddings {m.shape} must have the same shape "
            "(row i of each is one pair)"
        )
    if query not in ("text", "motion"):
        raise InputError(f"query must be 'text' or 'motion', got {query!r}")
    if batch_size < 2 or not (1 <= top_k <= batch_size):
        raise InputError(
            f"need batch_size >= 2 and 1 <= top_k <= batch_size, got {batch_size}, {top_k}"
        )
    n_batches = t.shape[0] // batch_size
    if n_batches == 0:
        raise InputError(
            f"R-precision needs at least {batch_size} text-motion pairs (one batch); "
            f"got {t.shape[0]}"
        )
    if groups is not None:
        if len(groups) != t.shape[0]:
            raise InputError(f"{len(groups)} group ids for {t.shape[0]} pairs; give one per pair")
        order = distinct_batches(groups, batch_size, seed=seed or 0)
        n_batches = len(order)
        if n_batches == 0:
            raise InputError(
                f"R-precision with distinct batches needs at least {batch_size} different "
                f"groups; got {len(set(groups))}"
            )
    else:
        order = np.arange(t.shape[0])
        if seed is not None:
            order = np.random.default_rng(seed).permutation(order)
        order = order[: n_batches * batch_size].reshape(n_batches, batch_size)
    tb, mb = t[order], m[order]  # (B, 32, D)
    dist = np.linalg.norm(tb[:, :, None, :] - mb[:, None, :, :], axis=-1)  # (B, text, motion)
    if query == "motion":
        dist = dist.transpose(0, 2, 1)
    own = np.diagonal(dist, axis1=1, axis2=2)  # (B, 32)
    # rank of the partner = how many candidates are strictly closer
    rank = (dist < own[:, :, None]).sum(axis=2)
    hits = [float(np.mean(rank < k)) for k in range(1, top_k + 1)]
    return RetrievalScores(top_k=hits, matching_distance=float(own.mean()), batches=n_batches)


def distinct_batches(groups: Sequence[object], batch_size: int, *, seed: int = 0) -> np.ndarray:
    """Row indices (n_batches, batch_size): full batches in which every group appears once.

    Rows are shuffled, then dealt greedily into the open batch that lacks their group; rows
    that fit no full batch are left out. Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(groups))
    batches: list[list[int]] = []
    members: list[set] = []
    for r in rows:
        g = groups[r]
        for b, seen in zip(batches, members, strict=True):
            if len(b) < batch_size and g not in seen:
                b.append(int(r))
                seen.add(g)
                break
        else:
            batches.append([int(r)])
            members.append({g})
    full = [b for b in batches if len(b) == batch_size]
    return np.asarray(full, dtype=np.int64).reshape(len(full), batch_size)
