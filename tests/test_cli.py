"""The command line: one clear error line and a non-zero exit for bad input; real-data stats."""

from __future__ import annotations

import io
import json
import lzma
import tarfile
from pathlib import Path

import numpy as np
import pytest

from motiongen.data.synthetic import synth_motion
from tests.cli_helpers import error_line, run


def test_missing_input_file(tmp_path, monkeypatch, capsys):
    code, _, err = run(
        ["render", str(tmp_path / "nope.bvh"), "-o", str(tmp_path / "x.mp4")], monkeypatch, capsys
    )
    assert code != 0
    assert "no such file" in error_line(err)


def test_a_video_is_no_motion_to_read(tmp_path, monkeypatch, capsys):
    # `motiongen score x.mp4` on an MP4 the tool had just written said "unknown extension"
    video = tmp_path / "x.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    code, _, err = run(["score", str(video)], monkeypatch, capsys)
    assert code != 0 and "holds pictures, not joint positions" in error_line(err)


def test_unknown_output_extension(tmp_path, monkeypatch, capsys):
    src = tmp_path / "m.npy"
    np.save(src, synth_motion("walk", seconds=1.0).positions.astype(np.float32))
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "x.docx")], monkeypatch, capsys)
    assert code != 0
    assert "unknown extension" in error_line(err)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--fps", "0.5"], "outside 1..1000 fps"),
        (["--fps", "5000"], "outside 1..1000 fps"),
        (["--seconds", "nan"], "--seconds must be a positive number"),
        (["--seconds", "inf"], "--seconds must be a positive number"),
    ],
)
def test_render_refuses_rates_and_lengths_it_cannot_write(tmp_path, monkeypatch, capsys,
                                                          flags, words):  # fmt: skip
    src = tmp_path / "m.npy"
    np.save(src, synth_motion("walk", seconds=1.0).positions.astype(np.float32))
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "r.bvh"), *flags],
                       monkeypatch, capsys)  # fmt: skip
    assert code != 0 and words in error_line(err)
    assert not (tmp_path / "r.bvh").exists()


def test_render_says_the_frames_a_gif_holds(tmp_path, monkeypatch, capsys):
    from PIL import Image

    src = tmp_path / "m.npz"
    synth_motion("walk", seconds=2.0).resample(30.0).save(src)
    gif = tmp_path / "r.gif"
    code, out, _ = run(["render", str(src), "-o", str(gif)], monkeypatch, capsys)
    assert code == 0 and "40 frames, 2 s at 20 fps" in " ".join(out.split())
    assert Image.open(gif).n_frames == 40


def test_a_bvh_of_a_motion_whose_bones_vary_says_its_joints_shift(tmp_path, monkeypatch, capsys):
    # a dance take's bones drift: written as BVH (one length per bone) its joints moved up to
    # 21 cm, unsaid (a new user's trial)
    from motiongen.skeleton import JOINT_INDEX

    walk = synth_motion("walk", seconds=2.0)
    src, grown = tmp_path / "m.npz", walk.positions.copy()
    wrist, elbow = JOINT_INDEX["left_wrist"], JOINT_INDEX["left_elbow"]
    grown[20:, wrist] += 0.3 * (grown[20:, wrist] - grown[20:, elbow])  # a forearm 30 % longer
    walk.copy(positions=grown).save(src)
    code, out, _ = run(["render", str(src), "-o", str(tmp_path / "r.bvh")], monkeypatch, capsys)
    assert code == 0 and "strays up to" in " ".join(out.split())
    walk.save(src)
    code, out, _ = run(["render", str(src), "-o", str(tmp_path / "r.bvh")], monkeypatch, capsys)
    assert code == 0 and "strays up to" not in " ".join(out.split())


def test_render_starts_where_asked(tmp_path, monkeypatch, capsys):
    from motiongen.data.load import load_any

    src = tmp_path / "m.npz"
    walk = synth_motion("walk", seconds=4.0)
    walk.save(src)
    out_path = tmp_path / "end.npz"
    code, out, _ = run(["render", str(src), "-o", str(out_path), "--start", "3", "--seconds", "0.5"],
                       monkeypatch, capsys)  # fmt: skip
    assert code == 0 and "10 frames, 0.5 s" in " ".join(out.split())
    np.testing.assert_allclose(load_any(out_path).positions, walk.positions[60:70], atol=1e-4)
    code, out, _ = run(
        ["render", str(src), "-o", str(out_path), "--start", "2"], monkeypatch, capsys
    )
    assert code == 0 and "40 frames, 2 s" in " ".join(out.split())
    code, _, err = run(
        ["render", str(src), "-o", str(out_path), "--start", "9"], monkeypatch, capsys
    )
    assert code == 1 and "past the motion's end (4.00 s)" in error_line(err)
    # a contact sheet of an excerpt labels its panels in the whole motion's frames
    import motiongen.io.render as render_module

    seen = {}
    original = render_module.save_png

    def save_png(motion, path, frames=5, *, width=320, height=400, title=None, excerpt=None):
        seen["excerpt"] = excerpt
        return original(motion, path, frames, width=width, height=height, excerpt=excerpt)

    monkeypatch.setattr(render_module, "save_png", save_png)
    sheet = tmp_path / "s.png"
    args = ["render", str(src), "-o", str(sheet), "--start", "3", "--panels", "2"]
    assert run(args, monkeypatch, capsys)[0] == 0 and seen["excerpt"] == (3.0, 4.0)


