"""What a generator network is conditioned on, as one typed object.

``ModelConditions`` holds tensors only (already encoded text, audio features resampled to
motion frames, known frames); encoders that produce them live in ``motiongen.conditioning``.
Every field is optional: a missing condition is replaced by a learned null inside the
network, exactly as if it had been dropped for classifier-free guidance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import torch
from torch import Tensor

from motiongen.errors import InputError

# Task ids of a multi-task network's embedding (``tasks.TASKS`` names them all): generation
# from conditions and its unconditional twin, which guidance contrasts.
GEN_TASK, UNCOND_TASK = 0, 5


@dataclass
class ModelConditions:
    """Conditions for a batch of B motions of T frames with D features.

    text_pooled: (B, Ct) sentence embedding.
    text_tokens: (B, Lt, Ct) token embeddings, attended to by cross-attention.
    text_mask: (B, Lt) bool, True where a token is real (not padding).
    audio: (B, T, Ca) audio features aligned to the motion frames.
    known: (B, T, C) given values: C = D model features (seed prefix, window overlaps), or
        C = the network's ``control_dim`` (features + world root channels, ``tasks.control``).
    known_mask: (B, T, 1) per frame, or (B, T, C) per value; bool or float, 1 where given.
    drop_text: (B,) bool, True replaces the text of that sample by the learned null.
    drop_audio: (B,) bool, True replaces the audio of that sample by the learned null.
    task: (B,) long task id (``tasks.TASKS``) for multi-task networks.
    style: (B, S) unit style vectors (``tasks.style``) for networks with a style input.
    drop_style: (B,) bool, True removes the style of that sample (dropped with the text when
        guiding: the unconditional branch has neither).
    prior: (B, T, P) a retrieved motion prior (``retrieval.prior``: normalised features of
        the blended phrases, aligned to the frames) for networks with a prior input.
    drop_prior: (B,) bool, True removes the prior of that sample (dropped with the text when
        guiding, like the style).
    """

    text_pooled: Tensor | None = None
    text_tokens: Tensor | None = None
    text_mask: Tensor | None = None
    audio: Tensor | None = None
    known: Tensor | None = None
    known_mask: Tensor | None = None
    drop_text: Tensor | None = None
    drop_audio: Tensor | None = None
    task: Tensor | None = None
    style: Tensor | None = None
    drop_style: Tensor | None = None
    prior: Tensor | None = None
    drop_prior: Tensor | None = None

    def batch_size(self) -> int | None:
        """B of the first tensor present, or None when no condition is given."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                return int(value.shape[0])
        return None

    def check(self, batch: int, frames: int, feature_dim: int) -> None:
        """Raise ``InputError`` if a tensor does not fit a (batch, frames, feature_dim) input."""

        def fail(name: str, expected: str, got: Tensor) -> None:
            raise InputError(
                f"condition {name} must have shape {expected}, got {tuple(got.shape)}; "
                "build conditions for the same batch and frame count as the motion input"
            )

        def want(name: str, ndim: int, dims: dict[int, int], expected: str) -> None:
            value = getattr(self, name)
            if value is None:
                return
            if value.ndim != ndim or any(value.shape[i] != n for i, n in dims.items()):
                fail(name, expected, value)

        want("text_pooled", 2, {0: batch}, "(B, Ct)")
        want("text_tokens", 3, {0: batch}, "(B, Lt, Ct)")
        if self.text_mask is not None:
            lt = -1 if self.text_tokens is None else self.text_tokens.shape[1]
            want("text_mask", 2, {0: batch, 1: lt}, "(B, Lt) matching text_tokens")
        want("audio", 3, {0: batch, 1: frames}, "(B, T, Ca)")
        want("known", 3, {0: batch, 1: frames}, "(B, T, C)")
        if self.known is not None and self.known.shape[2] < feature_dim:
            fail("known", f"(B, T, C >= {feature_dim})", self.known)
        if self.known_mask is not None:
            width = 1 if self.known is None else self.known.shape[2]
            if self.known_mask.shape[2] not in (1, width):
                fail("known_mask", "(B, T, 1) or (B, T, C) like known", self.known_mask)
        want("known_mask", 3, {0: batch, 1: frames}, "(B, T, 1) or (B, T, C)")
        if (self.known is None) != (self.known_mask is None):
            raise InputError("known and known_mask must be given together (values and where)")
        want("drop_text", 1, {0: batch}, "(B,)")
        want("drop_audio", 1, {0: batch}, "(B,)")
        want("task", 1, {0: batch}, "(B,)")
        want("style", 2, {0: batch}, "(B, S)")
        want("drop_style", 1, {0: batch}, "(B,)")
        want("prior", 3, {0: batch, 1: frames}, "(B, T, P)")
        want("drop_prior", 1, {0: batch}, "(B,)")

    def with_drops(self, *, text: bool, audio: bool) -> ModelConditions:
        """A copy where text and/or audio are dropped (set to null) for every sample.

        With both dropped, plain generation (task ``GEN_TASK``) becomes unconditional
        generation (``UNCOND_TASK``), as the network was trained: the unconditional branch
        of guidance is the network's own unconditional task."""
        batch = self.batch_size()
        if batch is None:
            return self
        device = next(
            getattr(self, f.name).device for f in fields(self) if getattr(self, f.name) is not None
        )

        def merged(current: Tensor | None, flag: bool) -> Tensor | None:
            if not flag:
                return current
            return torch.ones(batch, dtype=torch.bool, device=device)

        task = self.task
        if task is not None and text and audio:
            task = torch.where(task == GEN_TASK, torch.full_like(task, UNCOND_TASK), task)
        return replace(
            self,
            drop_text=merged(self.drop_text, text),
            drop_audio=merged(self.drop_audio, audio),
            drop_style=merged(self.drop_style, text and self.style is not None),
            drop_prior=merged(self.drop_prior, text and self.prior is not None),
            task=task,
        )

    def to(self, device: torch.device | str) -> ModelConditions:
        """A copy with every tensor moved to ``device``."""
        moved = {
            f.name: (None if getattr(self, f.name) is None else getattr(self, f.name).to(device))
            for f in fields(self)
        }
        return ModelConditions(**moved)

    def head(self, n: int) -> ModelConditions:
        """A copy holding the first ``n`` samples of every tensor."""
        return ModelConditions(
            **{f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[:n]
               for f in fields(self)}
        )  # fmt: skip

    @classmethod
    def concat(cls, items: Sequence[ModelConditions]) -> ModelConditions:
        """Stack several condition batches along B (used to batch guidance variants).

        Drop flags missing in some items count as False; text tokens of different lengths
        are right-padded (and masked). Other fields must be present in all items or none.
        """
        if not items:
            raise InputError("concat needs at least one ModelConditions")
        sizes = [c.batch_size() for c in items]
        out: dict[str, Tensor | None] = {}
        for f in fields(cls):
            values = [getattr(c, f.name) for c in items]
            if all(v is None for v in values):
                out[f.name] = None
                continue
            if f.name == "task":
                if any(v is None for v in values):
                    raise InputError("cannot concat conditions: task is given for some items only")
                out[f.name] = torch.cat(values)  # type: ignore[arg-type]
                continue
            if f.name in ("drop_text", "drop_audio", "drop_style", "drop_prior"):
                device = next(v.device for v in values if v is not None)
                out[f.name] = torch.cat(
                    [
                        v.bool()
                        if v is not None
                        else torch.zeros(n or 0, dtype=torch.bool, device=device)
                        for v, n in zip(values, sizes, strict=True)
                    ]
                )
                continue
            if any(v is None for v in values) and f.name != "text_mask":
                raise InputError(f"cannot concat conditions: {f.name} is given for some items only")
            out[f.name] = None if f.name == "text_mask" else values  # type: ignore[assignment]
        if out["text_tokens"] is not None:
            tokens: list[Tensor] = out["text_tokens"]  # type: ignore[assignment]
            longest = max(t.shape[1] for t in tokens)
            padded, masks = [], []
            for c, tok in zip(items, tokens, strict=True):
                mask = (
                    c.text_mask.bool()
                    if c.text_mask is not None
                    else torch.ones(tok.shape[:2], dtype=torch.bool, device=tok.device)
                )
                pad = longest - tok.shape[1]
                padded.append(torch.nn.functional.pad(tok, (0, 0, 0, pad)))
                masks.append(torch.nn.functional.pad(mask, (0, pad), value=False))
            out["text_tokens"] = torch.cat(padded)
            out["text_mask"] = torch.cat(masks)
        for name in ("text_pooled", "audio", "known", "known_mask", "style", "prior"):
            if out[name] is not None:
                out[name] = torch.cat(out[name])  # type: ignore[arg-type]
        return cls(**out)
