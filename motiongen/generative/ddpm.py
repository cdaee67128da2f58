"""DDPM training and DDIM sampling (the diffusion baseline), wrapping diffusers' schedulers.

Conventions (Ho et al. 2020, https://arxiv.org/abs/2006.11239; DDIM, Song et al. 2021,
https://arxiv.org/abs/2010.02502), with integer timesteps n = 0 .. N-1 (N = 1000):

    x_n = sqrt(abar_n) x0 + sqrt(1 - abar_n) eps,     abar_n = prod_{i <= n} (1 - beta_i)

The network predicts eps ("epsilon prediction"); the loss is the masked MSE to eps. DDIM
(eta = 0: deterministic) steps through ``steps`` of the N timesteps, spaced "trailing" so the
first step starts at n = N - 1, the noisiest level (Lin et al. 2024,
https://arxiv.org/abs/2305.08891, table 2).

The network is always called with a float time t = n / N in [0, 1): t = 1 is noise here,
the opposite of flow matching (t = 0 noise), which a network never needs to know since each
model is trained with one process only.

Schedule: SPEC §1 asks for a cosine schedule with betas 1e-4..0.02. We take the cosine
abar(t) = cos^2((t + 0.008) / 1.008 * pi / 2) of Nichol & Dhariwal 2021
(https://arxiv.org/abs/2102.09672; diffusers' ``squaredcos_cap_v2``), whose betas
1 - abar_{n+1} / abar_n we clip to [beta_min, beta_max] = [1e-4, 0.02]. Only the first 13
and last 98 of 1000 betas are touched; the terminal abar is 3.2e-3 (signal-to-noise ratio
3e-3, comparable to Stable Diffusion's 4.7e-3) instead of ~0. ``beta_max=0.999`` gives
diffusers' plain ``squaredcos_cap_v2``.

diffusers is imported when the first ``DDPM`` is built (it costs ~1.5 s of imports), so
flow-matching users never pay for it; it never touches the network or the hub here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from motiongen.errors import InputError
from motiongen.generative.flow import LossOutput, ModelFn, PostStep, masked_mse
from motiongen.generative.process import TrainingPair, register_process

EpsFn = Any  # Callable[[Tensor, Tensor], Tensor]: (x_n (B, ...), t = n / N (B,)) -> eps like x


@dataclass
class DDPMConfig:
    num_train_timesteps: int = 1000  # N
    beta_schedule: str = "cosine"  # "cosine" (Nichol & Dhariwal, clipped) or "linear"
    beta_min: float = 1e-4  # lower clip of the cosine betas, first beta of "linear"
    beta_max: float = 0.02  # upper clip of the cosine betas, last beta of "linear"

    def __post_init__(self) -> None:
        if self.beta_schedule not in ("cosine", "linear"):
            raise InputError(
                f"beta_schedule must be 'cosine' or 'linear', got {self.beta_schedule!r}"
            )
        if not 0 < self.beta_min <= self.beta_max < 1:
            raise InputError(
                f"need 0 < beta_min <= beta_max < 1, got {self.beta_min}, {self.beta_max}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_betas(config: DDPMConfig) -> Tensor:
    """(N,) float64 betas of the configured schedule."""
    from diffusers.schedulers.scheduling_ddim import betas_for_alpha_bar

    n = config.num_train_timesteps
    if config.beta_schedule == "linear":
        return torch.linspace(config.beta_min, config.beta_max, n, dtype=torch.float64)
    betas = betas_for_alpha_bar(n, max_beta=config.beta_max, alpha_transform_type="cosine")
    return betas.double().clamp(min=config.beta_min)


@register_process(DDPMConfig)
class DDPM:
    """Noise schedule, epsilon-prediction loss and DDIM sampler (the ``Process`` "ddpm")."""

    name: ClassVar[str] = "ddpm"
    default_steps: ClassVar[int] = 50
    samplers: ClassVar[tuple[str, ...]] = ("ddim",)
    default_guidance: ClassVar[float] = 7.5  # the diffusion baseline's scale in SPEC §1

    def __init__(self, config: DDPMConfig | None = None) -> None:
        from diffusers import DDIMScheduler, DDPMScheduler

        self.config = config = config or DDPMConfig()
        self.betas = make_betas(config)  # (N,) float64
        self.alphas_cumprod = torch.cumprod(1 - self.betas, dim=0)  # (N,) float64
        common = dict(
            num_train_timesteps=config.num_train_timesteps,
            trained_betas=self.betas.tolist(),
            prediction_type="epsilon",
            clip_sample=False,  # features are normalised, not bounded to [-1, 1]
        )
        self._ddpm = DDPMScheduler(**common)
        self._ddim_kwargs = dict(common, set_alpha_to_one=True, timestep_spacing="trailing")
        self._ddim_class = DDIMScheduler

    @property
    def num_train_timesteps(self) -> int:
        return self.config.num_train_timesteps

    def model_time(self, timesteps: Tensor, like: Tensor) -> Tensor:
        """Integer timesteps (B,) -> the float time t = n / N the network sees."""
        return timesteps.to(like.dtype) / self.config.num_train_timesteps

    def add_noise(self, x0: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """q(x_n | x0): sqrt(abar_n) x0 + sqrt(1 - abar_n) eps; timesteps (B,) int."""
        return self._ddpm.add_noise(x0, noise, timesteps)

    def coefficients(self, t: float) -> tuple[float, float]:
        """(signal, noise) scales of x at network time t = n / N; t < 0 means clean (1, 0)."""
        n = round(t * self.config.num_train_timesteps)
        if n < 0:
            return 1.0, 0.0
        abar = float(self.alphas_cumprod[n])
        return abar**0.5, (1 - abar) ** 0.5

    # ---- the Process interface ---------------------------------------------------------
    def training_pair(
        self, x: Tensor, noise: Tensor, *, generator: torch.Generator | None = None
    ) -> TrainingPair:
        """Timesteps n drawn with ``generator``; the target is the noise (epsilon prediction);
        auxiliary losses weigh abar_n^2 (see ``train.losses``)."""
        n = torch.randint(
            0, self.config.num_train_timesteps, (x.shape[0],), generator=generator, device=x.device
        )
        xt = self.add_noise(x, noise, n)
        abar = self.alphas_cumprod.to(x.device)[n].to(x.dtype)  # (B,)
        return TrainingPair(xt=xt, t=self.model_time(n, x), target=noise, aux_weight=abar**2)

    def clean_estimate(self, xt: Tensor, t: Tensor, pred: Tensor) -> Tensor:
        """x0 = (x_n - sqrt(1 - abar_n) eps) / sqrt(abar_n) for network times t = n / N."""
        n = torch.round(t * self.config.num_train_timesteps).long()
        a = self.alphas_cumprod.to(xt.device)[n].to(xt.dtype)[:, None, None]
        return (xt - (1 - a).sqrt() * pred) / a.sqrt()

    def known_coefficients(self, t: float) -> tuple[float, float]:
        return self.coefficients(t)

    def evaluations(self, steps: int, sampler: str, t0: float = 0.0) -> int:
        """One network evaluation per DDIM step (it has no start point: t0 is unused)."""
        return int(steps)

    def loss(
        self,
        model_fn: ModelFn,
        x0: Tensor,
        cond: Any = None,
        mask: Tensor | None = None,
        *,
        timesteps: Tensor | None = None,
        noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        """Epsilon-prediction loss of ``model_fn(x_n, n / N, cond, mask)`` on data x0 (B, T, D)."""
        B = x0.shape[0]
        if timesteps is None:
            timesteps = torch.randint(
                0, self.config.num_train_timesteps, (B,), device=x0.device, generator=generator
            )
        if noise is None:
            noise = torch.randn(x0.shape, device=x0.device, dtype=x0.dtype, generator=generator)
        xt = self.add_noise(x0, noise, timesteps)
        t = self.model_time(timesteps, x0)
        pred = model_fn(xt, t, cond, mask)
        loss, per_sample = masked_mse(pred, noise, mask)
        return LossOutput(loss=loss, per_sample=per_sample, pred=pred, target=noise, t=t)

    def sample(
        self,
        eps_fn: EpsFn,
        noise: Tensor,
        *,
        steps: int = 50,
        sampler: str = "ddim",
        eta: float = 0.0,
        generator: torch.Generator | None = None,
        post_step: PostStep | None = None,
    ) -> Tensor:
        """DDIM from noise x_{N-1} = noise (B, ...) to a sample, calling ``eps_fn(x, n / N)``.

        eta = 0 is deterministic DDIM; eta = 1 is DDPM-like ancestral sampling, drawing its
        noise from ``generator``. post_step(x, t) runs on the starting noise (t = (N-1) / N)
        and after each step (t < 0 at the end), e.g. to impose known frames.
        """
        if sampler not in self.samplers:
            raise InputError(
                f"unknown diffusion sampler {sampler!r}; choose one of {self.samplers}"
            )
        if not 1 <= steps <= self.config.num_train_timesteps:
            raise InputError(
                f"DDIM steps must be in 1..{self.config.num_train_timesteps}, got {steps}"
            )
        scheduler = self._ddim_class(**self._ddim_kwargs)  # stateful, so one per call
        scheduler.set_timesteps(steps, device=noise.device)
        stride = self.config.num_train_timesteps // steps
        n_train = self.config.num_train_timesteps
        x = noise if post_step is None else post_step(noise, (n_train - 1) / n_train)
        B = noise.shape[0]
        for n in scheduler.timesteps.tolist():
            t = torch.full(
                (B,), n / self.config.num_train_timesteps, dtype=x.dtype, device=x.device
            )
            eps = eps_fn(x, t)
            x = scheduler.step(eps, n, x, eta=eta, generator=generator).prev_sample
            if post_step is not None:
                x = post_step(x, (n - stride) / self.config.num_train_timesteps)
        return x
