"""Generation latency: milliseconds per 196-frame sample, text encoding included.

Run:  .venv/bin/python benchmarks/latency.py [--quick] [--threads N] [--out FILE.json]
          [--runtimes torch onnx onnx-int8]

Grid: MotionDiT tiny / full x {flow Euler 1, 2, 4 (the shipped default), 10 steps; DDIM 50 steps} x batch 1 and 32,
always with classifier-free guidance (the Pipeline's default scale, batched: the network runs
on 2B samples per step). Each cell calls ``Pipeline.generate`` for one prompt and 196 frames
(9.8 s at 20 fps) and reports the wall time divided by the batch size:

- cached: the prompt's embedding is already in the text encoder's cache (a repeated prompt);
- uncached: the cache is cleared first, so the text encoder runs (a new prompt).

The breakdown columns come from the Pipeline's own timing (text, sampler, post-processing
such as foot locking). Each cell: one warm-up call, then pairs of (uncached, cached) calls
until ``--repeats`` pairs or ``--budget`` seconds, at least one; medians are printed.

Weights: the shipped default generator (`paths.DEFAULT_MODEL`) / tiny-ddim checkpoints when installed; otherwise, and always
for "full", randomly initialised networks of the same architecture (the full preset with the
tiny checkpoint's other settings). The time does not depend on the weights' values.
``--runtimes`` adds rows where the same network runs as an ONNX graph in onnxruntime (fp32,
and int8 with dynamic quantisation; ``motiongen.deploy.onnx``). ``--quality SPLIT`` adds, for
the default generator at its default steps, one quality row per runtime from the same
evaluation as ``motiongen eval`` (FID, R@1, FID_k; every runtime on the same conditions and
seeds; ``--quality-limit N`` for the first N conditions only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.report import report, run_cli  # noqa: E402
from motiongen.checkpoint import CheckpointConfig, read_config, save_checkpoint  # noqa: E402
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats  # noqa: E402
from motiongen.models import MotionDiT, MotionDiTConfig  # noqa: E402
from motiongen.paths import DEFAULT_MODEL  # noqa: E402
from motiongen.pipeline import Pipeline, shipped_model_path  # noqa: E402

PROMPT = "a person walks forward and waves with the right hand happily"
FRAMES = 196
DEFAULT_CONDITIONING = {
    "text_model": "all-MiniLM-L6-v2",
    "text_dim": 384,
    "max_tokens": 64,
    "audio_dim": 50,
    "fps": MODEL_FPS,
    "window": FRAMES,
}


@dataclass
class Cell:
    """One timed configuration; times in ms per sample (medians), breakdown ms per call."""

    model: str  # tiny | full
    weights: str  # shipped | random
    process: str  # flow | ddpm
    sampler: str
    steps: int
    batch: int
    guidance: float
    runtime: str = "torch"
    cached_ms: float = float("nan")
    uncached_ms: float = float("nan")
    text_ms_uncached: float = float("nan")
    sampler_ms: float = float("nan")
    postprocess_ms: float = float("nan")
    repeats: int = 0
    raw_cached_ms: list[float] = field(default_factory=list)
    raw_uncached_ms: list[float] = field(default_factory=list)


def random_checkpoint(
    folder: Path, net: MotionDiTConfig, process: str, conditioning: dict[str, Any]
) -> Path:
    """A checkpoint of randomly initialised weights (identity normalisation) in ``folder``.

    The zero-initialised output layers are randomised too, so the sampler computes on
    non-trivial values exactly as a trained network would.
    """
    torch.manual_seed(0)
    model = MotionDiT(net)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    config = CheckpointConfig.create(
        "dit",
        net.to_dict(),
        process,
        conditioning=dict(conditioning),
        training={"note": "random weights for timing"},
    )
    return save_checkpoint(folder, config, model, norm)


def model_folders(work: Path, models: list[str]) -> dict[tuple[str, str], tuple[Path, str]]:
    """(model, process) -> (checkpoint folder, "shipped" | "random") for every grid row."""
    shipped_flow = shipped_model_path(DEFAULT_MODEL)
    base = {"feature_dim": FEATURE_DIM, "text_dim": 384, "audio_dim": 50}
    conditioning = dict(DEFAULT_CONDITIONING)
    if (shipped_flow / "config.json").is_file():
        cfg = read_config(shipped_flow)
        if cfg.architecture == "dit":
            base = {k: v for k, v in cfg.model.items() if k not in ("width", "depth", "heads")}
        conditioning = {**conditioning, **cfg.conditioning.to_dict()}
    out: dict[tuple[str, str], tuple[Path, str]] = {}
    for model in models:
        net = MotionDiTConfig.from_dict({**base, **MotionDiTConfig.PRESETS[model]})
        for process, shipped_name in (("flow", DEFAULT_MODEL), ("ddpm", "tiny-ddim")):
            shipped = shipped_model_path(shipped_name)
            if model == "tiny" and (shipped / "config.json").is_file():
                cfg = read_config(shipped)
                same = cfg.architecture == "dit" and MotionDiTConfig.from_dict(cfg.model) == net
                if same or process == "flow":
                    out[(model, process)] = (shipped, "shipped")
                    continue
            folder = work / f"{model}-{process}"
            out[(model, process)] = (
                random_checkpoint(folder, net, process, conditioning),
                "random",
            )
    return out


def time_cell(
    pipe: Pipeline, cell: Cell, *, repeats: int, budget: float, postprocess: bool
) -> Cell:
    """Fill ``cell`` with medians over (uncached, cached) call pairs."""
    seconds = FRAMES / pipe.fps
    kwargs = dict(
        text=PROMPT,
        seconds=seconds,
        steps=cell.steps,
        sampler=cell.sampler,
        guidance=cell.guidance,
        seed=0,
        batch=cell.batch,
        postprocess=postprocess,
    )
    encoder = pipe.text_encoder
    pipe.generate(**kwargs)  # warm-up: allocations, kernel choice, caches
    text, samp, post = [], [], []
    t_start = time.perf_counter()
    while len(cell.raw_cached_ms) < repeats:
        encoder.clear_cache()
        if pipe.retriever is not None:  # the default retrieves for a new prompt too
            pipe.retriever.clear_cache()
        t0 = time.perf_counter()
        motions = pipe.generate(**kwargs)
        cell.raw_uncached_ms.append((time.perf_counter() - t0) * 1e3 / cell.batch)
        text.append(motions[0].meta["timing_ms"]["text_ms"])
        t0 = time.perf_counter()
        motions = pipe.generate(**kwargs)
        cell.raw_cached_ms.append((time.perf_counter() - t0) * 1e3 / cell.batch)
        samp.append(motions[0].meta["timing_ms"]["sample_ms"])
        post.append(motions[0].meta["timing_ms"]["postprocess_ms"])
        if time.perf_counter() - t_start > budget:
            break
    cell.repeats = len(cell.raw_cached_ms)
    cell.cached_ms = statistics.median(cell.raw_cached_ms)
    cell.uncached_ms = statistics.median(cell.raw_uncached_ms)
    cell.text_ms_uncached = statistics.median(text)
    cell.sampler_ms = statistics.median(samp)
    cell.postprocess_ms = statistics.median(post)
    return cell


def grid(quick: bool) -> tuple[list[str], list[tuple[str, str, int]], list[int]]:
    models = ["tiny"] if quick else ["tiny", "full"]
    samplers = [
        ("flow", "euler", 1),
        ("flow", "euler", 2),
        ("flow", "euler", 4),
        ("flow", "euler", 10),
    ]
    samplers.append(("ddpm", "ddim", 50))
    return models, samplers, [1, 32]


def run(
    *,
    quick: bool = False,
    repeats: int = 5,
    budget: float = 20.0,
    postprocess: bool = True,
    models: list[str] | None = None,
    samplers: list[tuple[str, str, int]] | None = None,
    batches: list[int] | None = None,
    runtimes: list[str] | None = None,
    progress: Any = None,
) -> list[Cell]:
    """Time the grid (``models`` x ``samplers`` x ``batches``, defaults from ``grid``)."""
    g_models, g_samplers, g_batches = grid(quick)
    models, samplers, batches = models or g_models, samplers or g_samplers, batches or g_batches
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="motiongen-latency-") as tmp:
        folders = model_folders(Path(tmp), models)
        for model in models:
            for process in ("flow", "ddpm"):
                todo = [s for s in samplers if s[0] == process]
                if not todo:
                    continue
                folder, weights = folders[(model, process)]
                for runtime in runtimes or ["torch"]:
                    pipe = Pipeline.from_pretrained(folder, runtime=runtime)
                    guidance = (
                        float(pipe.default_guidance)
                        if not isinstance(pipe.default_guidance, tuple)
                        else float(pipe.default_guidance[0])
                    )
                    for _, sampler, steps in todo:
                        for batch in batches:
                            cell = Cell(model, weights, process, sampler, steps, batch, guidance,
                                        runtime)  # fmt: skip
                            cells.append(time_cell(pipe, cell, repeats=repeats, budget=budget,
                                                   postprocess=postprocess))  # fmt: skip
                            if progress is not None:
                                progress(cell)
    return cells


def ratios(cells: list[Cell]) -> list[dict[str, Any]]:
    """DDIM-50 / flow-4 (cached ms per sample) per model and batch size."""
    out = []
    for model in dict.fromkeys(c.model for c in cells):
        for batch in dict.fromkeys(c.batch for c in cells):
            flow = [
                c
                for c in cells
                if (c.model, c.batch, c.process, c.steps, c.runtime)
                == (model, batch, "flow", 4, "torch")
            ]
            ddim = [
                c
                for c in cells
                if (c.model, c.batch, c.process, c.steps, c.runtime)
                == (model, batch, "ddpm", 50, "torch")
            ]
            if flow and ddim:
                out.append(
                    {
                        "model": model,
                        "batch": batch,
                        "ddim50_ms": round(ddim[0].cached_ms, 2),
                        "flow4_ms": round(flow[0].cached_ms, 2),
                        "ratio": round(ddim[0].cached_ms / flow[0].cached_ms, 1),
                    }
                )
    return out


def markdown(cells: list[Cell], threads: int, load: tuple[float, float] | None = None) -> str:
    """The cells as Markdown; ``load``: 1-minute load average before and after the run."""
    lines = [
        f"ms per {FRAMES}-frame sample ({FRAMES / MODEL_FPS:g} s at {MODEL_FPS:g} fps), "
        f"batched classifier-free guidance, torch threads: {threads}",
        "",
        "| model | weights | runtime | sampler | steps | batch | ms/sample, cached text | "
        "ms/sample, uncached text | text ms/call (uncached) | sampler ms/call | "
        "post-process ms/call | repeats |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        lines.append(
            f"| {c.model} | {c.weights} | {c.runtime} | {c.sampler} | {c.steps} | {c.batch} | "
            f"{c.cached_ms:.1f} | {c.uncached_ms:.1f} | {c.text_ms_uncached:.1f} | "
            f"{c.sampler_ms:.1f} | {c.postprocess_ms:.1f} | {c.repeats} |"
        )
    rs = ratios(cells)
    if rs:
        lines += [
            "",
            "| model | batch | DDIM-50 ms | flow-4 ms | DDIM-50 / flow-4 |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [
            f"| {r['model']} | {r['batch']} | {r['ddim50_ms']:.1f} | {r['flow4_ms']:.1f} | "
            f"{r['ratio']:.1f}x |"
            for r in rs
        ]
    if load is not None:
        cores = os.cpu_count() or 1
        lines += [
            "",
            f"Load average (1 min) before / after: {load[0]:.1f} / {load[1]:.1f} on {cores} "
            "cores (after includes this benchmark's own threads).",
        ]
        if load[0] > 1.0:
            lines.append(
                "Warning: other processes were running; these timings are slower and noisier "
                "than on an idle machine."
            )
    if any(c.weights == "random" for c in cells):
        lines += [
            "",
            "Rows with random weights: the architecture of the named preset with random "
            "values; latency does not depend on the weights' values.",
        ]
    return "\n".join(lines)


def quality(runtimes: list[str], split: str, limit: int | None) -> dict[str, dict[str, float]]:
    """FID, R@1, FID_k of the default generator under each runtime (motiongen eval's scoring)."""
    from motiongen.data.prepare import prepare
    from motiongen.eval.evaluator import REAL_ROW, evaluate_variants, pipeline_generate_fn

    variants = {
        runtime: pipeline_generate_fn(Pipeline.from_pretrained(DEFAULT_MODEL, runtime=runtime))
        for runtime in runtimes
    }
    rows, _ = evaluate_variants(variants, prepare().data, split=split, limit=limit)
    return {
        ("real (held-out)" if name == REAL_ROW else name): {
            "FID": float(m["fid"]), "R@1": float(m["r_precision"][0]), "FID_k": float(m["fid_k"]),
        }
        for name, m in rows.items()
    }  # fmt: skip


def quality_markdown(table: dict[str, dict[str, float]], split: str, n: int | None) -> str:
    lines = [
        "",
        f"Quality of the shipped {DEFAULT_MODEL} (default steps) per runtime, {split} split"
        + (f", first {n} conditions" if n else "")
        + " (`motiongen eval` scoring; same conditions and seeds):",
        "",
        "| runtime | FID ↓ | R@1 ↑ | FID_k ↓ |",
        "|---|---:|---:|---:|",
    ]
    for name, m in table.items():
        r1 = m.get("R@1", float("nan"))
        lines.append(
            f"| {name} | {m.get('FID', float('nan')):.4f} | {100 * r1:.1f} % | "
            f"{m.get('FID_k', float('nan')):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny only, fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timed call pairs per cell")
    parser.add_argument("--budget", type=float, default=None, help="seconds per cell (soft)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--no-postprocess", action="store_true")
    parser.add_argument("--models", nargs="+", choices=["tiny", "full"], default=None)
    parser.add_argument("--batches", nargs="+", type=int, default=None, help="default 1 32")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    parser.add_argument("--runtimes", nargs="+", choices=["torch", "onnx", "onnx-int8"],
                        default=["torch"], help="how the network runs (default torch)")  # fmt: skip
    parser.add_argument("--no-ddim", action="store_true", help="flow rows only")
    parser.add_argument("--quality", default=None, metavar="SPLIT",
                        help="add FID / R@1 / FID_k per runtime on this split")  # fmt: skip
    parser.add_argument("--quality-limit", type=int, default=None, metavar="N")
    args = parser.parse_args(argv)

    from rich.console import Console

    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console()
    threads = torch.get_num_threads()
    repeats = args.repeats or (3 if args.quick else 7)
    budget = args.budget or (5.0 if args.quick else 20.0)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with console.status("timing") as status:
        cells = run(
            quick=args.quick,
            repeats=repeats,
            budget=budget,
            postprocess=not args.no_postprocess,
            models=args.models,
            batches=args.batches,
            samplers=[c for c in grid(args.quick)[1] if c[0] == "flow"] if args.no_ddim else None,
            runtimes=args.runtimes,
            progress=lambda c: status.update(
                f"{c.model} {c.runtime} {c.sampler}-{c.steps} batch {c.batch}: "
                f"{c.cached_ms:.1f} ms/sample"
            ),
        )
    load = (load_before, os.getloadavg()[0])
    table = markdown(cells, threads, load)
    scores = None
    if args.quality:
        with console.status("scoring each runtime"):
            scores = quality(args.runtimes, args.quality, args.quality_limit)
        table += "\n" + quality_markdown(scores, args.quality, args.quality_limit)
    payload = {
        "threads": threads,
        "load_average": load,
        "frames": FRAMES,
        "prompt": PROMPT,
        "postprocess": not args.no_postprocess,
        "cells": [asdict(c) for c in cells],
        "ratios": ratios(cells),
        "quality": scores,
    }
    report(table, payload, args.out)
    console.print(f"benchmark took {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    run_cli(main)