def test_render_loop_writes_a_loop_without_travel(tmp_path, monkeypatch, capsys):
    src = tmp_path / "m.npz"
    synth_motion("walk", seconds=4.0).save(src)
    out_path = tmp_path / "cycle.npz"
    code, out, err = run(["render", str(src), "-o", str(out_path), "--loop", "--no-travel"],
                         monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    assert "starting at" in " ".join(out.split())
    with np.load(out_path) as data:
        pelvis = data["positions"][:, 0]
    assert 41 <= len(pelvis) <= 80
    np.testing.assert_allclose(pelvis[:, [0, 2]], np.repeat(pelvis[:1, [0, 2]], len(pelvis), 0),
                               atol=1e-5)  # fmt: skip


def test_render_writes_a_bvh_on_the_standard_skeleton(tmp_path, monkeypatch, capsys):
    src = tmp_path / "m.npz"
    synth_motion("walk", seconds=2.0).save(src)
    heads = []
    for name, skeleton in (("own.bvh", "own"), ("std.bvh", "standard")):
        code, _, err = run(["render", str(src), "-o", str(tmp_path / name), "--bvh-skeleton",
                            skeleton], monkeypatch, capsys)  # fmt: skip
        assert code == 0, err
        heads.append((tmp_path / name).read_text().split("MOTION")[0])
    assert heads[0] != heads[1]
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "x.npz"), "--bvh-skeleton",
                        "standard"], monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "--bvh-skeleton is for a .bvh output" in error_line(err)


def test_a_png_is_a_contact_sheet(tmp_path, monkeypatch, capsys):
    # two new users looked for a picture of a motion and found only the Python save_png
    from PIL import Image

    from motiongen.io.render import CONTACT_FRAMES

    src = tmp_path / "m.npz"
    synth_motion("walk", seconds=2.0).save(src)
    png = tmp_path / "r.png"
    code, out, _ = run(["render", str(src), "-o", str(png), "--title", "a walk"], monkeypatch,
                       capsys)  # fmt: skip
    assert code == 0 and f"contact sheet of {CONTACT_FRAMES} evenly spaced frames" in out
    width, height = Image.open(png).size
    assert width >= CONTACT_FRAMES * height * 0.7  # the panels side by side


def test_empty_motion_name_and_a_folder_for_a_script(tmp_path, monkeypatch, capsys):
    code, _, err = run(["render", "", "-o", str(tmp_path / "x.bvh")], monkeypatch, capsys)
    assert code != 0 and "no motion given" in error_line(err)
    code, _, err = run(["story", str(tmp_path), "-o", str(tmp_path / "x.mp4")], monkeypatch, capsys)
    assert code != 0 and "is a folder; give a script file" in error_line(err)


def test_error_lines_keep_brackets(tmp_path, monkeypatch, capsys):
    # rich read "[x, y, c]" as markup and dropped it: "not a list of  numbers"
    src = tmp_path / "kp.json"
    src.write_text(json.dumps({"fps": 20, "frames": [["a"]]}))
    code, _, err = run(["capture", str(src), "-o", str(tmp_path / "c.bvh")], monkeypatch, capsys)
    assert code != 0 and "is not a list of [x, y, c] numbers" in error_line(err)


def test_truncated_bvh(tmp_path, monkeypatch, capsys):
    bvh = tmp_path / "t.bvh"
    bvh.write_text(
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition "
        "Zrotation Xrotation Yrotation\n End Site\n {\n  OFFSET 0 10 0\n }\n}\n"
        "MOTION\nFrames: 3\nFrame Time: 0.0333333\n0 90 0 0 0 0\n0 90 0\n"
    )
    code, _, err = run(["info", str(bvh)], monkeypatch, capsys)
    assert code != 0
    line = error_line(err)
    assert "t.bvh" in line


