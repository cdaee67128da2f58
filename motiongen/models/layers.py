"""Building blocks shared by the generator networks (MotionDiT and the 1-D U-Net).

The networks know nothing of noise: ``t`` is just a float per sample that is embedded.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motiongen.errors import InputError
from motiongen.models.conditions import ModelConditions

C = TypeVar("C", bound="NetworkConfig")


class NetworkConfig:
    """Named sizes and strict dict round trips for a network's config dataclass.

    Subclasses are dataclasses with a ``feature_dim`` field, a ``KIND`` (for messages) and
    ``PRESETS`` (name -> field overrides).
    """

    KIND: ClassVar[str] = "network"
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def preset(cls: type[C], name: str, *, feature_dim: int, **overrides: Any) -> C:
        """A named size with optional field overrides."""
        if name not in cls.PRESETS:
            raise InputError(
                f"unknown {cls.KIND} preset {name!r}; choose one of {sorted(cls.PRESETS)}"
            )
        return cls.from_dict({**cls.PRESETS[name], "feature_dim": feature_dim, **overrides})

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Build from a plain dict (a checkpoint's saved config); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(
                f"unknown {cls.KIND} config keys {unknown}; known keys: {sorted(known)}"
            )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def timestep_embedding(t: Tensor, dim: int, *, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of float timesteps (B,) -> (B, dim), as in DDPM / DiT."""
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )
    args = t.float()[:, None] * freqs[None]  # (B, half)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


