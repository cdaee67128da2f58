"""Pipeline: seeding, conditions, long sequences stitched without seams, seed motions, and a
clear error for every bad input (prompt, length, audio, checkpoint).

Most tests use a random tiny MotionDiT (depth 1, width 64) saved as a checkpoint, and a fake
text encoder (the real one takes seconds to load); one test loads the real encoder and one
uses the shipped model when it is installed.
"""

from __future__ import annotations

import json
import re
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from motiongen import checkpoint as checkpoint_module
from motiongen import pipeline as pipeline_module
from motiongen.artifacts import bone_length_drift, ground_penetration
from motiongen.checkpoint import CheckpointConfig, record_manifest, save_checkpoint
from motiongen.conditioning.text import TextEmbedding, validate_prompt
from motiongen.data.synthetic import synth_motion, synth_sequence
from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.features import (
    FEATURE_DIM,
    NormStats,
    align_to_first_frame,
    positions_to_features,
)
from motiongen.models import MotionDiT, MotionDiTConfig
from motiongen.motion import Motion
from motiongen.paths import DEFAULT_MODEL
from motiongen.pipeline import Pipeline, parse_guidance, window_plan

CONDITIONING = {
    "text_model": "all-MiniLM-L6-v2",
    "text_dim": 384,
    "max_tokens": 64,
    "audio_dim": 50,
    "fps": 20.0,
    "window": 196,
}


class FakeEncoder:
    """Deterministic stand-in for ``TextEncoder``: a few random tokens per prompt."""

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.calls = 0

    def encode(self, texts: list[str], cache: bool = True) -> TextEmbedding:
        self.calls += 1
        pooled, tokens = [], []
        for text in texts:
            g = torch.Generator().manual_seed(zlib.crc32(validate_prompt(text).encode()))
            tok = torch.randn(5, self.dim, generator=g)
            tokens.append(tok)
            pooled.append(torch.nn.functional.normalize(tok.mean(0), dim=0))
        return TextEmbedding(
            torch.stack(pooled), torch.stack(tokens), torch.ones(len(texts), 5, dtype=torch.bool)
        )


def make_checkpoint(path, *, process="flow", text_dim=384, audio_dim=50, seed=0, control=False,
                    prior=False, norm=None, **conditioning):  # fmt: skip
    """A random tiny MotionDiT saved as a checkpoint folder (identity normalisation unless
    ``norm`` is given); with ``control`` the network takes control values and task tokens."""
    from motiongen.tasks import CONTROL_DIM, TASKS

    torch.manual_seed(seed)
    extra = {"control_dim": CONTROL_DIM, "num_tasks": len(TASKS)} if control else {}
    if prior:
        extra["prior_dim"] = FEATURE_DIM
    cfg = MotionDiTConfig(
        feature_dim=FEATURE_DIM, width=64, depth=1, heads=4, text_dim=text_dim,
        audio_dim=audio_dim, **extra,
    )  # fmt: skip
    model = MotionDiT(cfg)
    with torch.no_grad():  # zero-initialised layers would make the output ignore the input
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    if norm is None:
        norm = NormStats(np.zeros(FEATURE_DIM, np.float32), np.ones(FEATURE_DIM, np.float32))
    config = CheckpointConfig.create(
        "dit",
        cfg.to_dict(),
        process,
        conditioning={**CONDITIONING, "text_dim": text_dim, "audio_dim": audio_dim, **conditioning},
    )
    return save_checkpoint(path, config, model, norm)


def control_and_text_pipes(root):
    """(a random control pipeline, a random text pipeline) from checkpoints under ``root``:
    the two models of a span edit or a joined timeline."""
    control = Pipeline.from_pretrained(
        make_checkpoint(root / "control", seed=5, control=True), text_encoder=FakeEncoder()
    )
    text = Pipeline.from_pretrained(
        make_checkpoint(root / "text", seed=9), text_encoder=FakeEncoder()
    )
    return control, text


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "tiny")


@pytest.fixture(scope="module")
def pipe(checkpoint):
    return Pipeline.from_pretrained(checkpoint, text_encoder=FakeEncoder())


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    """12 s of clicks at 120 BPM over a quiet tone."""
    sr = 22050
    t = np.arange(int(12 * sr)) / sr
    y = 0.05 * np.sin(2 * np.pi * 220 * t)
    for beat in np.arange(0, 12, 0.5):
        i = int(beat * sr)
        y[i : i + 400] += 0.8 * np.exp(-np.arange(400) / 60.0)
    path = tmp_path_factory.mktemp("audio") / "clicks.wav"
    sf.write(path, y.astype(np.float32), sr)
    return path


# ---- basics and determinism -------------------------------------------------------------------
def test_text_generation_defaults_and_metadata(pipe):
    motion = pipe("a person waves with both hands", seed=3)
    assert isinstance(motion, Motion)
    assert motion.fps == 20.0 and motion.num_frames == 130  # 6.5 s
    assert motion.texts == ["a person waves with both hands"]
    assert motion.labels["generated"] == "motiongen" and motion.labels["conditions"] == "text"
    assert motion.audio is None
    meta = motion.meta
    assert (meta["sampler"], meta["steps"], meta["guidance"], meta["seed"]) == ("euler", 4, 2.5, 3)
    assert meta["checkpoint"] == "tiny" and meta["windows"] == 1
    json.dumps(meta)  # saved with the motion, so it must be JSON
    # Post-processed by default: physically sane whatever the (random) network says.
    assert bone_length_drift(motion.positions) < 1e-5
    assert ground_penetration(motion.positions) == 0.0


def test_a_length_said_in_the_prompt_is_the_motions_length(pipe):
    # a new user's "a person walks forward for 3 seconds" made 8.85 s, and said nothing
    req = pipe.check_request("a person walks forward for 3 seconds", seed=0)
    assert (req.seconds, req.frames, req.text) == (3.0, 60, "a person walks forward")
    assert req.meta["length_from"] == "the prompt ('for 3 seconds')"
    made = pipe("a person waves for two seconds.", seed=0)
    assert made.num_frames == 40 and made.meta["length_from"] == "the prompt ('for two seconds')"
    same = pipe.check_request("a person walks for 2.5 s", seconds=2.5, seed=0)  # a re-run job
    assert same.seconds == 2.5 and same.text == "a person walks"
    with pytest.raises(InputError, match=r"says 3 s \('for 3 seconds'\) and 5 s were asked"):
        pipe.check_request("a person walks for 3 seconds", seconds=5.0)
    with pytest.raises(InputError, match="cannot read 'many seconds' as a length"):
        pipe.check_request("a person walks for many seconds")
    with pytest.raises(InputError, match="seconds"):  # the length's own bounds
        pipe.check_request("a person walks for 10 minutes")
    assert pipe.check_request("a person waits for a second person", seed=0).seconds != 1.0
    # a second length (a "then" prompt made as one motion) and a seed motion's past: refused
    with pytest.raises(InputError, match="more than one length"):
        pipe.check_request("a person walks for 2 seconds, then bows for 3 seconds")
    past = pipe("a person walks", seconds=1.0, seed=0)
    with pytest.raises(InputError, match="beside a seed motion"):
        pipe.check_request("a person walks for 3 seconds", seed_motion=past)
    said = pipe.check_request("a person walks for 2 seconds , then bows", seed=0)
    assert said.text == "a person walks, then bows"  # the words' gap closed up


def test_same_seed_same_motion_other_seed_other_motion(pipe):
    a = pipe("a person walks forward", seconds=3.0, seed=11)
    b = pipe("a person walks forward", seconds=3.0, seed=11)
    c = pipe("a person walks forward", seconds=3.0, seed=12)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert np.abs(a.positions - c.positions).max() > 1e-3
    d = pipe("a person jumps", seconds=3.0, seed=11)  # the prompt matters too
    assert np.abs(a.positions - d.positions).max() > 1e-3


def test_seed_none_is_recorded_and_reproducible(pipe):
    first = pipe("a person bows", seconds=2.0, postprocess=False)
    again = pipe("a person bows", seconds=2.0, postprocess=False, seed=first.meta["seed"])
    np.testing.assert_array_equal(first.positions, again.positions)


def test_batch_gives_a_list_of_different_motions(pipe):
    motions = pipe("a person kicks", seconds=2.0, seed=5, batch=3)
    assert isinstance(motions, list) and len(motions) == 3
    assert [m.meta["index"] for m in motions] == [0, 1, 2]
    assert np.abs(motions[0].positions - motions[1].positions).max() > 1e-3
    # Sample i of a batch does not depend on the batch size... but is deterministic per seed.
    again = pipe("a person kicks", seconds=2.0, seed=5, batch=3)
    np.testing.assert_array_equal(motions[2].positions, again[2].positions)
    # each reports a seed of its own that makes it again alone (all said 5 before)
    seeds = [m.meta["seed"] for m in motions]
    assert seeds[0] == 5 and len(set(seeds)) == 3 and motions[2].meta["batch_seed"] == 5
    alone = pipe("a person kicks", seconds=2.0, seed=seeds[2])
    np.testing.assert_allclose(alone.positions, motions[2].positions, atol=1e-5)


@pytest.mark.parametrize("sampler", ["euler", "midpoint", "heun"])
def test_flow_samplers_and_guidance_forms(pipe, sampler):
    m = pipe("a person runs", seconds=1.0, seed=0, sampler=sampler, steps=2, guidance=(2.0, 1.5))
    assert m.meta["sampler"] == sampler and m.meta["guidance"] == [2.0, 1.5]
    assert np.isfinite(m.positions).all()


def test_unconditional_and_raw_output(pipe):
    raw = pipe(seconds=2.0, seed=1, postprocess=False)
    assert raw.texts == [] and raw.labels["conditions"] == "unconditional"
    # Raw output starts where the features put frame 0: pelvis over the origin.
    np.testing.assert_allclose(raw.positions[0, 0, [0, 2]], 0.0, atol=1e-6)
    clean = pipe(seconds=2.0, seed=1)
    assert bone_length_drift(clean.positions) < bone_length_drift(raw.positions)


def test_guidance_uses_one_batched_pass(pipe, monkeypatch):
    calls = []
    forward = pipe.model.forward

    def counting(x, t, cond=None, mask=None):
        calls.append(x.shape[0])
        return forward(x, t, cond, mask)

    monkeypatch.setattr(pipe.model, "forward", counting)
    pipe("a person waves", seconds=1.0, seed=0, steps=4, postprocess=False)
    assert calls == [2, 2, 2, 2]  # conditional + unconditional stacked, once per step
    calls.clear()
    pipe(seconds=1.0, seed=0, steps=4, postprocess=False)
    assert calls == [1, 1, 1, 1]  # nothing to guide: one pass


def test_bf16_precision(checkpoint):
    fast = Pipeline.from_pretrained(checkpoint, text_encoder=FakeEncoder(), precision="bf16")
    exact = Pipeline.from_pretrained(checkpoint, text_encoder=FakeEncoder())
    a = fast("a person waves", seconds=2.0, seed=0, postprocess=False)
    b = fast("a person waves", seconds=2.0, seed=0, postprocess=False)
    c = exact("a person waves", seconds=2.0, seed=0, postprocess=False)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.meta["precision"] == "bf16" and a.positions.dtype == np.float32
    # bf16 rounds the network's output, not the sampler: the motions agree closely.
    assert 0 < np.abs(a.positions - c.positions).max() < 0.05 * np.abs(c.positions).max()
    with pytest.raises(InputError, match="precision"):
        Pipeline.from_pretrained(checkpoint, precision="fp8")


def test_a_motion_names_the_weights_it_was_made_with(tmp_path):
    # a paper needs more than the seed: a fine-tune's "best" was named "best", its weights
    # and the package unnamed (a researcher's trial)
    from motiongen import __version__
    from motiongen.integrity import sha256_file

    path = make_checkpoint(tmp_path / "sft_run" / "best")
    m = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())("a person waves", seconds=1.0,
                                                                   seed=0)  # fmt: skip
    assert m.meta["checkpoint"] == "sft_run/best" and m.meta["motiongen_version"] == __version__
    assert m.meta["checkpoint_sha256"] == sha256_file(path / "model.safetensors")


@pytest.mark.slow  # diffusers' import takes a few seconds
def test_ddim_checkpoint(tmp_path):
    path = make_checkpoint(tmp_path / "ddpm", process="ddpm")
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    m = pipe("a person waves", seconds=1.0, seed=0, steps=5)
    assert (m.meta["sampler"], m.meta["steps"], m.meta["guidance"]) == ("ddim", 5, 7.5)
    again = pipe("a person waves", seconds=1.0, seed=0, steps=5)
    np.testing.assert_array_equal(m.positions, again.positions)
    with pytest.raises(InputError, match="sampler 'euler'"):
        pipe("a person waves", seconds=1.0, sampler="euler")


# ---- long sequences --------------------------------------------------------------------------
def test_window_plan():
    assert window_plan(130, 196, 40) == [(0, 130)]
    plan = window_plan(600, 196, 40)
    assert plan == [(0, 196), (156, 196), (312, 196), (468, 132)]
    covered = np.zeros(600, int)
    for start, length in plan:
        covered[start : start + length] += 1
    assert covered.min() == 1 and covered.max() == 2


class ReferenceOracle(nn.Module):
    """A flow 'network' that knows a long reference motion: it finds where the known prefix
    of the window sits in the reference and steers the sample to the reference from there.
    Generation with it must reproduce the reference exactly, windows and all."""

    def __init__(self, features: np.ndarray) -> None:
        super().__init__()
        self.config = SimpleNamespace(feature_dim=FEATURE_DIM, text_dim=0, audio_dim=0)
        self.ref = torch.as_tensor(features)
        self.offsets: list[int] = []

    def forward(self, x, t, cond=None, mask=None):
        B, L, _ = x.shape
        offset = 0
        if cond is not None and cond.known is not None:
            k = int(cond.known_mask[0, :, 0].sum())
            known = cond.known[0, :k]
            errors = [
                float(((self.ref[o : o + k] - known) ** 2).sum())
                for o in range(len(self.ref) - L + 1)
            ]
            offset = int(np.argmin(errors))
        self.offsets.append(offset)
        target = self.ref[offset : offset + L].expand(B, -1, -1)
        return (target - x) / (1 - t)[:, None, None]


