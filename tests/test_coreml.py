"""Core ML export: the denoiser converts at the original design's fixed 64 frames, inputs named
as the network's conditions, and 6-bit palettisation stores the weights as look-up tables
(conversion runs on any OS; running a package needs macOS, so outputs are not compared here)."""

from __future__ import annotations

import pytest

pytest.importorskip("coremltools")

from motiongen.checkpoint import load_checkpoint  # noqa: E402
from motiongen.deploy.coreml import export_coreml, folder_bytes, package_inputs  # noqa: E402
from motiongen.errors import InputError  # noqa: E402
from tests.test_pipeline import make_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = make_checkpoint(tmp_path_factory.mktemp("ck") / "tiny", control=True)
    return load_checkpoint(path).model


def test_palettised_package(model, tmp_path, capfd) -> None:
    plain = export_coreml(model, tmp_path / "plain.mlpackage", tokens=8, bits=None)
    small = export_coreml(model, tmp_path / "six.mlpackage", tokens=8, bits=6)
    assert "MIL" not in capfd.readouterr().err  # the converter's pass-by-pass bars stay quiet
    shapes = package_inputs(tmp_path / "six.mlpackage")
    dim = model.config.feature_dim
    assert shapes["x"] == [1, 64, dim] and shapes["t"] == [1]
    assert shapes["text_tokens"] == [1, 8, 384] and shapes["text_mask"] == [1, 8]
    assert shapes["audio"] == [1, 64, 50] and "task" in shapes
    assert list(shapes) == list(small["inputs"])
    program = (tmp_path / "six.mlpackage/Data/com.apple.CoreML/model.mlmodel").read_bytes()
    assert b"constexpr_lut_to_dense" in program
    assert (
        b"constexpr_lut_to_dense"
        not in (tmp_path / "plain.mlpackage/Data/com.apple.CoreML/model.mlmodel").read_bytes()
    )
    # 6-bit indices instead of 32-bit floats: well under half the size.
    assert folder_bytes(tmp_path / "six.mlpackage") < 0.4 * folder_bytes(
        tmp_path / "plain.mlpackage"
    )
    assert plain["bits"] == 32 and small["bits"] == 6


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"frames": 5000}, "frames"),
        ({"frames": 1}, "frames"),
        ({"tokens": 0}, "tokens"),
        ({"bits": 9}, "bits"),
    ],
)
def test_bad_arguments(model, tmp_path, kwargs, words) -> None:
    with pytest.raises(InputError, match=words):
        export_coreml(model, tmp_path / "m.mlpackage", **kwargs)
    with pytest.raises(InputError, match="mlpackage"):
        export_coreml(model, tmp_path / "m.onnx")
