"""Quality curation and source balancing (SPEC §8).

``curate(motions, CurationConfig.preset("pretrain"|"sft"))`` decides per clip:

1. length: clips shorter than ``min_frames`` at the model rate (20 fps) are dropped; longer
   than ``max_frames`` are *kept* and cut into equal, non-overlapping windows of at most
   ``max_frames`` (a 65 s dance becomes three 433-frame windows rather than vanishing);
2. artifacts (``motiongen.artifacts``): dropped when quality < ``min_quality`` or
   artifact > ``max_artifact``, with the reasons (flags and metric values) recorded; a cut
   clip is judged per window and loses only its failing windows (the clip is dropped when
   none is left);
3. labels: a turn action's take that does not end turned to its side is dropped
   (``label_reasons``);
4. balance: nothing is deleted for balance. Each kept clip gets a sampling weight (per frame)
   so that, in the sampled frames, no source exceeds ``max_source_share``; for SFT also no
   content label (action) exceeds ``max_action_share`` and synthetic data stays within
   ``max_synthetic_share``. Weights only go down (the largest is 1).

Definitions and measured effects on the real data: ``docs/curation.md``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from motiongen.artifacts import ArtifactReport, artifact_report, resample_positions
from motiongen.canonical import heading
from motiongen.errors import InputError
from motiongen.motion import Motion

MODEL_FPS = 20.0


@dataclass
class CurationConfig:
    """Thresholds of one training stage (see ``preset``)."""

    stage: str = "pretrain"
    min_quality: float = 0.5  # keep quality >= this
    max_artifact: float = 0.5  # keep artifact <= this
    fps: float = MODEL_FPS  # lengths are counted at this rate
    min_frames: int = 25  # shorter clips are dropped
    max_frames: int = 500  # longer clips are cut into windows of at most this
    max_source_share: float = 0.3  # of sampled frames, per source
    max_action_share: float | None = None  # of sampled frames, per content label (SFT)
    max_synthetic_share: float | None = None  # of sampled frames, synthetic source (SFT)

    @classmethod
    def preset(cls, stage: str) -> CurationConfig:
        """SPEC §8 presets: "pretrain" (quality ≥ 0.5, artifact ≤ 0.5) or "sft" (quality ≥ 0.8,
        artifact ≤ 0.35, no action over 30 %, synthetic ≤ 40 %)."""
        if stage == "pretrain":
            return cls(stage="pretrain")
        if stage == "sft":
            return cls(
                stage="sft",
                min_quality=0.8,
                max_artifact=0.35,
                max_action_share=0.3,
                max_synthetic_share=0.4,
            )
        raise InputError(f"unknown curation stage {stage!r}; use 'pretrain' or 'sft'")


@dataclass
class CurationResult:
    """What ``curate`` decided.

    kept: names of kept clips, input order. drop_reasons: name -> reasons (dropped clips only).
    weights: name -> per-frame sampling weight in (0, 1] (kept clips). windows: name -> kept
    (start, stop) frame ranges at ``config.fps`` (one range unless the clip was cut).
    reports: name -> artifact report of the whole clip (every clip is scored).
    window_drops: name -> {window index: reasons} for windows dropped from kept long clips.
    summary: counts and shares.
    """

    config: CurationConfig
    kept: list[str] = field(default_factory=list)
    drop_reasons: dict[str, list[str]] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    windows: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    reports: dict[str, ArtifactReport] = field(default_factory=dict)
    window_drops: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def dropped(self) -> list[str]:
        return list(self.drop_reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "kept": self.kept,
            "drop_reasons": self.drop_reasons,
            "weights": self.weights,
            "windows": {k: [list(w) for w in v] for k, v in self.windows.items()},
            "window_drops": {
                k: {str(i): r for i, r in v.items()} for k, v in self.window_drops.items()
            },
            "summary": self.summary,
        }


def frames_at(motion: Motion, fps: float) -> int:
    """Frame count of ``motion`` after resampling to ``fps`` (as ``Motion.resample``)."""
    return max(1, int(round(motion.num_frames * fps / motion.fps)))


def split_windows(n_frames: int, max_frames: int) -> list[tuple[int, int]]:
    """Equal, non-overlapping windows of at most ``max_frames`` covering ``n_frames``."""
    count = max(1, math.ceil(n_frames / max_frames))
    edges = [round(i * n_frames / count) for i in range(count + 1)]
    return [(edges[i], edges[i + 1]) for i in range(count)]


# A turn action's take must end turned to its side by at least MIN_TURN_DEG. 6 of the data's
# 423 walk-turn takes do not (four turn the other way, two turn back: 84 then -97 degrees), and
# retrieval started "a person walks and turns to the left" from them (a trial: 3 of 4 seeds
# spun back in the last second); the others end 67-127 degrees to their side.
TURN_SIDES = {"walk-turn-left": 1.0, "walk-turn-right": -1.0}  # heading grows turning left
MIN_TURN_DEG = 45.0


def label_reasons(motion: Motion) -> list[str]:
    """Why ``motion`` contradicts its content label (empty when it does not, or when no rule
    covers its label): a turn action not ending turned to its side."""
    content = motion.labels.get("content", "")
    side = TURN_SIDES.get(content)
    if side is None or motion.num_frames < 2:
        return []
    facing = np.unwrap(heading(np.asarray(motion.positions, dtype=np.float64)))
    turned = float(np.rad2deg(side * (facing[-1] - facing[0])))
    if turned >= MIN_TURN_DEG:
        return []
    return [
        f"against its label: a {content} take ending turned {turned:.0f} degrees to its side "
        f"(< {MIN_TURN_DEG:g})"
    ]


def _reasons(rep: ArtifactReport, cfg: CurationConfig) -> list[str]:
    out = []
    if rep.artifact > cfg.max_artifact:
        flags = ", ".join(rep.flags) or "near-threshold"
        out.append(f"artifact {rep.artifact:.2f} > {cfg.max_artifact:g}: {flags}")
    if rep.quality < cfg.min_quality:
        parts = [
            f"foot skating {rep.foot_skating:.2f}",
            f"penetration {rep.penetration:.3f} m",
            f"floating {rep.floating:.3f} m",
            f"bone drift {rep.bone_drift:.3f}",
        ]
        out.append(f"low quality {rep.quality:.2f} < {cfg.min_quality:g} ({'; '.join(parts)})")
    return out


def _judge_windows(
    m: Motion, windows: list[tuple[int, int]], cfg: CurationConfig
) -> tuple[list[tuple[int, int]], dict[int, list[str]]]:
    """(windows that pass, {window index: reasons} for those that do not)."""
    pos = resample_positions(m.positions, m.fps, cfg.fps)
    kept, bad = [], {}
    for i, (a, b) in enumerate(windows):
        reasons = _reasons(artifact_report(pos[a:b], cfg.fps), cfg)
        if reasons:
            bad[i] = reasons
        else:
            kept.append((a, b))
    return kept, bad


def _cap_scales(totals: Mapping[str, float], caps: Mapping[str, float]) -> dict[str, float]:
    """Scale factors (<= 1) per group so each group's share of the total is <= its cap.

    Water filling: capped groups are held at their cap, the rest keep their proportions.
    When every group must be capped and the caps sum to less than 1 (e.g. three sources with
    a 30 % cap), shares become proportional to the caps (equal for equal caps).
    """
    groups = [g for g, v in totals.items() if v > 0]
    capped: set[str] = set()
    while True:
        free = [g for g in groups if g not in capped]
        cap_sum = sum(caps[g] for g in capped)
        if not free or cap_sum >= 1.0:
            norm = sum(caps[g] for g in groups)
            target = {g: caps[g] / norm for g in groups}
            break
        free_total = sum(totals[g] for g in free)
        total = free_total / (1.0 - cap_sum)
        over = [g for g in free if totals[g] / total > caps[g] + 1e-12]
        if not over:
            target = {g: (caps[g] if g in capped else totals[g] / total) for g in groups}
            break
        capped.update(over)
    # Only scale down: the group that keeps the largest target/total ratio stays at 1.
    ratio = {g: target[g] / totals[g] for g in groups}
    top = max(ratio.values())
    return {g: ratio[g] / top for g in groups}


def balance_weights(
    frames: Mapping[str, int],
    groupings: list[tuple[Mapping[str, str], Mapping[str, float] | float]],
    *,
    iterations: int = 200,
    tol: float = 1e-4,
) -> dict[str, float]:
    """Per-clip sampling weights in (0, 1] so every grouping respects its caps.

    frames: clip -> frame count. groupings: list of (clip -> group key, cap) where cap is one
    share for every group or a dict group -> share (missing groups are uncapped). The caps
    are applied in turn until all hold within ``tol`` (iterative proportional scaling).
    """
    w = {k: 1.0 for k in frames}
    for _ in range(iterations):
        worst = 0.0
        for key_of, cap in groupings:
            totals: dict[str, float] = defaultdict(float)
            for k, f in frames.items():
                totals[key_of[k]] += w[k] * f
            caps = {g: (cap.get(g, 1.0) if isinstance(cap, Mapping) else cap) for g in totals}
            grand = sum(totals.values())
            if grand <= 0:
                continue
            worst = max(worst, max(totals[g] / grand - caps[g] for g in totals))
            scales = _cap_scales(totals, caps)
            for k in frames:
                w[k] *= scales.get(key_of[k], 1.0)
        if worst <= tol:
            break
    top = max(w.values(), default=1.0)
    return {k: v / top for k, v in w.items()}


def sampled_shares(
    frames: Mapping[str, int], weights: Mapping[str, float], key_of: Mapping[str, str]
) -> dict[str, float]:
    """Share of sampled frames per group, given per-clip weights."""
    totals: dict[str, float] = defaultdict(float)
    for k, f in frames.items():
        totals[key_of[k]] += weights.get(k, 0.0) * f
    grand = sum(totals.values()) or 1.0
    return {g: v / grand for g, v in sorted(totals.items())}


def _source(m: Motion) -> str:
    return m.labels.get("source") or m.meta.get("source") or "unknown"


def curate(
    motions: Iterable[Motion],
    config: CurationConfig | None = None,
    *,
    reports: Mapping[str, ArtifactReport] | None = None,
) -> CurationResult:
    """Score, filter, window and weight ``motions`` (any fps; canonical skeleton).

    reports: artifact reports already computed, by motion name (the rest are computed).
    Motion names must be unique.
    """
    cfg = config or CurationConfig()
    result = CurationResult(config=cfg)
    frames: dict[str, int] = {}
    source_of: dict[str, str] = {}
    content_of: dict[str, str] = {}
    synthetic_of: dict[str, str] = {}
    seen: set[str] = set()
    drops: Counter[str] = Counter()
    for m in motions:
        name = m.name
        if name in seen:
            raise InputError(f"two motions are named {name!r}; curation needs unique names")
        seen.add(name)
        rep = (reports or {}).get(name) or artifact_report(m.positions, m.fps)
        result.reports[name] = rep
        n = frames_at(m, cfg.fps)
        reasons = []
        if n < cfg.min_frames:
            reasons.append(f"too short: {n} frames at {cfg.fps:g} fps < {cfg.min_frames}")
        reasons += label_reasons(m)
        windows = split_windows(n, cfg.max_frames)
        if len(windows) == 1 or reasons:
            reasons += _reasons(rep, cfg)
            kept_windows = windows
        else:
            # A long clip is judged window by window, so one glitch costs one window only.
            kept_windows, bad = _judge_windows(m, windows, cfg)
            if bad:
                result.window_drops[name] = bad
            if not kept_windows:
                reasons += sorted({r for rs in bad.values() for r in rs})
        if reasons:
            result.drop_reasons[name] = reasons
            for r in reasons:
                drops[reason_key(r)] += 1
            continue
        result.kept.append(name)
        result.windows[name] = kept_windows
        frames[name] = sum(b - a for a, b in kept_windows)
        source_of[name] = _source(m)
        content_of[name] = m.labels.get("content") or m.labels.get("dance_type") or "unlabelled"
        synthetic_of[name] = "synthetic" if source_of[name] == "synthetic" else "real"

    groupings: list[tuple[Mapping[str, str], Mapping[str, float] | float]] = [
        (source_of, cfg.max_source_share)
    ]
    if cfg.max_action_share is not None:
        groupings.append((content_of, cfg.max_action_share))
    if cfg.max_synthetic_share is not None:
        groupings.append((synthetic_of, {"synthetic": cfg.max_synthetic_share}))
    result.weights = balance_weights(frames, groupings) if frames else {}

    total = len(result.reports)
    result.summary = {
        "stage": cfg.stage,
        "clips": total,
        "kept": len(result.kept),
        "dropped": len(result.drop_reasons),
        "windows": sum(len(w) for w in result.windows.values()),
        "dropped_windows": sum(len(w) for w in result.window_drops.values()),
        "kept_frames": sum(frames.values()),
        "drops_by_reason": dict(sorted(drops.items())),
        "frame_share_by_source": sampled_shares(frames, {k: 1.0 for k in frames}, source_of),
        "sampled_share_by_source": sampled_shares(frames, result.weights, source_of),
        "sampled_share_by_content": sampled_shares(frames, result.weights, content_of),
    }
    return result


def reason_key(reason: str) -> str:
    """Short key of a drop reason, for counting: 'too short', 'against its label',
    'artifact:<flags>' or 'low quality'."""
    if reason.startswith("too short"):
        return "too short"
    if reason.startswith("against its label"):
        return "against its label"
    if reason.startswith("artifact"):
        flags = reason.split(": ", 1)[1] if ": " in reason else ""
        return "artifact:" + "+".join(f.strip() for f in flags.split(","))
    return "low quality"