def test_garbled_bvh(tmp_path, monkeypatch, capsys):
    bvh = tmp_path / "g.bvh"
    bvh.write_bytes(b"\x00\x01garbage\xff not a bvh at all")
    code, _, err = run(["info", str(bvh)], monkeypatch, capsys)
    assert code != 0
    assert "g.bvh" in error_line(err)


def test_wrong_data_dir(tmp_path, monkeypatch, capsys):
    code, _, err = run(
        ["data", "prepare", "--data", str(tmp_path / "missing"), "--cache", str(tmp_path / "c")],
        monkeypatch,
        capsys,
    )
    assert code != 0
    assert "does not exist" in error_line(err)


@pytest.mark.parametrize("kind", ["zero-bytes", "empty-archive"])
def test_empty_tar_is_reported(tmp_path, monkeypatch, capsys, kind):
    tar = tmp_path / "data" / "bandai" / "dataset-2" / "data.tar.xz"
    tar.parent.mkdir(parents=True)
    if kind == "zero-bytes":
        tar.write_bytes(b"")
    else:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w"):
            pass
        tar.write_bytes(lzma.compress(buf.getvalue()))
    code, _, err = run(
        ["data", "prepare", "--data", str(tmp_path / "data"), "--cache", str(tmp_path / "c")],
        monkeypatch,
        capsys,
    )
    assert code != 0
    assert "bandai-2" in error_line(err)


def test_info_json_on_numpy(tmp_path, monkeypatch, capsys):
    from motiongen.skeleton import FOOT_JOINTS, JOINT_INDEX
    from tests.test_core import standing_pose

    src = tmp_path / "m.npy"
    np.save(src, np.repeat(standing_pose()[None], 40, axis=0))
    code, out, _ = run(["info", str(src), "--json"], monkeypatch, capsys)
    assert code == 0
    facts = json.loads(out)
    assert facts["frames"] == 40 and facts["joints"] == 22
    assert facts["lowest_point_m"] == pytest.approx(0.0, abs=1e-6)
    pose = standing_pose()
    head = pose[JOINT_INDEX["head"], 1] - pose[list(FOOT_JOINTS), 1].min()
    assert facts["head_height_m"] == pytest.approx(head, abs=1e-3)
    assert facts["vertical_extent_m"] >= facts["head_height_m"]


def test_a_npy_input_says_the_frame_rate_it_is_read_at(tmp_path: Path, monkeypatch, capsys):
    from tests.test_core import standing_pose

    path = tmp_path / "take.npy"
    np.save(path, np.tile(standing_pose(), (30, 1, 1)).astype(np.float32))
    code, _, err = run(["info", path, "--json"], monkeypatch, capsys)
    assert code == 0 and "read at 20 fps (HumanML3D convention" in " ".join(err.split())
    from motiongen.cli.console import resolve_motion

    resolve_motion(str(path))  # a second keyframe from the same file: said once
    assert "read at" not in capsys.readouterr().err


def test_data_clips_lists_names_to_load(tmp_path: Path, monkeypatch, capsys):
    from motiongen.data.prepare import prepare_synthetic

    data = prepare_synthetic(tmp_path / "prepared", 6, seed=0)
    first = data.clips[0]
    content = first.labels["content"]
    code, out, _ = run(["data", "clips", "--cache", str(data.root), "--content", content,
                        "--json"], monkeypatch, capsys)  # fmt: skip
    assert code == 0
    rows = json.loads(out)
    assert first.name in {r["name"] for r in rows}
    assert all(content in r["content"] for r in rows)
    code, out, _ = run(["data", "clips", "--cache", str(data.root)], monkeypatch, capsys)
    assert code == 0 and all(c.name in out for c in data.select())  # whole names, untruncated
    code, _, err = run(["data", "clips", "--cache", str(data.root), "--content", "flying"],
                       monkeypatch, capsys)  # fmt: skip
    assert code != 0 and "error: no prepared clip matches" in err


@pytest.mark.realdata
def test_data_stats_json_on_shared_data(prepared_dir: Path, monkeypatch, capsys):
    code, out, _ = run(
        ["data", "stats", "--json", "--cache", str(prepared_dir)], monkeypatch, capsys
    )
    assert code == 0
    stats = json.loads(out)["sources"]
    expected = {"bandai-1": (162, 16.5), "bandai-2": (2613, 192.5), "dance": (38, 41.4)}
    for name, (clips, minutes) in expected.items():
        assert stats[name]["clips"] == clips
        assert abs(stats[name]["minutes"] - minutes) / minutes < 0.01


