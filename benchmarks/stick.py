"""Stick figures: stick-native models vs the projected 3-D model, and rendering speed.

Run:  .venv/bin/python benchmarks/stick.py [--parts compare render] [--stick-models DIR ...]
          [--model3d NAME] [--samples 2] [--seconds 30] [--width 960] [--out FILE]

compare: for every content x style prompt of the Bandai train split, ``--samples`` motions of
  6 s from each stick-native model (``motiongen stick train``) and from the 3-D model projected
  to the stick plane (front view, as the story renderer draws it), judged in stick space by
  the stick label classifier (content / style / both recognised) and by a stick-space FID
  (Fréchet distance of that classifier's embeddings) against the real test-split clips seen
  as sticks; the real clips' own recognition is the reference row.
curves: the training loss of every stage report (report_<stage>.json) in the ``--stick-models``
  folders against optimiser step and against wall-clock minutes, as FILE_curves.png (needs --out).
render: two real test-split clips (looped to ``--seconds``) as stick figures with faces, a
  spoken caption and a camera zoom, rendered to MP4 at 25 fps; the time covers drawing
  (Pillow at 2x, Lanczos down-scaling) and H.264 encoding.
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

from benchmarks.report import report  # noqa: E402


def compare(args: argparse.Namespace, data) -> dict:  # noqa: ANN001
    from rich.progress import Progress

    from motiongen.eval.recognition import label_pairs
    from motiongen.stick.representation import to_stick
    from motiongen.stickgen.evaluate import WINDOW, load_stick_classifier, recognise, stick_fid
    from motiongen.stickgen.model import StickGen

    clf = load_stick_classifier(args.classifier)
    pairs = label_pairs(data, classifier=clf)[: args.max_pairs]
    real, rc, rs = [], [], []
    for rec in data.select(split="test"):
        if rec.source.startswith("bandai"):  # select() gives kept clips only
            pos = data.motion(rec).resample(20.0).positions
            start = max(0, (len(pos) - WINDOW) // 2)
            real.append(to_stick(pos[start : start + WINDOW]))
            lab = rec.labels
            from motiongen.evaluators.labels import content_label, style_label

            rc.append(content_label(lab))
            rs.append(style_label(lab))
    rows = {"real test clips": {**recognise(clf, real, rc, rs), "fid": None}}
    generators = {}
    for folder in args.stick_models:
        model = StickGen.load(folder)
        name = f"stick-native {model.size} ({model.num_params() / 1e6:.1f} M, {Path(folder).name})"
        generators[name] = lambda prompts, seed, m=model: list(
            m.generate(prompts, WINDOW, steps=args.steps, guidance=args.guidance, seed=seed)
        )
    if args.model3d:
        from motiongen.pipeline import Pipeline

        pipe = Pipeline.from_pretrained(args.model3d)
        name = f"3-D {pipe.name} projected"

        def projected(prompts, seed, pipe=pipe):  # noqa: ANN001, ANN202
            out = []
            for i, p in enumerate(prompts):
                m = pipe.generate(p, seconds=WINDOW / 20.0, seed=seed + i)[0]
                out.append(to_stick(m.positions[:WINDOW]))
            return out

        generators[name] = projected
    with Progress() as bar:
        for name, gen in generators.items():
            task = bar.add_task(name[:40], total=len(pairs))
            sticks, cs, ss = [], [], []
            t0 = time.perf_counter()
            for k, pair in enumerate(pairs):
                got = gen([pair.prompt] * args.samples, 1000 * k)
                sticks += got
                cs += [pair.content] * len(got)
                ss += [pair.style] * len(got)
                bar.advance(task)
            rows[name] = {**recognise(clf, sticks, cs, ss), "fid": stick_fid(clf, real, sticks),
                          "ms_per_motion": 1e3 * (time.perf_counter() - t0) / max(len(sticks), 1)}  # fmt: skip
    return {"pairs": len(pairs), "samples": args.samples, "rows": rows}


def render(args: argparse.Namespace, data) -> dict:  # noqa: ANN001
    from motiongen.stick.render import FPS, Actor, Scene, render_scene
    from motiongen.stick.representation import StickCamera, to_stick

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
    return {"seconds": args.seconds, "width": args.width, "frames": n_out, "render_s": took,
            "fps": fps}  # fmt: skip


def curves(args: argparse.Namespace) -> dict:
    """The loss curves of the stick models' training stages, drawn to FILE_curves.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {}
    for folder in map(Path, args.stick_models):
        for rep in sorted(folder.glob("report_*.json")):
            r = json.loads(rep.read_text())
            every, steps = r.get("log_every", 50), r["config"]["steps"]  # a point every 50 steps
            runs[f"{folder.name} ({r['config']['stage']}, {r['config']['size']})"] = {
                "steps": [min(every * (k + 1), steps) for k in range(len(r["losses"]))],
                "batch_size": r["config"]["batch_size"],
                "minutes": r["minutes"], "losses": r["losses"],
                "val_loss": [r["val_loss_start"], r["val_loss"]],
            }  # fmt: skip
    if args.out is not None and runs:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=110, sharey=True)
        for name, r in runs.items():
            n = len(r["losses"])
            axes[0].plot(r["steps"], r["losses"], label=name)
            axes[1].plot([r["minutes"] * (k + 1) / n for k in range(n)], r["losses"], label=name)
        batches = sorted({r["batch_size"] for r in runs.values()})
        axes[0].set_xlabel(f"optimiser step ({'/'.join(map(str, batches))} windows of 6 s)")
        axes[1].set_xlabel("training minutes (set-up excluded)")
        axes[0].set_ylabel("training loss (flow matching)")
        for ax in axes:
            ax.set_yscale("log")
            ax.grid(alpha=0.3, which="both")
        axes[1].legend(fontsize=7)
        fig.tight_layout()
        png = args.out.parent / f"{args.out.name}_curves.png"
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png)
        plt.close(fig)
    return runs


