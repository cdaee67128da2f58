"""Resumable training state on disk, without pickle.

Layout of ``run_dir/last/``::

    state.json              step, best validation loss, config, optimizer param groups,
                            scheduler counters, numpy RNG states, wall time so far
    model.safetensors       the trained network (LoRA adapters included at the LoRA stage)
    ema.safetensors         the EMA copy and its counters (ema-pytorch state, no online copy)
    optimizer.safetensors   AdamW moments flattened to "state.<param index>.<name>" tensors
    rng.safetensors         torch RNG states: global, batch sampler, noise (one set per rank)
    norm.npz                the normalisation stats the run trains with (reused on resume,
                            so a changed data cache cannot shift them under a running model)

    manifest.json           SHA-256 and size of every file above, written last

The run keeps a rolling pair: ``last`` and the save before it, ``prev``. A save writes
``last.tmp/`` completely (manifest last), then rotates (``prev`` removed, ``last`` ->
``prev``, ``last.tmp`` -> ``last``). A kill at any moment, even during a save, leaves at
least one complete state whose manifest verifies, and ``find_state`` takes the newest such
one, so a resume loses at most the steps since the previous save. A state whose files were
damaged afterwards (its manifest no longer verifies) is skipped the same way, with a warning.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from torch import Tensor

from motiongen.errors import FormatError, InputError
from motiongen.features import NormStats
from motiongen.integrity import MANIFEST_NAME, manifest_entries, verify_manifest, write_manifest
from motiongen.locks import LockHeld, hold_lock

logger = logging.getLogger(__name__)

STATE_NAME = "state.json"
NORM_NAME = "norm.npz"


def _save(tensors: dict[str, Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    # clone: safetensors refuses tensors that share storage
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(path))


def _load(path: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise FormatError(
            f"training state {path} is corrupt ({err}); delete it to restart"
        ) from err


def optimizer_tensors(state: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors and a JSON-able rest."""
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"state.{pid}.{name}"] = value
            else:
                scalars.setdefault(str(pid), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_state(tensors: dict[str, Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``optimizer_tensors``."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, entries in rest.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entries)
    groups = []
    for g in rest["param_groups"]:
        g = dict(g)
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


def save_state(
    run_dir: Path,
    *,
    model: dict[str, Tensor],
    ema: dict[str, Tensor] | None,
    optimizer: dict[str, Any],
    rng: dict[str, Tensor],
    meta: dict[str, Any],
    norm: NormStats | None = None,
) -> Path:
    """Write ``run_dir/last`` atomically (see the module docstring); returns its path."""
    tmp, last, old = run_dir / "last.tmp", run_dir / "last", run_dir / "last.old"
    if tmp.exists() and find_state(run_dir) == tmp:
        _rotate(run_dir)  # a complete save that was killed before its rotation: keep it
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    _save(model, tmp / "model.safetensors")
    if ema is not None:
        _save(ema, tmp / "ema.safetensors")
    opt_tensors, opt_rest = optimizer_tensors(optimizer)
    _save(opt_tensors, tmp / "optimizer.safetensors")
    _save(rng, tmp / "rng.safetensors")
    if norm is not None:
        norm.save(tmp / NORM_NAME)
    (tmp / STATE_NAME).write_text(json.dumps({**meta, "optimizer": opt_rest}, indent=1))
    write_manifest(tmp, manifest_entries(tmp, [p.name for p in tmp.iterdir() if p.is_file()]))
    _rotate(run_dir)
    if old.exists():  # left by an older version of this function
        shutil.rmtree(old)
    return last


def _rotate(run_dir: Path) -> None:
    """prev <- last <- last.tmp (each step leaves a complete state in place)."""
    tmp, last, prev = run_dir / "last.tmp", run_dir / "last", run_dir / "prev"
    if last.exists():
        if prev.exists():
            shutil.rmtree(prev)
        last.replace(prev)
    tmp.replace(last)


def _step(path: Path) -> int:
    try:
        return int(json.loads((path / STATE_NAME).read_text()).get("step", -1))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return -1


def find_state(run_dir: Path) -> Path | None:
    """The newest training state in ``run_dir`` whose files are complete and verify against
    its manifest (``last``, a fully written ``last.tmp``, ``prev``, or an older ``last.old``)."""
    candidates = [
        run_dir / name
        for name in ("last", "last.tmp", "prev", "last.old")
        if (run_dir / name / STATE_NAME).is_file()
    ]
    for path in sorted(candidates, key=_step, reverse=True):
        if not (path / MANIFEST_NAME).is_file():
            if path.name == "last.tmp":
                continue  # a save that was interrupted before its manifest
            return path  # a state written before manifests existed
        try:
            verify_manifest(path, f"training state {path}")
        except FormatError as err:
            logger.warning("skipping %s", err)
            continue
        return path
    return None


def state_norm(path: Path) -> NormStats | None:
    """The normalisation stats saved with a training state (None for older states)."""
    return NormStats.load(path / NORM_NAME) if (path / NORM_NAME).is_file() else None


def load_state(path: Path) -> dict[str, Any]:
    """{"meta", "model", "ema" (or None), "optimizer" (a state dict), "rng"} from a state dir."""
    try:
        meta = json.loads((path / STATE_NAME).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise FormatError(f"training state {path / STATE_NAME} is unreadable ({err})") from err
    ema_path = path / "ema.safetensors"
    return {
        "meta": meta,
        "model": _load(path / "model.safetensors"),
        "ema": _load(ema_path) if ema_path.is_file() else None,
        "optimizer": optimizer_state(_load(path / "optimizer.safetensors"), meta["optimizer"]),
        "rng": _load(path / "rng.safetensors"),
    }


LOCK_NAME = "train.lock"


def lock_run_dir(run_dir: Path) -> Any:
    """Hold ``run_dir`` for this process (``locks.hold_lock`` on its ``train.lock``, released
    when the process ends): a second run started on the same folder wrote the same
    ``last.tmp`` and died with a traceback. The same process may take it again (a resumed run
    in one Python session)."""
    try:
        return hold_lock(run_dir / LOCK_NAME, same_process_again=True)
    except LockHeld as held:
        raise InputError(
            f"{run_dir} is in use by another training process (pid {held.owner}); wait for it "
            "or choose another run_dir"
        ) from None
