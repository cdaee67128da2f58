#!/usr/bin/env bash
# Install, then generate a motion from a prompt with the bundled model and render it to MP4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/motiongen generate "a person waves with both hands energetically" -o wave.mp4 --seed 0