@pytest.mark.realdata
def test_prepare_second_run_reuses_cache(prepared_dir: Path, data_root: Path, monkeypatch, capsys):
    code, out, _ = run(
        ["data", "prepare", "--data", str(data_root), "--cache", str(prepared_dir)],
        monkeypatch,
        capsys,
    )
    assert code == 0
    assert out.startswith("reused")


def test_unknown_skeleton_bvh(tmp_path, monkeypatch, capsys):
    bvh = tmp_path / "robot.bvh"
    bvh.write_text(
        "HIERARCHY\nROOT Base\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition "
        "Zrotation Xrotation Yrotation\n JOINT Arm\n {\n  OFFSET 0 10 0\n  CHANNELS 3 Zrotation "
        "Xrotation Yrotation\n  End Site\n  {\n   OFFSET 0 10 0\n  }\n }\n}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.0333333\n0 0 0 0 0 0 0 0 0\n0 0 0 0 0 0 0 0 0\n"
    )
    code, _, err = run(["render", str(bvh), "-o", str(tmp_path / "r.mp4")], monkeypatch, capsys)
    assert code != 0
    assert "skeleton" in error_line(err)


def _motion_with_audio(tmp_path, audio_name: str):
    from motiongen import AudioRef, Motion
    from tests.test_core import standing_pose

    m = Motion(
        np.repeat(standing_pose()[None], 20, axis=0),
        fps=20,
        audio=AudioRef(str(tmp_path / audio_name), 0.0),
    )
    path = tmp_path / "m.motion.json"
    m.save(path)
    return path


def test_missing_audio_file(tmp_path, monkeypatch, capsys):
    src = _motion_with_audio(tmp_path, "gone.wav")
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "x.mp4")], monkeypatch, capsys)
    assert code != 0
    assert "not found" in error_line(err)


def test_silent_audio_file(tmp_path, monkeypatch, capsys):
    import soundfile

    soundfile.write(tmp_path / "quiet.wav", np.zeros(22050, dtype=np.float32), 22050)
    src = _motion_with_audio(tmp_path, "quiet.wav")
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "x.mp4")], monkeypatch, capsys)
    assert code != 0
    assert "silent" in error_line(err)
    # The user's way out works: render without the music.
    code, _, _ = run(
        ["render", str(src), "-o", str(tmp_path / "x.mp4"), "--no-audio"], monkeypatch, capsys
    )
    assert code == 0


def test_usage_mistakes_are_one_error_line_too(monkeypatch, capsys):
    from tests.cli_helpers import error_line, run

    cases = {
        ("compose", "a person walks", "-o", "x.bvh", "--seconds", "abc"): (
            "Invalid value for '--seconds'", "see motiongen compose --help"),
        ("predict", "x.bvh", "-o", "y.bvh", "--bogus", "2"): ("No such option: --bogus", "predict"),
        ("predict",): ("Missing argument 'past'", "see motiongen predict --help"),
        ("nosuchcommand",): ("No such command 'nosuchcommand'", "see motiongen --help"),
        # click keeps the last of a repeated option silently: a blend lost its first style
        ("restyle", "x.motion", "-o", "y.bvh", "--style", "sad", "--blend", "happy:0.3",
         "--blend=angry:0.3"): ("--blend was given twice ('happy:0.3', 'angry:0.3')",
                                "blends towards one other style; give it once"),
        ("restyle", "x.motion", "-o", "y.bvh", "--style", "sad", "--style", "happy",
         "--style", "old"): ("--style was given 3 times",),
    }  # fmt: skip
    for args, needles in cases.items():
        code, _, err = run(list(args), monkeypatch, capsys)
        line = error_line(err)
        assert code == 1 and all(n in line for n in needles), (args, err)
    code, out, _ = run(["generate", "--help"], monkeypatch, capsys)
    assert code == 0 and "Usage" in out


