"""Prompt contracts: pass rates of concrete asks ("both hands", "left hand", "bow" ...).

Run:  .venv/bin/python benchmarks/prompt_contract.py [--checkpoint DIR] [--seeds 8]
          [--steps N] [--guidance G] [--seconds S] [--split test] [--out FILE.json]

For every contract of ``motiongen.eval.contracts`` the checkpoint generates ``--seeds``
motions from the contract's prompt (one batch drawn from seed 0; each prompt as long as
``generate`` makes it unasked, or ``--seconds``, 6.5 until 2026-12-05) and the rule is applied to each,
and the same from each of the contract's other wordings (words no training text uses);
the same rule on the real clips of the matching content label (``--split``, default test) is
the reference, so a rule that real motion fails shows up as such. Also: "run is faster than
walk" per seed (mean pelvis speed), foot skating of generated walks against real walks, and
root drift of in-place prompts against real clips of those labels (also with each
generated motion cut to a real clip's length: drift grows with time), and the walk and
run paces against the real walks and runs. Post-processing is on, as
a user gets it; ``--raw`` measures the network output without it.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402
from motiongen.artifacts import foot_skating_ratio  # noqa: E402
from motiongen.eval.contracts import CONTRACTS, ground_speed, root_drift  # noqa: E402

IN_PLACE = {  # prompt -> content label of real clips that stay in place
    "a person bows": "bow",
    "a person waves with both hands": "wave-both-hands",
    "a person raises the left hand": "raise-up-left-hand",
}


@functools.cache
def _prepared() -> Any:
    from motiongen.data.prepare import prepare

    return prepare().data


def real_motions(split: str, content: str) -> list[Any]:
    """Real clips of one content label (positions at 20 fps) from the prepared cache: those
    of ``split``, or of every split when ``split`` holds none (dataset-1 has about one clip
    per content x style; the reference only checks that the rule fits real motion)."""
    data = _prepared()
    recs = [r for r in data.select(split=split) if r.labels.get("content") == content]
    if not recs:
        recs = [r for r in data.select() if r.labels.get("content") == content]
    return [data.motion(r).resample(20.0) for r in recs]


def run(generate: Any, *, seeds: int, split: str, progress: Any = None) -> dict[str, Any]:
    """Every contract on generated and real motions; generate(prompt, n) -> n Motions."""
    rows = []
    for c in CONTRACTS:
        gen = generate(c.prompt, seeds)
        values = [c.measure(m.positions, m.fps) for m in gen]
        real = real_motions(split, c.content)
        real_values = [c.measure(m.positions, m.fps) for m in real]
        wordings = {}
        for words in c.other_wordings:
            made = [c.measure(m.positions, m.fps) for m in generate(words, seeds)]
            wordings[words] = float(np.mean([c.passes(v) for v in made]))
        rows.append(
            {
                "contract": c.name,
                "prompt": c.prompt,
                "rule": c.rule,
                "generated_pass": float(np.mean([c.passes(v) for v in values])),
                "other_wordings": wordings,
                "other_wordings_pass": float(np.mean(list(wordings.values())))
                if wordings
                else None,
                "generated_median": float(np.median(values)),
                "real_pass": float(np.mean([c.passes(v) for v in real_values]))
                if real_values
                else None,
                "real_median": float(np.median(real_values)) if real_values else None,
                "real_clips": len(real_values),
            }
        )
        if progress is not None:
            progress(c.name)
    runs = generate("a person runs forward", seeds)
    walks = generate("a person walks forward", seeds)
    faster = [ground_speed(r.positions, r.fps) > ground_speed(w.positions, w.fps)
              for r, w in zip(runs, walks, strict=True)]  # fmt: skip
    real_walks = real_motions(split, "walk")
    real_runs = real_motions(split, "run")
    extra = {
        "run_faster_than_walk": float(np.mean(faster)),
        "walk_speed_median": float(np.median([ground_speed(w.positions, w.fps) for w in walks])),
        "run_speed_median": float(np.median([ground_speed(r.positions, r.fps) for r in runs])),
        # every style's clips: the prompts name no style, so their pace is the data's middle
        "walk_speed_real": float(np.median([ground_speed(w.positions, w.fps) for w in real_walks])),
        "run_speed_real": float(np.median([ground_speed(r.positions, r.fps) for r in real_runs])),
        "walk_skating_generated": float(
            np.median([foot_skating_ratio(w.positions, w.fps) for w in walks])
        ),
        "walk_skating_real": float(
            np.median([foot_skating_ratio(w.positions, w.fps) for w in real_walks])
        ),
    }
    drift_gen, drift_real, matched_gen, matched_real = [], [], [], []
    for prompt, content in IN_PLACE.items():
        made = generate(prompt, seeds)
        real = real_motions(split, content)
        drift_gen += [root_drift(m.positions) for m in made]
        drift_real += [root_drift(m.positions) for m in real]
        # Drift grows with duration and the real clips last 1.2-8 s: each real
        # clip is also paired with a generated motion, both cut to the shorter one's seconds.
        for i, r in enumerate(real):
            g = made[i % len(made)]
            seconds = min(r.num_frames / r.fps, g.num_frames / g.fps)
            matched_gen.append(root_drift(g.positions[: max(1, round(seconds * g.fps))]))
            matched_real.append(root_drift(r.positions[: max(1, round(seconds * r.fps))]))
    extra["in_place_drift_generated"] = float(np.median(drift_gen))
    extra["in_place_drift_real"] = float(np.median(drift_real))
    extra["in_place_drift_generated_matched"] = float(np.median(matched_gen))
    extra["in_place_drift_real_matched"] = float(np.median(matched_real))
    return {"contracts": rows, "extra": extra}


def _pair(e: dict[str, Any], a: str, b: str) -> str:
    """ "x / y" of two figures, "–" for a result saved before they were measured."""
    return f"{e[a]:.2f} / {e[b]:.2f}" if a in e and b in e else "–"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| contract | prompt | rule | generated pass | other wordings pass | real pass (clips) "
        "| generated median | real median |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["contracts"]:
        real = (
            "–" if r["real_pass"] is None else f"{100 * r['real_pass']:.0f} % ({r['real_clips']})"
        )
        rm = "–" if r["real_median"] is None else f"{r['real_median']:.2f}"
        other = r.get("other_wordings_pass")
        other = "–" if other is None else f"{100 * other:.0f} %"
        lines.append(
            f"| {r['contract']} | {r['prompt']} | {r['rule']} | {100 * r['generated_pass']:.0f} % "
            f"| {other} | {real} | {r['generated_median']:.2f} | {rm} |"
        )
    lines += [
        "",
        "| contract | other wording (not in any training text) | pass |",
        "|---|---|---:|",
    ]
    for r in result["contracts"]:
        for words, rate in r.get("other_wordings", {}).items():
            lines.append(f"| {r['contract']} | {words} | {100 * rate:.0f} % |")
    e = result["extra"]
    lines += [
        "",
        "| check | generated | real |",
        "|---|---:|---:|",
        f"| run faster than walk (same seed) | {100 * e['run_faster_than_walk']:.0f} % | – |",
        f"| median pelvis speed walk / run, m/s | {e['walk_speed_median']:.2f} / "
        f"{e['run_speed_median']:.2f} | {_pair(e, 'walk_speed_real', 'run_speed_real')} |",
        f"| foot skating of walks (median ratio) | {e['walk_skating_generated']:.3f} | "
        f"{e['walk_skating_real']:.3f} |",
        f"| root drift of in-place prompts (median, m) | {e['in_place_drift_generated']:.3f} | "
        f"{e['in_place_drift_real']:.3f} |",
    ]
    if "in_place_drift_generated_matched" in e:
        lines.append(
            "| the same, each real clip and a generated motion cut to the shorter's seconds | "
            f"{e['in_place_drift_generated_matched']:.3f} | {e['in_place_drift_real_matched']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="folder or shipped name")
    parser.add_argument("--seeds", type=int, default=8, help="motions per prompt")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--sampler", default=None)
    parser.add_argument("--guidance", type=float, default=None)
    parser.add_argument("--split", default="test", help="real clips of this split as reference")
    parser.add_argument("--raw", action="store_true", help="no post-processing")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="one length for every prompt (default: each prompt's, as generate picks it)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(args.checkpoint)
    options = {k: v for k, v in {"steps": args.steps, "sampler": args.sampler,
                                 "guidance": args.guidance}.items() if v is not None}  # fmt: skip

    def generate(prompt: str, n: int) -> list[Any]:
        return pipe.generate(prompt, seconds=args.seconds, seed=0, batch=n,
                             postprocess=not args.raw, **options)  # fmt: skip

    result = run(generate, seeds=args.seeds, split=args.split)
    result["settings"] = {"checkpoint": args.checkpoint or "shipped default", "seeds": args.seeds,
                          "split": args.split, "raw": args.raw, "seconds": args.seconds,
                          **options}  # fmt: skip
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
