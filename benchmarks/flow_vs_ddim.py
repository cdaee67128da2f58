"""Flow matching at 1/4/10 steps vs the DDIM baseline at 10/50 steps, on the same conditions.

Every variant generates one motion per condition of the split (the same prompts, music windows
and seeds; post-processing on, as users get it) and is scored by ``motiongen.eval.evaluator``
beside the real held-out windows: FID, R-precision, diversity, foot skating, sanity pass rate,
musicality and milliseconds per sample. The original design's gate: flow 4-step matches or
beats DDIM-50 on sanity pass rate and musicality.

    python benchmarks/flow_vs_ddim.py [--split test] [--limit N] [--out docs/results/flow_vs_ddim]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from motiongen.cli.console import named_progress, progress_bar
from motiongen.data.prepare import prepare
from motiongen.eval.eval_report import flat_row, markdown_table, write_report
from motiongen.eval.evaluator import REAL_ROW, evaluate_variants, pipeline_generate_fn
from motiongen.evaluators.text_motion import TextMotionEvaluator
from motiongen.paths import DEFAULT_MODEL, cache_dir
from motiongen.pipeline import Pipeline

VARIANTS = (  # (row name, model (--flow / --ddim), steps, sampler)
    ("flow-1", "flow", 1, "euler"),
    ("flow-4", "flow", 4, "euler"),
    ("flow-10", "flow", 10, "euler"),
    ("ddim-10", "ddim", 10, "ddim"),
    ("ddim-50", "ddim", 50, "ddim"),
)


def paired_interval(a: list[float], b: list[float], *, n: int = 10_000, seed: int = 0) -> tuple:
    """Mean of a - b over paired samples (same conditions) and its 95 % bootstrap interval."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.size == 0:
        return None, None, None
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n, diff.size))].mean(axis=1)
    return float(diff.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def gate(rows: dict) -> tuple[bool, str]:
    """Flow-4 matches or beats DDIM-50 on sanity pass rate and musicality."""
    f, d = flat_row(rows["flow-4"]), flat_row(rows["ddim-50"])
    mean, lo, hi = paired_interval(
        rows["flow-4"]["_per_motion"]["musicality"], rows["ddim-50"]["_per_motion"]["musicality"]
    )
    interval = (
        ""
        if mean is None
        else f" [flow-4 − DDIM-50 = {mean:+.3f}, 95 % paired bootstrap {lo:+.3f} … {hi:+.3f}, "
        f"n = {len(rows['flow-4']['_per_motion']['musicality'])}]"
    )
    sanity_ok = f["sanity_pass_rate"] >= d["sanity_pass_rate"]
    measured = f["musicality"] is not None and d["musicality"] is not None
    music_ok = measured and f["musicality"] >= d["musicality"]
    music = (
        f"{f['musicality']:.3f} vs {d['musicality']:.3f} ({'ok' if music_ok else 'FAIL'}){interval}"
        if measured
        else "not measured (no condition with music; the gate cannot pass)"
    )
    text = (
        f"sanity flow-4 {f['sanity_pass_rate']:.1%} vs DDIM-50 {d['sanity_pass_rate']:.1%} "
        f"({'ok' if sanity_ok else 'FAIL'}); musicality {music}; speed DDIM-50 / flow-4 = "
        f"{d['ms_per_sample'] / f['ms_per_sample']:.1f}x"
    )
    return sanity_ok and music_ok, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test")
    ap.add_argument("--limit", type=int, default=None, help="first N conditions only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (timing)")
    ap.add_argument("--out", type=Path, default=Path("docs/results/flow_vs_ddim"))
    ap.add_argument("--flow", default=DEFAULT_MODEL, help="flow checkpoint folder or shipped name")
    ap.add_argument("--ddim", default="tiny-ddim", help="DDIM checkpoint folder or shipped name")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    pipes = {
        "flow": Pipeline.from_pretrained(args.flow),
        "ddim": Pipeline.from_pretrained(args.ddim),
    }
    variants = {
        row: pipeline_generate_fn(pipes[model], steps=steps, sampler=sampler)
        for row, model, steps, sampler in VARIANTS
    }
    with progress_bar() as bar:
        rows, reference = evaluate_variants(
            variants,
            prepare().data,
            split=args.split,
            evaluator=TextMotionEvaluator.from_pretrained(),
            seed=args.seed,
            limit=args.limit,
            cache=cache_dir() / "eval",
            progress=named_progress(bar),
        )
    ok, verdict = gate(rows)
    ordered = {REAL_ROW: rows[REAL_ROW], **{r: rows[r] for r, *_ in VARIANTS}}
    write_report(
        ordered,
        reference.embeddings,
        json_path=args.out.with_suffix(".json"),
        markdown_path=args.out.with_suffix(".md"),
        info={
            "split": args.split,
            "limit": args.limit,
            "seed": args.seed,
            "torch_threads": args.threads,
            "flow": args.flow,
            "ddim": args.ddim,
            "seconds": round(time.perf_counter() - t0, 1),
            "gate": verdict,
            "gate_passed": ok,
        },
        command="python benchmarks/flow_vs_ddim.py " + " ".join(sys.argv[1:]),
    )
    print(markdown_table(ordered))
    print(f"\ngate (flow-4 vs DDIM-50): {'PASS' if ok else 'FAIL'} — {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
