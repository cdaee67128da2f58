"""``motiongen stick train | classifier``: the stick-native model family (``stickgen``) and
the stick-space label classifier that judges it (``stickgen.evaluate``)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import loss_progress, out
from motiongen.errors import InputError

stick_app = typer.Typer(help="Stick-native models: train them and their judge.",
                        no_args_is_help=True)  # fmt: skip


@stick_app.command("train")
def train(
    output: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the model to.")],
    stage: Annotated[str, typer.Option(help="pretrain | sft | lora")] = "pretrain",
    size: Annotated[
        str | None,
        typer.Option(
            help="tiny | small | medium | large (pretrain: small; "
            "sft/lora: the --init-from model's)"
        ),
    ] = None,  # fmt: skip
    init_from: Annotated[
        Path | None, typer.Option(help="The stick model to refine (sft, lora).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 3000,
    lr: Annotated[
        float | None, typer.Option(help="Peak learning rate (3e-4 pretrain, 1e-4 sft/lora).")
    ] = None,  # fmt: skip
    batch_size: Annotated[int, typer.Option(help="Windows per step.")] = 32,
    warmup: Annotated[int, typer.Option(help="Learning-rate warm-up steps.")] = 200,
    lora_source: Annotated[
        str, typer.Option(help="lora: the data source adapted to.")
    ] = "bandai-1",
    threads: Annotated[int, typer.Option(help="torch threads.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    resume: Annotated[
        bool, typer.Option(help="Continue the run saved in --out (same options).")
    ] = False,
    save_every: Annotated[int, typer.Option(help="Save the resumable state every N steps.")] = 50,
) -> None:
    """Train a stick-native text-to-stick model on the real data seen as stick figures.

    The run's state is saved in --out every --save-every steps; after a stop, the same command
    with --resume continues where it was."""
    import torch

    from motiongen.data.prepare import prepare
    from motiongen.stickgen.model import WEIGHTS_NAME, StickGen
    from motiongen.stickgen.training import STATE_NAME, StickTrainConfig, train_stick

    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if save_every < 1:
        raise InputError(f"--save-every must be at least 1, got {save_every}")
    state_path = Path(output) / STATE_NAME
    finished = not state_path.exists() and (Path(output) / WEIGHTS_NAME).exists()
    if finished and resume:
        out.print(f"{output} holds a finished stick model: nothing to resume", highlight=False)
        return
    if finished or (state_path.exists() and not resume):
        what = "a finished stick model" if finished else "an unfinished stick training run"
        hint = "" if finished else "pass --resume to continue it, "
        raise InputError(f"{output} already holds {what}; {hint}choose another --out, or "
                         f"delete the folder to train it again")  # fmt: skip
    if resume and not state_path.exists():
        out.print(f"no saved run in {output}: starting from step 0", highlight=False)
    torch.set_num_threads(threads)
    init = StickGen.load(init_from) if init_from is not None else None
    size = size or (init.size if init is not None else "small")
    cfg = StickTrainConfig(
        stage=stage, size=size, steps=steps, batch_size=batch_size, seed=seed, warmup=warmup,
        lr=lr if lr is not None else (3e-4 if stage == "pretrain" else 1e-4),
        lora_source=lora_source,
    )  # fmt: skip
    data = prepare().data
    with loss_progress(f"training the stick model ({stage})", steps) as progress:
        Path(output).mkdir(parents=True, exist_ok=True)
        model, report = train_stick(data, cfg, init=init, progress=progress,
                                    state_path=state_path, save_every=save_every)  # fmt: skip
    model.info["stages"][-1]["command"] = shlex.join(["motiongen", *sys.argv[1:]])
    model.save(output)
    (Path(output) / f"report_{stage}.json").write_text(json.dumps(report, indent=2))
    state_path.unlink(missing_ok=True)  # hundreds of MB for the large model; the run is done
    out.print(
        f"{stage}: val loss {report['val_loss_start']:.4f} -> {report['val_loss']:.4f} in "
        f"{report['minutes']} min ({model.num_params() / 1e6:.2f} M parameters, "
        f"{report['trained_params'] / 1e6:.2f} M trained) -> {output}", highlight=False,
    )  # fmt: skip


@stick_app.command("classifier")
def classifier(
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder (default: the shipped one).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 1500,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the stick-space label classifier (content and style from the 22 stick numbers)
    and report its accuracy on the test split's real clips."""
    import torch

    from motiongen.data.prepare import prepare
    from motiongen.evaluators.labels import content_label, style_label
    from motiongen.stickgen.evaluate import (
        CLASSIFIER_DIR,
        stick_clip_features,
        train_stick_classifier,
    )

    torch.set_num_threads(threads)
    data = prepare().data
    with loss_progress("training the stick classifier", steps) as progress:
        clf = train_stick_classifier(data, steps=steps, seed=seed, progress=progress)
    test = stick_clip_features(data, "test")
    pred = clf.predict([f for _, f, _ in test])
    content = [content_label(r.labels) for r, _, _ in test]
    style = [style_label(r.labels) for r, _, _ in test]
    acc_c = sum(p == w for p, w in zip(pred.content, content, strict=True)) / len(test)
    scored = [(p, w) for p, w in zip(pred.style, style, strict=True) if w]
    acc_s = sum(p == w for p, w in scored) / max(len(scored), 1)
    clf.info["test"] = {"content": round(acc_c, 4), "style": round(acc_s, 4), "clips": len(test)}
    clf.info["command"] = shlex.join(["motiongen", *sys.argv[1:]])
    folder = clf.save(output or CLASSIFIER_DIR)
    out.print(f"stick classifier: test content {100 * acc_c:.1f} %, style {100 * acc_s:.1f} % "
              f"({len(test)} clips) -> {folder}", highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(stick_app, name="stick")
