"""Locomotion pace: do generated walks and runs move as fast as the real clips they stand for?

    python benchmarks/locomotion_pace.py [--split val] [--variant NAME=CHECKPOINT[@GUIDANCE] ...]
        [--seed 0] [--threads 2] [--out FILE]

Every variant generates the split's evaluation conditions (``motiongen eval``'s: same texts,
lengths and seeds, post-processing on, the default's retrieval) and each motion is compared
with the real window of its own condition:
- pace: mean pelvis speed along the floor (``eval.contracts.ground_speed``), generated / real,
  median over the walk and run conditions (contents starting with "walk" or "run");
- kinetic energy: the sum of the AIST++ kinetic features (``eval.kinetic``), generated / real,
  median over locomotion and over the other conditions without music;
- arm pace: the faster wrist's speed about the pelvis, its path smoothed over 0.05 s so a
  shake does not count (``eval.contracts.wrist_speed``), generated / real, median over the
  wave conditions and over the raises;
- FID_k as ``motiongen eval`` computes it, and again with the locomotion conditions' motions
  swapped for their real windows: how much of FID_k's gap to the real row is locomotion.

Found with it (2026-12-04): on test, tiny-flow-rollout-r3's walks move at 0.77 and runs at
0.83 of their clips' pace, and swapping them for the real windows takes FID_k from 10.5 to
3.3 (the real row: 3.15).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402
from motiongen.errors import InputError  # noqa: E402
from motiongen.eval.contracts import ground_speed, wrist_speed  # noqa: E402


def is_locomotion(key: str) -> bool:
    content = key.split("|")[0]
    return content.startswith("walk") or content.startswith("run")


def parse_variant(text: str) -> tuple[str, str, float | None]:
    """NAME=CHECKPOINT[@GUIDANCE] -> (name, checkpoint, guidance or None)."""
    name, sep, rest = text.partition("=")
    if not sep or not name or not rest:
        raise InputError(f"--variant must look like NAME=CHECKPOINT[@GUIDANCE], got {text!r}")
    checkpoint, at, scale = rest.partition("@")
    try:
        guidance = float(scale) if at else None
    except ValueError:
        raise InputError(f"--variant {text!r}: the guidance after @ must be a number") from None
    return name, checkpoint, guidance


def kinetic(motions: list[Any]) -> np.ndarray:
    from motiongen.eval.kinetic import kinetic_features

    return np.stack([kinetic_features(m.positions, m.fps) for m in motions])


def measure(motions: list[Any], real: list[Any], kin_real: np.ndarray, keys: list[str],
            music: list[bool], reference: np.ndarray) -> dict[str, Any]:  # fmt: skip
    """Pace and kinetic-energy ratios against each condition's real window, and FID_k.
    kin_real: ``kinetic(real)``, computed once for all variants."""
    from motiongen.eval import distribution as D

    kin = kinetic(motions)
    loco = np.array([is_locomotion(k) for k in keys])
    runs = np.array([k.startswith("run") for k in keys])
    still = ~loco & ~np.asarray(music)
    pace = np.array(
        [ground_speed(g.positions, g.fps) / max(ground_speed(r.positions, r.fps), 1e-6)
         for g, r in zip(motions, real, strict=True)]
    )  # fmt: skip
    energy = kin.sum(1) / np.maximum(kin_real.sum(1), 1e-9)
    contents = [k.split("|")[0] for k in keys]
    waves = np.array([c.startswith("wave") for c in contents])
    raises = np.array([c.startswith("raise") for c in contents])
    arms = np.array(
        [wrist_speed(g.positions, g.fps) / max(wrist_speed(r.positions, r.fps), 1e-6)
         for g, r in zip(motions, real, strict=True)]
    )  # fmt: skip
    swapped = kin.copy()
    swapped[loco] = kin_real[loco]
    return {
        "walk_pace": float(np.median(pace[loco & ~runs])) if (loco & ~runs).any() else None,
        "run_pace": float(np.median(pace[runs])) if runs.any() else None,
        "locomotion_energy": float(np.median(energy[loco])) if loco.any() else None,
        "in_place_energy": float(np.median(energy[still])) if still.any() else None,
        "wave_arm_pace": float(np.median(arms[waves])) if waves.any() else None,
        "raise_arm_pace": float(np.median(arms[raises])) if raises.any() else None,
        "fid_k": D.normalised_frechet(reference, kin),
        "fid_k_locomotion_real": D.normalised_frechet(reference, swapped),
        "conditions": {
            "locomotion": int(loco.sum()),
            "in_place": int(still.sum()),
            "waves": int(waves.sum()),
            "raises": int(raises.sum()),
        },  # fmt: skip
    }


def markdown(result: dict[str, Any]) -> str:
    def f(v: float | None, digits: int = 3) -> str:
        return "–" if v is None else f"{v:.{digits}f}"

    lines = [
        f"Split {result['split']}, {result['conditions']['locomotion']} walk and run conditions, "
        f"{result['conditions']['in_place']} others without music (waves "
        f"{result['conditions']['waves']}, raises {result['conditions']['raises']}); real row FID_k "
        f"{result['real_fid_k']:.2f}.",
        "",
        "| variant | walk pace, gen / real | run pace, gen / real | kinetic energy, locomotion "
        "| kinetic energy, others | wrist pace, waves | wrist pace, raises | FID_k "
        "| FID_k, locomotion swapped for real |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in result["variants"].items():
        lines.append(
            f"| {name} | {f(r['walk_pace'])} | {f(r['run_pace'])} | {f(r['locomotion_energy'])} "
            f"| {f(r['in_place_energy'])} | {f(r['wave_arm_pace'])} | {f(r['raise_arm_pace'])} "
            f"| {f(r['fid_k'], 2)} | {f(r['fid_k_locomotion_real'], 2)} |"
        )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="val")
    ap.add_argument("--variant", action="append", default=None,
                    help="NAME=CHECKPOINT[@GUIDANCE]; repeat to compare (default: the shipped "
                    "model at its guidance)")  # fmt: skip
    ap.add_argument("--seed", type=int, default=0, help="seed of condition 0 (i: seed + i)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = ap.parse_args()

    import torch

    from motiongen.cli.console import progress_bar
    from motiongen.data.prepare import prepare
    from motiongen.eval.evaluator import (
        Reference,
        generate_set,
        pipeline_generate_fn,
        split_conditions,
    )
    from motiongen.evaluators.text_motion import TextMotionEvaluator
    from motiongen.paths import DEFAULT_MODEL, cache_dir
    from motiongen.pipeline import Pipeline

    if args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    variants = [parse_variant(v) for v in args.variant or [f"default={DEFAULT_MODEL}"]]
    data = prepare().data
    conditions, real = split_conditions(data, args.split)
    reference = Reference.build(data, TextMotionEvaluator.from_pretrained(None),
                                cache=cache_dir() / "eval").kinetic  # fmt: skip
    keys = [c.key for c in conditions]
    music = [c.music is not None for c in conditions]
    kin_real = kinetic(real)
    result: dict[str, Any] = {"split": args.split, "seed": args.seed, "variants": {}}
    pipes: dict[str, Any] = {}
    with progress_bar() as bar:
        for name, checkpoint, guidance in variants:
            pipe = pipes.setdefault(checkpoint, Pipeline.from_pretrained(checkpoint))
            task = bar.add_task(name, total=len(conditions))
            motions, _ = generate_set(
                pipeline_generate_fn(pipe, guidance=guidance),
                conditions,
                seed=args.seed,
                progress=lambda i, n, task=task: bar.update(task, completed=i),
            )
            row = measure(motions, real, kin_real, keys, music, reference)
            row["checkpoint"] = checkpoint
            row["guidance"] = pipe.default_guidance if guidance is None else guidance
            result["variants"][name] = row
    from motiongen.eval import distribution as D

    result["real_fid_k"] = D.normalised_frechet(reference, kin_real)
    result["conditions"] = next(iter(result["variants"].values()))["conditions"]
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
