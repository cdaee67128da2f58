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
# Make the text encoder's ONNX graph now (once per machine, ~10 s), so the first `generate`
# starts as quickly as every later one (motiongen/conditioning/text_onnx.py).
.venv/bin/python -c "from motiongen.conditioning.text import TextEncoder; TextEncoder.from_default()"
# Build the motion index the default model starts its motions from (docs/retrieval.md) when
# the shared data is here and no index is: without one, generation works but follows prompts
# less well (labels recognised 84 % instead of 99 %, README). Once per machine, ~1 min.
if ! .venv/bin/python - <<'PY'
import sys
from motiongen.generation.rag import default_index_dir
from motiongen.paths import data_dir
sys.exit(0 if (default_index_dir() / "index.faiss").is_file() or not data_dir().is_dir() else 1)
PY
then
  .venv/bin/motiongen index build || echo "warning: could not build the motion index; 'motiongen index build' makes it" >&2
fi

# The browser tests (tests/test_web_page.py) drive Debian's Chromium through Playwright; the
# browser build Playwright would download is never used. Installed here when missing and
# possible (root with apt-get); without it those tests skip and say why.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "warning: could not install chromium; the browser tests will skip" >&2
  else
    echo "note: no chromium; 'apt-get install chromium' (as root) to run the browser tests" >&2
  fi
fi
