"""How long music features take, per minute of audio: a fresh process, a warm one, a cached song.

Run:  .venv/bin/python benchmarks/audio_features.py [--seconds 20] [--songs 8] [--out FILE.json]

Songs are the shared music recordings and dance songs (``MOTIONGEN_DATA``). For each, a
``--seconds`` excerpt is featurised three ways:
- fresh process: ``motiongen.conditioning.audio_features.features_from_file`` as the first
  call of a new Python process (what ``motiongen dance`` paid per run before the cache: it
  includes librosa's lazy imports and numba compiling its gufuncs, once per process);
- warm process, uncached: the same call in a process that has analysed a song before
  (the service warms librosa up at start; decoding, resampling and analysis only);
- cached: ``cached_features_from_file`` on a song seen before (hash of the bytes, one read).
The cached features are checked equal to the computed ones. Figures are medians over songs,
as seconds per minute of audio and as multiples of real time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FPS = 20.0
FRESH = """
import sys, time
from motiongen.conditioning.audio_features import features_from_file
t = time.perf_counter()
features_from_file(sys.argv[1], 20.0, 0.0, float(sys.argv[2]))
print(time.perf_counter() - t)
"""


def songs(limit: int) -> list[Path]:
    from motiongen.paths import data_dir

    root = data_dir()
    found = sorted((root / "music").glob("*.ogg")) + sorted((root / "dance").glob("*/*.wav"))
    found += sorted((root / "dance").glob("*/*.mp3")) + sorted((root / "dance").glob("*/*.ogg"))
    if not found:
        raise SystemExit(f"no songs under {root}/music or {root}/dance; set MOTIONGEN_DATA")
    return found[:limit]


def fresh_seconds(song: Path, seconds: float) -> float:
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(song), str(seconds)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="excerpt length")
    parser.add_argument("--songs", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="JSON results")
    args = parser.parse_args(argv)

    from motiongen.conditioning.audio_features import (
        cached_features_from_file,
        features_from_file,
    )

    picked = songs(args.songs)
    rows: dict[str, list[float]] = {"fresh": [], "warm": [], "cached": []}
    features_from_file(picked[0], FPS, 0.0, args.seconds)  # warm this process up
    frames = int(round(args.seconds * FPS))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for song in picked:
            rows["fresh"].append(fresh_seconds(song, args.seconds))
            t = time.perf_counter()
            direct = features_from_file(song, FPS, 0.0, num_frames=frames)
            rows["warm"].append(time.perf_counter() - t)
            cached_features_from_file(song, FPS, 0.0, num_frames=frames, folder=folder)
            t = time.perf_counter()
            hit = cached_features_from_file(song, FPS, 0.0, num_frames=frames, folder=folder)
            rows["cached"].append(time.perf_counter() - t)
            if not np.array_equal(hit.frames, direct.frames):
                raise SystemExit(f"cached features of {song.name} differ from computed ones")
            print(f"{song.name[:50]:50s} fresh {rows['fresh'][-1]:6.2f} s  warm "
                  f"{rows['warm'][-1]:6.3f} s  cached {rows['cached'][-1] * 1000:6.1f} ms",
                  flush=True)  # fmt: skip

    labels = {
        "fresh": "fresh process, first song (before)",
        "warm": "warm process, uncached",
        "cached": "song seen before (cache hit)",
    }
    table = {}
    print(f"\n{args.seconds:g} s excerpts of {len(picked)} songs, medians\n")
    print(f"| path | s per {args.seconds:g} s | s per minute | x real time |")
    print("|---|---|---|---|")
    for key, values in rows.items():
        median = statistics.median(values)
        per_minute = median * 60.0 / args.seconds
        table[key] = {"seconds": median, "per_minute": per_minute, "x_real_time": 60.0 / per_minute}
        print(f"| {labels[key]} | {median:.3f} | {per_minute:.3f} | {60.0 / per_minute:,.0f} |")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"seconds": args.seconds, "songs": [p.name for p in picked], "rows": rows,
                   "table": table}  # fmt: skip
        args.out.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
