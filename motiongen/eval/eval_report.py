"""The evaluation report: one Markdown table (a row per evaluated set), JSON and two plots.

Rows are sets of motions scored by ``evaluator.score_set`` against the training split: the
generated sets and the real-data reference (held-out real windows of the same split). The
plots: the sets' text–motion embeddings in the 2-D PCA of the training reference, and the
per-motion foot-skating distribution of each set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.eval.evaluator import public

COLUMNS: tuple[tuple[str, str], ...] = (
    ("FID ↓", "fid"),
    ("R@1 ↑", "r1"),
    ("R@2 ↑", "r2"),
    ("R@3 ↑", "r3"),
    ("MM-Dist ↓", "matching_distance"),
    ("Diversity", "diversity"),
    ("MModality", "multimodality"),
    ("FID_k ↓", "fid_k"),
    ("FID_g ↓", "fid_g"),
    ("Foot skate ↓", "foot_skating_ratio"),
    ("PFC ↓", "pfc"),
    ("Sanity ↑", "sanity_pass_rate"),
    ("Musicality ↑", "musicality"),
    ("BAS ↑", "bas_music"),
    ("Dance agr. ↑", "dance_agreement"),
    ("Tempo margin ↑", "tempo_margin"),
    ("ms/sample", "ms_per_sample"),
)


def flat_row(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The table's numbers of one set (None where a metric does not apply)."""
    r = metrics.get("r_precision") or [None, None, None]
    music = metrics.get("music") or {}
    physics = metrics.get("physics") or {}
    return {
        "fid": metrics.get("fid"),
        "r1": r[0],
        "r2": r[1],
        "r3": r[2],
        "matching_distance": metrics.get("matching_distance"),
        "diversity": metrics.get("diversity"),
        "multimodality": metrics.get("multimodality"),
        "fid_k": metrics.get("fid_k"),
        "fid_g": metrics.get("fid_g"),
        "foot_skating_ratio": physics.get("foot_skating_ratio"),
        "pfc": physics.get("pfc"),
        "sanity_pass_rate": metrics.get("sanity_pass_rate"),
        "musicality": music.get("musicality"),
        "bas_music": music.get("bas_music"),
        "dance_agreement": music.get("dance_agreement"),
        "tempo_margin": music.get("tempo_margin"),
        "ms_per_sample": metrics.get("ms_per_sample"),
    }


def _fmt(key: str, v: float | None) -> str:
    if v is None:
        return "–"
    if key in ("r1", "r2", "r3", "sanity_pass_rate"):
        return f"{100 * v:.1f} %"
    if key == "ms_per_sample":
        return f"{v:.0f}"
    if key in ("fid",):
        return f"{v:.4f}"
    return f"{v:.3f}"


