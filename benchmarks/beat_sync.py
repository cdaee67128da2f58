"""Beat sync: does retiming a dance played at the wrong tempo bring it back onto its music?

Run:  .venv/bin/python benchmarks/beat_sync.py [--window 12 | --whole] [--tempo 0.85 1.15] [--out FILE]

Real dances of the music-to-dance set (every song; beat sync learns nothing, so no split is
held out) are cut into ``--window`` s windows, or with ``--whole`` taken whole (as much of
each as can be played at the fastest ``--tempo``). Each is played at a wrong tempo (``--tempo``
factors: 0.85 = 15 % slower) against its own music, then retimed by
``motiongen.postprocess.beat_sync.beat_sync`` onto the music's tracked beats (local tempo bound
1.25). For the original, wrong-tempo and synced motions: the dance-music agreement
(``eval.music.dance_music_agreement``), the share of music beats with a motion accent within
0.1 s, foot skating (``eval.physics``) and mean jerk (m/s^3).

``--identify``: how well could any global retiming be chosen? For each wrong-tempo window, the
ratio (41 steps over the bound) whose uniform retiming scores the highest agreement with the
music: the share of windows where that best ratio is within 3 % / 8 % of the true one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402

FPS = 20.0


def windows(window_s: float, whole_for: float | None = None) -> list[dict]:
    """Windows of ``window_s`` seconds (each with twice that much motion behind it, so any
    wrong tempo can be played from it), or with ``whole_for`` set, one item per dance: as much
    of it as can still be played ``whole_for`` times as fast."""
    from motiongen.data.prepare import prepare

    data = prepare().data
    out = []
    for rec in data.select():
        if rec.source != "dance" or not rec.audio:
            continue
        motion = data.motion(rec).resample(FPS)
        if whole_for is not None:
            size = int((len(motion.positions) - 1) / max(1.0, whole_for))
            out.append({"song": rec.name, "positions": motion.positions, "audio": motion.audio,
                        "start": 0.0, "size": size})  # fmt: skip
            continue
        size = int(window_s * FPS)
        for start in range(0, len(motion.positions) - 2 * size + 1, size):
            out.append({"song": rec.name, "positions": motion.positions[start : start + 2 * size],
                        "audio": motion.audio, "start": start / FPS, "size": size})  # fmt: skip
    return out


def played_at(positions: np.ndarray, factor: float, frames: int) -> np.ndarray:
    """The motion played ``factor`` times as fast, first ``frames`` frames."""
    t = np.arange(frames) * factor
    lo = np.clip(np.floor(t).astype(int), 0, len(positions) - 1)
    hi = np.clip(lo + 1, 0, len(positions) - 1)
    w = (t - lo)[:, None, None]
    return positions[lo] * (1 - w) + positions[hi] * w


def scores(positions: np.ndarray, onset: np.ndarray, beats: np.ndarray) -> dict:
    from motiongen.eval.music import dance_music_agreement
    from motiongen.eval.physics import physics_report
    from motiongen.postprocess.beat_sync import accent_times, hit_rate
    from motiongen.postprocess.smoothing import jerk

    n = len(positions)
    agree = dance_music_agreement(positions, FPS, onset[:n], FPS)
    report = physics_report(positions.astype(np.float32), FPS)
    times, _ = accent_times(positions, FPS)
    return {
        "agreement": agree.agreement,
        "margin": agree.margin,
        "beats_hit": hit_rate(times, beats[beats <= n / FPS]),
        "foot_skating": float(report["foot_skating_ratio"]),
        "jerk": float(np.mean(jerk(positions, FPS))),
    }


RATIOS = np.geomspace(0.8, 1.25, 41)


def best_ratio(positions: np.ndarray, factor: float, frames: int, onset: np.ndarray) -> float:
    """The uniform retiming r of ``positions`` played ``factor`` times as fast (so played
    r x factor times as fast) whose first ``frames`` frames the agreement metric likes best."""
    from motiongen.eval.music import dance_music_agreement

    scores = [dance_music_agreement(played_at(positions, factor * r, frames), FPS, onset[:frames],
                                    FPS).agreement for r in RATIOS]  # fmt: skip
    return float(RATIOS[int(np.argmax(scores))])


def identify(items: list[dict], factors: list[float], onsets: list[np.ndarray]) -> str:
    lines = ["| played | windows | best ratio within 3 % | within 8 % | median best ratio | true |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for factor in [1.0, *factors]:
        # only frames every candidate ratio can play (a whole dance has no motion to spare:
        # past its end a retiming would hold the last pose, and the metric would punish it)
        best = np.array([best_ratio(w["positions"], factor, min(w["size"], int(
                             (len(w["positions"]) - 1) / (factor * RATIOS.max()))), onset)
                         for w, onset in zip(items, onsets, strict=True)])  # fmt: skip
        err = np.abs(np.log(best * factor))
        lines.append(f"| x{factor:g} | {len(best)} | {100 * np.mean(err < 0.03):.0f} % | "
                     f"{100 * np.mean(err < 0.08):.0f} % | {np.median(best):.3f} | "
                     f"{1 / factor:.3f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--window", type=float, default=12.0)
    size.add_argument("--whole", action="store_true",
                      help="whole dances (as long as the fastest --tempo allows) instead of windows")  # fmt: skip
    parser.add_argument("--tempo", type=float, nargs="+", default=[0.85, 1.15])
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    parser.add_argument("--identify", action="store_true",
                        help="also: how often the metric's own best global ratio is the true one")  # fmt: skip
    args = parser.parse_args(argv)

    from motiongen.conditioning.audio_features import FEATURE_SLICES, cached_features_from_file
    from motiongen.postprocess.beat_sync import beat_sync

    rows: dict[str, list[dict]] = {}
    raised: dict[str, list[bool]] = {}  # per synced item: agreement above its wrong-tempo self
    items = windows(args.window, max(args.tempo) if args.whole else None)
    onsets = []
    for w in items:
        size = w["size"]
        feats = cached_features_from_file(w["audio"].path, FPS, w["audio"].offset + w["start"],
                                          num_frames=max(2 * size, len(w["positions"])))  # fmt: skip
        onset = feats.frames[:, FEATURE_SLICES["onset"].start]
        onsets.append(onset)
        beats = feats.beat_times
        original = w["positions"][:size]
        rows.setdefault("original tempo", []).append(scores(original, onset, beats))
        for factor in args.tempo:
            wrong = played_at(w["positions"], factor, size)
            rows.setdefault(f"played x{factor:g}", []).append(scores(wrong, onset, beats))
            synced = beat_sync(wrong, FPS, beats).positions[:size]
            if len(synced) >= 2 * FPS:
                after = scores(synced, onset, beats)
                rows.setdefault(f"played x{factor:g}, beat-synced", []).append(after)
                raised.setdefault(f"played x{factor:g}, beat-synced", []).append(
                    after["agreement"] > rows[f"played x{factor:g}"][-1]["agreement"]
                )
    keys = ("agreement", "margin", "beats_hit", "foot_skating", "jerk")
    table = {name: {k: float(np.mean([r[k] for r in rs])) for k in keys} | {"n": len(rs)}
             for name, rs in rows.items()}  # fmt: skip
    for name, flags in raised.items():
        table[name]["raised"] = float(np.mean(flags))
    what = (f"{len(items)} whole dances (median {np.median([w['size'] for w in items]) / FPS:.0f} s)"
            if args.whole else f"{len(items)} windows of {args.window:g} s")  # fmt: skip
    lines = [
        f"{what} from the real dances, each with its own music",
        "",
        "| motion | n | agreement ↑ | raised | margin ↑ | beats hit ↑ | foot skating ↓ | jerk m/s³ ↓ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in table.items():
        up = f"{100 * t['raised']:.0f} %" if "raised" in t else ""
        lines.append(f"| {name} | {t['n']} | {t['agreement']:.3f} | {up} | {t['margin']:+.3f} | "
                     f"{100 * t['beats_hit']:.1f} % | {t['foot_skating']:.3f} | {t['jerk']:.1f} |")  # fmt: skip
    text = "\n".join(lines)
    if args.identify:
        text += "\n\n" + identify(items, args.tempo, onsets)
    report(text, table, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
