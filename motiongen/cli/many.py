"""``motiongen generate --prompts FILE -o DIR``: many prompts, one process or many.

Under ``accelerate launch --cpu --num_processes N -m motiongen generate --prompts ...`` every
process takes every N-th motion (``generation/many.py``); the first merges the per-process
manifests at the end. Plain ``motiongen generate --prompts`` is the one-process case.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from motiongen.cli.console import err, out, print_warnings
from motiongen.errors import InputError


def run_many(
    prompts_file: Path,
    folder: Path,
    *,
    fmt: str,
    takes: int,
    batch_size: int,
    seconds: float | None,
    steps: int | None,
    sampler: str | None,
    guidance: str | None,
    seed: int,
    checkpoint: Path | None,
    postprocess: bool,
    threads: int | None,
    precision: str,
    runtime: str,
    literal: bool = False,
    fps: float | None = None,
    rag: bool | None = None,
    index: Path | None = None,
    reranker: str | None = None,
    no_travel: bool = False,
    loop: bool = False,
    timeline: bool | None = None,
) -> None:
    from motiongen.generation import check_seconds, parse_guidance
    from motiongen.generation.many import generate_many, plan, read_prompts, shard
    from motiongen.io import WRITE_SUFFIXES

    if folder.exists() and not folder.is_dir():
        raise InputError(f"--output {folder} is a file; with --prompts give a folder")
    if not folder.exists() and folder.suffix.lower() in WRITE_SUFFIXES:
        raise InputError(
            f"--output {folder} names a file; with --prompts give a folder (e.g. "
            f"{folder.with_suffix('')}) and the files' format with --format"
        )
    if not 1 <= batch_size <= 256:
        raise InputError(f"--batch-size must be 1..256, got {batch_size}")
    if seconds is not None:
        check_seconds(seconds)
    scales = parse_guidance(guidance) if guidance is not None else None
    items = plan(read_prompts(prompts_file), folder, fmt=fmt, takes=takes, seed=seed)

    rank, world, barrier = _processes()
    import torch

    local = int(os.environ.get("LOCAL_WORLD_SIZE", world))  # processes on this machine
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // max(1, local)))
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "prompts": str(prompts_file.resolve()), "format": fmt, "takes": takes, "seconds": seconds,
        "steps": steps, "sampler": sampler, "guidance": guidance, "seed": seed,
        "checkpoint": None if checkpoint is None else str(checkpoint), "postprocess": postprocess,
        "literal": literal, "fps": fps, "rag": rag, "no_travel": no_travel, "loop": loop,
        "index": None if index is None else str(index), "reranker": reranker,
        "timeline": timeline,
    }  # fmt: skip
    # every process checks (none is left waiting for one that stopped); the first records
    same_settings(folder, settings, [item.path for item in items], record=rank == 0)

    from motiongen.cli.generate import load_pipeline

    t0 = time.perf_counter()
    pipe = load_pipeline(checkpoint, precision, runtime, rag=rag, index=index, reranker=reranker)
    # Every process sees the same files on disk before the work is shared: what is left to
    # make is split evenly (after a resume the missing files may all be one process's old
    # share otherwise).
    barrier()
    remaining = [item for item in items if not item.path.is_file()]
    mine = shard(remaining, rank, world)
    todo = len(mine)
    manifest = folder / f"manifest.rank{rank}.jsonl"
    if rank == 0:
        out.print(
            f"{len(items)} motions from {prompts_file} in {world} process(es); "
            f"{len(remaining)} to make",
            highlight=False,
            soft_wrap=True,
        )
    with _progress(rank == 0, todo) as advance:
        written = generate_many(
            pipe, mine, seconds=seconds, steps=steps, sampler=sampler, guidance=scales,
            batch_size=batch_size, postprocess=postprocess, progress=advance, manifest=manifest,
            literal=literal, fps=fps, rag=rag, no_travel=no_travel, loop=loop,
            timeline=timeline, warn=lambda item, message: print_warnings(
                message, f"{item.path.name} ({item.text!r}): "
            ),
        )  # fmt: skip
    took = time.perf_counter() - t0
    out.print(
        f"process {rank}: wrote {len(written)} file(s) in {took:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    barrier()
    if rank == 0:
        total = merge_manifests(folder)
        out.print(f"{folder / 'manifest.jsonl'}: {total} motions", highlight=False, soft_wrap=True)


SETTINGS_NAME = "settings.json"


def same_settings(folder: Path, settings: dict, paths: list[Path], record: bool = True) -> None:
    """Record the run's settings in ``folder`` (``record``); an ``InputError`` when files there
    were made with others (a rerun with a new seed or length skipped every file as made and
    said "0 to make": a game developer's trial). A folder from before settings were recorded
    is taken as it is. Another format is not another setting: its files are others, made
    beside the first (a format change had passed and overwritten the record, so the first
    format's rerun was then refused; a trial)."""
    path = folder / SETTINGS_NAME
    if path.is_file() and (any(p.is_file() for p in paths) or _made_before(folder)):
        try:
            before = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            before = None
        # settings a folder recorded before a setting existed are compared on the others
        changed = ", ".join(
            f"{k} {before[k]!r} -> {settings[k]!r}"
            for k in settings
            if isinstance(before, dict) and k in before and k != "format"
            and before[k] != settings[k]
        )  # fmt: skip
        if changed:
            raise InputError(
                f"{folder} holds motions made with other settings ({changed}); a rerun there "
                "only makes what is missing: give another folder, or empty this one"
            )
    if record:
        path.write_text(json.dumps(settings, indent=1) + "\n")


def _made_before(folder: Path) -> bool:
    """Whether ``folder``'s manifest lists a motion file that is there (any format)."""
    try:
        lines = (folder / "manifest.jsonl").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        try:
            name = json.loads(line).get("file")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(name, str) and (folder / name).is_file():
            return True
    return False


def merge_manifests(folder: Path) -> int:
    """manifest.jsonl = the old manifest plus every process's, one line per file, in order."""
    records: dict[str, dict] = {}
    sources = [folder / "manifest.jsonl", *sorted(folder.glob("manifest.rank*.jsonl"))]
    for path in sources:
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill; its file is made again or kept
                if isinstance(record, dict) and (folder / str(record.get("file"))).is_file():
                    records[record["file"]] = record
    ordered = sorted(records.values(), key=lambda r: (r["index"], r["take"]))
    target = folder / "manifest.jsonl"
    partial = folder / ".manifest.jsonl.partial"
    partial.write_text("".join(json.dumps(r) + "\n" for r in ordered), encoding="utf-8")
    partial.replace(target)
    for path in sources[1:]:
        path.unlink(missing_ok=True)
    return len(ordered)


def _processes():
    """(rank, world size, barrier) from accelerate when launched by it, else one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1, lambda: None
    from datetime import timedelta

    from accelerate import PartialState

    # Ranks may wait long for each other at the last barrier (uneven prompts): hours, not
    # torch's default 30 minutes.
    state = PartialState(cpu=True, timeout=timedelta(hours=24))
    return state.process_index, state.num_processes, state.wait_for_everyone


class _progress:
    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total = show, total

    def __enter__(self):
        if not self.show:
            return lambda n: None
        from rich.progress import Progress

        self.bar = Progress(console=err, transient=True)
        self.bar.start()
        task = self.bar.add_task("generating (this process)", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.show:
            self.bar.stop()
