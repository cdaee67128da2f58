"""Classifier-free guidance (Ho & Salimans 2022, https://arxiv.org/abs/2207.12598).

A model trained with condition dropout predicts both conditional and unconditional outputs;
guidance extrapolates between them. Works the same on flow velocities and DDPM epsilons.

Single scale s over all conditions:

    f = f_uncond + s (f_cond - f_uncond)

Two scales, text s_t and audio s_a:

    nested (default; InstructPix2Pix-style, Brooks et al. 2023, eq. 3):
        f = f_uncond + s_t (f_text - f_uncond) + s_a (f_text+audio - f_text)
    compositional (Liu et al. 2022, composable diffusion):
        f = f_uncond + s_t (f_text - f_uncond) + s_a (f_audio - f_uncond)

All variants are evaluated in one forward pass on a batch stacked along B (2x or 3x), which
on a CPU costs much less than separate passes. Scale 1 with a single scale needs only the
conditional pass and takes that shortcut.

Conditions must offer ``with_drops(text=..., audio=...)`` and a ``concat`` classmethod
(``motiongen.models.ModelConditions`` does); nothing here imports a network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

import torch
from torch import Tensor

from motiongen.errors import InputError
from motiongen.generative.flow import ModelFn


class Droppable(Protocol):
    def with_drops(self, *, text: bool, audio: bool) -> Any: ...

    @classmethod
    def concat(cls, items: Sequence[Any]) -> Any: ...


def cfg_combine(cond: Tensor, uncond: Tensor, scale: float) -> Tensor:
    """uncond + scale (cond - uncond): scale 0 is unconditional, 1 conditional."""
    return uncond + scale * (cond - uncond)


def guidance_weights(
    *,
    scale: float | None = None,
    text_scale: float | None = None,
    audio_scale: float | None = None,
    mode: Literal["nested", "compositional"] = "nested",
) -> list[tuple[tuple[bool, bool], float]]:
    """Guidance as a linear combination: [((drop_text, drop_audio), weight), ...].

    Give either ``scale`` (one scale for all conditions) or ``text_scale`` and
    ``audio_scale``. Weights sum to 1 so a constant prediction is left unchanged.
    """
    if scale is not None:
        if text_scale is not None or audio_scale is not None:
            raise InputError("give either one guidance scale or text and audio scales, not both")
        if scale == 1.0:
            return [((False, False), 1.0)]
        return [((False, False), scale), ((True, True), 1.0 - scale)]
    if text_scale is None or audio_scale is None:
        raise InputError("give a guidance scale, or both text_scale and audio_scale")
    st, sa = text_scale, audio_scale
    if mode == "nested":  # uncond, text only, text + audio
        return [((True, True), 1.0 - st), ((False, True), st - sa), ((False, False), sa)]
    if mode == "compositional":  # uncond, text only, audio only
        return [((True, True), 1.0 - st - sa), ((False, True), st), ((True, False), sa)]
    raise InputError(f"guidance mode must be 'nested' or 'compositional', got {mode!r}")


def guided(
    model_fn: ModelFn,
    cond: Droppable | None,
    mask: Tensor | None = None,
    *,
    scale: float | None = None,
    text_scale: float | None = None,
    audio_scale: float | None = None,
    mode: Literal["nested", "compositional"] = "nested",
    batched: bool = True,
) -> Callable[[Tensor, Tensor], Tensor]:
    """A ``(x, t) -> prediction`` function applying guidance to ``model_fn(x, t, cond, mask)``.

    With ``cond=None`` there is nothing to guide and the model is called as is.
    batched=False evaluates the variants one after another (less memory, same result).
    """
    if cond is None:
        return lambda x, t: model_fn(x, t, None, mask)
    terms = guidance_weights(scale=scale, text_scale=text_scale, audio_scale=audio_scale, mode=mode)
    terms = [(drops, w) for drops, w in terms if w != 0.0]
    variants = [cond.with_drops(text=dt, audio=da) for (dt, da), _ in terms]
    weights = [w for _, w in terms]
    k = len(variants)
    if k == 1:
        return lambda x, t: weights[0] * model_fn(x, t, variants[0], mask)

    if not batched:

        def sequential(x: Tensor, t: Tensor) -> Tensor:
            return sum(w * model_fn(x, t, c, mask) for w, c in zip(weights, variants, strict=True))

        return sequential

    stacked = type(cond).concat(variants)
    stacked_mask = None if mask is None else mask.repeat(k, 1)

    def batched_fn(x: Tensor, t: Tensor) -> Tensor:
        B = x.shape[0]
        out = model_fn(x.repeat(k, *([1] * (x.ndim - 1))), t.repeat(k), stacked, stacked_mask)
        parts = out.view(k, B, *x.shape[1:])
        return torch.einsum(
            "k,k...->...", torch.tensor(weights, dtype=out.dtype, device=out.device), parts
        )

    return batched_fn


def condition_dropout(
    batch: int,
    *,
    p_text: float,
    p_audio: float,
    p_both: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> tuple[Tensor, Tensor]:
    """Per-sample drop flags (drop_text (B,), drop_audio (B,)) for guidance training.

    Text and audio drop independently with p_text and p_audio; additionally both drop
    together with p_both so the fully unconditional model is trained often enough even
    when the independent rates are small (P(both) = p_both + (1 - p_both) p_text p_audio).
    """
    for name, p in (("p_text", p_text), ("p_audio", p_audio), ("p_both", p_both)):
        if not 0.0 <= p <= 1.0:
            raise InputError(f"{name} must be a probability in [0, 1], got {p}")
    u = torch.rand(3, batch, generator=generator, device=device)
    both = u[2] < p_both
    return (u[0] < p_text) | both, (u[1] < p_audio) | both
