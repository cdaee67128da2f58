"""`motiongen eval`: generate for a split's conditions and write every metric and a report."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from motiongen.errors import InputError
from motiongen.paths import DEFAULT_MODEL

err = Console(stderr=True)


def eval_command(
    json_out: Annotated[Path, typer.Option("--json", help="Write every metric here (JSON).")],
    checkpoint: Annotated[
        str, typer.Option(help="Checkpoint folder or shipped model name.")
    ] = DEFAULT_MODEL,
    split: Annotated[str, typer.Option(help="train | val | test")] = "test",
    report: Annotated[
        Path | None,
        typer.Option(help="Markdown report (plots beside it); default: the JSON path with .md"),
    ] = None,
    steps: Annotated[int | None, typer.Option(help="Sampler steps (default: checkpoint's)")] = None,
    sampler: Annotated[str | None, typer.Option(help="euler | midpoint | heun | ddim")] = None,
    guidance: Annotated[float | None, typer.Option(help="Guidance scale")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the first motion (motion i: seed + i)")] = 0,
    limit: Annotated[
        int | None,
        typer.Option(help="Evaluate only the first N conditions (FID needs at least 129)"),
    ] = None,
    evaluator: Annotated[
        Path | None, typer.Option(help="Text-motion evaluator folder (default: shipped)")
    ] = None,
    prepared: Annotated[
        Path | None, typer.Option(help="Prepared data folder (default: the prepared cache)")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="Torch CPU threads")] = None,
    runtime: Annotated[str, typer.Option(help="torch, onnx or onnx-int8")] = "torch",
    rag: Annotated[
        bool | None,
        typer.Option(
            "--rag/--no-rag",
            help="Retrieve a prior for every condition, or for none (default: as the model "
            "says; the shipped default retrieves for conditions without music)",
        ),
    ] = None,
    prior_start: Annotated[
        float | None,
        typer.Option(
            help="Start sampling from the retrieved prior at this flow time (0: from noise; "
            "default: the checkpoint's conditioning.prior_start)"
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar")] = True,
) -> None:
    """Evaluate a checkpoint on a split: FID, R-precision, diversity, physics, sanity, music.

    The real clips of the same split form a reference row scored the same way.
    """
    import torch

    from motiongen.cli.console import named_progress, progress_bar, writable
    from motiongen.data.prepare import prepare
    from motiongen.data.store import PreparedData
    from motiongen.eval.eval_report import markdown_table, write_report
    from motiongen.eval.evaluator import evaluate_variants, pipeline_generate_fn
    from motiongen.evaluators.text_motion import TextMotionEvaluator
    from motiongen.paths import cache_dir
    from motiongen.pipeline import Pipeline

    if split not in ("train", "val", "test"):
        raise InputError(f"--split must be train, val or test, got {split!r}")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be at least 1, got {limit}")
    if threads is not None:
        if threads < 1:
            raise InputError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    writable(json_out, report or json_out.with_suffix(".md"))  # before minutes of work
    t0 = time.perf_counter()
    judge = TextMotionEvaluator.from_pretrained(evaluator)
    pipe = Pipeline.from_pretrained(checkpoint, runtime=runtime)
    if prior_start is not None:
        if not 0 <= prior_start < 1:
            raise InputError(f"--prior-start must be in [0, 1), got {prior_start}")
        pipe.prior_start = prior_start
    data = PreparedData.open(prepared) if prepared is not None else prepare().data
    where = "" if runtime == "torch" else f", {runtime}"
    where += {None: "", True: ", retrieval", False: ", no retrieval"}[rag]
    where += f", prior start {pipe.prior_start:g}" if prior_start is not None else ""
    name = f"{pipe.name} ({pipe.process_name}, {steps or pipe.default_steps} steps{where})"
    extra = {} if rag is None else {"rag": rag}
    variants = {
        name: pipeline_generate_fn(pipe, steps=steps, sampler=sampler, guidance=guidance, **extra)
    }
    with progress_bar() as bar:
        rows, reference = evaluate_variants(
            variants,
            data,
            split=split,
            evaluator=judge,
            seed=seed,
            limit=limit,
            cache=cache_dir() / "eval",
            progress=named_progress(bar) if progress else None,
        )
    seconds = time.perf_counter() - t0
    info = {
        "checkpoint": str(checkpoint),
        "split": split,
        "steps": steps or pipe.default_steps,
        "sampler": sampler or pipe.default_sampler,
        "guidance": guidance if guidance is not None else pipe.default_guidance,
        "runtime": runtime,
        # what the motions were made with, not what was asked: the model's default retrieves
        # only where an index loaded
        "retrieval": (
            "off"
            if pipe.retriever is None
            else ("every condition" if rag else "conditions without music")
        ),
        "prior_start": pipe.prior_start,
        "seed": seed,
        "limit": limit,
        "evaluator": str(evaluator or "shipped text-motion"),
        "seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    write_report(
        rows,
        reference.embeddings,
        json_path=json_out,
        markdown_path=report or json_out.with_suffix(".md"),
        info=info,
        command="motiongen " + " ".join(sys.argv[1:]),
    )
    print(markdown_table(rows))
    err.print(f"wrote {json_out} and {report or json_out.with_suffix('.md')} in {seconds:.0f} s")


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to the main ``motiongen`` app."""
    app.command("eval")(eval_command)
