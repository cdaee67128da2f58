"""``motiongen data prepare | stats | clips | synth``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from motiongen.cli.console import err, named_progress, out, progress_bar
from motiongen.errors import DataNotFoundError, InputError

data_app = typer.Typer(help="Prepare, inspect and synthesise training data.", no_args_is_help=True)


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

    for folder in bvh or ():
        if not folder.is_dir():
            raise InputError(f"--bvh {folder}: no such folder; give a folder of BVH files")
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


@data_app.command("clips")
def data_clips(
    content: Annotated[
        str | None, typer.Option(help="Only clips whose action contains this, e.g. 'wave'.")
    ] = None,
    style: Annotated[
        str | None, typer.Option(help="Only clips of this style, e.g. 'happy'.")
    ] = None,
    split: Annotated[str | None, typer.Option(help="Only this split: train, val or test.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    data: Annotated[Path | None, typer.Option(help="Data directory.")] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Prepared directory (load(NAME) reads the default one, the cache's)."),
    ] = None,
) -> None:
    """The prepared clips' names (what `motiongen.load(NAME)` and the control commands read),
    with their action, style, split, length and whether curation kept them for training."""
    from motiongen.data.prepare import default_prepared_dir, prepare
    from motiongen.data.splits import SPLITS
    from motiongen.data.store import PreparedData

    if split is not None and split not in SPLITS:
        raise InputError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    try:  # the clips `motiongen.load(NAME)` reads: the prepared data as it is
        prepared = PreparedData.open(cache or default_prepared_dir())
    except DataNotFoundError:
        with progress_bar() as bar:
            prepared = prepare(data, cache, progress=named_progress(bar)).data
    rows = [
        {
            "name": c.name,
            "content": c.labels.get("content", ""),
            "style": c.labels.get("style", ""),
            "split": c.split,
            "seconds": round(c.num_frames / c.fps, 2),
            "kept": c.kept,  # curation's; load() reads a dropped clip too
            "text": c.texts[0] if c.texts else "",
        }
        for c in prepared.select(split=split, kept_only=False)
        if (content is None or content.lower() in c.labels.get("content", "").lower())
        and (style is None or style.lower() == c.labels.get("style", "").lower())
    ]
    if not rows:
        raise InputError(
            "no prepared clip matches; `motiongen data clips` alone lists them all "
            "(`motiongen actions` lists the actions and styles)"
        )
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    # plain aligned lines, the name whole: it is what gets typed, and a table cut it at 80
    # columns (a sentence of each clip is in --json)
    cols = ("name", "content", "style", "split", "seconds", "kept")
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    lines = [[str(r[c]) for c in cols] for r in rows]
    for cells in [list(cols), *lines]:
        sys.stdout.write("  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)).rstrip())
        sys.stdout.write("\n")
    err.print(f"{len(rows)} clip{'s' if len(rows) != 1 else ''}")


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


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