def markdown(result: dict) -> str:
    lines = [f"`{result['command']}`", ""]
    if "compare" in result:
        c = result["compare"]
        lines += [f"Stick space, {c['pairs']} content x style prompts x {c['samples']} samples, "
                  "6 s each:", "",
                  "| generator | content | style | both | stick FID | ms / motion |",
                  "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for name, r in c["rows"].items():
            ms = r.get("ms_per_motion")
            fid = "–" if r["fid"] is None else f"{r['fid']:.3f}"  # the real set is the reference
            lines.append(f"| {name} | {100 * r['content']:.1f} % | {100 * r['style']:.1f} % | "
                         f"{100 * r['both']:.1f} % | {fid} | "
                         f"{'' if ms is None else f'{ms:.0f}'} |")  # fmt: skip
    if "curves" in result:
        lines += ["", "| training stage | steps | minutes | val loss before -> after |",
                  "|---|---:|---:|---|"]  # fmt: skip
        for name, r in result["curves"].items():
            lines.append(f"| {name} | {r['steps'][-1] if r['steps'] else 0} | {r['minutes']} | "
                         f"{r['val_loss'][0]:.4f} -> {r['val_loss'][1]:.4f} |")  # fmt: skip
    if "render" in result:
        r = result["render"]
        lines += ["", f"{r['seconds']:g} s two-actor scene at {r['width']}x480, {r['frames']} "
                  f"frames: {r['render_s']:.1f} s, {r['fps']:.1f} frames/s "
                  f"({r['fps'] / 25:.2f}x real time)"]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import shlex

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["compare", "render"],
                        choices=["compare", "curves", "render"])  # fmt: skip
    parser.add_argument("--stick-models", nargs="*", default=[], help="stick model folders")
    parser.add_argument(
        "--model3d", default=None, help="3-D checkpoint ('' = none; default: the shipped default)"
    )
    parser.add_argument("--classifier", default=None, help="stick classifier folder")
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-pairs", type=int, default=None)
    parser.add_argument("--steps", type=int, default=10, help="stick model sampler steps")
    parser.add_argument("--guidance", type=float, default=2.5)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=960, choices=[640, 960])
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)
    if args.model3d is None:
        from motiongen.paths import DEFAULT_MODEL

        args.model3d = DEFAULT_MODEL

    from motiongen.data.prepare import prepare

    data = prepare().data
    result: dict = {"command": shlex.join(["python", "benchmarks/stick.py",
                                           *(argv if argv is not None else sys.argv[1:])])}  # fmt: skip
    if "compare" in args.parts:
        result["compare"] = compare(args, data)
    if "curves" in args.parts:
        result["curves"] = curves(args)
    if "render" in args.parts:
        result["render"] = render(args, data)
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
