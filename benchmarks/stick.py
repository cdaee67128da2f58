"""Stick-figure rendering speed: frames per second for a 30 s two-actor scene.

Run:  .venv/bin/python benchmarks/stick.py [--seconds 30] [--width 960] [--out FILE.json]

Two real test-split clips (looped to ``--seconds``) as stick figures with faces, a spoken
caption and a camera zoom, rendered to MP4 at 25 fps; the time covers drawing (Pillow at 2x,
Lanczos down-scaling) and H.264 encoding. Not measured yet: the stick-native model family of
the issue (not trained), so no label-recognition or stick-space FID comparison is made here.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=960, choices=[640, 960])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from motiongen.data.prepare import prepare
    from motiongen.stick.render import FPS, Actor, Scene, render_scene
    from motiongen.stick.representation import StickCamera, to_stick

    data = prepare().data
    recs = [r for r in data.select(split="test") if r.source.startswith("bandai")][:2]
    frames = int(args.seconds * 20) + 1
    sticks = []
    for i, rec in enumerate(recs):
        pos = data.motion(rec).resample(20.0).positions
        reps = int(np.ceil(frames / len(pos)))
        sticks.append(to_stick(np.concatenate([pos] * reps)[:frames], StickCamera(yaw=0.5))
                      + np.array([(-0.7 + 1.4 * i), 0.0] * 10))  # fmt: skip
    n_out = int(args.seconds * FPS) + 1
    camera = np.stack([np.zeros(n_out), np.zeros(n_out), np.linspace(1.0, 1.4, n_out)], axis=1)
    scene = Scene([Actor(sticks[0], expression="happy"),
                   Actor(sticks[1], expression="sad", talking=np.ones(frames, bool),
                         colour=(170, 40, 40))],
                  width=args.width, captions=[(0.0, args.seconds, '"a line of dialogue"')],
                  camera=camera)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render_scene(scene, Path(tmp) / "scene.mp4")
        took = time.perf_counter() - t0
    fps = n_out / took
    text = (f"{args.seconds:g} s two-actor scene at {args.width}x480, {n_out} frames: "
            f"{took:.1f} s, {fps:.1f} frames/s ({fps / FPS:.2f}x real time)")  # fmt: skip
    print(text)
    if args.out is not None:
        args.out.write_text(json.dumps({"seconds": args.seconds, "width": args.width,
                                        "frames": n_out, "render_s": took, "fps": fps}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
