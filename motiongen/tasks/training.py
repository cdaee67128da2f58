"""Training pairs for every task, made on the fly from real windows (SPEC §4).

``sample_task`` draws a task and which joints of which frames are given, following a
progressive schedule: GEN only, then GEN + PREDICT, then all tasks. The known values are the
window's own (``control.control_values``), so every pair is real motion with part of it
given; the network learns to complete it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motiongen.models.conditions import GEN_TASK, UNCOND_TASK
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS, PELVIS

TASKS: tuple[str, ...] = ("gen", "predict", "inbetween", "edit", "style", "uncond")
TASK_ID: dict[str, int] = {name: i for i, name in enumerate(TASKS)}
assert (TASK_ID["gen"], TASK_ID["uncond"]) == (GEN_TASK, UNCOND_TASK), "the network's task ids"

# Body parts an edit regenerates (the rest of the body is given).
ARMS = tuple(JOINT_INDEX[f"{s}_{p}"] for s in ("left", "right")
             for p in ("collar", "shoulder", "elbow", "wrist"))  # fmt: skip
UPPER_BODY = (*ARMS, *(JOINT_INDEX[n] for n in ("spine2", "spine3", "neck", "head")))
LEGS = tuple(JOINT_INDEX[f"{s}_{p}"] for s in ("left", "right")
             for p in ("hip", "knee", "ankle", "foot"))  # fmt: skip
BODY_PARTS: dict[str, tuple[int, ...]] = {"arms": ARMS, "upper_body": UPPER_BODY, "legs": LEGS}


@dataclass
class TaskSchedule:
    """GEN only before ``predict_from`` steps, GEN + PREDICT before ``all_from``, then every
    task with ``weights`` (gen, predict, inbetween, edit, style)."""

    predict_from: int = 0
    all_from: int = 0
    weights: tuple[float, float, float, float, float] = (0.3, 0.2, 0.2, 0.2, 0.1)

    def weights_at(self, step: int) -> np.ndarray:
        if step < self.predict_from:
            w = np.array([1.0, 0, 0, 0, 0])
        elif step < self.all_from:
            w = np.array([0.5, 0.5, 0, 0, 0])
        else:
            w = np.asarray(self.weights, dtype=np.float64)
        return w / w.sum()


def sample_task(
    rng: np.random.Generator, frames: int, weights: np.ndarray
) -> tuple[int, np.ndarray]:
    """(task id, known (frames, 22) bool) for a window of ``frames`` real frames."""
    known = np.zeros((frames, NUM_JOINTS), dtype=bool)
    name = TASKS[int(rng.choice(5, p=weights))]
    if frames < 12 or name == "gen":
        return TASK_ID["gen"], known
    if name == "predict":
        k = int(rng.integers(1, min(60, frames - 10) + 1))
        known[:k] = True
    elif name == "inbetween":
        # A context, then keyframes at gaps drawn log-uniformly from 3 to 90 frames (short
        # transitions as often as long ones), each a pose or a few frames.
        t = int(rng.integers(1, 11))
        known[:t] = True
        while True:
            start = t + int(np.exp(rng.uniform(np.log(3.0), np.log(90.0))))
            if start >= frames:
                break
            length = 1 if rng.random() < 0.7 else int(rng.integers(2, 11))
            known[start : start + length] = True  # a single pose gives no velocities
            t = start + length
    elif name == "edit":
        if rng.random() < 0.5:
            span = int(rng.integers(10, max(11, min(100, frames // 2)) + 1))
            start = int(rng.integers(0, frames - span + 1))
            known[:] = True
            known[start : start + span] = False
        else:
            part = list(BODY_PARTS)[int(rng.integers(len(BODY_PARTS)))]
            known[:] = True
            known[:, list(BODY_PARTS[part])] = False
    else:  # style: the path is given, the body moves in the asked style
        known[:, PELVIS] = True
    return TASK_ID[name], known
