"""The baseline 1-D temporal U-Net of SPEC §1 (CC-MotionGen backbone).

Convolutions over time with channels ``base * (1, 2, 4, 8)``, ``res_blocks`` residual blocks
per level (GroupNorm, SiLU, FiLM by timestep + pooled condition, as guided-diffusion's
``use_scale_shift_norm``), self- and cross-attention at the lower levels, strided-conv
downsampling, nearest + conv upsampling and one skip connection per level. T is padded to
a multiple of 2 ** (levels - 1) inside ``forward`` and cropped back.

Padding is exact: GroupNorm statistics are taken over real frames only and padded frames
are zeroed after every layer, so a sample's output does not depend on the padding around it.
Same ``forward(x, t, cond, mask)`` as ``MotionDiT``; it knows nothing of noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motiongen.errors import InputError
from motiongen.models.conditions import ModelConditions
from motiongen.models.layers import (
    ConditionEmbedder,
    CrossAttention,
    NetworkConfig,
    TimestepEmbedder,
    check_inputs,
    count_parameters,
    known_channels,
)


@dataclass
class UNet1DConfig(NetworkConfig):
    feature_dim: int  # D: motion feature channels per frame (input and output)
    base_channels: int = 256  # channels of the first level
    channel_mults: tuple[int, ...] = (1, 2, 4, 8)  # channels per level = base * mult
    res_blocks: int = 2  # residual blocks per level
    attention_levels: tuple[int, ...] = (2, 3)  # levels (0 = full rate) with self/cross-attention
    heads: int = 8  # attention heads
    groups: int = 32  # GroupNorm groups (capped at the channel count)
    text_dim: int = 0  # Ct: text embedding size; 0 = no text input
    audio_dim: int = 0  # Ca: per-frame audio feature size; 0 = no audio input
    cross_attention: bool = True  # attend to text tokens at attention levels (needs text_dim)
    use_known: bool = True  # concatenate [known * mask, mask] to the input (seed, keyframes)
    time_scale: float = 1000.0  # t in [0, 1] is multiplied by this before the sinusoid
    dropout: float = 0.0  # dropout inside residual blocks

    KIND: ClassVar[str] = "U-Net"
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"base_channels": 64},  # CPU tests and quick baselines
        "small": {"base_channels": 128},
        "full": {"base_channels": 256},  # the original CC-MotionGen size
    }

    def __post_init__(self) -> None:
        self.channel_mults = tuple(self.channel_mults)
        self.attention_levels = tuple(self.attention_levels)
        if self.feature_dim < 1 or self.base_channels < 1 or not self.channel_mults:
            raise InputError("feature_dim, base_channels and channel_mults must be positive")
        for level in self.attention_levels:
            if not 0 <= level < len(self.channel_mults):
                raise InputError(
                    f"attention level {level} is outside 0..{len(self.channel_mults) - 1}"
                )
            if (self.base_channels * self.channel_mults[level]) % self.heads:
                raise InputError(f"channels at level {level} must divide into {self.heads} heads")


class MaskedGroupNorm(nn.GroupNorm):
    """GroupNorm over (channels in group, real frames); x (B, C, T), mask (B, 1, T) float."""

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:  # type: ignore[override]
        if mask is None:
            return super().forward(x)
        B, C, T = x.shape
        G = self.num_groups
        xg = x.view(B, G, C // G, T)
        m = mask.view(B, 1, 1, T)
        count = (m.sum(dim=-1, keepdim=True) * (C // G)).clamp_min(1.0)  # (B, 1, 1, 1)
        mean = (xg * m).sum(dim=(2, 3), keepdim=True) / count
        var = (((xg - mean) * m) ** 2).sum(dim=(2, 3), keepdim=True) / count
        y = ((xg - mean) * torch.rsqrt(var + self.eps)).view(B, C, T)
        return (y * self.weight[:, None] + self.bias[:, None]) * mask


def _norm(channels: int, groups: int) -> MaskedGroupNorm:
    return MaskedGroupNorm(min(groups, channels), channels, eps=1e-5)


def _masked(x: Tensor, mask: Tensor | None) -> Tensor:
    return x if mask is None else x * mask


class ResBlock(nn.Module):
    """GN-SiLU-Conv, FiLM(c) on the second GN, SiLU-Dropout-Conv(zero init), plus skip."""

    def __init__(self, in_ch: int, out_ch: int, *, cond_dim: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = _norm(in_ch, groups)
        self.conv1 = nn.Conv1d(in_ch, out_ch, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * out_ch)
        self.norm2 = _norm(out_ch, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(out_ch, out_ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: Tensor, c_act: Tensor, mask: Tensor | None) -> Tensor:
        h = _masked(self.conv1(F.silu(self.norm1(x, mask))), mask)  # (B, out, T)
        scale, shift = self.film(c_act)[..., None].chunk(2, dim=1)  # (B, out, 1) each
        h = _masked(self.norm2(h, mask) * (1 + scale) + shift, mask)
        h = self.conv2(self.dropout(F.silu(h)))
        return _masked(self.skip(x) + h, mask)


class AttentionBlock(nn.Module):
    """Self-attention over time (key padding mask) then cross-attention to context tokens."""

    def __init__(self, ch: int, *, heads: int, groups: int, context_dim: int | None):
        super().__init__()
        self.heads = heads
        self.norm = _norm(ch, groups)
        self.qkv = nn.Linear(ch, 3 * ch, bias=False)
        self.proj = nn.Linear(ch, ch)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)
        self.cross = None
        if context_dim is not None:
            self.cross_norm = _norm(ch, groups)
            self.cross = CrossAttention(ch, context_dim, heads=heads)
            nn.init.zeros_(self.cross.proj.weight)
            nn.init.zeros_(self.cross.proj.bias)

    def forward(
        self, x: Tensor, mask: Tensor | None, context: Tensor | None, context_mask: Tensor | None
    ) -> Tensor:
        B, C, T = x.shape
        h = self.norm(x, mask).transpose(1, 2)  # (B, T, C)
        q, k, v = self.qkv(h).view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        key_mask = None if mask is None else mask.bool()[:, None]  # (B, 1, 1, T)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask)  # (B, h, T, hd)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C)).transpose(1, 2)
        if self.cross is not None:
            h = self.cross_norm(x, mask).transpose(1, 2)  # (B, T, C)
            x = x + self.cross(h, context, context_mask).transpose(1, 2)
        return _masked(x, mask)


class UNet1D(nn.Module):
    """forward(x (B, T, D), t (B,) or scalar, cond, mask (B, T) bool) -> (B, T, D)."""

    def __init__(self, config: UNet1DConfig) -> None:
        super().__init__()
        self.config = cfg = config
        chs = [cfg.base_channels * m for m in cfg.channel_mults]
        cond_dim = 4 * cfg.base_channels
        cross = cfg.cross_attention and cfg.text_dim > 0
        ctx_dim = cond_dim if cross else None
        block = dict(cond_dim=cond_dim, groups=cfg.groups, dropout=cfg.dropout)

        self.t_embed = TimestepEmbedder(cond_dim, time_scale=cfg.time_scale)
        self.cond_embed = ConditionEmbedder(
            width=cond_dim,
            frame_width=chs[0],
            context_width=cond_dim,
            text_dim=cfg.text_dim,
            audio_dim=cfg.audio_dim,
            text_tokens=cross,
        )
        in_dim = cfg.feature_dim * 2 + 1 if cfg.use_known else cfg.feature_dim
        self.inp = nn.Conv1d(in_dim, chs[0], 3, padding=1)

        def level_layers(in_ch: int, ch: int, level: int) -> nn.ModuleList:
            layers = nn.ModuleList()
            for i in range(cfg.res_blocks):
                layers.append(ResBlock(in_ch if i == 0 else ch, ch, **block))
                if level in cfg.attention_levels:
                    layers.append(
                        AttentionBlock(ch, heads=cfg.heads, groups=cfg.groups, context_dim=ctx_dim)
                    )
            return layers

        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        prev = chs[0]
        for level, ch in enumerate(chs):
            self.down.append(level_layers(prev, ch, level))
            if level < len(chs) - 1:
                self.downsample.append(nn.Conv1d(ch, ch, 3, stride=2, padding=1))
            prev = ch
        self.mid = nn.ModuleList(
            [
                ResBlock(chs[-1], chs[-1], **block),
                AttentionBlock(chs[-1], heads=cfg.heads, groups=cfg.groups, context_dim=ctx_dim),
                ResBlock(chs[-1], chs[-1], **block),
            ]
        )
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(chs))):
            self.up.append(level_layers(prev + chs[level], chs[level], level))
            if level > 0:
                self.upsample.append(nn.Conv1d(chs[level], chs[level - 1], 3, padding=1))
            prev = chs[level] if level == 0 else chs[level - 1]
        self.out_norm = _norm(chs[0], cfg.groups)
        self.out = nn.Conv1d(chs[0], cfg.feature_dim, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def num_params(self) -> int:
        return count_parameters(self)

    @staticmethod
    def _run(
        layers: nn.ModuleList, h: Tensor, c_act: Tensor, mask: Tensor | None, emb: Any
    ) -> Tensor:
        for layer in layers:
            if isinstance(layer, ResBlock):
                h = layer(h, c_act, mask)
            else:
                h = layer(h, mask, emb.context, emb.context_mask)
        return h

    def forward(
        self,
        x: Tensor,
        t: Tensor | float,
        cond: ModelConditions | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        cfg = self.config
        B, T, t, cond, mask = check_inputs("U-Net", x, t, cond, mask, cfg.feature_dim)

        emb = self.cond_embed(cond, batch=B, frames=T, frame_mask=mask, like=x)
        c_act = F.silu(self.t_embed(t) + emb.pooled)  # (B, 4 * base)
        # pad T to a multiple of 2 ** (levels - 1); padded frames are masked out like padding
        factor = 2 ** (len(cfg.channel_mults) - 1)
        pad = (-T) % factor
        if mask is None and pad:
            mask = torch.ones(B, T, dtype=torch.bool, device=x.device)
        m = None if mask is None else F.pad(mask.to(x.dtype), (0, pad))[:, None]  # (B, 1, T')
        inp = (known_channels(x, cond) if cfg.use_known else x).transpose(1, 2)  # (B, 2D+1, T)
        h = self.inp(_masked(F.pad(inp, (0, pad)), m))  # (B, C0, T')
        if emb.frame is not None:
            h = h + F.pad(emb.frame.transpose(1, 2), (0, pad))
        h = _masked(h, m)

        skips, masks = [], []
        for level, layers in enumerate(self.down):
            h = self._run(layers, h, c_act, m, emb)
            skips.append(h)
            masks.append(m)
            if level < len(self.downsample):
                h = self.downsample[level](h)
                m = None if m is None else F.max_pool1d(m, 2)
                h = _masked(h, m)
        h = self._run(self.mid, h, c_act, m, emb)
        for i, layers in enumerate(self.up):
            h = self._run(layers, torch.cat([h, skips.pop()], dim=1), c_act, masks.pop(), emb)
            m = None if not masks else masks[-1]
            if i < len(self.upsample):
                h = _masked(F.interpolate(h, scale_factor=2.0, mode="nearest"), m)
                h = _masked(self.upsample[i](h), m)
        m = None if mask is None else F.pad(mask.to(x.dtype), (0, pad))[:, None]
        out = self.out(F.silu(self.out_norm(h, m)))  # (B, D, T')
        out = _masked(out, m)[..., :T].transpose(1, 2)  # (B, T, D)
        return out
