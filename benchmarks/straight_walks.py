"""Do long walks go straight on? The slow veer of multi-window locomotion, as made and taken out.

Run:  .venv/bin/python benchmarks/straight_walks.py [--seconds 40] [--seeds 3] [--split test]
          [--out FILE]

A walk or a run longer than one window (about 10 s) is sampled window by window, and the
network veers the same way in each. For prompts that ask to go straight on, the shipped default
makes ``--seeds`` motions of ``--seconds`` twice, the same seeds: as the network made them
(``Pipeline._straightened`` switched off) and as shipped (their slow turning taken out,
``postprocess.turns.straightened``). Reported: the net turn from first to last frame (degrees
and degrees per second, means of absolute values), the path's largest distance from the
straight line between its ends, and foot skating; real walks and runs of ``--split`` give the
turn per second a real walker makes (their clips last 2-10 s).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

PROMPTS = ("a person walks forward", "a person runs", "a person walks backwards")


def turn_and_sway(positions: np.ndarray) -> tuple[float, float]:
    """(net turn first -> last frame in degrees, the pelvis path's largest distance in metres
    from the straight line between its ends)."""
    from motiongen.canonical import heading

    h = np.unwrap(heading(positions))
    q = positions[:, 0, [0, 2]].astype(np.float64)
    d = q[-1] - q[0]
    normal = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-9)
    return float(np.degrees(h[-1] - h[0])), float(np.abs((q - q[0]) @ normal).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--split", default="test", help="the real walks and runs compared")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.artifacts import foot_skating_ratio
    from motiongen.data.prepare import prepare
    from motiongen.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(None)
    shipped = Pipeline._straightened
    rows: dict[str, dict[str, float]] = {}
    for prompt in PROMPTS:
        for way in ("as made", "shipped"):
            Pipeline._straightened = shipped if way == "shipped" else lambda *a: []  # type: ignore[method-assign]
            try:
                made = [pipe.generate(prompt, seconds=args.seconds, seed=s)[0]
                        for s in range(args.seeds)]  # fmt: skip
            finally:
                Pipeline._straightened = shipped  # type: ignore[method-assign]
            turns, sways = zip(*(turn_and_sway(m.positions) for m in made), strict=True)
            rows[f"{prompt}, {way}"] = {
                "turn_deg": float(np.mean(np.abs(turns))),
                "turn_deg_per_s": float(np.mean(np.abs(turns)) / args.seconds),
                "sway_m": float(np.mean(sways)),
                "skating": float(np.mean([foot_skating_ratio(m.positions, m.fps) for m in made])),
            }
    data = prepare().data
    real = []
    for rec in data.select(split=args.split):
        if rec.labels.get("content") in ("walk", "run", "walk-back"):
            m = data.motion(rec).resample(20.0)
            real.append(abs(turn_and_sway(m.positions)[0]) / m.seconds)
    lines = [
        f"shipped default, {args.seeds} seeds x {args.seconds:g} s per prompt (means); real: "
        f"{len(real)} {args.split} walks, runs and backward walks, turn per second median "
        f"{np.median(real):.2f}, 90th percentile {np.percentile(real, 90):.2f} deg/s",
        "",
        "| prompt | net turn (°) | per second (°/s) | path's largest distance from a straight line (m) | foot skating |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['turn_deg']:.1f} | {r['turn_deg_per_s']:.2f} | "
                     f"{r['sway_m']:.2f} | {r['skating']:.3f} |")  # fmt: skip
    result = {"settings": vars(args) | {"out": str(args.out)}, "rows": rows,
              "real_turn_deg_per_s_median": float(np.median(real)),
              "real_turn_deg_per_s_p90": float(np.percentile(real, 90))}  # fmt: skip
    report("\n".join(lines), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