def test_long_sequence_reproduces_a_reference_across_seams():
    # A 36 s motion that walks, turns and runs; a little smooth noise makes every window unique.
    ref = synth_sequence(["walk", "turn-left", "run"], seconds=12.0, seed=0).positions
    rng = np.random.default_rng(0)
    from scipy.ndimage import gaussian_filter1d

    ref = ref + gaussian_filter1d(rng.normal(scale=0.05, size=ref.shape), 5, axis=0)
    oracle = ReferenceOracle(positions_to_features(ref))
    config = CheckpointConfig.create(
        "dit", {}, "flow", conditioning=dict(CONDITIONING, text_dim=0, audio_dim=0)
    )
    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    pipe = Pipeline(oracle, config, norm, name="oracle")

    motion = pipe(seconds=30.0, seed=0, postprocess=False)
    assert motion.num_frames == 600 and motion.meta["windows"] == 4
    assert sorted(set(oracle.offsets)) == [0, 156, 312, 468]  # each window continued the last
    expected = align_to_first_frame(ref[:600])
    assert np.abs(motion.positions - expected).max() < 2e-3  # metres, over 30 s and 3 seams

    # No jump at the seams: the largest per-frame joint displacement around each seam is
    # the reference's own (walking or running there), to a millimetre.
    def step(p: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.diff(p, axis=0), axis=-1).max(axis=1)  # (599,)

    seams = np.array([156 + 40, 312 + 40, 468 + 40]) - 1  # first newly generated frames
    near = np.concatenate([np.arange(s - 3, s + 4) for s in seams])
    np.testing.assert_allclose(step(motion.positions)[near], step(expected)[near], atol=1e-3)


def test_long_sequence_with_random_model(pipe):
    motion = pipe("a person dances", seconds=30.0, seed=4)
    assert motion.num_frames == 600 and motion.meta["windows"] == 4
    step = np.linalg.norm(np.diff(motion.positions, axis=0), axis=-1).max(axis=1)
    seams = np.array([196, 352, 508]) - 1
    near = np.concatenate([np.arange(s - 2, s + 3) for s in seams])
    assert step[near].max() <= 1.5 * np.percentile(step, 99)
    assert bone_length_drift(motion.positions) < 1e-5


def test_seed_motion_is_the_fixed_prefix(pipe):
    seed = synth_sequence(["walk"], seconds=1.5, seed=2)  # 30 frames, somewhere on the floor
    seed = seed.copy(positions=seed.positions + np.array([1.0, 0.0, -2.0], np.float32))
    m = pipe("a person walks", seconds=4.0, seed=0, seed_motion=seed, postprocess=False)
    assert m.num_frames == 80 and m.meta["seed_motion_frames"] == 30
    np.testing.assert_allclose(m.positions[:30], seed.positions, atol=1e-4)
    # The same holds across windows when the motion is long.
    long = pipe("a person walks", seconds=12.0, seed=0, seed_motion=seed, postprocess=False)
    np.testing.assert_allclose(long.positions[:30], seed.positions, atol=1e-4)
    # And after clean-up (which alone moved a short seed by up to 23 cm), also a short seed.
    for frames in (30, 5):
        short = seed.crop(0, frames)
        cleaned = pipe("a person walks", seconds=4.0, seed=0, seed_motion=short)
        np.testing.assert_allclose(cleaned.positions[:frames], short.positions, atol=1e-5)
        assert np.isfinite(cleaned.positions).all()
    with pytest.raises(InputError, match="seed motion has"):
        pipe("a person walks", seconds=1.0, seed_motion=seed)


# ---- music ------------------------------------------------------------------------------------
def test_music_conditioning(pipe, song, monkeypatch):
    # librosa's first call compiles for seconds; the real features are exercised by the
    # CLI tests (tests/test_generate_cli.py), here only what the pipeline does with them.
    import importlib

    # (the package re-exports a function of the same name, so import the module itself)
    audio_features = importlib.import_module("motiongen.conditioning.audio_features")

    asked = []

    def fake_features(path, fps, offset=0.0, seconds=None, *, num_frames=None):
        asked.append((str(path), fps, offset, num_frames))
        rows = np.random.default_rng(int(offset * 10)).normal(size=(num_frames, 50))
        return SimpleNamespace(frames=rows.astype(np.float32))

    monkeypatch.setattr(audio_features, "features_from_file", fake_features)
    monkeypatch.setenv(audio_features.CACHE_ENV, "0")  # the fake must be asked, not the cache
    m = pipe(music=song, seconds=4.0, seed=0, music_offset=1.0, beat_sync=False)
    assert asked == [(str(song), 20.0, 1.0, 80)]  # the whole span at once, from the offset
    assert m.audio is not None and m.audio.path == str(song) and m.audio.offset == 1.0
    assert m.labels["conditions"] == "music" and m.meta["music_offset"] == 1.0
    both = pipe("a person dances", music=song, seconds=4.0, seed=0, beat_sync=False)
    assert both.labels["conditions"] == "text+music"
    silent_model = pipe(seconds=4.0, seed=0)
    assert np.abs(m.positions - silent_model.positions).max() > 1e-4
    # dances keep the network's contacts alone (real dances glide), never leave the floor and
    # keep their toes exactly (their foot accents fall on the beats); other motion gets the
    # low, slow toes it left out locked too, may jump, and its toes' shift low-passed
    import motiongen.postprocess as post

    cleaned = []
    real_clean = post.postprocess

    def spy(p, fps, **kw):
        cleaned.append((kw.get("add_guessed", True), kw.get("grounded", False),
                        kw.get("toe_shift_seconds")))  # fmt: skip
        return real_clean(p, fps, **kw)

    monkeypatch.setattr(post, "postprocess", spy)
    pipe(music=song, seconds=2.0, seed=1, beat_sync=False)
    pipe("a person walks", seconds=2.0, seed=1)
    assert cleaned == [(False, True, 0.0), (True, False, None)]


def test_dances_are_retimed_onto_the_beats_by_default(pipe, song):
    from motiongen.generation.on_beats import frames_to_make

    assert frames_to_make(80, 20.0, 12.0) == 100  # made 1.25x longer to be played slower
    assert frames_to_make(80, 20.0, 4.5) == 90  # as far as the music goes
    assert frames_to_make(80, 20.0, 4.0) == 80
    from motiongen.generation.on_beats import DEFAULT_SYNC_SECONDS, check_beat_sync

    # by default up to 30 s (the warp grows with the square of the length); asked, longer too
    assert check_beat_sync(None, True, False, DEFAULT_SYNC_SECONDS)
    assert not check_beat_sync(None, True, False, DEFAULT_SYNC_SECONDS + 10)
    assert check_beat_sync(True, True, False, DEFAULT_SYNC_SECONDS + 10)
    assert not check_beat_sync(None, True, True, 10.0)  # continuing a seed motion
    synced = pipe(music=song, seconds=4.0, seed=0)
    assert synced.num_frames == 80 and synced.meta["seconds"] == 4.0
    info = synced.meta["beat_sync"]
    before, after = info["beats_hit"]
    if info["applied"]:  # retimed only where more beats get an accent
        assert 0.8 - 1e-6 <= info["pace"] <= 1.25 + 1e-6 and after > before
    else:  # kept as made, and that is no warning
        assert after <= before and "warning" not in synced.meta
    own = pipe(music=song, seconds=4.0, seed=0, beat_sync=False)
    assert "beat_sync" not in own.meta and own.num_frames == 80
    raw = pipe(music=song, seconds=4.0, seed=0, postprocess=False)  # the network's output
    assert raw.num_frames == 80 and "post-processing is off" in raw.meta["beat_sync"]["reason"]
    # no music left to make it longer: retimed only where it need not run past its end
    whole = pipe(music=song, seconds=12.0, seed=0).meta["beat_sync"]
    assert whole["pace"] <= 1.0 if whole["applied"] else whole["reason"]
    # longer than beat sync's default reach: said (a 60 s dance was left alone silently)
    import motiongen.generation.on_beats as ob

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ob, "DEFAULT_SYNC_SECONDS", 3.0)
        long = pipe.check_request(None, music=song, seconds=4.0, seed=0).meta["beat_sync"]
    assert not long["applied"] and "up to 3 s; beat_sync=True (--beat-sync)" in long["reason"]
    with pytest.raises(InputError, match="give a music file"):
        pipe("a person walks", seconds=2.0, beat_sync=True)
    with pytest.raises(InputError, match="beat_sync must be"):
        pipe(music=song, seconds=2.0, beat_sync="yes")


def test_a_dance_to_an_mp3_cut_short_is_made_from_what_it_holds(pipe, song, tmp_path):
    """Beat sync makes the dance longer than asked, as far as the music goes: as far as it
    decodes, not as far as the header of an MP3 cut short says (it asked for music the file
    does not hold, and a length the error had said would work failed)."""
    y, sr = sf.read(str(song))
    whole = tmp_path / "song.mp3"
    sf.write(str(whole), y, sr, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    m = pipe(music=cut, seconds=5.5, seed=0)  # made 6.9 s long, from the header's 12 s
    assert m.num_frames == 110


def test_beat_sync_plays_a_dance_at_the_music_s_tempo(tmp_path):
    from motiongen.generation.on_beats import on_beats
    from tests.serve_helpers import write_song
    from tests.test_capture import bouncing

    made = bouncing(12.0, 2.0)  # stops twice a second
    for bpm, quicker in ((150, True), (100, False)):  # 2.5 and 1.67 beats a second
        song = write_song(tmp_path / f"{bpm}.wav", seconds=12.0, bpm=bpm)
        out, info = on_beats(made, 20.0, song, 0.0, 160)
        assert out.shape == (160, 22, 3) and info["applied"]
        assert info["pace"] > 1.1 if quicker else info["pace"] < 0.9
        assert info["beats_hit"][1] > info["beats_hit"][0]
    # made no longer than asked, it would run out of motion played quicker: kept as made
    kept, info = on_beats(made[:160], 20.0, tmp_path / "150.wav", 0.0, 160)
    assert not info["applied"] and "too little music" in info["reason"] and info["warn"]
    np.testing.assert_array_equal(kept, made[:160])
    # already on the beats (the bounce at the clicks' own rate): retiming lands no more
    song = write_song(tmp_path / "120.wav", seconds=12.0, bpm=120)
    kept, info = on_beats(made, 20.0, song, 0.0, 160)
    if not info["applied"]:
        assert not info["warn"] and info["beats_hit"][1] <= info["beats_hit"][0]
        np.testing.assert_array_equal(kept, made[:160])


def test_music_shorter_than_requested(pipe, song):
    with pytest.raises(InputError, match="shorter than the 20 s asked for"):
        pipe(music=song, seconds=20.0)
    with pytest.raises(InputError, match="offset"):
        pipe(music=song, seconds=2.0, music_offset=-1.0)
    # past the song's end: its length, not "lasts 0.00 s ... ask for at most 0.00 s"
    with pytest.raises(InputError, match=r"offset 9999 s is past the end of .*, which lasts"):
        pipe(music=song, seconds=2.0, music_offset=9999.0)


def test_bad_audio_files(pipe, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050 * 8, np.float32), 22050)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 22050)
    garbage = tmp_path / "garbage.ogg"
    garbage.write_bytes(b"this is not audio" * 100)
    with pytest.raises(InputError, match="silent"):
        pipe(music=silent, seconds=2.0)
    with pytest.raises(InputError, match="no samples|0 s"):
        pipe(music=empty, seconds=2.0)
    with pytest.raises(FormatError, match="cannot read audio"):
        pipe(music=garbage, seconds=2.0)
    with pytest.raises(DataNotFoundError, match="no such audio file"):
        pipe(music=tmp_path / "missing.wav", seconds=2.0)


# ---- bad arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"text": ""}, "prompt is empty"),
        ({"text": "   "}, "prompt is empty"),
        ({"text": "x" * 10_000}, "10,000 characters"),
        ({"seconds": 0}, "seconds must be between 0.5 and"),
        ({"seconds": -1}, "seconds must be between 0.5 and"),
        ({"seconds": 121}, "between 0.5 and 120"),
        ({"seconds": float("nan")}, "seconds must be a number"),
        ({"steps": 0}, "steps must be between"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"sampler": "ddim"}, "does not fit this flow checkpoint"),
        ({"guidance": -1.0}, "between 0 and"),
        ({"guidance": "lots"}, "guidance must be"),
        ({"guidance": (1.0, 2.0, 3.0)}, "guidance must be"),
        ({"batch": 0}, "batch must be between"),
        ({"seed": -5}, "seed must be between"),
        ({"seed_motion": np.zeros((5, 22, 3))}, "seed motion must be a motiongen.Motion"),
        ({"music_offset": 1.0}, "without music"),
    ],
)
def test_bad_arguments(pipe, kwargs, match):
    encoder_calls = pipe.text_encoder.calls
    with pytest.raises(InputError, match=match):
        pipe(**{"text": "a person waves", **kwargs})
    assert pipe.text_encoder.calls == encoder_calls  # rejected before any work


def test_parse_guidance():
    assert parse_guidance("2.5") == 2.5
    assert parse_guidance("2.5, 1.5") == (2.5, 1.5)
    assert parse_guidance([3, 1]) == (3.0, 1.0)
    with pytest.raises(InputError):
        parse_guidance("inf")


def test_conditions_the_checkpoint_lacks(tmp_path):
    path = make_checkpoint(tmp_path / "plain", text_dim=0, audio_dim=0)
    pipe = Pipeline.from_pretrained(path)
    assert pipe(seconds=1.0, seed=0).num_frames == 20
    with pytest.raises(InputError, match="trained without text"):
        pipe("a person waves", seconds=1.0)
    with pytest.raises(InputError, match="trained without music"):
        pipe(music=tmp_path / "x.wav", seconds=1.0)


# ---- checkpoints ------------------------------------------------------------------------------
def test_missing_checkpoint_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="no checkpoint"):
        Pipeline.from_pretrained(tmp_path / "nope")


def test_missing_shipped_model(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "SHIPPED_MODELS_DIR", tmp_path / "models")
    with pytest.raises(DataNotFoundError, match=f"shipped model {DEFAULT_MODEL} is not installed"):
        Pipeline.from_pretrained()


