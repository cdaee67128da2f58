"""How hard should the post-processing's leg IK straighten a leg, and how closely should the
bone fix keep the network's toes? Knee jerk and straightness.

Run:  .venv/bin/python benchmarks/leg_ik.py [--split val] [--seeds 3] [--seconds 4]
          [--soft 0 0.005 0.01 0.0125] [--toe-shift 0 0.05 0.1 0.2] [--out FILE]

For the plainest description of each of nine actions (walk, run, walk back, bow, kick, punch,
waves, raise both hands, bye), the shipped default makes ``--seeds`` raw motions (post-processing
off) once; every ``--soft`` value of ``postprocess.floor.SOFT_REACH`` (0: the ankle goes all
the way to a reachable target, the old hard limit) then cleans the same raw motions, and so
does every ``--toe-shift`` value of the bone fix's ``toe_shift_seconds`` (shipped:
``postprocess.bones.TOE_SHIFT_SIGMA_SECONDS``; 0: each
toe near the floor kept exactly where the network put it in every frame). Reported per
variant, against the split's real clips of those actions: the median and 95th percentile of
knee jerk (third difference x fps^3, m/s^3, every frame), the runs' own 95th percentile, the
median joint jerk over all joints, the 1st / 5th percentile of knee flexion (180 degrees less
the hip-knee-ankle angle; no real frame is straighter than a few degrees), and the walks' and
runs' foot skating.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

FPS = 20.0
ACTIONS = ("walk", "run", "walk-back", "bow", "kick", "punch", "wave-both-hands",
           "raise-up-both-hands", "byebye")  # fmt: skip
TRAVELLING = ("walk", "run", "walk-back")
LEGS = (("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle"))


def jerk(p: np.ndarray) -> np.ndarray:
    """(T - 3, J) joint jerk, m/s^3."""
    return np.linalg.norm(np.diff(p, n=3, axis=0), axis=-1) * FPS**3


def knee_flexion(p: np.ndarray) -> np.ndarray:
    """Knee flexion of both legs in every frame, degrees (0: straight)."""
    from motiongen.skeleton import JOINT_INDEX as J

    out = []
    for hip, knee, ankle in LEGS:
        u = p[:, J[hip]] - p[:, J[knee]]
        v = p[:, J[ankle]] - p[:, J[knee]]
        c = (u * v).sum(-1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
        out.append(180.0 - np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))
    return np.concatenate(out)


def summary(motions: dict[str, list[np.ndarray]]) -> dict[str, float]:
    from motiongen.artifacts import foot_skating_ratio
    from motiongen.skeleton import JOINT_INDEX as J

    every = [p for ps in motions.values() for p in ps]
    j = np.concatenate([jerk(p) for p in every])
    at_knees = [J[knee] for _, knee, _ in LEGS]
    knees = j[:, at_knees]
    runs = [jerk(p)[:, at_knees] for p in motions.get("run", [])]
    flex = np.concatenate([knee_flexion(p) for p in every])
    skating = [foot_skating_ratio(p, FPS) for a in TRAVELLING for p in motions.get(a, [])]
    return {
        "knee_jerk_median": float(np.median(knees)),
        "knee_jerk_p95": float(np.percentile(knees, 95)),
        "run_knee_jerk_p95": float(np.percentile(np.concatenate(runs), 95))
        if runs
        else float("nan"),
        "joint_jerk_median": float(np.median(j)),
        "knee_flexion_p1": float(np.percentile(flex, 1)),
        "knee_flexion_p5": float(np.percentile(flex, 5)),
        "walks_runs_skating": float(np.mean(skating)) if skating else float("nan"),
    }


def real_motions(split: str) -> dict[str, list[np.ndarray]]:
    from motiongen.data.prepare import prepare

    data = prepare().data
    out: dict[str, list[np.ndarray]] = {}
    for rec in data.select(split=split):
        if rec.labels.get("content") in ACTIONS and rec.labels.get("style"):
            out.setdefault(rec.labels["content"], []).append(
                data.motion(rec).resample(FPS).positions.astype(np.float64)
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="val", help="the real clips compared against")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--soft", type=float, nargs="+", default=[0.0, 0.005, 0.01, 0.0125],
                        help="SOFT_REACH values compared (0: the hard limit)")  # fmt: skip
    parser.add_argument("--toe-shift", type=float, nargs="+", default=[0.0, 0.05, 0.1, 0.2],
                        help="toe_shift_seconds values compared (0: toes exactly kept)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    import motiongen.postprocess.bones as bones
    import motiongen.postprocess.floor as floor
    from motiongen.data.text import describe
    from motiongen.pipeline import Pipeline
    from motiongen.postprocess import postprocess

    pipe = Pipeline.from_pretrained(None)
    raw: dict[str, list[np.ndarray]] = {}
    for a in ACTIONS:
        text = describe({"content": a, "style": "normal"})[0]
        raw[a] = [pipe.generate(text, seconds=args.seconds, seed=s, postprocess=False)[0]
                  .resample(FPS).positions.astype(np.float64) for s in range(args.seeds)]  # fmt: skip
    rows: dict[str, dict[str, float]] = {
        f"real {args.split} clips": summary(real_motions(args.split))
    }
    shipped = floor.SOFT_REACH, bones.TOE_SHIFT_SIGMA_SECONDS
    variants = [(soft, shipped[1]) for soft in args.soft]
    variants += [(shipped[0], shift) for shift in args.toe_shift if shift != shipped[1]]
    try:
        for soft, shift in variants:
            floor.SOFT_REACH = max(soft, 1e-9)
            cleaned = {a: [postprocess(p, FPS, toe_shift_seconds=shift) for p in ps]
                       for a, ps in raw.items()}  # fmt: skip
            name = f"SOFT_REACH {soft:g}, toe shift {shift:g} s"
            rows[name + (" (shipped)" if (soft, shift) == shipped else "")] = summary(cleaned)
    finally:
        floor.SOFT_REACH = shipped[0]
    lines = [
        f"{len(ACTIONS)} actions x {args.seeds} seeds, {args.seconds:g} s, the shipped default's "
        f"raw output post-processed each way; real: the {args.split} split's clips of those actions",
        "",
        "| variant | knee jerk median / p95 (m/s³) | runs' knee jerk p95 | joint jerk median "
        "| knee flexion p1 / p5 (°) | walks' and runs' foot skating |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {r['knee_jerk_median']:.1f} / {r['knee_jerk_p95']:.0f} | "
            f"{r['run_knee_jerk_p95']:.0f} | "
            f"{r['joint_jerk_median']:.1f} | {r['knee_flexion_p1']:.1f} / "
            f"{r['knee_flexion_p5']:.1f} | {r['walks_runs_skating']:.3f} |"
        )
    report("\n".join(lines), {"settings": vars(args) | {"out": str(args.out)}, "rows": rows},
           args.out)  # fmt: skip
    return 0


if __name__ == "__main__":
    run_cli(main)
