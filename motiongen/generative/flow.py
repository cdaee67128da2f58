"""Conditional flow matching with the optimal-transport path (OT-CFM) and ODE samplers.

Convention: t = 0 is noise, t = 1 is data (Lipman et al. 2023, https://arxiv.org/abs/2210.02747,
and the facebookresearch ``flow_matching`` package). With x0 ~ N(0, I) and x1 a data sample:

    x_t = (1 - (1 - sigma_min) t) x0 + t x1        (Lipman et al. eq. 20)
    u_t = x1 - (1 - sigma_min) x0                   (the target velocity, dx_t/dt)

and the network v(x_t, t) is trained by a (masked) mean squared error to u_t. Samples come
from integrating dx/dt = v(x, t) from t = 0 (noise) to t = 1 with Euler, midpoint or Heun.

Nothing here imports a network: losses take any ``model_fn(x, t, cond, mask)`` and samplers
any ``velocity_fn(x, t)``, where t is a (B,) tensor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from motiongen.errors import InputError
from motiongen.generative.inpaint import flow_coefficients
from motiongen.generative.process import TrainingPair, register_process

VelocityFn = Callable[[Tensor, Tensor], Tensor]  # (x (B, ...), t (B,)) -> v like x
ModelFn = Callable[[Tensor, Tensor, Any, Tensor | None], Tensor]  # (x, t, cond, mask) -> like x
PostStep = Callable[[Tensor, float], Tensor]  # (x after a step, its time) -> x, e.g. inpainting
Method = Literal["euler", "midpoint", "heun"]

# Number of velocity evaluations per step of each method.
EVALS_PER_STEP = {"euler": 1, "midpoint": 2, "heun": 2}


@dataclass
class PathSample:
    """A point on the conditional path: xt (B, ...) at time t (B,) and its velocity ut."""

    xt: Tensor
    ut: Tensor
    t: Tensor
    x0: Tensor
    x1: Tensor


@dataclass
class LossOutput:
    """loss: scalar; per_sample: (B,); pred: the network output; target: what it should be."""

    loss: Tensor
    per_sample: Tensor
    pred: Tensor
    target: Tensor
    t: Tensor


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Mean squared error over real frames; pred/target (B, T, D), mask (B, T) -> (scalar, (B,))."""
    err = (pred - target) ** 2
    if mask is None:
        per_sample = err.flatten(1).mean(dim=1)
    else:
        m = mask.to(err.dtype)[..., None]  # (B, T, 1)
        per_sample = (err * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)) * err.shape[-1]).clamp_min(1.0)
    return per_sample.mean(), per_sample