def test_corrupt_checkpoints(tmp_path):
    from safetensors.torch import load_file, save_file

    nan = make_checkpoint(tmp_path / "nan")
    state = load_file(str(nan / "model.safetensors"))
    state["out.weight"][0, 0] = float("nan")
    save_file(state, str(nan / "model.safetensors"))
    with pytest.raises(FormatError, match=r"model\.safetensors (changed|has)"):
        Pipeline.from_pretrained(nan)  # the manifest catches any change first
    record_manifest(nan)  # as a diverged training run would have saved it
    with pytest.raises(FormatError, match="NaN"):
        Pipeline.from_pretrained(nan)

    shapes = make_checkpoint(tmp_path / "shapes")
    cfg = json.loads((shapes / "config.json").read_text())
    cfg["model"]["width"] = 128
    (shapes / "config.json").write_text(json.dumps(cfg))
    record_manifest(shapes)
    with pytest.raises(FormatError, match="shape"):
        Pipeline.from_pretrained(shapes)

    bad_config = make_checkpoint(tmp_path / "badcfg")
    cfg = json.loads((bad_config / "config.json").read_text())
    cfg["model"]["heads"] = 3  # 64 does not split into 3 heads
    (bad_config / "config.json").write_text(json.dumps(cfg))
    record_manifest(bad_config)
    with pytest.raises(MotionGenError):
        Pipeline.from_pretrained(bad_config)


def test_model_producing_nan_is_reported(tmp_path, monkeypatch):
    pipe = Pipeline.from_pretrained(make_checkpoint(tmp_path / "ck"), text_encoder=FakeEncoder())
    monkeypatch.setattr(pipe.model, "forward", lambda x, t, c=None, m=None: x * float("nan"))
    with pytest.raises(FormatError, match="NaN"):
        pipe("a person waves", seconds=1.0)


def test_text_encoder_must_match_the_checkpoint(tmp_path):
    path = make_checkpoint(tmp_path / "ck", text_dim=128)
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder(384))
    with pytest.raises(FormatError, match="expects 128-d text embeddings"):
        pipe("a person waves", seconds=1.0)


@pytest.mark.slow
def test_real_text_encoder(checkpoint):
    """The default encoder (all-MiniLM-L6-v2, 384-d) fits the checkpoint and is shared."""
    pipe = Pipeline.from_pretrained(checkpoint)
    m = pipe("a person waves with both hands happily", seconds=1.0, seed=0)
    assert m.num_frames == 20
    other = Pipeline.from_pretrained(checkpoint)
    assert other.text_encoder is pipe.text_encoder  # loaded once per process


def test_shipped_model():
    folder = pipeline_module.shipped_model_path()
    if not (folder / "config.json").is_file():
        pytest.skip(f"no shipped model at {folder} yet")
    pipe = Pipeline.from_pretrained()
    a = pipe("a person waves with both hands happily", seconds=3.0, seed=0)
    b = pipe("a person waves with both hands happily", seconds=3.0, seed=0)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert bone_length_drift(a.positions) < 1e-5 and ground_penetration(a.positions) == 0.0


# ---- vocabulary: prompts far from the training actions are reported --------------------------
def test_prompts_far_from_the_vocabulary_carry_a_warning(tmp_path):
    from motiongen.checkpoint import write_vocabulary

    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"walk": ["a person walks forward"], "bow": ["a person bows"]})
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    known = pipe("a person walks forward", seconds=1.0, seed=0)
    info = known.meta["vocabulary"]
    assert info["known"] and info["nearest"][0] == ["walk", 1.0] and "warning" not in known.meta
    # The fake encoder's random embeddings are nearly orthogonal: far from both actions.
    far = pipe("a person juggles three torches", seconds=1.0, seed=0)
    assert not far.meta["vocabulary"]["known"]
    assert "far from every action" in far.meta["warning"] and "walk" in far.meta["warning"]
    batch = pipe.generate_batch(
        [pipe.check_request(t, seconds=1.0, seed=1) for t in ("a person bows", "xyz abc")]
    )
    assert [m.meta["vocabulary"]["known"] for m in batch] == [True, False]
    # a timeline names its segment that is far off, not the first one
    mixed = pipe.timeline([("a person walks forward", 1.0), ("a person juggles", 1.0)], seed=0)
    assert "segment 'a person juggles' is far" in mixed.meta["warning"]
    assert "segment 'a person walks forward' is far" not in mixed.meta["warning"]
    assert (
        Pipeline.from_pretrained(make_checkpoint(tmp_path / "plain"), text_encoder=FakeEncoder())(
            "a person walks forward", seconds=1.0, seed=0
        ).meta.get("vocabulary")
        is None
    )  # no vocabulary recorded: nothing claimed


def test_a_path_or_prop_no_clip_shows_is_said(tmp_path):
    from motiongen.checkpoint import write_vocabulary
    from motiongen.generation.vocabulary import unshown

    assert unshown("a person runs in a circle") == ["a circular path ('in a circle')"]
    assert unshown("walks up the steps to a chair") == [
        "stairs ('up the steps')", "furniture ('a chair')"]  # fmt: skip
    for moves in ("a person takes a few steps", "takes some steps", "circles his arms",
                  "a box step", "plays table tennis"):  # fmt: skip
        assert unshown(moves) == []  # movements, not paths or props
    # movements no clip shows, near enough to a known action's words to pass as it: "a person
    # crouches down" spun into the one kick clip, silently (a new user's trial)
    assert unshown("a person crouches down") == ["crouching or kneeling ('crouches')"]
    assert unshown("a person does push-ups") == ["floor exercises ('push-ups')"]
    assert unshown("a person dances hip hop") == [
        "a dance other than cha-cha, rumba and waltz ('hip hop')"]  # fmt: skip
    assert unshown("a person dances the tango") == [
        "a dance other than cha-cha, rumba and waltz ('tango')"
    ]  # no training song is one
    # the data's turns are quarter turns; a half turn asked for is said, one asked not to be not
    assert unshown("a person turns around, then walks back") == ["a half turn ('turns around')"]
    assert unshown("a person walks on without turning around") == []
    # a new user's trial: a sidestep walked forward, "turns left in place" walked 4.2 m away
    assert unshown("a woman sidesteps to the left") == ["stepping sideways ('sidesteps')"]
    assert unshown("he walks sideways") == ["stepping sideways ('walks sideways')"]
    assert unshown("a person raises both arms sideways") == []  # arms, not steps
    assert unshown("he turns left in place") == [
        "stepping or turning in place ('turns left in place')"
    ]
    assert unshown("a person waves in place") == []  # a standing wave is the data's
    assert unshown("an angry person stomps forward") == ["stomping ('stomps')"]
    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"run": ["a person runs in a circle"]})  # known, whatever its words
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    made = pipe("a person runs in a circle", seconds=1.0, seed=0)
    assert made.meta["vocabulary"]["known"]  # a known action (it ran straight, silently)
    assert "names a circular path ('in a circle'), which no" in made.meta["warning"]


def test_a_negation_is_said_to_be_unread(tmp_path):
    # "waves but not with the right hand" waved the right hand, silently (a new user's trial)
    from motiongen.checkpoint import write_vocabulary
    from motiongen.generation.vocabulary import negated

    assert negated("a person waves but not with the right hand") == "not with the right hand"
    assert negated("walks without swinging the arms, then bows") == "without swinging the arms"
    assert negated("he doesn't bow") == "doesn't bow"
    for plain in ("a person walks without confidence", "a person who is not confident walks",
                  "a man moves backwards without turning around", "walks without stopping",
                  "a person waves with both hands", "a person ties a knot"):  # fmt: skip
        assert negated(plain) is None  # the data's timid style, or no negation at all
    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"wave": ["a person waves but not with the right hand"]})
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    made = pipe("a person waves but not with the right hand", seconds=1.0, seed=0)
    assert (
        "says 'not with the right hand', and the model does not read negation"
        in (made.meta["warning"])
    )


def test_an_action_of_a_handful_of_training_clips_is_reported(tmp_path):
    from motiongen.checkpoint import write_vocabulary
    from motiongen.generation.vocabulary import rare_action

    path = make_checkpoint(tmp_path / "ck")
    vocabulary = {"walk": ["a person walks"], "kick": ["a person kicks"]}
    write_vocabulary(path, vocabulary, {"walk": ["normal"], "kick": ["normal"]}, {}, None,
                     {"walk": 40, "kick": 1})  # fmt: skip
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    kick = pipe("a person kicks", seconds=1.0, seed=0)
    assert kick.meta["vocabulary"]["rare"] == {"action": "kick", "clips": 1,
                                               "phrase": "a person kicks"}  # fmt: skip
    assert "holds 1 clip of it" in kick.meta["warning"]
    walk = pipe("a person walks", seconds=1.0, seed=0)
    assert "warning" not in walk.meta and "rare" not in walk.meta["vocabulary"]
    # made from that action's own take (sampling started from its retrieved phrases), the
    # motion shows it: no warning then (the data's one kick clip kicks 0.85-0.98 m that way)
    from motiongen.pipeline import _started_from_action

    started = {"retrieved": [{"label": "kick|normal"}, {"label": "punch|normal"}],
               "prior_start": 0.5}  # fmt: skip
    assert _started_from_action(started, "kick")
    assert not _started_from_action(started, "punch")  # not the best phrase's action
    assert not _started_from_action({"retrieved": started["retrieved"]}, "kick")  # prior only
    assert not _started_from_action(started, None)
    # near a well-recorded action too ("waves hello": call 0.82, bye 0.79): nothing to say
    assert rare_action({"call": 0.82, "bye": 0.79}, {"call": 2, "bye": 13}) is None
    assert rare_action({"call": 0.82, "bye": 0.5}, {"call": 2, "bye": 13}) == {
        "action": "call", "clips": 2}  # fmt: skip
    # actions without a count (dances, labelled by genre) count as well recorded
    assert rare_action({"dance-short": 0.96, "dance-waltz": 0.77}, {"dance-short": 1}) is None
    assert rare_action({"kick": 0.5}, {"kick": 1}) is None  # not near anything: another warning


def test_a_prompt_naming_several_actions_is_reported(tmp_path):
    from motiongen.checkpoint import write_vocabulary
    from motiongen.generation.vocabulary import action_parts, compound, vocabulary_warning

    assert action_parts("a woman bows and waves goodbye") == (
        "and", ["a woman bows", "a woman waves goodbye"])  # fmt: skip
    assert action_parts("a person walks, then bows") == ("then", ["a person walks",
                                                                   "a person bows"])  # fmt: skip
    assert action_parts("a person waves and then bows")[0] == "then"
    assert action_parts("a person walks forward") == ("", [])
    # at once by "while" or a clause of an -ing verb (one was lost without a word before)
    assert action_parts("a person runs while raising both hands") == (
        "and", ["a person runs", "a person raising both hands"])  # fmt: skip
    assert action_parts("a person is dancing") == ("", [])
    # a clause of how, and "a while", join nothing
    assert action_parts("a person kicks, lifting the left leg high") == ("", [])
    assert action_parts("a person waits for a while before bowing") == ("", [])
    walk, bow = {"walk": 0.9, "bow": 0.2}, {"walk": 0.2, "bow": 0.8}
    parts = ["a person walks", "a person bows"]
    assert compound("and", parts, {"walk": 0.7, "bow": 0.6}, [walk, bow])["actions"] == [
        "walk", "bow"]  # fmt: skip
    assert compound("and", parts, {"walk": 0.95}, [walk, bow]) is None  # the whole is one
    assert compound("and", parts, {"walk": 0.7}, [walk, walk]) is None  # one action twice
    assert compound("and", parts, {"walk": 0.7}, [walk, {"bow": 0.4}]) is None  # half unknown
    assert compound("then", parts, {"walk": 0.95}, [walk, walk])["kind"] == "then"
    # one label holds both halves: "walks forward and turns left" is the data's walk-turn-left
    turn = {"walk-turn-left": 0.85, "walk": 0.3}
    halves = ["a person walks forward", "a person turns left"]
    assert compound("and", halves, {"walk-turn-left": 0.83, "walk": 0.7}, [walk, turn],
                    joined={"walk-turn-left"}) is None  # fmt: skip
    # ...only an action whose own sentences join two: walk-left holds no forward walk
    side = {"walk-left": 0.81, "walk": 0.3}
    assert compound("and", ["a person walks forward", "a person sidesteps to the left"],
                    {"walk-left": 0.88, "walk": 0.7}, [walk, side],
                    joined={"walk-turn-left"})["actions"] == ["walk", "walk-left"]  # fmt: skip
    # "then" inside an action's own sentences: "walks forward then turns to the left" is
    # walk-turn-left, not a timeline (it was warned about as two actions)
    assert compound("then", halves, {"walk-turn-left": 0.95}, [walk, turn],
                    sequences={"walk-turn-left"}) is None  # fmt: skip
    assert compound("then", halves, {"walk-turn-left": 0.85}, [walk, turn],
                    sequences={"walk-turn-left"})["kind"] == "then"  # fmt: skip
    info = {"known": True, "similarity": 0.7, "nearest": [["walk", 0.7]],
            "compound": compound("and", parts, {"walk": 0.7}, [walk, bow])}  # fmt: skip
    assert "'a person walks' and 'a person bows' at once" in vocabulary_warning(
        "the prompt", "the motion", info)  # fmt: skip
    info["compound"] = compound("then", parts, {"walk": 0.7}, [walk, bow])
    assert "a timeline makes each in turn" in vocabulary_warning("the prompt", "the motion", info)
    # an in-between's: not generate's options, which take no keyframes (a new user's trial)
    said = vocabulary_warning("the prompt", "the motion", info, inbetween=True)
    assert "in-between one gap at a time" in said and "--rag" not in said

    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"walk": ["a person walks"], "bow": ["a person bows"]})
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    both = pipe("a person walks and bows", seconds=1.0, seed=0)
    assert both.meta["vocabulary"]["compound"] == {
        "kind": "and", "parts": parts, "actions": ["walk", "bow"]}  # fmt: skip
    assert "compound" not in pipe("a person walks", seconds=1.0, seed=0).meta["vocabulary"]


def test_the_nearest_action_is_ranked_by_its_closest_phrases_not_one(tmp_path):
    # by its single closest phrase, "a person waves" was the beckoning action for its one
    # phrase "waves someone over" (0.90 against the waves' 0.84): a new user's trial
    from motiongen.checkpoint import write_vocabulary

    def vec(*weights: float) -> torch.Tensor:
        return torch.nn.functional.normalize(torch.tensor(weights + (0.0,) * 381), dim=0)

    table = {
        "a person waves": vec(1, 0, 0),
        "a person waves someone over": vec(1, 0.48, 0),  # 0.90 to the prompt
        "a person beckons": vec(0, 1, 0),
        "a person calls someone over": vec(0.2, 1, 0),
        "a person waves both hands": vec(1, 0, 0.64),  # 0.84
        "a person gives a two-handed wave": vec(1, 0, 0.7),
        "a person waves with two hands": vec(1, 0, 0.6),
    }

    class Table(FakeEncoder):
        def encode(self, texts, cache=True):
            out = super().encode(texts, cache)
            rows = [table.get(t, out.pooled[i]) for i, t in enumerate(texts)]
            return TextEmbedding(torch.stack(rows), out.tokens, out.mask)

    path = make_checkpoint(tmp_path / "ck")
    names = list(table)
    write_vocabulary(path, {"call": names[1:4], "wave-both-hands": names[4:]})
    pipe = Pipeline.from_pretrained(path, text_encoder=Table())
    (waves, over) = pipe.known_actions(Table().encode(names[:2]).pooled, names[:2])
    assert waves["nearest"][0][0] == "wave-both-hands" and waves["known"]
    assert over["nearest"][0][0] == "call"  # one of its own phrases says it


