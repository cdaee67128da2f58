"""The denoiser as an ONNX graph, and an onnxruntime stand-in for the PyTorch network.

``export_onnx`` writes the network of a checkpoint as one ONNX graph with dynamic batch,
frame and token axes; ``int8=True`` adds onnxruntime's dynamic int8 quantisation of its
matrix products. ``OnnxDenoiser`` is called like the network (``model(x, t, cond, mask)``) so
``Pipeline(runtime="onnx")`` samples, guides and post-processes exactly as with PyTorch.

The graph takes every condition as a tensor; what a caller leaves out is given in the form
the network reads as "none" (a dropped text or music with zero values, zero known values
with a zero mask, a zero style vector), which computes what the network computes for a
missing condition (tests/test_onnx.py checks this against PyTorch).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.models.conditions import ModelConditions

OPSET = 18


def input_names(config: Any) -> list[str]:
    """The graph's inputs for a network config, in order."""
    names = ["x", "t"]
    if config.text_dim:
        names += ["text_pooled", "text_tokens", "text_mask", "drop_text"]
    if config.audio_dim:
        names += ["audio", "drop_audio"]
    names += ["known", "known_mask"]
    if getattr(config, "num_tasks", 0):
        names += ["task"]
    if getattr(config, "style_dim", 0):
        names += ["style", "drop_style"]
    if getattr(config, "prior_dim", 0):
        names += ["prior", "drop_prior"]
    return names


class _Graph(nn.Module):
    """The network with conditions as positional tensors (what ONNX export needs)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.names = input_names(model.config)

    def forward(self, *inputs: Tensor) -> Tensor:
        named = dict(zip(self.names, inputs, strict=True))
        cond = ModelConditions(**{k: v for k, v in named.items() if k not in ("x", "t")})
        return self.model(named["x"], named["t"], cond)


def example_inputs(config: Any, batch: int = 2, frames: int = 40, tokens: int = 7) -> dict:
    """Inputs of the right shapes for a network config (random values)."""
    g = torch.Generator().manual_seed(0)
    known_dim = getattr(config, "control_dim", 0) or config.feature_dim
    mask_dim = known_dim if getattr(config, "control_dim", 0) else 1
    out: dict[str, Tensor] = {
        "x": torch.randn(batch, frames, config.feature_dim, generator=g),
        "t": torch.rand(batch, generator=g),
    }
    if config.text_dim:
        out |= {
            "text_pooled": torch.randn(batch, config.text_dim, generator=g),
            "text_tokens": torch.randn(batch, tokens, config.text_dim, generator=g),
            "text_mask": torch.ones(batch, tokens, dtype=torch.bool),
            "drop_text": torch.zeros(batch, dtype=torch.bool),
        }
    if config.audio_dim:
        out |= {
            "audio": torch.randn(batch, frames, config.audio_dim, generator=g),
            "drop_audio": torch.zeros(batch, dtype=torch.bool),
        }
    out |= {
        "known": torch.randn(batch, frames, known_dim, generator=g),
        "known_mask": (torch.rand(batch, frames, mask_dim, generator=g) > 0.5).float(),
    }
    if getattr(config, "num_tasks", 0):
        out["task"] = torch.zeros(batch, dtype=torch.long)
    if getattr(config, "style_dim", 0):
        out |= {
            "style": torch.nn.functional.normalize(
                torch.randn(batch, config.style_dim, generator=g), dim=-1
            ),
            "drop_style": torch.zeros(batch, dtype=torch.bool),
        }
    if getattr(config, "prior_dim", 0):
        out |= {
            "prior": torch.randn(batch, frames, config.prior_dim, generator=g),
            "drop_prior": torch.zeros(batch, dtype=torch.bool),
        }
    return out


def export_onnx(model: nn.Module, path: str | Path, *, int8: bool = False) -> Path:
    """Write ``model`` (a MotionDiT or U-Net of a checkpoint) as an ONNX file at ``path``."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = _Graph(model.float().eval())
    inputs = example_inputs(model.config)
    names = graph.names
    auto = torch.export.Dim.AUTO
    shapes = []
    for name in names:
        dims = {0: auto}
        if name in ("x", "text_tokens", "text_mask", "audio", "known", "known_mask", "prior"):
            dims[1] = auto  # frames, or text tokens
        shapes.append(dims)
    target = path.with_name(path.stem + ".fp32.tmp.onnx") if int8 else path.with_suffix(".tmp")
    _clear_caches(model)
    with torch.no_grad(), quiet_exporter():
        program = torch.onnx.export(
            graph, tuple(inputs[n] for n in names), input_names=names, output_names=["out"],
            dynamic_shapes=(tuple(shapes),), opset_version=OPSET, dynamo=True, verbose=False,
        )  # fmt: skip
        program.save(str(target))
    _clear_caches(model)  # tracing leaves symbolic tables in the RoPE cache
    onnx.checker.check_model(str(target))
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # onnxruntime logs "Please consider to run pre-processing" on the root logger for
        # every graph; the shape inference it suggests changes nothing for these matmuls
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(target), str(path), weight_type=QuantType.QInt8)
        finally:
            root.setLevel(level)
        target.unlink()
    else:
        target.replace(path)
    return path


