"""The dance gate over several seeds: the default flow model against DDIM-50 on the music windows.

Run:  .venv/bin/python benchmarks/dance_gate.py [--split test] [--seeds 4] [--flow NAME]
      [--flow-guidance G [G ...]] [--ddim NAME] [--ddim-steps 50] [--no-text] [--out FILE]

``benchmarks/flow_vs_ddim.py`` scores one motion per condition: on the test split that is 12
music windows, and its dance agreement moved by 0.02 between two post-processing variants
that, over 4 seeds, are level. Here every music window of the split (``motiongen eval``'s
conditions) is danced ``--seeds`` times by each model (seed ``1000 s + window``): as shipped
(retimed onto the music's beats, ``generation.on_beats``, since 2026-12-05's thirtieth
session), and at the network's own timing (``beat_sync=False``), whose raw output is also
post-processed as shipped (dances keep the network's contacts alone), with the toes
low and slow that those contacts leave out locked too (``add_guessed=True``, as for motion
without music), and as before 2026-12-05 (neither that nor the bone fix re-solving legs to
keep toes near the floor, ``keep_toes=False``), and on the slow-foot floor of motion without
music (``grounded=False``, as before 2026-12-06), then scored like ``motiongen eval`` scores it
(``eval.sanity.MusicalityScorer``: dance agreement, musicality, tempo margin), and for how the
dancer stands on the floor: the share of frames with no foot joint within 3 cm of it ("hovering";
real dances 4-15 % by dance) and the median height of the lowest foot joint.
The real windows are the reference row. Beside the means, the shipped flow model minus the
shipped DDIM-50 per window (its seeds averaged) with a 95 % paired bootstrap over windows: the
windows of one song are not independent, so read the interval as a floor on the noise.
``--windows-per-song 8`` doubles the eval's 4 windows per song; ``--shipped-only`` skips the
post-processing variants.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cleanup_inputs import cleanup_inputs  # noqa: E402
from benchmarks.report import report, run_cli  # noqa: E402

KEYS = ("dance_agreement", "musicality", "tempo_margin")
FLOOR_KEYS = ("hovering", "lowest_foot_cm")
# A frame hovers when no foot joint is this close to the floor (m).
HOVER_HEIGHT = 0.03
VARIANTS = {  # name -> postprocess options over the pipeline's own, of the network's timing
    "its own timing (beat_sync=False)": {},
    "its own timing, guessed contacts added, as for motion without music": {"add_guessed": True},
    "its own timing, before 2026-12-05": {
        "add_guessed": False,
        "keep_toes": False,
        "grounded": False,
    },
    "its own timing, on the slow-foot floor (before 2026-12-06)": {"grounded": False},
}


def floor_contact(positions: np.ndarray) -> dict[str, float]:
    """How a motion (T, 22, 3) stands on the floor: the share of frames with no foot joint
    within ``HOVER_HEIGHT`` of it, and the median height of the lowest foot joint (cm)."""
    from motiongen.skeleton import FOOT_JOINTS

    lowest = np.asarray(positions)[:, list(FOOT_JOINTS), 1].min(axis=1)
    return {
        "hovering": float(np.mean(lowest > HOVER_HEIGHT)),
        "lowest_foot_cm": float(100 * np.median(lowest)),
    }


def run(
    split: str,
    seeds: int,
    models: dict[str, tuple[str, dict[str, Any]]],
    text: bool = True,
    *,
    windows_per_song: int = 4,
    variants: bool = True,
) -> dict[str, Any]:
    """models: row name -> (checkpoint, generate options); text False: music alone, as
    ``motiongen dance SONG`` without ``--text``."""
    from motiongen import Pipeline
    from motiongen.data.prepare import prepare
    from motiongen.eval.evaluator import split_conditions
    from motiongen.eval.sanity import MusicalityScorer
    from motiongen.postprocess import postprocess as clean

    conditions, real = split_conditions(prepare().data, split, music_windows=windows_per_song)
    windows = [(c, r) for c, r in zip(conditions, real, strict=True) if c.music is not None]
    scorer = MusicalityScorer()
    rows: dict[str, dict[str, list[float]]] = {}
    per_window: dict[str, dict[str, list[list[float]]]] = {}  # row -> key -> window -> seeds

    def add(row: str, scores: dict[str, Any], window: int = -1) -> None:
        for k in FLOOR_KEYS:
            rows.setdefault(row, {}).setdefault(k, []).append(float(scores[k]))
        for k in KEYS:
            rows.setdefault(row, {}).setdefault(k, []).append(float(scores[k]))
            if window >= 0:
                cells = per_window.setdefault(row, {}).setdefault(k, [])
                cells.extend([] for _ in range(window + 1 - len(cells)))
                cells[window].append(float(scores[k]))

    def scored(m: Any) -> dict[str, Any]:
        return {**scorer.score(m), **floor_contact(m.positions)}

    for _, r in windows:
        add(f"real {split} windows", scored(r))
    for name, (checkpoint, options) in models.items():
        pipe = Pipeline.from_pretrained(checkpoint)
        for i, (c, _) in enumerate(windows):
            print(f"{name}: window {i + 1}/{len(windows)}", file=sys.stderr, flush=True)
            for s in range(seeds):
                ask = dict(text=c.text if text else None, music=c.music, music_offset=c.music_offset,
                           seconds=c.seconds, seed=1000 * s + i, **options)  # fmt: skip
                add(
                    f"{name}, shipped (retimed onto the beats)",
                    scored(pipe.generate(**ask)[0]),
                    i,
                )
                if not variants:
                    continue
                with cleanup_inputs() as calls:
                    made = pipe.generate(**ask, beat_sync=False)[0]
                raw, fps, kw = calls[0]
                for variant, extra in VARIANTS.items():
                    p = clean(raw, fps, **{**kw, **extra})
                    add(
                        f"{name}, {variant}",
                        scored(dataclasses.replace(made, positions=p)),
                    )
    summary = {
        row: {k: {"mean": float(np.mean(v)), "n": len(v)} for k, v in by.items()}
        for row, by in rows.items()
    }
    shipped = [f"{name}, shipped (retimed onto the beats)" for name in models]
    paired = {}
    if len(shipped) >= 2 and all(
        r in per_window for r in (shipped[0], shipped[-1])
    ):  # flow vs DDIM-50
        from benchmarks.flow_vs_ddim import paired_interval

        for k in KEYS:
            a, b = (
                [float(np.mean(c)) for c in per_window[r][k]] for r in (shipped[0], shipped[-1])
            )
            mean, lo, hi = paired_interval(a, b)
            paired[k] = {"mean": mean, "low": lo, "high": hi, "n": len(a)}
    songs = {Path(str(c.music)).parent.name for c, _ in windows}
    return {
        "split": split,
        "seeds": seeds,
        "windows": len(windows),
        "songs": len(songs),
        "text": text,
        "variants": variants,
        "rows": summary,
        "paired": {"rows": [shipped[0], shipped[-1]], **paired} if paired else {},
    }


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        f"{result['split']} split, {result['windows']} music windows"
        f"{' of ' + str(result['songs']) + ' songs' if 'songs' in result else ''}"
        f"{'' if result.get('text', True) else ' danced to the music alone (no text)'}; "
        f"generated: {result['seeds']} seeds per window"
        + (", each raw output post-processed each way." if result.get("variants", True) else "."),
        "",
        "| motions | n | dance agreement ↑ | musicality ↑ | tempo margin ↑ | hovering | lowest "
        "foot (cm) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row, by in result["rows"].items():
        cells = " | ".join(f"{by[k]['mean']:.3f}" for k in KEYS)
        if all(k in by for k in FLOOR_KEYS):  # results written before 2026-12-06 have none
            cells += f" | {100 * by['hovering']['mean']:.1f} % | {by['lowest_foot_cm']['mean']:.2f}"
        else:
            cells += " | – | –"
        lines.append(f"| {row} | {by[KEYS[0]]['n']} | {cells} |")
    paired = result.get("paired") or {}
    if paired:
        a, b = paired["rows"]
        lines += ["", f"Paired per window ({a} minus {b}, seeds averaged; 95 % bootstrap over "
                  "windows):", "", "| | difference | 95 % interval |", "|---|---:|---:|"]  # fmt: skip
        for k in KEYS:
            d = paired[k]
            lines.append(f"| {k} | {d['mean']:+.3f} | {d['low']:+.3f} … {d['high']:+.3f} |")
    return "\n".join(lines)


def main() -> int:
    from motiongen.paths import DEFAULT_MODEL

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--flow", default=DEFAULT_MODEL, help="shipped name or folder")
    parser.add_argument("--ddim", default="tiny-ddim", help="shipped name or folder")
    parser.add_argument("--ddim-steps", type=int, default=50)
    parser.add_argument(
        "--flow-guidance",
        nargs="+",
        default=None,
        help="also the flow model at these guidance scales (one scale, or TEXT,MUSIC)",
    )
    parser.add_argument(
        "--no-text", action="store_true", help="dance to the music alone (no window text)"
    )
    parser.add_argument("--windows-per-song", type=int, default=4,
                        help="music windows per song (the eval's 4)")  # fmt: skip
    parser.add_argument("--shipped-only", action="store_true",
                        help="only each model as shipped, not the post-processing variants")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args()
    from motiongen.generation import parse_guidance

    models: dict[str, tuple[str, dict[str, Any]]] = {args.flow: (args.flow, {})}
    for g in args.flow_guidance or ():
        models[f"{args.flow} at guidance {g}"] = (args.flow, {"guidance": parse_guidance(g)})
    models[args.ddim] = (args.ddim, {"steps": args.ddim_steps})
    result = run(args.split, args.seeds, models, text=not args.no_text,
                 windows_per_song=args.windows_per_song, variants=not args.shipped_only)  # fmt: skip
    command = "python benchmarks/dance_gate.py " + " ".join(sys.argv[1:])
    report(markdown(result, command.strip()), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
