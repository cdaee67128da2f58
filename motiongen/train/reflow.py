"""Few-step generation by reflow distillation (Liu et al. 2023, "Flow Straight and Fast",
https://arxiv.org/abs/2209.03003): a teacher's ODE couples each noise x0 with a sample x1,
and a student learns the straight path between them, so one or two Euler steps of the
student land where many teacher steps do.

Pairs come from training windows: their conditions (text, music, masks) are kept, fresh
noise is drawn, and the teacher samples x1 with classifier-free guidance. The guidance is
baked into the pairs, so the student is trained without condition dropout and runs without
guidance (one network pass per step instead of two). Pairs are written in shards under
``run_dir/pairs`` and reused, so an interrupted run does not recompute them.

Student and teacher must share the feature normalisation (both trained on the same data).

``lowpass_targets``: a teacher trained on real data still leaves 1-2 cm of frame-to-frame
noise in its samples (jitter ~30x real clips, at any number of steps), and a student learns
it back. A zero-phase low-pass of the teacher's samples (6 Hz at 20 fps moves real clips by
0.24 mm on average and removes that noise) gives the student a smooth target; the pairs on
disk stay as the teacher made them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from motiongen.checkpoint import Checkpoint
from motiongen.errors import InputError
from motiongen.features import CONTACTS
from motiongen.generative import guided
from motiongen.models.conditions import ModelConditions
from motiongen.train.data import Batch

logger = logging.getLogger(__name__)

_COND_FIELDS = [f.name for f in fields(ModelConditions)]


def teacher_batch(
    teacher: Checkpoint,
    batch: Batch,
    *,
    steps: int,
    sampler: str,
    guidance: float,
    generator: torch.Generator,
    p_prior: float = 0.0,
) -> Batch:
    """The batch's conditions with fresh noise x0 and the teacher's sample x1 from it.

    ``batch`` comes without condition dropout (``BatchStream(dropout=False)``: only windows
    without music have their audio dropped), so the teacher sees every condition the window
    has, except that a share ``p_prior`` of the windows loses its retrieval prior: a student
    of a RAG model must also generate without retrieval. The returned batch holds x = x1 and
    noise = x0, real = the windows themselves (window statistics the teacher's samples lose,
    such as a wave's pace, are measured against them: ``Rollout``).
    """
    cond = batch.cond
    if cond.prior is not None and p_prior > 0.0:
        B = batch.x.shape[0]
        drop = torch.rand(B, generator=generator) < p_prior
        given = cond.drop_prior if cond.drop_prior is not None else torch.zeros(B, dtype=torch.bool)
        cond = replace(cond, drop_prior=given | drop)
    process = teacher.config.build_process()
    noise = torch.randn(batch.x.shape, generator=generator)
    predict = guided(teacher.model, cond, batch.mask, scale=guidance)
    with torch.inference_mode():
        x1 = process.sample(predict, noise, steps=steps, sampler=sampler, generator=generator)
    x1 = x1 * batch.mask[..., None].to(x1.dtype)
    return Batch(x=x1.clone(), mask=batch.mask, cond=cond, noise=noise, real=batch.x.clone())


LOWPASS_ORDER = 4


def lowpass_targets(batch: Batch, hz: float, fps: float) -> Batch:
    """The batch with x1 low-passed along time (Butterworth, zero phase) over each window's
    real frames; the foot-contact flags are left as they are (steps, not signals)."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(LOWPASS_ORDER, hz, fs=fps, output="sos")
    x = batch.x.double().numpy().copy()
    smooth = slice(0, CONTACTS.start)
    for b, n in enumerate(batch.mask.sum(dim=1).tolist()):
        # sosfiltfilt pads by reflection; windows too short to pad stay as they are.
        if n > 3 * (2 * len(sos) + 1):
            x[b, :n, smooth] = sosfiltfilt(sos, x[b, :n, smooth], axis=0)
    return replace(batch, x=torch.from_numpy(x).to(batch.x.dtype))


def save_batch(batch: Batch, path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {"x": batch.x, "mask": batch.mask, "noise": batch.noise, "real": batch.real}
    for name in _COND_FIELDS:
        value = getattr(batch.cond, name)
        if value is not None:
            tensors[f"cond.{name}"] = value
    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in tensors.items() if v is not None}, str(tmp))
    tmp.replace(path)


