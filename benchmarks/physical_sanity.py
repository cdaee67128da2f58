"""Are generated motions physically sane out of the box? Generated vs real held-out clips.

For a set of prompts (the test split's label descriptions plus free prompts), generate with the
shipped model (post-processing on, as users get it) and report, beside the same numbers for
real test-split clips at 20 fps: sanity pass rate (motiongen.eval.sanity), foot skating ratio,
ground penetration, floating, bone-length drift, root drift (horizontal root travel) and total
unrequested turning (absolute heading change) for prompts that ask for neither walking nor
turning.

    python benchmarks/physical_sanity.py [--checkpoint DIR] [--n-prompts 40] [--seeds 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from motiongen.canonical import heading
from motiongen.data.prepare import prepare
from motiongen.eval.physics import physics_report
from motiongen.eval.sanity import SanityChecker
from motiongen.pipeline import Pipeline

FREE_PROMPTS = [
    "a person waves with both hands happily",
    "a person bows politely",
    "someone raises the right hand",
    "a person kicks with the left leg",
    "a person stands still and looks around",
]
MOVING = ("walk", "run", "dash", "turn", "dance", "step", "jog", "sprint")


def motion_numbers(positions: np.ndarray, fps: float) -> dict[str, float]:
    phys = physics_report(positions, fps)
    root = positions[:, 0, [0, 2]]
    head = np.unwrap(heading(positions))
    return {
        "foot_skating_ratio": phys["foot_skating_ratio"],
        "penetration_m": phys["ground_penetration_m"],
        "floating_m": phys["floating_m"],
        "bone_drift": phys["bone_length_drift"],
        "root_travel_m": float(np.linalg.norm(np.diff(root, axis=0), axis=-1).sum()),
        "turning_deg": float(np.degrees(np.abs(np.diff(head)).sum())),
    }


def summarise(rows: list[dict], passed: list[bool]) -> dict[str, float]:
    out = {"n": len(rows), "sanity_pass_rate": float(np.mean(passed))}
    for key in rows[0]:
        out[key] = float(np.median([r[key] for r in rows]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None, help="checkpoint folder (default: shipped)")
    ap.add_argument("--n-prompts", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=6.5)
    ap.add_argument("--json", type=Path, default=None, help="write the table as JSON")
    args = ap.parse_args()

    data = prepare().data
    checker = SanityChecker()
    test = [c for c in data.select(split="test") if c.source != "dance"]
    prompts = sorted({c.texts[0] for c in test})[: args.n_prompts - len(FREE_PROMPTS)]
    prompts += FREE_PROMPTS

    pipe = Pipeline.from_pretrained(args.checkpoint)
    gen_rows, gen_pass, still_rows = [], [], []
    for prompt in track(prompts, description="generating"):
        for seed in range(args.seeds):
            m = pipe(text=prompt, seconds=args.seconds, seed=seed)
            nums = motion_numbers(m.positions, m.fps)
            gen_rows.append(nums)
            gen_pass.append(checker.check(m).passed)
            if not any(w in prompt for w in MOVING):
                still_rows.append(nums)

    real_rows, real_pass, real_still = [], [], []
    for c in track(test, description="real test clips"):
        m = data.motion(c).resample(20.0)
        nums = motion_numbers(m.positions, m.fps)
        real_rows.append(nums)
        real_pass.append(checker.check(m).passed)
        if not any(w in c.labels.get("content", "") for w in MOVING):
            real_still.append(nums)

    gen, real = summarise(gen_rows, gen_pass), summarise(real_rows, real_pass)
    gen_still = summarise(still_rows, [True] * len(still_rows))
    real_still_s = summarise(real_still, [True] * len(real_still))
    table = Table(title=f"physical sanity: {pipe.name} vs real test clips (medians)")
    for col in ("metric", "generated", "real", "generated, in-place prompts", "real, in-place"):
        table.add_column(col, justify="right")
    for key in gen:
        if key == "n" or key == "sanity_pass_rate":
            fmt = "{:.0f}" if key == "n" else "{:.3f}"
            table.add_row(key, fmt.format(gen[key]), fmt.format(real[key]), "", "")
        else:
            table.add_row(
                key,
                f"{gen[key]:.4f}",
                f"{real[key]:.4f}",
                f"{gen_still[key]:.4f}",
                f"{real_still_s[key]:.4f}",
            )
    Console().print(table)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "generated": gen,
                    "real": real,
                    "generated_in_place": gen_still,
                    "real_in_place": real_still_s,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
