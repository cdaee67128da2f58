"""`motiongen train`: parse, call ``motiongen.train.train``, print where things went.

Also runnable as a module for multi-process training, where the launcher starts one Python
per process: ``torchrun --nproc_per_node 2 -m motiongen.cli.train --config FILE``.
"""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from motiongen.errors import MotionGenError


def train_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="Training config (YAML).")],
    resume: Annotated[
        bool, typer.Option(help="Continue from run_dir/last (starts fresh if there is none).")
    ] = False,
    init_from: Annotated[
        Path | None,
        typer.Option("--init-from", help="Start from this inference checkpoint (SFT, LoRA)."),
    ] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Override run_dir of the config.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key, e.g. --set optim.lr=1e-4 (repeatable)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Train a generator (pretrain, SFT or LoRA stage, as the config says)."""
    from rich.console import Console

    from motiongen.train.config import load_config
    from motiongen.train.trainer import train

    overrides = list(set_ or [])
    if init_from is not None:
        overrides.append(f"init_from={init_from}")
    if run_dir is not None:
        overrides.append(f"run_dir={run_dir}")
    if not progress:
        overrides.append("progress=false")
    cfg = load_config(config, overrides)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("motiongen.train").setLevel(logging.INFO)
    command = "motiongen train " + " ".join(shlex.quote(a) for a in sys.argv[1:]).removeprefix(
        "train "
    )
    result = train(cfg, resume=resume, command=command)
    if result.final is not None:
        out = Console()
        out.print(f"trained to step {result.step} in {result.wall_seconds / 60:.1f} min")
        out.print(f"final checkpoint: {result.final}")
        if result.best is not None:
            out.print(f"best checkpoint:  {result.best} (val loss {result.best_val:.4f})")
        out.print(f"loss curves: {result.run_dir / 'loss.png'}")


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to the main ``motiongen`` app."""
    app.command("train")(train_command)


def main() -> None:
    """Entry point of ``python -m motiongen.cli.train`` (one per process under torchrun)."""
    from rich.console import Console
    from rich.markup import escape

    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command()(train_command)
    try:
        single()
    except MotionGenError as e:
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True, highlight=False
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
