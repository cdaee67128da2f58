"""``motiongen checkpoint info | upgrade | vocabulary``: look inside a checkpoint folder, or
rewrite an older config in the current format (once; the weights are not touched);
``motiongen actions``: what a model was trained to do."""

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


@checkpoint_app.command("vocabulary")
def vocabulary(
    folders: Annotated[list[Path], typer.Argument(help="Checkpoint folders.")],
    data: Annotated[Path | None, typer.Option(help="Data directory (default: shared).")] = None,
) -> None:
    """Record the actions of the prepared data's train split, the styles each was recorded in,
    each style's pace and posture and each action's clip count, as the checkpoints' vocabulary
    (for checkpoints trained before the trainer wrote it)."""
    from motiongen.checkpoint import write_vocabulary
    from motiongen.data.prepare import prepare
    from motiongen.data.text import (
        action_clips,
        action_songs,
        action_styles,
        action_vocabulary,
        style_words,
    )
    from motiongen.features import MODEL_FPS
    from motiongen.tasks.pace import style_pace
    from motiongen.tasks.posture import style_posture

    prepared = prepare(data).data
    records = prepared.select(split="train")
    labels = [r.labels for r in records]
    vocab, styles = action_vocabulary(labels), action_styles(labels)
    pace = style_pace(
        (r.labels, prepared.motion(r).positions, r.fps) for r in records if r.labels.get("style")
    )
    posture = style_posture(  # at the models' rate, as the trainer measures it
        (r.labels, prepared.motion(r).resample(MODEL_FPS).positions, MODEL_FPS)
        for r in records
        if r.labels.get("style")
    )
    for folder in folders:
        write_vocabulary(folder, vocab, styles, style_words(), pace, action_clips(labels),
                         action_songs(labels), posture)  # fmt: skip
        out.print(f"{folder}: {len(vocab)} actions recorded, with the styles of {len(styles)}")


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


def actions(
    checkpoint: Annotated[
        str | None,
        typer.Option(help="Checkpoint folder or shipped model name (default: the default model)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The actions the model was trained on: a sentence of each, its training clips and the
    styles it was recorded in (a prompt far from all of them gets a warning; a story refuses it)."""
    from motiongen.checkpoint import (
        read_action_styles,
        read_config,
        read_vocabulary,
        resolve_checkpoint,
    )
    from motiongen.errors import InputError

    folder = resolve_checkpoint(checkpoint)
    read_config(folder)  # a folder that is no checkpoint is named as such
    vocab = read_vocabulary(folder)
    if not vocab:
        raise InputError(
            f"{folder} records no actions (a model trained without text, or before the trainer "
            "wrote them: `motiongen checkpoint vocabulary FOLDER` adds them)"
        )
    styles = read_action_styles(folder) or {}
    rows = [
        {"action": action, "sentence": sentences[0],
         "clips": (styles.get("clips") or {}).get(action),
         "songs": (styles.get("songs") or {}).get(action),
         "styles": (styles.get("actions") or {}).get(action, [])}
        for action, sentences in sorted(vocab.items())
    ]  # fmt: skip
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    for r in rows:
        clips = "".join(
            f", {r[unit]} {unit[:-1]}{'s' if r[unit] != 1 else ''}"
            for unit in ("clips", "songs")
            if r[unit] is not None
        )
        recorded = f"; styles: {' '.join(r['styles'])}" if r["styles"] else ""
        out.print(f"{r['action']}: {r['sentence']!r}{clips}{recorded}", soft_wrap=True,
                  highlight=False)  # fmt: skip
    out.print(f"{len(rows)} actions; styles of one action cannot be asked of another without "
              "a warning (`motiongen style list` lists the style names)", highlight=False,
              soft_wrap=True)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(checkpoint_app, name="checkpoint")
    app.command("actions")(actions)
