#!/usr/bin/env bash
# The Stick-Gen family at equal compute on a 2-core CPU: small, medium and large each get about
# 20 minutes of pretraining on an idle machine (steps sized from measured seconds per step at
# batch 16: 0.46 / 1.04 / 2.1 s), then a short SFT and a LoRA stage on bandai-1 (100 steps,
# 10 of warm-up). Every stage saves its state every 50 steps: run the script again after a stop
# and each stage continues (--resume); a finished stage is skipped. Writes
# $RUNS/stick_<size>{,_sft,_lora} (RUNS: default runs/ in the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
THREADS=${THREADS:-2}
declare -A PRETRAIN_STEPS=([small]=2600 [medium]=1150 [large]=560)

stage() {  # stage OUT ARGS...: train OUT unless it already holds a finished model
  local out=$1; shift
  echo "$(date +%T) $out: motiongen stick train $* -o $out --resume"
  .venv/bin/motiongen stick train "$@" -o "$out" --threads "$THREADS" --resume
}

for size in ${SIZES:-small medium large}; do
  stage "$RUNS/stick_$size" --stage pretrain --size "$size" \
    --steps "${PRETRAIN_STEPS[$size]}" --batch-size 16
  stage "$RUNS/stick_${size}_sft" --stage sft --init-from "$RUNS/stick_$size" \
    --steps 100 --warmup 10 --batch-size 16
  stage "$RUNS/stick_${size}_lora" --stage lora --init-from "$RUNS/stick_${size}_sft" \
    --steps 100 --warmup 10 --batch-size 16
done
echo "$(date +%T) all stages done"
