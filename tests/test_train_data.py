"""Training windows: phrasings, cell balancing, speed and scale augmentation."""

from __future__ import annotations

import numpy as np
import torch

from motiongen.augment import mirror_label
from motiongen.data.dataset import (
    TEMPO_COLUMN,
    Clip,
    MotionWindows,
    TextBank,
    WindowConfig,
    balanced_weights,
    speed_up,
)
from motiongen.data.text import describe, training_phrasings
from motiongen.features import FEATURE_DIM, NormStats, features_to_positions
from motiongen.models.conditions import ModelConditions
from motiongen.models.dit import MotionDiT, MotionDiTConfig


def _clip(name: str, source: str, labels: dict, frames: int, audio: bool = False) -> Clip:
    t = np.arange(frames) / 20.0
    pos = np.zeros((frames, 22, 3))
    pos[..., 1] = np.linspace(0.05, 1.6, 22)[None]  # a standing column of joints
    pos[..., 2] += 1.2 * t[:, None]  # walking forward at 1.2 m/s
    texts = describe(labels)
    aud = None
    if audio:
        aud = np.zeros((frames, 50), dtype=np.float32)
        aud[:, 0] = np.arange(frames)  # the frame index, to see which rows were read
    return Clip(name, pos, texts, [mirror_label(x) for x in texts], aud, 1.0, labels, source)


def test_phrasings_keep_meaning_and_mix_content_only_wordings():
    texts = training_phrasings({"content": "wave-left-hand", "style": "happy"})
    assert len(texts) > 12
    assert all("left" in t for t in texts if "moves" not in t)
    assert not any("right" in t for t in texts)
    style_words = ("happ", "cheer", "joy")
    with_style = [t for t in texts if any(w in t.lower() for w in style_words)]
    content_only = [t for t in texts if "wave" in t and t not in with_style]
    style_only = [t for t in texts if "moves" in t]
    n = len(texts)
    assert 0.55 < len(with_style) / n < 0.85  # ~70 % describe both
    assert 0.1 < len(content_only) / n < 0.35
    assert 0.0 < len(style_only) / n < 0.2
    assert training_phrasings({"content": "bow", "style": "sad"}) == training_phrasings(
        {"content": "bow", "style": "sad"}
    )
    dance = training_phrasings({"dance_type": "waltz"})
    assert sum("waltz" in t for t in dance) >= 7 and any("waltz" not in t for t in dance)


def test_cell_balance_gives_each_source_its_share_and_each_cell_an_equal_part():
    clips = [
        _clip(f"b2_{i}", "bandai-2", {"content": "walk", "style": "normal"}, 80) for i in range(50)
    ]
    clips += [_clip("b1_bow", "bandai-1", {"content": "bow", "style": "sad"}, 100)]
    clips += [_clip("b1_kick", "bandai-1", {"content": "kick", "style": "sad"}, 300)]
    clips += [_clip("song", "dance", {"dance_type": "waltz", "song": "W_1"}, 2000)]
    w = balanced_weights(clips, 196, {"bandai-1": 0.5, "bandai-2": 0.3})
    assert np.isclose(w.sum(), 1.0)
    by_name = dict(zip([c.name for c in clips], w, strict=True))
    assert np.isclose(sum(by_name[f"b2_{i}"] for i in range(50)), 0.3)
    assert np.isclose(by_name["b1_bow"], 0.25) and np.isclose(by_name["b1_kick"], 0.25)
    assert np.isclose(by_name["song"], 0.2)  # the rest goes to the unnamed source


def test_speed_up_reads_the_source_at_factor_times_the_frame_index():
    pos = np.arange(30, dtype=np.float64)[:, None, None] * np.ones((1, 22, 3))
    out, src = speed_up(pos, 1.5, 11)
    assert out.shape == (11, 22, 3)
    np.testing.assert_allclose(src, np.arange(11) * 1.5)
    np.testing.assert_allclose(out[:, 0, 0], np.arange(11) * 1.5)  # linear in time


