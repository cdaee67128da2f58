"""Generator networks: shapes, padding masks, zero init, null conditions, presets."""

from __future__ import annotations

import pytest
import torch

from motiongen.errors import InputError
from motiongen.models import (
    ModelConditions,
    MotionDiT,
    MotionDiTConfig,
    UNet1D,
    UNet1DConfig,
    build_model,
)

D, CT, CA = 11, 16, 5


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread avoids OpenMP spin-waits when pytest-xdist workers share 2 cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_dit(**overrides: object) -> MotionDiT:
    torch.manual_seed(0)
    fields = {"text_dim": CT, "audio_dim": CA, "width": 32, "depth": 2, "heads": 4, **overrides}
    return MotionDiT(MotionDiTConfig.preset("tiny", feature_dim=D, **fields)).eval()


def make_unet(**overrides: object) -> UNet1D:
    torch.manual_seed(0)
    cfg = UNet1DConfig(
        feature_dim=D, text_dim=CT, audio_dim=CA, base_channels=16, heads=4, groups=8, **overrides
    )
    return UNet1D(cfg).eval()


def perturb(model: torch.nn.Module, seed: int = 1) -> torch.nn.Module:
    """Randomise every trainable weight so zero-initialised layers no longer hide bugs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model


def conditions(B: int, T: int, L: int = 4, seed: int = 0) -> ModelConditions:
    g = torch.Generator().manual_seed(seed)
    known_mask = torch.zeros(B, T, 1)
    known_mask[:, :3] = 1.0
    return ModelConditions(
        text_pooled=torch.randn(B, CT, generator=g),
        text_tokens=torch.randn(B, L, CT, generator=g),
        text_mask=torch.ones(B, L, dtype=torch.bool),
        audio=torch.randn(B, T, CA, generator=g),
        known=torch.randn(B, T, D, generator=g),
        known_mask=known_mask,
    )


def make_dit_patch2() -> MotionDiT:
    return make_dit(patch_size=2)


def make_dit_mixed() -> MotionDiT:
    return make_dit(patch_size=2, frame_lowpass=True, skip_gate=True)


NETS = [
    pytest.param(make_dit, id="dit"),
    pytest.param(make_dit_patch2, id="dit-patch2"),
    pytest.param(make_dit_mixed, id="dit-frame-lowpass"),
    pytest.param(make_unet, id="unet"),
]


@pytest.mark.parametrize("make", NETS)
@pytest.mark.parametrize("T", [1, 8, 13, 40])
def test_shapes_with_and_without_conditions(make, T):
    net = perturb(make())
    x = torch.randn(3, T, D)
    t = torch.rand(3)
    assert net(x, t).shape == (3, T, D)
    assert net(x, 0.5, conditions(3, T)).shape == (3, T, D)
    assert net(x, t, ModelConditions(text_pooled=torch.randn(3, CT))).shape == (3, T, D)


@pytest.mark.parametrize("make", NETS)
def test_fresh_network_outputs_zero(make):
    net = make()
    out = net(torch.randn(2, 13, D), torch.rand(2), conditions(2, 13))
    assert torch.count_nonzero(out) == 0


def test_fresh_dit_classic_adaln_outputs_zero():
    net = make_dit(adaln_single=False)
    assert torch.count_nonzero(net(torch.randn(2, 9, D), torch.rand(2), conditions(2, 9))) == 0


@pytest.mark.parametrize("make", NETS)
def test_padded_frames_do_not_change_real_frames(make):
    net = perturb(make())
    B, T, valid = 2, 21, 13
    x = torch.randn(B, T, D)
    cond = conditions(B, T)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, valid:] = False
    t = torch.tensor([0.3, 0.7])
    out = net(x, t, cond, mask)

    x2, cond2 = x.clone(), conditions(B, T, seed=5)  # different audio and known everywhere ...
    cond2.text_pooled, cond2.text_tokens = cond.text_pooled, cond.text_tokens
    cond2.audio[1, :valid] = cond.audio[1, :valid]  # ... but the same on real frames of sample 1
    cond2.known[1, :valid] = cond.known[1, :valid]
    x2[1, valid:] = 100 * torch.randn(T - valid, D)
    out2 = net(x2, t, cond2, mask)
    torch.testing.assert_close(out2[1, :valid], out[1, :valid], atol=1e-5, rtol=1e-5)
    assert torch.count_nonzero(out[1, valid:]) == 0

    # and a padded sample gives what the same sample gives alone, unpadded
    alone = ModelConditions(
        text_pooled=cond.text_pooled[1:],
        text_tokens=cond.text_tokens[1:],
        audio=cond.audio[1:, :valid],
        known=cond.known[1:, :valid],
        known_mask=cond.known_mask[1:, :valid],
    )
    out_alone = net(x[1:, :valid], t[1:], alone)
    torch.testing.assert_close(out_alone[0], out[1, :valid], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("make", NETS)
def test_masked_text_tokens_are_ignored(make):
    net = perturb(make())
    cond = conditions(2, 10, L=5)
    cond.text_mask[:, 3:] = False
    out = net(torch.randn(2, 10, D, generator=torch.Generator().manual_seed(3)), 0.4, cond)
    cond.text_tokens[:, 3:] = 50.0
    out2 = net(torch.randn(2, 10, D, generator=torch.Generator().manual_seed(3)), 0.4, cond)
    torch.testing.assert_close(out, out2)


@pytest.mark.parametrize("make", NETS)
def test_drop_flags_switch_to_null_conditions(make):
    net = perturb(make())
    B, T = 2, 12
    x, t = torch.randn(B, T, D), torch.rand(B)
    cond = conditions(B, T)
    full = net(x, t, cond)

    no_text = ModelConditions(audio=cond.audio, known=cond.known, known_mask=cond.known_mask)
    dropped = ModelConditions(**{**cond.__dict__, "drop_text": torch.tensor([True, True])})
    torch.testing.assert_close(net(x, t, dropped), net(x, t, no_text))
    assert not torch.allclose(net(x, t, dropped), full)

    no_audio = ModelConditions(**{**cond.__dict__, "audio": None})
    dropped = ModelConditions(**{**cond.__dict__, "drop_audio": torch.tensor([True, True])})
    torch.testing.assert_close(net(x, t, dropped), net(x, t, no_audio))
    assert not torch.allclose(net(x, t, dropped), full)

    # per-sample: dropping sample 0 leaves sample 1 alone
    one = ModelConditions(**{**cond.__dict__, "drop_text": torch.tensor([True, False])})
    out = net(x, t, one)
    torch.testing.assert_close(out[1], full[1])
    assert not torch.allclose(out[0], full[0])

    # an all-padding prompt behaves as no prompt (no NaN from a fully masked attention row)
    empty = ModelConditions(**{**cond.__dict__, "text_mask": torch.zeros(B, 4, dtype=torch.bool)})
    assert torch.isfinite(net(x, t, empty)).all()


def test_with_drops_and_concat():
    cond = conditions(2, 6, L=3)
    both = cond.with_drops(text=True, audio=False)
    assert both.drop_text.tolist() == [True, True] and both.drop_audio is None
    short = conditions(2, 6, L=2)
    stacked = ModelConditions.concat([both, short])
    assert stacked.text_tokens.shape == (4, 3, CT)
    assert stacked.text_mask.tolist()[2:] == [[True, True, False]] * 2
    assert stacked.drop_text.tolist() == [True, True, False, False]
    with pytest.raises(InputError):
        ModelConditions.concat([cond, ModelConditions(text_pooled=cond.text_pooled)])


def test_dit_uses_positions():
    net = perturb(make_dit())
    x = torch.randn(1, 10, D)
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    out = net(x, 0.5)
    out_perm = net(x[:, perm], 0.5)
    assert not torch.allclose(out_perm, out[:, perm], atol=1e-4)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("tiny", 1.0e6, 2.0e6),
        ("full", 8e6, 11e6),
        ("small", 6e6, 8e6),
        ("medium", 19e6, 23e6),
        ("large", 42e6, 48e6),
    ],
)
def test_preset_parameter_counts(name, low, high):
    net = MotionDiT(MotionDiTConfig.preset(name, feature_dim=137, text_dim=384, audio_dim=32))
    assert low <= net.num_params() <= high


def test_unet_channels_follow_config():
    net = UNet1D(UNet1DConfig.preset("tiny", feature_dim=D))
    widths = [level[0].conv1.out_channels for level in net.down]
    assert widths == [64, 128, 256, 512]


@pytest.mark.parametrize("make", NETS)
def test_backward_and_one_step_learns(make):
    net = make().train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, t, cond = torch.randn(2, 16, D), torch.rand(2), conditions(2, 16)
    target = torch.randn(2, 16, D)
    for _ in range(2):  # zero-init gates get gradients in step 1, the rest in step 2
        loss = ((net(x, t, cond) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        grads = [p.grad for p in net.parameters() if p.requires_grad and p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads)
        opt.step()
    assert torch.count_nonzero(net(x, t, cond)) > 0


def test_bad_inputs_raise_input_errors():
    net = make_dit()
    with pytest.raises(InputError, match="shape"):
        net(torch.randn(2, 10, D + 1), 0.1)
    with pytest.raises(InputError, match="audio"):
        net(torch.randn(2, 10, D), 0.1, ModelConditions(audio=torch.randn(2, 9, CA)))
    with pytest.raises(InputError, match="mask"):
        net(torch.randn(2, 10, D), 0.1, mask=torch.ones(2, 9, dtype=torch.bool))
    with pytest.raises(InputError, match="known"):
        net(torch.randn(2, 10, D), 0.1, ModelConditions(known=torch.randn(2, 10, D)))
    with pytest.raises(InputError, match="preset"):
        MotionDiTConfig.preset("huge", feature_dim=D)
    with pytest.raises(InputError, match="heads"):
        MotionDiTConfig(feature_dim=D, width=30, heads=4)
    with pytest.raises(InputError, match="unknown"):
        MotionDiTConfig.from_dict({"feature_dim": D, "widht": 64})
    with pytest.raises(InputError, match="architecture"):
        build_model("gpt", {})


@pytest.mark.parametrize(("arch", "make"), [("dit", make_dit), ("unet1d", make_unet)])
def test_build_model_from_saved_config(arch, make):
    net = perturb(make())
    rebuilt = build_model(arch, net.config.to_dict())
    rebuilt.load_state_dict(net.state_dict())
    x = torch.randn(1, 9, D)
    torch.testing.assert_close(rebuilt.eval()(x, 0.2), net(x, 0.2))


@pytest.mark.parametrize(
    "overrides",
    [
        {"adaln_single": False},
        {"cross_attention": False},
        {"use_known": False, "qk_norm": False},
        {"text_dim": 0, "audio_dim": 0},
        {"patch_size": 3},
    ],
)
def test_dit_variants(overrides):
    net = make_dit(**overrides)
    x = torch.randn(2, 10, D)
    cond = conditions(2, 10) if net.config.text_dim else ModelConditions()
    if not net.config.use_known:
        cond.known = cond.known_mask = None
    assert torch.count_nonzero(net(x, 0.3, cond)) == 0
    out = perturb(net)(x, 0.3, cond)
    assert out.shape == (2, 10, D) and torch.isfinite(out).all()


def test_training_after_inference_mode_sampling():
    # position tables cached during an inference-mode pass must still work with autograd
    net = make_dit()
    x = torch.randn(1, 14, D)
    with torch.inference_mode():
        net(x, 0.5)
    net.train()
    net(x, 0.5).sum().backward()


def test_clean_skip_keeps_the_estimate_and_drops_the_noise_path():
    """With the transformer's output a constant b and the skip gate a constant g, the leaky
    network's clean estimate x_t + (1 - t) v passes x_t through; clean_skip's estimate is
    b / (1 - t g) whatever x_t holds, and agrees with the leaky one where x_t = t x1."""
    from motiongen.train.trainer import with_clean_skip

    leaky = make_dit(skip_gate=True, use_known=False)
    b, g, t = 0.7, -2.0, 0.6
    with torch.no_grad():
        for layer, bias in ((leaky.out, b), (leaky.skip, g)):
            layer.weight.zero_()
            layer.bias.fill_(bias)
    clean = with_clean_skip(leaky).eval()
    assert clean.config.clean_skip and with_clean_skip(clean) is clean

    def estimate(net: MotionDiT, x: torch.Tensor) -> torch.Tensor:
        return x + (1 - t) * net(x, t, conditions(1, 6))

    x1 = b / (1 - t * g)
    noisy = t * x1 + (1 - t) * torch.randn(1, 6, D)
    torch.testing.assert_close(estimate(clean, noisy), torch.full((1, 6, D), x1))
    signal = torch.full((1, 6, D), t * x1)
    torch.testing.assert_close(estimate(leaky, signal), estimate(clean, signal))
    assert not torch.allclose(estimate(leaky, noisy), estimate(leaky, signal))  # leaks
    with pytest.raises(InputError, match="skip_gate"):
        make_dit(clean_skip=True)
    with pytest.raises(InputError, match="skip_gate"):
        with_clean_skip(make_dit())


def test_frame_lowpass_removes_the_top_frequency_whatever_it_learns():
    from motiongen.models.layers import FrameLowpass
    from motiongen.train.trainer import with_frame_lowpass

    lowpass = FrameLowpass(D)
    wiggle = torch.tensor([1.0, -1.0] * 8)  # a step every frame: the Nyquist frequency
    ramp = torch.linspace(0.0, 1.0, 16)
    for learnt in (False, True):
        if learnt:
            with torch.no_grad():
                lowpass.a.normal_()
                lowpass.b.normal_()
        out = lowpass(wiggle[None, :, None].expand(1, 16, D))[0, 2:-2]
        torch.testing.assert_close(out, torch.zeros_like(out), atol=1e-5, rtol=0)
    fresh = FrameLowpass(D)
    x = ramp[None, :, None].expand(1, 16, D)
    torch.testing.assert_close(fresh(x)[0, 2:-2], x[0, 2:-2], atol=1e-5, rtol=0)
    # The ends repeat the end frames: a still pose stays exactly where it is.
    still = torch.full((1, 16, D), 0.3)
    torch.testing.assert_close(fresh(still), still)
    # Frames after a clip's end (mask) do not reach into it.
    mask = torch.zeros(1, 16, dtype=torch.bool)
    mask[:, :10] = True
    junk = still.clone()
    junk[:, 10:] = 50.0
    torch.testing.assert_close(fresh(junk, mask)[:, :10], still[:, :10])

    plain = perturb(make_dit(patch_size=2, use_known=False))
    smooth = with_frame_lowpass(plain).eval()
    assert with_frame_lowpass(smooth) is smooth
    x, cond = torch.randn(1, 12, D), conditions(1, 12)
    torch.testing.assert_close(smooth(x, 0.4, cond), fresh(plain(x, 0.4, cond)))