def test_a_style_never_recorded_with_the_action_is_reported(tmp_path, control_pipe):
    from motiongen.checkpoint import STYLES_NAME, record_manifest, write_vocabulary

    path = make_checkpoint(tmp_path / "ck")
    vocabulary = {"walk": ["a person walks"], "bow": ["a person bows", "a person bows happily"]}
    words = {"happy": ["happily"], "sad": ["sadly"]}
    write_vocabulary(path, vocabulary, {"bow": ["normal", "sad"], "walk": ["happy"]}, words)
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    happy = pipe("a person bows happily", seconds=1.0, seed=0)
    assert happy.meta["vocabulary"]["unseen_style"] == {
        "action": "bow", "styles": ["happy"], "recorded": ["normal", "sad"],
        "used": "a person bows", "phrase": "a person bows",
    }  # fmt: skip
    assert (
        "asks for happy with the nearest recorded action, 'a person bows' (bow)"
        in happy.meta["warning"]
    )
    assert "recorded only as normal, sad" in happy.meta["warning"]
    # an action is as known without the prompt's style words (several of them had pulled
    # "an old tired man walks slowly" below the threshold of the walk)
    sad_walk = pipe("a person walks sadly", seconds=1.0, seed=0).meta["vocabulary"]
    assert sad_walk["known"] and sad_walk["nearest"][0][0] == "walk"
    assert sad_walk["unseen_style"]["styles"] == ["sad"]  # walk was recorded happy only
    # two styles named: every recorded take has one, and the warning says so
    from motiongen.generation.vocabulary import several_styles, vocabulary_warning

    table = {"words": words}
    assert several_styles("a person walks happily and sadly", table) == ["happy", "sad"]
    assert several_styles("a person walks sadly", table) is None
    # named as the nearest action was recorded ("a tired old man bows" said elderly and
    # exhausted, dataset-2's names, where the bow was recorded old and tired)
    from motiongen.data.text import style_words

    both = {"words": style_words(), "actions": {"bow": ["old", "tired"],
                                                "walk": ["elderly", "exhausted"]}}  # fmt: skip
    assert several_styles("a tired old man bows", both, "bow") == ["old", "tired"]
    assert several_styles("a tired old man walks", both, "walk") == ["elderly", "exhausted"]
    info = {"known": True, "similarity": 0.9, "nearest": [["walk", 0.9]],
            "several_styles": ["happy", "sad"]}  # fmt: skip
    said = vocabulary_warning("the prompt", "the motion", info)
    assert "names 2 styles (happy, sad)" in said and "at most one" in said
    # by default the network is given the prompt without the style: the action comes first
    assert "made from 'a person bows'" in happy.meta["warning"]
    np.testing.assert_array_equal(
        happy.positions, pipe("a person bows", seconds=1.0, seed=0).positions
    )
    literal = pipe("a person bows happily", seconds=1.0, seed=0, literal=True)
    assert "used" not in literal.meta["vocabulary"]["unseen_style"]
    assert "may follow the style's actions" in literal.meta["warning"]
    assert not np.array_equal(literal.positions, happy.positions)
    batch = pipe.generate_batch([pipe.check_request("a person bows happily", seconds=1.0, seed=0),
                                 pipe.check_request("a person bows happily", seconds=1.0, seed=0,
                                                    literal=True)])  # fmt: skip
    np.testing.assert_allclose(batch[0].positions, happy.positions, atol=1e-5)
    np.testing.assert_allclose(batch[1].positions, literal.positions, atol=1e-5)
    with pytest.raises(InputError, match="literal must be true or false"):
        pipe.check_request("a person bows happily", literal="false")
    # a joined timeline reports what its segment model made of each segment
    segments = [("a person walks", 1.5), ("a person bows happily", 1.5)]
    joined = control_pipe.timeline(segments, seed=0, segment_model=pipe)
    assert joined.meta["segment_vocabulary"][1]["unseen_style"]["used"] == "a person bows"
    assert "made from 'a person bows'" in joined.meta["warning"]
    as_written = control_pipe.timeline(segments, seed=0, segment_model=pipe, literal=True)
    assert "used" not in as_written.meta["segment_vocabulary"][1]["unseen_style"]
    plain = pipe("a person bows", seconds=1.0, seed=0)  # no style word: nothing to say
    assert "warning" not in plain.meta and "unseen_style" not in plain.meta["vocabulary"]
    (path / STYLES_NAME).write_text('{"bow": "sad"}')
    with pytest.raises(FormatError, match="the manifest says"):  # changed behind its back
        Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    record_manifest(path)
    with pytest.raises(FormatError, match="must hold actions"):
        Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    write_vocabulary(path, vocabulary)  # a vocabulary without styles: no stale styles kept
    assert not (path / STYLES_NAME).exists()
    assert Pipeline.from_pretrained(path, text_encoder=FakeEncoder()).action_styles is None


def test_styles_named_and_recorded():
    from motiongen.data.text import action_styles, style_words
    from motiongen.generation.vocabulary import styles_named

    words = style_words()
    assert styles_named("a person raises both hands happily", words) == {"happy"}
    assert styles_named("an old man waves", words) == {"old", "elderly"}  # both use "old"
    assert styles_named("a person walks", words) == set()
    assert styles_named("unhappily", words) == {"sad"}
    assert styles_named("a boldly happyish walk", words) == set()  # whole words only
    labels = [{"content": "bow", "style": "sad"}, {"content": "bow", "style": "happy"},
              {"content": "bow", "style": "sad"}, {"dance_type": "waltz"}]  # fmt: skip
    assert action_styles(labels) == {"bow": ["happy", "sad"]}


def test_a_travelling_text_is_said_in_the_data_s_words_only_where_nothing_is_lost():
    from motiongen.generation.vocabulary import in_data_words

    said = {"walk": ["a person walks forward", "a person walks"]}
    known = {"known": True, "nearest": [["walk", 0.8], ["walk-left", 0.79], ["run", 0.6]]}
    assert in_data_words("a man strolls over", known, None, said) == "a person walks forward"
    # a speed only where the keyframes travel, and set the pace
    assert in_data_words("a man strolls slowly", known, None, said) is None
    assert in_data_words("a man strolls slowly", known, None, said, True) == said["walk"][0]
    # far from every action: only between keyframes a walk apart
    far = {"known": False, "nearest": [["walk", 0.4], ["run", 0.3]]}
    assert in_data_words("the guard strolls over", far, None, said) is None
    assert in_data_words("the guard strolls over", far, None, said, True) == said["walk"][0]
    tie = {"known": True, "nearest": [["walk", 0.8], ["run", 0.79]]}  # "jogs": run or walk
    assert in_data_words("a man strolls over", tie, None, said) is None
    for kept in ("a man strolls backwards", "a man strolls in an upbeat way", "a person walks"):
        assert in_data_words(kept, known, None, said, True) is None


def test_manner_words_are_said_as_the_styles_they_mean():
    # the text encoder had put "merrily" next to "wearily": a merry walk came out exhausted
    from motiongen.data.text import style_words
    from motiongen.generation.vocabulary import MANNER_WORDS, in_style_words, styles_named

    words = style_words()
    said, swapped = in_style_words("A grumpy man walks forward merrily, then bows Haughtily")
    assert said == "An angry man walks forward happily, then bows Proudly"  # its capital kept
    assert swapped == {"grumpy": "angry", "merrily": "happily", "haughtily": "proudly"}
    assert styles_named(said, words) == {"angry", "happy", "proud"}
    assert in_style_words("a person walks across, boldish") == (
        "a person walks across, boldish",
        {},
    )
    # a gesture returned is the gesture ("waves back" had made a cha-cha and bows), a walk
    # back is still one
    assert in_style_words("she waves back at him, then Bows back") == (
        "she waves at him, then Bows",
        {"waves back": "waves", "bows back": "Bows"},
    )
    assert in_style_words("a person walks back") == ("a person walks back", {})
    assert in_style_words("she waves back and forth")[1] == {}  # a wave's swing
    every = {w for ws in words.values() for w in ws}
    for style_word, manner in MANNER_WORDS.items():
        assert style_word in every  # each said as a word some style's texts use ...
        assert not set(manner) & every  # ... for words none uses
        assert all(len(styles_named(in_style_words(w)[0], words)) >= 1 for w in manner)


def test_a_manner_word_reaches_the_network_as_its_style_unless_literal(pipe):
    seen = []
    encode = pipe.text_encoder.encode

    def spy(texts):
        seen.extend(texts)
        return encode(texts)

    pipe.text_encoder.encode = spy
    try:
        made = pipe("a person walks forward merrily", seconds=1.0, seed=0, rag=False)
        assert "a person walks forward happily" in seen
        assert "a person walks forward merrily" not in seen
        assert made.meta["manner_words"] == {"merrily": "happily"}
        seen.clear()
        made = pipe("a person walks forward merrily", seconds=1.0, seed=0, rag=False, literal=True)
        assert "a person walks forward merrily" in seen and "manner_words" not in made.meta
    finally:
        pipe.text_encoder.encode = encode


def test_unseen_styles_count_merged_synonyms_and_leave_the_prompt_tidy():
    from motiongen.data.text import style_words
    from motiongen.generation.vocabulary import leave_out_styles, styles_named, unseen_style

    words = style_words()
    known = {"actions": {"raise-up-both-hands": ["exhausted", "normal"]}, "words": words}
    info = {"known": True, "nearest": [["raise-up-both-hands", 0.8]]}
    # tired and exhausted are one style to the label vocabulary: recorded, nothing unseen
    assert unseen_style("a person raises both hands tiredly", info, known) is None
    assert unseen_style("a person raises both hands happily", info, known)["styles"] == ["happy"]
    assert unseen_style("a person raises both hands", info, known) is None
    assert unseen_style("xyz happily", {**info, "known": False}, known) is None
    # the music-paired dances carry no style: a happy waltz was never recorded (a dance
    # restyled happy changed little, unsaid: a choreographer's trial)
    dances = {"actions": {}, "songs": {"dance-waltz": 24}, "words": words}
    waltz = {"known": True, "nearest": [["dance-waltz", 0.8]]}
    said = unseen_style("a person dances the waltz happily", waltz, dances)
    assert said["styles"] == ["happy"] and said["recorded"] == ["normal"]
    assert unseen_style("a person dances the waltz", waltz, dances) is None
    # a left / right tie in the embedding: the side the text names is the action named
    hands = {"actions": {a: ["normal"] for a in ("wave-left-hand", "wave-right-hand")},
             "words": words}  # fmt: skip
    tie = {"known": True, "nearest": [["wave-left-hand", 0.811], ["wave-right-hand", 0.811]]}
    assert unseen_style("a person waves the right hand sadly", tie, hands)["action"] == (
        "wave-right-hand"
    )
    apart = {"known": True, "nearest": [["wave-left-hand", 0.85], ["wave-right-hand", 0.80]]}
    assert unseen_style("a person waves the right hand sadly", apart, hands)["action"] == (
        "wave-left-hand"
    )
    # "lively" is an active and a youthful word: it names neither
    assert styles_named("a lively person bows", words) == set()
    assert styles_named("a person bows in a youthful, lively way", words) == {"youthful"}
    cases = {
        ("a person raises both hands happily", ("happy",)): "a person raises both hands",
        ("An angry man waves.", ("angry",)): "A man waves.",
        ("a person raises both hands happily and proudly", ("happy", "proud")):
            "a person raises both hands",
        ("a person raises the left hand timidly, without confidence", ("not-confident",)):
            "a person raises the left hand",
        ("a person, happily, raises both hands", ("happy",)): "a person raises both hands",
        ("happily", ("happy",)): "happily",  # nothing sensible left: as written
        ("a person happily and proudly raises both hands", ("happy", "proud")):
            "a person raises both hands",
        ("a person bows in a happy way", ("happy",)): "a person bows",
        ("a person bows in a theatrical, musical way", ("musical",)): "a person bows",
        ("a person raises the left hand (happily)", ("happy",)): "a person raises the left hand",
        ("a person waves for an hour, happily", ("happy",)): "a person waves for an hour",
        ("a person waves sadly but quickly", ("sad",)): "a person waves quickly",
        ("a person bows like an  old person", ("old",)): "a person bows",
        ("a person punches a giant", ("giant",)): "a person punches a giant",  # a noun: kept
    }  # fmt: skip
    for (text, styles), expected in cases.items():
        assert leave_out_styles(text, styles, words) == expected


# ---- control: continuation, keyframes, edits, paths, timelines ---------------------------------
@pytest.fixture(scope="module")
def control_pipe(tmp_path_factory):
    """A random control network (per-value known masks with world channels, task tokens)."""
    path = make_checkpoint(tmp_path_factory.mktemp("ck") / "control", seed=5, control=True)
    return Pipeline.from_pretrained(path, text_encoder=FakeEncoder())