def test_paths_that_cannot_be_written_are_one_error_line(tmp_path, monkeypatch, capsys):
    from tests.cli_helpers import error_line, run

    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    code, _, err = run(["generate", "a person walks", "-o", tmp_path / "afile" / "x.bvh",
                        "--steps", "1"], monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "a part of the path is a file, not a folder" in error_line(err)
    # a folder for the output: said so, with a file name in it, not "unknown extension"
    code, _, err = run(["generate", "a person walks", "-o", tmp_path / "adir"], monkeypatch, capsys)
    assert (
        code == 1
        and f"is a folder; give a file name to write, e.g. {tmp_path / 'adir' / 'motion.mp4'}"
        in error_line(err)
    )
    # refused before minutes of generating and scoring, not after
    for where, words in ((tmp_path / "adir", "is a folder"), (tmp_path / "afile" / "e.json", "")):
        code, _, err = run(["eval", "--json", where, "--limit", "129"], monkeypatch, capsys)
        assert code == 1 and words in error_line(err) and "Traceback" not in err
    code, _, err = run(["evaluator", "train", "classifier", "--steps", "1"], monkeypatch, capsys)
    assert code == 1 and "Missing option '--out'" in error_line(err)


def test_ctrl_c_says_it_was_interrupted(monkeypatch, capsys):
    from motiongen.cli import generate as generate_module
    from tests.cli_helpers import run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generate_module, "_pipeline", interrupted, raising=False)
    monkeypatch.setattr("motiongen.pipeline.Pipeline.from_pretrained", interrupted)
    code, _, err = run(["generate", "a person walks", "-o", "x.bvh"], monkeypatch, capsys)
    assert code == 130 and "interrupted" in err and "--resume" in err


def test_style_list_names_the_other_words_it_takes(monkeypatch, capsys):
    code, out, _ = run(["style", "list"], monkeypatch, capsys)
    assert code == 0 and "sad" in out.split("\n")[0]
    assert "also taken:" in out and "old (elderly)" in out and "tired (exhausted)" in out


def test_a_render_that_cannot_make_its_scratch_folder_names_the_output(tmp_path, monkeypatch):
    import errno
    import tempfile

    from motiongen.io.render import render_video

    def refused(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", str(tmp_path / ".render-x"))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", refused)
    motion = synth_motion("walk", "normal", 1.0)
    with pytest.raises(OSError) as caught:
        render_video(motion, tmp_path / "wave.mp4")
    assert caught.value.filename == str(tmp_path / "wave.mp4")


def test_actions_lists_what_the_default_model_was_trained_on(monkeypatch, capsys):
    # A new user found no command naming the actions and opened vocabulary.json by hand.
    code, out, _ = run(["actions"], monkeypatch, capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("bow: 'a person bows'") and "styles:" in lines[0]
    assert any(line.startswith("kick: 'a person kicks', 1 clip;") for line in lines)
    # a dance of the dance set counts its songs, a minute or two each, not clips
    assert any(
        line.startswith("dance-waltz: 'a person dances the waltz', 24 songs") for line in lines
    )
    code, out, _ = run(["actions", "--json"], monkeypatch, capsys)
    rows = json.loads(out)
    assert code == 0 and {"walk", "run", "bow"} <= {r["action"] for r in rows}
    waltz = next(r for r in rows if r["action"] == "dance-waltz")
    assert waltz["songs"] == 24 and waltz["clips"] is None


def test_an_unknown_checkpoint_names_the_shipped_models(monkeypatch, capsys):
    code, _, err = run(["actions", "--checkpoint", "nosuchmodel"], monkeypatch, capsys)
    assert code != 0
    line = error_line(err)
    assert "no checkpoint at nosuchmodel" in line and "tiny-flow-rollout-r5" in line


def test_render_panels_sets_a_contact_sheet_s_frames(tmp_path, monkeypatch, capsys):
    # a 20 s timeline's 5 frames missed a segment (an animator's trial)
    from PIL import Image

    src = tmp_path / "m.npz"
    synth_motion("walk", seconds=2.0).save(src)
    png = tmp_path / "r.png"
    code, said, err = run(
        ["render", str(src), "-o", str(png), "--panels", "8"], monkeypatch, capsys
    )
    assert code == 0, err
    assert Image.open(png).size[0] >= 8 * 320  # eight 320 px panels
    assert "contact sheet of 8 evenly spaced frames" in " ".join(said.split())
    code, _, err = run(["render", str(src), "-o", str(tmp_path / "r.gif"), "--panels", "8"],
                       monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "--panels is for a .png contact sheet" in error_line(err)


def test_help_shows_no_type_beside_flags_and_runs_descriptions_as_sentences(monkeypatch, capsys):
    # typer printed "--literal <bool>", read as a value to give, and a command list's
    # descriptions broke mid-sentence where the docstrings did
    monkeypatch.setenv("COLUMNS", "300")
    code, out, _ = run(["story", "--help"], monkeypatch, capsys)
    assert code == 0 and "--literal" in out and "<bool>" not in out and "<int>" in out
    code, out, _ = run(["checkpoint", "--help"], monkeypatch, capsys)
    row = next(line for line in out.splitlines() if "vocabulary " in line)
    assert code == 0 and "Record the actions" in row and "vocabulary (for checkpoints" in row
