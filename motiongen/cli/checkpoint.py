"""``motiongen checkpoint info | upgrade``: look inside a checkpoint folder, or rewrite an
older config in the current format (once; the weights are not touched)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import out

checkpoint_app = typer.Typer(help="Inspect and upgrade checkpoints.", no_args_is_help=True)


@checkpoint_app.command("upgrade")
def upgrade(
    folders: Annotated[list[Path], typer.Argument(help="Checkpoint folders.")],
) -> None:
    """Rewrite each folder's config.json in the current format version."""
    from motiongen.checkpoint import VERSION, upgrade_checkpoint

    for folder in folders:
        changed = upgrade_checkpoint(folder)
        out.print(f"{folder}: {'upgraded to' if changed else 'already'} version {VERSION}")


@checkpoint_app.command("info")
def info(
    folder: Annotated[str, typer.Argument(help="Checkpoint folder or shipped model name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Architecture, process, conditioning and how the checkpoint was made."""
    from motiongen.checkpoint import read_config, resolve_checkpoint

    cfg = read_config(resolve_checkpoint(folder))
    facts = cfg.to_json()
    if as_json:
        sys.stdout.write(json.dumps(facts, indent=2) + "\n")
        return
    training = facts.pop("training")
    for key, value in facts.items():
        out.print(f"{key}: {value}", soft_wrap=True, highlight=False)
    for key in ("command", "step", "wall_seconds", "val_loss"):
        if key in training:
            out.print(f"training.{key}: {training[key]}", soft_wrap=True, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(checkpoint_app, name="checkpoint")
