"""Known frames (seed motion, keyframes) by replacement during sampling.

After each sampler step at time t, the known entries of x are overwritten by the known
values carried to the same noise level along the process's own path:

    x <- (1 - m) * x + m * (a_t * known + b_t * noise)

where (a_t, b_t) are the signal and noise scales at t: (t, 1 - (1 - sigma_min) t) for
flow matching, (sqrt(abar), sqrt(1 - abar)) for DDPM. Using the *same* noise that started
the sample (not fresh noise, unlike RePaint) keeps the known part on the straight,
deterministic trajectory the sampler itself would follow, so ODE/DDIM sampling stays
deterministic for a seed. At the end (a, b) = (1, 0) and the known frames hold exactly.

Replacement alone can leave seams; the networks also see the known frames through the
mask-concatenation input (``ModelConditions.known``), which is what lets them continue
the motion smoothly. This helper is the hard constraint on top.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from motiongen.errors import InputError

Coefficients = Callable[[float], tuple[float, float]]  # t -> (signal scale, noise scale)


def impose(x: Tensor, values: Tensor, mask: Tensor) -> Tensor:
    """x with ``values`` where mask is 1; x, values (B, T, D), mask (B, T, 1) or (B, T, D)."""
    m = mask.to(x.dtype)
    return x * (1 - m) + values * m


def flow_coefficients(sigma_min: float = 0.0) -> Coefficients:
    """Signal and noise scales of the OT-CFM path at time t (t = 1 is data)."""
    return lambda t: (t, 1.0 - (1.0 - sigma_min) * t) if t < 1.0 else (1.0, 0.0)


def replacement(
    known: Tensor, known_mask: Tensor, noise: Tensor, coefficients: Coefficients
) -> Callable[[Tensor, float], Tensor]:
    """A ``post_step(x, t)`` hook for ``flow.integrate`` / ``DDPM.sample``.

    known (B, T, D) values, known_mask (B, T, 1) or (B, T, D), noise (B, T, D): the initial
    noise of the sample; coefficients: ``flow_coefficients(sigma_min)`` or
    ``DDPM.coefficients``.
    """
    if known.shape != noise.shape or known_mask.shape[:2] != known.shape[:2]:
        raise InputError(
            f"known {tuple(known.shape)}, known_mask {tuple(known_mask.shape)} and noise "
            f"{tuple(noise.shape)} must share (B, T, D)"
        )

    def post_step(x: Tensor, t: float) -> Tensor:
        a, b = coefficients(t)
        return impose(x, a * known + b * noise, known_mask)

    return post_step
