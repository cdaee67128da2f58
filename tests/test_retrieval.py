"""Retrieval (RAG++): phrases, the FAISS index and its files, the prior builder, the
retriever's cache and errors, the reranker, and the prior input of the network.

Vectors come from a fake text encoder and a fake motion encoder (fast and deterministic);
the real encoders are exercised by the benchmark and the training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motiongen.conditioning import text as text_module
from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.features import FEATURE_DIM, positions_to_features
from motiongen.retrieval import MotionIndex, NoMatch, Phrase, PriorBuilder, Retriever
from motiongen.retrieval.build import Encoders, add_phrases, build_index
from motiongen.retrieval.index import span_key
from motiongen.retrieval.phrases import bar_phrases, cut_phrases, motion_boundaries
from motiongen.retrieval.prior import loop_features, loop_span
from motiongen.skeleton import NUM_JOINTS
from tests.test_pipeline import FakeEncoder

FPS = 20.0


class FakeMotionEncoder:
    """Unit embeddings from fixed random projections of mean features (16-d)."""

    embed_dim = 16

    def __init__(self) -> None:
        self.proj = np.random.default_rng(0).normal(size=(FEATURE_DIM, 16))

    def encode_features(self, feats):
        out = np.stack([np.asarray(f).mean(0) @ self.proj for f in feats])
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def fake_text_encoder(monkeypatch):
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())


def encoders() -> Encoders:
    return Encoders(FakeEncoder(), FakeMotionEncoder())


def standing(frames: int) -> np.ndarray:
    from motiongen.data.synthetic import forward_kinematics

    pose = forward_kinematics(np.zeros((1, NUM_JOINTS, 3)), np.zeros(1))[0]
    pose[:, 1] -= pose[:, 1].min()  # feet on the floor
    return np.repeat(pose[None], frames, axis=0)


def waving(frames: int, hz: float = 1.0, side: str = "right") -> np.ndarray:
    from motiongen.skeleton import JOINT_INDEX

    pos = standing(frames)
    wrist = JOINT_INDEX[f"{side}_wrist"]
    t = np.arange(frames) / FPS
    pos[:, wrist, 1] += 0.5 + 0.2 * np.sin(2 * np.pi * hz * t)
    return pos


def corpus() -> tuple[list[Phrase], dict[str, np.ndarray]]:
    """Eight clips of four 'actions', each one phrase."""
    phrases, motions = [], {}
    texts = ["a person waves", "a person stands still", "a person jumps", "a person bows"]
    for c in range(8):
        text = texts[c % 4]
        pos = waving(60, hz=0.5 + c % 4) if c % 4 != 1 else standing(60)
        pos = pos + 0.01 * c
        for p in cut_phrases(pos, FPS, clip=f"clip{c}", text=text, labels={"content": text}):
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
    return phrases, motions


@pytest.fixture
def index() -> MotionIndex:
    phrases, motions = corpus()
    return build_index(phrases, motions, encoders=encoders())


# ---- phrases ------------------------------------------------------------------------------


def test_motion_boundaries_cut_in_the_pauses_and_keep_lengths():
    # Three 3-s bursts of waving with 1-s pauses between them.
    parts = []
    for _ in range(3):
        parts += [waving(60, hz=2.0), standing(20)]
    pos = np.concatenate(parts)
    spans = motion_boundaries(pos, FPS, min_seconds=1.5, max_seconds=5.0)
    assert spans[0][0] == 0 and spans[-1][1] == len(pos)
    assert all(b == c for (_, b), (c, _) in zip(spans, spans[1:], strict=False))  # contiguous
    lengths = [b - a for a, b in spans]
    assert min(lengths) >= 30 and max(lengths) <= 100
    for _, cut in spans[:-1]:  # every cut inside a pause (60..80, 140..160)
        assert (cut % 80) >= 55, spans
    assert motion_boundaries(standing(20), FPS) == []  # shorter than a phrase
    assert motion_boundaries(standing(50), FPS) == [(0, 50)]


def test_bar_phrases_take_whole_bars_from_the_first_beat():
    beats = np.arange(5, 400, 10)  # a beat every 10 frames
    assert bar_phrases(beats, 400, bars=4) == [(5, 165), (165, 325)]
    assert bar_phrases(beats, 400, bars=8) == [(5, 325)]
    with pytest.raises(InputError, match="4 or 8 bars"):
        bar_phrases(beats, 400, bars=3)


def test_cut_phrases_records_energy_and_rejects_bad_motion():
    ps = cut_phrases(waving(80, hz=2.0), FPS, clip="c", text="a person waves")
    assert len(ps) == 1 and ps[0].energy > 0 and ps[0].seconds == 4.0
    bad = waving(40)
    bad[3, 2, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        cut_phrases(bad, FPS, clip="c", text="x")
    mirrored = Phrase(
        "c", 0, 10, FPS, "t", labels={"content": "raise-up-right-hand"}, mirrored=True
    )
    assert mirrored.label.startswith("raise-up-left-hand")


# ---- index --------------------------------------------------------------------------------


def test_search_finds_the_phrases_of_the_query_text(index):
    r = Retriever(index, encoders=encoders(), k=4, n=2)
    hits = r.search("a person jumps")
    assert [h.phrase.text for h in hits] == ["a person jumps"] * 2
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)  # a similarity, not a raw product


def test_excluded_clips_are_never_returned(index):
    r = Retriever(index, encoders=encoders(), k=8, n=8)
    for h in r.search("a person jumps", exclude={"clip2"}):
        assert h.phrase.clip != "clip2"
    per_query = index.search(
        np.stack([r.query_vector("a person bows")[0][0]] * 2), 8,
        exclude_clips=[{"clip3"}, {"clip7"}],
    )  # fmt: skip
    assert all(h.phrase.clip != "clip3" for h in per_query[0])
    assert all(h.phrase.clip != "clip7" for h in per_query[1])


def test_add_and_remove_without_a_rebuild(index, tmp_path):
    n = len(index)
    pos = waving(50, hz=3.0)
    new = cut_phrases(pos, FPS, clip="mine", text="a person salutes")
    ids = add_phrases(index, new, {span_key(new[0]): pos}, encoders())
    assert len(index) == n + 1
    r = Retriever(index, encoders=encoders(), k=3, n=1)
    assert r.search("a person salutes")[0].phrase.clip == "mine"
    index.save(tmp_path / "ix")
    again = MotionIndex.load(tmp_path / "ix")
    assert len(again) == n + 1 and again.motion(ids[0]).shape == (50, NUM_JOINTS, 3)
    assert again.remove(again.ids_of_clips(["mine"])) == 1
    r2 = Retriever(again, encoders=encoders(), k=3, n=1)
    with pytest.raises(NoMatch):  # nothing else says "salutes"
        r2.search("a person salutes")
    assert all(p.clip != "mine" for p in again.phrases.values())


@pytest.mark.parametrize("kind", ["ivf", "ivfpq"])
def test_ivf_kinds_search_like_flat(kind):
    from motiongen.retrieval.vectors import StatsScaler, VectorLayout, unit

    rng = np.random.default_rng(0)
    layout = VectorLayout(text_dim=32, motion_dim=27)
    vecs = unit(rng.normal(size=(600, layout.dim)).astype(np.float32))
    phrases = [Phrase(f"c{i}", 0, 40, FPS, f"t{i}") for i in range(600)]
    motions = {span_key(p): standing(40) for p in phrases}
    scaler = StatsScaler(np.zeros(5), np.ones(5))
    flat = MotionIndex(layout, scaler)
    flat.add(phrases, vecs, motions)
    ivf = MotionIndex(layout, scaler, kind=kind, nlist=8)
    ivf.nprobe = 8  # every cell: the same neighbours as flat (up to PQ's rounding)
    ivf.train(vecs)
    ivf.add(phrases, vecs, motions)
    q = vecs[:20]
    top_flat = [h[0].id for h in flat.search(q, 1)]
    top_ivf = [h[0].id for h in ivf.search(q, 1)]
    agree = np.mean(np.array(top_flat) == np.array(top_ivf))
    assert agree >= (1.0 if kind == "ivf" else 0.8)
    assert ivf.remove(range(10)) == 10 and len(ivf) == 590  # no rebuild, cells kept
    assert all(h[0].id >= 10 for h in ivf.search(vecs[:10], 1))


def test_bad_indexes_and_queries_give_clear_errors(index, tmp_path):
    from motiongen.retrieval.vectors import StatsScaler, VectorLayout

    empty = MotionIndex(VectorLayout(8, 0), StatsScaler(np.zeros(5), np.ones(5)))
    with pytest.raises(InputError, match="index is empty"):
        empty.search(np.ones((1, empty.dim)), 3)
    with pytest.raises(InputError, match="dimensions"):
        index.search(np.ones((1, 7)), 3)
    with pytest.raises(InputError, match="index was built with"):
        index.layout.compose(1, text=np.ones((1, 5)))
    with pytest.raises(DataNotFoundError, match="motiongen index build"):
        MotionIndex.load(tmp_path / "nothing")
    index.save(tmp_path / "ix")
    (tmp_path / "ix" / "index.faiss").write_bytes(b"not faiss at all")
    with pytest.raises(FormatError, match="corrupt"):
        MotionIndex.load(tmp_path / "ix")
    index.save(tmp_path / "ix2")
    (tmp_path / "ix2" / "phrases.json").write_text("{")
    with pytest.raises(FormatError, match="rebuild"):
        MotionIndex.load(tmp_path / "ix2")
    r = Retriever(index, encoders=encoders(), min_similarity=0.99)
    with pytest.raises(NoMatch, match="no phrase in the index is close"):
        r.search("a completely different sentence")
    with pytest.raises(InputError, match="needs a text"):
        r.search()


def test_training_split_index_holds_no_held_out_take(tmp_path, monkeypatch):
    from dataclasses import replace

    from motiongen.data.prepare import prepare_synthetic
    from motiongen.data.store import PreparedData
    from motiongen.retrieval.build import collect_data_phrases

    prepare_synthetic(tmp_path / "p", 12, seed=0)
    select = PreparedData.select

    def resplit(self, split=None, **kw):  # every third clip held out as test
        recs = [replace(r, split="test" if i % 3 == 0 else "train")
                for i, r in enumerate(select(self, **kw))]  # fmt: skip
        return [r for r in recs if split is None or r.split == split]

    monkeypatch.setattr(PreparedData, "select", resplit)
    data = PreparedData.open(tmp_path / "p")
    held = {r.name for r in data.select(split="test")}
    phrases, _ = collect_data_phrases(("train",), prepared=tmp_path / "p")
    assert held and phrases
    assert not {p.clip for p in phrases} & held
    assert {p.split for p in phrases} == {"train"}


# ---- prior --------------------------------------------------------------------------------


def test_prior_builder_aligns_blends_and_weights():
    b = PriorBuilder(temperature=0.1, sigma_seconds=0.0)
    a, c = waving(60, hz=1.0), waving(90, hz=1.0)
    prior = b.build([a, c], [0.9, 0.5], 60, FPS, phrases=[{"id": 1}, {"id": 2}])
    assert prior.features.shape == (60, FEATURE_DIM)
    w = [p["weight"] for p in prior.phrases]
    assert w[0] > w[1] and sum(w) == pytest.approx(1.0, abs=1e-3)
    # One phrase of the exact length, no smoothing: its own features.
    same = b.build([a], [1.0], 60, FPS)
    assert np.allclose(same.features, positions_to_features(a, FPS), atol=1e-5)
    # A short phrase far from the target length is looped, not stretched 5x: played to a
    # frame like an earlier one, then from that one again.
    looped = b.align(a, 300, FPS)
    assert looped.shape == (300, FEATURE_DIM)
    feats = positions_to_features(a, FPS)
    first, end = loop_span(feats)
    assert end - first >= 30 and (end - first) % 20 == 0  # whole periods of the 1 Hz wave
    assert np.allclose(loop_features(feats, 150, 0)[end : 2 * end - first], feats[first:end])
    assert np.allclose(looped[: end - 5], feats[: end - 5])  # a 5-frame cross-fade, then again
    with pytest.raises(InputError, match="no retrieved phrases"):
        b.build([], [], 60, FPS)


def test_a_looped_phrase_repeats_its_steady_part_not_its_start():
    # A 20 s walk looped a take recorded from a standing start whole: near 9 s it slowed, both
    # feet planted, its pelvis dropping 8 cm (a new user's trial).
    from motiongen.features import features_to_positions
    from motiongen.skeleton import JOINT_INDEX

    wrist = JOINT_INDEX["right_wrist"]
    pos = waving(100, hz=1.0)
    rest = standing(1)[0, wrist, 1]
    pos[:20, wrist, 1] = rest  # the hand still for the first second, then waving
    feats = positions_to_features(pos, FPS)
    first, end = loop_span(feats)
    assert first >= 20 and end - first >= 50
    heights = features_to_positions(loop_features(feats, 300, 5))[:, wrist, 1]
    assert heights[25:].min() > rest + 0.25  # never back to the still start
    # a phrase the same at its end as at its start repeats whole, as before
    assert loop_span(positions_to_features(waving(60, hz=0.5), FPS)) in {(0, 40), (0, 60)}


def test_an_in_place_phrase_is_played_quicker_to_fit_and_a_walk_is_cut():
    from motiongen.features import features_to_positions
    from motiongen.skeleton import PELVIS, RIGHT_ANKLE

    kick = kicking(100, at=80)  # its kick late in the phrase: cut to 55 frames it is lost
    lift = {}
    for squeeze, label in ((1.5, "kick|normal"), (2.0, "kick|normal"), (2.0, "wave|normal")):
        b = PriorBuilder(sigma_seconds=0.0, max_squeeze=squeeze)
        prior = b.build([kick], [1.0], 55, FPS, phrases=[{"label": label}])
        ankle = features_to_positions(prior.features)[:, RIGHT_ANKLE, 1]
        lift[squeeze, label] = ankle.max() - np.median(ankle)
    # 2x: the whole phrase fits; 1.5x: still too long, cut around its busiest frames (the kick)
    assert lift[2.0, "kick|normal"] > 0.7 and lift[1.5, "kick|normal"] > 0.7
    assert lift[2.0, "wave|normal"] < 0.1  # a repeating action is cut: a shorter wave is one
    walk = standing(100)
    walk[:, :, 2] += 1.2 * np.arange(100)[:, None] / FPS  # 1.2 m/s forward
    pelvis = features_to_positions(
        PriorBuilder(sigma_seconds=0.0).played(walk, 55, FPS, squeeze=True)
    )
    step = np.linalg.norm(np.diff(pelvis[:55, PELVIS, [0, 2]], axis=0), axis=1).mean() * FPS
    assert step == pytest.approx(1.2, abs=0.05)  # over the ground: cut, not hurried into a run
    with pytest.raises(InputError, match="max_squeeze >= 1"):
        PriorBuilder(max_squeeze=0.5)


def test_a_gesture_too_long_even_played_quicker_keeps_its_busiest_frames():
    from motiongen.retrieval.prior import busiest_start

    kick = kicking(300, at=250)  # 15 s, the kick near its end: 7.5 s at its quickest
    start = busiest_start(kick, 40, FPS)
    assert 250 - 40 < start <= 250 and busiest_start(kick, 400, FPS) == 0
    assert busiest_start(standing(50), 20, FPS) == 0  # nothing moves: the first frames
    b = PriorBuilder(sigma_seconds=0.0)
    feats = b.played(kick, 40, FPS, squeeze=True)  # the quickest (150 frames), cut to 40
    assert len(feats) == 40
    wide = b.played(kick, 40, FPS, squeeze=True, extra=20)  # the frames after, to match others
    assert 40 <= len(wide) <= 60 and np.allclose(wide[:39], feats[:39], atol=1e-5)


def test_a_gesture_held_when_asked_longer_than_its_take_is_held_not_done_again():
    from motiongen.features import features_to_positions
    from motiongen.skeleton import RIGHT_ANKLE

    kick = kicking(40, at=20)  # up and down within 2 s: a raise's shape, on a leg
    b = PriorBuilder(sigma_seconds=0.0)
    for label in ("raise-up-right-hand|normal", "kick|normal", "wave|normal"):
        prior = b.build([kick, kick], [1.0, 0.9], 120, FPS,
                        phrases=[{"label": label}, {"label": label}])  # fmt: skip
        for start in prior.starts.values():  # every phrase a seed may start from
            ankle = features_to_positions(start)[:, RIGHT_ANKLE, 1]
            up = ankle > ankle.min() + 0.4
            rises = int(np.sum(np.diff(up.astype(int)) == 1))
            if label.startswith("raise"):  # lifted once, held, put down: all 6 s
                assert rises == 1 and not up[0] and not up[-1] and up.mean() > 0.6
            else:  # a kick is done again, a repeating action looped, as before
                assert rises >= 2


def kicking(frames: int, at: int) -> np.ndarray:
    """Standing, the right ankle lifted 0.8 m for a second around frame ``at``."""
    from motiongen.skeleton import RIGHT_ANKLE

    pos = standing(frames)
    pos[:, RIGHT_ANKLE, 1] += 0.8 * np.exp(-0.5 * ((np.arange(frames) - at) / 4.0) ** 2)
    return pos


def test_blended_phrases_are_shifted_to_the_best_ones_timing():
    from motiongen.features import VEL, features_to_positions
    from motiongen.retrieval.prior import matched_window
    from motiongen.skeleton import RIGHT_ANKLE

    # one clip's two kicks, 17 frames apart in their phrases (as the data's one kick clip)
    first, second = kicking(72, at=40), kicking(167, at=57)
    lift = {}
    for shift in (0.0, 1.0):
        b = PriorBuilder(sigma_seconds=0.0, max_shift_seconds=shift)
        prior = b.build([first, second], [1.0, 1.0], 72, FPS)
        ankle = features_to_positions(prior.features)[:, RIGHT_ANKLE, 1]
        lift[shift] = ankle.max() - np.median(ankle)
        assert abs(int(ankle.argmax()) - 40) <= 1  # the best phrase sets the time
    assert lift[1.0] > 0.75 and lift[0.0] < 0.5  # averaged apart, the kick halves
    # a window reaching past the phrase holds its first pose, standing still
    feats = positions_to_features(kicking(60, at=10), FPS)
    reference = positions_to_features(kicking(60, at=25), FPS)
    window = matched_window(feats, reference, max_shift=20)
    assert np.allclose(window[15:], feats[:45]) and np.allclose(window[:15, VEL], 0.0)
    assert np.allclose(matched_window(feats, reference, max_shift=0), feats)
    with pytest.raises(InputError, match="max_shift_seconds"):
        PriorBuilder(max_shift_seconds=-1.0)


def test_music_tempo_stretches_the_phrase():
    b = PriorBuilder(sigma_seconds=0.0)
    pos = waving(80, hz=2.0)  # 120 BPM-ish accents
    # The phrase's tempo 120 against music at 100 BPM: played 1.2x slower.
    slow = b.align(pos, 96, FPS, tempo=100.0, phrase_tempo=120.0)
    assert np.allclose(slow, positions_to_features(
        __import__("motiongen.retrieval.prior", fromlist=["stretch"]).stretch(pos, 96), FPS
    ), atol=1e-6)  # fmt: skip


def test_retriever_caches_priors_by_query(index):
    r = Retriever(index, encoders=encoders(), k=4, n=2, cache_size=2)
    calls = []
    original = r.search
    r.search = lambda *a, **k: calls.append(1) or original(*a, **k)  # type: ignore[method-assign]
    p1 = r.prior("a person waves", frames=50)
    p2 = r.prior("a person waves", frames=50)
    assert p1 is p2 and len(calls) == 1
    r.prior("a person bows", frames=50)
    r.prior("a person jumps", frames=50)  # evicts the oldest
    r.prior("a person waves", frames=50)
    assert len(calls) == 4
    assert {p["clip"] for p in p1.phrases} <= {"clip0", "clip4"}


# ---- reranker -----------------------------------------------------------------------------


def test_reranker_trains_saves_and_scores(index, tmp_path):
    from motiongen.retrieval.rerank import Reranker, load_reranker
    from motiongen.retrieval.rerank_training import train_reranker

    reranker, losses = train_reranker(index, steps=3, queries_per_step=2, candidates=4,
                                      encoders=encoders())  # fmt: skip
    assert len(losses) == 3 and all(np.isfinite(losses))
    r = Retriever(index, encoders=encoders(), reranker=reranker, k=6, n=3)
    hits = r.search("a person waves")
    assert len(hits) == 3 and all(0.0 < h.score < 1.0 for h in hits)
    reranker.save(tmp_path / "rr")
    again = load_reranker(tmp_path / "rr")
    assert isinstance(again, Reranker)
    again._text = FakeEncoder()
    assert np.allclose(
        again.score("a person waves", hits, index),
        reranker.score("a person waves", hits, index),
        atol=1e-5,
    )
    with pytest.raises(DataNotFoundError, match="no reranker"):
        load_reranker(tmp_path / "nothing")


# ---- the network's prior input -------------------------------------------------------------


def test_a_new_prior_input_starts_ignored_and_drops_like_absent():
    from motiongen.models import ModelConditions
    from motiongen.models.dit import MotionDiT, MotionDiTConfig
    from motiongen.train.trainer import with_prior

    torch.manual_seed(0)
    base = MotionDiT(MotionDiTConfig(feature_dim=FEATURE_DIM, width=32, depth=1, heads=2)).eval()
    for p in base.parameters():  # non-zero outputs everywhere
        torch.nn.init.normal_(p, std=0.05)
    grown = with_prior(base, FEATURE_DIM).eval()
    x = torch.randn(2, 12, FEATURE_DIM)
    prior = torch.randn(2, 12, FEATURE_DIM)
    with torch.no_grad():
        ref = base(x, 0.5)
        assert torch.allclose(grown(x, 0.5, ModelConditions(prior=prior)), ref, atol=1e-6)
        torch.nn.init.normal_(grown.prior_proj.weight, std=0.1)
        torch.nn.init.normal_(grown.prior_on, std=0.1)
        given = grown(x, 0.5, ModelConditions(prior=prior))
        dropped = grown(
            x, 0.5, ModelConditions(prior=prior, drop_prior=torch.tensor([True, False]))
        )
        assert not torch.allclose(given, ref, atol=1e-4)
        assert torch.allclose(dropped[0], grown(x, 0.5)[0], atol=1e-6)  # dropped = absent
        assert torch.allclose(dropped[1], given[1], atol=1e-6)
    cond = ModelConditions(prior=prior, text_pooled=torch.zeros(2, 4))
    assert cond.with_drops(text=True, audio=False).drop_prior.all()  # guided like the text
    with pytest.raises(InputError, match="prior"):
        ModelConditions(prior=torch.zeros(2, 5, 3)).check(2, 12, FEATURE_DIM)


# ---- generation with priors ----------------------------------------------------------------


@pytest.fixture(scope="module")
def rag_checkpoint(tmp_path_factory):
    from tests.test_pipeline import make_checkpoint

    return make_checkpoint(tmp_path_factory.mktemp("ck") / "rag", prior=True)


def test_pipeline_generates_from_retrieved_phrases(rag_checkpoint, index):
    from motiongen import Pipeline

    pipe = Pipeline.from_pretrained(rag_checkpoint, text_encoder=FakeEncoder())
    pipe.use_index(index)
    pipe.retriever.encoders = encoders()
    with_rag = pipe("a person waves", rag=True, seed=3, seconds=3.0, steps=2)
    plain = pipe("a person waves", seed=3, seconds=3.0, steps=2)
    assert with_rag.positions.shape == plain.positions.shape == (60, NUM_JOINTS, 3)
    assert not np.allclose(with_rag.positions, plain.positions, atol=1e-4)
    listed = with_rag.meta["retrieved"]
    assert [p["text"] for p in listed[:2]] == ["a person waves"] * 2
    assert sum(p["weight"] for p in listed[:2]) > 0.99  # the softmax favours the matches
    assert sum(p["weight"] for p in listed) == pytest.approx(1.0, abs=1e-3)
    assert "retrieved" not in plain.meta
    # Longer than the model's window: the prior is sliced window by window.
    long = pipe("a person waves", rag=True, seed=3, seconds=14.0, steps=1)
    assert long.num_frames == 280 and np.isfinite(long.positions).all()
    # Nothing close in the index: generated without a prior, and the warning says so.
    pipe.retriever.min_similarity = 0.999
    lone = pipe("a completely unrelated request", rag=True, seconds=2.0, steps=1, seed=1)
    assert (
        lone.meta["retrieved"] == []
        and "generated without a retrieved prior" in lone.meta["warning"]
    )
    same = pipe("a completely unrelated request", seconds=2.0, steps=1, seed=1)
    assert np.allclose(lone.positions, same.positions)


def test_rag_needs_a_prior_input_and_an_index(tmp_path, rag_checkpoint, monkeypatch):
    from motiongen import Pipeline
    from tests.test_pipeline import make_checkpoint

    plain = Pipeline.from_pretrained(
        make_checkpoint(tmp_path / "plain"), text_encoder=FakeEncoder()
    )
    with pytest.raises(InputError, match="no retrieval-prior input"):
        plain("a person waves", rag=True)
    monkeypatch.setenv("MOTIONGEN_INDEX", str(tmp_path / "no-index"))
    pipe = Pipeline.from_pretrained(rag_checkpoint, text_encoder=FakeEncoder())
    with pytest.raises(DataNotFoundError, match="motiongen index build"):
        pipe("a person waves", rag=True)
    from motiongen.generation.rag import make_retriever

    takes = tmp_path / "my_bvh"  # a folder of the user's motions, not an index
    takes.mkdir()
    (takes / "wave.npy").write_bytes(b"x")  # only its kind counts here
    with pytest.raises(DataNotFoundError, match=r"--folder .*my_bvh -o .*my_bvh_index"):
        make_retriever(takes)
    with pytest.raises(InputError, match="needs a text or music"):
        pipe(None, rag=True)


def test_training_with_priors_grows_the_network_and_uses_other_clips(tmp_path):
    from motiongen.checkpoint import load_checkpoint
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.train import config_from_dict, train
    from tests.test_train import SYNTH_CLIPS, tiny_config

    synth = tmp_path / "synth"
    prepare_synthetic(synth, SYNTH_CLIPS, seed=0)
    cfg = tiny_config(synth, tmp_path / "run", conditioning={
        "audio": False, "text": True, "rag_index": "train", "rag_n": 3, "p_prior": 0.3,
    })  # fmt: skip
    result = train(config_from_dict(cfg))
    ck = load_checkpoint(result.final if hasattr(result, "final") else tmp_path / "run" / "final")
    assert ck.model.config.prior_dim == FEATURE_DIM
    assert (synth / "rag_index_train" / "index.faiss").is_file()


def test_a_sentence_transformers_cross_encoder_plugs_in(index, tmp_path):
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from motiongen.conditioning.text import default_model_dir
    from motiongen.retrieval.rerank import CrossEncoderReranker, load_reranker

    # A tiny CrossEncoder folder made here (nothing is downloaded): any such folder works.
    tok = AutoTokenizer.from_pretrained(str(default_model_dir()))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1,
                     num_attention_heads=2, intermediate_size=64, num_labels=1)  # fmt: skip
    BertForSequenceClassification(cfg).save_pretrained(tmp_path / "ce")
    tok.save_pretrained(tmp_path / "ce")
    reranker = load_reranker(tmp_path / "ce")
    assert isinstance(reranker, CrossEncoderReranker)
    r = Retriever(index, encoders=encoders(), reranker=reranker, k=6, n=3)
    hits = r.search("a person waves")
    assert len(hits) == 3 and all(0.0 <= h.score <= 1.0 for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_training_priors_never_use_the_windows_own_clip(index):
    from motiongen.features import NormStats
    from motiongen.retrieval.training import TrainingPriors

    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    texts = ["a person waves", "a person bows"]
    priors = TrainingPriors(index, texts, norm, fps=FPS, n=3, fetch=8, encoders=encoders())
    rng = np.random.default_rng(0)
    for _ in range(20):
        chosen = priors.choose("clip0", "a person waves", rng)
        assert chosen and all(index.phrases[i].clip != "clip0" for i in chosen)
        spans = [span_key(index.phrases[i]) for i in chosen]
        assert len(set(spans)) == len(spans)
    # The only other "waves" clip is clip4: it comes first.
    assert index.phrases[priors.choose("clip0", "a person waves", rng)[0]].clip == "clip4"
    out = priors("clip0", "a person waves", 40, 0.0, rng)
    assert out.shape == (40, FEATURE_DIM) and np.isfinite(out).all()


def test_training_priors_read_their_search_cache_back(index, tmp_path):
    from motiongen.features import NormStats
    from motiongen.retrieval.training import TrainingPriors

    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    texts = [f"a person waves {i}" for i in range(50)]
    first = TrainingPriors(index, texts, norm, fps=FPS, fetch=8, encoders=encoders(),
                           cache_dir=tmp_path)  # fmt: skip
    assert len(list(tmp_path.glob("rag_hits_*.npz"))) == 1
    again = TrainingPriors(index, texts, norm, fps=FPS, fetch=8, encoders=encoders(),
                           cache_dir=tmp_path)  # fmt: skip
    for t in texts:
        np.testing.assert_array_equal(first.hits[t][0], again.hits[t][0])
        np.testing.assert_array_equal(first.hits[t][1], again.hits[t][1])
    # the rows share one array (a copy per text took 24 GB on the real data's 20 k texts)
    assert len({id(again.hits[t][0].base) for t in texts}) == 1


def test_review_fixes_tempo_exclusions_small_pq_and_music_only(index, rag_checkpoint, tmp_path):
    from motiongen import Pipeline
    from motiongen.retrieval.vectors import StatsScaler, VectorLayout

    # A music tempo orders equally similar phrases by closeness of tempo.
    for i, p in index.phrases.items():
        p.tempo = 60.0 + 10 * i
    r = Retriever(index, encoders=encoders(), k=4, n=4)
    hits = r.search("a person waves", tempo=70.0)
    assert hits[0].phrase.tempo == 70.0 or abs(hits[0].phrase.tempo - 70) <= abs(
        hits[1].phrase.tempo - 70
    )
    # A lone clip name (or a list of names) excludes that clip from every query.
    assert all(
        h.phrase.clip != "clip0"
        for h in index.search(r.query_vector("a person waves")[0], 8, exclude_clips="clip0")[0]
    )
    assert all(
        h.phrase.clip not in ("clip0", "clip4")
        for h in index.search(
            r.query_vector("a person waves")[0], 8, exclude_clips=["clip0", "clip4"]
        )[0]
    )
    # 8-bit product quantisation needs 256 vectors: a clear error, not a faiss crash.
    small = MotionIndex(
        VectorLayout(32, 0), StatsScaler(np.zeros(5), np.ones(5)), kind="ivfpq", nlist=2
    )
    with pytest.raises(InputError, match="at least 256 vectors"):
        small.train(np.ones((50, small.dim), dtype=np.float32))
    # Music without a prompt: the network never saw a prior without a text.
    pipe = Pipeline.from_pretrained(rag_checkpoint, text_encoder=FakeEncoder()).use_index(index)
    from tests.serve_helpers import write_song

    song = write_song(tmp_path / "song.wav", seconds=3.0)
    m = pipe(None, song, rag=True, seconds=2.0, steps=1, seed=0)
    assert m.meta["retrieved"] == [] and "needs a prompt" in m.meta["warning"]


def test_a_training_index_from_other_data_is_rebuilt(tmp_path):
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.features import NormStats
    from motiongen.retrieval.training import training_priors
    from motiongen.train import config_from_dict
    from tests.test_train import tiny_config

    prepare_synthetic(tmp_path / "p", 8, seed=0)
    cfg = config_from_dict(tiny_config(tmp_path / "p", tmp_path / "run", conditioning={
        "text": True, "audio": False, "rag_index": "train"}))  # fmt: skip
    norm = NormStats(mean=np.zeros(FEATURE_DIM, np.float32), std=np.ones(FEATURE_DIM, np.float32))
    first = training_priors(cfg, ["a person walks"], norm, tmp_path / "p")
    assert first.index.source["splits"] == ["train"] and first.index.source["fingerprint"]
    stale = MotionIndex.load(tmp_path / "p" / "rag_index_train")
    stale.source = {"fingerprint": "other data", "splits": ["train"], "fps": 20.0}
    stale.save(tmp_path / "p" / "rag_index_train")
    again = training_priors(cfg, ["a person walks"], norm, tmp_path / "p")
    assert again.index.source == first.index.source  # rebuilt from the data at hand


def test_retrieval_without_a_named_model_runs_on_one_with_a_prior():
    from motiongen.checkpoint import DEFAULT_MODEL, rag_model_for, rag_model_names

    able = rag_model_names()
    assert "tiny-rag" in able and "tiny-ddim" not in able
    assert rag_model_for() == (DEFAULT_MODEL if DEFAULT_MODEL in able else "tiny-rag")
    assert rag_model_for("tiny-ddim") == "tiny-rag"  # no prior input: the shipped RAG model


def test_a_model_that_retrieves_by_default_does_so_for_prompts_without_music(
    tmp_path, index, monkeypatch
):
    from motiongen import Pipeline
    from tests.serve_helpers import write_song
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "auto", prior=True, retrieval=True)
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(index)
    pipe.retriever.encoders = encoders()
    auto = pipe("a person waves", seed=3, seconds=3.0, steps=2)
    assert [p["text"] for p in auto.meta["retrieved"][:2]] == ["a person waves"] * 2
    forced = pipe("a person waves", rag=True, seed=3, seconds=3.0, steps=2)
    assert np.allclose(auto.positions, forced.positions)
    off = pipe("a person waves", rag=False, seed=3, seconds=3.0, steps=2)
    assert "retrieved" not in off.meta and not np.allclose(off.positions, auto.positions, atol=1e-4)
    # With music the dance is the model's own (retrieval cost dances their fit on val).
    song = write_song(tmp_path / "song.wav", seconds=3.0)
    danced = pipe("a person waves", song, seconds=2.0, steps=1, seed=0)
    assert "retrieved" not in danced.meta
    with pytest.raises(InputError, match="rag must be true, false or None"):
        pipe("a person waves", rag="yes")
    # No index on this machine: the model alone, and a note on how to build one (no error).
    monkeypatch.setenv("MOTIONGEN_INDEX", str(tmp_path / "no-index"))
    bare = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder())
    alone = bare("a person waves", seed=3, seconds=3.0, steps=2)
    assert np.allclose(alone.positions, off.positions)
    assert "motiongen index build" in alone.meta["retrieval_note"]
    assert "retrieved" not in alone.meta
    # A model whose config does not say so never retrieves unasked.
    plain = Pipeline.from_pretrained(make_checkpoint(tmp_path / "plain", prior=True),
                                     text_encoder=FakeEncoder()).use_index(index)  # fmt: skip
    assert "retrieved" not in plain("a person waves", seconds=2.0, steps=1, seed=0).meta


def test_the_default_retrieval_survives_a_damaged_or_unusable_index(tmp_path, monkeypatch):
    from motiongen import Pipeline
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "auto", prior=True, retrieval=True)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("index.faiss", "motions.npz", "phrases.json"):
        (broken / name).write_bytes(b"not what it should be")
    monkeypatch.setenv("MOTIONGEN_INDEX", str(broken))
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder())
    first = pipe("a person waves", seconds=2.0, steps=1, seed=0)
    assert first.meta["retrieval_note"].startswith("generated without retrieval")
    assert "retrieved" not in first.meta and np.isfinite(first.positions).all()
    again = pipe("a person bows", seconds=2.0, steps=1, seed=0)  # not re-read, same note
    assert again.meta["retrieval_note"] == first.meta["retrieval_note"]
    with pytest.raises(MotionGenError, match="rebuild"):  # asked for: a clear error
        pipe("a person waves", rag=True, seconds=2.0, steps=1, seed=0)
    # Nothing in the index close enough: the model alone, a note rather than a warning.
    lone = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(
        build_index(*corpus(), encoders=encoders())
    )
    lone.retriever.encoders = encoders()
    lone.retriever.min_similarity = 0.999
    alone = lone("a completely unrelated request", seconds=2.0, steps=1, seed=1)
    assert "retrieved" not in alone.meta and "warning" not in alone.meta
    assert "generated without a retrieved prior" in alone.meta["retrieval_note"]


def test_the_retrieval_flag_of_a_checkpoint_is_a_boolean():
    from motiongen.checkpoint import ConditioningSpec

    spec = dict(text_model=None, text_dim=0, max_tokens=64, audio_dim=0, fps=20.0, window=48)
    assert ConditioningSpec(**spec).retrieval is False
    with pytest.raises(FormatError, match="retrieval"):
        ConditioningSpec(**spec, retrieval="yes")


# ---- the length of a prompt without one ----------------------------------------------------


def lengths_index() -> MotionIndex:
    """Waves recorded 40 frames long, bows 100: the phrases say how long each action lasts."""
    phrases, motions = [], {}
    for c in range(6):
        text, frames = ("a person waves", 40) if c % 2 == 0 else ("a person bows", 100)
        pos = waving(frames, hz=1.0 + c % 2) + 0.01 * c
        for p in cut_phrases(pos, FPS, clip=f"clip{c}", text=text, labels={"content": text}):
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
    return build_index(phrases, motions, encoders=encoders())


def test_typical_frames_are_the_weighted_median_of_the_hits_lengths():
    r = Retriever(lengths_index(), encoders=encoders(), k=4, n=3)
    assert abs(r.typical_frames("a person waves", fps=FPS) - 40) <= 2
    assert abs(r.typical_frames("a person bows", fps=FPS) - 100) <= 2
    assert abs(r.typical_frames("a person bows", fps=FPS / 2) - 50) <= 1  # frames at that rate
    r.clear_cache()
    calls = []
    original = r.search
    r.search = lambda *a, **k: calls.append(1) or original(*a, **k)  # type: ignore[method-assign]
    r.typical_frames("a person waves", fps=FPS)
    r.prior("a person waves", frames=30, fps=FPS)  # the length's search, reused
    assert len(calls) == 1


def test_typical_frames_of_a_tie_is_the_shorter_and_ignore_negligible_phrases():
    import dataclasses

    from motiongen.retrieval.index import Hit

    r = Retriever(lengths_index(), encoders=encoders())
    base = next(iter(r.index.phrases.values())) if isinstance(r.index.phrases, dict) else (
        r.index.phrases[0])  # fmt: skip
    hits = [  # two phrases of one clip at 0.5 each, three others of no weight
        Hit(i, score, dataclasses.replace(base, start=0, stop=frames))
        for i, (score, frames) in enumerate([(1.0, 72), (1.0, 167), (0.2, 80), (0.2, 90), (0.2, 97)])
    ]  # fmt: skip
    r._cached_search = lambda *a, **k: hits  # type: ignore[method-assign]
    assert r.typical_frames("a person kicks", fps=base.fps) == 72
    # phrases of different actions, none with half the weight: their lengths say nothing
    other = dataclasses.replace(base, labels={"content": "a person bows"}, text="a person bows")
    split = [Hit(0, 1.0, base), Hit(1, 1.0, other), Hit(2, 0.99, dataclasses.replace(
        base, labels={"content": "a person runs"}, text="a person runs"))]  # fmt: skip
    r._cached_search = lambda *a, **k: split  # type: ignore[method-assign]
    with pytest.raises(NoMatch, match="do not agree"):
        r.typical_frames("a person jumps", fps=base.fps)


def test_a_prompt_without_seconds_lasts_as_long_as_its_phrases(tmp_path, monkeypatch):
    from motiongen import Pipeline
    from tests.serve_helpers import write_song
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "auto", prior=True, retrieval=True)
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(lengths_index())
    pipe.retriever.encoders = encoders()
    waves, bows = pipe("a person waves", seed=0, steps=1), pipe("a person bows", seed=0, steps=1)
    assert abs(waves.num_frames - 40) <= 2 and abs(bows.num_frames - 100) <= 2
    assert waves.meta["length_from"] == "retrieved phrases"
    asked = pipe("a person waves", seconds=3.0, seed=0, steps=1)  # a length asked for is kept
    assert asked.num_frames == 60 and "length_from" not in asked.meta
    assert "warning" not in asked.meta  # 2 s of takes fit in 3 s
    monkeypatch.setattr("motiongen.retrieval.prior.ONE_SHOT", frozenset({"a person bows"}))
    short = pipe("a person bows", seconds=1.0, seed=0, steps=1)  # takes of 5 s: cut off
    assert "1.0 s is short for this action" in short.meta["warning"]
    assert short.meta["warning"].endswith("leave out the length (seconds) to get the action's own")
    assert "length_warning" not in short.meta and "length_short" not in short.meta
    again = pipe.run_request(pipe.check_request("a person bows", seconds=1.0, seed=0, steps=1))
    assert again.meta["warning"] == short.meta["warning"]  # said once, whichever way
    waves = pipe("a person waves", seconds=0.5, seed=0, steps=1)  # repeating: no warning
    assert "warning" not in waves.meta
    plain = pipe("a person waves", rag=False, seed=0, steps=1)  # nothing retrieved: 6.5 s
    assert plain.num_frames == 130 and plain.meta["length_from"] == "default"
    song = write_song(tmp_path / "song.wav", seconds=8.0)  # with music: 6.5 s as before
    assert pipe("a person waves", song, seed=0, steps=1).num_frames == 130


def test_timeline_segments_without_seconds_last_as_long_as_their_phrases(tmp_path):
    from motiongen import Pipeline
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "auto", prior=True, retrieval=True)
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(lengths_index())
    pipe.retriever.encoders = encoders()
    made = pipe.check_compose("a person waves, then bows", seed=0, steps=1)
    (wave, wave_frames), (bow, bow_frames) = made.segments
    assert abs(wave_frames - 40) <= 2 and abs(bow_frames - 100) <= 2
    assert made.meta["segment_lengths_from"] == ["retrieved phrases"] * 2
    listed = pipe.check_compose([("a person waves", None), ("a person bows", 2.0)], steps=1)
    assert [n for _, n in listed.segments][1] == 40 and abs(listed.segments[0][1] - 40) <= 2
    assert listed.meta["segment_lengths_from"] == ["retrieved phrases", "asked"]
    shared = pipe.check_compose("a person waves, then bows", seconds=6.0, steps=1)
    assert [n for _, n in shared.segments] == [60, 60] and "segment_lengths_from" not in shared.meta
    bare = Pipeline.from_pretrained(make_checkpoint(tmp_path / "bare"), text_encoder=FakeEncoder())
    plain = bare.check_compose("a person waves, then bows", steps=1)  # no index: 4 s each
    assert [n for _, n in plain.segments] == [80, 80]
    assert plain.meta["segment_lengths_from"] == ["default"] * 2
    spaced = pipe.check_compose([(" a person waves ", None), ("a person bows", 2.0)], steps=1)
    assert spaced.meta["segment_lengths_from"] == ["retrieved phrases", "asked"]
    # a segment model that cannot load gives no length (4 s), nor an error for one segment
    one = bare.check_compose("a person waves", segment_model=str(tmp_path / "missing"), steps=1)
    assert [n for _, n in one.segments] == [80]
    # a segment is sought as it will be said (a timeline's style in words): an elderly raise
    # sought unstyled got 2 s, then warned that elderly raises last 4.8
    record: dict[str, str] = {}
    said = pipe._typical_seconds(None, {}, record, say=lambda t: t.replace("waves", "bows"))
    assert abs(said("a person waves") - 5.0) < 0.15
    assert record == {"a person waves": "retrieved phrases"}


def test_a_prior_start_samples_from_the_retrieved_prior(tmp_path, monkeypatch):
    from motiongen import Pipeline
    from motiongen.checkpoint import read_config
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "start", prior=True, retrieval=True)
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(lengths_index())
    pipe.retriever.encoders = encoders()
    assert pipe.prior_start == read_config(folder).conditioning.prior_start == 0.0
    prior = pipe.retriever.prior("a person bows", frames=100, fps=FPS).positions

    def off(start: float) -> float:
        pipe.prior_start = start
        made = pipe("a person bows", seconds=5.0, seed=0, steps=4, postprocess=False)
        assert made.meta.get("prior_start") == (start or None)
        return float(
            np.abs(made.positions - made.positions[:1, :1] - (prior - prior[:1, :1])).mean()
        )

    assert off(0.9) < 0.5 * off(0.0)
    req = pipe.check_request("a person bows", seconds=5.0, seed=0, steps=4)
    pipe.prior_start = 0.0
    from_noise = pipe.request_cost(req)
    pipe.prior_start = 0.5  # the service's budget counts the 2 steps taken, not the grid's 4
    assert pipe.request_cost(req) == from_noise // 2 > 0
    plain = pipe("a person bows", seconds=5.0, seed=0, steps=4, rag=False)  # no prior: noise
    assert "prior_start" not in plain.meta
    # phrases that disagree on the action: the prior is only the network's input
    pipe.prior_start = 0.9
    pipe.retriever.clear_cache()
    pipe.retriever.builder.temperature = 100.0  # every hit weighs the same: 3 bows, 2 waves
    prior_now = pipe.retriever.prior("a person bows", frames=100, fps=FPS)
    assert prior_now.agreement == pytest.approx(0.6, abs=0.01) and pipe.starts_from(prior_now)
    monkeypatch.setattr("motiongen.retrieval.prior.AGREEMENT", 0.7)
    mixed = pipe("a person bows", seconds=5.0, seed=0, steps=4)
    assert not pipe.starts_from(prior_now)
    assert "prior_start" not in mixed.meta and mixed.meta["retrieved"]


def test_a_prior_agrees_when_most_of_its_weight_does_one_action():
    from motiongen.retrieval.prior import Prior

    def prior(*phrases: tuple[str, float]) -> Prior:
        return Prior(np.zeros((4, FEATURE_DIM), np.float32),
                     [{"label": label, "weight": w} for label, w in phrases])  # fmt: skip

    # "a man backs up slowly": one backwards walk and four runs; sampled from, he ran forwards
    backs = prior(("walk-back|active", 0.21), *[("run|exhausted", 0.1975)] * 4)
    assert backs.agreement == pytest.approx(0.21, abs=1e-3) and not backs.agrees
    kick = prior(("kick|normal", 0.5), ("kick|normal", 0.5))  # one clip's two phrases
    bye = prior(("bye|not-confident", 0.77), ("byebye|not-confident", 0.16), ("bye|sad", 0.07))
    assert kick.agrees and bye.agreement == pytest.approx(0.84) and bye.agrees
    texts = Prior(np.zeros((4, FEATURE_DIM), np.float32),
                  [{"text": "a person bows", "weight": 0.6}, {"text": "a person waves", "weight": 0.4}])  # fmt: skip
    assert texts.agreement == pytest.approx(0.6)  # no labels (a user's index): by text
    assert Prior(np.zeros((4, FEATURE_DIM), np.float32)).agrees


def test_a_start_is_drawn_by_seed_among_the_phrases_doing_the_action():
    from motiongen.retrieval.prior import Prior

    phrases = [{"label": "wave|normal", "weight": 0.3}, {"label": "wave|normal", "weight": 0.3},
               {"label": "bow|normal", "weight": 0.4}]  # fmt: skip
    starts = {i: np.full((4, FEATURE_DIM), float(i), np.float32) for i in range(3)}
    prior = Prior(np.zeros((4, FEATURE_DIM), np.float32), phrases, starts)
    drawn = {float(prior.start_for(np.random.default_rng([s, 0]))[0, 0]) for s in range(40)}
    assert drawn == {2.0}  # the best phrase's action (bow): the waves are another action
    phrases[2]["label"] = "wave|normal"  # all three wave, in one style: each drawn
    drawn = [float(prior.start_for(np.random.default_rng([s, 0]))[0, 0]) for s in range(60)]
    assert set(drawn) == {0.0, 1.0, 2.0} and drawn.count(2.0) > drawn.count(0.0)
    again = [float(prior.start_for(np.random.default_rng([s, 0]))[0, 0]) for s in range(60)]
    assert drawn == again  # the seed decides
    assert prior.start_for(np.random.default_rng(0)) is not None
    assert np.array_equal(Prior(prior.features).start_for(np.random.default_rng(0)), prior.features)
    phrases[0]["label"] = "wave|sad"  # another style of the action: not drawn
    assert 0.0 not in {
        float(prior.start_for(np.random.default_rng([s, 0]))[0, 0]) for s in range(40)
    }


def test_a_blend_of_two_priors_starts_between_them_and_at_its_ends_from_each_alone():
    from motiongen.retrieval.prior import BlendedPrior, Prior

    def prior(values: list[float], style: str) -> Prior:
        phrases = [{"label": f"walk|{style}", "weight": 1.0} for _ in values]
        starts = {i: np.full((4, FEATURE_DIM), v, np.float32) for i, v in enumerate(values)}
        return Prior(np.full((4, FEATURE_DIM), 5.0, np.float32), phrases, starts)

    happy, sad = prior([1.0, 2.0, 3.0], "happy"), prior([10.0, 20.0, 30.0], "sad")
    for seed in range(10):
        alone = [float(p.start_for(np.random.default_rng([seed, 0]))[0, 0]) for p in (happy, sad)]
        for w in (0.0, 0.3, 1.0):
            mixed = BlendedPrior(happy, sad, w).start_for(np.random.default_rng([seed, 0]))
            assert float(mixed[0, 0]) == pytest.approx((1 - w) * alone[0] + w * alone[1])
    both = BlendedPrior(happy, sad, 0.5)
    assert both.agrees and both.frames == 4 and len(both.phrases) == 6
    np.testing.assert_allclose(both.features, 5.0)
    with pytest.raises(ValueError, match="one length"):
        BlendedPrior(happy, Prior(np.zeros((6, FEATURE_DIM), np.float32)), 0.5)


# ---- left and right ----------------------------------------------------------------------


def test_sides_asked_for_and_sides_moved():
    from motiongen.retrieval.sides import asked_side, leading_side, moving_side, names_a_side
    from motiongen.skeleton import JOINT_INDEX

    assert asked_side("a person kicks with the right leg") == ("right", "leg")
    assert asked_side("someone waves his Left hand") == ("left", "arm")
    assert asked_side("a person kicks") is None
    assert asked_side("left foot, then right foot") is None  # both sides: nothing to choose
    assert asked_side("a person turns right") is None  # a direction, not a limb
    assert asked_side("a person stands on the right leg") is None  # the left one is raised
    assert asked_side("raises the right and left hands") is None
    assert asked_side("does not use the left arm") is None
    assert asked_side("hops on his left foot and waves the right hand") == ("right", "arm")
    assert names_a_side("a person walks and turns left") and not names_a_side("a person kicks")
    kick = standing(40)
    kick[10:20, JOINT_INDEX["left_ankle"], 1] += 0.6
    assert moving_side(kick, "leg") == "left" and moving_side(kick, "arm") is None
    kick[5:25, JOINT_INDEX["right_wrist"], 1] += 0.3  # an arm swung too, less than the leg
    assert leading_side(kick) == ("left", "leg") and leading_side(standing(40)) is None


def test_a_phrase_of_no_side_is_mirrored_to_the_side_asked_for():
    from motiongen.retrieval.sides import moving_side
    from motiongen.skeleton import JOINT_INDEX

    phrases, motions = [], {}
    for c in range(3):
        pos = standing(60) + 0.01 * c
        pos[20:35, JOINT_INDEX["left_ankle"], 1] += 0.5 + 0.1 * c  # recorded kicking left
        for p in cut_phrases(pos, FPS, clip=f"kick{c}", text="a person kicks",
                             labels={"content": "kick"}):  # fmt: skip
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases += [p, Phrase.from_dict({**p.to_dict(), "mirrored": True})]
    index = build_index(phrases, motions, encoders=encoders())
    r = Retriever(index, encoders=encoders(), k=6, n=3, min_similarity=-1.0)  # fake text vectors
    for side in ("left", "right"):
        hits = r.search(f"a person kicks with the {side} leg")
        assert [moving_side(r.index.motion(h.id), "leg") for h in hits] == [side] * len(hits)
    plain = r.search("a person kicks")  # no side asked: the side the best phrase kicks with
    assert len({span_key(h.phrase) for h in plain}) == len(plain)
    first = moving_side(r.index.motion(plain[0].id), "leg")
    assert [moving_side(r.index.motion(h.id), "leg") for h in plain] == [first] * len(plain)
    # a side said in words asked_side cannot read, or both sides: the phrases as found
    mixed = [h for h in r.index.search(r.query_vector("a person kicks")[0], 6)[0]]
    for said in ("kicks with the leg on the right", "alternates left and right kicks"):
        assert r._on_the_side_asked(said, mixed) == mixed
    # a blow named for its side is that limb's ("a left jab" had reached out with the right)
    hits = r.search("a person does a right kick")
    assert [moving_side(r.index.motion(h.id), "leg") for h in hits] == ["right"] * len(hits)
    # the clips indexed again (same count, new ids): the twins are looked up afresh
    for c in range(3):
        index.remove(index.ids_of_clips([f"kick{c}"]))
        again = [p for p in phrases if p.clip == f"kick{c}"]
        add_phrases(index, again, {span_key(p): motions[span_key(p)] for p in again}, encoders())
    r.clear_cache()
    hits = r.search("a person kicks with the right leg")
    assert [moving_side(r.index.motion(h.id), "leg") for h in hits] == ["right"] * len(hits)


def test_a_prompt_naming_no_direction_keeps_the_phrases_that_go_straight():
    from types import SimpleNamespace

    from motiongen.retrieval.travel import names_a_direction, straight_ahead

    def hit(text: str) -> SimpleNamespace:
        return SimpleNamespace(phrase=SimpleNamespace(text=text))

    hits = [hit("a person walks forward angrily"), hit("a person walks to the left angrily"),
            hit("a person walks backwards angrily"), hit("a person walks and turns right")]  # fmt: skip
    kept = straight_ahead("a person walks angrily", hits)
    assert [h.phrase.text for h in kept] == ["a person walks forward angrily"]
    assert straight_ahead("a person walks forward", hits) == kept  # "forward" is straight on
    for directed in ("a person walks to the left", "someone backs away", "a man turns around",
                     "a person walks left angrily", "a person backpedals", "a person side steps",
                     "walks counterclockwise", "walks leftward", "zig zag"):  # fmt: skip
        assert names_a_direction(directed) and straight_ahead(directed, hits) == hits
    # nothing goes straight: the search's order stands, rather than nothing at all
    assert straight_ahead("a person walks", hits[1:]) == hits[1:]
    # a limb's side is not a way to travel: "raises the left hand" is not left out for it
    assert not names_a_direction("a person raises a hand")
    raises = [hit("a person raises the left hand"), hit("a person raises both hands")]
    assert straight_ahead("a person raises a hand", raises) == raises
    points = [hit("a person points to the left"), hit("a person leans backwards")]  # no travel
    assert straight_ahead("a person points", points) == points


# ---- the labels' many wordings ------------------------------------------------------------


@pytest.fixture
def wordings_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIONGEN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "retrieval-wordings"


def named_encoders() -> Encoders:
    """The fake encoders under a name: the wordings of a nameless encoder are not kept."""
    text = FakeEncoder()
    text.name = "fake-text-encoder"
    return Encoders(text, FakeMotionEncoder())


def worded_index() -> MotionIndex:
    """Two labelled actions whose descriptions are single sentences."""
    phrases, motions = [], {}
    for c, (content, text) in enumerate(
        [("call", "a person calls someone over"), ("guide", "a person gestures to guide someone")]
        * 2
    ):
        pos = waving(60, hz=0.5 + c) + 0.01 * c
        labels = {"content": content, "style": "normal"}
        for p in cut_phrases(pos, FPS, clip=f"clip{c}", text=text, labels=labels):
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
    return build_index(phrases, motions, encoders=named_encoders())


def test_a_prompt_in_another_wording_of_a_label_finds_it(wordings_cache):
    from motiongen.data.text import training_phrasings

    index = worded_index()
    assert list(wordings_cache.glob("*.npz"))  # made with the index, not at the first prompt
    # A wording the generator was trained on for "call", not its description (fake text
    # vectors: only the same sentence is similar, so the description alone matches nothing).
    asked = "someone beckons someone to come"
    assert asked in training_phrasings({"content": "call", "style": "normal"})
    # (a label scores the mean of its TOP_WORDINGS closest: one equal sentence of three and
    # fake vectors elsewhere near 0 give about a third)
    r = Retriever(index, encoders=named_encoders(), k=4, n=2, min_similarity=0.2)
    hits = r.search(asked)
    assert hits and all(h.phrase.label == "call|normal" for h in hits)
    assert hits[0].score > 0.25
    # said by "she" instead of "someone": the subject is not what is matched
    assert r.search("she beckons someone to come")[0].phrase.label == "call|normal"
    # a description word for word keeps its own matches
    assert r.search("a person gestures to guide someone")[0].phrase.label == "guide|normal"


def test_wordings_are_made_once_and_read_back(wordings_cache):
    from motiongen.retrieval.wordings import Wordings

    index = worded_index()
    counting = named_encoders()
    calls = []
    embed = counting.embed_texts
    counting.embed_texts = lambda texts: calls.append(len(texts)) or embed(texts)
    first = Wordings.of(index.phrases.values(), counting)
    assert not calls  # build_index made them already
    (cached,) = wordings_cache.glob("*.npz")
    cached.unlink()
    again = Wordings.of(index.phrases.values(), counting)
    assert calls and np.allclose(first.vectors, again.vectors)
    assert Wordings.of(index.phrases.values(), counting, reuse=again) is again
    # a file cut short (a write interrupted) is made again, not an error at every prompt
    (cached,) = wordings_cache.glob("*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    calls.clear()
    assert np.allclose(Wordings.of(index.phrases.values(), counting).vectors, first.vectors)
    assert calls
    # a nameless encoder's vectors are not kept
    before = sorted(wordings_cache.glob("*.npz"))
    Wordings.of(index.phrases.values(), encoders())
    assert sorted(wordings_cache.glob("*.npz")) == before


def test_wordings_leave_out_labels_of_a_side_not_asked():
    from motiongen.retrieval.wordings import Wordings

    labels = ["raise-up-both-hands|normal", "raise-up-left-hand|normal",
              "raise-up-right-hand|normal", "walk|normal"]  # fmt: skip
    w = Wordings(labels, np.arange(4), np.eye(4, dtype=np.float32))
    query = np.array([1.0, 0.2, 0.9, 0.1])  # closest to both hands, then the right hand
    assert set(w.scores(query, "she lifts her left hand up high")) == {labels[1], labels[3]}
    assert set(w.scores(query, "raises both hands")) == {labels[0], labels[3]}
    assert set(w.scores(query, "raises the left and the right hand")) == set(labels)
    assert set(w.scores(query, None)) == set(labels)


def test_a_label_knows_its_side_from_its_name_or_its_words():
    from motiongen.retrieval.wordings import label_sides

    assert label_sides("wave-left-hand|normal") == {"left"}
    assert label_sides("walk-turn-right|sad") == {"right"}
    assert label_sides("byebye|normal") == {"both"}  # "waves goodbye with both hands"
    assert label_sides("bye|happy") == set() and label_sides("") == set()


def test_as_person_says_the_subject_plainly():
    from motiongen.retrieval.wordings import as_person

    assert as_person("She waves goodbye") == "a person waves goodbye"
    assert as_person("a woman bolts forward") == "a person bolts forward"
    assert as_person("someone bows") == "a person bows"
    # a word before the noun is kept (the training texts say a style so: "a sad person")
    assert as_person("a sad woman walks") == "a sad person walks"
    assert as_person("an old man walks") == "an old person walks"
    assert as_person("the heroine waves") == "the heroine waves"
    assert as_person("the figure skater spins") == "the figure skater spins"
    # several words before the noun, and subjects that say a style by themselves
    assert as_person("a very sad woman walks") == "a very sad person walks"
    assert as_person("a happy, energetic man jumps") == "a happy, energetic person jumps"
    assert as_person("a little girl skips") == "a childlike person skips"
    assert as_person("my grandmother bows") == "an old person bows"
    assert as_person("her old grandfather walks") == "an old person walks"
    assert as_person("two people dance") == "two people dance"
    # nouns that are not who moves stay as they are
    assert as_person("a figure-eight walk") == "a figure-eight walk"
    assert as_person("a robot lifts the child") == "a robot lifts the child"
    assert as_person("an adult, not a child, walks") == "an adult, not a child, walks"
    assert as_person("a person picks up a little girl") == "a person picks up a little girl"
    # whose limb it is says no style ("lifts her arms" found the data's feminine raise)
    assert as_person("a woman lifts her arms") == "a person lifts their arms"
    assert as_person("he bows his head") == "a person bows their head"
    assert as_person("lifts her arms") == "lifts their arms"  # no subject: rewritten all the same
    assert as_person("a man lifts her up") == "a person lifts her up"  # an object, not a limb


# ---- words of degree ----------------------------------------------------------------------


def test_words_of_degree_and_speed_are_read():
    from motiongen.retrieval.degree import asked_degree

    assert asked_degree("a person bows deeply") == ("reach", 1)
    assert asked_degree("someone takes a deep bow") == ("reach", 1)
    assert asked_degree("raises the hand a little") == ("reach", -1)
    assert asked_degree("a little girl waves") is None  # "little" describes who, not how much
    assert asked_degree("a big man bows") is None
    assert asked_degree("a person walks quickly") == ("speed", 1)
    assert asked_degree("runs as fast as possible") == ("speed", 1)
    assert asked_degree("a person strolls leisurely") == ("speed", -1)
    assert asked_degree("walks quickly, then slowly") is None  # both ways: no choice
    assert asked_degree("bows deeply and slowly") == ("reach", 1)  # the first said leads
    assert asked_degree("a person waves") is None
    # set phrases, things the words describe, changes of pace and negations are not degrees
    for said in ("takes a deep breath", "gives a high five", "a highly energetic person",
                 "walks far away", "waits a little while, then walks forward", "a bit tired",
                 "a little old lady bows", "walks slowly at first and then speeds up",
                 "bows not too deeply", "a person doesn't bow deeply"):  # fmt: skip
        assert asked_degree(said) is None, said
    assert asked_degree("raises the hand all the way up, slowly") == ("reach", 1)


def test_sides_are_read_only_where_said_of_a_limb_or_a_way():
    from motiongen.retrieval.sides import sides_said

    assert sides_said("she lifts her left hand up high") == {"left"}
    assert sides_said("steps sideways to the left") == {"left"}
    assert sides_said("walks and turns right") == {"right"}
    assert sides_said("waves with both of her hands") == {"both"}
    assert sides_said("raises the left and the right hand") == {"left", "right"}
    assert sides_said("raises his hands right up") == {"both"}  # "right" is no side here
    # a pair said without a side is both (a new user's "raises the hands" raised one)
    assert sides_said("a person raises the hands") == {"both"}
    assert sides_said("waves his arms", "limb") == {"both"}
    assert sides_said("walks to the right and raises the hands", "way") == {"right"}
    assert sides_said("walks to the right and raises the hands", "limb") == {"both"}
    assert sides_said("kicks with the left leg and waves the hands") == {"left"}
    assert sides_said("a person walks without arms") == set()
    # one limb said, or the pair only posed: no "both" (a review)
    for one in ("a person raises one of her arms", "crosses his arms then raises a hand",
                "a person with her hands on her hips waves", "a person hands over a box"):  # fmt: skip
        assert sides_said(one) == set(), one
    # a side said of a way and of a limb counts for both
    assert sides_said("walks to the left and waves the left hand", "way") == {"left"}
    assert sides_said("waves right at the camera") == set()
    assert sides_said("walks right up to the wall") == set()
    assert sides_said("turns right, then left") == {"left", "right"}
    assert sides_said("stands on the left leg and waves") == set()  # not the limb that moves


def test_a_style_is_named_of_the_mover_not_of_what_they_act_on():
    from motiongen.retrieval.wordings import names_a_style

    assert names_a_style("a timid person bows") and names_a_style("a happy old man walks")
    assert names_a_style("a person bows happily to the crowd")
    assert names_a_style("a person walks slowly like an old person")
    assert not names_a_style("a person waves at a huge crowd")
    assert not names_a_style("a person walks toward the old house")
    assert not names_a_style("a person waves")


def _bowing(depth: float, frames: int = 60) -> np.ndarray:
    """Standing, then the head and neck lowered forward by ``depth`` metres and back."""
    from motiongen.skeleton import JOINT_INDEX

    pos = standing(frames)
    bend = depth * np.sin(np.linspace(0, np.pi, frames))
    for name in ("head", "neck"):
        pos[:, JOINT_INDEX[name], 2] += bend
        pos[:, JOINT_INDEX[name], 1] -= bend
    return pos


def test_a_word_of_degree_chooses_the_phrases_that_go_furthest_that_way():
    from motiongen.retrieval.degree import by_degree, reach
    from motiongen.retrieval.index import Hit

    depths = [0.1, 0.5, 0.3, 0.05, 0.4, 0.2]
    motions = {i: _bowing(d) for i, d in enumerate(depths)}
    assert np.argsort([reach(m) for m in motions.values()]).tolist() == np.argsort(depths).tolist()
    hits = [Hit(i, 0.9 - 0.01 * i, Phrase(f"c{i}", 0, 60, FPS, "a person bows",
                                          labels={"content": "bow", "style": f"s{i}"}))
            for i in range(len(depths))]  # fmt: skip
    hits.append(Hit(9, 0.85, Phrase("w", 0, 60, FPS, "waves", labels={"content": "wave"})))
    motions[9] = waving(60)
    content = lambda p: p.labels["content"]  # noqa: E731
    deep = by_degree(hits, ("reach", 1), top=1.0, n=5, motion=motions.get, content=content)
    assert [h.id for h in deep[:2]] == [1, 4]  # the two deepest of six (a third)
    assert deep[0].score == deep[1].score == 0.9  # an equal part of the prior each
    assert all(h.score <= 0.9 - 0.15 + 1e-9 for h in deep[2:] if content(h.phrase) == "bow")
    shallow = by_degree(hits, ("reach", -1), top=1.0, n=5, motion=motions.get, content=content)
    assert [h.id for h in shallow[:2]] == [3, 0]
    # a prompt naming a style chooses within the best phrase's very label
    styled = by_degree(hits, ("reach", 1), top=1.0, n=5, motion=motions.get, content=content,
                       same_label=True)  # fmt: skip
    assert [h.id for h in styled] == [h.id for h in hits]  # its label has one phrase: as found
    # two phrases of the action leave nothing to choose between
    few = by_degree(hits[:2], ("reach", 1), top=1.0, n=5, motion=motions.get, content=content)
    assert [h.id for h in few] == [0, 1]


def test_a_prompt_far_from_the_vocabulary_says_which_takes_it_was_made_from(tmp_path):
    # "jumps up and down excitedly" was said to look like a hand raise (the vocabulary's
    # nearest) and walked: retrieval had started it from a happy walk (a new user's trial).
    from motiongen import Pipeline
    from motiongen.checkpoint import write_vocabulary
    from tests.test_pipeline import make_checkpoint

    folder = make_checkpoint(tmp_path / "far", prior=True, retrieval=True)
    write_vocabulary(folder, {"juggle": ["a person juggles"]})  # random embeddings: far
    pipe = Pipeline.from_pretrained(folder, text_encoder=FakeEncoder()).use_index(lengths_index())
    pipe.retriever.encoders = encoders()
    pipe.prior_start = 0.5
    made = pipe("a person bows", seconds=5.0, seed=0, steps=4)
    assert made.meta["prior_start"] == 0.5 and not made.meta["vocabulary"]["known"]
    started = made.meta["vocabulary"]["started_from"]
    assert started["text"] == made.meta["retrieved"][0]["text"]
    assert f"made from recorded takes of {started['text']!r}" in made.meta["warning"]
    pipe.prior_start = 0.0  # from noise: the nearest known actions, as before
    plain = pipe("a person bows", seconds=5.0, seed=0, steps=4)
    assert "may look like none of them; the nearest known actions" in plain.meta["warning"]


def test_a_side_asked_for_is_kept_when_the_dense_search_found_only_the_other(wordings_cache):
    # A phrase and its mirror share their text vector, so the dense search ties them; for
    # "walks forward and waves with the right hand" it found only mirrored right-hand waves
    # (left-hand ones), and the side filter fell back to them: the left hand waved.
    from motiongen.augment import mirror_label
    from motiongen.retrieval.index import Hit

    phrases, motions = [], {}
    for c in range(3):
        pos = waving(60, side="right") + 0.01 * c
        labels = {"content": "wave-right-hand", "style": "normal"}
        for p in cut_phrases(pos, FPS, clip=f"w{c}", text="a person waves with the right hand",
                             labels=labels):  # fmt: skip
            motions[span_key(p)] = pos[p.start : p.stop]
            twin = Phrase.from_dict({**p.to_dict(), "mirrored": True})
            twin.text = mirror_label(p.text)
            phrases += [p, twin]
    index = build_index(phrases, motions, encoders=named_encoders())
    r = Retriever(index, encoders=named_encoders(), k=4, n=2, min_similarity=-1.0)
    text = "a person walks forward and waves with the right hand"
    vector = r.encoders.embed_texts([text])
    left = [Hit(i, 0.9, p) for i, p in index.phrases.items() if p.mirrored]
    assert {h.phrase.label for h in left} == {"wave-left-hand|normal"}
    out = r._worded(text, vector, left, 1.0, set())
    assert out and {h.phrase.label for h in out} == {"wave-right-hand|normal"}
    # nothing of the side asked anywhere: what was found, rather than nothing at all
    assert r._worded("a person waves with the both hands", vector, left, 1.0, set())


def test_a_side_of_a_way_to_go_leaves_out_ways_and_a_side_of_a_limb_limbs():
    # "walks to the right and raises the hands" had left out the two-hand raise for "right"
    from motiongen.retrieval.wordings import SideFilter

    f = SideFilter("a person walks to the right and raises the hands")
    assert f("walk-left|normal") and not f("raise-up-both-hands|normal")
    f = SideFilter("she lifts her left hand up high")
    assert f("raise-up-both-hands|normal") and f("byebye|normal")  # "with both hands"
    assert not f("raise-up-left-hand|normal") and not f("walk-left|normal")
    f = SideFilter("a person turns left and waves with both hands")
    assert f("wave-left-hand|normal") and not f("walk-turn-left|normal")
    assert not f("byebye|normal")
    assert not SideFilter("a person walks") and not SideFilter("turns right, then left")


def test_a_sample_turns_as_far_as_the_take_it_started_from():
    import torch

    from motiongen.features import ROOT_ROT_VEL, NormStats
    from motiongen.generation.start_heading import follow_start_heading

    fps, T, mean, std = 20.0, 120, 0.01, 0.05
    stats = NormStats(np.full(137, mean), np.full(137, std))
    take = np.zeros((1, T, 137))
    take[0, 40:60, ROOT_ROT_VEL.start] = np.pi / 2 / 20  # a quarter turn over a second
    sway = 0.03 * np.sin(np.arange(T) * 2 * np.pi * 2.0 / fps)  # 2 Hz, the network's own
    own = take.copy()
    own[0, :, ROOT_ROT_VEL.start] += 0.01 + sway  # turning on all along, swaying
    own[0, :, 5] = 1.0  # another channel, left alone
    norm = lambda a: torch.as_tensor((a - mean) / std, dtype=torch.float32)  # noqa: E731
    out = follow_start_heading(norm(own), norm(take), stats, fps).double().numpy()
    steps = out[0, :, ROOT_ROT_VEL.start] * std + mean
    assert np.degrees(steps.sum()) == pytest.approx(90.0, abs=3.0)  # the take's, not 159
    assert np.degrees(np.cumsum(own[0, :, 0]))[-1] > 150
    quick = steps - take[0, :, ROOT_ROT_VEL.start]
    assert np.corrcoef(quick[20:-20], sway[20:-20])[0, 1] > 0.9  # the sway stays
    assert np.allclose(out[0, :, 5] * std + mean, 1.0, atol=1e-5)
    # a take that turns further than the sample (the data's kick spins round) is not followed
    spin = take.copy()
    spin[0, 40:80, ROOT_ROT_VEL.start] = 2 * np.pi / 40
    kept = follow_start_heading(norm(own), norm(spin), stats, fps)
    np.testing.assert_allclose(kept.numpy(), norm(own).numpy(), atol=1e-5)
    both = follow_start_heading(  # a batch: each motion by its own take
        torch.cat([norm(own), norm(own)]), torch.cat([norm(take), norm(spin)]), stats, fps
    )
    np.testing.assert_allclose(both[:1].numpy(), out.astype(np.float32), atol=1e-5)
    np.testing.assert_allclose(both[1:].numpy(), norm(own).numpy(), atol=1e-5)


def test_a_prior_says_how_far_its_takes_turn_round():
    from motiongen.features import ROOT_ROT_VEL
    from motiongen.retrieval.prior import BlendedPrior, Prior

    still = np.zeros((40, FEATURE_DIM), np.float32)
    spin = still.copy()
    spin[:, ROOT_ROT_VEL.start] = np.pi / 20  # a half turn a second, 2 s: 360 degrees
    one = Prior(still, starts={0: still, 1: spin})
    assert one.turn_degrees() == pytest.approx(360 * 39 / 40, abs=1e-3)  # 39 steps counted
    assert Prior(still, starts={0: still}).turn_degrees() == 0.0
    assert BlendedPrior(Prior(still, starts={0: still}), one, 0.5).turn_degrees() == (
        one.turn_degrees()
    )  # a blend may start from either style's takes


def test_a_prompt_naming_no_style_prefers_the_plain_take(wordings_cache, monkeypatch):
    # "a person waves hello to a friend" scored the timid goodbye 0.674 against the plain one's
    # 0.641 and barely moved its hand: a prompt naming no style (nor a subject saying one)
    # asks for the plain take
    from types import SimpleNamespace

    from motiongen.retrieval.retriever import PLAIN_STYLE_BONUS

    phrases, motions = [], {}
    for c, style in enumerate(("normal", "not-confident")):
        pos = waving(60, hz=0.5 + c) + 0.01 * c
        labels = {"content": "bye", "style": style}
        for p in cut_phrases(pos, FPS, clip=f"clip{c}", text="a person waves goodbye",
                             labels=labels):  # fmt: skip
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
    index = build_index(phrases, motions, encoders=named_encoders())
    r = Retriever(index, encoders=named_encoders(), k=4, n=2, min_similarity=0.2)
    scored = {"bye|not-confident": 0.674, "bye|normal": 0.641}
    monkeypatch.setattr(r, "_wordings", lambda: SimpleNamespace(scores=lambda *a, **k: scored))
    vector = r.encoders.embed_texts(["x"])

    def first(text: str) -> str:
        return r._worded(text, vector, [], 1.0, set())[0].phrase.label

    assert PLAIN_STYLE_BONUS > 0.674 - 0.641
    assert first("a person waves hello to a friend") == "bye|normal"
    assert first("a shy person waves hello to a friend") == "bye|not-confident"
    assert first("a little girl waves hello") == "bye|not-confident"  # "a childlike person"
