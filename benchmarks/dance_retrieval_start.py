"""Would a dance follow its song's tempo if it started from retrieved dance phrases?

Run:  .venv/bin/python benchmarks/dance_retrieval_start.py [--split val] [--seeds 8]
      [--out FILE]

Text prompts start sampling from a retrieved take at t = 0.5 (docs/retrieval.md); dances
do not retrieve. The prior builder plays a dance phrase at the music's tempo, so a dance
started from one might follow the song's speed where the network keeps its own. The songs
of the split are cut into 12 s windows and played at 0.8x, 1x and 1.25x
(``benchmarks.dance_tempo``); every motion is scored with the tempo margin and the agreement
of ``eval.music.dance_music_agreement``, for four ways of asking (music alone; with "a person
dances" and retrieval; with the song's dance named, without and with retrieval), each at its
own timing and retimed onto the beats. docs/dance-alignment.md §4 has the val figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dance_tempo import FPS, STRETCHES, song_windows, stretched_music  # noqa: E402
from benchmarks.report import report, run_cli  # noqa: E402

WINDOW_S = 12.0


def asks(dance: str) -> dict[str, dict]:
    """The ways of asking for a dance to this window's music, by row name."""
    named = f"a person dances the {dance}"
    return {
        "music alone (shipped)": {},
        "+ 'a person dances', started from its phrases": {"text": "a person dances", "rag": True},
        "+ the song's dance named": {"text": named},
        "+ the dance named, started from its phrases": {"text": named, "rag": True},
    }


def run(split: str, seeds: int) -> dict:
    from motiongen import Pipeline
    from motiongen.eval.music import dance_music_agreement

    wins = song_windows(split, WINDOW_S)
    pipe = Pipeline.from_pretrained(None)
    scores: dict[str, dict[float, list[tuple[float, float]]]] = {}
    started: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, win in enumerate(wins):
            print(f"[{i + 1}/{len(wins)}] {win['name']}", file=sys.stderr, flush=True)
            for s in STRETCHES:
                wav, onset = stretched_music(win, s, WINDOW_S, Path(tmp))
                for name, kw in asks(win["type"]).items():
                    for seed in range(seeds):
                        for sync in (False, True):
                            m = pipe.generate(music=wav, seconds=WINDOW_S, seed=seed,
                                              beat_sync=sync, **kw)[0]  # fmt: skip
                            a = dance_music_agreement(m.positions, FPS, onset, FPS)
                            row = f"{name}, {'retimed' if sync else 'own timing'}"
                            scores.setdefault(row, {}).setdefault(s, []).append(
                                (a.margin, a.agreement)
                            )
                            started[name] = started.get(name, 0) + bool(m.meta.get("prior_start"))
    rows = {
        row: {f"{s:g}": {"margin": round(float(np.mean([x[0] for x in v])), 4),
                         "agreement": round(float(np.mean([x[1] for x in v])), 4), "n": len(v)}
              for s, v in by.items()}
        for row, by in scores.items()
    }  # fmt: skip
    return {"split": split, "seeds": seeds, "windows": len(wins), "rows": rows,
            "started_from_prior": started}  # fmt: skip


def markdown(result: dict) -> str:
    head = " | ".join(f"{s:g}x margin (agreement)" for s in STRETCHES)
    lines = [
        f"{result['split']} split, {result['windows']} windows of {WINDOW_S:g} s, "
        f"{result['seeds']} seeds; motions started from their prior: "
        f"{result['started_from_prior']}",
        "",
        f"| dance | {head} |",
        "|---|" + "---:|" * len(STRETCHES),
    ]
    for row, by in result["rows"].items():
        cells = [f"{by[f'{s:g}']['margin']:+.3f} ({by[f'{s:g}']['agreement']:.3f})"
                 for s in STRETCHES]  # fmt: skip
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="val")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args(argv)
    result = run(args.split, args.seeds)
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
