"""The denoiser as ONNX: the graph computes what PyTorch computes (every condition given or
left out, plain and control networks), the pipeline samples the same motions with
runtime="onnx", int8 quantisation runs, and the export command checks itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from motiongen.conditioning import text as text_module  # noqa: E402
from motiongen.deploy.onnx import OnnxDenoiser, example_inputs, export_onnx  # noqa: E402
from motiongen.errors import InputError  # noqa: E402
from motiongen.models import ModelConditions, MotionDiT, MotionDiTConfig  # noqa: E402
from tests.cli_helpers import error_line, run  # noqa: E402
from tests.test_pipeline import FakeEncoder, make_checkpoint  # noqa: E402


def _net(**extra) -> MotionDiT:
    torch.manual_seed(0)
    net = MotionDiT(MotionDiTConfig(feature_dim=137, width=64, depth=1, heads=4, text_dim=384,
                                    audio_dim=50, patch_size=2, **extra))  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.eval()


@pytest.mark.parametrize(
    "extra", [{}, {"control_dim": 141, "num_tasks": 6, "style_dim": 8}, {"prior_dim": 137}]
)
def test_graph_matches_pytorch_with_and_without_conditions(tmp_path, extra):
    net = _net(**extra)
    path = export_onnx(net, tmp_path / "net.onnx")
    den = OnnxDenoiser(path, net.config)
    inputs = example_inputs(net.config, batch=3, frames=33, tokens=5)  # odd frames: padding
    full = ModelConditions(**{k: v for k, v in inputs.items() if k not in ("x", "t")})
    task = inputs.get("task")
    partial = ModelConditions(text_pooled=inputs["text_pooled"], text_tokens=inputs["text_tokens"],
                              text_mask=inputs["text_mask"], task=task)  # fmt: skip
    bare = ModelConditions(task=task)
    for cond in (full, partial, bare):
        with torch.no_grad():
            want = net(inputs["x"], inputs["t"], cond)
        got = den(inputs["x"], inputs["t"], cond)
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_pipeline_samples_the_same_motion_with_onnx(tmp_path, monkeypatch):
    from motiongen.pipeline import Pipeline

    monkeypatch.setenv("MOTIONGEN_CACHE", str(tmp_path / "cache"))
    ck = make_checkpoint(tmp_path / "ck")
    torch_pipe = Pipeline.from_pretrained(ck, text_encoder=FakeEncoder())
    onnx_pipe = Pipeline.from_pretrained(ck, text_encoder=FakeEncoder(), runtime="onnx")
    a = torch_pipe.generate("a person walks", seconds=3.0, seed=4, steps=3, postprocess=False)[0]
    b = onnx_pipe.generate("a person walks", seconds=3.0, seed=4, steps=3, postprocess=False)[0]
    np.testing.assert_allclose(b.positions, a.positions, atol=1e-3)
    assert b.meta["runtime"] == "onnx"
    assert list((tmp_path / "cache" / "onnx").glob("*.onnx"))  # exported once, cached
    q = Pipeline.from_pretrained(ck, text_encoder=FakeEncoder(), runtime="onnx-int8")
    c = q.generate("a person walks", seconds=3.0, seed=4, steps=3)[0]
    assert np.isfinite(c.positions).all() and c.meta["runtime"] == "onnx-int8"
    with pytest.raises(InputError, match="runtime must be one of"):
        Pipeline.from_pretrained(ck, runtime="tensorrt")
    with pytest.raises(InputError, match="fp32"):
        Pipeline.from_pretrained(ck, runtime="onnx", precision="bf16")


def test_export_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())
    ck = make_checkpoint(tmp_path / "ck")
    code, out, err = run(["export", "onnx", ck, "-o", tmp_path / "m.onnx"], monkeypatch, capsys)
    assert code == 0, err
    assert "largest difference from PyTorch" in out and (tmp_path / "m.onnx").is_file()
    diff = float(out.rsplit(":", 1)[1].split(" of outputs")[0])
    assert diff < 1e-4
    code, _, err = run(["export", "onnx", ck, "-o", tmp_path / "m.bin"], monkeypatch, capsys)
    assert code == 1 and ".onnx" in error_line(err)


def test_the_example_samples_an_exported_graph_as_the_pipeline_does(tmp_path, monkeypatch,
                                                                   capsys):  # fmt: skip
    # A new user could export a graph but found no way to run it: examples/onnx_sample.py
    # does it with onnxruntime and numpy, and gives the pipeline's motion from the same noise.
    import importlib.util
    from pathlib import Path

    from motiongen.pipeline import Pipeline

    monkeypatch.setattr(text_module, "shared_text_encoder", lambda *a, **k: FakeEncoder())
    from motiongen.features import NormStats

    rng = np.random.default_rng(1)  # not the identity: the example must undo it
    norm = NormStats(rng.normal(0, 0.1, 137), rng.uniform(0.5, 1.5, 137))
    ck = make_checkpoint(tmp_path / "ck", norm=norm)
    code, _, err = run(["export", "onnx", ck, "-o", tmp_path / "m.onnx"], monkeypatch, capsys)
    assert code == 0, err
    file = Path(__file__).resolve().parents[1] / "examples" / "onnx_sample.py"
    spec = importlib.util.spec_from_file_location("onnx_sample", file)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    noise = torch.randn((1, 60, 137), generator=torch.Generator().manual_seed(4)).numpy()
    got = example.sample(tmp_path / "m.onnx", ck, "a person walks", seconds=3.0, steps=3,
                         encoder=FakeEncoder(), postprocess=False, noise=noise)  # fmt: skip
    pipe = Pipeline.from_pretrained(ck, text_encoder=FakeEncoder())
    want = pipe.generate("a person walks", seconds=3.0, seed=4, steps=3, guidance=1.0,
                         postprocess=False)[0].positions  # fmt: skip
    assert got.shape == want.shape == (60, 22, 3)
    np.testing.assert_allclose(got, want, atol=1e-3)
    got = example.sample(tmp_path / "m.onnx", ck, "a person walks", seconds=3.0, steps=3,
                         encoder=FakeEncoder(), noise=noise)  # fmt: skip
    want = pipe.generate("a person walks", seconds=3.0, seed=4, steps=3, guidance=1.0)[0]
    np.testing.assert_allclose(got, want.positions, atol=1e-3)  # post-processed alike
