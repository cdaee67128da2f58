"""``motiongen style train | list``: the style encoder of the STYLE task (``tasks.style``)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import loss_progress, out
from motiongen.errors import InputError

style_app = typer.Typer(help="The style encoder: train it, list its styles.", no_args_is_help=True)


@style_app.command("train")
def train(
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write (default: the shipped one).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 1500,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    data: Annotated[Path | None, typer.Option(help="Data directory (default: shared).")] = None,
) -> None:
    """Train contrastively on the train split's style labels; report how well the vectors
    tell styles apart on val and test."""
    import torch

    from motiongen.data.prepare import prepare
    from motiongen.tasks.style import DEFAULT_DIR
    from motiongen.tasks.style_training import (
        StyleTrainConfig,
        style_quality,
        train_style_encoder,
    )

    if steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}")
    torch.set_num_threads(threads)
    prepared = prepare(data).data
    with loss_progress("training the style encoder", steps) as progress:
        result = train_style_encoder(prepared, StyleTrainConfig(steps=steps, seed=seed),
                                     progress=progress)  # fmt: skip
    enc = result.encoder
    enc.info["train"] |= {"command": shlex.join(["motiongen", *sys.argv[1:]]), "threads": threads}
    enc.info["losses"] = [round(v, 4) for v in result.losses]
    enc.info["metrics"] = {s: style_quality(enc, prepared, s) for s in ("val", "test")}
    output = output or DEFAULT_DIR
    enc.save(output)
    out.print(f"saved to {output} in {result.seconds:.0f} s")
    for split, m in enc.info["metrics"].items():
        out.print(f"{split}: {json.dumps(m)}", soft_wrap=True, highlight=False)


@style_app.command("list")
def list_styles(
    encoder: Annotated[Path | None, typer.Option(help="Style encoder folder.")] = None,
) -> None:
    """The style names a control model can be asked for, and the other words it takes for
    them ("old" for elderly: the two Bandai sets' words for one style)."""
    from motiongen.evaluators.labels import STYLE_SYNONYMS
    from motiongen.tasks.style import StyleEncoder

    styles = StyleEncoder.from_pretrained(encoder).styles
    out.print(" ".join(styles), highlight=False, soft_wrap=True)
    also = [f"{w} ({s})" for w, s in STYLE_SYNONYMS.items() if s in styles and w not in styles]
    if also:
        out.print(f"also taken: {', '.join(also)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(style_app, name="style")