def _clear_caches(model: nn.Module) -> None:
    for module in model.modules():
        cache = getattr(module, "_cache", None)
        if isinstance(cache, dict):
            cache.clear()


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """The exporter's progress lines and warnings (missing torchvision ops, tracing notes)
    say nothing about this network; errors still raise."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch._dynamo", "torch.export")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


class OnnxDenoiser(nn.Module):
    """An onnxruntime session called like the network: ``model(x, t, cond, mask=None)``.

    It keeps the network's ``config`` (the pipeline reads its sizes) and has no parameters;
    ``to``/``eval`` are no-ops. Frames must not be padded (``mask`` None), as in sampling.
    """

    def __init__(self, path: str | Path, config: Any, *, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.config = config
        self.names = input_names(config)
        self.path = Path(path)

    def forward(
        self, x: Tensor, t: Tensor | float, cond: ModelConditions | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:  # fmt: skip
        if mask is not None and not bool(mask.all()):
            raise InputError("the ONNX runtime samples whole windows; padded frames (a mask) are "
                             "not supported — use runtime='torch'")  # fmt: skip
        feeds = self._feeds(x, t, cond or ModelConditions())
        out = self.session.run(["out"], feeds)[0]
        return torch.from_numpy(out).to(x.dtype)

    def _feeds(self, x: Tensor, t: Tensor | float, cond: ModelConditions) -> dict[str, np.ndarray]:
        cfg = self.config
        B, T, _ = x.shape
        f32 = np.float32
        t = torch.as_tensor(t, dtype=torch.float32).reshape(-1).expand(B)
        feeds: dict[str, np.ndarray] = {
            "x": x.detach().float().cpu().numpy(),
            "t": t.cpu().numpy().astype(f32),
        }
        no = np.zeros(B, dtype=bool)

        def flag(v: Tensor | None, default: bool) -> np.ndarray:
            return np.full(B, default) if v is None else v.bool().cpu().numpy()

        if cfg.text_dim:
            if cond.text_pooled is None:  # no text: a dropped one reads the same
                feeds |= {
                    "text_pooled": np.zeros((B, cfg.text_dim), f32),
                    "text_tokens": np.zeros((B, 1, cfg.text_dim), f32),
                    "text_mask": np.zeros((B, 1), bool),
                    "drop_text": ~no,
                }
            else:
                tokens = cond.text_tokens
                if tokens is None:
                    tokens = cond.text_pooled[:, None, :]
                tmask = cond.text_mask
                if tmask is None:
                    tmask = torch.ones(tokens.shape[:2], dtype=torch.bool)
                feeds |= {
                    "text_pooled": cond.text_pooled.float().cpu().numpy(),
                    "text_tokens": tokens.float().cpu().numpy(),
                    "text_mask": tmask.bool().cpu().numpy(),
                    "drop_text": flag(cond.drop_text, False),
                }
        if cfg.audio_dim:
            if cond.audio is None:
                feeds |= {"audio": np.zeros((B, T, cfg.audio_dim), f32), "drop_audio": ~no}
            else:
                feeds |= {
                    "audio": cond.audio.float().cpu().numpy(),
                    "drop_audio": flag(cond.drop_audio, False),
                }
        control = getattr(cfg, "control_dim", 0)
        width = control or cfg.feature_dim
        known = np.zeros((B, T, width), f32)
        kmask = np.zeros((B, T, width if control else 1), f32)
        if cond.known is not None and cond.known_mask is not None:
            k = cond.known.float().cpu().numpy()
            m = cond.known_mask.float().cpu().numpy()
            c = k.shape[-1]
            known[..., :c] = k[..., :width]
            if control:  # a per-frame mask of feature values covers the first c values
                kmask[..., :c] = np.broadcast_to(m, (B, T, c)) if m.shape[-1] == 1 else m
            else:
                kmask[...] = (
                    m if m.shape[-1] == 1 else m[..., : cfg.feature_dim].max(-1, keepdims=True)
                )
        feeds |= {"known": known, "known_mask": kmask}
        if getattr(cfg, "num_tasks", 0):
            if cond.task is None:
                raise InputError("a control network needs a task for every sample")
            feeds["task"] = cond.task.long().cpu().numpy()
        if getattr(cfg, "style_dim", 0):
            if cond.style is None:
                feeds |= {"style": np.zeros((B, cfg.style_dim), f32), "drop_style": ~no}
            else:
                feeds |= {
                    "style": cond.style.float().cpu().numpy(),
                    "drop_style": flag(cond.drop_style, False),
                }
        if getattr(cfg, "prior_dim", 0):
            if cond.prior is None:
                feeds |= {"prior": np.zeros((B, T, cfg.prior_dim), f32), "drop_prior": ~no}
            else:
                feeds |= {
                    "prior": cond.prior.float().cpu().numpy(),
                    "drop_prior": flag(cond.drop_prior, False),
                }
        return feeds


def onnx_cache_path(weights: Path, *, int8: bool) -> Path:
    """Where the ONNX graph of a checkpoint's weights is kept (by the weights' digest)."""
    from motiongen.paths import cache_dir

    if not weights.is_file():
        raise DataNotFoundError(f"no weights at {weights} to export")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    return cache_dir() / "onnx" / f"{digest}{'.int8' if int8 else ''}.onnx"


def onnx_denoiser(model: nn.Module, weights: Path, *, int8: bool = False) -> OnnxDenoiser:
    """The ONNX stand-in for a checkpoint's network, exported on first use and cached."""
    path = onnx_cache_path(weights, int8=int8)
    if not path.is_file():
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.onnx")
        try:
            export_onnx(model, tmp, int8=int8)
        except Exception as err:  # the exporter's errors are long traces; say what failed
            raise FormatError(
                f"cannot export {weights.parent.name} to ONNX ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}); use runtime='torch'"
            ) from err
        tmp.replace(path)
    return OnnxDenoiser(path, model.config)
