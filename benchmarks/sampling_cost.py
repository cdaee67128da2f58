"""Sampling cost of shipped generators side by side: interleaved calls in one process.

Run:  .venv/bin/python benchmarks/sampling_cost.py [--checkpoint tiny-flow tiny-flow-smooth]
      [--repeats 15] [--seconds 9.8] [--out FILE]

Separate latency runs on this shared 2-core machine vary by 20 % from one minute to the next
(`benchmarks/latency.py` gave 23.3 and 27.7 ms for the same model), more than the difference
between two tiny networks. Here every repeat calls each checkpoint once in turn, batch 1, the
prompt's text cached after warm-up, so load changes hit all of them alike; the table gives the
median sampler and post-processing milliseconds (``meta["timing_ms"]``) and each model's total
as a ratio to the first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", nargs="+", default=["tiny-flow", "tiny-flow-smooth"])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=9.8, help="196 frames at 20 fps")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.pipeline import Pipeline

    prompt = "a person walks forward"
    pipes = {name: Pipeline.from_pretrained(name) for name in args.checkpoint}
    for pipe in pipes.values():  # warm-up: text cached, kernels chosen
        for seed in range(3):
            pipe.generate(text=prompt, seconds=args.seconds, seed=seed)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in pipes}
    for repeat in range(args.repeats):
        for name, pipe in pipes.items():
            t = pipe.generate(text=prompt, seconds=args.seconds, seed=repeat)[0].meta["timing_ms"]
            times[name].append((t["sample_ms"], t["postprocess_ms"]))
    table = {}
    for name, rows in times.items():
        sample, post = np.median(np.array(rows), axis=0)
        table[name] = {"sample_ms": float(sample), "postprocess_ms": float(post),
                       "total_ms": float(sample + post)}  # fmt: skip
    first = table[args.checkpoint[0]]["total_ms"]
    lines = [
        f"{args.repeats} interleaved calls per checkpoint, {args.seconds:g} s motions, batch 1, "
        "text cached; medians",
        "",
        "| checkpoint | steps | sampler ms | post-processing ms | total ms | total / first |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, t in table.items():
        steps = pipes[name].generate(text=prompt, seconds=1.0, seed=0)[0].meta["steps"]
        lines.append(f"| {name} | {steps} | {t['sample_ms']:.1f} | {t['postprocess_ms']:.1f} | "
                     f"{t['total_ms']:.1f} | {t['total_ms'] / first:.2f} |")  # fmt: skip
    text = "\n".join(lines)
    report(text, table, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
