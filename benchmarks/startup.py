"""How long a user waits for one `motiongen generate`, per text-encoder backend.

Run:  .venv/bin/python benchmarks/startup.py [--repeats 5] [--out FILE]

Each repeat runs `motiongen generate PROMPT -o tmp.npy --seed 0` as a new process, once with
the text encoder as an ONNX graph (the default on the CPU) and once through
sentence-transformers (``MOTIONGEN_TEXT_BACKEND=torch``), alternating so both see the same
machine load. Then, in this process, the encoder alone: loading it, and encoding a new prompt
at batch 1. The ONNX graph is made first if missing (once per machine; not timed). Columns are
medians over the repeats; the ratio is torch / onnx.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

BACKENDS = ("onnx", "torch")
PROMPT = "a person waves with both hands happily"


def _cli_seconds(backend: str, out: Path) -> float:
    env = {**os.environ, "MOTIONGEN_TEXT_BACKEND": backend}
    cmd = [sys.executable, "-m", "motiongen.cli", "generate", PROMPT, "-o", str(out), "--seed", "0"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"error: generate failed with {backend}: {done.stderr.strip()[-300:]}")
    return seconds


def _encoder_seconds(backend: str, repeats: int) -> tuple[float, float]:
    """(load s, ms to encode a new prompt) in a fresh process, so no import is shared."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from motiongen.conditioning.text import TextEncoder\n"
        f"enc = TextEncoder.from_default(backend={backend!r}); load = time.perf_counter() - t\n"
        "ms = []\n"
        f"for i in range({repeats * 4}):\n"
        "    t = time.perf_counter(); enc.encode([f'a person walks {i} steps'])\n"
        "    ms.append((time.perf_counter() - t) * 1e3)\n"
        "import statistics; print(load, statistics.median(ms))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: the {backend} encoder failed: {done.stderr.strip()[-300:]}")
    load, ms = done.stdout.split()[-2:]
    return float(load), float(ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args()
    if args.repeats < 1:
        raise SystemExit("error: --repeats must be at least 1")

    from motiongen.conditioning.text import TextEncoder

    TextEncoder.from_default(backend="onnx")  # makes the graph once, outside the timings
    cli: dict[str, list[float]] = {b: [] for b in BACKENDS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            for b in BACKENDS if i % 2 == 0 else BACKENDS[::-1]:
                cli[b].append(_cli_seconds(b, Path(tmp) / "m.npy"))
    encoder = {b: _encoder_seconds(b, args.repeats) for b in BACKENDS}
    rows = {
        b: {"generate_s": statistics.median(cli[b]), "encoder_load_s": encoder[b][0],
            "encode_ms": encoder[b][1], "generate_runs_s": cli[b]}
        for b in BACKENDS
    }  # fmt: skip
    o, t = rows["onnx"], rows["torch"]
    lines = [
        f"`motiongen generate \"{PROMPT}\"`, {args.repeats} runs each, medians",
        "",
        "| text encoder | whole command (s) | encoder load (s) | encode a new prompt (ms) |",
        "|---|---:|---:|---:|",
        *(f"| {b} | {r['generate_s']:.2f} | {r['encoder_load_s']:.2f} | {r['encode_ms']:.1f} |"
          for b, r in rows.items()),
        f"| torch / onnx | {t['generate_s'] / o['generate_s']:.2f}x | "
        f"{t['encoder_load_s'] / o['encoder_load_s']:.2f}x | {t['encode_ms'] / o['encode_ms']:.2f}x |",
    ]  # fmt: skip
    report("\n".join(lines), rows, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