def draw_noise(
    shape: tuple[int, ...],
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard normal noise to start a sampler; the same generator seed gives the same sample."""
    return torch.randn(shape, generator=generator, device=device, dtype=dtype)


def _expand(t: Tensor, like: Tensor) -> Tensor:
    return t.reshape(-1, *([1] * (like.ndim - 1)))  # (B, 1, ...)


@dataclass
class FlowConfig:
    """sigma_min: the width of the path at t = 1 (x_1 ~ N(x1, sigma_min^2)). 0 gives the
    rectified-flow straight line whose endpoint is exactly the data (our default: motion
    features are normalised, so a 1e-4 blur is below anything measurable); 1e-4 is the
    value of Lipman et al. and torchcfm's ``ConditionalFlowMatcher``.
    t_sampling: "uniform" t ~ U[0, 1], or "logit_normal" t = sigmoid(N(0, 1)) which puts
    more training on the middle of the path (Esser et al. 2024, SD3).
    """

    sigma_min: float = 0.0
    t_sampling: Literal["uniform", "logit_normal"] = "uniform"

    def __post_init__(self) -> None:
        if not 0.0 <= self.sigma_min < 1.0:
            raise InputError(f"sigma_min must be in [0, 1), got {self.sigma_min}")
        if self.t_sampling not in ("uniform", "logit_normal"):
            raise InputError(
                f"t_sampling must be 'uniform' or 'logit_normal', got {self.t_sampling!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@register_process(FlowConfig)
class FlowMatching:
    """OT-CFM path, loss, predictions and ODE samplers (the ``Process`` "flow").

    Build with a ``FlowConfig`` or its fields as keywords: ``FlowMatching(sigma_min=1e-4)``.
    """

    name: ClassVar[str] = "flow"
    default_steps: ClassVar[int] = 4
    samplers: ClassVar[tuple[str, ...]] = ("euler", "midpoint", "heun")
    # Flow models are trained here with condition dropout and guided mildly.
    default_guidance: ClassVar[float] = 2.5

    def __init__(
        self,
        config: FlowConfig | None = None,
        *,
        sigma_min: float | None = None,
        t_sampling: Literal["uniform", "logit_normal"] | None = None,
    ) -> None:
        config = config or FlowConfig()
        if sigma_min is not None or t_sampling is not None:
            config = FlowConfig(
                sigma_min=config.sigma_min if sigma_min is None else sigma_min,
                t_sampling=config.t_sampling if t_sampling is None else t_sampling,
            )
        self.config = config
        # Training times are drawn on [0, t_max]: below 1 for networks whose velocity divides
        # by 1 - t (``MotionDiTConfig.clean_skip``). A training option, not saved with a model.
        self.t_max = 1.0

    @property
    def sigma_min(self) -> float:
        return self.config.sigma_min

    @property
    def t_sampling(self) -> str:
        return self.config.t_sampling

    def sample_t(
        self,
        batch: int,
        *,
        device: torch.device | str = "cpu",
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Training times (B,) in [0, t_max]."""
        if self.t_sampling == "uniform":
            t = torch.rand(batch, device=device, generator=generator)
        else:
            t = torch.sigmoid(torch.randn(batch, device=device, generator=generator))
        return t * self.t_max

    def sample_path(self, x1: Tensor, t: Tensor, noise: Tensor) -> PathSample:
        """x_t and u_t for data x1 (B, ...), times t (B,), noise x0 (B, ...)."""
        te = _expand(t, x1)
        xt = (1 - (1 - self.sigma_min) * te) * noise + te * x1
        ut = x1 - (1 - self.sigma_min) * noise
        return PathSample(xt=xt, ut=ut, t=t, x0=noise, x1=x1)

    def predict_x1(self, xt: Tensor, t: Tensor, v: Tensor) -> Tensor:
        """Data estimate from a velocity: x1 = (1 - (1 - s) t) v + (1 - s) x_t, solving the path
        equations for x1 (for s = 0 simply x_t + (1 - t) v). Used by auxiliary losses."""
        te = _expand(t, xt)
        s = 1 - self.sigma_min
        return (1 - s * te) * v + s * xt

    # ---- the Process interface ---------------------------------------------------------
    def training_pair(
        self, x: Tensor, noise: Tensor, *, generator: torch.Generator | None = None
    ) -> TrainingPair:
        """Times t drawn with ``generator``; the target is the path velocity u_t; auxiliary
        losses weigh t (t = 1 is data)."""
        t = self.sample_t(x.shape[0], device=x.device, generator=generator).to(x.dtype)
        path = self.sample_path(x, t, noise)
        return TrainingPair(xt=path.xt, t=t, target=path.ut, aux_weight=t)

    def clean_estimate(self, xt: Tensor, t: Tensor, pred: Tensor) -> Tensor:
        return self.predict_x1(xt, t, pred)

    def known_coefficients(self, t: float) -> tuple[float, float]:
        """Signal and noise scales of the path at t (see ``inpaint.flow_coefficients``)."""
        return flow_coefficients(self.sigma_min)(t)

    def evaluations(self, steps: int, sampler: str, t0: float = 0.0) -> int:
        """Network evaluations of one sample: the steps taken (all ``steps``, or those after
        a start at ``t0``, ``start_grid``) x the method's evaluations per step (Heun one
        fewer: its last step is Euler)."""
        taken = len(start_grid(int(steps), t0)) - 1
        return taken * EVALS_PER_STEP[sampler] - (sampler == "heun")

    def loss(
        self,
        model_fn: ModelFn,
        x1: Tensor,
        cond: Any = None,
        mask: Tensor | None = None,
        *,
        t: Tensor | None = None,
        noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> LossOutput:
        """Flow-matching loss of ``model_fn(x_t, t, cond, mask)`` on data x1 (B, T, D).

        mask (B, T) marks real frames; padded frames do not count. t and noise are drawn
        (with ``generator``) unless given.
        """
        B = x1.shape[0]
        if t is None:
            t = self.sample_t(B, device=x1.device, generator=generator)
        if noise is None:
            noise = torch.randn(x1.shape, device=x1.device, dtype=x1.dtype, generator=generator)
        path = self.sample_path(x1, t.to(x1.dtype), noise)
        pred = model_fn(path.xt, path.t, cond, mask)
        loss, per_sample = masked_mse(pred, path.ut, mask)
        return LossOutput(loss=loss, per_sample=per_sample, pred=pred, target=path.ut, t=path.t)

    def sample(
        self,
        velocity_fn: VelocityFn,
        noise: Tensor,
        *,
        steps: int = 4,
        sampler: Method = "euler",
        generator: torch.Generator | None = None,
        post_step: PostStep | None = None,
        start: Tensor | None = None,
        t0: float = 0.0,
    ) -> Tensor:
        """Integrate from noise x0 (B, ...) at t = 0 to data at t = 1 with ``sampler`` (an
        ODE method). Deterministic: ``generator`` is unused.

        start, t0: begin at time ``t0`` from the point of the path between ``noise`` and the
        data estimate ``start`` (SDEdit, Meng et al. 2022, https://arxiv.org/abs/2108.01073),
        taking the steps of the ``steps``-step grid after ``t0`` (t0 = 0.25 of 4: the last 3;
        t0 = 1/3 of 3, or 0.33: the last 2):
        the sample keeps what ``start`` shows at the scale the remaining noise cannot cover."""
        if sampler not in self.samplers:
            raise InputError(f"unknown flow sampler {sampler!r}; choose one of {self.samplers}")
        if not 0.0 <= t0 < 1.0:
            raise InputError(f"the start time t0 must be in [0, 1), got {t0}")
        grid = time_grid(steps)
        x = noise
        if start is not None and t0 > 0:
            a, b = flow_coefficients(self.sigma_min)(t0)
            x = b * noise + a * start
            grid = start_grid(steps, t0)
        x = x if post_step is None else post_step(x, grid[0])
        return integrate(
            velocity_fn, x, steps=steps, method=sampler, grid=grid, post_step=post_step
        )


def start_grid(steps: int, t0: float) -> list[float]:
    """The times a sample started at ``t0`` steps through: t0, then the ``steps``-step grid's
    times after it. A grid time just after t0 (within a tenth of a step) is t0 itself, not a
    sliver of a step costing a whole network pass. t0 = 0: the whole grid."""
    grid = time_grid(steps)
    if t0 <= 0:
        return grid
    return [t0] + [t for t in grid[1:-1] if t > t0 + 0.1 / steps] + [grid[-1]]  # ends at 1


def time_grid(steps: int, *, t0: float = 0.0, t1: float = 1.0) -> list[float]:
    """steps + 1 uniformly spaced times from t0 to t1."""
    if steps < 1:
        raise InputError(f"steps must be at least 1, got {steps}")
    return [t0 + (t1 - t0) * i / steps for i in range(steps + 1)]


def _tt(t: float, x: Tensor) -> Tensor:
    return torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)  # (B,)


def euler_step(velocity_fn: VelocityFn, x: Tensor, t: float, h: float) -> Tensor:
    """x + h v(x, t); first order."""
    return x + h * velocity_fn(x, _tt(t, x))


def midpoint_step(velocity_fn: VelocityFn, x: Tensor, t: float, h: float) -> Tensor:
    """x + h v(x + h/2 v(x, t), t + h/2); second order, 2 evaluations."""
    x_mid = x + 0.5 * h * velocity_fn(x, _tt(t, x))
    return x + h * velocity_fn(x_mid, _tt(t + 0.5 * h, x))


def heun_step(velocity_fn: VelocityFn, x: Tensor, t: float, h: float) -> Tensor:
    """Trapezoidal predictor-corrector: x + h/2 (v(x, t) + v(x + h v(x, t), t + h)); 2 evaluations."""
    v0 = velocity_fn(x, _tt(t, x))
    v1 = velocity_fn(x + h * v0, _tt(t + h, x))
    return x + 0.5 * h * (v0 + v1)


STEPPERS = {"euler": euler_step, "midpoint": midpoint_step, "heun": heun_step}


def integrate(
    velocity_fn: VelocityFn,
    x0: Tensor,
    *,
    steps: int,
    method: Method = "euler",
    t0: float = 0.0,
    t1: float = 1.0,
    grid: list[float] | None = None,
    post_step: PostStep | None = None,
) -> Tensor:
    """Solve dx/dt = velocity_fn(x, t) from t0 to t1 with fixed steps.

    grid: explicit times (overrides steps, t0, t1), e.g. a schedule denser near t = 1.
    post_step(x, t): applied after every step, e.g. to re-impose known frames.
    Evaluations: steps * EVALS_PER_STEP[method] (Heun: one fewer, its last step is Euler).
    """
    if method not in STEPPERS:
        raise InputError(f"unknown ODE method {method!r}; choose one of {sorted(STEPPERS)}")
    stepper = STEPPERS[method]
    times = grid if grid is not None else time_grid(steps, t0=t0, t1=t1)
    x = x0
    for a, b in zip(times[:-1], times[1:], strict=True):
        # As in EDM's Heun (Karras et al. 2022, Alg. 1), no correction on the step that ends
        # at the data (t = 1): a network whose velocity divides by 1 - t (clean_skip) has none
        # there, and 2-step Heun threw joints 30-350 m from the pelvis (docs/generative.md).
        last = method == "heun" and b >= 1.0 - 1e-9
        x = (euler_step if last else stepper)(velocity_fn, x, a, b - a)
        if post_step is not None:
            x = post_step(x, b)
    return x


def euler(velocity_fn: VelocityFn, x0: Tensor, *, steps: int, **kwargs: Any) -> Tensor:
    """``integrate`` with the Euler method."""
    return integrate(velocity_fn, x0, steps=steps, method="euler", **kwargs)


def midpoint(velocity_fn: VelocityFn, x0: Tensor, *, steps: int, **kwargs: Any) -> Tensor:
    """``integrate`` with the explicit midpoint method."""
    return integrate(velocity_fn, x0, steps=steps, method="midpoint", **kwargs)


def heun(velocity_fn: VelocityFn, x0: Tensor, *, steps: int, **kwargs: Any) -> Tensor:
    """``integrate`` with Heun's method."""
    return integrate(velocity_fn, x0, steps=steps, method="heun", **kwargs)
