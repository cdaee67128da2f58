"""``motiongen generate --prompts FILE -o DIR``: one file per prompt, seeds fixed by the line,
resumable, the same motions in one process or two (``accelerate launch``), and clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from motiongen.conditioning import text as text_module
from motiongen.errors import InputError
from motiongen.generation.many import generate_many, plan, read_prompts, shard
from motiongen.pipeline import Pipeline
from tests.cli_helpers import error_line, run
from tests.test_pipeline import FakeEncoder, make_checkpoint

PROMPTS = "a person waves\n# a comment\n\na person walks forward\na person bows\n"
QUICK = ["--steps", "2", "--seconds", "1", "--format", "npz"]


@pytest.fixture(autouse=True)
def fake_text_encoder(monkeypatch):
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "tiny")


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text(PROMPTS)
    return path


def positions(path):
    return np.load(path)["positions"]


def test_one_file_per_prompt_and_a_manifest_then_resume(
    prompts, checkpoint, tmp_path, monkeypatch, capsys
) -> None:
    out = tmp_path / "out"
    args = ["generate", "--prompts", prompts, "-o", out, "--checkpoint", checkpoint, *QUICK]
    code, stdout, stderr = run(args, monkeypatch, capsys)
    assert code == 0, stderr
    names = sorted(p.name for p in out.glob("*.npz"))
    assert names == ["00000_a_person_waves.npz", "00001_a_person_walks_forward.npz",
                     "00002_a_person_bows.npz"]  # fmt: skip
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert [r["seed"] for r in records] == [0, 1, 2]
    assert [r["prompt"] for r in records] == ["a person waves", "a person walks forward",
                                              "a person bows"]  # fmt: skip
    assert [r["used"] for r in records] == [None] * 3  # no style left out
    bows = positions(out / "00002_a_person_bows.npz")
    # Interrupted: a missing file is made again, the same motion; the others are kept.
    (out / "00002_a_person_bows.npz").unlink()
    before = (out / "00000_a_person_waves.npz").stat().st_mtime_ns
    code, stdout, _ = run(args, monkeypatch, capsys)
    assert code == 0 and "1 to make" in stdout
    assert (out / "00000_a_person_waves.npz").stat().st_mtime_ns == before
    np.testing.assert_allclose(positions(out / "00002_a_person_bows.npz"), bows, atol=1e-5)
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 3
    assert not list(out.glob(".partial-*")) and not list(out.glob("manifest.rank*"))
    # A rerun there with other settings would skip every file as made: refused, said why.
    code, _, stderr = run([*args, "--seed", "99"], monkeypatch, capsys)
    assert code == 1 and "made with other settings (seed 0 -> 99)" in error_line(stderr)
    # --timeline/--no-timeline is a setting ("walks, then bows" is made otherwise)
    code, _, stderr = run([*args, "--no-timeline"], monkeypatch, capsys)
    assert code == 1 and "(timeline None -> False)" in error_line(stderr)
    # another format is made beside (its own files), so the first format's rerun still runs;
    # with another seed too it is refused as well (it had passed, no file of it being there)
    code, _, stderr = run([*args, "--seed", "99", "--format", "npy"], monkeypatch, capsys)
    assert code == 1 and "(seed 0 -> 99)" in error_line(stderr)
    code, stdout, stderr = run([*args, "--format", "npy"], monkeypatch, capsys)
    assert code == 0 and "3 to make" in stdout, stderr
    code, stdout, stderr = run(args, monkeypatch, capsys)
    assert code == 0 and "0 to make" in stdout, stderr
    # files of a format whose suffix is .json count as made too (the manifest lists them)
    only_json = tmp_path / "json"
    json_args = [*args[:4], only_json, *args[5:], "--format", "motion.json"]
    assert run(json_args, monkeypatch, capsys)[0] == 0
    code, _, stderr = run([*json_args, "--format", "npy", "--seed", "9"], monkeypatch, capsys)
    assert code == 1 and "(seed 0 -> 9)" in error_line(stderr)
    # --fps without --format (the default bvh) is checked against bvh
    code, _, stderr = run([*args[:4], tmp_path / "fps", "--checkpoint", checkpoint, "--steps",
                           "2", "--seconds", "1", "--fps", "30"], monkeypatch, capsys)  # fmt: skip
    assert code == 0, stderr
    # a folder recorded before a setting existed is compared on the settings it holds
    recorded = json.loads((out / "settings.json").read_text())
    del recorded["no_travel"], recorded["loop"]
    (out / "settings.json").write_text(json.dumps(recorded))
    code, stdout, _ = run(args, monkeypatch, capsys)
    assert code == 0 and "0 to make" in stdout
    code, _, stderr = run([*args[:4], tmp_path / "b5.npz", *args[5:]], monkeypatch, capsys)
    assert code == 1 and "names a file; with --prompts give a folder" in error_line(stderr)
    assert not (tmp_path / "b5.npz").exists()


def test_shards_make_the_same_motions_as_one_process(checkpoint, tmp_path) -> None:
    pipe = Pipeline.from_pretrained(checkpoint)
    texts = ["a person waves", "a person jumps", "a person runs", "a person sits", "a bow"]
    one = plan(texts, tmp_path / "one", fmt="npz", takes=2, seed=7)
    two = plan(texts, tmp_path / "two", fmt="npz", takes=2, seed=7)
    assert len(one) == 10 and len({i.seed for i in one}) == 10
    generate_many(pipe, one, seconds=1.0, steps=2, batch_size=4)
    for rank in (0, 1):
        generate_many(pipe, shard(two, rank, 2), seconds=1.0, steps=2, batch_size=3)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(positions(a.path), positions(b.path), atol=1e-4)
    thirty = plan(texts[:1], tmp_path / "thirty", fmt="npz", takes=1, seed=7)
    generate_many(pipe, thirty, seconds=1.0, steps=2, fps=30.0)
    assert positions(thirty[0].path).shape[0] == 30  # 1 s at 30 fps, not the model's 20


def test_a_prompts_warning_is_told_once_as_a_single_generation_tells_it(checkpoint, tmp_path):
    pipe = Pipeline.from_pretrained(checkpoint)
    made = pipe.generate_batch

    def far(requests, **kw):  # as the vocabulary check warns of a prompt far from the data
        motions = made(requests, **kw)
        for m in motions:
            if m.texts == ["a person sits"]:
                m.meta["warning"] = "the prompt is far from every action"
        return motions

    pipe.generate_batch = far  # type: ignore[method-assign]
    items = plan(["a person waves", "a person sits"], tmp_path, fmt="npz", takes=3, seed=0)
    told = []
    generate_many(pipe, items, seconds=1.0, steps=1, batch_size=4,
                  warn=lambda item, message: told.append((item.text, message)))  # fmt: skip
    assert told == [("a person sits", "the prompt is far from every action")]


@pytest.mark.skipif(shutil.which("accelerate") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "accelerate")), reason="accelerate missing")  # fmt: skip
def test_accelerate_launch_two_processes(tmp_path) -> None:
    """The real launcher: two processes share the prompts and the first merges the manifest
    (the shipped model, as a user runs it)."""
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(PROMPTS)
    out = tmp_path / "out"
    launcher = os.path.join(os.path.dirname(sys.executable), "accelerate")
    cmd = [launcher, "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "motiongen.cli",
           "generate", "--prompts", str(prompts), "-o", str(out), *QUICK]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "in 2 process(es)" in done.stdout
    assert "process 0: wrote 2" in done.stdout and "process 1: wrote 1" in done.stdout
    assert len(list(out.glob("*.npz"))) == 3
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 3


@pytest.mark.parametrize(
    ("content", "extra", "words"),
    [
        ("", [], ["no prompts"]),
        ("# only a comment\n", [], ["no prompts"]),
        ("a person waves\n123 !!\n", [], ["prompts.txt:2", "letters"]),
        ("a person waves\n", ["a person runs"], ["not both"]),
        ("a person waves\n", ["--format", "xyz"], ["--format", "bvh"]),
        ("a person waves\n", ["--takes", "0"], ["--takes"]),
        ("a person waves\n", ["--batch-size", "0"], ["--batch-size"]),
    ],
)
def test_bad_prompts(content, extra, words, tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text(content)
    positional = [e for e in extra if not e.startswith("-") and extra.index(e) == 0]
    options = extra if extra and extra[0].startswith("-") else []
    args = ["generate", *positional, "--prompts", path, "-o", tmp_path / "out", *options]
    code, _, stderr = run(args, monkeypatch, capsys)
    assert code == 1
    line = error_line(stderr)
    for word in words:
        assert word.lower() in line.lower(), line


def test_missing_prompts_file_and_output(tmp_path, monkeypatch, capsys) -> None:
    code, _, stderr = run(["generate", "--prompts", tmp_path / "none.txt", "-o", tmp_path],
                          monkeypatch, capsys)  # fmt: skip
    assert code == 1 and "not found" in error_line(stderr)
    code, _, stderr = run(["generate", "a person waves"], monkeypatch, capsys)
    assert code == 1 and "--output" in error_line(stderr)
    with pytest.raises(Exception, match="no prompts"):
        empty = tmp_path / "e.txt"
        empty.write_text("\n")
        read_prompts(empty)


def test_a_then_line_is_a_timeline_as_a_single_generation_makes_it(tmp_path) -> None:
    from motiongen.checkpoint import write_vocabulary

    path = make_checkpoint(tmp_path / "control", seed=5, control=True)
    write_vocabulary(path, {"walk": ["a person walks"], "bow": ["a person bows"]})
    pipe = Pipeline.from_pretrained(path, text_encoder=FakeEncoder())
    texts = ["a person walks, then bows", "a person waves"]
    items = plan(texts, tmp_path / "out", fmt="npz", takes=1, seed=0)
    generate_many(pipe, items, seconds=2.0, steps=2)
    # pictures too (a picture's title had gone to the next timeline as an option; a trial)
    pictures = plan(texts + texts[:1], tmp_path / "png", fmt="png", takes=1, seed=0)
    generate_many(pipe, pictures, seconds=2.0, steps=2)
    assert all(item.path.is_file() for item in pictures)
    alone = pipe(texts[0], seconds=2.0, steps=2, seed=items[0].seed)
    assert alone.meta["made_as_timeline"]
    np.testing.assert_array_equal(positions(items[0].path), alone.positions)
    generate_many(pipe, items[1:], seconds=2.0, steps=2)  # a plain line: one motion as before
    assert positions(items[1].path).shape == (40, 22, 3)
    with pytest.raises(InputError, match=r"00000_a_person_walks_then_bows.npz .* --no-timeline"):
        # segments too short for the seconds: said before any motion is made, naming the line
        generate_many(pipe, plan(texts, tmp_path / "short", fmt="npz", takes=1, seed=0),
                      seconds=0.6, steps=2)  # fmt: skip
    assert not (tmp_path / "short").exists()
    with pytest.raises(InputError, match="takes no rag"):  # as the library refuses it
        generate_many(pipe, plan(texts, tmp_path / "rag", fmt="npz", takes=1, seed=0),
                      seconds=2.0, steps=2, timeline=True, rag=True)  # fmt: skip
    no = plan(texts[:1], tmp_path / "no", fmt="npz", takes=1, seed=0)
    generate_many(pipe, no, seconds=2.0, steps=2, timeline=False)
    single = pipe(texts[0], seconds=2.0, steps=2, seed=items[0].seed, timeline=False)
    np.testing.assert_allclose(positions(no[0].path), single.positions, atol=1e-5)
