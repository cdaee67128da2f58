"""The one evaluation loop: a split's conditions, any generate function, every metric.

``split_conditions`` turns the kept clips of a split into conditions: the clip's plainest
description, a window of at most 196 frames (9.8 s, one model window) from the clip's middle,
and for clips with music up to ``music_windows`` evenly spaced windows with the matching music
offset. The same windows of the real clips form the real-data reference row.

``score_set`` scores a set of motions (generated, or the real reference) against the training
split's real motions (``Reference``): FID, R-precision top-1/2/3 and matching distance (the
text–motion evaluator, batches of 32 with distinct label pairs), diversity (300 pairs),
multimodality (pairs of motions of one label pair: different seeds of one prompt when
generated, different takes when real), FID_k / FID_g (AIST++ kinetic and geometric features),
physics means, the sanity pass rate, and music metrics for the conditions with music.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.eval import distribution as D
from motiongen.eval.kinetic import geometric_features, kinetic_features
from motiongen.eval.physics import physics_report
from motiongen.eval.sanity import MusicalityScorer, SanityChecker
from motiongen.evaluators.labels import clip_texts, label_key
from motiongen.evaluators.text_motion import TextMotionEvaluator
from motiongen.features import MODEL_FPS
from motiongen.motion import AudioRef, Motion

MAX_FRAMES = 196  # one model window at 20 fps
MIN_FRAMES = 40  # 2 s: shorter clips say too little about a motion
PHYSICS_KEYS = (
    "foot_skating_ratio",
    "ground_penetration_m",
    "floating_m",
    "pfc",
    "jerk_mps3",
    "bone_length_drift",
    "speed_over_limit_share",
    "acceleration_over_limit_share",
)
MUSIC_KEYS = (
    "bas_music",
    "bas_motion",
    "beat_consistency",
    "energy_onset_r",
    "musicality",
    "dance_agreement",
    "tempo_margin",
)


@dataclass(frozen=True)
class EvalCondition:
    """What one motion of the evaluation is generated from (and which real window it mirrors)."""

    name: str  # the real clip
    text: str
    key: str  # label pair "content|style": R-precision batches and multimodality groups
    source: str
    start: int  # first frame of the window in the clip at 20 fps
    frames: int
    music: str | None = None
    music_offset: float = 0.0

    @property
    def seconds(self) -> float:
        return self.frames / MODEL_FPS


def _windows(total: int, max_frames: int, count: int) -> list[tuple[int, int]]:
    n = min(total, max_frames)
    if count <= 1 or total < 2 * n:
        return [((total - n) // 2, n)]
    count = min(count, total // n)
    starts = np.linspace(0, total - n, count).round().astype(int)
    return [(int(s), n) for s in starts]


def split_conditions(
    data: Any,
    split: str = "test",
    *,
    max_frames: int = MAX_FRAMES,
    music_windows: int = 4,
    limit: int | None = None,
) -> tuple[list[EvalCondition], list[Motion]]:
    """(conditions, matching real windows at 20 fps) for the kept clips of ``split``."""
    records = data.select(split=split)
    if not records:
        raise InputError(
            f"split {split!r} has no kept clips; choose one of train, val, test "
            "(run `motiongen data prepare` first)"
        )
    conditions, real = [], []
    for rec in records:
        motion = data.motion(rec)
        if abs(motion.fps - MODEL_FPS) > 1e-9:
            motion = motion.resample(MODEL_FPS)
        if motion.num_frames < MIN_FRAMES:
            continue
        count = music_windows if motion.audio is not None else 1
        for start, n in _windows(motion.num_frames, max_frames, count):
            window = motion.crop(start, start + n)
            conditions.append(
                EvalCondition(
                    name=rec.name,
                    text=clip_texts(rec)[0],
                    key=label_key(rec.labels),
                    source=rec.source,
                    start=start,
                    frames=n,
                    music=None if window.audio is None else window.audio.path,
                    music_offset=0.0 if window.audio is None else float(window.audio.offset),
                )
            )
            real.append(window)
    if limit is not None:
        conditions, real = conditions[:limit], real[:limit]
    return conditions, real


# ---- the training-split reference ----------------------------------------------------------


@dataclass
class Reference:
    """Features of the training split's real motions (one centre window per clip)."""

    embeddings: np.ndarray  # (N, E) text–motion evaluator
    kinetic: np.ndarray  # (N, 66)
    geometric: np.ndarray  # (N, 32)

    @classmethod
    def build(
        cls,
        data: Any,
        evaluator: TextMotionEvaluator,
        *,
        split: str = "train",
        cache: Path | None = None,
    ) -> Reference:
        key = hashlib.sha1(
            f"{data.fingerprint}|{split}|{evaluator.info.get('train', {}).get('seconds')}|"
            f"{evaluator.num_params()}|{float(evaluator.model.logit_scale.detach()):.6f}".encode()
        ).hexdigest()[:16]
        path = None if cache is None else cache / f"eval_reference_{key}.npz"
        if path is not None and path.is_file():
            z = np.load(path)
            return cls(z["embeddings"], z["kinetic"], z["geometric"])
        conditions, motions = split_conditions(data, split, music_windows=1)
        ref = cls(
            evaluator.encode_motions(motions),
            np.stack([kinetic_features(m.positions, m.fps) for m in motions]),
            np.stack([geometric_features(m.positions, m.fps) for m in motions]),
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **asdict(ref))
            tmp.replace(path)
        return ref


