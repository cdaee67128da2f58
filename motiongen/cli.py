"""The `motiongen` command: a thin layer over the library (parse, call, print)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from motiongen.errors import DataNotFoundError, InputError, MotionGenError

app = typer.Typer(
    help="Generate, edit, score and render 3-D human motion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Prepare, inspect and synthesise training data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

out = Console()
err = Console(stderr=True)


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def named_progress(bar: Progress):
    """A (name, done, total) progress callback: one bar per name (a data source, an
    evaluated variant)."""
    tasks: dict[str, int] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(name, total=total)
        bar.update(tasks[name], completed=done)

    return progress


def _resolve_motion(source: str):
    """A file/folder path, or the name of a clip in the prepared cache."""
    from motiongen.io import load

    path = Path(source)
    if path.exists():
        return load(path)
    from motiongen.data.prepare import default_prepared_dir
    from motiongen.data.store import PreparedData

    try:
        data = PreparedData.open(default_prepared_dir())
    except DataNotFoundError:
        data = None
    if data is not None and source in data:
        return data.motion(source)
    raise DataNotFoundError(
        f"no such file or folder: {source} (nor a clip of that name in the prepared data)"
    )


# ---- data -----------------------------------------------------------------------------
@data_app.command("prepare")
def data_prepare(
    data: Annotated[
        Path | None,
        typer.Option(help="Data directory (default $MOTIONGEN_DATA or ../shared/data)."),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option(help="Output directory (default ~/.cache/motiongen/prepared).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if the cache is up to date.")] = False,
    bvh: Annotated[
        list[Path] | None, typer.Option(help="Extra folder of BVH files (repeatable).")
    ] = None,
) -> None:
    """Read every source into canonical shards, score, split and curate; write a report."""
    from motiongen.data.prepare import prepare, source_stats

    with progress_bar() as bar:
        progress = named_progress(bar)
        result = prepare(
            data, cache, force=force, extra_bvh_folders=tuple(bvh or ()), progress=progress
        )
    stats = source_stats(result.data)
    verb = "reused" if result.reused else "prepared"
    out.print(f"{verb} {result.root} in {result.seconds:.1f} s")
    _print_stats(stats)
    if result.data.bad_files:
        err.print(f"[yellow]skipped {len(result.data.bad_files)} unreadable file(s):")
        for b in result.data.bad_files[:20]:
            err.print(f"  {b['path']}: {b['reason']}")
    if not result.reused:
        out.print(f"report: {result.root / 'report.json'} and {result.root / 'report.png'}")
    if result.data.failed_sources:
        names = ", ".join(result.data.failed_sources)
        raise DataNotFoundError(
            f"no usable clip from source(s) {names}; see the skipped files above "
            "(the other sources were prepared)"
        )


def _print_stats(stats: dict) -> None:
    table = Table(title="sources")
    for col in ("source", "clips", "frames", "minutes"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for name, s in stats["sources"].items():
        table.add_row(name, str(s["clips"]), str(s["frames"]), f"{s['minutes']:.1f}")
    out.print(table)
    splits = ", ".join(f"{k}: {v['clips']}" for k, v in sorted(stats["splits"].items()))
    out.print(f"splits: {splits}; kept {stats['kept_clips']}, dropped {stats['dropped_clips']}")


@data_app.command("stats")
def data_stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
    cache: Annotated[Path | None, typer.Option(help="Prepared directory.")] = None,
) -> None:
    """Per-source clip counts and minutes (prepares the data first when needed)."""
    from motiongen.data.prepare import prepare, source_stats

    with progress_bar() as bar:
        progress = named_progress(bar)
        result = prepare(data, cache, progress=progress)
    stats = source_stats(result.data)
    if as_json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
    else:
        _print_stats(stats)


@data_app.command("synth")
def data_synth(
    n: Annotated[int, typer.Option("--n", help="How many motions.")] = 100,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write into.")] = Path(
        "synthetic"
    ),
    fmt: Annotated[
        str, typer.Option("--format", help="File format: npz, bvh, motion, npy.")
    ] = "npz",
) -> None:
    """Write N procedural labelled motions (the embedded default data) to a folder."""
    from motiongen.data.synthetic import synth_dataset

    if n <= 0 or n > 100_000:
        raise InputError(f"--n must be between 1 and 100000, got {n}")
    if fmt not in ("npz", "bvh", "motion", "npy"):
        raise InputError(f"--format must be one of npz, bvh, motion, npy; got {fmt!r}")
    output.mkdir(parents=True, exist_ok=True)
    motions = synth_dataset(n, seed=seed)
    with progress_bar() as bar:
        task = bar.add_task("writing", total=len(motions))
        for i, m in enumerate(motions):
            m.save(output / f"{m.name or f'synth_{i:05d}'}.{fmt}")
            bar.advance(task)
    out.print(f"wrote {len(motions)} motions to {output}")


# ---- single motions -------------------------------------------------------------------
@app.command("render")
def render(
    source: Annotated[
        str, typer.Argument(help="Motion file, dance folder, or prepared clip name.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Output: .mp4 .gif .bvh .motion .motion.json .npy .npz"
        ),
    ],
    title: Annotated[str | None, typer.Option(help="Title shown in videos.")] = None,
    fps: Annotated[float | None, typer.Option(help="Resample to this frame rate first.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Keep only the first N seconds.")] = None,
    no_audio: Annotated[
        bool, typer.Option("--no-audio", help="Do not mux music into MP4.")
    ] = False,
) -> None:
    """Convert or render any readable motion (BVH, dance folder, .motion, npy) to a file."""
    motion = _resolve_motion(source)
    if seconds is not None:
        if seconds <= 0:
            raise InputError(f"--seconds must be positive, got {seconds}")
        motion = motion.crop(0, max(1, min(motion.num_frames, int(round(seconds * motion.fps)))))
    if fps is not None:
        motion = motion.resample(fps)
    options: dict = {}
    suffix = output.name.lower()
    if suffix.endswith((".mp4", ".gif")):
        options = {"title": title, "audio": not no_audio}
    path = motion.save(output, **options)
    out.print(
        f"wrote {path} ({motion.num_frames} frames, {motion.seconds:.1f} s at {motion.fps:g} fps)"
    )


@app.command("info")
def info(
    source: Annotated[
        str, typer.Argument(help="Motion file, dance folder, or prepared clip name.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Describe a motion: frames, fps, duration, labels, texts, audio, physical checks."""
    from motiongen.skeleton import bone_lengths

    m = _resolve_motion(source)
    pos = m.positions
    bl = bone_lengths(pos)
    facts = {
        "name": m.name,
        "frames": m.num_frames,
        "fps": m.fps,
        "seconds": round(m.seconds, 3),
        "joints": int(pos.shape[1]),
        "texts": m.texts,
        "labels": m.labels,
        "audio": {"path": m.audio.path, "offset": m.audio.offset} if m.audio else None,
        "height_m": round(float(pos[:, :, 1].max() - pos[:, :, 1].min()), 3),
        "lowest_point_m": round(float(pos[:, :, 1].min()), 3),
        "root_travel_m": round(
            float(np.linalg.norm(np.diff(pos[:, 0, [0, 2]], axis=0), axis=-1).sum()), 3
        ),
        "bone_length_drift": round(float((bl.std(0) / np.maximum(bl.mean(0), 1e-6)).max()), 5),
    }
    if as_json:
        sys.stdout.write(json.dumps(facts, indent=2) + "\n")
        return
    table = Table(show_header=False, title=m.name or source)
    for k, v in facts.items():
        table.add_row(k, str(v))
    out.print(table)


def _register_commands() -> None:
    """Commands that live in their own modules; each module adds its commands to ``app``."""
    from motiongen import cli_eval, cli_generate, cli_score, cli_serve, cli_train

    for module in (cli_generate, cli_train, cli_score, cli_eval, cli_serve):
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point: user errors print one line and exit 1, never a traceback."""
    try:
        app()
    except MotionGenError as e:
        err.print(f"[bold red]error:[/] {e}", soft_wrap=True, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
