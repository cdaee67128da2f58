"""Is the network itself smooth, or does post-processing hide its jitter?

Run:  .venv/bin/python benchmarks/raw_jitter.py [--checkpoint DIR] [--prompts 40] [--seeds 2]
          [--steps N] [--sampler S] [--split test] [--out FILE.json]

For the plainest descriptions of ``--prompts`` label pairs of the split's clips, the checkpoint
generates 6.5 s motions with post-processing off (the network's raw output) and on (what a
user gets). ``motiongen.artifacts.jitter_score`` (high-passed acceleration over speed; real
Bandai clips score at most ~0.25, 1 cm of white noise ~0.7) of each, against the same score
on the split's real clips: the headline is raw median / real median (the issue's bar: <= 2).
Also the shimmer of joints at rest (``motiongen.artifacts.rest_shimmer``: the median
frame-to-frame wobble, mm, of joints slower than about 0.2 m/s for half a second), which the
whole motion's score hardly sees: a generated bow's hanging wrists wobbled 4 mm a frame.

``--leak``: for a DiT with a skip gate, the share of x_t its clean estimate x_t + (1 - t) v
passes straight through, c = 1 + (1 - t) g (median over channels; x_t's noise leaks into the
output by that share; 0 under ``clean_skip``), at the times a sampler visits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402
from motiongen.artifacts import jitter_score, rest_shimmer  # noqa: E402

SECONDS = 6.5


def real_scores(split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Jitter and rest shimmer of the split's kept clips, and their plainest descriptions
    (one per pair)."""
    from motiongen.data.prepare import prepare
    from motiongen.evaluators.labels import clip_texts, label_key

    data = prepare().data
    scores, shimmer, prompts, seen = [], [], [], set()
    for rec in data.select(split=split):
        m = data.motion(rec).resample(20.0)
        scores.append(jitter_score(m.positions, 20.0))
        shimmer.append(rest_shimmer(m.positions, 20.0))
        key = label_key(rec.labels)
        if key not in seen and not rec.labels.get("dance_type"):
            seen.add(key)
            prompts.append(clip_texts(rec)[0])
    return np.asarray(scores), np.asarray(shimmer), prompts


def run(pipe: Any, prompts: list[str], seeds: int, options: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, list[float]] = {"raw": [], "post": [], "raw_shimmer": [], "post_shimmer": []}
    for i, prompt in enumerate(prompts):
        for s in range(seeds):
            for flag, key in ((False, "raw"), (True, "post")):
                m = pipe.generate(prompt, seconds=SECONDS, seed=1000 * i + s, postprocess=flag,
                                  **options)[0]  # fmt: skip
                out[key].append(jitter_score(m.positions, m.fps))
                out[f"{key}_shimmer"].append(rest_shimmer(m.positions, m.fps))
    return {k: np.asarray(v) for k, v in out.items()}


LEAK_TIMES = (0.0, 0.25, 0.5, 0.75, 0.9)


def leak_table(pipe: Any, prompt: str) -> str:
    import torch

    from motiongen.models.conditions import ModelConditions

    net = pipe.model
    if getattr(net, "skip", None) is None:
        return "(the network has no skip gate: nothing leaks that way)"
    gates: dict[str, Any] = {}
    hook = net.skip.register_forward_hook(lambda m, i, o: gates.__setitem__("g", o.detach()))
    enc = pipe.text_encoder.encode([prompt])
    x = torch.randn(1, 196, net.config.feature_dim, generator=torch.Generator().manual_seed(0))
    rows = ["| t | ideal gate -1/(1-t) | gate (median) | share of x_t passed through |",
            "|---:|---:|---:|---:|"]  # fmt: skip
    clean = bool(getattr(net.config, "clean_skip", False))
    for t in LEAK_TIMES:
        with torch.inference_mode():
            net(x, torch.full((1,), t), ModelConditions(text_pooled=enc.pooled))
        g = float(gates["g"].median())
        share = 0.0 if clean else 1 + (1 - t) * g
        rows.append(f"| {t:g} | {-1 / (1 - t):.2f} | {g:.2f} | {share:.2f} |")
    hook.remove()
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="folder or shipped name")
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--sampler", default=None)
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    parser.add_argument("--leak", action="store_true",
                        help="also: how much of x_t the skip gate passes into the output")  # fmt: skip
    args = parser.parse_args(argv)

    from motiongen.pipeline import Pipeline

    real, real_shimmer, prompts = real_scores(args.split)
    prompts = prompts[: args.prompts]
    pipe = Pipeline.from_pretrained(args.checkpoint)
    options = {k: v for k, v in (("steps", args.steps), ("sampler", args.sampler)) if v}
    gen = run(pipe, prompts, args.seeds, options)

    def row(name: str, v: np.ndarray, ref: np.ndarray = real, digits: int = 3) -> str:
        v = v[np.isfinite(v)]  # a motion with no joint at rest has no shimmer
        if not len(v):
            return f"| {name} | 0 | – | – | – | – |"
        return (f"| {name} | {len(v)} | {np.median(v):.{digits}f} | {np.mean(v):.{digits}f} | "
                f"{np.percentile(v, 95):.{digits}f} | {np.median(v) / np.nanmedian(ref):.2f} |")  # fmt: skip

    def shimmer_row(name: str, v: np.ndarray) -> str:
        return row(name, v, real_shimmer, 2)

    def rows(fn: Any, real_v: np.ndarray, raw_v: np.ndarray, post_v: np.ndarray) -> list[str]:
        return [fn("real clips", real_v), fn("generated, raw (no post-processing)", raw_v),
                fn("generated, post-processed", post_v)]  # fmt: skip

    table = "\n".join([
        f"jitter_score, {args.split} split, {args.checkpoint or 'shipped default'} "
        f"{options or ''}",
        "",
        "| motions | n | median | mean | p95 | median / real median |",
        "|---|---:|---:|---:|---:|---:|",
        *rows(row, real, gen["raw"], gen["post"]),
        "",
        "shimmer of joints at rest (mm a frame; NaN: no joint at rest), the same motions",
        "",
        "| motions | n at rest | median | mean | p95 | median / real median |",
        "|---|---:|---:|---:|---:|---:|",
        *rows(shimmer_row, real_shimmer, gen["raw_shimmer"], gen["post_shimmer"]),
    ])  # fmt: skip
    if args.leak:
        table += "\n\n" + leak_table(pipe, prompts[0])
    report(table, {
        "checkpoint": args.checkpoint, "options": options, "split": args.split,
        "prompts": prompts, "seeds": args.seeds,
        "real_median": float(np.median(real)), "raw_median": float(np.median(gen["raw"])),
        "post_median": float(np.median(gen["post"])),
        "raw_over_real": float(np.median(gen["raw"]) / np.median(real)),
        "real_shimmer_median": float(np.nanmedian(real_shimmer)),
        "raw_shimmer_median": float(np.nanmedian(gen["raw_shimmer"])),
        "post_shimmer_median": float(np.nanmedian(gen["post_shimmer"])),
    }, args.out)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