# ---- scoring a set ------------------------------------------------------------------------


def check_set(motions: Sequence[Motion], conditions: Sequence[EvalCondition], dim: int) -> None:
    """Clear errors before any metric: sizes, NaNs, joint counts."""
    if len(motions) != len(conditions):
        raise InputError(f"{len(motions)} motions for {len(conditions)} conditions")
    need = D.fid_min_samples(dim)
    if len(motions) < need:
        raise InputError(
            f"the evaluation set has {len(motions)} motions; FID on the evaluator's {dim}-d "
            f"features needs at least {need} (dim + 1) for a full-rank covariance — use a "
            "larger split or a larger --limit"
        )
    for i, m in enumerate(motions):
        p = np.asarray(m.positions)
        if p.ndim != 3 or p.shape[1:] != (22, 3):
            raise InputError(
                f"motion {i} ({m.name}) has positions of shape {p.shape}; the evaluators need "
                "(T, 22, 3) on the canonical 22-joint skeleton (retarget it first)"
            )
        if not np.isfinite(p).all():
            raise InputError(f"motion {i} ({m.name}) contains NaN or infinite positions")


def _mean(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if not (isinstance(r[key], float) and np.isnan(r[key]))]
    return float(np.mean(values)) if values else float("nan")


def score_set(
    motions: Sequence[Motion],
    conditions: Sequence[EvalCondition],
    evaluator: TextMotionEvaluator,
    reference: Reference,
    *,
    seed: int = 0,
    text_embeddings: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every metric of a set of motions, one per condition (JSON-ready)."""
    check_set(motions, conditions, evaluator.embed_dim)
    emb = evaluator.encode_motions(motions)
    if text_embeddings is None:
        text_embeddings = evaluator.encode_texts([c.text for c in conditions])
    keys = [c.key for c in conditions]
    retrieval = D.r_precision(text_embeddings, emb, groups=keys, seed=seed)
    kin = np.stack([kinetic_features(m.positions, m.fps) for m in motions])
    geo = np.stack([geometric_features(m.positions, m.fps) for m in motions])
    physics = [physics_report(m.positions, m.fps) for m in motions]
    checker = SanityChecker()
    sanity = [checker.check(m) for m in motions]
    reasons = Counter(r.split(":")[0] for s in sanity for r in s.reasons)

    out: dict[str, Any] = {
        "n": len(motions),
        "fid": D.frechet_distance(reference.embeddings, emb),
        "r_precision": retrieval.top_k,
        "matching_distance": retrieval.matching_distance,
        "r_precision_batches": retrieval.batches,
        "diversity": D.diversity(emb, seed=seed),
        "multimodality": _multimodality(emb, keys, seed),
        "fid_k": D.normalised_frechet(reference.kinetic, kin),
        "fid_g": D.normalised_frechet(reference.geometric, geo),
        "physics": {k: _mean(physics, k) for k in PHYSICS_KEYS},
        "sanity_pass_rate": float(np.mean([s.passed for s in sanity])),
        "sanity_failures": dict(reasons.most_common()),
        "music": None,
    }
    music_rows = []
    scorer = MusicalityScorer()
    for m, c in zip(motions, conditions, strict=True):
        if c.music is not None:
            music_rows.append(scorer.score(m, AudioRef(c.music, c.music_offset)))
    if music_rows:
        out["music"] = {"n": len(music_rows), **{k: _mean(music_rows, k) for k in MUSIC_KEYS}}
    out["_embeddings"] = emb  # for plots; dropped from JSON
    out["_motions"] = list(motions)
    out["_texts"] = [c.text for c in conditions]
    out["_per_motion"] = {
        "foot_skating_ratio": [p["foot_skating_ratio"] for p in physics],
        "sanity": [s.passed for s in sanity],
        "musicality": [row["musicality"] for row in music_rows],
    }
    return out


def _multimodality(emb: np.ndarray, keys: list[str], seed: int) -> float | None:
    try:
        return D.multimodality(emb, keys, seed=seed)
    except InputError:
        return None  # no label pair with two motions


# ---- generating for the conditions --------------------------------------------------------

GenerateFn = Callable[[EvalCondition, int], Motion]


def pipeline_generate_fn(
    pipeline: Any,
    *,
    steps: int | None = None,
    sampler: str | None = None,
    guidance: float | None = None,
    **extra: Any,
) -> GenerateFn:
    """A ``(condition, seed) -> Motion`` function over a ``Pipeline`` (post-processing on, as
    users get it); None options take the checkpoint's defaults; ``extra`` goes to
    ``generate`` as is (e.g. rag=True)."""
    options = {
        k: v
        for k, v in {"steps": steps, "sampler": sampler, "guidance": guidance}.items()
        if v is not None
    }

    def generate(cond: EvalCondition, seed: int) -> Motion:
        return pipeline.generate(
            text=cond.text,
            music=cond.music,
            music_offset=cond.music_offset,
            seconds=cond.seconds,
            seed=seed,
            **options,
            **extra,
        )[0]

    return generate


def generate_set(
    generate: GenerateFn,
    conditions: Sequence[EvalCondition],
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Motion], float]:
    """(one motion per condition, mean milliseconds per motion). Seed of motion i: seed + i."""
    motions, t0 = [], time.perf_counter()
    for i, cond in enumerate(conditions):
        motions.append(generate(cond, seed + i))
        if progress is not None:
            progress(i + 1, len(conditions))
    ms = (time.perf_counter() - t0) * 1e3 / max(1, len(conditions))
    return motions, ms


def public(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics without the arrays kept for plots."""
    return {k: v for k, v in metrics.items() if not k.startswith("_")}


# ---- the whole evaluation --------------------------------------------------------------------

REAL_ROW = "real (held-out)"


def evaluate_variants(
    variants: dict[str, GenerateFn],
    data: Any,
    *,
    split: str = "test",
    evaluator: TextMotionEvaluator | None = None,
    seed: int = 0,
    limit: int | None = None,
    include_real: bool = True,
    cache: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], Reference]:
    """Generate for ``split``'s conditions with each variant and score every set.

    Returns ({row name: metrics}, the training reference); the real-data reference row comes
    first (``REAL_ROW``). Every variant sees the same conditions and seeds.
    """
    evaluator = evaluator or TextMotionEvaluator.from_pretrained()
    conditions, real = split_conditions(data, split, limit=limit)
    need = D.fid_min_samples(evaluator.embed_dim)
    if len(conditions) < need:
        raise InputError(
            f"split {split!r} gives {len(conditions)} evaluation conditions; FID on the "
            f"evaluator's {evaluator.embed_dim}-d features needs at least {need} — use a larger "
            "split or a larger --limit"
        )
    reference = Reference.build(data, evaluator, cache=cache)
    texts = evaluator.encode_texts([c.text for c in conditions])
    rows: dict[str, dict[str, Any]] = {}
    if include_real:
        rows[REAL_ROW] = score_set(
            real, conditions, evaluator, reference, seed=seed, text_embeddings=texts
        )
    for name, generate in variants.items():

        def step(done: int, total: int, name: str = name) -> None:
            if progress is not None:
                progress(name, done, total)

        motions, ms = generate_set(generate, conditions, seed=seed, progress=step)
        rows[name] = score_set(
            motions, conditions, evaluator, reference, seed=seed, text_embeddings=texts
        )
        rows[name]["ms_per_sample"] = ms
    return rows, reference