def markdown_table(rows: dict[str, dict[str, Any]]) -> str:
    """A Markdown table with one row per set name."""
    head = "| set | n | " + " | ".join(c for c, _ in COLUMNS) + " |"
    rule = "|" + "---|" * (len(COLUMNS) + 2)
    lines = [head, rule]
    for name, metrics in rows.items():
        flat = flat_row(metrics)
        cells = [_fmt(k, flat[k]) for _, k in COLUMNS]
        lines.append(f"| {name} | {metrics.get('n', '–')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_embeddings(
    reference: np.ndarray, sets: dict[str, np.ndarray], path: Path, *, seed: int = 0
) -> Path:
    """Scatter of each set's embeddings in the training reference's first two PCs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = reference.mean(axis=0)
    _, _, vt = np.linalg.svd(reference - mean, full_matrices=False)
    basis = vt[:2].T
    rng = np.random.default_rng(seed)
    sample = reference[rng.choice(len(reference), min(800, len(reference)), replace=False)]
    fig, ax = plt.subplots(figsize=(6.5, 5.5), dpi=110)
    xy = (sample - mean) @ basis
    ax.scatter(xy[:, 0], xy[:, 1], s=6, c="#bbbbbb", label="train (reference)")
    for name, emb in sets.items():
        xy = (emb - mean) @ basis
        ax.scatter(xy[:, 0], xy[:, 1], s=10, alpha=0.75, label=name)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title("text–motion evaluator embeddings (PCA of the training split)")
    ax.legend(fontsize=8, markerscale=1.5)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_foot_skating(per_set: dict[str, list[float]], path: Path) -> Path:
    """Distribution of the per-motion foot skating ratio of each set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=110)
    bins = np.linspace(0, max(0.05, max(max(v) for v in per_set.values())), 25)
    for name, values in per_set.items():
        ax.hist(values, bins=bins, histtype="step", linewidth=1.6, label=name)
    ax.set_xlabel("foot skating ratio (share of contact frames sliding > 0.5 m/s)")
    ax.set_ylabel("motions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def example_sheet(
    rows: dict[str, dict[str, Any]], path: Path, *, examples: int = 2, frames: int = 4
) -> tuple[Path, list[str]]:
    """Contact sheets of the same conditions in every set: a row of ``frames`` frames per set
    and condition (conditions spread over the split, each of a different prompt). Returns the
    PNG and the prompts shown, in order."""
    from PIL import Image

    from motiongen.io.render import render_frame

    first = next(iter(rows.values()))
    texts = first["_texts"]
    picks: list[int] = []
    for i in np.linspace(0, len(texts) - 1, 4 * examples).round().astype(int):
        if texts[i] not in {texts[j] for j in picks}:
            picks.append(int(i))
        if len(picks) == examples:
            break
    strips = []
    for n, i in enumerate(picks):
        for name, metrics in rows.items():
            motion = metrics["_motions"][i]
            idx = np.linspace(0, motion.num_frames - 1, frames).round().astype(int)
            panels = [
                render_frame(
                    motion, int(f), width=200, height=230,
                    title=f"{n + 1}. {name}" if k == 0 else "",
                )
                for k, f in enumerate(idx)
            ]  # fmt: skip
            strips.append(np.concatenate(panels, axis=1))
    sheet = np.concatenate(strips, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(path, format="PNG")
    return path, [texts[i] for i in picks]


def write_report(
    rows: dict[str, dict[str, Any]],
    reference_embeddings: np.ndarray,
    *,
    json_path: Path,
    markdown_path: Path | None,
    info: dict[str, Any],
    command: str,
) -> dict[str, Any]:
    """Write the JSON (and the Markdown report with its plots beside it); return the JSON."""
    result = {"info": info, "command": command, "sets": {k: public(v) for k, v in rows.items()}}
    json_path = Path(json_path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2, default=float))
    if markdown_path is None:
        return result
    markdown_path = Path(markdown_path)
    stem = markdown_path.stem
    media = markdown_path.parent
    emb_png = plot_embeddings(
        reference_embeddings,
        {k: v["_embeddings"] for k, v in rows.items() if "_embeddings" in v},
        media / f"{stem}_embeddings.png",
    )
    skate_png = plot_foot_skating(
        {k: v["_per_motion"]["foot_skating_ratio"] for k, v in rows.items() if "_per_motion" in v},
        media / f"{stem}_foot_skating.png",
    )
    examples_png, prompts = example_sheet(
        {k: v for k, v in rows.items() if "_motions" in v}, media / f"{stem}_examples.png"
    )
    failures = "\n".join(
        f"- {name}: " + (", ".join(f"{k} ×{n}" for k, n in v["sanity_failures"].items()) or "none")
        for name, v in rows.items()
    )
    text = f"""# Evaluation report

Command: `{command}`

{markdown_table(rows)}

Every set is scored against the real motions of the training split (one centre window of at
most 9.8 s per clip). **real (held-out)** is the real-data reference row: the same windows of
the evaluated split's real clips, scored exactly like the generated ones. FID, R-precision
(batches of 32 with distinct label pairs, text queries), matching distance, diversity (300
pairs) and multimodality use the shipped text–motion evaluator (unit-length 128-d embeddings,
so distances lie in [0, 2]); FID_k / FID_g use the AIST++ kinetic and geometric features
z-normalised by the training set. Musicality and BAS are over the conditions with music only.
Definitions: docs/metrics.md.

Sanity failures (reason × motions):
{failures}

![embeddings]({emb_png.name})

![foot skating]({skate_png.name})

The same conditions in every set (frames evenly spaced over each motion):
{chr(10).join(f"{k + 1}. {t}" for k, t in enumerate(prompts))}

![examples]({examples_png.name})

Run info: `{json.dumps(info)}`
"""
    markdown_path.write_text(text)
    return result
