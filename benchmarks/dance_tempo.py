"""Do dances follow their music's tempo? The same songs played slower and faster.

Run:  .venv/bin/python benchmarks/dance_tempo.py [--split test] [--checkpoint NAME ...]
      [--seeds 3] [--window 12] [--out FILE]

Each song of the split's dances is cut into ``--window`` s windows at the dance's offset
(two per song) and played at 0.8x, 1x and 1.25x speed (librosa's phase-vocoder time
stretch, pitch kept). Every motion is scored against the music it was made for with the
tempo margin of ``eval.music.dance_music_agreement`` (agreement with this tempo minus its
mean with the same music played at other tempi; > 0: the dance moves at this tempo;
validated on real dances in ``benchmarks/dance_agreement.py``, where own tempo wins in 79 %
of windows). Two real references bound it: the real dance played at the music's speed
(what following looks like) and the real dance at its own speed under the stretched music
(what ignoring the tempo looks like). A model that follows the tempo keeps its margin at
every speed; one that ignores it falls to the "ignores" row off 1x. Each model dances as
shipped (retimed onto the music's beats, ``generation.on_beats``) and at its own timing
(``beat_sync=False``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report, run_cli  # noqa: E402

STRETCHES = (0.8, 1.0, 1.25)
FPS = 20.0


def song_windows(split: str, window_s: float) -> list[dict]:
    """Two windows per song of the split: record, motion (T, 22, 3) at 20 fps covering the
    longest stretch, audio path and the window's start in the song (s)."""
    from motiongen.data.prepare import prepare

    data = prepare().data
    out = []
    need = window_s * max(STRETCHES)
    for rec in data.select():
        if rec.source != "dance" or not rec.audio or rec.split != split:
            continue
        motion = data.motion(rec).resample(FPS)
        for k in range(2):
            start = k * need
            first = int(round(start * FPS))
            pos = motion.positions[first : first + int(round(need * FPS))]
            if len(pos) < int(need * FPS):
                break
            out.append(
                {
                    "name": f"{rec.name}@{start:g}s",
                    "type": rec.labels.get("dance_type", "?"),
                    "positions": pos,
                    "audio": rec.audio["path"],
                    "start": float(rec.audio["offset"]) + start,
                }
            )
    return out


def stretched_music(
    win: dict, stretch: float, window_s: float, folder: Path
) -> tuple[Path, np.ndarray]:
    """The window's music played ``stretch`` times as fast, as a WAV, and its onset envelope
    on the 20 fps grid (``window_s`` s)."""
    import librosa
    import soundfile as sf

    from motiongen.conditioning.audio_features import FEATURE_SLICES, audio_features

    # music for a beat-synced dance too, which is made up to 1.25x longer than asked
    y, sr = librosa.load(
        win["audio"], sr=22050, offset=win["start"], duration=1.25 * window_s * stretch + 1.0
    )
    y = librosa.effects.time_stretch(y, rate=stretch)
    path = folder / f"{win['name'].replace('@', '_')}_{stretch:g}.wav"
    sf.write(path, y, sr)
    feats = audio_features(y, sr, FPS, num_frames=int(round(window_s * FPS)))
    return path, feats.frames[:, FEATURE_SLICES["onset"].start].astype(np.float64)


def played_at(positions: np.ndarray, stretch: float, frames: int) -> np.ndarray:
    """A motion played ``stretch`` times as fast (linear in time), its first ``frames``."""
    t = np.arange(frames) * stretch
    lo = np.clip(np.floor(t).astype(int), 0, len(positions) - 1)
    hi = np.clip(lo + 1, 0, len(positions) - 1)
    w = (t - np.floor(t))[:, None, None]
    return positions[lo] * (1 - w) + positions[hi] * w


def run(split: str, checkpoints: list[str], seeds: int, window_s: float) -> dict:
    from motiongen import Pipeline
    from motiongen.eval.music import dance_music_agreement

    wins = song_windows(split, window_s)
    frames = int(round(window_s * FPS))
    margins: dict[str, dict[float, list[float]]] = {}

    def add(row: str, stretch: float, positions: np.ndarray, onset: np.ndarray) -> None:
        m = dance_music_agreement(positions, FPS, onset, FPS).margin
        margins.setdefault(row, {}).setdefault(stretch, []).append(m)

    pipes = {name: Pipeline.from_pretrained(name) for name in checkpoints}
    with tempfile.TemporaryDirectory() as tmp:
        for i, win in enumerate(wins):
            print(f"[{i + 1}/{len(wins)}] {win['name']}", file=sys.stderr, flush=True)
            for s in STRETCHES:
                wav, onset = stretched_music(win, s, window_s, Path(tmp))
                add(
                    "real, played at the music's speed",
                    s,
                    played_at(win["positions"], s, frames),
                    onset,
                )
                add("real, its own speed (ignores the tempo)", s, win["positions"][:frames], onset)
                for name, pipe in pipes.items():
                    for seed in range(seeds):
                        m = pipe.generate(music=wav, seconds=window_s, seed=seed)[0]
                        add(f"{name} (retimed onto the beats, shipped)", s, m.positions, onset)
                        m = pipe.generate(music=wav, seconds=window_s, seed=seed, beat_sync=False)[
                            0
                        ]
                        add(f"{name}, its own timing", s, m.positions, onset)
    rows = {
        row: {
            f"{s:g}": {
                "margin_mean": round(float(np.mean(v)), 4),
                "own_tempo_wins": round(float(np.mean(np.asarray(v) > 0)), 3),
                "n": len(v),
            }
            for s, v in by.items()
        }
        for row, by in margins.items()
    }
    return {"split": split, "window_s": window_s, "seeds": seeds, "windows": len(wins),
            "songs": sorted({w["name"].split("@")[0] for w in wins}), "rows": rows}  # fmt: skip


def markdown(result: dict, command: str) -> str:
    head = " | ".join(f"{s:g}x: margin / own tempo wins" for s in STRETCHES)
    lines = [
        f"Command: `{command}`",
        "",
        f"{result['split']} split, {result['windows']} windows of {result['window_s']:g} s "
        f"({', '.join(result['songs'])}); generated: {result['seeds']} seeds per window.",
        "",
        f"| dance | {head} |",
        "|---|" + "---:|" * len(STRETCHES),
    ]
    for row, by in result["rows"].items():
        cells = [
            f"{by[f'{s:g}']['margin_mean']:+.3f} / {100 * by[f'{s:g}']['own_tempo_wins']:.0f} %"
            for s in STRETCHES
        ]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test")
    parser.add_argument("--checkpoint", nargs="+", default=None, help="shipped names or folders")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--window", type=float, default=12.0, help="window length, s")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args()
    from motiongen.paths import DEFAULT_MODEL

    checkpoints = args.checkpoint or [DEFAULT_MODEL]
    result = run(args.split, checkpoints, args.seeds, args.window)
    command = "python benchmarks/dance_tempo.py " + " ".join(sys.argv[1:])
    report(markdown(result, command.strip()), result, args.out)
    return 0


if __name__ == "__main__":
    run_cli(main)
