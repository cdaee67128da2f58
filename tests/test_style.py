"""The style encoder (tasks.style) and style-conditioned control networks: the contrastive
loss, spherical blends, training and files, a style input that starts ignored, and styles
asked of a pipeline by name, example or blend, with clear errors otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongen.errors import InputError
from motiongen.models import ModelConditions, MotionDiT, MotionDiTConfig
from motiongen.tasks.style import StyleEncoder, slerp
from motiongen.tasks.style_training import (
    StyleTrainConfig,
    style_quality,
    supcon_loss,
    train_style_encoder,
)


def test_supcon_prefers_vectors_grouped_by_label():
    labels = torch.tensor([0, 0, 1, 1])
    grouped = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [1.0, -0.1], [-0.1, 1.0],
                                                          [0.1, 1.0]]), dim=1)  # fmt: skip
    mixed = grouped[[0, 2, 1, 3]]
    assert supcon_loss(grouped, labels, 0.1) < supcon_loss(mixed, labels, 0.1) - 1.0


def test_slerp_stays_on_the_sphere_and_moves_monotonically():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(slerp(a, b, 0.0), a, atol=1e-6)
    np.testing.assert_allclose(slerp(a, b, 1.0), b, atol=1e-6)
    steps = [slerp(a, b, w) for w in np.linspace(0, 1, 11)]
    assert all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in steps)
    towards_b = [float(v @ b) for v in steps]
    assert all(x < y for x, y in zip(towards_b, towards_b[1:], strict=False))


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from motiongen.data.prepare import prepare_synthetic

    return prepare_synthetic(tmp_path_factory.mktemp("synth") / "prepared", 40, seed=0)


@pytest.fixture(scope="module")
def encoder(synth, tmp_path_factory):
    cfg = StyleTrainConfig(steps=30, styles_per_batch=4, clips_per_style=3, warmup=5,
                           network={"width": 32, "depth": 2, "style_dim": 8})  # fmt: skip
    result = train_style_encoder(synth, cfg)
    assert len(result.losses) >= 1 and np.isfinite(result.losses).all()
    return result.encoder.save(tmp_path_factory.mktemp("style") / "encoder")


def test_encoder_files_names_vectors_and_errors(encoder, synth):
    enc = StyleEncoder.from_pretrained(encoder)
    assert {"sad", "happy"} <= set(enc.styles) and enc.style_dim == 8
    v = enc.vector("Sad")
    assert v.shape == (8,) and abs(np.linalg.norm(v) - 1) < 1e-5
    motion = synth.motion(synth.select(split="train")[0])
    assert enc.vector(motion).shape == (8,)
    half = enc.mix("happy", "sad", 0.5)
    assert float(half @ enc.vector("happy")) == pytest.approx(float(half @ v), abs=1e-5)
    with pytest.raises(InputError, match="known styles: .*sad"):
        enc.vector("grumpy")
    with pytest.raises(InputError, match="within 0..1"):
        enc.mix("happy", "sad", 1.5)
    with pytest.raises(InputError, match="not all zero"):
        enc.vector(np.zeros(8))
    quality = style_quality(enc, synth, "train")
    assert quality["clips"] > 0 and 0 <= quality["nearest_prototype_accuracy"] <= 1


def test_style_input_starts_ignored_and_drops_like_none():
    cfg = MotionDiTConfig(feature_dim=137, width=32, depth=1, heads=2, style_dim=8)
    torch.manual_seed(0)
    net = MotionDiT(cfg).eval()
    with torch.no_grad():  # zero-initialised output layers would hide every input
        for name, p in net.named_parameters():
            if name != "style_embed.weight":
                p.add_(0.05 * torch.randn_like(p))
    x, t = torch.randn(2, 10, 137), torch.rand(2)
    style = torch.nn.functional.normalize(torch.randn(2, 8), dim=1)
    torch.testing.assert_close(net(x, t, ModelConditions(style=style)), net(x, t))
    with torch.no_grad():
        net.style_embed.weight.normal_()
    dropped = ModelConditions(style=style, drop_style=torch.tensor([True, True]))
    assert not torch.allclose(net(x, t, ModelConditions(style=style)), net(x, t))
    torch.testing.assert_close(net(x, t, dropped), net(x, t))
    both = ModelConditions(style=style).with_drops(text=True, audio=True)
    assert both.drop_style.all()


def test_training_with_styles_gives_a_restylable_checkpoint(encoder, synth, tmp_path):
    from motiongen.checkpoint import load_checkpoint
    from motiongen.motion import Motion
    from motiongen.pipeline import Pipeline
    from motiongen.train import config_from_dict, train
    from tests.test_train import tiny_config

    cfg = tiny_config(synth.root, tmp_path / "run", tasks={"enabled": True, "predict_from": 1,
                      "all_from": 2}, conditioning={"style": str(encoder), "text": True,
                      "audio": False})  # fmt: skip
    cfg["data"]["synthetic"] = 0
    result = train(config_from_dict(cfg))
    from motiongen.tasks.style import checkpoint_style_encoder

    ck = load_checkpoint(result.final)
    assert ck.config.model["style_dim"] == 8
    assert (
        checkpoint_style_encoder(result.final, 8).styles
        == StyleEncoder.from_pretrained(encoder).styles
    )
    pipe = Pipeline.from_pretrained(result.final)
    assert "sad" in pipe.styles
    walk = Motion(positions=synth.motion(synth.select(split="train")[0]).positions[:40], fps=20.0)
    sad = pipe.restyle(walk, "sad", seed=0, postprocess=False)
    blend = pipe.restyle(walk, "happy", blend=("sad", 0.5), seed=0, postprocess=False)
    assert sad.num_frames == blend.num_frames == 40
    assert sad.meta["style"] == "sad" and blend.meta["blend"] == ["sad", 0.5]
    # named styles: the two sentences' predictions are mixed (1 - u, u), u = w ** 0.4
    if True:
        happy = pipe.restyle(walk, "happy", seed=0, postprocess=False)
        ends = [pipe.restyle(walk, "happy", blend=("sad", w), seed=0, postprocess=False)
                for w in (0.0, 1.0)]  # fmt: skip
        np.testing.assert_allclose(ends[0].positions, happy.positions, atol=1e-4)
        np.testing.assert_allclose(ends[1].positions, sad.positions, atol=1e-4)
        assert not np.array_equal(blend.positions, happy.positions)  # an untrained net: close
        assert happy.texts[0].endswith("in a happy way")
        # towards an example motion near no known style the words would pin one end: the
        # vectors alone blend
        enc = pipe.style_encoder
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(enc, "nearest", lambda style: ("sad", 0.3))
            towards = pipe.restyle(walk, "happy", blend=(walk, 0.5), seed=0, postprocess=False)
            assert "way" not in towards.texts[0]
            assert "near none of the known styles (nearest 'sad'" in towards.meta["warning"]
            # an example that moves like a known style is restyled to as that style, by name
            # (a sad reference's vector alone read as "normal": a new user's trial)
            mp.setattr(enc, "nearest", lambda style: ("sad", 0.95))
            like = pipe.check_restyle(walk, walk)
            assert like.text.endswith("in a sad way") and like.meta["style"] == "sad"
            assert like.meta["style_from_example"] == {"style": "sad", "similarity": 0.95,
                                                       "named": True}  # fmt: skip
        assert enc.nearest("sad") == ("sad", pytest.approx(1.0, abs=1e-5))
    np.testing.assert_allclose(sad.positions[:, 0], walk.positions[:, 0], atol=1e-4)  # path kept
    # what the motion was taken to do, said apart from the style's words (the command line
    # prints it: an in-place walk read as a backward one had gone unsaid)
    read = pipe.check_restyle(walk, "sad").meta["read_as"]
    assert read and "sad" not in read
    # a continuation or a timeline asked a named style says it in words too (the vector alone
    # left a continuation as unstyled, P(sad) 0.01: a new user's trial)
    cont = pipe.check_predict(walk, 4.0, "a person walks", style=" Sad")
    assert cont.text == "a person walks in a sad way" and cont.literal
    assert cont.meta["style"] == "sad" and cont.text_blend is None
    mixed = pipe.check_predict(walk, 4.0, "a person walks", style="happy", blend=("sad", 0.3))
    assert mixed.text.endswith("in a happy way")
    # mixed at the weight felt: the second style had shown only near weight 1 (a new user's trial)
    from motiongen.pipeline import BLEND_FELT_POWER

    assert mixed.text_blend == ("a person walks in a sad way", pytest.approx(0.3**BLEND_FELT_POWER))
    told = pipe.check_predict(walk, 4.0, style="sad")  # no text: the past's action, in words
    assert told.text.endswith("in a sad way") and told.meta["action_from_past"]
    line = pipe.check_compose([("a person walks", 2.0), ("a person bows", 2.0)], style="sad")
    assert [t for t, _ in line.segments] == [
        "a person walks in a sad way",
        "a person bows in a sad way",
    ]
    assert line.meta["style"] == "sad"
    # joined from a text model, the words alone carry it; one segment (never joined) keeps
    # the vector too
    joined = pipe.check_compose("a person walks, then bows", style="sad", segment_model=pipe)
    one = pipe.check_compose("a person walks", seconds=2.0, style="sad", segment_model=pipe)
    assert joined.style is None and joined.parts is not None
    # the segments' words are sent as any prompt's: a style never recorded with a segment's
    # action is left out there (a sad timeline's wave came out arms down), unless literal
    assert not any(part.literal for part in joined.parts[0])
    literal = pipe.check_compose("a person walks, then bows", style="sad", segment_model=pipe,
                                 literal=True)  # fmt: skip
    assert all(part.literal for part in literal.parts[0])
    assert one.style is not None and one.text == "a person walks in a sad way"
    # each segment's length is sought in the words it will be made with (an elderly raise
    # sought unstyled got 2 s, then a warning that elderly raises last 4.8 s)
    sought: list[str] = []

    def spy(model, options, record, say=None):  # each segment's text as it is sought: 4 s
        return lambda text: sought.append(say(text) if say else text)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipe, "_typical_seconds", spy)
        pipe.check_compose("a person walks, then bows", style="sad", segment_model=pipe)
    assert sought == ["a person walks in a sad way", "a person bows in a sad way"]
    with pytest.raises(InputError, match="known styles"):
        pipe.check_compose("a person walks, then bows", style="grumpy")
    with pytest.raises(InputError, match="known styles"):
        pipe.restyle(walk, "grumpy")
    with pytest.raises(InputError, match="blend must be"):
        pipe.restyle(walk, "sad", blend="happy")
    # a motion whose parts do different things is restyled part by part, blended too (a
    # blend had described it by one action and lost the others: a web developer's trial;
    # ``test_a_restyle_restyles_each_action_a_motion_does_in_turn``)
    pipe._actions_in_turn = lambda positions: [("wave-left-hand", 10), ("bow", 10)]
    mixed = pipe.check_restyle(walk, " Sad", blend=("happy", 0.5))
    assert len(mixed.meta["segments"]) == 2 and "then" in mixed.meta["read_as"]
    assert mixed.text.endswith("in a sad way")  # " Sad" is the style sad
    assert "warning" not in pipe.check_restyle(walk, "sad", text="a person walks").meta


def test_a_checkpoint_without_style_input_says_so(tmp_path):
    from motiongen.motion import Motion
    from motiongen.pipeline import Pipeline
    from tests.test_pipeline import FakeEncoder, make_checkpoint

    pipe = Pipeline.from_pretrained(make_checkpoint(tmp_path / "c", control=True),
                                    text_encoder=FakeEncoder())  # fmt: skip
    walk = Motion(positions=np.zeros((20, 22, 3)) + np.linspace(0, 1.7, 22)[None, :, None] * [0, 1, 0],
                  fps=20.0)  # fmt: skip
    with pytest.raises(InputError, match="no style input"):
        pipe.restyle(walk, "sad", text="a person walks")
    assert pipe.styles == []


def test_the_bandai_sets_own_style_words_name_their_styles():
    enc = StyleEncoder.from_pretrained()  # the shipped encoder: elderly, exhausted, ...
    assert "old" not in enc.styles and "elderly" in enc.styles
    np.testing.assert_array_equal(enc.vector("old"), enc.vector("elderly"))
    np.testing.assert_array_equal(enc.vector(" Tired"), enc.vector("exhausted"))
