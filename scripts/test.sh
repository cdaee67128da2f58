#!/usr/bin/env bash
# Install, lint and run the whole test suite (real-data tests run when ../shared/data exists).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check motiongen tests benchmarks
.venv/bin/pytest -q -n 2 --dist loadfile --durations=15 "$@"
