"""The command line shared by the evaluators' trainers (`python -m motiongen.eval.classifier`,
`python -m motiongen.eval.text_motion_train`): arguments, progress bar, provenance, save."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# run(data, steps, batch_size, seed, progress) -> (the trained artifact with .info and
# .save(path), a result with .seconds, .losses and .metrics)
RunFn = Callable[[Any, int, int, int, Callable[[int, int, float], None]], tuple[Any, Any]]


def train_main(
    argv: Sequence[str] | None,
    *,
    module: str,
    what: str,
    default_out: Path,
    steps: int,
    batch_size: int,
    run: RunFn,
) -> int:
    """Train on the prepared real data and save to --out, recording the command in the
    artifact's info."""
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from motiongen.data.prepare import prepare

    parser = argparse.ArgumentParser(
        description=f"`python -m {module} --out DIR`: train the {what} on the prepared data."
    )
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=None, help="data dir (default: shared)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = prepare(args.data).data
    with Progress(
        TextColumn(f"training {what}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} loss {task.fields[loss]:.3f}"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("train", total=args.steps, loss=float("nan"))
        artifact, result = run(
            data,
            args.steps,
            args.batch_size,
            args.seed,
            lambda s, _t, loss: bar.update(task, completed=s, loss=loss),
        )
    artifact.info["train"]["command"] = (f"python -m {module} " + " ".join(argv or [])).strip()
    artifact.info["train"]["threads"] = args.threads
    artifact.info["losses"] = [round(v, 4) for v in result.losses]
    artifact.save(args.out)
    console = Console()
    console.print(f"saved to {args.out} in {result.seconds:.0f} s")
    for split, m in result.metrics.items():
        console.print(f"{split}: {json.dumps(m)}")
    return 0
