"""The denoiser as a Core ML program for Apple devices, optionally with 6-bit palettised weights.

As the original design has it: a fixed input of ``frames`` (64) motion frames and
``tokens`` text tokens at batch 1, every condition a float tensor (flags > 0.5 mean true; the
text mask marks real tokens), the network's velocity (or noise) prediction as output. The
sampler, guidance, text encoder and normalisation stay with the caller, as with ONNX
(``deploy/onnx.py`` has the same input list). Conversion runs on any OS (coremltools);
running the package needs macOS/iOS (docs/deployment.md shows how).

Conversion goes through ``torch.export`` (the path coremltools recommends for PyTorch 2): the
graph is decomposed to core ATen, and ``aten.alias`` nodes newer PyTorch versions insert are
removed (the converter does not know them; an alias is the identity), or made a copy when
they are the output.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from motiongen.deploy.onnx import _Graph, example_inputs, input_names
from motiongen.errors import InputError

FRAMES = 64
FLAGS = ("text_mask", "drop_text", "drop_audio", "drop_style")


class _FloatInputs(nn.Module):
    """Every input a float tensor (Core ML's plainest type): flags become booleans and the
    task an index inside the graph."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.net = _Graph(model)
        self.names = self.net.names

    def forward(self, *inputs: Tensor) -> Tensor:
        cast = []
        for name, value in zip(self.names, inputs, strict=True):
            if name in FLAGS:
                value = value > 0.5
            elif name == "task":
                value = value.round().long()
            cast.append(value)
        return self.net(*cast)


def _coremltools() -> Any:
    """coremltools, imported without its ~10 lines of notices on Linux (no Core ML runtime
    here, untested torch / scikit-learn versions): a command's output stays its own."""
    logging.getLogger("coremltools").setLevel(logging.ERROR)
    import coremltools

    return coremltools


@contextlib.contextmanager
def _quiet() -> Any:
    """coremltools draws a progress bar per compiler pass (~10 lines of bars for a 9 s job),
    and torch.export warns about its own deprecations: the command reports once itself."""
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("ignore", FutureWarning)
        yield


def coreml_inputs(config: Any, frames: int, tokens: int) -> dict[str, Tensor]:
    """Example inputs of the package's fixed shapes, all float."""
    inputs = example_inputs(config, batch=1, frames=frames, tokens=tokens)
    return {k: v.float() for k, v in inputs.items()}


def export_coreml(
    model: nn.Module,
    path: str | Path,
    *,
    frames: int = FRAMES,
    tokens: int = 64,
    bits: int | None = 6,
) -> dict[str, Any]:
    """Write ``model`` as an ``.mlpackage`` at ``path``; ``bits`` (1-8) palettises the weights
    with k-means look-up tables of 2**bits entries (None: fp32 weights). Returns a summary."""
    path = Path(path)
    if path.suffix != ".mlpackage":
        raise InputError(f"a Core ML package is a .mlpackage folder, got {path.name}")
    ct = _coremltools()
    patch = getattr(model.config, "patch_size", 1) or 1
    if not 2 <= frames <= 4096 or frames % patch:
        raise InputError(f"frames must be 2..4096 and a multiple of the patch size {patch}, "
                         f"got {frames}")  # fmt: skip
    if not 1 <= tokens <= 512:
        raise InputError(f"tokens must be 1..512, got {tokens}")
    if bits is not None and not 1 <= bits <= 8:
        raise InputError(f"palettisation bits must be 1..8, got {bits}")

    wrapper = _FloatInputs(model.float().eval())
    inputs = coreml_inputs(model.config, frames, tokens)
    names = input_names(model.config)
    args = tuple(inputs[n] for n in names)
    t0 = time.perf_counter()
    with _quiet():
        with torch.no_grad():
            program = torch.export.export(wrapper, args).run_decompositions()
        _drop_aliases(program)
        mlmodel = ct.convert(
            program,
            convert_to="mlprogram",
            minimum_deployment_target=ct.target.iOS17,
            compute_precision=ct.precision.FLOAT32,
        )
        mlmodel = _named(mlmodel, names, "velocity")
        if bits is not None:
            from coremltools.optimize.coreml import (
                OpPalettizerConfig,
                OptimizationConfig,
                palettize_weights,
            )

            palette = OpPalettizerConfig(mode="kmeans", nbits=bits)
            mlmodel = palettize_weights(mlmodel, OptimizationConfig(global_config=palette))
    mlmodel.short_description = "motiongen denoiser (one network evaluation of the sampler)"
    mlmodel.user_defined_metadata["motiongen.inputs"] = json.dumps(
        {n: list(inputs[n].shape) for n in names}
    )
    mlmodel.user_defined_metadata["motiongen.bits"] = str(bits or 32)
    path.parent.mkdir(parents=True, exist_ok=True)
    mlmodel.save(str(path))
    return {
        "path": str(path),
        "seconds": round(time.perf_counter() - t0, 1),
        "megabytes": round(folder_bytes(path) / 1e6, 2),
        "inputs": {n: list(inputs[n].shape) for n in names},
        "bits": bits or 32,
    }


def _drop_aliases(program: Any) -> None:
    graph = program.graph
    for node in list(graph.nodes):
        if node.op == "call_function" and node.target is torch.ops.aten.alias.default:
            if any(user.op == "output" for user in node.users):
                node.target = torch.ops.aten.clone.default  # the output keeps its name
            else:
                node.replace_all_uses_with(node.args[0])
                graph.erase_node(node)
    program.graph_module.recompile()


def _named(mlmodel: Any, names: list[str], output: str) -> Any:
    """The package's inputs named as the network's conditions, its output ``output``."""
    ct = _coremltools()

    spec = mlmodel.get_spec()
    for old, new in zip([i.name for i in spec.description.input], names, strict=True):
        if old != new:
            ct.utils.rename_feature(spec, old, new)
    ct.utils.rename_feature(spec, spec.description.output[0].name, output)
    return ct.models.MLModel(spec, weights_dir=mlmodel.weights_dir)


def package_inputs(path: str | Path) -> dict[str, list[int]]:
    """Input names and shapes of a written package (read from its spec; any OS)."""
    ct = _coremltools()

    spec = ct.utils.load_spec(str(path))
    return {i.name: list(i.type.multiArrayType.shape) for i in spec.description.input}


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
