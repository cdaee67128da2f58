"""Does the dance-music agreement metric tell a dance with its own music from the same dance
with other music? Validated on the real dances before it judges generated ones.

Run:  .venv/bin/python benchmarks/dance_agreement.py [--window 12] [--others 3] [--out FILE]

Every real dance of the music-to-dance set is cut into windows (``--window`` s, half
overlapping). Each window is scored (``eval.music.dance_music_agreement``) with the onset
envelope of its own song at the dance's offset (positive) and with ``--others`` windows of
other songs (negatives). The table gives the AUC (probability that a positive outranks a
negative) of the agreement and of its margin over the same music played at other tempi, per
dance type and overall, and the share of positives whose own tempo beats the stretched ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.report import report  # noqa: E402
from motiongen.eval.music import AGREEMENT_FPS, dance_music_agreement  # noqa: E402


def auc(pos: list[float], neg: list[float]) -> float:
    """P(a positive scores above a negative), ties count half (Mann-Whitney U / n1 n2)."""
    p = np.asarray(pos)[:, None]
    n = np.asarray(neg)[None, :]
    return float((p > n).mean() + 0.5 * (p == n).mean())


def dance_windows(window_s: float) -> list[dict]:
    """(name, type, motion window (T, 22, 3), onset window (T,)) of every real dance."""
    from motiongen.conditioning.audio_features import FEATURE_SLICES
    from motiongen.data.dataset import audio_bank
    from motiongen.data.prepare import prepare

    data = prepare().data
    records = [r for r in data.select() if r.source == "dance" and r.audio]
    bank = audio_bank(data, records, AGREEMENT_FPS, cache=data.root)
    onset_col = FEATURE_SLICES["onset"].start
    out = []
    for rec in records:
        motion = data.motion(rec).resample(AGREEMENT_FPS)
        onset = bank[rec.name][:, onset_col]
        n = min(len(motion.positions), len(onset))
        size = int(window_s * AGREEMENT_FPS)
        for start in range(0, n - size + 1, size // 2):
            out.append(
                {
                    "song": rec.name,
                    "type": rec.labels.get("dance_type", "?"),
                    "positions": motion.positions[start : start + size],
                    "onset": onset[start : start + size],
                }
            )
    return out


def run(window_s: float = 12.0, others: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    windows = dance_windows(window_s)
    rows: dict[str, dict[str, list[float]]] = {}
    beats_stretch = []
    for w in windows:
        own = dance_music_agreement(w["positions"], AGREEMENT_FPS, w["onset"], AGREEMENT_FPS)
        pool = [v for v in windows if v["song"] != w["song"]]
        negatives = [
            dance_music_agreement(w["positions"], AGREEMENT_FPS, pool[i]["onset"], AGREEMENT_FPS)
            for i in rng.choice(len(pool), size=others, replace=False)
        ]
        for key in (w["type"], "all"):
            r = rows.setdefault(key, {"pos": [], "neg": [], "pos_m": [], "neg_m": []})
            r["pos"].append(own.agreement)
            r["neg"] += [a.agreement for a in negatives]
            r["pos_m"].append(own.margin)
            r["neg_m"] += [a.margin for a in negatives]
        beats_stretch.append(own.margin > 0)
    table = {
        key: {
            "windows": len(r["pos"]),
            "auc_agreement": round(auc(r["pos"], r["neg"]), 3),
            "auc_margin": round(auc(r["pos_m"], r["neg_m"]), 3),
            "agreement_own_mean": round(float(np.mean(r["pos"])), 3),
            "agreement_other_mean": round(float(np.mean(r["neg"])), 3),
        }
        for key, r in sorted(rows.items())
    }
    return {
        "window_s": window_s,
        "negatives_per_window": others,
        "rows": table,
        "own_tempo_beats_stretched": round(float(np.mean(beats_stretch)), 3),
    }


def markdown(result: dict) -> str:
    lines = [
        "| dances | windows | AUC agreement | AUC margin | agreement own / other |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, r in result["rows"].items():
        lines.append(
            f"| {key} | {r['windows']} | {r['auc_agreement']:.3f} | {r['auc_margin']:.3f} | "
            f"{r['agreement_own_mean']:.3f} / {r['agreement_other_mean']:.3f} |"
        )
    lines.append("")
    lines.append(
        f"Own tempo scores above the same music at other tempi in "
        f"{100 * result['own_tempo_beats_stretched']:.0f} % of windows."
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=12.0, help="window length, s")
    parser.add_argument("--others", type=int, default=3, help="negatives per window")
    parser.add_argument("--out", type=Path, default=None, help="write FILE.json and FILE.md")
    args = parser.parse_args()
    result = run(args.window, args.others)
    report(markdown(result), result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
