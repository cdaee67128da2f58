"""``motiongen generate`` and ``motiongen dance``: files written, the same seed gives the same
motion, music is muxed into the MP4, and every bad input ends in one ``error:`` line, exit 1,
no traceback."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile as sf
from safetensors.torch import load_file, save_file

from motiongen import checkpoint as checkpoint_module
from motiongen.checkpoint import record_manifest
from motiongen.conditioning import text as text_module
from motiongen.paths import DEFAULT_MODEL
from tests.cli_helpers import error_line, run
from tests.test_pipeline import FakeEncoder, make_checkpoint


@pytest.fixture(autouse=True)
def fake_text_encoder(monkeypatch):
    # The real encoder takes seconds to load; the CLI's text path is the same either way.
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "tiny")


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    sr = 22050
    t = np.arange(int(3 * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 330 * t) * (0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 2 * t)))
    path = tmp_path_factory.mktemp("audio") / "song.wav"
    sf.write(path, y.astype(np.float32), sr)
    return path


def generate(checkpoint, out, *extra):
    return ["generate", "a person waves", "-o", out, "--checkpoint", checkpoint, *extra]


# ---- it works ---------------------------------------------------------------------------------
def test_generate_npy_is_seeded(checkpoint, tmp_path, monkeypatch, capsys):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    code, out, err = run(generate(checkpoint, a, "--seed", 7, "--seconds", 2), monkeypatch, capsys)
    assert code == 0, err
    assert f"wrote {a}" in out and "40 frames" in out and "seed 7" in out
    assert "generated in" in out and "ms" in out and "checks and retrieval" in out
    code, _, err = run(generate(checkpoint, b, "--seed", 7, "--seconds", 2), monkeypatch, capsys)
    assert code == 0, err
    np.testing.assert_array_equal(np.load(a), np.load(b))
    assert np.load(a).shape == (40, 22, 3)


def test_a_length_in_the_prompt_sets_the_length(checkpoint, tmp_path, monkeypatch, capsys):
    out_file = tmp_path / "w.npy"
    args = [
        "generate",
        "a person waves for 1.5 seconds",
        "-o",
        out_file,
        "--checkpoint",
        checkpoint,
    ]
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 0, err
    assert "30 frames" in out and "note: 1.5 s, as the prompt ('for 1.5 seconds') says" in out
    code, _, err = run([*args, "--seconds", 4], monkeypatch, capsys)
    assert code == 1 and "leave out one of them" in error_line(err)


def test_generate_no_travel_keeps_the_pelvis_over_its_start(
    checkpoint, tmp_path, monkeypatch, capsys
):
    path = tmp_path / "still.npz"
    code, _, err = run(
        generate(checkpoint, path, "--seconds", 2, "--no-travel"), monkeypatch, capsys
    )
    assert code == 0, err
    with np.load(path) as data:
        pelvis = data["positions"][:, 0]
    np.testing.assert_allclose(
        pelvis[:, [0, 2]], np.repeat(pelvis[:1, [0, 2]], 40, axis=0), atol=1e-6
    )
    assert np.ptp(pelvis[:, 1]) > 0  # heights kept


def test_generate_loop_writes_the_best_loop_and_says_where_it_was_cut(
    checkpoint, tmp_path, monkeypatch, capsys
):
    path = tmp_path / "loop.npz"
    code, out, err = run(generate(checkpoint, path, "--seconds", 4, "--loop", "--seed", 2),
                         monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    assert "starting at" in out and "its ends met within" in out
    with np.load(path) as data:
        frames = len(data["positions"])
    assert 41 <= frames <= 80  # at least half the motion (closed: one frame more)
    code, _, err = run(generate(checkpoint, path, "--seconds", 0.5, "--loop"), monkeypatch, capsys)
    assert code == 1 and "--loop needs more than 1 s" in error_line(err)
    # a frame short of a loop is refused before the model runs too (1.02 s: 20 frames)
    code, _, err = run(generate(checkpoint, path, "--seconds", 1.02, "--loop"), monkeypatch, capsys)
    assert code == 1 and "--loop needs more than 1 s" in error_line(err)
    # --takes belongs to --prompts: it was left unread, one file written, no word
    code, _, err = run(generate(checkpoint, path, "--takes", 3), monkeypatch, capsys)
    assert code == 1 and "--takes is for --prompts" in error_line(err) and "--batch 3" in err
    code, _, err = run(generate(checkpoint, path, "--format", "npz"), monkeypatch, capsys)
    assert code == 1 and "--format is for --prompts" in error_line(err)
    code, _, err = run(generate(checkpoint, path, "--format", "bvh"), monkeypatch, capsys)
    assert code == 1 and "--format is for --prompts" in error_line(err)  # the default said too
    code, _, err = run(generate(checkpoint, path, "--batch-size", 4), monkeypatch, capsys)
    assert code == 1 and "--batch-size is for --prompts" in error_line(err)


def test_generate_writes_at_the_asked_frame_rate(checkpoint, tmp_path, monkeypatch, capsys):
    path = tmp_path / "sixty.npz"
    args = generate(checkpoint, path, "--seconds", 2, "--fps", 60)
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 0, err
    assert "120 frames, 2 s at 60 fps" in out
    with np.load(path) as data:
        assert float(data["fps"]) == 60.0 and data["positions"].shape == (120, 22, 3)
    # seconds between the model's 20-fps frames count at the written rate (56 frames before)
    odd = generate(checkpoint, tmp_path / "odd.npz", "--seconds", 2.37, "--fps", 24)
    code, out, err = run(odd, monkeypatch, capsys)
    assert code == 0 and "57 frames" in out, (out, err)
    # a GIF plays at most 20 fps: the line says the frames the file holds
    gif = tmp_path / "thirty.gif"
    code, out, err = run(
        generate(checkpoint, gif, "--seconds", 2, "--fps", 30), monkeypatch, capsys
    )
    assert code == 0 and "40 frames, 2 s at 20 fps; a GIF plays at most 20 fps" in " ".join(
        out.split()
    )
    from PIL import Image

    assert Image.open(gif).n_frames == 40
    # a .npy stores no frame rate: it would read back at 20 fps, 6 s long
    args = generate(checkpoint, tmp_path / "sixty.npy", "--seconds", 2, "--fps", 60)
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and "a .npy stores no frame rate" in error_line(err)
    assert "--fps 60 with .npy" in error_line(err)  # said before the model runs


def test_generate_batch_and_formats(checkpoint, tmp_path, monkeypatch, capsys):
    out_json = tmp_path / "wave.motion.json"
    args = generate(checkpoint, out_json, "--seconds", 1, "--batch", 2, "--seed", 1)
    args += ["--steps", 2, "--sampler", "heun", "--guidance", "3,1", "--literal"]
    code, out, err = run(args, monkeypatch, capsys)
    assert code == 0, err
    for i in range(2):
        path = tmp_path / f"wave_{i}.motion.json"
        assert path.exists() and str(path) in out
    assert "; seed 1)" in out and out.count("; seed ") == 2  # each file's own seed
    data = json.loads((tmp_path / "wave_0.motion.json").read_text())
    assert data  # a readable .motion file
    code, _, err = run(
        generate(checkpoint, tmp_path / "w.bvh", "--seconds", 1, "--no-postprocess"),
        monkeypatch,
        capsys,
    )
    assert code == 0, err and (tmp_path / "w.bvh").exists()


def _has_audio_stream(path) -> bool:
    import imageio_ffmpeg

    probe = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True,
        text=True,
    )
    return "Audio:" in probe.stderr


@pytest.mark.slow  # librosa compiles on its first call (5-8 s), and an MP4 is rendered
def test_dance_muxes_the_music(checkpoint, song, tmp_path, monkeypatch, capsys):
    out_mp4 = tmp_path / "dance.mp4"
    code, out, err = run(
        ["dance", song, "-o", out_mp4, "--checkpoint", checkpoint, "--seed", 0, "--steps", 1],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    assert "with music" in out and "60 frames" in out  # default length: the whole 3 s song
    assert out_mp4.stat().st_size > 1000 and _has_audio_stream(out_mp4)
    # what beat sync did is said; --no-beat-sync keeps the network's timing, silently
    assert "retimed onto the music's beats" in out or "not retimed" in out
    assert "name the dance to choose it" in " ".join(out.split())  # music alone: mostly a waltz
    own = tmp_path / "own.npz"
    # (--literal too, which dance's warnings name: it had no such option, a choreographer's trial)
    code, out, err = run(["dance", song, "-o", own, "--checkpoint", checkpoint, "--seed", 0,
                          "--steps", 1, "--no-beat-sync", "--literal"], monkeypatch, capsys)  # fmt: skip
    assert code == 0, err
    assert "retimed" not in out and "own timing" not in out and "60 frames" in out


@pytest.mark.slow  # real audio features (librosa)
def test_generate_with_music_to_npz(checkpoint, song, tmp_path, monkeypatch, capsys):
    out = tmp_path / "m.npz"
    args = generate(checkpoint, out, "--music", song, "--seconds", 2, "--music-offset", 0.5)
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 0, err and out.exists()


def test_prior_start_is_where_sampling_starts_from_the_retrieved_phrases(
    checkpoint, tmp_path, monkeypatch, capsys
):
    from motiongen.pipeline import Pipeline

    seen = []
    real = Pipeline.generate

    def spy(self, *args, **kwargs):
        seen.append(self.prior_start)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "generate", spy)
    out = tmp_path / "x.npy"
    with_prior = make_checkpoint(tmp_path / "rag", prior=True)
    code, _, err = run(generate(with_prior, out, "--prior-start", 0.25), monkeypatch, capsys)
    assert code == 0, err
    assert seen == [0.25]
    # a checkpoint without a prior input has nowhere to start from: said, not ignored
    code, _, err = run(generate(checkpoint, out, "--prior-start", 0.25), monkeypatch, capsys)
    assert code == 1 and "--prior-start needs a flow checkpoint with a retrieval-prior input" in (
        error_line(err)
    )


# ---- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seconds", 0], "seconds must be between 0.5 and"),
        (["--seconds", -1], "seconds must be between 0.5 and"),
        (["--seconds", 0.01], "seconds must be between 0.5 and"),
        (["--seconds", 121], "between 0.5 and 120"),
        (["--guidance", "abc"], "guidance must be"),
        (["--steps", 0], "steps must be between"),
        (["--sampler", "ddim"], "does not fit"),
        (["--batch", 0], "batch must be at least 1"),
        (["--precision", "fp8"], "--precision must be one of"),
        (["--fps", 5000], "--fps: frame rate 5000 fps is outside"),
        (["--seed", -5], "--seed must be between 0 and"),
        (["--prior-start", 1], "--prior-start must be in [0, 1), got 1"),
        (["--prior-start", -0.5], "--prior-start must be in [0, 1)"),
    ],
)
def test_bad_options(checkpoint, tmp_path, monkeypatch, capsys, extra, message):
    code, _, err = run(generate(checkpoint, tmp_path / "x.npy", *extra), monkeypatch, capsys)
    assert code == 1
    assert message in error_line(err)
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize(
    "prompt, message",
    [
        ("", "prompt is empty"),
        ("   ", "prompt is empty"),
        ("x" * 10_000, "10,000"),
        ("a person waves for many seconds", "cannot read 'many seconds' as a length"),
    ],
)
def test_bad_prompts(checkpoint, tmp_path, monkeypatch, capsys, prompt, message):
    args = ["generate", prompt, "-o", tmp_path / "x.npy", "--checkpoint", checkpoint]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and message in error_line(err)


def test_a_missing_output_folder_is_made_and_said(checkpoint, tmp_path, monkeypatch, capsys):
    out = tmp_path / "new" / "deeper" / "w.npy"
    code, _, err = run(generate(checkpoint, out, "--seconds", 1), monkeypatch, capsys)
    assert code == 0 and out.exists()
    assert f"made the folder {out.parent} for the output" in err


def test_bad_output_extension(checkpoint, tmp_path, monkeypatch, capsys):
    code, _, err = run(generate(checkpoint, tmp_path / "x.docx"), monkeypatch, capsys)
    assert code == 1 and "unknown extension" in error_line(err)


@pytest.fixture(scope="module")
def bad_audio(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_audio")
    sf.write(folder / "silent.wav", np.zeros(22050 * 5, np.float32), 22050)
    sf.write(folder / "empty.wav", np.zeros(0, np.float32), 22050)
    (folder / "garbage.mp3").write_bytes(b"\x00\x01 not audio at all " * 200)
    return folder


@pytest.mark.parametrize(
    "name, message",
    [
        ("silent.wav", "silent"),
        ("empty.wav", "has no samples (0 s long)"),
        ("garbage.mp3", "cannot read audio"),
        ("missing.wav", "no such audio file"),
    ],
)
def test_bad_music(checkpoint, bad_audio, tmp_path, monkeypatch, capsys, name, message):
    music = bad_audio / name
    code, _, err = run(
        generate(checkpoint, tmp_path / "x.npy", "--music", music, "--seconds", 2),
        monkeypatch,
        capsys,
    )
    assert code == 1 and message in error_line(err)
    code, _, err = run(
        ["dance", music, "-o", tmp_path / "d.mp4", "--checkpoint", checkpoint], monkeypatch, capsys
    )
    assert code == 1 and message in error_line(err), err


def test_dance_offset_past_the_end(checkpoint, song, tmp_path, monkeypatch, capsys):
    args = ["dance", song, "-o", tmp_path / "d.mp4", "--checkpoint", checkpoint, "--offset", 5]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and "past the end" in error_line(err)
    args = ["dance", song, "-o", tmp_path / "d.mp4", "--checkpoint", checkpoint, "--seconds", 10]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 1 and "shorter than the 10 s asked for" in error_line(err)
    args = ["dance", song, "-o", tmp_path / "d.mp4", "--checkpoint", checkpoint, "--offset", 2.8]
    code, _, err = run(args, monkeypatch, capsys)  # 0.2 s left: the song, not a length asked for
    assert code == 1 and "too short to dance to" in error_line(err), err
    args = ["dance", song, "-o", tmp_path / "d.mp4", "--checkpoint", checkpoint, "--rag"]
    code, _, err = run(args, monkeypatch, capsys)  # it printed a warning and danced without
    assert code == 1 and "--text" in error_line(err), err


def test_missing_checkpoints(tmp_path, monkeypatch, capsys):
    code, _, err = run(
        ["generate", "a person waves", "-o", tmp_path / "x.npy", "--checkpoint", tmp_path / "nope"],
        monkeypatch,
        capsys,
    )
    assert code == 1 and "no checkpoint" in error_line(err)
    monkeypatch.setattr(checkpoint_module, "SHIPPED_MODELS_DIR", tmp_path / "models")
    code, _, err = run(
        ["generate", "a person waves", "-o", tmp_path / "x.npy"], monkeypatch, capsys
    )
    assert code == 1 and f"shipped model {DEFAULT_MODEL} is not installed" in error_line(err)


def test_corrupt_checkpoints(tmp_path, monkeypatch, capsys):
    nan = make_checkpoint(tmp_path / "nan")
    state = load_file(str(nan / "model.safetensors"))
    state["inp.weight"][0, 0] = float("nan")
    save_file(state, str(nan / "model.safetensors"))
    code, _, err = run(generate(nan, tmp_path / "x.npy"), monkeypatch, capsys)
    assert code == 1 and "model.safetensors" in error_line(err)
    record_manifest(nan)
    code, _, err = run(generate(nan, tmp_path / "x.npy"), monkeypatch, capsys)
    assert code == 1 and "NaN" in error_line(err)

    shapes = make_checkpoint(tmp_path / "shapes")
    cfg = json.loads((shapes / "config.json").read_text())
    cfg["model"]["depth"] = 2
    (shapes / "config.json").write_text(json.dumps(cfg))
    record_manifest(shapes)
    code, _, err = run(generate(shapes, tmp_path / "x.npy"), monkeypatch, capsys)
    assert code == 1 and "does not match its config" in error_line(err)

    truncated = make_checkpoint(tmp_path / "truncated")
    data = (truncated / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(data[: len(data) // 2])
    code, _, err = run(generate(truncated, tmp_path / "x.npy"), monkeypatch, capsys)
    assert code == 1 and "truncated or replaced" in error_line(err)


def test_a_then_prompt_is_made_as_a_timeline(tmp_path, monkeypatch, capsys, song):
    from motiongen.checkpoint import write_vocabulary

    control = make_checkpoint(tmp_path / "control", seed=5, control=True)
    write_vocabulary(control, {"walk": ["a person walks"], "bow": ["a person bows"]})
    args = ["generate", "a person walks, then bows", "--checkpoint", control, "--steps", 2]
    code, out, err = run([*args, "-o", tmp_path / "a.npy", "--seconds", 3], monkeypatch, capsys)
    assert code == 0, err
    assert "a timeline of 2 segments ('a person walks' 1.5 s, 'a person bows' 1.5 s" in out
    assert "--no-timeline makes one motion" in out
    code, out, err = run([*args, "-o", tmp_path / "b.npy", "--no-timeline"], monkeypatch, capsys)
    assert code == 0, err
    assert "a timeline of" not in out
    code, _, err = run([*args, "-o", tmp_path / "c.npy", "--timeline", "--music", song],
                       monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "takes no music" in error_line(err)
