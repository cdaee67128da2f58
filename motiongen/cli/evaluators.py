"""``motiongen evaluator train classifier|text-motion``: train a learned evaluator on the
prepared real data, measure it on real clips and save it with the command that made it."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from motiongen.cli.console import loss_progress, out
from motiongen.errors import InputError

evaluator_app = typer.Typer(help="Train the learned evaluators.", no_args_is_help=True)
KINDS = ("classifier", "text-motion")


@evaluator_app.command("train")
def train(
    kind: Annotated[str, typer.Argument(help="classifier or text-motion.")],
    output: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Folder to write (required: `eval --evaluator DIR` uses it; the shipped one is "
            "replaced only when named, as docs/benchmarks.md does to re-make it).",
        ),
    ],
    steps: Annotated[int | None, typer.Option(help="Optimiser steps.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Clips per batch.")] = None,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    data: Annotated[Path | None, typer.Option(help="Data directory (default: shared).")] = None,
) -> None:
    """Train on the train split; report accuracy / retrieval on val and test."""
    import torch

    from motiongen.data.prepare import prepare

    if kind not in KINDS:
        raise InputError(f"unknown evaluator {kind!r}; choose one of {', '.join(KINDS)}")
    for name, value in (("--steps", steps), ("--batch-size", batch_size)):
        if value is not None and value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    torch.set_num_threads(threads)
    prepared = prepare(data).data
    with loss_progress(f"training {kind}", steps or 0) as progress:
        artifact, result, metrics = _train(kind, prepared, steps, batch_size, seed, progress)
    info: dict[str, Any] = artifact.info
    info["train"]["command"] = shlex.join(["motiongen", *sys.argv[1:]])
    info["train"]["threads"] = threads
    info["losses"] = [round(v, 4) for v in result.losses]
    info["metrics"] = {split: metrics(artifact, prepared, split) for split in ("val", "test")}
    artifact.save(output)
    out.print(f"saved to {output} in {result.seconds:.0f} s")
    for split, m in info["metrics"].items():
        out.print(f"{split}: {json.dumps(m)}", soft_wrap=True, highlight=False)


def _train(kind: str, data: Any, steps: int | None, batch_size: int | None, seed: int,
           progress: Any) -> tuple[Any, Any, Any]:  # fmt: skip
    """(trained artifact, training result, its real-data measure) for one kind."""
    from motiongen.eval.evaluator_quality import classifier_accuracy, retrieval_on_real

    overrides = {k: v for k, v in (("steps", steps), ("batch_size", batch_size)) if v is not None}
    if kind == "classifier":
        from motiongen.evaluators.classifier.train import ClassifierTrainConfig, train_classifier

        cfg = ClassifierTrainConfig(seed=seed, **overrides)
        result = train_classifier(data, cfg, progress=progress)
        return result.classifier, result, classifier_accuracy
    from motiongen.evaluators.text_motion.train import TextMotionTrainConfig, train_text_motion

    tcfg = TextMotionTrainConfig(seed=seed, **overrides)
    result = train_text_motion(data, tcfg, progress=progress)
    return result.evaluator, result, retrieval_on_real


def register(app: typer.Typer) -> None:
    app.add_typer(evaluator_app, name="evaluator")