def test_generate_makes_a_then_prompt_as_a_timeline(tmp_path):
    from motiongen.checkpoint import write_vocabulary

    path = make_checkpoint(tmp_path / "control", seed=5, control=True)
    write_vocabulary(path, {"walk": ["a person walks"], "bow": ["a person bows"]})
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    text, quick = "a person walks, then bows", {"seconds": 2.0, "steps": 2}
    assert pipe.sequence_prompt(text) and not pipe.sequence_prompt("a person walks and bows")
    made = pipe(text, seed=3, **quick)
    assert made.meta["made_as_timeline"] == pipe.name
    assert [t for t, _ in made.meta["segments"]] == ["a person walks", "a person bows"]
    np.testing.assert_array_equal(made.positions, pipe.timeline(text, seed=3, **quick).positions)
    two = pipe.generate(text, seed=3, batch=2, **quick)  # each re-made alone from its seed
    assert two[1].meta["batch_seed"] == 3 and two[1].meta["seed"] != 3
    np.testing.assert_array_equal(
        two[1].positions, pipe(text, seed=two[1].meta["seed"], **quick).positions
    )
    for one in (
        pipe(text, seed=3, timeline=False, **quick),
        pipe(text, seed=3, rag=False, **quick),
    ):
        assert "segments" not in one.meta and one.meta["vocabulary"]["compound"]["kind"] == "then"
    assert pipe("a person bows", seed=3, timeline=True, **quick).meta["segments"] == [
        ["a person bows", 2.0]]  # fmt: skip
    with pytest.raises(InputError, match="timeline must be true, false or None"):
        pipe(text, timeline="yes")
    for empty in ("a person walks, then , then bows", "a person walks then then bows"):
        with pytest.raises(InputError, match="empty segment"):  # one motion had dropped the walk
            pipe(empty, seed=3, **quick)
    with pytest.raises(InputError, match="takes no music, seed_motion"):
        pipe(text, music="song.wav", seed_motion=_walk(1.0), timeline=True)


def _walk(seconds: float, seed: int = 0) -> Motion:
    return Motion(
        positions=synth_sequence(["walk"], seconds=seconds, seed=seed).positions, fps=20.0
    )


def test_predict_keeps_the_past_exactly(control_pipe):
    past = _walk(2.0)
    out = control_pipe.predict(past, 5.0, "a person walks forward", seed=0)
    assert out.num_frames == 100 and out.meta["task"] == "predict"
    np.testing.assert_allclose(out.positions[:40], past.positions, atol=1e-5)
    assert np.isfinite(out.positions).all()
    assert "segments" not in out.meta  # one action continued: no timeline
    # a timeline's continuation is one too, its new text its last segment (or, given none,
    # its last segment going on): restyled, each keeps its own words (a new user's trial on
    # the web page: Continue, then Restyle, had read the whole as the new text's action)
    past.meta["segments"] = [["a person walks forward", 1.0], ["a person waves", 1.0]]
    told = control_pipe.check_predict(past, 5.0, "a person bows", seed=0)
    assert told.meta["segments"] == [["a person walks forward", 1.0], ["a person waves", 1.0],
                                     ["a person bows", 3.0]]  # fmt: skip
    on = control_pipe.check_predict(past, 5.0, seed=0)
    assert on.meta["segments"] == [["a person walks forward", 1.0], ["a person waves", 4.0]]
    short = control_pipe.check_predict(past, 2.5, "a person bows", seed=0)  # under a segment
    assert short.meta["segments"] == [["a person walks forward", 1.0], ["a person waves", 1.5]]


def test_a_continuation_s_opening_then_is_read_as_a_later_segment(control_pipe):
    from motiongen.generation.control import follow_on_text

    # "then he waves at his friend" was far from every action (0.50 < 0.6) and waved at
    # half the wrist speed of "he waves at his friend" (a session's look at predict)
    assert follow_on_text("then he waves at his friend") == "a person waves at his friend"
    assert follow_on_text("And then, bow") == "a person bows"
    assert follow_on_text("after that the man sits") == "the man sits"
    for kept in ("then", "a person walks, then bows", "next to the door he waves"):
        assert follow_on_text(kept) == kept
    req = control_pipe.check_predict(_walk(2.0), 5.0, "then she kicks", seed=0)
    assert req.text == req.meta["text_said_as"] == "a person kicks"
    plain = control_pipe.check_predict(_walk(2.0), 5.0, "a person kicks", seed=0)
    assert plain.text == "a person kicks" and "text_said_as" not in plain.meta


def test_inbetween_hits_every_keyframe_root_included(control_pipe):
    walk = _walk(6.0, seed=1).positions
    keys = [Motion(positions=walk[i : i + 1], fps=20.0) for i in (0, 50, 110)]
    out = control_pipe.inbetween(keys, [0.0, 2.5, 5.5], "a person walks", seed=0)
    assert out.num_frames == 111
    for frame, key in zip((0, 50, 110), keys, strict=True):
        np.testing.assert_allclose(out.positions[frame], key.positions[0], atol=1e-5)


def test_in_betweened_frames_are_slewed_where_their_facing_is_free(control_pipe, monkeypatch):
    """The turn limiter (postprocess/turns.py) gets each motion with its frames of given
    facing marked: the keyframes, not the frames between them."""
    calls = []
    real = pipeline_module.limit_turn_rate

    def spy(positions, fps, fixed, *a, **k):
        calls.append(np.asarray(fixed).copy())
        return real(positions, fps, fixed, *a, **k)

    monkeypatch.setattr(pipeline_module, "limit_turn_rate", spy)
    walk = _walk(3.0, seed=1).positions
    keys = [Motion(positions=walk[i : i + 1], fps=20.0) for i in (0, 40)]
    control_pipe.inbetween(keys, [0.0, 2.0], "a person walks", seed=0)
    assert calls and np.flatnonzero(calls[0]).tolist() == [0, 40]


def test_keyframes_in_betweened_without_text_do_not_swing_round(control_pipe, monkeypatch):
    """A gap between keyframes made without text turns as its ends do, within the swing
    limit (a walk, a bow and a walk facing ahead had turned 136-158 degrees away and back);
    with a text the gap is the text's to turn."""
    from motiongen.generation.constraints import Constraints

    calls = []
    real = pipeline_module.limit_overturn

    def spy(positions, gaps, *a, **k):
        calls.append(gaps)
        return real(positions, gaps, *a, **k)

    monkeypatch.setattr(pipeline_module, "limit_overturn", spy)
    walk = _walk(4.0, seed=1).positions
    # poses standing on one spot: keyframes apart on the ground are walked between, and the
    # walk turns where it goes (below)
    poses = [walk[i : i + 1] - walk[i, 0] * [1.0, 0.0, 1.0] for i in (0, 30, 70)]
    keys = [Motion(positions=p, fps=20.0) for p in poses]
    control_pipe.inbetween(keys, [0.0, 1.5, 3.5], seed=0)
    assert calls == [((1, 30), (31, 70))]
    apart = [Motion(positions=walk[i : i + 1], fps=20.0) for i in (0, 30, 70)]
    assert "text_assumed" in control_pipe.inbetween(apart, [0.0, 1.5, 3.5], seed=0).meta
    assert len(calls) == 1
    # slower than a walk needs steps too (given none, 1.8 m in 4-9.5 s floated, arms raised:
    # a new user's trial); a shift of weight does not
    from motiongen.generation.control import assumed_text, stepping_pace

    ends = [walk[:1], walk[:1] + [1.8, 0.0, 0.0]]
    assert assumed_text(stepping_pace(ends, [0, 140], 20.0)) == "a person walks forward"
    near = [walk[:1], walk[:1] + [0.3, 0.0, 0.0]]
    assert stepping_pace(near, [0, 140], 20.0) is None
    # one gap walked, the next run: the run is assumed, the walked gap named (it shuffled)
    from motiongen.generation.control import slower_gaps

    three = [walk[:1], walk[:1] + [0.0, 0.0, 3.0], walk[:1] + [0.0, 0.0, 10.0]]
    assert assumed_text(stepping_pace(three, [0, 60, 120], 20.0)) == "a person runs forward"
    assert slower_gaps(three, [0, 60, 120], 20.0) == "keyframes 0-1 (1.0 m/s)"
    assert slower_gaps(ends, [0, 140], 20.0) == ""  # all walked
    control_pipe.inbetween(keys, [0.0, 1.5, 3.5], "a person walks", seed=0)
    assert len(calls) == 1
    targets = np.full((10, 22, 3), np.nan)
    targets[[0, 4, 5]] = 0.0  # given frames 0, 4 and 5, free after the last: one gap
    assert Constraints(targets, "inbetween").free_gaps() == ((1, 4),)


def test_keyframes_in_place_start_where_the_one_before_ends(control_pipe):
    walk = _walk(3.0, seed=1).positions
    a = Motion(positions=walk[:1], fps=20.0)
    far = walk[:1].copy()
    far[..., 0] += 3.0  # another take's pose, 3 m to the side, 1 s later
    b = Motion(positions=far, fps=20.0)
    where = control_pipe.inbetween([a, b], [0.0, 1.0], seed=0)
    assert "apart on the ground" in where.meta["warning"]  # as given: it glides 3 m
    np.testing.assert_allclose(where.positions[20], far[0], atol=1e-5)
    moved = control_pipe.inbetween([a, b], [0.0, 1.0], seed=0, in_place=True)
    np.testing.assert_allclose(moved.positions[20, 0, [0, 2]], walk[0, 0, [0, 2]], atol=1e-5)
    np.testing.assert_allclose(moved.positions[20] - moved.positions[20, :1], far[0] - far[0, :1],
                               atol=1e-5)  # fmt: skip
    assert "apart on the ground" not in moved.meta.get("warning", "")
    assert moved.meta["keyframes_moved_m"] == [0.0, pytest.approx(3.0, abs=1e-3)]
    with pytest.raises(InputError, match="in_place must be"):
        control_pipe.inbetween([a, b], [0.0, 1.0], in_place="yes")


def test_clip_keyframes_in_place_move_on_by_the_pace_between_them():
    from motiongen.generation.control import keyframes_in_place

    walk = _walk(3.0, seed=1).positions
    pace = np.zeros_like(walk)
    pace[..., 2] = (np.arange(len(walk)) / 20.0)[:, None]  # on along +Z at 1 m/s
    clip = walk[:1] + pace[:21]  # 1 s of a pose carried forward
    a, b = Motion(positions=clip, fps=20.0), Motion(positions=clip + [5.0, 0.0, 0.0], fps=20.0)
    (_, placed), moved = keyframes_in_place([a, b], [0.0, 3.0])  # 2 s between the clips
    np.testing.assert_allclose(
        placed.positions[0, 0, [0, 2]], clip[-1, 0, [0, 2]] + [0.0, 2.0], atol=1e-4
    )
    assert moved[1] == pytest.approx(np.hypot(5.0, 3.0), abs=1e-3)  # 5 m aside, 3 m on
    # a pose keeps no pace: it starts where the one before ends
    pose = Motion(positions=walk[:1] + [3.0, 0.0, 0.0], fps=20.0)
    (_, still), _ = keyframes_in_place([a, pose], [0.0, 3.0])
    np.testing.assert_allclose(
        still.positions[0, 0, [0, 2]], clip[-1, 0, [0, 2]] + [0.0, 1.0], atol=1e-4
    )


def test_edit_keeps_everything_outside_the_edit(control_pipe):
    walk = _walk(4.0, seed=2)
    arms = control_pipe.edit(walk, text="a person waves both hands", joints=["arms"], seed=0)
    from motiongen.tasks import BODY_PARTS

    others = [j for j in range(22) if j not in BODY_PARTS["arms"]]
    np.testing.assert_allclose(arms.positions[:, others], walk.positions[:, others], atol=1e-5)
    span = control_pipe.edit(walk, text="a person bows", frames=(1.0, 2.5), seed=0)
    keep = np.r_[0:20, 50:80]
    np.testing.assert_allclose(span.positions[keep], walk.positions[keep], atol=1e-5)
    path = control_pipe.restyle(walk, text="a person walks sadly", seed=0)
    ground = (slice(None), 0, [0, 2])  # the path over the ground; the height is its own
    np.testing.assert_allclose(path.positions[ground], walk.positions[ground], atol=1e-5)
    # a restyle asks for its style: the words stay whether the action was recorded so or not
    assert control_pipe.check_restyle(walk, text="a person walks sadly").literal is True


def test_an_arms_edit_takes_the_arms_of_the_text_model_s_motion(control_pipe, tmp_path):
    """The control model alone raised both wrists above the head in 0-5 % of a walk's frames
    for "raises both hands above the head" (a new user's trial): with a segment model the arms
    are that model's motion of the text, in the walk's chest frame; the rest as given."""
    from motiongen.generation.arms_edit import chest_axes, transplanted
    from motiongen.tasks import BODY_PARTS

    text_pipe = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "text", seed=9), text_encoder=FakeEncoder()
    )
    walk = _walk(4.0, seed=2)
    arms = list(BODY_PARTS["arms"])
    others = [j for j in range(22) if j not in arms]
    m = control_pipe.edit(walk, text="a person waves both hands", joints=["arms"], seed=0,
                          segment_model=text_pipe, postprocess=False)  # fmt: skip
    assert m.meta["segments_from"] == text_pipe.name and m.meta["task"] == "edit"
    np.testing.assert_allclose(m.positions[:, others], walk.positions[:, others], atol=1e-5)
    made = text_pipe.run_request(control_pipe.check_edit(
        walk, text="a person waves both hands", joints=["arms"], seed=0, segment_model=text_pipe
    ).parts[0][0], False)  # fmt: skip
    want = transplanted(walk.positions, made.positions, arms)
    np.testing.assert_allclose(m.positions, want, atol=1e-4)
    # each arm joint sits where the text model's does, seen from the chest
    from motiongen.skeleton import JOINT_INDEX

    chest = [JOINT_INDEX["spine3"]]
    local = np.einsum(
        "tij,tkj->tki", chest_axes(m.positions), m.positions[:, arms] - m.positions[:, [9]]
    )
    theirs = np.einsum("tij,tkj->tki", chest_axes(made.positions),
                       made.positions[:, arms] - made.positions[:, chest])  # fmt: skip
    np.testing.assert_allclose(local, theirs, atol=1e-4)
    # a span: the arms outside it as given; other joints than the arms: the control model
    span = control_pipe.edit(walk, text="a person waves both hands", joints=["arms"],
                             frames=(1.0, 3.0), seed=0, segment_model=text_pipe)  # fmt: skip
    np.testing.assert_allclose(span.positions[:20], walk.positions[:20], atol=1e-5)
    np.testing.assert_allclose(span.positions[60:], walk.positions[60:], atol=1e-5)
    legs = control_pipe.check_edit(walk, text="a person kicks", joints=["legs"], seed=0)
    assert legs.edit_joints is None and legs.parts is None
    with pytest.raises(InputError, match="joints other than the arms"):
        control_pipe.check_edit(walk, text="a person kicks", joints=["legs"],
                                segment_model=text_pipe)  # fmt: skip


