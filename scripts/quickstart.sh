#!/usr/bin/env bash
# Install, then render a real motion-capture clip (Bandai Namco, "a person bows sadly") to MP4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
DATA="${MOTIONGEN_DATA:-../shared/data}"
CLIP="$DATA/bandai/dataset-1/data/dataset-1_bow_sad_001.bvh"
if [ -f "$CLIP" ]; then
  .venv/bin/motiongen render "$CLIP" -o bow.mp4
else
  # No real data on this machine: render a procedural motion instead.
  .venv/bin/motiongen data synth --n 1 -o synthetic --format npz
  .venv/bin/motiongen render "$(ls synthetic/*.npz | head -1)" -o bow.mp4
fi
