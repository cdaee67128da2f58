"""``motiongen export onnx|coreml``: a checkpoint's network for other runtimes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import out

export_app = typer.Typer(help="Export a checkpoint's network for other runtimes.",
                         no_args_is_help=True)  # fmt: skip


@export_app.command("onnx")
def onnx(
    checkpoint: Annotated[str, typer.Argument(help="Checkpoint folder or shipped name.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .onnx file to write.")],
    int8: Annotated[bool, typer.Option(help="Quantise matrix products to int8 (dynamic).")] = False,
) -> None:
    """Write the denoiser with dynamic batch, frame and token axes, and check it against
    PyTorch on random inputs."""
    import torch

    from motiongen.checkpoint import load_checkpoint, resolve_checkpoint
    from motiongen.deploy.onnx import OnnxDenoiser, example_inputs, export_onnx, input_names
    from motiongen.errors import InputError
    from motiongen.models import ModelConditions

    if output.suffix != ".onnx":
        raise InputError(f"the output must be a .onnx file, got {output.name}")
    ck = load_checkpoint(resolve_checkpoint(checkpoint))
    t0 = time.perf_counter()
    export_onnx(ck.model, output, int8=int8)
    seconds = time.perf_counter() - t0
    inputs = example_inputs(ck.model.config, batch=2, frames=50, tokens=6)
    cond = ModelConditions(**{k: v for k, v in inputs.items() if k not in ("x", "t")})
    with torch.no_grad():
        want = ck.model(inputs["x"], inputs["t"], cond)
    got = OnnxDenoiser(output, ck.model.config)(inputs["x"], inputs["t"], cond)
    diff = float((want - got).abs().max())
    scale = float(want.abs().max())
    note = (
        " (int8 rounds the weights: judge it by its motions, `motiongen eval --runtime onnx-int8`)"
        if int8
        else ""
    )
    out.print(
        f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, {'int8' if int8 else 'fp32'}) in "
        f"{seconds:.0f} s; inputs: {', '.join(input_names(ck.model.config))}; largest "
        f"difference from PyTorch on random inputs: {diff:.2g} of outputs up to {scale:.2g}"
        f"{note}",
        highlight=False,
        soft_wrap=True,
    )


@export_app.command("coreml")
def coreml(
    checkpoint: Annotated[str, typer.Argument(help="Checkpoint folder or shipped name.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .mlpackage folder to write.")],
    frames: Annotated[int, typer.Option(help="Fixed input length in motion frames.")] = 64,
    tokens: Annotated[
        int | None, typer.Option(help="Fixed text tokens (default: the checkpoint's maximum).")
    ] = None,
    bits: Annotated[
        int, typer.Option(help="Palettise weights to 2**bits k-means entries; 0 keeps fp32.")
    ] = 6,
) -> None:
    """Write the denoiser as a Core ML program (fixed batch 1 x FRAMES), with 6-bit
    palettised weights by default. Runs on any OS; the package runs on macOS / iOS."""
    from motiongen.checkpoint import load_checkpoint, resolve_checkpoint
    from motiongen.deploy.coreml import export_coreml

    ck = load_checkpoint(resolve_checkpoint(checkpoint))
    count = tokens if tokens is not None else ck.config.conditioning.max_tokens
    summary = export_coreml(ck.model, output, frames=frames, tokens=count, bits=bits or None)
    shapes = ", ".join(f"{k} {tuple(v)}" for k, v in summary["inputs"].items())
    out.print(
        f"wrote {output} ({summary['megabytes']:.1f} MB, {summary['bits']}-bit weights) in "
        f"{summary['seconds']:.0f} s; inputs: {shapes}; output: velocity",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