def test_timeline_gives_each_segment_its_text(control_pipe):
    m = control_pipe.timeline("a person walks forward, then waves, then bows", seconds=9.0, seed=0)
    assert m.num_frames == 180
    assert [t for t, _ in m.meta["segments"]] == [
        "a person walks forward",
        "a person waves",
        "a person bows",
    ]
    long = control_pipe.timeline([("a person walks", 6.0), ("a person runs", 8.0)], seed=0)
    assert long.num_frames == 280 and long.meta["windows"] >= 2


def test_a_control_checkpoint_carries_its_own_settings_per_task(tmp_path):
    import json

    from motiongen.checkpoint import record_manifest

    path = make_checkpoint(tmp_path / "control", seed=5, control=True)
    config = json.loads((path / "config.json").read_text())
    config["conditioning"]["tasks"] = {
        "edit": {"guidance": 6.0},
        "timeline": {"steps": 3, "sampler": "midpoint"},
    }
    (path / "config.json").write_text(json.dumps(config))
    record_manifest(path)
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    timeline = pipe.check_compose("a person walks, then waves", seconds=4.0)
    assert (timeline.steps, timeline.sampler) == (3, "midpoint")
    edit = pipe.check_edit(_walk(4.0), text="a person bows", frames=(1.0, 2.5))
    assert edit.guidance == 6.0 and edit.steps == pipe.default_steps
    predict = pipe.check_predict(_walk(2.0), 3.0, "a person walks")
    assert predict.guidance == pipe.default_guidance  # no entry: the checkpoint's default
    own = pipe.check_compose("a person walks, then waves", seconds=4.0, steps=2, sampler="euler")
    assert (own.steps, own.sampler) == (2, "euler")  # a request's own settings win
    assert "warning" not in own.meta
    one = pipe.check_compose("a person walks, waves, and bows", seconds=4.0)
    assert "one segment" in one.meta["warning"]  # a list without "then" is one action
    assert "warning" not in pipe.check_compose("a person bows", seconds=4.0).meta  # one, unsaid
    dangling = pipe.check_compose("a person walks, then", seconds=4.0).meta["warning"]
    assert "ends in 'then' with no action after it" in dangling
    for lead in ("then a person waves", "And then a person waves", "Next, a person waves"):
        leading = pipe.check_compose(lead, seconds=4.0).meta["warning"]
        assert "starts with a word of sequence ('then', 'next') and has no action" in leading
    assert (
        pipe.check_edit(_walk(4.0), text="a person bows", frames=(1, 2), guidance=1.0).guidance
        == 1.0
    )
    # a sampler the process does not have is the checkpoint's fault, found at load
    config["conditioning"]["tasks"]["timeline"]["sampler"] = "ddim"
    (path / "config.json").write_text(json.dumps(config))
    record_manifest(path)
    with pytest.raises(FormatError, match="tasks.timeline.sampler 'ddim' is not a flow sampler"):
        Pipeline.from_pretrained(path, text_encoder=FakeEncoder())


def test_a_joined_part_that_spins_round_as_its_takes_do_is_said(
    control_pipe, tmp_path, monkeypatch
):
    import motiongen.pipeline as pipeline_module

    text_pipe = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "text", seed=9), text_encoder=FakeEncoder()
    )
    said = "the motion turns round 380 degrees though the prompt asks for no turn"
    monkeypatch.setattr(  # as the data's one kick clip spins its composed kicks
        pipeline_module, "_spin_warning", lambda m, text: said if "kicks" in text else None
    )
    segments = [("a person walks", 1.5), ("a person kicks", 1.5)]
    joined = control_pipe.timeline(segments, seed=0, segment_model=text_pipe)
    assert f"segment 'a person kicks': {said}" in joined.meta["warning"]
    assert "segment 'a person walks'" not in joined.meta["warning"]
    edited = control_pipe.edit(_walk(4.0, seed=2), text="a person kicks", frames=(1.0, 3.0),
                               seed=0, segment_model=text_pipe)  # fmt: skip
    assert f"the edited span: {said}" in edited.meta["warning"]


def test_a_continuation_into_another_action_is_made_whole_and_joined(control_pipe, tmp_path):
    # The control model alone broke a 2 m/s walk off into a wave within 0.1 s, feet sliding;
    # another action is made by the text model and joined to the past by in-betweening.
    text_pipe = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "text", seed=9), text_encoder=FakeEncoder()
    )
    past = _walk(2.0)
    seen = []
    control_pipe._another_action = lambda pos, text: seen.append(text) or (["wave"], "walk")
    m = control_pipe.predict(past, 5.0, "a person waves", seed=3, segment_model=text_pipe)
    assert seen == ["a person waves"]
    assert m.num_frames == 100 and m.meta["continued_into"] == {
        "actions": ["wave"],
        "past_action": "walk",
        "join_seconds": 1.0,
    }
    assert m.meta["segments_from"] == text_pipe.name and m.meta["task"] == "predict"
    np.testing.assert_allclose(m.positions[:40], past.positions, atol=1e-5)  # the past as given
    assert np.isfinite(m.positions).all() and m.positions[..., 1].min() >= -1e-4
    # "self", or too little time after the past for a join: the control model alone, said
    alone = control_pipe.check_predict(past, 5.0, "a person waves", segment_model="self")
    assert alone.parts is None
    short = control_pipe.check_predict(past, 3.0, "a person waves", segment_model=text_pipe)
    assert short.parts is None and "too short to change over smoothly" in short.meta["warning"]
    assert "1.00 s after the past (2.00 s)" in short.meta["warning"]  # and the total to ask
    assert re.search(r"ask for \d+\.\d\d s or more in all", short.meta["warning"])
    control_pipe._another_action = lambda pos, text: None  # the same action: no join
    same = control_pipe.check_predict(past, 5.0, "a person walks", segment_model=text_pipe)
    assert same.parts is None and "warning" not in same.meta
    del control_pipe._another_action


def test_a_travelling_past_continued_another_way_is_another_action():
    """A run continued into a walk backwards by the control model alone stopped dead at the
    seam (2.2 -> 0.2 m/s in one frame; a new user's trial): a change of way is joined."""
    from motiongen.pipeline import _travel_way

    assert {_travel_way(a) for a in ("walk", "run", "dash", "walk-turn-left")} == {"forward"}
    assert [_travel_way(a) for a in ("walk-back", "walk-left", "walk-right")] == [
        "back", "left", "right"]  # fmt: skip


def test_a_continuation_s_new_action_resumes_where_easing_off_the_past_s_pace_reaches():
    from motiongen.generation.timeline import continued_keyframes

    walk = synth_sequence(["walk"], seconds=2.0, seed=1).positions.astype(np.float64)
    stand = np.repeat(walk[:1], 60, axis=0)  # an action done on the spot
    keys, starts, total = continued_keyframes(walk, stand, 20.0, half=10)
    assert total == 100 and starts == [0, 60] and len(keys[1]) == 40
    np.testing.assert_array_equal(keys[0], walk)
    pace = (walk[-1, 0, [0, 2]] - walk[-6, 0, [0, 2]]) * 20 / 5
    ahead = keys[1][0, 0, [0, 2]] - walk[-1, 0, [0, 2]]
    np.testing.assert_allclose(ahead, 0.5 * pace * 21 / 20, atol=1e-9)  # a steady stop


def test_a_timeline_can_take_its_segments_whole_from_a_text_model(control_pipe, tmp_path):
    from motiongen.generation.timeline import JOIN_HALF

    text_pipe = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "text", seed=9), text_encoder=FakeEncoder()
    )
    segments = [("a person walks", 3.0), ("a person bows", 2.0), ("a person waves", 3.0)]
    m = control_pipe.timeline(segments, seed=4, segment_model=text_pipe)
    assert m.num_frames == 160 and m.meta["segments_from"] == text_pipe.name
    assert m.meta["task"] == "timeline" and m.texts == [t for t, _ in segments]
    # Away from the joins each segment is the text model's own motion: unprocessed, the first
    # exactly as it comes (the others turned and shifted to follow); processed, it is cleaned
    # with its joins (real segments move 1 cm on average, the joins' edges no longer break).
    seed0 = int(np.random.SeedSequence([4, 0]).generate_state(1)[0] >> 1)
    first = text_pipe.generate(text="a person walks", seconds=3.0, seed=seed0, postprocess=False)
    raw = control_pipe.timeline(segments, seed=4, segment_model=text_pipe, postprocess=False)
    np.testing.assert_allclose(
        raw.positions[: 60 - JOIN_HALF], first[0].positions[: 60 - JOIN_HALF], atol=1e-4
    )
    assert raw.num_frames == 160
    # one body throughout: every segment gets the first one's bone lengths
    assert bone_length_drift(m.positions) < 1e-3
    # one segment has no join to make: the control model makes it
    alone = control_pipe.timeline([("a person runs", 2.0)], seed=1, segment_model=text_pipe)
    assert alone.num_frames == 40 and "segments_from" not in alone.meta
    with pytest.raises(InputError, match="neither a shipped model"):
        control_pipe.check_compose(segments, segment_model=str(tmp_path / "missing"))
    # the caller's guidance and steps reach the segments; the joins keep the control model's
    own = control_pipe.check_compose(segments, seed=4, segment_model=text_pipe, guidance=3.5)
    segment_reqs, join = own.parts
    assert {r.guidance for r in segment_reqs} == {3.5} and join.text is None
    assert len({r.seed for r in segment_reqs}) == 3
    # a service budget counts the segments' generation too, not only the joins'
    made = sum(text_pipe.request_cost(r) for r in segment_reqs)
    assert control_pipe.request_cost(own) == made + control_pipe.request_cost(join) > made > 0
    guided = control_pipe.run_request(own)
    assert guided.meta["guidance"] == 3.5 and len(guided.meta["segment_seeds"]) == 3
    # the joins keep the control model's in-betweening settings whatever the caller asks
    steps = control_pipe.check_compose(segments, seed=4, segment_model=text_pipe, steps=7)
    assert {r.steps for r in steps.parts[0]} == {7}
    assert steps.parts[1].steps == join.steps == control_pipe.default_steps != 7
    timing = guided.meta["timing_ms"]
    assert timing["total_ms"] >= timing["segments_ms"] + timing["sample_ms"]
    assert guided.labels["conditions"] == "text"
    assert not np.allclose(guided.positions, m.positions, atol=1e-3)
    # a segment model of another process: its own samplers, not the control model's
    ddpm = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "ddpm", process="ddpm"), text_encoder=FakeEncoder()
    )
    other = control_pipe.check_compose(segments, segment_model=ddpm, sampler="ddim", steps=3)
    assert {r.sampler for r in other.parts[0]} == {"ddim"}
    assert other.parts[1].sampler == join.sampler
    with pytest.raises(InputError, match="does not fit"):
        control_pipe.check_compose(segments, segment_model=text_pipe, sampler="ddim")
    textless = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "music", text_dim=0, text_model=None)
    )
    with pytest.raises(InputError, match="trained without text"):
        control_pipe.check_compose(segments, segment_model=textless)
    plain = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "plain"), text_encoder=FakeEncoder()
    )
    with pytest.raises(InputError, match="was not trained for"):
        plain.check_compose(segments, segment_model=text_pipe)


def test_join_keyframes_cut_each_join_and_keep_short_segments():
    from motiongen.generation.timeline import join_keyframes, placed_in_turn

    walk = synth_sequence(["walk"], seconds=3.0, seed=1).positions.astype(np.float64)
    parts = placed_in_turn([walk, walk[:12], walk])
    np.testing.assert_allclose(parts[1][0], parts[0][-1], atol=0.15)  # set where the last ended
    keys, starts, total = join_keyframes(parts, half=10)
    assert total == 60 + 12 + 60
    # each segment gives up to 10 frames at a join, a 12-frame one 3 (a quarter) at each side
    assert [len(k) for k in keys] == [50, 6, 50]
    assert starts == [0, 63, 82]


