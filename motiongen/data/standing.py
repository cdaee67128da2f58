"""The standing pose a timeline's stop holds (``generation.stand``), made from the prepared
data: the median first frame of the normal-style gesture takes of the training split (bows,
waves, raised hands, calls), which all begin at rest, set at the origin facing +Z.
``python -m motiongen.data.standing`` writes it to ``paths.STANDING_POSE``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.data.prepare import default_prepared_dir
from motiongen.data.store import PreparedData
from motiongen.paths import STANDING_POSE
from motiongen.skeleton import PELVIS

GESTURES = frozenset({"bow", "wave-right-hand", "wave-left-hand", "wave-both-hands",
                      "raise-up-both-hands", "raise-up-left-hand", "raise-up-right-hand", "bye",
                      "byebye", "call", "respond"})  # fmt: skip


def standing_pose(data: PreparedData) -> tuple[np.ndarray, int]:
    """(the pose (22, 3), how many takes' first frames it is the median of)."""
    firsts = []
    for rec in data.select(split="train"):
        if rec.labels.get("content") in GESTURES and rec.labels.get("style") == "normal":
            p = data.motion(rec).positions[:1].astype(np.float64)
            p = p - p[:, PELVIS : PELVIS + 1] * np.array([1.0, 0.0, 1.0])
            firsts.append(rotate_y(p, -float(heading(p)[0]))[0])
    return np.median(np.stack(firsts), axis=0), len(firsts)


def main(out: Path | None = None) -> None:
    out = out or STANDING_POSE
    pose, count = standing_pose(PreparedData.open(default_prepared_dir()))
    np.save(out, pose)
    print(f"{out}: the median first frame of {count} takes")


if __name__ == "__main__":
    main()
