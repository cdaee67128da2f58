"""Flow matching: the OT-CFM path by hand, ODE samplers on analytic flows, a tiny model."""

from __future__ import annotations

import math

import pytest
import torch

from motiongen.errors import InputError
from motiongen.generative import (
    EVALS_PER_STEP,
    FlowMatching,
    draw_noise,
    euler,
    flow_coefficients,
    heun,
    integrate,
    midpoint,
    replacement,
)

METHODS = ["euler", "midpoint", "heun"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---------------------------------------------------------------- path and loss


@pytest.mark.parametrize("sigma_min", [0.0, 1e-4, 0.1])
def test_path_recomputed_by_hand(sigma_min):
    g = torch.Generator().manual_seed(0)
    x1, x0, t = (
        torch.randn(5, 7, 3, generator=g),
        torch.randn(5, 7, 3, generator=g),
        torch.rand(5, generator=g),
    )
    fm = FlowMatching(sigma_min=sigma_min)
    sample = fm.sample_path(x1, t, x0)
    te = t[:, None, None]
    torch.testing.assert_close(sample.xt, (1 - (1 - sigma_min) * te) * x0 + te * x1)
    torch.testing.assert_close(sample.ut, x1 - (1 - sigma_min) * x0)
    # endpoints: noise at t = 0, data (blurred by sigma_min) at t = 1
    torch.testing.assert_close(fm.sample_path(x1, torch.zeros(5), x0).xt, x0)
    torch.testing.assert_close(fm.sample_path(x1, torch.ones(5), x0).xt, x1 + sigma_min * x0)
    # ut is the time derivative of xt (finite difference along the path)
    h = 1e-3
    fd = (fm.sample_path(x1, t + h, x0).xt - fm.sample_path(x1, t - h, x0).xt) / (2 * h)
    torch.testing.assert_close(fd, sample.ut, atol=1e-3, rtol=1e-3)
    # the data estimate from the true velocity is the data
    torch.testing.assert_close(fm.predict_x1(sample.xt, t, sample.ut), x1, atol=1e-5, rtol=1e-5)


def test_loss_is_zero_for_the_true_velocity_and_ignores_padding():
    fm = FlowMatching()
    g = torch.Generator().manual_seed(0)
    x1, noise, t = (
        torch.randn(3, 6, 4, generator=g),
        torch.randn(3, 6, 4, generator=g),
        torch.rand(3, generator=g),
    )
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[2, 4:] = False

    def oracle(x, tt, cond, m):
        out = x1 - noise
        out[2, 4:] += 10.0  # wrong only on padded frames
        return out

    result = fm.loss(oracle, x1, None, mask, t=t, noise=noise)
    assert result.loss.item() == pytest.approx(0.0, abs=1e-12)
    assert result.per_sample.shape == (3,)
    assert fm.loss(oracle, x1, None, None, t=t, noise=noise).loss.item() > 1.0

    zero = fm.loss(lambda x, tt, c, m: torch.zeros_like(x), x1, None, mask, t=t, noise=noise)
    target = x1 - noise
    expected = torch.stack([(target[i][mask[i]] ** 2).mean() for i in range(3)]).mean()
    torch.testing.assert_close(zero.loss, expected)


def test_loss_is_reproducible_with_a_generator():
    fm = FlowMatching(t_sampling="logit_normal")
    x1 = torch.randn(4, 5, 2)
    seen = []

    def model(x, t, cond, mask):
        seen.append(t.clone())
        return x

    a = fm.loss(model, x1, generator=torch.Generator().manual_seed(3)).loss
    b = fm.loss(model, x1, generator=torch.Generator().manual_seed(3)).loss
    assert a == b
    torch.testing.assert_close(seen[0], seen[1])
    assert ((seen[0] > 0) & (seen[0] < 1)).all()


def test_bad_settings_raise():
    with pytest.raises(InputError):
        FlowMatching(sigma_min=1.0)
    with pytest.raises(InputError):
        integrate(lambda x, t: x, torch.zeros(1, 2), steps=0)
    with pytest.raises(InputError):
        integrate(lambda x, t: x, torch.zeros(1, 2), steps=2, method="rk4")


# ---------------------------------------------------------------- ODE samplers


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("steps", [1, 4, 10])
def test_constant_velocity_is_exact(method, steps):
    x0 = torch.randn(3, 2)
    c = torch.tensor([0.5, -2.0])
    out = integrate(lambda x, t: c.expand_as(x), x0, steps=steps, method=method)
    torch.testing.assert_close(out, x0 + c)


def _linear_ode_error(method: str, steps: int) -> float:
    # dx/dt = A x with A a damped rotation: x(1) = expm(A) x(0)
    A = torch.tensor([[-0.5, -2.0], [2.0, -0.5]], dtype=torch.float64)
    x0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=torch.float64)  # (B, 2)
    exact = x0 @ torch.linalg.matrix_exp(A).T
    out = integrate(lambda x, t: x @ A.T, x0, steps=steps, method=method)
    return (out - exact).norm().item()