class TimestepEmbedder(nn.Module):
    """t (B,) in [0, 1] -> (B, width): sinusoid of ``t * time_scale`` then a 2-layer MLP.

    ``time_scale`` (1000) spreads [0, 1] over the sinusoid's frequencies the way integer
    DDPM timesteps 0..999 are spread; flow time and DDPM timestep / 1000 both fit.
    """

    def __init__(self, width: int, *, time_scale: float = 1000.0, freq_dim: int = 256) -> None:
        super().__init__()
        self.time_scale = time_scale
        self.freq_dim = freq_dim
        self.mlp = nn.Sequential(nn.Linear(freq_dim, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: Tensor) -> Tensor:
        return self.mlp(timestep_embedding(t * self.time_scale, self.freq_dim))  # (B, W)


def check_inputs(
    what: str,
    x: Tensor,
    t: Tensor | float,
    cond: ModelConditions | None,
    mask: Tensor | None,
    feature_dim: int,
) -> tuple[int, int, Tensor, ModelConditions, Tensor | None]:
    """Shapes of a network's inputs checked: (B, T, t as (B,), conditions, bool mask or None).

    x: (B, T, feature_dim); mask: (B, T) True on real frames; conditions must fit (B, T).
    """
    if x.ndim != 3 or x.shape[-1] != feature_dim:
        raise InputError(
            f"{what} input must have shape (B, T, {feature_dim}), got {tuple(x.shape)}"
        )
    B, T, _ = x.shape
    if mask is not None and mask.shape != (B, T):
        raise InputError(f"mask must have shape ({B}, {T}), got {tuple(mask.shape)}")
    cond = ModelConditions() if cond is None else cond
    cond.check(B, T, feature_dim)
    return B, T, batch_timesteps(t, B, x), cond, None if mask is None else mask.bool()


def batch_timesteps(t: Tensor | float, batch: int, like: Tensor) -> Tensor:
    """Broadcast a scalar, 0-d or (B,) timestep to a (B,) float tensor on ``like``'s device."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if t.ndim == 0:
        return t.expand(batch)
    if t.shape != (batch,):
        raise ValueError(f"t must be a scalar or have shape ({batch},), got {tuple(t.shape)}")
    return t


@dataclass
class EmbeddedConditions:
    """Conditions mapped to network widths.

    pooled: (B, W) added to the timestep embedding (drives adaLN / FiLM).
    frame: (B, T, Wf) per-frame features added to the input tokens, or None.
    context: (B, L, Wc) tokens for cross-attention, or None when text is off.
    context_mask: (B, L) bool, True where a context token is attended to.
    """

    pooled: Tensor
    frame: Tensor | None
    context: Tensor | None
    context_mask: Tensor | None


class TextRefiner(nn.Module):
    """A few pre-norm transformer layers over the projected text tokens (null slot included).

    The sentence encoder is frozen and its pooled vector barely separates "left" from "right"
    (cosine 0.98 for all-MiniLM-L6-v2); a trained stack over its tokens lets the generator
    learn which words matter for motion. Positions are learned (word order: "walks then
    waves"). Each layer's output projections start at zero, so a fresh refiner is the identity.
    """

    def __init__(self, width: int, *, layers: int, heads: int, max_tokens: int = 128) -> None:
        super().__init__()
        self.heads = heads
        self.pos = nn.Parameter(torch.zeros(max_tokens, width))
        self.norms1 = nn.ModuleList(nn.RMSNorm(width, eps=1e-6) for _ in range(layers))
        self.qkv = nn.ModuleList(nn.Linear(width, 3 * width, bias=False) for _ in range(layers))
        self.proj = nn.ModuleList(nn.Linear(width, width) for _ in range(layers))
        self.norms2 = nn.ModuleList(nn.RMSNorm(width, eps=1e-6) for _ in range(layers))
        self.mlps = nn.ModuleList(SwiGLU(width, swiglu_hidden(width, 2.0)) for _ in range(layers))

    def zero_init(self) -> None:
        for lin in [*self.proj, *(m.w2 for m in self.mlps)]:
            nn.init.zeros_(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        """x (B, L, W) with key mask (B, L) bool (at least one True per row) -> (B, L, W)."""
        B, L, W = x.shape
        x = x + self.pos[:L]
        attn_mask = mask[:, None, None, :]  # (B, 1, 1, L)
        for norm1, qkv, proj, norm2, mlp in zip(
            self.norms1, self.qkv, self.proj, self.norms2, self.mlps, strict=True
        ):
            q, k, v = (
                qkv(norm1(x)).view(B, L, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
            )
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, h, L, hd)
            x = x + proj(y.transpose(1, 2).reshape(B, L, W))
            x = x + mlp(norm2(x))
        return x


class ConditionEmbedder(nn.Module):
    """Maps ``ModelConditions`` to pooled, per-frame and token embeddings with learned nulls.

    Text: pooled vector -> (B, W); tokens -> cross-attention context (B, 1 + Lt, Wc) whose
    slot 0 is a learned null token, attended to only by samples whose text is dropped or
    missing (so there are no data-dependent branches and no fully masked rows).
    Audio: frame-aligned features -> (B, T, Wf) added to the motion tokens, and their masked
    mean over valid frames -> (B, W) added to the pooled condition. Dropped or missing audio
    uses a learned null frame vector and a learned null pooled vector.
    """

    def __init__(
        self,
        *,
        width: int,
        frame_width: int,
        context_width: int,
        text_dim: int = 0,
        audio_dim: int = 0,
        text_tokens: bool = True,
        text_layers: int = 0,
        text_heads: int = 4,
        text_pool_mlp: bool = False,
    ) -> None:
        super().__init__()
        self.width = width
        self.text_dim = text_dim
        self.audio_dim = audio_dim
        self.use_tokens = text_dim > 0 and text_tokens
        self.refiner: TextRefiner | None = None
        if text_dim > 0:
            if text_pool_mlp:  # a nonlinear map can pull apart nearly parallel embeddings
                self.text_pool: nn.Module = nn.Sequential(
                    nn.Linear(text_dim, width), nn.SiLU(), nn.Linear(width, width)
                )
            else:
                self.text_pool = nn.Linear(text_dim, width)
            self.null_text_pool = nn.Parameter(torch.randn(width) * 0.02)
        if self.use_tokens:
            self.text_token = nn.Linear(text_dim, context_width)
            self.null_text_token = nn.Parameter(torch.randn(context_width) * 0.02)
            if text_layers > 0:
                self.refiner = TextRefiner(context_width, layers=text_layers, heads=text_heads)
                # The refined tokens' mean also drives adaLN (zero at start: pooled as before).
                self.refined_pool = nn.Linear(context_width, width)
        if audio_dim > 0:
            self.audio_frame = nn.Linear(audio_dim, frame_width)
            self.audio_pool = nn.Linear(audio_dim, width)
            self.null_audio_frame = nn.Parameter(torch.randn(frame_width) * 0.02)
            self.null_audio_pool = nn.Parameter(torch.randn(width) * 0.02)

    def forward(
        self,
        cond: ModelConditions,
        *,
        batch: int,
        frames: int,
        frame_mask: Tensor | None,
        like: Tensor,
    ) -> EmbeddedConditions:
        pooled = torch.zeros(batch, self.width, dtype=like.dtype, device=like.device)
        frame = context = context_mask = None
        no = torch.zeros(batch, dtype=torch.bool, device=like.device)

        if self.text_dim > 0:
            drop = no if cond.drop_text is None else cond.drop_text.bool()
            if cond.text_pooled is None:
                pooled = pooled + self.null_text_pool
            else:
                text = self.text_pool(cond.text_pooled.to(like.dtype))  # (B, W)
                pooled = pooled + torch.where(drop[:, None], self.null_text_pool, text)
            if self.use_tokens:
                null = self.null_text_token.expand(batch, 1, -1)  # (B, 1, Wc)
                if cond.text_tokens is None:
                    context = null
                    context_mask = torch.ones(batch, 1, dtype=torch.bool, device=like.device)
                else:
                    tokens = self.text_token(cond.text_tokens.to(like.dtype))  # (B, Lt, Wc)
                    valid = (
                        torch.ones(tokens.shape[:2], dtype=torch.bool, device=like.device)
                        if cond.text_mask is None
                        else cond.text_mask.bool()
                    )
                    # (B,) empty prompts also use the null; logical_* rather than | & ~ (Core ML's
                    # converter has no bitwise operators on booleans)
                    use_null = torch.logical_or(drop, torch.logical_not(valid.any(dim=1)))
                    context = torch.cat([null, tokens], dim=1)  # (B, 1 + Lt, Wc)
                    keep = torch.logical_and(valid, torch.logical_not(use_null[:, None]))
                    context_mask = torch.cat([use_null[:, None], keep], dim=1)
            if self.refiner is not None:
                context = self.refiner(context, context_mask)
                m = context_mask.to(like.dtype)[..., None]  # (B, 1 + Lt, 1)
                pooled = pooled + self.refined_pool((context * m).sum(1) / m.sum(1))

        if self.audio_dim > 0:
            drop = no if cond.drop_audio is None else cond.drop_audio.bool()
            if cond.audio is None:
                frame = self.null_audio_frame.expand(batch, frames, -1)
                pooled = pooled + self.null_audio_pool
            else:
                audio = cond.audio.to(like.dtype)  # (B, T, Ca)
                if frame_mask is None:
                    mean = audio.mean(dim=1)
                else:
                    m = frame_mask.to(like.dtype)[..., None]  # (B, T, 1)
                    mean = (audio * m).sum(1) / m.sum(1).clamp_min(1.0)
                frame = torch.where(
                    drop[:, None, None], self.null_audio_frame, self.audio_frame(audio)
                )
                pooled = pooled + torch.where(
                    drop[:, None], self.null_audio_pool, self.audio_pool(mean)
                )
        return EmbeddedConditions(pooled, frame, context, context_mask)


def known_width(feature_dim: int, control_dim: int) -> int:
    """Input channels per frame of a network that sees known values: 2D + 1 (features and a
    per-frame mask) or, with ``control_dim`` C, D + 2C (values and a per-value mask)."""
    return feature_dim * 2 + 1 if control_dim == 0 else feature_dim + 2 * control_dim


def known_channels(x: Tensor, cond: ModelConditions, control_dim: int = 0) -> Tensor:
    """Mask-concatenation input (SPEC §4), x (B, T, D) ->

    control_dim 0: (B, T, 2D + 1) = [x, known * m, m] with a per-frame mask;
    control_dim C: (B, T, D + 2C) = [x, known * m, m] with a per-value mask. Feature-only
    known values (C = D, per-frame mask, e.g. window overlaps) fill the first D values.
    """
    B, T, D = x.shape
    if control_dim == 0:
        if cond.known is None or cond.known_mask is None:
            zeros = torch.zeros_like(x)
            return torch.cat([x, zeros, zeros[..., :1]], dim=-1)
        m = cond.known_mask.to(x.dtype)
        if m.shape[-1] != 1:
            m = m[..., :D].amax(dim=-1, keepdim=True)
        return torch.cat([x, cond.known[..., :D].to(x.dtype) * m, m], dim=-1)
    values = torch.zeros(B, T, control_dim, dtype=x.dtype, device=x.device)
    mask = torch.zeros_like(values)
    if cond.known is not None and cond.known_mask is not None:
        c = cond.known.shape[-1]
        values[..., :c] = cond.known.to(x.dtype)
        m = cond.known_mask.to(x.dtype)
        mask[..., :c] = m.expand(B, T, c) if m.shape[-1] == 1 else m
    return torch.cat([x, values * mask, mask], dim=-1)


class SwiGLU(nn.Module):
    """Gated feed-forward (Shazeer 2020): W2 (silu(W1 x) * W3 x)."""

    def __init__(self, width: int, hidden: int, *, dropout: float = 0.0) -> None:
        super().__init__()
        self.w13 = nn.Linear(width, 2 * hidden, bias=False)  # W1 and W3 fused in one matmul
        self.w2 = nn.Linear(hidden, width, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        a, b = self.w13(x).chunk(2, dim=-1)
        return self.dropout(self.w2(F.silu(a) * b))


def swiglu_hidden(width: int, mlp_ratio: float, multiple_of: int = 64) -> int:
    """Hidden size 2/3 * ratio * width rounded up (LLaMA), so params match a ratio-wide MLP."""
    hidden = int(2 * mlp_ratio * width / 3)
    return multiple_of * math.ceil(hidden / multiple_of)


class CrossAttention(nn.Module):
    """Multi-head attention of x (B, T, C) to context (B, L, Cc) with a key mask (B, L)."""

    def __init__(self, channels: int, context_channels: int, *, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(channels, channels, bias=False)
        self.kv = nn.Linear(context_channels, 2 * channels, bias=False)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x: Tensor, context: Tensor, context_mask: Tensor | None) -> Tensor:
        B, T, C = x.shape
        L = context.shape[1]
        h, hd = self.heads, C // self.heads
        q = self.q(x).view(B, T, h, hd).transpose(1, 2)  # (B, h, T, hd)
        k, v = self.kv(context).view(B, L, 2, h, hd).permute(2, 0, 3, 1, 4)  # (B, h, L, hd)
        mask = None if context_mask is None else context_mask[:, None, None, :]  # (B, 1, 1, L)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, h, T, hd)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


def count_parameters(module: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class FrameLowpass(nn.Module):
    """A learned symmetric 5-tap filter along frames, per channel: taps (a, b, 2b - 2a, b, a),
    whose response at the Nyquist frequency, c - 2b + 2a, is zero whatever a and b learn (and
    whose DC gain is 4b). Starts at a = -0.05, b = 0.25: gain 1 at DC, 0.95 at a quarter of
    the frame rate's half (2.5 Hz at 20 fps), 0.7 at half of it, 0 at the top.
    (B, T, D) -> (B, T, D); clip ends are padded by repeating the end frame (zero padding
    would shrink the first and last poses), ``mask`` (B, T) frames outside a clip likewise.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.full((channels,), -0.05))
        self.b = nn.Parameter(torch.full((channels,), 0.25))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        B, T, D = x.shape
        if mask is not None:
            # Padding frames take the clip's last real frame, as at a clip end.
            last = mask.long().sum(dim=1).clamp_min(1) - 1  # (B,)
            idx = torch.arange(T, device=x.device)[None].expand(B, T)
            idx = torch.minimum(idx, last[:, None])
            x = torch.gather(x, 1, idx[..., None].expand(B, T, D))
        # Shifted sums of the end-padded frames: the same filter as a depthwise convolution,
        # twice as fast at one motion a call (no transposes, 3 multiplies for 5 taps).
        y = torch.cat([x[:, :1], x[:, :1], x, x[:, -1:], x[:, -1:]], dim=1)  # (B, T + 4, D)
        a, b = self.a.to(x.dtype), self.b.to(x.dtype)
        return (
            a * (y[:, :T] + y[:, 4 : T + 4])
            + b * (y[:, 1 : T + 1] + y[:, 3 : T + 3])
            + (2 * b - 2 * a) * y[:, 2 : T + 2]
        )
