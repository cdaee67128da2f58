"""Curation: drops with the right reason, length windows, and source/action balancing."""

from __future__ import annotations

import numpy as np
import pytest

from motiongen.data.curation import (
    CurationConfig,
    balance_weights,
    curate,
    reason_key,
    sampled_shares,
    split_windows,
)
from motiongen.data.synthetic import synth_motion
from motiongen.errors import InputError
from motiongen.motion import Motion
from motiongen.skeleton import LEFT_WRIST


def _named(m: Motion, name: str, source: str = "synthetic", content: str | None = None) -> Motion:
    labels = dict(m.labels, source=source)
    if content:
        labels["content"] = content
    return m.copy(name=name, labels=labels)


@pytest.fixture(scope="module")
def walk() -> Motion:
    return synth_motion("walk", "normal", 6.0, seed=0)


def test_bad_motions_dropped_with_the_right_reason(walk):
    frozen = _named(walk.copy(positions=np.repeat(walk.positions[:1], 120, axis=0)), "frozen")
    rng = np.random.default_rng(0)
    jittery = _named(
        walk.copy(positions=walk.positions + rng.normal(0, 0.03, walk.positions.shape)), "jittery"
    )
    pos = walk.positions.copy()
    pos[60:, [LEFT_WRIST, LEFT_WRIST - 2]] += np.array([0.6, 0.0, 0.0], dtype=np.float32)
    exploding = _named(walk.copy(positions=pos), "exploding")
    short = _named(synth_motion("bow", seconds=1.0), "short")  # 20 frames at 20 fps
    sunk = walk.positions.copy()
    sunk[:, :, 1] -= 0.3
    penetrating = _named(walk.copy(positions=sunk), "sunk")
    good = _named(walk, "good")
    res = curate([frozen, jittery, exploding, short, penetrating, good])
    assert res.kept == ["good"]
    assert reason_key(res.drop_reasons["frozen"][0]) == "artifact:static"
    assert "jittery" in res.drop_reasons["jittery"][0]
    assert "explosion" in res.drop_reasons["exploding"][0]
    assert res.drop_reasons["short"][0].startswith("too short: 20 frames")
    assert any("penetration" in r for r in res.drop_reasons["sunk"])
    assert res.summary["dropped"] == 5 and res.summary["drops_by_reason"]["too short"] == 1


def test_good_synthetic_motions_kept_in_both_stages():
    motions = [
        _named(synth_motion(a, s, 4.0, seed=i), f"m{i}")
        for i, (a, s) in enumerate(
            [
                ("walk", "happy"),
                ("wave-left-hand", "sad"),
                ("kick", "normal"),
                ("sit", "tired"),
                ("jump", "fast"),
            ]
        )
    ]
    for stage in ("pretrain", "sft"):
        res = curate(motions, CurationConfig.preset(stage))
        assert res.kept == [m.name for m in motions], res.drop_reasons


def test_lengths_counted_at_20_fps_and_long_clips_cut_into_windows():
    assert split_windows(1300, 500) == [(0, 433), (433, 867), (867, 1300)]
    assert split_windows(500, 500) == [(0, 500)]
    long = _named(synth_motion("walk", "slow", 40.0, fps=30, seed=1), "long")  # 800 frames at 20
    clip = _named(synth_motion("idle", seconds=1.0, fps=30), "thirty")  # 30 frames at 30 fps = 20
    res = curate([long, clip])
    assert res.windows["long"] == [(0, 400), (400, 800)]
    assert all(b - a <= 500 for a, b in res.windows["long"])
    assert "too short" in res.drop_reasons["thirty"][0]


def test_a_glitch_in_a_long_clip_costs_one_window(walk):
    long = synth_motion("walk", "normal", 60.0, seed=2)  # 1200 frames -> 3 windows of 400
    pos = long.positions.copy()
    pos[900, :, 1] += 0.8  # the whole body jumps up for one frame in the last window
    res = curate([_named(long.copy(positions=pos), "glitchy")])
    assert res.kept == ["glitchy"]
    assert res.windows["glitchy"] == [(0, 400), (400, 800)]
    assert list(res.window_drops["glitchy"]) == [2]


def test_source_weights_cap_every_source_at_30_percent(walk):
    sizes = {"big": 12, "mid": 4, "small-a": 1, "small-b": 1, "small-c": 2}
    motions = [_named(walk, f"{src}-{i}", source=src) for src, n in sizes.items() for i in range(n)]
    res = curate(motions, CurationConfig.preset("pretrain"))
    shares = res.summary["sampled_share_by_source"]
    assert max(shares.values()) <= 0.3 + 1e-3
    assert res.summary["frame_share_by_source"]["big"] == pytest.approx(0.6)
    assert max(res.weights.values()) == pytest.approx(1.0)
    assert min(res.weights.values()) > 0  # nothing is deleted for balance
    assert len(res.kept) == 20