def test_euler_is_first_order():
    errors = [_linear_ode_error("euler", n) for n in (16, 32, 64, 128)]
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))
    ratio = errors[-2] / errors[-1]
    assert 1.8 < ratio < 2.2


@pytest.mark.parametrize("method", ["midpoint", "heun"])
def test_second_order_methods_converge_quadratically(method):
    errors = [_linear_ode_error(method, n) for n in (16, 32, 64, 128)]
    ratios = [a / b for a, b in zip(errors, errors[1:], strict=False)]
    assert all(3.6 < r < 4.4 for r in ratios), ratios
    assert errors[0] < _linear_ode_error("euler", 16) / 10


@pytest.mark.parametrize("method", ["midpoint", "heun"])
def test_time_dependent_velocity(method):
    # dx/dt = 3 t^2 -> x(1) = x(0) + 1; second-order methods are exact for linear-in-t
    # velocities and close for quadratic ones
    # (Heun's step that ends at t = 1 is Euler, as in EDM: exactness is checked before it.)
    x0 = torch.zeros(2, 1, dtype=torch.float64)
    out = integrate(lambda x, t: 3 * t[:, None] ** 2, x0, steps=10, method=method)
    assert abs(out[0, 0].item() - 1.0) < (1e-2 if method == "midpoint" else 3e-2)
    out = integrate(lambda x, t: 2 * t[:, None].expand_as(x), x0, steps=3, method=method, t1=0.9)
    torch.testing.assert_close(out, x0 + 0.81)


def test_heun_makes_no_correction_at_the_data_end():
    # A velocity that is wild only at t = 1 (a network dividing by 1 - t there) is not asked.
    def v(x, t):
        assert (t < 1.0).all()
        return torch.ones_like(x)

    x0 = torch.zeros(2, 3)
    torch.testing.assert_close(integrate(v, x0, steps=2, method="heun"), x0 + 1.0)


def test_method_aliases_and_evaluation_counts():
    calls = {"n": 0}

    def v(x, t):
        calls["n"] += 1
        assert t.shape == (x.shape[0],)
        return -x

    x0 = torch.ones(2, 3)
    for fn, name in ((euler, "euler"), (midpoint, "midpoint"), (heun, "heun")):
        calls["n"] = 0
        torch.testing.assert_close(fn(v, x0, steps=4), integrate(v, x0, steps=4, method=name))
        # Heun's last step (ending at t = 1) takes one evaluation
        assert calls["n"] == 2 * (4 * EVALS_PER_STEP[name] - (name == "heun"))
    torch.testing.assert_close(euler(v, x0, steps=1), torch.zeros(2, 3))


# ---------------------------------------------------------------- known frames


