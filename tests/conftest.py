"""Shared fixtures: the real data directory (tests skip without it) and one prepared cache
built once per test run, shared by pytest-xdist workers through a file lock."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from filelock import FileLock

from motiongen.paths import data_dir

# numba's on-disk cache of librosa's gufuncs races when two processes compile them at once
# (numba/numba#10128: a segfault in beat_track). Each xdist worker gets its own cache folder.
# Workers inherit the controller's environment, so the worker's own name decides the folder.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        tempfile.gettempdir(), f"motiongen-numba-{_worker}"
    )

try:  # two xdist workers on two cores: more torch threads per worker only contend
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a dependency; keep conftest importable
    pass


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = data_dir()
    if not (root / "bandai").is_dir():
        pytest.skip(f"real data not found at {root} (set MOTIONGEN_DATA)")
    return root


@pytest.fixture(scope="session")
def prepared_dir(data_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole shared data prepared once (about a minute or two), reused by every worker."""
    from motiongen.data.prepare import prepare

    shared = tmp_path_factory.getbasetemp().parent
    out = shared / "prepared"
    with FileLock(str(shared / "prepared.lock")):
        prepare(data_root, out)
    return out
