"""Prompts asking for an action in a style its clips were never recorded in: is the action kept?

Run:  .venv/bin/python benchmarks/unrecorded_styles.py [--checkpoint DIR] [--seeds 2]
          [--min-styles 5] [--out FILE]

The two Bandai sets share only walk and run, so "a person raises both hands happily" names a
content x style pair no training clip shows (``action_styles.json`` of the checkpoint). For
every such pair of an action recorded in at least ``--min-styles`` styles (styles the label
vocabulary merges count as one), the plainest description of the pair
(``describe(labels)[0]``) is generated ``--seeds`` times (seeds differ per pair) twice: as
written (``literal=True``) and as the pipeline does by default (the style words left out,
``generation.vocabulary``). The shipped label classifier judges the content of each motion;
its content accuracy on the real test clips of the same actions (any style) is the reference.
The asked style has no real clip of these actions to compare with, so it is reported, not
judged: how often the classifier names it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

SECONDS = 6.5


def unrecorded_pairs(action_styles: dict[str, Any], contents: set[str],
                     min_styles: int) -> list[tuple[str, str]]:  # fmt: skip
    """(action, raw style) pairs never recorded, for actions of the classifier's vocabulary
    recorded in at least ``min_styles`` merged styles; one raw name per merged style."""
    from motiongen.evaluators.labels import STYLE_SYNONYMS

    def canon(s: str) -> str:
        return STYLE_SYNONYMS.get(s, s)

    styles = sorted({s for v in action_styles["actions"].values() for s in v})
    pairs = []
    for action, recorded in sorted(action_styles["actions"].items()):
        have = {canon(s) for s in recorded}
        if len(have) < min_styles or action not in contents:
            continue
        asked = {canon(s): s for s in sorted(styles, reverse=True) if canon(s) not in have}
        pairs += [(action, raw) for merged, raw in sorted(asked.items()) if merged != "normal"]
    return pairs


def real_content_rate(classifier: Any, actions: set[str], split: str) -> float:
    from motiongen.data.prepare import prepare
    from motiongen.evaluators.labels import content_label

    data = prepare().data
    recs = [r for r in data.select(split=split) if content_label(r.labels) in actions]
    motions = [data.motion(r).resample(20.0) for r in recs]
    pred = classifier.classify(motions)
    hits = [p == content_label(r.labels) for p, r in zip(pred.content, recs, strict=True)]
    return sum(hits) / max(1, len(hits))


def run(pipe: Any, classifier: Any, pairs: list[tuple[str, str]], seeds: int,
        progress: Any = None) -> list[dict[str, Any]]:  # fmt: skip
    from motiongen.data.text import describe
    from motiongen.evaluators.labels import STYLE_SYNONYMS

    rows = []
    for i, (action, style) in enumerate(pairs):
        prompt = describe({"content": action, "style": style})[0]
        row: dict[str, Any] = {"action": action, "style": style, "prompt": prompt}
        for mode, literal in (("literal", True), ("default", False)):
            motions = pipe.generate(prompt, seconds=SECONDS, seed=1000 * i, batch=seeds,
                                    literal=literal)  # fmt: skip
            pred = classifier.classify(motions)
            row[mode] = {
                "content_hits": sum(c == action for c in pred.content),
                "style_hits": sum(STYLE_SYNONYMS.get(style, style) == s for s in pred.style),
                "used": (motions[0].meta.get("vocabulary", {}).get("unseen_style") or {}).get(
                    "used", prompt
                ),
            }
        rows.append(row)
        if progress is not None:
            progress(f"{action} {style}")
    return rows


def summary(rows: list[dict[str, Any]], seeds: int) -> dict[str, Any]:
    n = max(1, len(rows) * seeds)
    out: dict[str, Any] = {"pairs": len(rows), "motions_per_mode": len(rows) * seeds,
                           "changed": sum(r["default"]["used"] != r["prompt"] for r in rows)}  # fmt: skip
    for mode in ("literal", "default"):
        out[mode] = {
            "content": sum(r[mode]["content_hits"] for r in rows) / n,
            "asked_style": sum(r[mode]["style_hits"] for r in rows) / n,
        }
    actions: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        actions.setdefault(r["action"], []).append(r)
    out["per_action"] = {
        a: {mode: sum(r[mode]["content_hits"] for r in rs) / (len(rs) * seeds)
            for mode in ("literal", "default")}
        for a, rs in sorted(actions.items())
    }  # fmt: skip
    return out


def markdown(result: dict[str, Any]) -> str:
    s = result["summary"]
    real = result["real_content"]
    lines = [
        f"{s['pairs']} unrecorded action x style pairs ({s['changed']} prompts changed by "
        f"default), {s['motions_per_mode']} motions per way; real test clips of these actions: "
        f"content {100 * real:.1f} %",
        "",
        "| prompt sent | content recognised | asked style named |",
        "|---|---:|---:|",
        f"| as written (`literal=True`) | {100 * s['literal']['content']:.1f} % | "
        f"{100 * s['literal']['asked_style']:.1f} % |",
        f"| style words left out (default) | {100 * s['default']['content']:.1f} % | "
        f"{100 * s['default']['asked_style']:.1f} % |",
        "",
        "| action | content, as written | content, style left out |",
        "|---|---:|---:|",
    ]
    for a, v in s["per_action"].items():
        lines.append(f"| {a} | {100 * v['literal']:.0f} % | {100 * v['default']:.0f} % |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="folder or shipped name")
    parser.add_argument("--seeds", type=int, default=2, help="motions per pair and way")
    parser.add_argument("--min-styles", type=int, default=5)
    parser.add_argument("--split", default="test", help="real clips of this split as reference")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    from motiongen.errors import InputError
    from motiongen.evaluators.classifier.model import LabelClassifier
    from motiongen.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(args.checkpoint)
    if not pipe.action_styles:
        raise InputError(f"checkpoint {pipe.name} records no action styles (action_styles.json)")
    classifier = LabelClassifier.from_pretrained()
    pairs = unrecorded_pairs(pipe.action_styles, set(classifier.content_index), args.min_styles)
    rows = run(pipe, classifier, pairs, args.seeds,
               progress=lambda what: print(what, file=sys.stderr, flush=True))  # fmt: skip
    actions = {a for a, _ in pairs}
    result = {
        "summary": summary(rows, args.seeds),
        "real_content": real_content_rate(classifier, actions, args.split),
        "rows": rows,
        "settings": {
            "checkpoint": args.checkpoint or "shipped default",
            "seeds": args.seeds,
            "min_styles": args.min_styles,
            "split": args.split,
        },  # fmt: skip
    }
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
