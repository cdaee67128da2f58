"""Statistics and curation report of a prepared data set: JSON numbers and one PNG.

``build_report`` accepts a ``PreparedData`` (its ``.clips``), a list of ``ClipRecord``-like
objects (``name, source, fps, num_frames, labels, split, artifacts, kept, drop_reasons``) or a
list of ``Motion`` (then ``curation`` and ``splits`` supply decisions and splits).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.artifacts import artifact_report
from motiongen.data.curation import CurationResult, reason_key
from motiongen.motion import Motion

FLAG_KEYS = ("static", "jittery", "exploding", "repetitive", "overspeed", "penetrating")
LENGTH_EDGES = [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 60, 120, 1e9]  # seconds
SCORE_EDGES = [round(0.1 * i, 1) for i in range(11)]


def _row(item: Any, curation: CurationResult | None, splits: Mapping[str, str] | None) -> dict:
    """One clip as a flat dict, whatever the input kind."""
    name = item.name
    labels = dict(getattr(item, "labels", {}) or {})
    if isinstance(item, Motion):
        frames, fps = item.num_frames, item.fps
        rep: Any = (curation.reports.get(name) if curation else None) or artifact_report(
            item.positions, item.fps
        )
        source = labels.get("source", "unknown")
        split = (splits or {}).get(name) or item.meta.get("split", "")
    else:
        frames, fps = int(item.num_frames), float(item.fps)
        rep = getattr(item, "artifacts", None) or (curation.reports.get(name) if curation else {})
        source = getattr(item, "source", None) or labels.get("source", "unknown")
        split = (splits or {}).get(name) or getattr(item, "split", "")
    if is_dataclass(rep):
        rep = asdict(rep)
    if curation is not None:
        kept = name not in curation.drop_reasons
        reasons = list(curation.drop_reasons.get(name, []))
    else:
        kept = bool(getattr(item, "kept", True))
        reasons = list(getattr(item, "drop_reasons", []) or [])
    return {
        "name": name,
        "source": source,
        "frames": frames,
        "seconds": frames / fps,
        "labels": labels,
        "split": split or "unassigned",
        "artifacts": dict(rep or {}),
        "kept": kept,
        "reasons": reasons,
    }


def _hist(values: list[float], edges: list[float]) -> dict[str, list]:
    counts, _ = np.histogram(np.asarray(values, dtype=float), bins=np.asarray(edges, dtype=float))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def build_report(
    data: Any,
    *,
    curation: CurationResult | None = None,
    splits: Mapping[str, str] | None = None,
    max_listed_drops: int = 500,
) -> dict[str, Any]:
    """Per-source clips / frames / minutes, splits, content and style counts, lengths, flags,
    quality and artifact histograms, and the curation drops with reasons. JSON-ready."""
    items: Iterable[Any] = data.clips if hasattr(data, "clips") else data
    rows = [_row(it, curation, splits) for it in items]
    sources: dict[str, dict[str, Any]] = {}
    by_source: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append(r)
    total_frames = sum(r["frames"] for r in rows) or 1
    for src, rs in sorted(by_source.items()):
        kept = [r for r in rs if r["kept"]]
        secs = [r["seconds"] for r in rs]
        sources[src] = {
            "clips": len(rs),
            "frames": sum(r["frames"] for r in rs),
            "minutes": round(sum(secs) / 60, 2),
            "share_of_frames": round(sum(r["frames"] for r in rs) / total_frames, 4),
            "kept_clips": len(kept),
            "kept_minutes": round(sum(r["seconds"] for r in kept) / 60, 2),
            "splits": dict(Counter(r["split"] for r in rs)),
            "length_seconds": {
                "min": round(min(secs), 2),
                "median": round(float(np.median(secs)), 2),
                "max": round(max(secs), 2),
                "histogram": _hist(secs, LENGTH_EDGES),
            },
            "content": dict(
                Counter(
                    r["labels"].get("content") or r["labels"].get("dance_type") or "-" for r in rs
                ).most_common()
            ),
            "style": dict(Counter(r["labels"].get("style", "-") for r in rs).most_common()),
            "flags": {k: sum(bool(r["artifacts"].get(k)) for r in rs) for k in FLAG_KEYS},
        }
    splits_summary: dict[str, dict[str, float]] = {}
    for r in rows:
        s = splits_summary.setdefault(r["split"], {"clips": 0, "minutes": 0.0})
        s["clips"] += 1
        s["minutes"] += r["seconds"] / 60
    for s in splits_summary.values():
        s["minutes"] = round(s["minutes"], 2)
    drops: Counter[str] = Counter()
    for r in rows:
        for reason in r["reasons"]:
            drops[reason_key(reason)] += 1
    quality = [float(r["artifacts"]["quality"]) for r in rows if "quality" in r["artifacts"]]
    artifact = [float(r["artifacts"]["artifact"]) for r in rows if "artifact" in r["artifacts"]]
    report: dict[str, Any] = {
        "totals": {
            "clips": len(rows),
            "frames": sum(r["frames"] for r in rows),
            "minutes": round(sum(r["seconds"] for r in rows) / 60, 2),
            "kept_clips": sum(r["kept"] for r in rows),
            "dropped_clips": sum(not r["kept"] for r in rows),
        },
        "sources": sources,
        "splits": splits_summary,
        "flags": {k: sum(bool(r["artifacts"].get(k)) for r in rows) for k in FLAG_KEYS},
        "quality_histogram": _hist(quality, SCORE_EDGES),
        "artifact_histogram": _hist(artifact, SCORE_EDGES),
        "drops_by_reason": dict(drops.most_common()),
        "dropped": [
            {"name": r["name"], "source": r["source"], "reasons": r["reasons"]}
            for r in rows
            if not r["kept"]
        ][:max_listed_drops],
    }
    if curation is not None:
        report["curation"] = curation.summary
    return report


def plot_report(report: Mapping[str, Any], png_path: str | Path) -> Path:
    """A 2 × 2 PNG: clip lengths per source, quality and artifact histograms, content counts
    per source (top 20), flag counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    ax = axes[0, 0]
    sources = report.get("sources", {})
    n_edges = len(LENGTH_EDGES) - 1
    x = np.arange(n_edges)
    width = 0.8 / max(1, len(sources))
    for i, (src, s) in enumerate(sources.items()):
        ax.bar(x + i * width, s["length_seconds"]["histogram"]["counts"], width, label=src)
    labels = [f"{LENGTH_EDGES[i]:g}-{LENGTH_EDGES[i + 1]:g}" for i in range(n_edges - 1)]
    ax.set_xticks(x + 0.4 - width / 2, labels + [f">{LENGTH_EDGES[-2]:g}"], rotation=45, fontsize=7)
    if sources:  # an empty data set draws empty axes
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    ax.set_title("clip length (s) per source")

    ax = axes[0, 1]
    centers = np.array(SCORE_EDGES[:-1]) + 0.05
    ax.bar(centers - 0.02, report["quality_histogram"]["counts"], 0.04, label="quality")
    ax.bar(centers + 0.02, report["artifact_histogram"]["counts"], 0.04, label="artifact")
    if quality_counts := sum(report["quality_histogram"]["counts"]):
        ax.set_yscale("log")
    ax.set_xlabel(f"score ({quality_counts} clips)")
    ax.set_title("quality and artifact scores (clips)")
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    counts: Counter[str] = Counter()
    for src, s in sources.items():
        for content, c in s["content"].items():
            counts[f"{src}:{content}"] += c
    top = counts.most_common(20)
    ax.barh([k for k, _ in top][::-1], [v for _, v in top][::-1])
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("clips per content (top 20)")

    ax = axes[1, 1]
    flags = report.get("flags", {})
    ax.bar(list(flags), list(flags.values()), color="tab:red")
    drops = report.get("drops_by_reason", {})
    ax.set_title(
        "artifact flags (clips); dropped: "
        + ", ".join(f"{k} {v}" for k, v in list(drops.items())[:3]),
        fontsize=8,
    )
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)
    return png_path