def load_batch(path: Path) -> Batch:
    from safetensors.torch import load_file

    t = load_file(str(path))
    cond = ModelConditions(**{n: t.get(f"cond.{n}") for n in _COND_FIELDS})
    return Batch(x=t["x"], mask=t["mask"].bool(), cond=cond, noise=t["noise"], real=t.get("real"))


def make_pairs(
    teacher: Checkpoint,
    source: Iterator[Batch],
    folder: Path,
    *,
    count: int,
    steps: int,
    sampler: str,
    guidance: float,
    seed: int,
    p_prior: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """``count`` batches of teacher pairs in ``folder`` (shard_00000.safetensors ...);
    shards already there are kept, so a restart continues where it stopped."""
    if sampler not in teacher.config.build_process().samplers:
        raise InputError(f"the teacher cannot sample with {sampler!r}")
    folder.mkdir(parents=True, exist_ok=True)
    # Shards are reused on a restart: only if they were made the same way.
    made = {
        "teacher_weights": _weights_digest(teacher),
        "steps": steps,
        "sampler": sampler,
        "guidance": guidance,
        "seed": seed,
        "p_prior": p_prior,
    }
    record = folder / "options.json"
    if record.is_file():
        before = json.loads(record.read_text())
        if before != made:
            gone = object()  # a key only one side holds differs, whatever the other's value
            changed = sorted(k for k in made.keys() | before.keys()
                             if before.get(k, gone) != made.get(k, gone))  # fmt: skip
            raise InputError(
                f"the teacher pairs in {folder} were made with other {', '.join(changed)}; "
                "delete that folder (or use another run_dir) to make them anew"
            )
    else:
        record.write_text(json.dumps(made, indent=1))
    teacher.model.eval()
    paths = []
    for i in range(count):
        path = folder / f"shard_{i:05d}.safetensors"
        batch = next(source)  # drawn even when the shard exists: the stream stays the same
        if not path.is_file():
            generator = torch.Generator().manual_seed(seed * 100_003 + i)
            save_batch(
                teacher_batch(teacher, batch, steps=steps, sampler=sampler, guidance=guidance,
                              generator=generator, p_prior=p_prior),
                path,
            )  # fmt: skip
        paths.append(path)
        if progress is not None:
            progress(i + 1, count)
    return paths


def without_real(paths: list[Path]) -> list[Path]:
    """The shards among ``paths`` made before shards kept their real windows (``Batch.real``);
    read from the headers only."""
    from safetensors import safe_open

    out = []
    for path in paths:
        with safe_open(str(path), framework="pt") as f:
            if "real" not in f.keys():  # noqa: SIM118 (a safe_open handle is no dict)
                out.append(path)
    return out


def _weights_digest(checkpoint: Checkpoint) -> str:
    """SHA-256 (first 16 hex digits) of a checkpoint's weights file, or "" without one."""
    from motiongen.checkpoint import WEIGHTS_NAME
    from motiongen.integrity import sha256_file

    weights = None if checkpoint.path is None else Path(checkpoint.path) / WEIGHTS_NAME
    if weights is None or not weights.is_file():
        return ""
    return sha256_file(weights)[:16]


class PairStream:
    """Endless training batches drawn from pair shards (one shard = one batch), in a seeded
    random order, each passed through ``transform``; ``state``/``load_state`` capture the
    order for resuming."""

    def __init__(
        self,
        paths: list[Path],
        *,
        seed: int,
        transform: Callable[[Batch], Batch] | None = None,
    ) -> None:
        if not paths:
            raise InputError("no teacher pairs to train on")
        self.paths = paths
        self.transform = transform
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)  # kept for the trainer's state

    def __iter__(self) -> PairStream:
        return self

    def __next__(self) -> Batch:
        batch = load_batch(self.paths[int(self.rng.integers(len(self.paths)))])
        return batch if self.transform is None else self.transform(batch)

    def state(self) -> tuple[Tensor, dict[str, Any]]:
        return self.generator.get_state(), self.rng.bit_generator.state

    def load_state(self, torch_state: Tensor, numpy_state: dict[str, Any]) -> None:
        self.generator.set_state(torch_state)
        self.rng.bit_generator.state = numpy_state