def test_then_prompts_split_into_segments_the_model_can_read():
    from motiongen.generation.control import parse_timeline

    split = parse_timeline("A person runs. Then he kicks; then she waves", 20.0, total_seconds=10)
    assert [t for t, _ in split] == ["A person runs", "A person kicks", "A person waves"]
    assert sum(n for _, n in split) == 200  # 10 s, not 3 x round(66.7) = 201 frames
    # "for 3 seconds" is that segment's length; the others share what is left of a total (a
    # trial's "stands still for 3 seconds" stood 2 s, or 2.7 of 8 s)
    said = "a person waves, then stands still for three seconds, then walks away"
    assert parse_timeline(said, 20.0, total_seconds=8) == [
        ("a person waves", 50),
        ("a person stands still", 60),
        ("a person walks away", 50),
    ]
    assert parse_timeline(said, 20.0, typical=lambda t: 4.0)[1] == ("a person stands still", 60)
    # a decimal comma is a decimal point, not read as no length at all (it was: 3 s silently)
    comma = parse_timeline("a person waits for 2,5 seconds, then waves for 3 s", 20.0)
    assert comma == [("a person waits", 50), ("a person waves", 60)]
    with pytest.raises(InputError, match="cannot read 'half a second' as a length"):
        parse_timeline("a person waves for half a second, then bows", 20.0)
    with pytest.raises(InputError, match="every segment says how long it lasts"):
        parse_timeline("a person waves for 2 s, then bows for 2 s", 20.0, total_seconds=5)
    # a list with "then": each action its segment ("walks in, waves" had been one, a wave
    # without the walk: a trial); a comma before no verb does not split
    listed_prompt = parse_timeline("a man walks in, waves, then bows", 20.0, total_seconds=9)
    assert [t for t, _ in listed_prompt] == ["a man walks in", "a man waves", "a man bows"]
    manner = parse_timeline("a person walks slowly, sadly, then bows", 20.0, total_seconds=6)
    assert [t for t, _ in manner] == ["a person walks slowly, sadly", "a person bows"]
    # a listed segment says its length as a prompt's does (compose --segment had refused it)
    listed = [("a person walks for 3 seconds", None), ("a person bows for 2 s", 2.0)]
    assert parse_timeline(listed, 20.0) == [("a person walks", 60), ("a person bows", 40)]
    with pytest.raises(InputError, match="segment 1 says 3 s .* given 4"):
        parse_timeline([("a person walks for 3 seconds", 4.0)], 20.0)
    # a subject with adjectives is a subject: kept as it is and lent to the segments after it
    styled = parse_timeline("a proud person walks to the right, then waves", 20.0)
    assert [t for t, _ in styled] == ["a proud person walks to the right", "a proud person waves"]
    assert parse_timeline("An old tired man bows", 20.0)[0][0] == "An old tired man bows"
    assert parse_timeline("jumps, then a person bows", 20.0)[0][0] == "a person jumps"
    # any subject a verb follows, named or not by the list, said as a person with the words
    # before its noun (a trial's "a guard" had become "a person a guard walks forward")
    guard = parse_timeline("a guard walks forward, then he waves the left hand", 20.0)
    assert [t for t, _ in guard] == ["a person walks forward", "a person waves the left hand"]
    knight = parse_timeline("an old knight marches, then bows", 20.0)
    assert [t for t, _ in knight] == ["an old person marches", "an old person bows"]
    assert parse_timeline("a quick wave, then a bow", 20.0)[0][0] == "a person a quick wave"
    # a later segment's own such subject is said so too; "the ..." lends none (a review: "the crowd
    # cheers, then he bows" had made "the crowd bows")
    assert parse_timeline("a person walks, then a guard waves", 20.0)[1][0] == "a person waves"
    assert parse_timeline("the crowd cheers, then he bows", 20.0)[1][0] == "a person bows"
    # a segment with a subject of its own keeps it, even one the model does not know
    other = parse_timeline("a person runs, then the weather is nice", 20.0)
    assert [t for t, _ in other] == ["a person runs", "the weather is nice"]
    # sentences, sequence words after a comma, a leading "first"; "they" lends a singular verb
    texts = {
        "A person walks. Then they wave. Finally they bow.": [
            "A person walks", "A person waves", "A person bows"],
        "first a person walks, afterwards it waves; next they go home": [
            "a person walks", "a person waves", "a person goes home"],
        # a length said in words is the segment's (its words taken out)
        "a person walks slowly, sadly for 1.5 seconds": ["a person walks slowly, sadly"],
        "a person walks next to a wall and then they cry": [
            "a person walks next to a wall", "a person cries"],
        # a list of nouns after a verb that needed no bending stays nouns
        "a person walks, then they perform a spin, kick and bow": [
            "a person walks", "a person performs a spin, kick and bow"],
        # every verb joined to a bent one is bent ("a person stops and kick", a trial)
        "A person jogs. Then they stop and kick with the left leg. Finally they run, jump and roll.": [
            "A person jogs", "A person stops and kicks with the left leg",
            "A person runs, jumps and rolls"],
        # a bare verb gets its -s with the subject ("a person kick" found other phrases)
        "walk forward, then kick, then bow": [
            "a person walks forward", "a person kicks", "a person bows"],
        "a man runs, then punch twice, then go home, then left kick": [
            "a man runs", "a man punches twice", "a man goes home", "a man left kick"],
        # ...but not one that names a move ("spin kick", "sit ups"), nor "back" ("back flip")
        "a person runs, then spin kick, then sit ups, then back flip, then stand up": [
            "a person runs", "a person spin kick", "a person sit ups", "a person back flip",
            "a person stands up"],
    }  # fmt: skip
    for prompt, want in texts.items():
        assert [t for t, _ in parse_timeline(prompt, 20.0)] == want
    # a segment of no words is refused, not hidden behind the borrowed subject
    with pytest.raises(InputError, match=r"segment 1 \('😀😀'\) has no letters"):
        parse_timeline("😀😀, then 😀", 20.0)
    # nor is one left out between two others (it was dropped silently); end punctuation is fine
    for doubled in ("a person walks, then , then bows", "a person walks then then bows"):
        with pytest.raises(InputError, match="empty segment: two 'then' in a row"):
            parse_timeline(doubled, 20.0)
    for fine in ("a person walks. Then bows.", "a person walks, then... bows"):
        assert len(parse_timeline(fine, 20.0)) == 2
    with pytest.raises(InputError, match=r"shared by 3 segment\(s\); ask for at least 3"):
        parse_timeline("a person walks, then bows, then waves", 20.0, total_seconds=2)
    # a segment's own length counts (2 s had been asked for, 5 s needed: a new user's trial)
    with pytest.raises(InputError, match=r"the others 4 s of their own; ask for at least 5\)"):
        parse_timeline("a person walks, then bows for 4 seconds", 20.0, total_seconds=3)
    with pytest.raises(InputError, match="inf s; give a number"):
        parse_timeline([("a person walks", float("inf"))], 20.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p, w: p.inbetween([w, w], [2.0, 1.0]), "must increase|time 0"),
        (lambda p, w: p.inbetween([w], [0.0]), "at least two keyframes"),
        (lambda p, w: p.inbetween([w.crop(0, 1)] * 2, [-1.0, 2.0]), "0 or more"),
        (lambda p, w: p.inbetween([w.crop(0, 1)] * 2, [0.0, 0.01]), "same frame"),
        (lambda p, w: p.inbetween([w, w], [0.0, 1.0]), "past keyframe 1"),
        (lambda p, w: p.inbetween([w.crop(0, 1)] * 2, [0.0, 0.2]), "in-betweening needs"),
        (lambda p, w: p.edit(w.crop(0, 4), text="a person bows", joints=["arms"]), "an edit"),
        (lambda p, w: p.restyle(w.crop(0, 4), "sad"), "restyle needs"),
        (lambda p, w: p.predict(w, 5.0, sed=1), "predict got 'sed'; it takes steps"),
        (lambda p, w: p.inbetween(w, [0.0]), "keyframes must be a list of Motions"),
        (lambda p, w: p.inbetween([w, w], 2.0), "times must be a list of seconds"),
        (lambda p, w: p.edit(w, text="a person bows", frames=slice(1, 2)), "frames must be"),
        (lambda p, w: p.inbetween([w, w], [0.0, 30.0]), "apart"),
        (
            lambda p, w: p.edit(w, text="a person waves", joints=["tail"]),
            "unknown joint or body part",
        ),
        (lambda p, w: p.edit(w, text="a person waves", frames=(3.0, 9.0)), "inside the motion"),
        (lambda p, w: p.edit(w, text="a person waves"), "say what to edit"),
        (lambda p, w: p.predict(w, 1.0), "longer than the past"),
        (
            lambda p, w: p.predict(
                Motion(positions=np.repeat(w.positions, 61, 0), fps=20.0), 120.0
            ),
            "last few seconds as the past",
        ),
        (lambda p, w: p.predict(w.positions, 3.0), "motiongen.Motion"),
        (lambda p, w: p.predict(Motion(positions=w.positions, fps=0.5), 3.0), "frame rate"),
        (lambda p, w: p.timeline([("a person walks", 0.2)]), "at least 1 s"),
        (lambda p, w: p.timeline("  ,  "), "empty"),
        (lambda p, w: p.timeline("a person walks, then bows", seconds=0), "positive number"),
        (lambda p, w: p.timeline([("a person walks", 2.0)], seconds=5), "own seconds"),
        (lambda p, w: p.edit(w, text="a person bows", frames=(float("nan"), 1.0)), "seconds"),
        (lambda p, w: p.edit(w, text="a person bows", frames=(1.5, 0.5)), "start before"),
        (lambda p, w: p.predict(Motion(positions=w.positions * 100, fps=20.0), 3.0), "metres"),
    ],
)
def test_control_bad_input_is_one_clear_error(control_pipe, call, message):
    with pytest.raises(InputError, match=message):
        call(control_pipe, _walk(2.0))


def test_a_timeline_may_start_with_a_segment_shorter_than_the_overlap(control_pipe):
    m = control_pipe.timeline([("a person bows", 1.0), ("a person walks", 1.0),
                               ("a person runs", 3.0)], seed=0)  # fmt: skip
    assert m.num_frames == 100 and m.meta["windows"] == 3
    assert np.isfinite(m.positions).all()


def test_control_needs_a_control_checkpoint(pipe):
    with pytest.raises(InputError, match="not trained for control"):
        pipe.inbetween([_walk(1.0), _walk(1.0)], [0.0, 1.0])


def test_one_joint_or_body_part_may_be_a_plain_string():
    from motiongen.generation.control import resolve_joints

    assert resolve_joints("arms") == resolve_joints(["arms"])  # not the letters a, r, m, s
    assert resolve_joints("left_wrist") == [20]
    # one side's limb by name (a new user had to type four joint names)
    left, right = resolve_joints("left arm"), resolve_joints("right_arm")
    assert len(left) == 4 and sorted(left + right) == resolve_joints("arms")
    assert sorted(resolve_joints(["left_leg", "right-leg"])) == resolve_joints("legs")
    with pytest.raises(InputError, match="left_arm, left_leg, right_arm, right_leg"):
        resolve_joints("left_tail")


def test_a_motion_that_spins_round_unasked_says_so():
    from motiongen.canonical import rotate_y
    from motiongen.generation.stand import standing
    from motiongen.pipeline import _spin_warning

    pose = standing(60)
    spun = Motion(positions=rotate_y(pose, np.linspace(0, 2 * np.pi, 60)), fps=20.0)
    assert _spin_warning(spun, "a person kicks") is None  # no take that turns: the model's
    took = {
        "take_turn_deg": 736.0,
        "retrieved": [{"text": "a person kicks", "label": "kick|normal"}],
    }
    spun.meta.update(took)
    said = _spin_warning(spun, "a person kicks") or ""
    assert "turns round 360 degrees" in said
    assert "takes it follows turn so ('a person kicks', kick, normal: 736 degrees)" in said
    assert _spin_warning(spun, "a person spins around") is None  # asked for
    assert _spin_warning(spun, "a person dances a waltz") is None  # a dance turns as it goes
    assert _spin_warning(Motion(positions=pose, fps=20.0, meta=took), "a person kicks") is None


def test_a_restyle_whose_feet_slide_along_the_kept_path_says_so():
    from motiongen.generation.constraints import Constraints
    from motiongen.pipeline import _restyle_slides
    from motiongen.skeleton import LEFT_FOOT, RIGHT_FOOT

    walk = synth_motion("walk", seconds=4.0, seed=0).positions.astype(np.float64)
    walk[..., 1] -= walk[..., 1].min()
    source = Constraints(np.full_like(walk, np.nan), "style", source=walk)
    assert _restyle_slides(source, Motion(positions=walk, fps=20.0), 20.0) is None
    shuffle = walk.copy()  # the same path, toes dragged along at the pelvis's pace
    for toe in (LEFT_FOOT, RIGHT_FOOT):
        shuffle[:, toe, [0, 2]] = walk[:, 0, [0, 2]]
        shuffle[:, toe, 1] = 0.01
    note = _restyle_slides(source, Motion(positions=shuffle, fps=20.0), 20.0)
    assert (
        note is not None
        and "a toe moves along the floor in" in note
        and "no foot planted in" in note
        and "at least as fast as the motion, so the path is kept" in note
        and "keep_speed" not in note  # not asked for: not said (a new user's trial)
    )
    kept = Motion(positions=shuffle, fps=20.0, meta={"keep_speed": True})
    assert "leave out keep_speed" in _restyle_slides(source, kept, 20.0)
    # both feet shuffling in a third of the frames: the toes' skating is under its limit, the
    # sliding (no foot planted) is not (a sad restyle: 0.50 and 0.24, unsaid; a trial)
    from motiongen.artifacts import SKATING_LIMIT, foot_skating_ratio, sliding_ratio

    part = walk.copy()
    part[:27] = shuffle[:27]
    assert foot_skating_ratio(part, 20.0) < SKATING_LIMIT < foot_skating_ratio(shuffle, 20.0)
    assert sliding_ratio(part, 20.0) > 0.25
    note = _restyle_slides(source, Motion(positions=part, fps=20.0), 20.0)
    assert note is not None and "no foot planted in" in note


def test_an_in_between_whose_feet_slide_says_so():
    from motiongen.pipeline import _inbetween_slides
    from motiongen.skeleton import LEFT_FOOT, RIGHT_FOOT

    walk = synth_motion("walk", seconds=4.0, seed=0).positions.astype(np.float64)
    walk[..., 1] -= walk[..., 1].min()
    assert _inbetween_slides(Motion(positions=walk, fps=20.0), 20.0, None) is None
    glide = walk.copy()  # planted toes carried along at the pelvis's pace
    for toe in (LEFT_FOOT, RIGHT_FOOT):
        glide[:, toe, [0, 2]] = walk[:, 0, [0, 2]]
        glide[:, toe, 1] = 0.01
    note = _inbetween_slides(Motion(positions=glide, fps=20.0), 20.0, None)
    assert note is not None and "without stepping" in note and "a person walks" in note
    # a text was given: the advice does not ask for one
    note = _inbetween_slides(Motion(positions=glide, fps=20.0), 20.0, "a person walks forward")
    assert note is not None and "without stepping" in note and "a person walks" not in note
    said = Motion(positions=glide, fps=20.0, meta={"warning": "... the body glides unless ..."})
    assert _inbetween_slides(said, 20.0, None) is None  # the keyframes' distance already said it
    # feet sliding while the body stays put: stepping on the spot, said as such
    spot = glide.copy()
    spot[..., [0, 2]] -= glide[:, :1, [0, 2]] - glide[:1, :1, [0, 2]]  # the pelvis held still
    rng = np.random.default_rng(0)
    for toe in (LEFT_FOOT, RIGHT_FOOT):
        spot[:, toe, [0, 2]] += np.cumsum(rng.choice([-0.06, 0.06], size=(len(spot), 2)), axis=0)
    note = _inbetween_slides(Motion(positions=spot, fps=20.0), 20.0, "a person walks forward")
    assert note is not None and "step while the body goes 0.0 m in 4.0 s" in note
    assert "without stepping" not in note and "as far apart" in note
    # keyframes put in place: moving them apart is not the advice (a new user's trial)
    placed = Motion(positions=spot, fps=20.0, meta={"keyframes_moved_m": [0.0, 1.2]})
    note = _inbetween_slides(placed, 20.0, None)
    assert "FILE@START:END" in note and "as far apart" not in note


def test_api_mistakes_say_what_to_fix():
    from motiongen.checkpoint import resolve_checkpoint

    walk = Motion(positions=synth_motion("walk", seconds=3.0, seed=0).positions, fps=20.0)
    with pytest.raises(InputError, match="a folder path or a shipped model's name"):
        resolve_checkpoint(123)
    with pytest.raises(InputError, match="must be a number"):
        walk.resample("60")


def test_a_misspelt_generate_option_is_named_with_the_near_one(pipe):
    with pytest.raises(InputError, match="unknown option 'secnds'; did you mean 'seconds'"):
        pipe("a person walks", secnds=3)  # was a bare TypeError


