"""How post-processing's foot lock treats generated and real motion, variant against variant.

Run:  .venv/bin/python benchmarks/foot_lock.py [--checkpoint NAME] [--seeds 4] [--seconds 6]
      [--real-every 12] [--out FILE]

Each prompt below is generated ``--seeds`` times (one batch, seed 0) and the exact input the
pipeline hands to clean-up (the network's positions, its predicted foot contacts, the body's
bone lengths) is recorded; every variant of step 4 (``fix_foot_sliding``) then cleans that
same input:
- one lock per contact: a guessed contact (toe low and slower than 1 m/s) held at the median
  of its run however far the toe travels (before 2026-12-04; predicted contacts were always
  kept whole, so for generated motion this row and the next differ only where a model's
  contact is missing);
- locks cut at 0.6 m: a guessed contact whose toe travels farther is cut into several locks
  (``MAX_LOCK_TRAVEL``), no following;
- shipped: the cut, and where both feet are planted the body follows their locks along the
  floor (``SUPPORT_SECONDS``). Since 2026-12-05 it also locks toes low and slower than 1 m/s that the network's contacts
  leave out (``add_guessed``), and step 2's bone fix re-solves the legs so toes near the floor
  stay where the network put them (``keep_toes``);
- shipped, no guessed contacts added: ``add_guessed=False``;
- shipped, neither (before 2026-12-05): that, and the bone fix keeping every bone's direction.
Columns, per motion then summarised: foot skating (``artifacts.foot_skating_ratio``), floating
(mean height of the lowest joint; the sanity checker fails 0.15 m), sanity pass rate,
"slant": the largest horizontal change step 4 made to the pelvis relative to the mean of the
two toes (against the same clean-up without step 4: the legs angled to reach feet pinned
elsewhere; following the feet is built to lower it, so it checks the mechanism, not the
benefit), root drift of the in-place prompts (``eval.contracts.root_drift``, median), and the
walks' and runs' pelvis path length and net displacement against the clean-up without step 4.
Real clips (every ``--real-every``-th prepared clip, guessed contacts) go through the same
variants: how far each moves capture that needs no fixing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cleanup_inputs import cleanup_inputs  # noqa: E402
from benchmarks.report import report, run_cli  # noqa: E402

IN_PLACE = ("a person bows", "a person waves with both hands", "a person raises the left hand",
            "a person raises both hands", "a person punches")  # fmt: skip
TRAVELLING = ("a person walks forward", "a person runs forward", "a person walks backwards",
              "a person walks in a circle")  # fmt: skip
OTHER = ("a person jumps", "a person kicks", "a person dances")
VARIANTS = {  # name -> postprocess options of step 4
    "one lock per contact": {"max_lock_travel": 1e9, "follow_support": None},
    "locks cut at 0.6 m": {"follow_support": None},
    "shipped (cut + following planted feet)": {},
    "shipped, no guessed contacts added": {"add_guessed": False},
    "shipped, neither (before 2026-12-05)": {"add_guessed": False, "keep_toes": False},
}
FPS = 20.0


def slant(before: np.ndarray, out: np.ndarray) -> float:
    """Largest horizontal change (m) of the pelvis relative to the mean of the toes."""
    from motiongen.skeleton import LEFT_FOOT, PELVIS, RIGHT_FOOT

    def over_feet(p: np.ndarray) -> np.ndarray:
        return p[:, PELVIS, [0, 2]] - p[:, [LEFT_FOOT, RIGHT_FOOT]][:, :, [0, 2]].mean(axis=1)

    return float(np.linalg.norm(over_feet(out) - over_feet(before), axis=-1).max())


def scores(before: np.ndarray, out: np.ndarray, fps: float, checker: Any) -> dict[str, float]:
    from motiongen.artifacts import floating_height, foot_skating_ratio

    return {
        "skating": foot_skating_ratio(out, fps),
        "floating": floating_height(out),
        "sanity": float(checker.check(out.astype(np.float32), fps).passed),
        "slant": slant(before, out),
    }


def generated(checkpoint: str | None, seeds: int, seconds: float) -> dict[str, list[Any]]:
    """Per prompt, the (positions, fps, options) the pipeline passed to clean-up."""
    from motiongen import Pipeline

    pipe = Pipeline.from_pretrained(checkpoint)
    out: dict[str, list[Any]] = {}
    prompts = IN_PLACE + TRAVELLING + OTHER
    for i, prompt in enumerate(prompts):
        print(f"[{i + 1}/{len(prompts)}] {prompt}", file=sys.stderr, flush=True)
        with cleanup_inputs() as calls:
            pipe.generate(prompt, seconds=seconds, seed=0, batch=seeds)
        out[prompt] = calls
    return out


def real_clips(every: int) -> list[np.ndarray]:
    from motiongen.data.prepare import prepare

    data = prepare().data
    clips = [data.motion(r).resample(FPS).positions for r in list(data.select())[::every]]
    return [c.astype(np.float64) for c in clips if len(c) >= 20]


def run(checkpoint: str | None, seeds: int, seconds: float, every: int) -> dict[str, Any]:
    from motiongen.eval.contracts import ground_speed, root_drift
    from motiongen.eval.sanity import SanityChecker
    from motiongen.postprocess import postprocess

    checker = SanityChecker()
    calls = generated(checkpoint, seeds, seconds)
    # Each input cleaned once without step 4, the reference every variant is measured against.
    inputs = []
    for prompt, recorded in calls.items():
        for p, fps, kw in recorded:
            kw = {k: v for k, v in kw.items() if k not in ("max_lock_travel", "follow_support")}
            inputs.append((prompt, p, fps, kw, postprocess(p, fps, feet=False, **kw)))
    reals = [(p, postprocess(p, FPS, feet=False)) for p in real_clips(every)]
    rows: dict[str, Any] = {}
    for name, options in VARIANTS.items():
        per: list[dict[str, float]] = []
        drift, paths, nets = [], [], []
        for prompt, p, fps, kw, before in inputs:
            out = postprocess(p, fps, **{**kw, **options})  # a variant overrides the pipeline
            per.append(scores(before, out, fps, checker))
            if prompt in IN_PLACE:
                drift.append(root_drift(out))
            if prompt in TRAVELLING:  # path length: the same frames at the mean ground speed
                paths.append(ground_speed(out, fps) / max(ground_speed(before, fps), 1e-9))
                nets.append(root_drift(out) / max(root_drift(before), 1e-9))
        moved, real_slant = [], []
        for p, before in reals:
            out = postprocess(p, FPS, **options)
            moved.append(float(np.median(np.linalg.norm(out - p, axis=-1))))
            real_slant.append(slant(before, out))
        slants = [s["slant"] for s in per]
        rows[name] = {
            "skating": float(np.mean([s["skating"] for s in per])),
            "floating": float(np.mean([s["floating"] for s in per])),
            "sanity": float(np.mean([s["sanity"] for s in per])),
            "slant_median": float(np.median(slants)),
            "slant_p95": float(np.percentile(slants, 95)),
            "in_place_drift": float(np.median(drift)),
            "path_ratio": float(np.median(paths)),
            "net_ratio_min": float(np.min(nets)),
            "net_ratio_median": float(np.median(nets)),
            "real_moved_cm": 100 * float(np.median(moved)),
            "real_slant_p95_cm": 100 * float(np.percentile(real_slant, 95)),
            "real_slant_max_cm": 100 * float(np.max(real_slant)),
        }
    raw_drift = [root_drift(p) for prompt in IN_PLACE for p, _, _ in calls[prompt]]
    return {"checkpoint": checkpoint or "shipped default", "seeds": seeds, "seconds": seconds,
            "motions": len(inputs), "real_clips": len(reals),
            "raw_in_place_drift": float(np.median(raw_drift)), "rows": rows}  # fmt: skip


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"{result['motions']} generated motions ({result['checkpoint']}, {len(IN_PLACE + TRAVELLING + OTHER)} "
        f"prompts x {result['seeds']} seeds, {result['seconds']:g} s) and {result['real_clips']} "
        f"real clips; in-place drift of the network's output {result['raw_in_place_drift']:.3f} m; "
        "paths and slant against the same clean-up without step 4.",
        "",
        "| step 4 variant | foot skating | floating (m) | sanity | slant median / p95 (m) "
        "| in-place drift (m) | walk/run path / net travel, median (min) | real: moved (cm) "
        "/ slant p95, max (cm) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in result["rows"].items():
        lines.append(
            f"| {name} | {r['skating']:.3f} | {r['floating']:.3f} | {100 * r['sanity']:.1f} % "
            f"| {r['slant_median']:.3f} / {r['slant_p95']:.3f} | {r['in_place_drift']:.3f} "
            f"| {r['path_ratio']:.3f} / {r['net_ratio_median']:.3f} ({r['net_ratio_min']:.3f}) "
            f"| {r['real_moved_cm']:.2f} / {r['real_slant_p95_cm']:.1f}, "
            f"{r['real_slant_max_cm']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="shipped name or folder")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--real-every", type=int, default=12, help="every N-th prepared clip")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args()
    result = run(args.checkpoint, args.seeds, args.seconds, args.real_every)
    command = "python benchmarks/foot_lock.py " + " ".join(sys.argv[1:])
    report(markdown(result, command.strip()), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