def test_replacement_holds_known_frames_and_flow_reaches_the_data():
    # the exact velocity towards a point mass c: v = (c - x) / (1 - t)
    c = torch.tensor([1.0, -1.0, 2.0])
    noise = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    known = torch.full((2, 5, 3), 7.0)
    mask = torch.zeros(2, 5, 1)
    mask[:, 0] = 1.0
    hook = replacement(known, mask, noise, flow_coefficients(0.0))
    fm = FlowMatching()
    out = fm.sample(lambda x, t: (c - x) / (1 - t)[:, None, None], noise, steps=4, post_step=hook)
    torch.testing.assert_close(out[:, 0], known[:, 0])
    torch.testing.assert_close(out[:, 1:], c.expand(2, 4, 3))


def test_sampling_from_a_start_point_takes_the_rest_of_the_grid():
    noise = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(1))
    start = torch.full((2, 5, 3), 3.0)
    times: list[float] = []

    def still(x, t):  # no velocity: the sample is where the path began
        times.append(float(t[0]))
        return torch.zeros_like(x)

    fm = FlowMatching()
    out = fm.sample(still, noise, steps=4, start=start, t0=0.25)
    torch.testing.assert_close(out, 0.75 * noise + 0.25 * start)  # x_t at t0 = 0.25
    assert times == [0.25, 0.5, 0.75]  # the 4-step grid's last 3 steps
    times.clear()
    torch.testing.assert_close(fm.sample(still, noise, steps=4, start=start), noise)
    assert times == [0.0, 0.25, 0.5, 0.75]  # t0 = 0: from the noise, as before
    times.clear()
    fm.sample(still, noise, steps=3, start=start, t0=0.33)
    assert times == pytest.approx([0.33, 2 / 3])  # no sliver of a step up to the grid's 1/3
    # what a request is costed at: the steps taken
    assert [fm.evaluations(4, "euler", t0) for t0 in (0.0, 0.25, 0.5)] == [4, 3, 2]
    assert fm.evaluations(3, "euler", 0.33) == 2 and fm.evaluations(4, "heun", 0.5) == 3
    from motiongen.generative.flow import start_grid

    assert start_grid(4, 0.99) == [0.99, 1.0] and fm.evaluations(4, "euler", 0.99) == 1
    # the exact velocity to a point reaches it from any start
    c = torch.tensor([1.0, -1.0, 2.0])
    to_c = fm.sample(lambda x, t: (c - x) / (1 - t)[:, None, None], noise, start=start, t0=0.5)
    torch.testing.assert_close(to_c, c.expand(2, 5, 3))
    with pytest.raises(InputError, match="start time"):
        fm.sample(still, noise, start=start, t0=1.0)


# ---------------------------------------------------------------- a tiny learned flow


class TinyVelocity(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(3, 64),
            torch.nn.SiLU(),
            torch.nn.Linear(64, 64),
            torch.nn.SiLU(),
            torch.nn.Linear(64, 2),
        )

    def forward(self, x, t, cond=None, mask=None):
        return self.net(torch.cat([x, t[:, None]], dim=-1))


def test_tiny_flow_model_learns_a_gaussian_mixture():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    modes = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])

    def data(n):
        return modes[torch.randint(0, 4, (n,), generator=g)] + 0.1 * torch.randn(n, 2, generator=g)

    def mode_distance(x):
        return torch.cdist(x, modes).min(dim=1).values.mean().item()

    model = TinyVelocity()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    fm = FlowMatching()
    for _ in range(200):
        loss = fm.loss(model, data(256), generator=g).loss
        opt.zero_grad()
        loss.backward()
        opt.step()

    noise = draw_noise((512, 2), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(
        noise, draw_noise((512, 2), generator=torch.Generator().manual_seed(1))
    )
    with torch.inference_mode():
        samples = {
            m: fm.sample(lambda x, t: model(x, t), noise, steps=10, sampler=m) for m in METHODS
        }
    before = mode_distance(noise)
    for method, x in samples.items():
        assert mode_distance(x) < 0.5 * before, method
    # and the samples cover more than one mode
    nearest = torch.cdist(samples["heun"], modes).argmin(dim=1)
    assert len(set(nearest.tolist())) >= 3
    assert math.isfinite(before)
