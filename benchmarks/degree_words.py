"""Words of degree and speed: does "deeply" bow deeper than "slightly", "quickly" walk faster?

Run:  .venv/bin/python benchmarks/degree_words.py [--checkpoint DIR] [--seeds 4]
          [--threads N] [--out FILE]

Each row asks one action three ways (less, plainly, more: "bows slightly", "bows", "bows
deeply") and measures what the row is about on every motion (``--seeds`` of each, one batch
from seed 0, as long as ``generate`` makes it): torso pitch for bows, the wrist's height above
its shoulder for raises, the ankle's lift for kicks, speed over the ground for walks and runs;
and whether the label classifier still reads every motion of the row as its action (a fast
run may be read as a sprint) and, where the row names a style, in that style.
A row is in order when the medians go less < plain < more, each step at least a tenth of
the real clips' range of that measure (every style of that action in ``--split``, default
train: what the data can give; 4 degrees of bow for the data's 22-64); per seed, the share
of seeds where "less" stays under the plain median and "more" over it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402


def _pitch(p: np.ndarray, fps: float) -> float:
    from motiongen.eval.contracts import forward_pitch

    return forward_pitch(p)


def _wrist(p: np.ndarray, fps: float) -> float:
    from motiongen.skeleton import JOINT_INDEX as J

    return float((p[:, J["right_wrist"], 1] - p[:, J["right_shoulder"], 1]).max())


def _lift(p: np.ndarray, fps: float) -> float:
    from motiongen.eval.contracts import foot_lift

    return foot_lift(p)


def _speed(p: np.ndarray, fps: float) -> float:
    from motiongen.eval.contracts import ground_speed

    return ground_speed(p, fps)


# (row, measure, unit, content label of real clips, (less, plain, more), the actions the
# motions may be read as, the style they must keep or None)
ROWS = (
    ("bow depth", _pitch, "deg", "bow",
     ("a person bows slightly", "a person bows", "a person bows deeply"), ("bow",), None),
    ("bow depth, other words", _pitch, "deg", "bow",
     ("a man gives a slight bow", "a man gives a bow", "a man gives a deep bow"), ("bow",), None),
    ("right hand height", _wrist, "m", "raise-up-right-hand",
     ("a person raises the right hand a little", "a person raises the right hand",
      "a person raises the right hand high"), ("raise-up-right-hand",), None),
    ("kick height", _lift, "m", "kick",
     ("a person kicks a little", "a person kicks", "a person kicks high"), ("kick",), None),
    ("walk speed", _speed, "m/s", "walk",
     ("a person walks slowly", "a person walks", "a person walks quickly"), ("walk",), None),
    ("walk speed, other words", _speed, "m/s", "walk",
     ("a woman walks at a slow pace", "a woman walks", "a woman walks briskly"), ("walk",),
     None),
    ("proud walk speed (a style named)", _speed, "m/s", "walk",
     ("a proud man walks slowly", "a proud man walks", "a proud man walks quickly"), ("walk",),
     "proud"),
    ("run speed", _speed, "m/s", "run",
     ("a person runs slowly", "a person runs", "a person runs fast"), ("run", "dash"), None),
)  # fmt: skip


# The least step between medians that counts, as a share of the real clips' range.
STEP = 0.1


def real_range(content: str, measure: Any, split: str) -> tuple[float, float] | None:
    from motiongen.data.prepare import prepare

    data = prepare().data
    vals = [measure(data.motion(r).resample(20.0).positions.astype(np.float64), 20.0)
            for r in data.select(split=split) if r.labels.get("content") == content]  # fmt: skip
    return (float(np.min(vals)), float(np.max(vals))) if vals else None


def run(generate: Any, seeds: int, split: str, classify: Any = None) -> dict[str, Any]:
    """generate(prompt, n) -> n motions; classify(motions) -> their labels (``.content``,
    ``.style``: ``LabelClassifier.classify``), or None."""
    rows = []
    for name, measure, unit, content, prompts, actions, style in ROWS:
        made = [generate(p, seeds) for p in prompts]
        values = [[measure(m.positions.astype(np.float64), m.fps) for m in ms] for ms in made]
        kept = None
        if classify is not None:
            seen = classify([m for ms in made for m in ms])
            ok = [c in actions and (style is None or s == style)
                  for c, s in zip(seen.content, seen.style, strict=True)]  # fmt: skip
            kept = float(np.mean(ok))
        less, plain, more = (np.median(v) for v in values)
        real = real_range(content, measure, split)
        step = STEP * (real[1] - real[0]) if real else 0.0
        rows.append({
            "row": name, "unit": unit, "prompts": list(prompts),
            "medians": [float(less), float(plain), float(more)],
            "in_order": bool(less + step < plain and plain + step < more), "step": step,
            "less_under_plain": float(np.mean(np.array(values[0]) < plain)),
            "more_over_plain": float(np.mean(np.array(values[2]) > plain)),
            "real_range": real, "kept": kept, "actions": list(actions), "style": style,
        })  # fmt: skip
    return {"rows": rows, "in_order": int(sum(r["in_order"] for r in rows))}


def markdown(result: dict[str, Any]) -> str:
    s = result["settings"]
    lines = [
        f"Words of degree ({s['checkpoint']}, {s['seeds']} seeds; real range: every clip of "
        f"the action in {s['split']})",
        "",
        "| row | less / plain / more (medians) | in order | seeds: less under plain, more "
        "over plain | still the action (and style) | real range |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in result["rows"]:
        lo, mid, hi = r["medians"]
        real = "–" if r["real_range"] is None else (
            f"{r['real_range'][0]:.2f} – {r['real_range'][1]:.2f} {r['unit']}")  # fmt: skip
        kept = "–" if r["kept"] is None else f"{100 * r['kept']:.0f} %"
        lines.append(
            f'| {r["row"]} ("{r["prompts"][2]}") | {lo:.2f} / {mid:.2f} / {hi:.2f} {r["unit"]} '
            f"| {'yes' if r['in_order'] else 'no'} | {100 * r['less_under_plain']:.0f} %, "
            f"{100 * r['more_over_plain']:.0f} % | {kept} | {real} |"
        )
    lines += ["", f"Rows in order: {result['in_order']} of {len(result['rows'])}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="default: the shipped default model")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--split", default="train", help="the real clips' range comes from it")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    import torch

    from motiongen.pipeline import Pipeline

    if args.threads:
        torch.set_num_threads(args.threads)
    pipe = Pipeline.from_pretrained(args.checkpoint)

    from motiongen.evaluators.classifier import LabelClassifier

    clf = LabelClassifier.from_pretrained()

    def generate(prompt: str, n: int) -> list[Any]:
        return pipe.generate(prompt, seed=0, batch=n)

    result = run(generate, args.seeds, args.split, clf.classify)
    result["settings"] = {"checkpoint": args.checkpoint or "shipped default", "seeds": args.seeds,
                          "split": args.split}  # fmt: skip
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