def test_weights_with_three_sources_become_equal_shares():
    frames = {"a": 100, "b": 10, "c": 1}
    src = {k: k for k in frames}
    w = balance_weights(frames, [(src, 0.3)])
    shares = sampled_shares(frames, w, src)
    assert all(s == pytest.approx(1 / 3, abs=1e-3) for s in shares.values())


def test_sft_caps_actions_and_synthetic(walk):
    motions = []
    for i in range(10):
        motions.append(_named(walk, f"syn{i}", source="synthetic", content="walk"))
    for src in ("r1", "r2", "r3", "r4"):
        for c in ("walk", "bow", "wave", "kick"):
            motions.append(_named(walk, f"{src}-{c}", source=src, content=c))
    res = curate(motions, CurationConfig.preset("sft"))
    frames = {k: b - a for k, w in res.windows.items() for a, b in w}
    content = {m.name: m.labels["content"] for m in motions}
    source = {m.name: m.labels["source"] for m in motions}
    synthetic = {k: "synthetic" if v == "synthetic" else "real" for k, v in source.items()}
    assert max(sampled_shares(frames, res.weights, content).values()) <= 0.3 + 2e-3
    assert max(sampled_shares(frames, res.weights, source).values()) <= 0.3 + 2e-3
    assert sampled_shares(frames, res.weights, synthetic)["synthetic"] <= 0.4 + 2e-3


def test_presets_and_errors(walk):
    sft = CurationConfig.preset("sft")
    assert (sft.min_quality, sft.max_artifact, sft.max_action_share) == (0.8, 0.35, 0.3)
    pre = CurationConfig.preset("pretrain")
    assert (pre.min_quality, pre.max_artifact, pre.min_frames, pre.max_frames) == (
        0.5,
        0.5,
        25,
        500,
    )
    with pytest.raises(InputError):
        CurationConfig.preset("finetune")
    with pytest.raises(InputError):
        curate([_named(walk, "x"), _named(walk, "x")])


def test_report_counts_and_png(tmp_path, walk):
    from motiongen.data.report import build_report, plot_report
    from motiongen.data.splits import split_table

    frozen = _named(walk.copy(positions=np.repeat(walk.positions[:1], 120, axis=0)), "frozen")
    motions = [frozen] + [
        _named(synth_motion("wave", seconds=3.0, seed=i), f"w{i}") for i in range(4)
    ]
    res = curate(motions)
    report = build_report(motions, curation=res, splits=split_table(motions))
    assert report["totals"]["clips"] == 5 and report["totals"]["dropped_clips"] == 1
    assert report["drops_by_reason"] == {"artifact:static": 1}
    assert report["flags"]["static"] == 1
    assert report["sources"]["synthetic"]["content"] == {"wave-right-hand": 4, "walk": 1}
    assert sum(report["quality_histogram"]["counts"]) == 5
    png = plot_report(report, tmp_path / "r.png")
    assert png.stat().st_size > 10_000


def test_a_turn_take_that_does_not_end_turned_to_its_side_is_dropped(walk: Motion) -> None:
    from motiongen.canonical import rotate_y

    p = walk.positions.astype(np.float64)
    pelvis = p[:, :1] * [1, 0, 1]
    turn = np.linspace(0.0, np.pi / 2, len(p))  # a quarter turn to the left over the take
    left = rotate_y(p - pelvis, turn) + pelvis
    motions = [
        _named(walk.copy(positions=left.astype(np.float32)), "left", content="walk-turn-left"),
        _named(walk.copy(positions=left.astype(np.float32)), "wrong", content="walk-turn-right"),
        _named(walk, "straight", content="walk-turn-left"),
        _named(walk, "plain", content="walk"),  # no rule for a walk
    ]
    res = curate(motions)
    assert res.kept == ["left", "plain"]
    assert res.drop_reasons["wrong"] == [
        "against its label: a walk-turn-right take ending turned -90 degrees to its side (< 45)"
    ]
    assert reason_key(res.drop_reasons["straight"][0]) == "against its label"
    assert res.summary["drops_by_reason"] == {"against its label": 2}


@pytest.mark.realdata
def test_the_real_turn_takes_against_their_label_are_the_six_known(prepared_dir) -> None:
    from motiongen.data.store import PreparedData

    data = PreparedData.open(prepared_dir)
    against = sorted(
        r.name for r in data.select(kept_only=False)
        if any(reason_key(x) == "against its label" for x in r.drop_reasons)
    )  # fmt: skip
    assert against == [
        "dataset-2_walk-turn-left_masculine_006", "dataset-2_walk-turn-left_masculine_007",
        "dataset-2_walk-turn-right_masculine_006", "dataset-2_walk-turn-right_masculine_007",
        "dataset-2_walk-turn-right_normal_032", "dataset-2_walk-turn-right_normal_033",
    ]  # fmt: skip
