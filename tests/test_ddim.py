"""DDPM schedule and loss, DDIM sampling with an exact epsilon, and classifier-free guidance."""

from __future__ import annotations

import math

import pytest
import torch

from motiongen.errors import InputError
from motiongen.generative import (
    DDPM,
    DDPMConfig,
    cfg_combine,
    condition_dropout,
    guidance_weights,
    guided,
    replacement,
)
from motiongen.models import ModelConditions, MotionDiT, MotionDiTConfig


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ddpm() -> DDPM:
    return DDPM()


# ---------------------------------------------------------------- schedule


def test_cosine_schedule_properties(ddpm):
    betas, abar = ddpm.betas, ddpm.alphas_cumprod
    assert betas.shape == abar.shape == (1000,)
    assert betas.min().item() >= 1e-4 - 1e-12 and betas.max().item() <= 0.02 + 1e-12
    assert (abar[1:] < abar[:-1]).all()
    assert abar[0].item() > 0.9998 and abar[-1].item() < 5e-3
    # between the clipped ends it is the cosine schedule of Nichol & Dhariwal
    f = [math.cos((n / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2 for n in range(1001)]
    for n in (100, 400, 700):
        assert betas[n].item() == pytest.approx(
            1 - f[n + 1] / f[n], rel=1e-6
        )  # float32 in diffusers
    # the two schedules agree while no beta is clipped, up to the first-13-steps offset
    assert abar[500].item() == pytest.approx(f[501] / f[0], rel=1e-3)


def test_other_schedules():
    unclipped = DDPM(DDPMConfig(beta_max=0.999))
    assert unclipped.alphas_cumprod[-1].item() < 1e-8
    linear = DDPM(DDPMConfig(beta_schedule="linear"))
    torch.testing.assert_close(linear.betas, torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64))
    with pytest.raises(InputError):
        DDPMConfig(beta_schedule="sigmoid")
    with pytest.raises(InputError):
        DDPMConfig(beta_min=0.1, beta_max=0.01)


def test_add_noise_matches_the_formula(ddpm):
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(4, 3, 2, generator=g), torch.randn(4, 3, 2, generator=g)
    n = torch.tensor([0, 10, 500, 999])
    abar = ddpm.alphas_cumprod[n].float()[:, None, None]
    torch.testing.assert_close(
        ddpm.add_noise(x0, eps, n), abar.sqrt() * x0 + (1 - abar).sqrt() * eps
    )


# ---------------------------------------------------------------- loss and sampling


def point_mass_oracle(ddpm: DDPM, c: torch.Tensor):
    """The exact epsilon for data that is always c: eps = (x - sqrt(abar) c) / sqrt(1 - abar)."""
    abar_all = ddpm.alphas_cumprod

    def eps_fn(x, t):
        n = torch.round(t * ddpm.num_train_timesteps).long()
        abar = abar_all[n].to(x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
        return (x - abar.sqrt() * c) / (1 - abar).sqrt()

    return eps_fn


@pytest.mark.parametrize("steps", [1, 10, 50])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_with_exact_epsilon_recovers_the_point(ddpm, steps, eta):
    c = torch.tensor([[0.5, -1.5], [2.0, 0.0], [-1.0, 3.0]])  # (T, D)
    noise = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    out = ddpm.sample(point_mass_oracle(ddpm, c), noise, steps=steps, eta=eta, generator=g)
    torch.testing.assert_close(out, c.expand(4, 3, 2), atol=1e-4, rtol=1e-4)


def test_ddim_visits_trailing_timesteps_and_is_seeded(ddpm):
    seen = []

    def eps_fn(x, t):
        seen.append(round(t[0].item() * 1000))
        return torch.zeros_like(x)

    noise = torch.randn(2, 3)
    ddpm.sample(eps_fn, noise, steps=50)
    assert len(seen) == 50 and seen[0] == 999 and seen[-1] == 19
    a = ddpm.sample(eps_fn, noise, steps=5, eta=1.0, generator=torch.Generator().manual_seed(0))
    b = ddpm.sample(eps_fn, noise, steps=5, eta=1.0, generator=torch.Generator().manual_seed(0))
    c = ddpm.sample(eps_fn, noise, steps=5, eta=1.0, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    with pytest.raises(InputError):
        ddpm.sample(eps_fn, noise, steps=0)


def test_loss_with_exact_epsilon_is_zero(ddpm):
    c = torch.tensor([1.0, -2.0])
    x0 = c.expand(5, 4, 2).clone()
    oracle = point_mass_oracle(ddpm, c)
    out = ddpm.loss(
        lambda x, t, cond, mask: oracle(x, t), x0, generator=torch.Generator().manual_seed(0)
    )
    assert out.loss.item() < 1e-8
    assert ((out.t >= 0) & (out.t < 1)).all()
    wrong = ddpm.loss(
        lambda x, t, cond, mask: torch.zeros_like(x), x0, generator=torch.Generator().manual_seed(0)
    )
    assert wrong.loss.item() == pytest.approx(1.0, abs=0.6)


def test_ddim_replacement_holds_known_frames(ddpm):
    c = torch.tensor([1.0, 2.0])
    noise = torch.randn(2, 6, 2, generator=torch.Generator().manual_seed(0))
    known = torch.full((2, 6, 2), -4.0)
    mask = torch.zeros(2, 6, 1)
    mask[:, -2:] = 1.0
    hook = replacement(known, mask, noise, ddpm.coefficients)
    out = ddpm.sample(point_mass_oracle(ddpm, c), noise, steps=20, post_step=hook)
    torch.testing.assert_close(out[:, -2:], known[:, -2:])
    torch.testing.assert_close(out[:, :-2], c.expand(2, 4, 2), atol=1e-4, rtol=1e-4)


# ---------------------------------------------------------------- guidance


def toy_model(x, t, cond, mask):
    """A prediction that shows which conditions it saw: 1 + 10 * text + 100 * audio."""
    B = x.shape[0]
    text = ~cond.drop_text if cond.drop_text is not None else torch.ones(B, dtype=torch.bool)
    audio = ~cond.drop_audio if cond.drop_audio is not None else torch.ones(B, dtype=torch.bool)
    value = 1.0 + 10.0 * text.float() + 100.0 * audio.float()
    return x * 0 + value[:, None, None]


def toy_cond(B):
    return ModelConditions(text_pooled=torch.zeros(B, 1), audio=torch.zeros(B, 3, 1))


@pytest.mark.parametrize("batched", [True, False])
def test_guidance_scales_one_and_zero(batched):
    x, t = torch.zeros(2, 3, 1), torch.rand(2)
    cond = guided(toy_model, toy_cond(2), scale=1.0, batched=batched)(x, t)
    uncond = guided(toy_model, toy_cond(2), scale=0.0, batched=batched)(x, t)
    assert torch.all(cond == 111.0) and torch.all(uncond == 1.0)
    s7 = guided(toy_model, toy_cond(2), scale=7.5, batched=batched)(x, t)
    torch.testing.assert_close(s7, cfg_combine(torch.full_like(x, 111.0), torch.ones_like(x), 7.5))


@pytest.mark.parametrize("mode", ["nested", "compositional"])
def test_two_scale_guidance(mode):
    x, t = torch.zeros(2, 3, 1), torch.rand(2)
    st, sa = 2.0, 3.0
    out = guided(toy_model, toy_cond(2), text_scale=st, audio_scale=sa, mode=mode)(x, t)
    u, text, audio, both = 1.0, 11.0, 101.0, 111.0
    if mode == "nested":
        expected = u + st * (text - u) + sa * (both - text)
    else:
        expected = u + st * (text - u) + sa * (audio - u)
    assert torch.allclose(out, torch.full_like(x, expected))
    assert sum(w for _, w in guidance_weights(text_scale=st, audio_scale=sa, mode=mode)) == 1.0
    with pytest.raises(InputError):
        guidance_weights(scale=2.0, text_scale=1.0)
    with pytest.raises(InputError):
        guidance_weights(text_scale=1.0)


def test_batched_guidance_on_a_network_matches_separate_passes():
    torch.manual_seed(0)
    net = MotionDiT(
        MotionDiTConfig.preset("tiny", feature_dim=6, text_dim=8, audio_dim=3, width=32, depth=2)
    )
    with torch.no_grad():
        for p in net.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.1)
    B, T = 2, 9
    cond = ModelConditions(
        text_pooled=torch.randn(B, 8), text_tokens=torch.randn(B, 4, 8), audio=torch.randn(B, T, 3)
    )
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, 6:] = False
    x, t = torch.randn(B, T, 6), torch.rand(B)
    with torch.no_grad():
        fast = guided(net, cond, mask, text_scale=2.5, audio_scale=1.5)(x, t)
        slow = guided(net, cond, mask, text_scale=2.5, audio_scale=1.5, batched=False)(x, t)
        v_u = net(x, t, cond.with_drops(text=True, audio=True), mask)
        v_t = net(x, t, cond.with_drops(text=False, audio=True), mask)
        v_ta = net(x, t, cond, mask)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        fast, v_u + 2.5 * (v_t - v_u) + 1.5 * (v_ta - v_t), atol=1e-5, rtol=1e-5
    )


def test_condition_dropout_rates():
    g = torch.Generator().manual_seed(0)
    text, audio = condition_dropout(20000, p_text=0.1, p_audio=0.3, p_both=0.05, generator=g)
    assert text.dtype == torch.bool and text.shape == (20000,)
    assert text.float().mean().item() == pytest.approx(0.05 + 0.95 * 0.1, abs=0.01)
    assert audio.float().mean().item() == pytest.approx(0.05 + 0.95 * 0.3, abs=0.01)
    assert (text & audio).float().mean().item() == pytest.approx(0.05 + 0.95 * 0.03, abs=0.01)
    with pytest.raises(InputError):
        condition_dropout(3, p_text=1.5, p_audio=0.0)
