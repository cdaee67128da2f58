"""`motiongen index build | info | query | add | remove` on a folder of the user's own motions
(npy files with sidecar texts), and the errors a user meets."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motiongen.conditioning import text as text_module
from motiongen.motion import Motion
from tests.cli_helpers import error_line, run
from tests.test_pipeline import FakeEncoder
from tests.test_retrieval import standing, waving


@pytest.fixture(autouse=True)
def fake_text_encoder(monkeypatch):
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    takes = {"wave_1": (waving(80, 1.0), "a person waves"), "wave_2": (waving(70, 2.0), "a person waves"),
             "idle_1": (standing(60), "a person stands still")}  # fmt: skip
    for name, (pos, text) in takes.items():
        Motion(positions=pos, fps=20.0, name=name).save(out / f"{name}.npy")
        (out / f"{name}.txt").write_text(text)
    (out / "broken.npy").write_bytes(b"not numpy")
    return out


def test_build_info_query_add_remove(folder, tmp_path, monkeypatch, capsys):
    ix = tmp_path / "ix"
    code, out, err = run(["index", "build", "--folder", folder, "-o", ix], monkeypatch, capsys)
    assert code == 0, err
    assert "indexed 3 phrases of 3 motions" in out and "skipped broken.npy" in out
    code, out, _ = run(["index", "info", "-i", ix], monkeypatch, capsys)
    info = json.loads(out)
    assert info["phrases"] == 3 and info["kind"] == "flat"
    code, out, _ = run(["index", "query", "a person waves", "-i", ix, "-n", "2",
                        "--prior", tmp_path / "prior.npy", "--seconds", "3"],
                       monkeypatch, capsys)  # fmt: skip
    assert code == 0
    assert out.count("'a person waves'") == 2 and "wave_1.npy" in out and "wave_2.npy" in out
    assert np.load(tmp_path / "prior.npy").shape[0] == 60
    more = tmp_path / "more"
    more.mkdir()
    Motion(positions=waving(50, 3.0), fps=20.0).save(more / "salute.npy")
    code, out, _ = run(["index", "add", more, "-i", ix], monkeypatch, capsys)
    assert "the index holds 4" in out
    code, out, _ = run(["index", "add", more, "-i", ix], monkeypatch, capsys)  # twice: once
    assert "already in the index (salute.npy)" in out and "the index holds 4" in out
    code, out, _ = run(["index", "query", "salute", "-i", ix, "-n", "1"], monkeypatch, capsys)
    assert "salute.npy" in out
    code, out, _ = run(["index", "remove", "salute.npy", "-i", ix], monkeypatch, capsys)
    assert code == 0 and "the index holds 3" in out


def test_index_errors_are_one_line(folder, tmp_path, monkeypatch, capsys):
    ix = tmp_path / "ix"
    run(["index", "build", "--folder", folder, "-o", ix], monkeypatch, capsys)
    cases = [
        (["index", "info", "-i", tmp_path / "none"], "motiongen index build"),
        (["index", "query", "-i", ix], "give a text"),
        (["index", "remove", "nope.npy", "-i", ix], "no phrase of nope.npy"),
        (["index", "remove", "wave_1", "-i", ix], "with their extension: wave_1.npy"),
        (["index", "train-reranker", "-i", ix, "-o", tmp_path / "rr"], "have 0 labels"),
        (["index", "build", "--folder", tmp_path / "empty", "-o", ix], "no motion files"),
        (["index", "build", "--folder", folder, "--kind", "hnsw", "-o", tmp_path / "x"],
         "index kind must be one of"),
        (["index", "query", "a wave", "-i", ix, "--prior", tmp_path / "p.npy", "--seconds",
          "100000"], "--seconds: seconds must be between 0.5 and 120"),
        (["index", "query", "a wave", "-i", ix, "--seconds", "0"], "--seconds"),
        (["index", "query", "-i", ix, "--tempo", "-5"], "--tempo must be 0 (none)"),
        (["index", "query", "a wave", "-i", ix, "-k", "2", "-n", "5"], "raise -k"),
    ]  # fmt: skip
    (tmp_path / "empty").mkdir()
    for args, expected in cases:
        code, _, err = run(args, monkeypatch, capsys)
        assert code == 1 and expected in error_line(err), (args, err)
    (ix / "index.faiss").write_bytes(b"\x00" * 10)
    code, _, err = run(["index", "query", "a person waves", "-i", ix], monkeypatch, capsys)
    assert "corrupt" in error_line(err)
