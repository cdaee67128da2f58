"""``motiongen predict | inbetween | edit | restyle | compose``: each writes its file with the
given parts kept, and bad input ends in one ``error:`` line, exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from motiongen.conditioning import text as text_module
from motiongen.data.load import load_any
from motiongen.data.synthetic import synth_sequence
from motiongen.motion import Motion
from tests.cli_helpers import error_line, run
from tests.test_pipeline import FakeEncoder, make_checkpoint


@pytest.fixture(autouse=True)
def fake_text_encoder(monkeypatch):
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())


@pytest.fixture(scope="module")
def control(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "control", seed=5, control=True)


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    path = tmp_path_factory.mktemp("motion") / "walk.npz"
    seq = synth_sequence(["walk"], seconds=3.0, seed=0)
    Motion(positions=seq.positions, fps=20.0).save(path)
    return path


def _ok(args, monkeypatch, capsys):
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 0, err
    return out


def test_predict_keeps_the_past(control, walk, tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "more.npz"
    out = _ok(["predict", walk, "-o", out_path, "--seconds", 5, "--text", "a person walks",
               "--checkpoint", control, "--seed", 1, "--steps", 2], monkeypatch, capsys)  # fmt: skip
    assert f"wrote {out_path}" in out and "100 frames" in out and "continuation" in out
    past, result = load_any(walk), load_any(out_path)
    np.testing.assert_allclose(result.positions[:60], past.positions, atol=1e-4)


def test_results_keep_the_input_s_frame_rate_or_take_fps(control, tmp_path, monkeypatch, capsys):
    take = tmp_path / "take30.npz"
    Motion(positions=synth_sequence(["walk"], seconds=3.0, seed=2).resample(30.0).positions,
           fps=30.0).save(take)  # fmt: skip
    common = ["--checkpoint", control, "--seed", 0, "--steps", 2]
    same = tmp_path / "same.npz"
    out = _ok(["predict", take, "-o", same, "--seconds", 4, *common], monkeypatch, capsys)
    assert "120 frames, 4 s at 30 fps" in out
    np.testing.assert_array_equal(load_any(same).positions[:90], load_any(take).positions)
    sixty = tmp_path / "sixty.npz"
    _ok(["edit", take, "-o", sixty, "--text", "a person waves", "--joints", "arms", "--fps", 60,
         *common], monkeypatch, capsys)  # fmt: skip
    assert load_any(sixty).fps == 60.0 and load_any(sixty).num_frames == 180
    code, _, err = run(["predict", take, "-o", same, "--fps", 0, *common], monkeypatch, capsys)
    assert code == 1 and "--fps: frame rate 0 fps is outside" in error_line(err)
    # a .npy holds 20 fps only: said before the model runs (it ran, then was refused)
    npy = tmp_path / "cont.npy"
    code, _, err = run(["predict", take, "-o", npy, "--seconds", 4, *common], monkeypatch, capsys)
    assert code == 1 and "comes back at the input's 30 fps" in error_line(err)
    assert not npy.exists()


def test_inbetween_edit_restyle_compose(control, walk, tmp_path, monkeypatch, capsys):
    common = ["--checkpoint", control, "--seed", 0, "--steps", 2]
    a = tmp_path / "between.npz"
    _ok(["inbetween", walk, walk, "-o", a, "--times", "0,4", "--text", "a person walks", *common],
        monkeypatch, capsys)  # fmt: skip
    keys = load_any(walk).positions
    got = load_any(a).positions
    np.testing.assert_allclose(got[:60], keys, atol=1e-3)
    np.testing.assert_allclose(got[80:140], keys, atol=1e-3)

    # a pose or a piece cut from a file: FILE@SECONDS, FILE@end, FILE@START:END
    cut = tmp_path / "cut.npz"
    _ok(["inbetween", f"{walk}@end", f"{walk}@0.5:1", "-o", cut, "--times", "0,2", *common],
        monkeypatch, capsys)  # fmt: skip
    got = load_any(cut).positions
    np.testing.assert_allclose(got[0], keys[-1], atol=1e-3)
    np.testing.assert_allclose(got[40:51], keys[10:21], atol=1e-3)

    b = tmp_path / "edited.npz"
    _ok(["edit", walk, "-o", b, "--text", "a person waves", "--joints", "arms", *common],
        monkeypatch, capsys)  # fmt: skip
    assert load_any(b).num_frames == 60

    c = tmp_path / "span.npz"
    _ok(["edit", walk, "-o", c, "--text", "a person bows", "--frames", "1:2", *common],
        monkeypatch, capsys)  # fmt: skip
    np.testing.assert_allclose(load_any(c).positions[:15], keys[:15], atol=1e-3)

    d = tmp_path / "sad.npz"
    out = _ok(["restyle", walk, "-o", d, "--text", "a person walks sadly", *common],
              monkeypatch, capsys)  # fmt: skip
    assert "60 frames" in out and d.exists()  # a random network: its bodies are not read back
    out = _ok(["restyle", walk, "-o", d, "--text", "a person walks sadly", "--keep-speed",
               *common], monkeypatch, capsys)  # fmt: skip
    assert "60 frames" in out and "of the motion's speed" not in out
    # an engine's clip from a control result too (restyling a loop had broken it: a trial)
    looped = tmp_path / "sad_loop.npz"
    out = _ok(["restyle", walk, "-o", looped, "--text", "a person walks sadly", "--loop",
               "--no-travel", *common], monkeypatch, capsys)  # fmt: skip
    with np.load(looped) as data:  # a random network's bodies are not read back
        frames = len(data["positions"])
    assert "starting at" in " ".join(out.split()) and 31 <= frames <= 60

    e = tmp_path / "story.npz"
    out = _ok(["compose", "a person walks, then waves", "-o", e, "--seconds", 6, *common],
              monkeypatch, capsys)  # fmt: skip
    assert "120 frames" in out
    f = tmp_path / "segments.npz"
    out = _ok(["compose", "-o", f, "--segment", "a person walks:3", "--segment", "a person runs:2",
               *common], monkeypatch, capsys)  # fmt: skip
    assert "100 frames" in out
    # a segment without seconds lasts as such motions do; a file of them, '#' comments
    listed = tmp_path / "segments.txt"
    listed.write_text("# the walk, then the run\na person walks:3\n\na person runs\n")
    out = _ok(["compose", "-o", f, "--segments", listed, *common], monkeypatch, capsys)
    assert "140 frames" in out  # 3 s and, without a motion index, the default 4 s
    # manner words said as their styles, said (every segment's)
    out = _ok(["compose", "a person walks merrily, then bows gloomily", "-o", f, "--seconds", 4,
               *common], monkeypatch, capsys)  # fmt: skip
    assert "read 'merrily' as 'happily', 'gloomily' as 'sadly'" in " ".join(out.split())


def test_a_segment_item_is_text_with_optional_seconds():
    from motiongen.cli.control import _segment_item
    from motiongen.errors import InputError

    assert _segment_item("a person walks:2.5", "x") == ("a person walks", 2.5)
    assert _segment_item("a person walks", "x") == ("a person walks", None)
    assert _segment_item("a person walks:", "x") == ("a person walks", None)
    assert _segment_item("a person says: hello", "x") == ("a person says: hello", None)
    assert _segment_item("a person walks:3s", "x") == ("a person walks", 3.0)
    with pytest.raises(InputError, match="'a person walks:2,5': after the last ':' give seconds"):
        _segment_item("a person walks:2,5", "--segment")
    # one word right after the colon is a length mistyped, not text (a trial's "walks:abc")
    with pytest.raises(InputError, match="'a person walks:abc': after the last ':' give"):
        _segment_item("a person walks:abc", "--segment")
    assert _segment_item("a person says: hi", "x") == ("a person says: hi", None)


def test_compose_uses_the_timeline_model_by_default(tmp_path, monkeypatch, capsys):
    from motiongen.checkpoint import shipped_model_path
    from motiongen.paths import DEFAULT_TIMELINE_MODEL

    if not (shipped_model_path(DEFAULT_TIMELINE_MODEL) / "config.json").is_file():
        pytest.skip(f"{DEFAULT_TIMELINE_MODEL} is not shipped")
    out = tmp_path / "t.npz"
    _ok(["compose", "a person walks, then bows", "-o", out, "--seconds", 4, "--seed", 0],
        monkeypatch, capsys)  # fmt: skip
    assert load_any(out).meta["checkpoint"] == DEFAULT_TIMELINE_MODEL


def test_edit_and_compose_take_a_segment_model(control, walk, tmp_path, monkeypatch, capsys):
    text = make_checkpoint(tmp_path / "text", seed=9)
    common = ["--checkpoint", control, "--seed", 0, "--steps", 2]
    span = tmp_path / "span.npz"
    _ok(["edit", walk, "-o", span, "--text", "a person bows", "--frames", "1:2.5",
         "--segment-model", text, *common], monkeypatch, capsys)  # fmt: skip
    assert load_any(span).meta["segments_from"] == "text"
    own = tmp_path / "own.npz"
    _ok(["edit", walk, "-o", own, "--text", "a person bows", "--frames", "1:2.5",
         "--segment-model", "self", *common], monkeypatch, capsys)  # fmt: skip
    assert "segments_from" not in load_any(own).meta
    # in place: said where the motion now ends (an animator's trial found it 3 m short, unsaid)
    there = tmp_path / "there.npz"
    out = _ok(["edit", walk, "-o", there, "--text", "a person bows", "--frames", "1:2.5",
               "--in-place", *common], monkeypatch, capsys)  # fmt: skip
    assert "in place: the frames after the span go on from where it stands" in out
    joined = tmp_path / "joined.npz"
    _ok(["compose", "a person walks, then bows", "-o", joined, "--seconds", 4,
         "--segment-model", text, *common], monkeypatch, capsys)  # fmt: skip
    assert joined.exists()  # a random network's joins: the body is not read back
    code, _, err = run(["edit", walk, "-o", own, "--text", "a person bows", "--joints", "legs",
                        "--segment-model", text, *common], monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "leave segment_model out" in error_line(err)
    arms = tmp_path / "arms.npz"  # arms alone: the text model's arms on the walk's body
    _ok(["edit", walk, "-o", arms, "--text", "a person bows", "--joints", "arms",
         "--segment-model", text, *common], monkeypatch, capsys)  # fmt: skip
    assert load_any(arms).meta["segments_from"] == Path(text).name


def test_inbetween_in_place_moves_the_keyframes(control, walk, tmp_path, monkeypatch, capsys):
    far = tmp_path / "far.npz"
    moved = load_any(walk).positions.copy()
    moved[..., 0] += 4.0
    Motion(positions=moved, fps=20.0).save(far)
    out = tmp_path / "ib.npz"
    args = ["inbetween", f"{walk}@0", f"{far}@0", "-o", out, "--times", "0,2", "--checkpoint",
            control, "--seed", 0, "--steps", 2]  # fmt: skip
    code, _, err = run([*args, "--in-place"], monkeypatch, capsys)
    assert code == 0, err and "apart on the ground" not in err
    result = load_any(out).positions
    np.testing.assert_allclose(result[-1, 0, [0, 2]], result[0, 0, [0, 2]], atol=1e-4)


@pytest.mark.parametrize(
    "args, message",
    [
        (["inbetween", "WALK", "-o", "x.npz", "--times", "0,a"], "--times must be numbers"),
        (["inbetween", "WALK@9", "WALK", "-o", "x.npz", "--times", "0,2"], "after @ give seconds"),
        (["inbetween", "WALK@2:1", "WALK", "-o", "x.npz", "--times", "0,2"], "END after START"),
        (["inbetween", "WALK", "-o", "x.npz", "--times", "0,2,"], "--times must be numbers"),
        (["inbetween", "WALK", "WALK", "-o", "x.npz", "--times", "2,1"], "--times) must increase"),
        (["inbetween", "WALK", "WALK", "-o", "x.npz", "--times", "0"], "one time per keyframe"),
        (["restyle", "WALK", "-o", "x.npz", "--style", "sad", "--blend", "sad:0.5"],
         "towards the --style it starts from"),
        (["edit", "WALK", "-o", "x.npz", "--text", "a person bows", "--frames", "1-2"],
         "--frames must be START:END"),
        (["edit", "WALK", "-o", "x.npz", "--text", "a person bows", "--joints", "tail"], "tail"),
        (["compose", "-o", "x.npz"], "give one of: a prompt with 'then', --segment"),
        (["compose", "-o", "x.npz", "--segment", ":3"], "':3' has no text"),
        (["compose", "-o", "x.npz", "--segments", "no_such.txt"], "no such file"),
        (["compose", "a person walks, then bows", "-o", "x.npz", "--segment", "a person runs"],
         "give one of"),
        (["predict", "no_such_clip", "-o", "x.npz"], "no such file"),
        (["predict", "WALK", "-o", "x.npz", "--seconds", 2], "longer than"),
        (["restyle", "WALK", "-o", "x.npz", "--style", "sad"], "no style input"),
        (["restyle", "WALK", "-o", "x.npz", "--style", "sad", "--blend", "happy"], "OTHER:WEIGHT"),
        (["restyle", "WALK", "-o", "x.npz"], "needs a style"),
        (["restyle", "WALK", "-o", "x.npz", "--style", "missing.bvh"], "missing.bvh not found"),
        (["edit", "WALK", "-o", "x.npz", "--text", "a person bows"], "--frames START:END"),
        (["restyle", "WALK", "-o", "x.npz", "--style", ""], "the style is empty"),
        (["compose", "", "-o", "x.npz"], "the prompt is empty"),
        (["predict", "WALK", "-o", "x.npz", "--seconds", -5], "seconds must be between"),
        (["edit", "WALK", "-o", "x.npz", "--text", "a person waves", "--joints", "right_hand"],
         "(did you mean right_wrist?)"),
        (["predict", "WALK", "-o", "x.txt", "--seconds", 9], "unknown extension .txt"),
    ],
)  # fmt: skip
def test_bad_control_input(control, walk, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    args = [f"{walk}{a[4:]}" if str(a).startswith("WALK") else a for a in args]
    args += ["--checkpoint", control]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1
    assert message in error_line(err)
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["restyle", "WALK", "-o", "x.npz"],
        ["restyle", "WALK", "-o", "x.npz", "--style", ""],
        ["compose", "", "-o", "x.npz"],
        ["predict", "WALK", "-o", "x.npz", "--seconds", -5],
        ["predict", "no_such_clip", "-o", "x.npz"],
    ],
)  # fmt: skip
def test_cheap_mistakes_are_said_before_a_model_loads(walk, tmp_path, monkeypatch, capsys, args):
    from motiongen.cli import control as control_cli

    def no_load(*a, **k):
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr(control_cli, "_pipe", no_load)
    monkeypatch.chdir(tmp_path)
    args = [f"{walk}{a[4:]}" if str(a).startswith("WALK") else a for a in args]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and error_line(err).startswith("error:"), err


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "WALK", "-o", "WALK", "--seconds", 8],
        ["inbetween", "WALK@0", "WALK@end", "-o", "WALK", "--times", "0,2"],
        ["edit", "WALK", "-o", "WALK", "--text", "a person bows", "--joints", "arms"],
        ["restyle", "WALK", "-o", "WALK", "--style", "sad"],
    ],
)  # fmt: skip
def test_an_output_that_is_an_input_is_refused(control, walk, tmp_path, monkeypatch, capsys, args):
    before = Path(walk).read_bytes()
    args = [f"{walk}{a[4:]}" if str(a).startswith("WALK") else a for a in args]
    code, _, err = run([*args, "--checkpoint", control], monkeypatch, capsys)
    assert code == 1 and "is also an input" in error_line(err)
    assert Path(walk).read_bytes() == before


def test_a_folder_as_style_is_read_as_a_motion(control, walk, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "takes").mkdir()  # named without a "/": was taken for an unknown style name
    args = ["restyle", walk, "-o", "x.npz", "--style", "takes", "--checkpoint", control]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and "takes is a folder without skeletons.json.gz" in error_line(err)


def test_plain_checkpoint_is_refused(walk, tmp_path, monkeypatch, capsys):
    plain = make_checkpoint(tmp_path / "plain")
    code, _, err = run(["predict", walk, "-o", tmp_path / "x.npz", "--checkpoint", plain],
                       monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "not trained for control" in error_line(err)


def test_control_commands_take_threads(control, walk, tmp_path, monkeypatch, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        out_path = tmp_path / "t.npz"
        _ok(["predict", walk, "-o", out_path, "--seconds", 4, "--checkpoint", control,
             "--steps", 2, "--threads", 1], monkeypatch, capsys)  # fmt: skip
        assert torch.get_num_threads() == 1
        code, _, err = run(["restyle", walk, "-o", out_path, "--style", "sad", "--threads", 0,
                            "--checkpoint", control], monkeypatch, capsys)  # fmt: skip
        assert code == 1 and "--threads must be at least 1" in error_line(err)
    finally:
        torch.set_num_threads(before)


def test_style_names_a_style_for_every_control_command(walk, tmp_path, monkeypatch, capsys):
    # the library and the service took style= on predict / inbetween / edit / compose, the
    # command line only on restyle (a read-through of the thirty-third session)
    common = ["--seed", 0, "--steps", 2]  # the shipped control model: it has styles
    out_path = tmp_path / "styled.npz"
    for args in (["predict", walk, "--seconds", 5, "--text", "a person walks"],
                 ["inbetween", walk, walk, "--times", "0,4"],
                 ["edit", walk, "--text", "a person waves", "--joints", "arms"],
                 ["compose", "a person walks, then waves", "--seconds", 6]):  # fmt: skip
        code, _, err = run([*args, "-o", out_path, "--style", "sadd", *common], monkeypatch, capsys)
        line = error_line(err)
        assert code == 1 and "unknown style 'sadd' (did you mean 'sad'?); known" in line, args
    _ok(["predict", walk, "-o", out_path, "--seconds", 5, "--text", "a person walks",
         "--style", "sad", *common], monkeypatch, capsys)  # fmt: skip
    assert load_any(out_path).meta.get("style") == "sad"


def test_compose_says_where_each_segment_s_length_came_from():
    # a length written in the prompt was said to come from the index with the others, and
    # with --seconds no length was said (a new user's trial)
    from motiongen.cli.control import _segment_lengths_said
    from motiongen.motion import Motion

    def made(sources: list[str] | None, lengths: list[float]) -> Motion:
        meta = {"segments": [[f"part {i}", s] for i, s in enumerate(lengths)]}
        if sources is not None:
            meta["segment_lengths_from"] = sources
        return Motion(positions=np.zeros((2, 22, 3), np.float32), fps=20.0, meta=meta)

    said = _segment_lengths_said(made(["asked", "retrieved phrases"], [3.0, 2.4]), None)
    assert said.startswith("segments of 3.0 (as said), 2.4 s: the others as long as")
    said = _segment_lengths_said(made(["retrieved phrases"] * 2, [2.0, 4.6]), None)
    assert said.startswith("segments of 2.0, 4.6 s: each as long as")
    shared = _segment_lengths_said(made(None, [3.0, 3.0, 3.0]), 9.0)
    assert shared == "segments of 3.0, 3.0, 3.0 s (9 s in all, --seconds)"
    said = _segment_lengths_said(made(["default", "retrieved phrases"], [4.0, 2.4]), None)
    assert said.startswith("segments of 4.0 (none found), 2.4 s: the others as long as")
    assert _segment_lengths_said(made(None, [4.0]), None) is None
