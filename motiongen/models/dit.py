"""MotionDiT: a diffusion transformer over time for motion features.

One file, read top to bottom: config, attention, block, model. The network maps
(x_t, t, conditions) to a prediction of the same shape as x (a velocity for flow matching,
an epsilon for DDPM); it knows nothing of noise or schedules.

Block (pre-norm, adaLN-Zero, Peebles & Xie 2023, https://arxiv.org/abs/2212.09748):

    h = h + g1 * SelfAttn(RoPE)(modulate(RMSNorm(h), shift1, scale1))
    h = h + g2 * CrossAttn(modulate(RMSNorm(h), shift2, scale2), text tokens)
    h = h + g3 * SwiGLU(modulate(RMSNorm(h), shift3, scale3))

shift/scale/gate come from c = embed(t) + pooled conditions. With ``adaln_single`` (the
default, PixArt-alpha https://arxiv.org/abs/2310.00426) one linear layer maps c to the
modulations of all blocks and each block adds its own learned table; otherwise every block
has its own linear layer (the original DiT). Either way the modulation is zero-initialised,
so every gate starts at 0, every block starts as the identity and, with the zero-initialised
output layer, a fresh network outputs zeros.
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
    FrameLowpass,
    NetworkConfig,
    SwiGLU,
    TimestepEmbedder,
    check_inputs,
    count_parameters,
    known_channels,
    known_width,
    swiglu_hidden,
)

CLEAN_SKIP_FLOOR = 0.05  # clean_skip's denominators stay above this (t -> 1, a wild gate)


@dataclass
class MotionDiTConfig(NetworkConfig):
    feature_dim: int  # D: motion feature channels per frame (input and output)
    width: int = 256  # W: transformer width
    depth: int = 8  # number of blocks
    heads: int = 8  # attention heads; W / heads must be even (RoPE rotates pairs)
    mlp_ratio: float = 4.0  # SwiGLU hidden = round_up(2/3 * mlp_ratio * W, 64)
    text_dim: int = 0  # Ct: text embedding size (pooled and tokens); 0 = no text input
    audio_dim: int = 0  # Ca: per-frame audio feature size; 0 = no audio input
    cross_attention: bool = True  # attend to text tokens (needs text_dim > 0)
    use_known: bool = True  # concatenate [known * mask, mask] to the input (seed, keyframes)
    adaln_single: bool = True  # one shared adaLN projection + per-block tables (PixArt-alpha)
    qk_norm: bool = True  # RMSNorm on queries and keys per head (stabilises training)
    rope_theta: float = 10000.0  # RoPE base period, in tokens
    patch_size: int = 1  # frames per token; 2 halves the tokens (and the cost) for real time
    time_scale: float = 1000.0  # t in [0, 1] is multiplied by this before the sinusoid
    dropout: float = 0.0  # attention and feed-forward dropout
    # Output += gate(t, cond) * x per channel. Without it the noise part of x_t must squeeze
    # through the W-wide tokens (W = 128 < patch_size * D = 274 for tiny): the output is then
    # rank-limited and jittery. Flow velocity and DDPM epsilon are both linear in x_t with a
    # time-dependent scale, which this gate gives exactly. Off by default for old checkpoints.
    skip_gate: bool = False
    # Flow only, with skip_gate. The gate also passes x_t's noise into the clean estimate
    # x1 = x_t + (1 - t) v = c x_t + (1 - t) out, c = 1 + (1 - t) g (c = 0.17-0.30 at t = 0.75
    # in the tiny student, by prompt: its raw output's jitter, at any number of steps). With
    # clean_skip the gated x_t counts as the signal it holds, t x1: x1 = c t x1 + (1 - t) out,
    # so x1 = out / (1 - t g) and v = (x1 - x_t) / (1 - t) — the same estimate wherever x_t
    # holds no noise, and no path for noise from input to output. Train it with t < 1
    # (process.t_max in a training config; benchmarks/raw_jitter.py --leak measures c).
    clean_skip: bool = False
    # The output frames pass a learned 5-tap filter per channel (layers.FrameLowpass) whose
    # gain at the Nyquist frequency is zero by construction. With patch_size 2 each token's
    # two frames come from one linear head and neighbouring tokens disagree a little: a step
    # every other frame, i.e. jitter at the top of the band, which this filter cannot pass.
    frame_lowpass: bool = False
    text_layers: int = 0  # transformer layers over the text tokens before cross-attention
    text_pool_mlp: bool = False  # pooled text through a 2-layer MLP instead of one linear map
    # Known values per frame: 0 = the D features with a per-frame mask (seed prefix, window
    # overlaps); C = features + world root channels with a per-value mask (tasks.control).
    control_dim: int = 0
    num_tasks: int = 0  # > 0: a learned task embedding (tasks.TASKS) joins the timestep's
    style_dim: int = 0  # > 0: a style vector (tasks.style) joins the timestep's embedding too
    # > 0: a retrieved motion prior (retrieval.prior), prior_dim channels per frame, is
    # projected and added to the motion tokens of its frames (channel concatenation, as the
    # audio), and a learned "prior present" vector joins the timestep's embedding.
    prior_dim: int = 0

    KIND: ClassVar[str] = "MotionDiT"
    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"width": 128, "depth": 4, "heads": 4},  # phones and real time
        "full": {"width": 256, "depth": 8, "heads": 8},
        "small": {"width": 256, "depth": 6, "heads": 8},  # Stick-Gen sizes
        "medium": {"width": 384, "depth": 8, "heads": 12},
        "large": {"width": 512, "depth": 10, "heads": 16},
    }

    def __post_init__(self) -> None:
        if self.feature_dim < 1 or self.patch_size < 1:
            raise InputError(
                f"feature_dim and patch_size must be positive, got {self.feature_dim}, {self.patch_size}"
            )
        if self.width % self.heads or (self.width // self.heads) % 2:
            raise InputError(
                f"width {self.width} must split into {self.heads} heads of even size; "
                "change width or heads"
            )
        if self.clean_skip and not self.skip_gate:
            raise InputError("clean_skip needs skip_gate (it changes how the gated skip is read)")


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """x (1 + scale) + shift; x (B, N, W), shift and scale (B, 1, W)."""
    return torch.addcmul(shift, x, 1 + scale)


class Rotary(nn.Module):
    """Rotary position embedding (Su et al. 2021, https://arxiv.org/abs/2104.09864) over tokens.

    Rotates pairs (i, i + hd/2) of each query/key by angle pos * theta^(-2i/hd) (the GPT-NeoX
    "rotate half" layout). cos/sin tables are cached per length and device and are not part
    of the state dict. Written here rather than taken from ``rotary-embedding-torch``, whose
    per-call cos/sin and einops reshapes cost 190 us against 29 us here (head dim 32, 196
    tokens, one CPU thread): a tenth of a tiny forward pass.
    """

    def __init__(self, head_dim: int, *, theta: float = 10000.0) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.theta = theta
        self._cache: dict[tuple[int, torch.device, torch.dtype], tuple[Tensor, Tensor]] = {}

    def tables(self, n: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        key = (n, device, dtype)
        if key not in self._cache:
            with torch.inference_mode(False):  # usable by autograd even if first built there
                self._cache[key] = self._build(n, device, dtype)
        return self._cache[key]

    def _build(self, n: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        half = self.head_dim // 2
        inv_freq = self.theta ** (-torch.arange(half, dtype=torch.float64, device=device) / half)
        angles = torch.arange(n, dtype=torch.float64, device=device)[:, None] * inv_freq
        angles = torch.cat([angles, angles], dim=-1)  # (N, hd)
        return angles.cos().to(dtype), angles.sin().to(dtype)

    def forward(self, x: Tensor) -> Tensor:
        """x (B, h, N, hd) -> rotated, same shape."""
        cos, sin = self.tables(x.shape[-2], x.device, x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return torch.addcmul(x * cos, torch.cat([-x2, x1], dim=-1), sin)


class SelfAttention(nn.Module):
    def __init__(self, cfg: MotionDiTConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.dropout = cfg.dropout
        hd = cfg.width // cfg.heads
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width, bias=False)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.q_norm = nn.RMSNorm(hd, eps=1e-6) if cfg.qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(hd, eps=1e-6) if cfg.qk_norm else nn.Identity()

    def forward(self, x: Tensor, rope: Rotary, attn_mask: Tensor | None) -> Tensor:
        B, T, W = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, W // self.heads).permute(2, 0, 3, 1, 4)
        q = rope(self.q_norm(q))  # (B, h, T, hd)
        k = rope(self.k_norm(k))  # (B, h, T, hd)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=self.dropout if self.training else 0.0
        )  # (B, h, T, hd)
        return self.proj(y.transpose(1, 2).reshape(B, T, W))


class DiTBlock(nn.Module):
    def __init__(self, cfg: MotionDiTConfig, *, cross: bool) -> None:
        super().__init__()
        W = cfg.width
        self.cross = cross
        self.n_mod = 9 if cross else 6  # (shift, scale, gate) per sub-layer
        self.norm1 = nn.RMSNorm(W, eps=1e-6, elementwise_affine=False)
        self.attn = SelfAttention(cfg)
        if cross:
            self.norm2 = nn.RMSNorm(W, eps=1e-6, elementwise_affine=False)
            self.cross_attn = CrossAttention(W, W, heads=cfg.heads)
        self.norm3 = nn.RMSNorm(W, eps=1e-6, elementwise_affine=False)
        self.mlp = SwiGLU(W, swiglu_hidden(W, cfg.mlp_ratio), dropout=cfg.dropout)
        if cfg.adaln_single:
            self.mod_table = nn.Parameter(torch.zeros(self.n_mod, W))
            self.ada = None
        else:
            self.ada = nn.Linear(W, self.n_mod * W)
            nn.init.zeros_(self.ada.weight)
            nn.init.zeros_(self.ada.bias)

    def modulation(self, c_act: Tensor, shared: Tensor | None) -> Tensor:
        """(B, n_mod, W) from the activated condition or the shared projection."""
        if self.ada is not None:
            return self.ada(c_act).view(c_act.shape[0], self.n_mod, -1)
        return shared + self.mod_table

    def forward(
        self,
        x: Tensor,  # (B, T, W)
        mod: Tensor,  # (B, n_mod, W)
        rope: Rotary,
        attn_mask: Tensor | None,  # (B, 1, 1, T)
        context: Tensor | None,  # (B, L, W)
        context_mask: Tensor | None,  # (B, L)
    ) -> Tensor:
        m = mod[:, :, None].unbind(1)  # n_mod x (B, 1, W)
        x = torch.addcmul(x, m[2], self.attn(modulate(self.norm1(x), m[0], m[1]), rope, attn_mask))
        if self.cross:
            h = modulate(self.norm2(x), m[3], m[4])
            x = torch.addcmul(x, m[5], self.cross_attn(h, context, context_mask))
        return torch.addcmul(x, m[-1], self.mlp(modulate(self.norm3(x), m[-3], m[-2])))


class MotionDiT(nn.Module):
    """Diffusion transformer over time.

    forward(x (B, T, D), t (B,) or scalar, cond: ModelConditions | None, mask (B, T) bool)
    -> (B, T, D). ``mask`` is True on real frames; padded frames are ignored as attention
    keys, zeroed on input and output, so they never influence real frames.

    Tokens are ``patch_size`` consecutive frames (N = ceil(T / patch_size) tokens). Audio
    frames are projected and added to the motion tokens of their frames (they are
    frame-aligned, and self-attention with RoPE spreads them in time); text tokens are
    cross-attended.
    """

    def __init__(self, config: MotionDiTConfig) -> None:
        super().__init__()
        self.config = cfg = config
        W, p = cfg.width, cfg.patch_size
        cross = cfg.cross_attention and cfg.text_dim > 0
        in_dim = known_width(cfg.feature_dim, cfg.control_dim) if cfg.use_known else cfg.feature_dim
        self.inp = nn.Linear(p * in_dim, W)
        self.t_embed = TimestepEmbedder(W, time_scale=cfg.time_scale)
        self.task_embed = nn.Embedding(cfg.num_tasks, W) if cfg.num_tasks > 0 else None
        # No bias: a zero vector (no style, or a dropped one) adds nothing.
        self.style_embed = nn.Linear(cfg.style_dim, W, bias=False) if cfg.style_dim > 0 else None
        self.prior_proj = nn.Linear(cfg.prior_dim, W) if cfg.prior_dim > 0 else None
        self.prior_on = nn.Parameter(torch.zeros(W)) if cfg.prior_dim > 0 else None
        self.cond_embed = ConditionEmbedder(
            width=W,
            frame_width=W,
            context_width=W,
            text_dim=cfg.text_dim,
            audio_dim=cfg.audio_dim,
            text_tokens=cross,
            text_layers=cfg.text_layers,
            text_heads=cfg.heads,
            text_pool_mlp=cfg.text_pool_mlp,
        )
        self.rope = Rotary(W // cfg.heads, theta=cfg.rope_theta)
        self.blocks = nn.ModuleList(DiTBlock(cfg, cross=cross) for _ in range(cfg.depth))
        n_mod = self.blocks[0].n_mod
        self.adaln = nn.Linear(W, n_mod * W) if cfg.adaln_single else None
        self.final_norm = nn.RMSNorm(W, eps=1e-6, elementwise_affine=False)
        self.final_ada = nn.Linear(W, 2 * W)
        self.out = nn.Linear(W, p * cfg.feature_dim)
        self.skip = nn.Linear(W, cfg.feature_dim) if cfg.skip_gate else None
        self.frame_lowpass = FrameLowpass(cfg.feature_dim) if cfg.frame_lowpass else None
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.t_embed.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embed.mlp[2].weight, std=0.02)
        if self.task_embed is not None:
            nn.init.zeros_(self.task_embed.weight)  # a new task starts as plain generation
        if self.style_embed is not None:
            nn.init.zeros_(self.style_embed.weight)  # a new style input starts ignored
        zero = [self.final_ada, self.out]
        # A new prior input starts ignored: a network given one computes what it did before.
        zero += [self.prior_proj] if self.prior_proj is not None else []
        zero += [self.skip] if self.skip is not None else []
        if self.cond_embed.refiner is not None:
            self.cond_embed.refiner.zero_init()
            zero.append(self.cond_embed.refined_pool)
        zero += [self.adaln] if self.adaln is not None else [b.ada for b in self.blocks]
        for layer in zero:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def num_params(self) -> int:
        return count_parameters(self)

    def _patch(self, x: Tensor, frame_mask: Tensor | None) -> Tensor:
        """(B, T, C) -> (B, N, patch_size * C): padded frames zeroed, T padded to N tokens."""
        p = self.config.patch_size
        if frame_mask is not None:
            x = x * frame_mask[..., None].to(x.dtype)
        if p == 1:
            return x
        B, T, C = x.shape
        x = F.pad(x, (0, 0, 0, (-T) % p))
        return x.reshape(B, -1, p * C)

    def forward(
        self,
        x: Tensor,
        t: Tensor | float,
        cond: ModelConditions | None = None,
        mask: Tensor | None = None,
    ) -> Tensor:
        cfg = self.config
        p = cfg.patch_size
        B, T, t, cond, mask = check_inputs("MotionDiT", x, t, cond, mask, cfg.feature_dim)

        emb = self.cond_embed(cond, batch=B, frames=T, frame_mask=mask, like=x)
        h = self.inp(
            self._patch(known_channels(x, cond, cfg.control_dim) if cfg.use_known else x, mask)
        )  # (B, N, W)
        if emb.frame is not None:  # audio: mean over the frames of each token
            h = h + self._patch(emb.frame, mask).view(B, h.shape[1], p, -1).mean(dim=2)
        has_prior = None
        if self.prior_proj is not None and cond is not None and cond.prior is not None:
            has_prior = torch.ones(B, 1, dtype=x.dtype, device=x.device)
            if cond.drop_prior is not None:
                has_prior = (~cond.drop_prior.bool())[:, None].to(x.dtype)
            prior = self.prior_proj(cond.prior.to(x.dtype)) * has_prior[:, None]  # (B, T, W)
            h = h + self._patch(prior, mask).view(B, h.shape[1], p, -1).mean(dim=2)
        token_mask = mask
        if mask is not None and p > 1:
            token_mask = F.pad(mask, (0, (-T) % p)).view(B, -1, p).any(dim=-1)  # (B, N)

        c = self.t_embed(t) + emb.pooled  # (B, W)
        if self.task_embed is not None and cond.task is not None:
            c = c + self.task_embed(cond.task.long())
        if self.style_embed is not None and cond is not None and cond.style is not None:
            style = cond.style.to(c.dtype)
            if cond.drop_style is not None:
                style = style * (~cond.drop_style.bool())[:, None].to(c.dtype)
            c = c + self.style_embed(style)
        if has_prior is not None:
            c = c + has_prior * self.prior_on
        c_act = F.silu(c)
        shared = None
        if self.adaln is not None:
            shared = self.adaln(c_act).view(B, self.blocks[0].n_mod, cfg.width)  # (B, n_mod, W)
        attn_mask = None if token_mask is None else token_mask[:, None, None, :]  # (B, 1, 1, N)
        for block in self.blocks:
            mod = block.modulation(c_act, shared)
            h = block(h, mod, self.rope, attn_mask, emb.context, emb.context_mask)
        shift, scale = self.final_ada(c_act)[:, None].chunk(2, dim=-1)  # (B, 1, W) each
        out = self.out(modulate(self.final_norm(h), shift, scale))  # (B, N, p * D)
        out = out.view(B, -1, cfg.feature_dim)[:, :T]  # (B, T, D)
        if self.frame_lowpass is not None:
            out = self.frame_lowpass(out, mask)
        if self.skip is not None:
            gate = self.skip(c_act)[:, None, :]  # (B, 1, D) per channel
            if cfg.clean_skip:
                tt = t.to(x.dtype).view(B, 1, 1)
                x1 = out / (1 - tt * gate).clamp_min(CLEAN_SKIP_FLOOR)
                out = (x1 - x) / (1 - tt).clamp_min(CLEAN_SKIP_FLOOR)
            else:
                out = out + gate * x
        if mask is not None:
            out = out * mask[..., None].to(out.dtype)
        return out


def expand_for_control(
    state: dict[str, torch.Tensor], old: MotionDiTConfig, new: MotionDiTConfig
) -> dict[str, torch.Tensor]:
    """A legacy network's weights (per-frame known mask, no tasks) for a control network
    (``control_dim`` values with per-value masks, ``num_tasks``), computing the same function
    when given what the legacy network was given: the feature columns are copied, the old
    per-frame mask column is shared out over the feature masks, everything new starts at 0."""
    if old.control_dim != 0 or new.control_dim < new.feature_dim:
        raise InputError("expand_for_control takes a legacy network and a control config")
    same = {f: getattr(old, f) for f in ("feature_dim", "width", "depth", "heads", "patch_size")}
    if any(getattr(new, f) != v for f, v in same.items()):
        raise InputError(f"the control network must keep the old one's sizes {same}")
    d, c, p = old.feature_dim, new.control_dim, old.patch_size
    w_old = state["inp.weight"]  # (W, p * (2D + 1))
    width = w_old.shape[0]
    old_in, new_in = 2 * d + 1, d + 2 * c
    w_new = torch.zeros(width, p * new_in, dtype=w_old.dtype)
    for f in range(p):
        o, n = f * old_in, f * new_in
        w_new[:, n : n + d] = w_old[:, o : o + d]  # x
        w_new[:, n + d : n + 2 * d] = w_old[:, o + d : o + 2 * d]  # known feature values
        mask_col = w_old[:, o + 2 * d : o + 2 * d + 1]
        w_new[:, n + d + c : n + d + c + d] = mask_col / d  # all D features known = old mask 1
    out = dict(state)
    out["inp.weight"] = w_new
    if new.num_tasks > 0:
        out["task_embed.weight"] = torch.zeros(new.num_tasks, width, dtype=w_old.dtype)
    return out
