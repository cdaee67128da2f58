"""Do different prompts give different, fitting motions? Label recognition of generated motions.

Run:  .venv/bin/python benchmarks/label_recognition.py [--checkpoint DIR] [--samples 3]
          [--steps N] [--sampler euler] [--guidance G] [--seconds 6.5] [--out FILE.json]

For every content x style pair of the Bandai training split (dance songs are left out: their
"label" is a dance type that music, not a prompt, should drive), the prompt is the plainest
description of the labels (``describe(labels)[0]``, e.g. "a person waves with the left hand
sadly"). The checkpoint (default: the shipped default model; ``--checkpoint tiny-ddim`` for the
DDIM baseline) generates ``--samples`` motions per prompt with fixed seeds, and the shipped
label classifier (``motiongen/assets/evaluators/label-classifier``) judges content and style.
Its accuracy on the real test-split clips of the same pairs is the reference; the ratio
generated / real is the headline (1.0 = as recognisable as real motion).

``--out X.json`` writes the summary and per-pair results; X.md gets the Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402
from motiongen.data.store import PreparedData  # noqa: E402
from motiongen.eval.recognition import (  # noqa: E402
    BANDAI_SOURCES,
    GenerateFn,
    LabelPair,
    label_pairs,
    make_generate_fn,
    markdown_table,
    recognise_generated,
    recognise_real,
    summarise,
)
from motiongen.evaluators.classifier import LabelClassifier  # noqa: E402
from motiongen.paths import DEFAULT_MODEL  # noqa: E402


def run(
    data: PreparedData,
    classifier: LabelClassifier,
    generate: GenerateFn,
    *,
    samples: int = 3,
    seed: int = 0,
    max_pairs: int | None = None,
    sources: tuple[str, ...] = BANDAI_SOURCES,
    show_progress: bool = True,
) -> dict[str, Any]:
    """The whole benchmark on prepared data: {"summary", "pairs", "real", "seconds"}."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    pairs = label_pairs(data, sources=sources, classifier=classifier)
    if max_pairs is not None:
        pairs = pairs[:max_pairs]
    t0 = time.perf_counter()
    with Progress(
        TextColumn("generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[prompt]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("pairs", total=len(pairs), prompt="")

        def advance(pair: LabelPair) -> None:
            bar.update(task, advance=1, prompt=pair.prompt[:48])

        generated = recognise_generated(
            classifier, pairs, generate, samples=samples, seed=seed, progress=advance
        )
    seconds = time.perf_counter() - t0
    real = recognise_real(classifier, data, pairs, split="test")
    return {
        "summary": summarise(generated, real),
        "pairs": [r.to_dict() for r in generated],
        "real": [r.to_dict() for r in real if r.n],
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--checkpoint", default=None, help=f"folder or shipped name ({DEFAULT_MODEL})"
    )
    parser.add_argument("--classifier", type=Path, default=None, help="classifier folder")
    parser.add_argument("--samples", type=int, default=3, help="motions per label pair")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--sampler", default=None)
    parser.add_argument("--guidance", type=float, default=None)
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="one length for every prompt (default: each prompt's, as generate picks it)",
    )
    parser.add_argument("--max-pairs", type=int, default=None, help="only the first N pairs")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)

    import torch
    from rich.console import Console

    from motiongen.data.prepare import prepare

    if args.threads:
        torch.set_num_threads(args.threads)
    console = Console()
    data = prepare().data
    classifier = LabelClassifier.from_pretrained(args.classifier)
    from motiongen.pipeline import Pipeline

    generate = make_generate_fn(
        Pipeline.from_pretrained(args.checkpoint),
        seconds=args.seconds,
        steps=args.steps,
        sampler=args.sampler,
        guidance=args.guidance,
    )
    result = run(
        data, classifier, generate, samples=args.samples, seed=args.seed, max_pairs=args.max_pairs
    )
    result["settings"] = {
        "checkpoint": args.checkpoint or DEFAULT_MODEL,
        "samples": args.samples,
        "seed": args.seed,
        "steps": args.steps,
        "sampler": args.sampler,
        "guidance": args.guidance,
        "seconds": args.seconds,
        "threads": torch.get_num_threads(),
        "classifier": str(args.classifier or "shipped"),
    }
    report(markdown_table(result["summary"]), result, args.out)
    console.print(
        f"{len(result['pairs'])} label pairs x {args.samples} samples in "
        f"{result['seconds']:.0f} s ({torch.get_num_threads()} threads)"
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