def test_a_given_motion_that_jumps_or_stands_off_the_floor_is_warned_about():
    from motiongen.generation.constraints import Constraints
    from motiongen.pipeline import _odd_input

    walk = synth_motion("walk", seconds=3.0, seed=0).positions.astype(np.float64)
    walk[..., 1] -= walk[..., 1].min()
    assert _odd_input(Constraints(walk, "predict"), 20.0) is None
    cut = walk.copy()
    cut[30:, :, 0] += 50.0  # two takes joined 50 m apart
    assert "jumps 50.0 m between 1.45 s and 1.50 s" in _odd_input(Constraints(cut, "edit"), 20.0)
    sunk = walk - np.array([0.0, 5.0, 0.0])
    assert "5.0 m below the floor" in _odd_input(Constraints(sunk, "predict"), 20.0)
    path = np.full_like(walk, np.nan)  # a restyle gives the pelvis only: its source is judged
    path[:, 0] = walk[:, 0]
    assert _odd_input(Constraints(path, "style", source=walk), 20.0) is None
    keys = np.full_like(walk, np.nan)  # an in-between's last keyframe set 0.5 m up: said
    keys[0], keys[-1] = walk[0], walk[-1] + [0.0, 0.5, 0.0]
    note = _odd_input(Constraints(keys, "inbetween"), 20.0)
    assert note.startswith("the keyframe at 2.95 s has its lowest joint 0.5") and "jump" in note
    keys[-1] = walk[-1]
    assert _odd_input(Constraints(keys, "inbetween"), 20.0) is None


def test_an_in_between_that_turns_on_its_feet_by_a_keyframe_is_warned_about():
    # a keyframe facing 90 degrees off the way to the next: the body turned 104 degrees in
    # 0.5 s on sliding toes, unsaid (a game developer's trial)
    from motiongen.canonical import rotate_y
    from motiongen.generation.constraints import Constraints
    from motiongen.pipeline import _keyframe_pivots

    stand = synth_motion("walk", seconds=1.0, seed=0).positions[:1].astype(np.float64)
    stand[..., 1] -= stand[..., 1].min()
    frames = []
    for t in range(41):  # turning 100 degrees and sliding sideways over the first 0.5 s
        turned = rotate_y(stand - stand[:, :1] * [1, 0, 1], np.radians(10.0 * min(t, 10)))
        frames.append(turned[0] + [0.06 * min(t, 10), 0.0, 0.0])
    p = np.stack(frames)
    keys = np.full_like(p, np.nan)
    keys[0], keys[-1] = p[0], p[-1]
    note = _keyframe_pivots(Constraints(keys, "inbetween"), Motion(positions=p, fps=20.0), 20.0)
    assert note.startswith("the body turns 100 degrees on its feet within 0.5 s after the keyframe")
    slid = np.stack([stand[0] + [0.06 * min(t, 10), 0.0, 0.0] for t in range(41)])  # no turn
    assert _keyframe_pivots(Constraints(keys, "inbetween"), Motion(positions=slid, fps=20.0),
                            20.0) is None  # fmt: skip


def test_an_in_between_that_turns_away_and_back_between_keyframes_is_warned_about():
    # both keyframes faced the same way; the body turned 121 degrees away and back between
    # them, unsaid (an animator's trial)
    from motiongen.canonical import rotate_y
    from motiongen.generation.constraints import Constraints
    from motiongen.pipeline import _inbetween_swings

    stand = synth_motion("walk", seconds=1.0, seed=0).positions[:1].astype(np.float64)
    turns = np.radians(120.0 * np.sin(np.linspace(0.0, np.pi, 41)))  # away and back
    p = np.stack([rotate_y(stand, a)[0] for a in turns])
    keys = np.full_like(p, np.nan)
    keys[0], keys[-1] = p[0], p[-1]
    given = Constraints(keys, "inbetween")
    note = _inbetween_swings(given, Motion(positions=p, fps=20.0), 20.0, "a person bows")
    assert note.startswith("the body turns 120 degrees away and back between the keyframes")
    assert _inbetween_swings(given, Motion(positions=p, fps=20.0), 20.0, "a person turns") is None
    gentle = np.stack([rotate_y(stand, a / 2)[0] for a in turns])  # 60 degrees: as real ones
    assert _inbetween_swings(given, Motion(positions=gentle, fps=20.0), 20.0, None) is None


def test_controlled_motions_leave_the_pelvis_path_to_their_constraints(monkeypatch):
    # Following the planted feet moves the pelvis; a restyle's pelvis path is given and put
    # back after clean-up, which would drag the locked feet along (a 10 cm creep, simulated).
    import motiongen.postprocess as pp
    from motiongen.pipeline import Pipeline

    seen: list[object] = []
    clean = pp.postprocess

    def recording(p, fps, **kw):
        seen.append(kw.get("follow_support", "default"))
        return clean(p, fps, **kw)

    monkeypatch.setattr(pp, "postprocess", recording)
    control = Pipeline.from_pretrained("tiny-control")
    walk = Motion(positions=synth_motion("walk", seconds=2.0, seed=0).positions, fps=20.0)
    control.restyle(walk, control.styles[0], seed=0)
    control.generate("a person bows", seconds=2.0, seed=0)
    assert seen == [None, pp.SUPPORT_SECONDS]


def test_a_text_free_continuation_that_stops_says_so():
    from motiongen.generation.control import predict_constraints
    from motiongen.pipeline import _prediction_winds_down

    walk = synth_motion("walk", seconds=6.0, seed=0).positions.astype(np.float64)
    constraints = predict_constraints(walk[:40], len(walk))
    assert _prediction_winds_down(constraints, Motion(positions=walk, fps=20.0), 20.0) is None
    stops = walk.copy()
    stops[80:] = walk[80]  # walks on for 2 s, then stands still
    note = _prediction_winds_down(constraints, Motion(positions=stops, fps=20.0), 20.0)
    assert note is not None and "winds down" in note and "a person walks" in note
    # a jog's last second at 0.45 of its pace, a shuffle (a new user's trial): said too
    shuffles = walk.copy()
    t = np.arange(len(walk) - 80, dtype=np.float64)[:, None]
    step = (walk[39, 0, [0, 2]] - walk[19, 0, [0, 2]]) / 20 * 0.45  # the past's last second
    shuffles[80:, :, [0, 2]] = walk[80:81, :, [0, 2]] + (t * step)[:, None, :]
    shuffles[80:, :, 1] = walk[80:81, :, 1]
    note = _prediction_winds_down(constraints, Motion(positions=shuffles, fps=20.0), 20.0)
    assert note is not None and "winds down" in note
    standing = np.repeat(walk[:1], len(walk), axis=0)  # nothing moved before either
    still = predict_constraints(standing[:40], len(walk))
    assert _prediction_winds_down(still, Motion(positions=standing, fps=20.0), 20.0) is None


def test_a_restyle_starts_from_phrases_of_the_pair_asked_for(control_pipe, monkeypatch):
    class Found:  # a retrieval.Prior's label and agreement
        def __init__(self, label: str, agrees: bool = True) -> None:
            self.phrases, self.agrees = [{"label": label}], agrees

    class Index:
        def __init__(self, found: Found) -> None:
            self.found = found

        def prior(self, text, *, frames, fps):  # noqa: ANN001
            searched.append(text)
            return self.found

    searched: list[str] = []
    still = np.zeros((40, 22, 3))

    def start(label: str, content: str, style: str, agrees: bool = True, source=still):  # noqa: ANN001, ANN202
        monkeypatch.setattr(control_pipe, "retriever", Index(Found(label, agrees)))
        return control_pipe._restyle_phrases("a person walks sadly", content, style, 40, source)

    assert start("walk|sad", "walk", "sad") is not None  # the pair the data recorded
    assert start("walk|tired", "walk", "exhausted") is not None  # one style, two words
    assert start("walk|happy", "walk", "sad") is None  # another style
    assert start("walk|sad", "raise-up-left-hand", "sad") is None  # the style on another action
    assert start("walk|sad", "walk", "sad", agrees=False) is None  # phrases that disagree
    assert searched[-1] == "a person walks sadly"  # no limb moves more on one side
    from motiongen.skeleton import JOINT_INDEX

    waving = still.copy()  # the right wrist out and back: searched on that side
    waving[:, JOINT_INDEX["right_wrist"], 0] = 0.6 * np.sin(np.linspace(0, 6, 40)) ** 2
    start("walk|sad", "walk", "sad", source=waving)
    assert searched[-1] == "a person walks sadly with the right hand"
    assert control_pipe.start_time == 0.25 and control_pipe.prior_start == 0.0


def test_numpy_blas_runs_on_one_thread_beside_the_sampler(tmp_path, monkeypatch):
    # numpy's idle BLAS threads spin after each call and, on 2 cores, took the CPU from the
    # sampler: a generation right after retrieval or post-processing 26 -> 47 ms.
    from threadpoolctl import threadpool_info

    monkeypatch.setenv("MOTIONGEN_BLAS_THREADS", "two")
    with pytest.raises(InputError, match="MOTIONGEN_BLAS_THREADS must be a whole number"):
        Pipeline.from_pretrained(make_checkpoint(tmp_path / "ck"), text_encoder=FakeEncoder())
    monkeypatch.delenv("MOTIONGEN_BLAS_THREADS")
    Pipeline.from_pretrained(make_checkpoint(tmp_path / "ck2"), text_encoder=FakeEncoder())
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert all(i["num_threads"] == 1 for i in blas)
    from motiongen.retrieval.index import _faiss

    _faiss()  # FAISS's own OpenBLAS, loaded at the first retrieval, is limited too
    assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    monkeypatch.setenv("MOTIONGEN_BLAS_THREADS", "\u00b2")  # a digit isdigit() takes, int() not
    with pytest.raises(InputError, match="whole number"):
        Pipeline.from_pretrained(make_checkpoint(tmp_path / "ck3"), text_encoder=FakeEncoder())


def test_text_model_is_the_segment_model_a_checkpoint_names(tmp_path):
    plain = Pipeline.from_pretrained(make_checkpoint(tmp_path / "a"), text_encoder=FakeEncoder())
    assert plain.text_model() is plain  # names none: itself
    other = make_checkpoint(tmp_path / "b")
    named = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "c", tasks={"timeline": {"segment_model": str(other)}}),
        text_encoder=FakeEncoder(),
    )
    made = named.text_model()
    assert made is not named and made is named.text_model()  # loaded once


def test_a_window_s_overlap_is_not_reimposed_after_its_last_step():
    # imposed after the last step too, the network's first new frame did not always continue
    # the given ones: every dance over 9.8 s jolted at 9.8 s (a new user's trial)
    import torch

    from motiongen.pipeline import _not_at_the_end

    calls = []

    def hook(x, t):
        calls.append(t)
        return x * 0

    x = torch.ones(2)
    flow = _not_at_the_end(hook, flow=True)
    assert flow(x, 0.5).sum() == 0 and flow(x, 1.0).sum() == 2  # left as sampled at t = 1
    ddpm = _not_at_the_end(hook, flow=False)  # DDPM's time counts down
    assert ddpm(x, 0.999).sum() == 0 and ddpm(x, 0.0).sum() == 2
    assert calls == [0.5, 0.999]


def test_a_long_motion_asked_to_go_straight_on_has_its_veer_taken_out(tmp_path):
    # 40 s walks veered 49-63 degrees, the same way in every window (a new user's trial)
    from motiongen.checkpoint import write_vocabulary

    path = make_checkpoint(tmp_path / "ck")
    write_vocabulary(path, {"walk": ["a person walks forward"],
                            "walk-turn-left": ["a person walks and turns left"]})  # fmt: skip
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    long = 2.5 * pipe.window / pipe.fps
    walk = pipe("a person walks forward", seconds=long, seed=0)
    assert "straightened_deg" in walk.meta
    assert "straightened_deg" not in pipe("a person walks forward", seconds=2.0, seed=0).meta
    turn = pipe("a person walks and turns left", seconds=long, seed=0)
    assert "straightened_deg" not in turn.meta  # a turn asked for is kept
    raw = pipe("a person walks forward", seconds=long, seed=0, postprocess=False)
    assert "straightened_deg" not in raw.meta  # the network's output as it made it
    from motiongen.pipeline import CURVING

    for curved in ("a person walks along a curved path", "a person jogs around the track",
                   "a man wanders about", "a person walks in a circle"):  # fmt: skip
        assert CURVING.search(curved), curved
    assert not CURVING.search("a person walks forward happily")


def test_straightening_takes_out_a_slow_veer_and_keeps_the_sway():
    from motiongen.canonical import heading, rotate_y
    from motiongen.postprocess.turns import straightened
    from motiongen.skeleton import PELVIS

    p = synth_sequence(["walk"], seconds=30.0, seed=0).positions.astype(np.float64)
    t = np.arange(len(p)) / 20.0
    veer = np.deg2rad(1.5) * t  # 1.5 deg/s, 45 degrees in all
    root = p[:, PELVIS] * [1, 0, 1]
    steps = rotate_y(np.diff(root, axis=0), veer[:-1])
    path = np.concatenate([root[:1], root[0] + np.cumsum(steps, axis=0)])
    veered = rotate_y(p - root[:, None], veer) + path[:, None]
    out, removed = straightened(veered, 20.0)
    assert 35.0 < removed < 50.0
    h = np.unwrap(heading(out))
    assert abs(np.degrees(h[-1] - h[0])) < 5.0  # straight on again
    sway = np.unwrap(heading(p)) - np.unwrap(heading(p))[0]
    np.testing.assert_allclose(h - h[0], sway, atol=np.deg2rad(5.0))  # its own sway kept


def test_a_turn_no_text_asks_for_is_said_past_half_a_turn():
    def turning(degrees: float) -> Motion:
        first = _walk(1.0).positions[0]
        pose = first - first[0]
        angles = np.radians(np.linspace(0.0, degrees, 30))
        c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
        x, z = pose[None, :, 0], pose[None, :, 2]
        spun = np.repeat(pose[None], 30, axis=0)
        spun[..., 0], spun[..., 2] = c * x + s * z, -s * x + c * z
        return Motion(positions=spun, fps=20.0, meta={"take_turn_deg": 1100.0})

    # a timeline's 1.5 s kick turned 265 degrees unsaid at a 270 degree limit (a trial); no
    # real take whose text names no turn turns past 180 but the one kick
    said = pipeline_module._spin_warning(turning(230.0), "a soldier kicks")
    assert said and "turns round 230 degrees" in said
    assert pipeline_module._spin_warning(turning(150.0), "a soldier kicks") is None
    assert pipeline_module._spin_warning(turning(230.0), "a soldier spins and kicks") is None
