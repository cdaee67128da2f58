"""Classifier-free guidance scale sweep on the validation split (where defaults are chosen).

Each shipped model generates for the val split's conditions at several guidance scales; the
evaluation loop of ``motiongen eval`` scores each set beside the real held-out row. The test
split is never used here, so a default picked from this table can be reported on test honestly.

    python benchmarks/guidance_sweep.py [--flow 1.5,2.5,4] [--ddim 2.5,4,5.5,7.5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from motiongen.cli.console import named_progress, progress_bar
from motiongen.data.prepare import prepare
from motiongen.eval.eval_report import markdown_table, write_report
from motiongen.eval.evaluator import evaluate_variants, pipeline_generate_fn
from motiongen.paths import cache_dir
from motiongen.pipeline import Pipeline


def scales(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flow", type=scales, default=scales("1.5,2.5,4"))
    ap.add_argument("--ddim", type=scales, default=scales("2.5,4,5.5,7.5"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("docs/results/guidance_sweep_val"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    flow, ddim = Pipeline.from_pretrained("tiny-flow"), Pipeline.from_pretrained("tiny-ddim")
    variants = {
        f"flow-4 g{g:g}": pipeline_generate_fn(flow, steps=4, guidance=g) for g in args.flow
    }
    variants |= {
        f"ddim-50 g{g:g}": pipeline_generate_fn(ddim, steps=50, guidance=g) for g in args.ddim
    }
    with progress_bar() as bar:
        rows, reference = evaluate_variants(
            variants,
            prepare().data,
            split=args.split,
            cache=cache_dir() / "eval",
            progress=named_progress(bar),
        )
    write_report(
        rows,
        reference.embeddings,
        json_path=args.out.with_suffix(".json"),
        markdown_path=args.out.with_suffix(".md"),
        info={"split": args.split, "threads": args.threads},
        command="python benchmarks/guidance_sweep.py " + " ".join(sys.argv[1:]),
    )
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