def test_windows_with_speed_and_scale_keep_music_aligned():
    clip = _clip("song", "dance", {"dance_type": "waltz", "song": "W_1"}, 400, audio=True)
    bank = TextBank(
        sorted(set(clip.texts + clip.mirrored_texts)),
        np.zeros((8, 4)),
        np.zeros((8, 2, 4)),
        np.ones((8, 2)),
    )
    norm = NormStats(np.zeros(FEATURE_DIM), np.ones(FEATURE_DIM))
    cfg = WindowConfig(window=100, mirror_prob=0.0, speed_prob=1.0, speed_range=(1.25, 1.25),
                       scale_prob=1.0, scale_range=(1.1, 1.1))  # fmt: skip
    ds = MotionWindows([clip], bank, norm, cfg, 50, seed=0)
    item = ds[0]
    audio = item["audio"].numpy()
    rows = audio[:, 0]
    steps = np.diff(rows)
    assert set(np.round(steps).astype(int)) <= {1, 2} and abs(steps.mean() - 1.25) < 0.02
    np.testing.assert_allclose(audio[:, TEMPO_COLUMN], np.log2(1.25), atol=1e-6)
    pos = features_to_positions(item["x"].numpy())
    speed = np.linalg.norm(np.diff(pos[:, 0, [0, 2]], axis=0), axis=1).mean() * 20
    assert abs(speed - 1.2 * 1.25 * 1.1) < 0.01  # faster and larger strides


def test_windows_with_music_take_their_own_speed_range():
    song = _clip("song", "dance", {"dance_type": "waltz", "song": "W_1"}, 400, audio=True)
    walk = _clip("walk", "bandai-1", {"content": "walk", "style": "normal"}, 400)
    texts = sorted({t for c in (song, walk) for t in c.texts + c.mirrored_texts})
    bank = TextBank(texts, np.zeros((len(texts), 4)), np.zeros((len(texts), 2, 4)),
                    np.ones((len(texts), 2)))  # fmt: skip
    norm = NormStats(np.zeros(FEATURE_DIM), np.ones(FEATURE_DIM))
    cfg = WindowConfig(window=100, mirror_prob=0.0, speed_prob=0.0,
                       music_speed_prob=1.0, music_speed_range=(0.8, 0.8))  # fmt: skip
    ds = MotionWindows([song, walk], bank, norm, cfg, 50, seed=0)
    audio = ds[0]["audio"].numpy()
    np.testing.assert_allclose(np.diff(audio[:, 0]).mean(), 0.8, atol=0.02)  # song 0.8x
    np.testing.assert_allclose(audio[:, TEMPO_COLUMN], np.log2(0.8), atol=1e-6)
    for item, expected in ((ds[0], 1.2 * 0.8), (ds[1], 1.2)):  # the walk keeps its speed
        pos = features_to_positions(item["x"].numpy())
        speed = np.linalg.norm(np.diff(pos[:, 0, [0, 2]], axis=0), axis=1).mean() * 20
        assert abs(speed - expected) < 0.01
    # None: windows with music follow the body's own settings, as before the option
    same = WindowConfig(window=100, mirror_prob=0.0, speed_prob=1.0, speed_range=(1.25, 1.25))
    audio = MotionWindows([song], bank, norm, same, 50, seed=0)[0]["audio"].numpy()
    np.testing.assert_allclose(audio[:, TEMPO_COLUMN], np.log2(1.25), atol=1e-6)


def test_text_refiner_starts_as_identity_and_ignores_dropped_prompts():
    base = MotionDiTConfig.preset("tiny", feature_dim=FEATURE_DIM, text_dim=16)
    refined = MotionDiTConfig.preset("tiny", feature_dim=FEATURE_DIM, text_dim=16, text_layers=2)
    torch.manual_seed(0)
    a = MotionDiT(base)
    torch.manual_seed(0)
    b = MotionDiT(refined)
    b.load_state_dict(a.state_dict(), strict=False)
    tokens = torch.randn(2, 5, 16)
    cond = ModelConditions(text_pooled=torch.randn(2, 16), text_tokens=tokens,
                           text_mask=torch.ones(2, 5, dtype=torch.bool))  # fmt: skip
    emb_a = a.cond_embed(cond, batch=2, frames=8, frame_mask=None, like=tokens)
    emb_b = b.cond_embed(cond, batch=2, frames=8, frame_mask=None, like=tokens)
    torch.testing.assert_close(emb_a.pooled, emb_b.pooled)
    # The refiner adds learned positions (zero at start), so the context is the same too.
    torch.testing.assert_close(emb_a.context, emb_b.context)
    dropped = ModelConditions(text_pooled=torch.randn(2, 16), text_tokens=torch.randn(2, 5, 16),
                              drop_text=torch.ones(2, dtype=torch.bool))  # fmt: skip
    with torch.no_grad():
        for p in b.parameters():
            p.add_(0.1 * torch.randn_like(p))
    e1 = b.cond_embed(dropped, batch=2, frames=8, frame_mask=None, like=tokens)
    dropped.text_tokens = torch.randn(2, 5, 16)
    e2 = b.cond_embed(dropped, batch=2, frames=8, frame_mask=None, like=tokens)
    torch.testing.assert_close(e1.pooled, e2.pooled)  # only the null slot is seen
