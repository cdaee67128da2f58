#!/usr/bin/env bash
# Install motiongen into ./.venv (created if missing). The CPU build of torch comes first:
# an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[dev]"
# Compile librosa's numba functions once, in one process: numba's cache races when several
# processes compile the same gufunc at once (numba/numba#10128), e.g. parallel workers.
.venv/bin/python -c "import numpy as np, librosa; y = np.random.default_rng(0).standard_normal(22050 * 3).astype('float32'); librosa.beat.beat_track(y=y, sr=22050)"
