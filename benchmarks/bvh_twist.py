"""Do written BVH limbs snap about their bones? Each joint's largest turn between frames.

Run:  .venv/bin/python benchmarks/bvh_twist.py [--clips 60] [--inbetweens 12] [--out FILE]

A limb joint's rotation in a BVH is its bone's aim plus a twist about the bone that positions
do not say. Written two ways in one run: the smallest turn from the rest direction each frame
(before the forty-fifth session), and the twist carried on from frame to frame
(``io.bvh._steady_swing``, shipped). Motions: ``--clips`` test-split clips at their own rate,
and ``--inbetweens`` in-betweens by the control model with no text between three poses of a
test clip 3 s apart (where a game developer's trial found an elbow turning 105 degrees about
its forearm in one frame). Per motion, each joint's largest turn of its local rotation between
frames (degrees); the table: joints turning more than 30 / 45 degrees in a frame, the median
and 99th percentile of each motion's largest, the largest elbow turn; and how far the written
joints land from the motion's (both ways exact).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402


def largest_turns(motion) -> tuple[np.ndarray, list[str], float]:  # noqa: ANN001
    """(each joint's largest turn between frames of the written file (deg), the file's joint
    names, how far its joints land from the motion's (m))."""
    from motiongen.io.bvh import bvh_to_motion, motion_to_bvh_text, parse_bvh

    data = parse_bvh(motion_to_bvh_text(motion))
    rot, _ = data.local_transforms()
    step = np.einsum("tjab,tjac->tjbc", rot[:-1], rot[1:])
    cos = (np.trace(step, axis1=-2, axis2=-1) - 1.0) / 2.0
    turns = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).max(axis=0)
    miss = float(np.abs(bvh_to_motion(data).positions - motion.positions).max())
    return turns, list(data.joint_names), miss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--inbetweens", type=int, default=12)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.data.prepare import prepare
    from motiongen.io import bvh
    from motiongen.motion import Motion
    from motiongen.pipeline import Pipeline

    data = prepare(None).data
    records = [r for r in data.select(split="test") if data.motion(r).seconds >= 6.5]
    motions = [data.motion(r) for r in records[: args.clips]]
    control = Pipeline.from_pretrained("tiny-control")
    for k, rec in enumerate(records[: args.inbetweens]):
        clip = data.motion(rec).resample(control.fps).positions
        poses = [Motion(positions=clip[i : i + 1], fps=control.fps) for i in (0, 60, 120)]
        motions.append(control.inbetween(poses, [0.0, 3.0, 6.0], seed=k))
    kinds = ["clip"] * min(args.clips, len(records)) + ["in-between"] * (len(motions) - args.clips)
    steady = bvh._steady_swing
    ways = {"smallest turn each frame": bvh._swing, "twist carried on (shipped)": steady}
    rows, found = [], {}
    for way, swing in ways.items():
        bvh._steady_swing = swing  # the writer's single-child joints, one way or the other
        try:
            got = [largest_turns(m) for m in motions]
        finally:
            bvh._steady_swing = steady
        turns = np.stack([t for t, _, _ in got])
        names = got[0][1]
        elbows = [names.index(n) for n in ("left_elbow", "right_elbow")]
        largest = turns.max(axis=1)
        found[way] = {
            "over_30": int((turns > 30).sum()),
            "over_45": int((turns > 45).sum()),
            "median_largest": float(np.median(largest)),
            "p99_largest": float(np.percentile(largest, 99)),
            "elbow_largest": float(turns[:, elbows].max()),
            "in_between_largest": float(largest[np.array(kinds) == "in-between"].max())
            if "in-between" in kinds else None,
            "joints_missed_m": max(m for _, _, m in got),
        }  # fmt: skip
        f = found[way]
        rows.append(
            f"| {way} | {f['over_30']} / {f['over_45']} | {f['median_largest']:.1f} / "
            f"{f['p99_largest']:.1f} | {f['elbow_largest']:.1f} | {f['in_between_largest']:.1f} "
            f"| {f['joints_missed_m']:.1e} |"
        )
    text = "\n".join([
        f"{kinds.count('clip')} test clips and {kinds.count('in-between')} in-betweens "
        "(tiny-control, no text, three poses 3 s apart), written as BVH:",
        "",
        "| written with | joints turning > 30 / > 45 deg in a frame | largest turn per motion, "
        "median / p99 (deg) | largest elbow turn | largest in an in-between | joints off (m) |",
        "|---|---|---|---|---|---|",
        *rows,
    ])  # fmt: skip
    report(text, found, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
