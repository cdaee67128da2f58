"""Do looped motions wrap without a pop? ``Motion.looped`` against playing the whole motion.

Run:  .venv/bin/python benchmarks/loop.py [--seeds 4] [--seconds 6] [--out FILE]
          [--video FILE.mp4]

For a few prompts an engine would loop (walk, run, walk backwards, a jog on the spot, waving,
a dance), the shipped default makes ``--seeds`` motions of ``--seconds``. Each is played as a
loop twice: whole, and as ``Motion.looped`` cut it. The wrap's jump is the change of the
body-frame velocity from the step into the wrap to the step out of it (mean over joints, m/s;
``motiongen.loop.wrap_jump``, travel and facing taken out as an engine's root motion does),
against the same change at every frame inside the motion (median, 95th percentile): a
seamless loop wraps like any other frame. Also: the loop's length, how far its ends had to be
bent, the turn per repeat taken out, and the foot skating of the loop against the whole
motion (the bend moves planted feet a little). ``--video``: the first prompt's loop, without its
travel, played three times.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

PROMPTS = (
    "a person walks forward",
    "a person runs",
    "a person walks backwards",
    "a person jogs in place",
    "a person waves with both hands",
    "a person dances the cha-cha",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    parser.add_argument(
        "--video", type=Path, default=None, help="the first loop, played 3 times (.mp4, .gif)"
    )
    args = parser.parse_args(argv)

    from motiongen.artifacts import foot_skating_ratio
    from motiongen.loop import wrap_jump
    from motiongen.motion import Motion
    from motiongen.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(None)
    rows: dict[str, dict[str, float]] = {}
    shown = None
    for prompt in PROMPTS:
        found: dict[str, list[float]] = {}
        for seed in range(args.seeds):
            m = pipe.generate(prompt, seconds=args.seconds, seed=seed)[0]
            loop = m.looped()
            whole, inside = wrap_jump(m.positions, m.fps)
            cut, _ = wrap_jump(loop.positions, loop.fps, closed=True)
            info = loop.meta["loop"]
            for key, value in (
                ("whole_wrap", whole), ("loop_wrap", cut),
                ("inside_median", float(np.median(inside))),
                ("inside_p95", float(np.percentile(inside, 95))),
                ("loop_seconds", info["seconds"]), ("pose_gap_cm", 100 * info["pose_gap_m"]),
                ("turn_deg", abs(info["turn_deg"]) if info["turn_taken_out"] else 0.0),
                ("skating_whole", foot_skating_ratio(m.positions, m.fps)),
                ("skating_loop", foot_skating_ratio(loop.positions, loop.fps)),
            ):  # fmt: skip
                found.setdefault(key, []).append(value)
            if shown is None:
                shown = loop.without_travel()
        rows[prompt] = {k: float(np.mean(v)) for k, v in found.items()}
    lines = [
        f"shipped default, {args.seeds} seeds x {args.seconds:g} s per prompt (means); wrap "
        "jump: change of body-frame velocity at the wrap, m/s",
        "",
        "| prompt | wrap jump, whole motion | wrap jump, looped | inside: median / p95 | "
        "loop (s) | ends bent (cm) | turn taken out (°) | foot skating whole / loop |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for prompt, r in rows.items():
        lines.append(
            f"| {prompt} | {r['whole_wrap']:.2f} | **{r['loop_wrap']:.2f}** | "
            f"{r['inside_median']:.2f} / {r['inside_p95']:.2f} | {r['loop_seconds']:.1f} | "
            f"{r['pose_gap_cm']:.1f} | {r['turn_deg']:.1f} | {r['skating_whole']:.3f} / "
            f"{r['skating_loop']:.3f} |"
        )
    report("\n".join(lines), {"settings": vars(args) | {"out": str(args.out),
                                                        "video": str(args.video)}, "rows": rows},
           args.out)  # fmt: skip
    if args.video is not None and shown is not None:
        thrice = np.concatenate([shown.positions[:-1]] * 3)  # closed: its last frame is its first
        Motion(positions=thrice, fps=shown.fps).save(args.video, title=f"{PROMPTS[0]}, looped x3")
    return 0


if __name__ == "__main__":
    run_cli(main)
