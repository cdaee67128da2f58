"""Where generated walks and runs skate: swing-foot clearance and post-processing, against real.

Run:  .venv/bin/python benchmarks/foot_clearance.py [--checkpoint tiny-flow tiny-flow-smooth] [--split val]
      [--threads 1] [--out FILE]

For the text conditions of the split whose labels say walk or run (one window per clip, as
``motiongen eval``), each checkpoint generates the motion once (seed = condition index) and the
real window stands beside it. Columns, per motion then averaged:
- skating: ``artifacts.foot_skating_ratio`` (toe under 5 cm in two frames and faster than
  0.5 m/s), of the raw network output and of what users get (post-processing on: the same
  seed gives the same raw motion);
- toe p90 height: the 90th percentile of each toe's height (how high the swing lifts it);
- low & fast: share of frame pairs with a toe under 5 cm moving faster than 1.5 m/s (a foot
  skimming the floor in swing; nobody plants a foot moving that fast).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402


def toe_stats(positions: np.ndarray, fps: float) -> dict[str, float]:
    from motiongen.skeleton import LEFT_FOOT, RIGHT_FOOT

    toes = positions[:, [LEFT_FOOT, RIGHT_FOOT]].astype(np.float64)
    height = toes[..., 1]
    speed = np.linalg.norm(np.diff(toes[..., [0, 2]], axis=0), axis=-1) * fps
    low = (height[1:] < 0.05) & (height[:-1] < 0.05)
    return {
        "toe_p90_height": float(np.mean([np.percentile(height[:, k], 90) for k in range(2)])),
        "low_and_fast": float((low & (speed > 1.5)).any(axis=1).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", nargs="+", default=["tiny-flow"])
    parser.add_argument("--split", default="val")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from motiongen.artifacts import foot_skating_ratio
    from motiongen.data.prepare import prepare
    from motiongen.eval.evaluator import split_conditions
    from motiongen.pipeline import Pipeline

    conditions, real = split_conditions(prepare().data, args.split)
    gait = re.compile(r"\b(walk|run)")  # the content label: walk, walk_backward, run ...
    chosen = [(c, r) for c, r in zip(conditions, real, strict=True)
              if c.music is None and gait.match(c.key.split("|")[0])]  # fmt: skip
    if not chosen:
        raise SystemExit(f"error: no walk or run clips in the {args.split} split")
    rows: dict[str, list[dict[str, float]]] = {"real clips": []}
    for _, r in chosen:
        rows["real clips"].append({"skating_real": foot_skating_ratio(r.positions, r.fps),
                                   **toe_stats(r.positions, r.fps)})  # fmt: skip
    for name in args.checkpoint:
        pipe = Pipeline.from_pretrained(name)
        out = rows.setdefault(name, [])
        for i, (c, _) in enumerate(chosen):
            raw = pipe.generate(text=c.text, seconds=c.seconds, seed=i, postprocess=False)[0]
            post = pipe.generate(text=c.text, seconds=c.seconds, seed=i)[0]
            out.append({
                "skating_raw": foot_skating_ratio(raw.positions, raw.fps),
                "skating_post": foot_skating_ratio(post.positions, post.fps),
                **toe_stats(post.positions, post.fps),
            })  # fmt: skip
    keys = ("skating_raw", "skating_post", "skating_real", "toe_p90_height", "low_and_fast")
    table = {n: {k: float(np.mean([r[k] for r in rs])) for k in keys if k in rs[0]}
             for n, rs in rows.items()}  # fmt: skip
    lines = [
        f"{len(chosen)} walk/run text conditions of the {args.split} split, one motion each",
        "",
        "| motions | skating: raw output | skating: post-processed (real: as captured) | "
        "toe p90 height (m) | low & fast toe |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, t in table.items():

        def cell(k: str, fmt: str, t: dict = t) -> str:
            return format(t[k], fmt) if k in t else "–"

        post = cell("skating_post", ".3f") if "skating_post" in t else cell("skating_real", ".3f")
        lines.append(f"| {n} | {cell('skating_raw', '.3f')} | {post} | "
                     f"{cell('toe_p90_height', '.3f')} | {100 * t['low_and_fast']:.1f} % |")  # fmt: skip
    text = "\n".join(lines)
    report(text, table, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
