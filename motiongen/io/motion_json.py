"""The ``.motion`` JSON file a web viewer reads (schema in ``docs/formats.md``).

```
{"meta": {"version": 1, "name", "fps", "frames", "joints": 22, "units": "m", "up": "y",
          "forward": "+z", "left": "+x", "texts", "labels", "audio": {"path", "offset"} | null,
          "info": {...}},
 "skeleton": {"joints": [22 names], "parents": [22 ints]},
 "fps": 20.0,
 "motion": [x, y, z, x, y, z, ...],   # T * 22 * 3 numbers, frame-major, rounded to 1e-4 m
 "actions": [T labels] | null}
```
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

FORMAT_VERSION = 1
MAX_FILE_BYTES = 512_000_000  # 100k frames of 22 joints as JSON text is ~60 MB
MAX_AUDIO_OFFSET = 86_400.0  # seconds: a day of audio
DECIMALS = 4  # 0.1 mm: far below capture noise, and keeps files small


def motion_to_dict(motion: Motion, *, base_dir: Path | None = None) -> dict[str, Any]:
    """The ``.motion`` JSON object for ``motion``.

    base_dir: folder the file will live in; an audio file inside it is stored by a relative
    path so the folder can be moved or served as a whole.
    """
    audio = None
    if motion.audio is not None:
        audio = {
            "path": audio_path_for_file(motion.audio.path, base_dir),
            "offset": float(motion.audio.offset),
        }
    flat = np.round(motion.positions.astype(np.float64), DECIMALS).reshape(-1)
    # 0.0 rather than -0.0 keeps the text short and stable
    flat = flat + 0.0
    return {
        "meta": {
            "version": FORMAT_VERSION,
            "name": motion.name,
            "fps": motion.fps,
            "frames": motion.num_frames,
            "joints": NUM_JOINTS,
            "units": "m",
            "up": "y",
            "forward": "+z",
            "left": "+x",
            "texts": list(motion.texts),
            "labels": dict(motion.labels),
            "audio": audio,
            "info": motion.meta,
        },
        "skeleton": {"joints": list(JOINT_NAMES), "parents": list(PARENTS)},
        "fps": motion.fps,
        "motion": flat.tolist(),
        "actions": None if motion.actions is None else list(motion.actions),
    }


def save_motion_json(motion: Motion, path: str | Path) -> Path:
    """Write ``motion`` as ``.motion`` JSON; positions rounded to 1e-4 m."""
    path = Path(path)
    data = motion_to_dict(motion, base_dir=path.resolve().parent)
    try:
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"cannot write {path.name}: motion.meta is not JSON-serialisable ({exc}); "
            "keep only strings, numbers, lists and dicts in meta"
        ) from exc
    path.write_text(text, encoding="utf-8")
    return path


def load_motion_json(path: str | Path) -> Motion:
    """Read a ``.motion`` JSON file written by ``save_motion_json`` (or by the web viewer).

    A relative audio path is taken relative to the file's folder.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no such .motion file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FormatError(
            f"{path.name} is {path.stat().st_size / 1e6:.0f} MB; .motion files are read up to "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise FormatError(f"{path.name}: JSON nested too deeply to be a .motion file") from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path.name} is not a UTF-8 text file; expected .motion JSON") from exc
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path.name} is not valid JSON ({exc})") from exc
    return motion_from_dict(data, source=path.name, base_dir=path.resolve().parent)


def motion_from_dict(
    data: Any, *, source: str = "motion JSON", base_dir: Path | None = None
) -> Motion:
    """Parse the ``.motion`` JSON object, or the service's JSON answer for a motion (its
    "positions" [T][22][3], "fps", "joints", "text", "meta": ``serve.results.motion_payload``;
    a saved answer was refused as "not a .motion file" by ``motiongen render``, a new user's
    trial); every malformation raises ``FormatError``."""
    if not isinstance(data, dict):
        raise FormatError(f"{source}: expected a JSON object with 'meta' and 'motion'")
    if "motion" not in data and "positions" in data:
        data = _from_service_answer(data)
    for key in ("meta", "motion"):
        if key not in data:
            raise FormatError(f"{source}: missing key '{key}'; not a .motion file")
    meta = data["meta"]
    if not isinstance(meta, dict):
        raise FormatError(f"{source}: 'meta' must be an object")
    version = meta.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise FormatError(
            f"{source}: .motion version {version!r} is not supported (this reader knows "
            f"version {FORMAT_VERSION}); upgrade motiongen"
        )
    fps = data.get("fps", meta.get("fps"))
    if not isinstance(fps, (int, float)) or isinstance(fps, bool) or not fps > 0:
        raise FormatError(f"{source}: 'fps' must be a positive number, got {fps!r}")
    if "fps" in data and meta.get("fps") is not None and data["fps"] != meta["fps"]:
        # the writer puts the same rate in both; two rates mean an edited file, and either
        # guess would silently play the motion too fast or too slow
        raise FormatError(
            f"{source}: 'fps' says {data['fps']!r} and 'meta.fps' {meta['fps']!r}; make them "
            "agree (the rate the frames were sampled at)"
        )

    joints = meta.get("joints", NUM_JOINTS)
    skeleton = data.get("skeleton")
    if isinstance(skeleton, dict) and "joints" in skeleton:
        names = skeleton["joints"]
        if list(names) != list(JOINT_NAMES):
            raise FormatError(
                f"{source}: skeleton joints {names!r:.80} are not the canonical "
                f"{NUM_JOINTS}-joint skeleton; retarget the motion first"
            )
    if joints != NUM_JOINTS:
        raise FormatError(
            f"{source}: {joints!r} joints; only the {NUM_JOINTS}-joint skeleton is supported"
        )

    values = data["motion"]
    if not isinstance(values, list) or not values:
        raise FormatError(f"{source}: 'motion' must be a non-empty list of numbers")
    try:
        flat = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{source}: 'motion' must hold only numbers ({exc})") from exc
    per_frame = NUM_JOINTS * 3
    if flat.ndim != 1:
        # A nested [T][22][3] list is accepted when its shape is right.
        if flat.shape[1:] in ((NUM_JOINTS, 3), (per_frame,)):
            flat = flat.reshape(-1)
        else:
            raise FormatError(f"{source}: 'motion' has shape {flat.shape}; expected a flat list")
    if flat.size % per_frame:
        raise FormatError(
            f"{source}: 'motion' has {flat.size} numbers, not a multiple of {per_frame} "
            f"({NUM_JOINTS} joints x 3)"
        )
    n_frames = flat.size // per_frame
    frames = meta.get("frames", n_frames)
    if frames != n_frames:
        raise FormatError(
            f"{source}: meta says {frames} frames but 'motion' holds {n_frames}; the file is "
            "truncated or corrupt"
        )
    if not np.isfinite(flat).all():
        raise FormatError(f"{source}: 'motion' contains NaN or infinite values")

    actions = data.get("actions")
    if actions is not None and (not isinstance(actions, list) or len(actions) != n_frames):
        raise FormatError(f"{source}: 'actions' must be a list of {n_frames} labels or null")

    audio = meta.get("audio")
    audio_ref = None
    if audio is not None:
        if not isinstance(audio, dict) or not isinstance(audio.get("path"), str):
            raise FormatError(f"{source}: 'meta.audio' must be null or {{'path', 'offset'}}")
        offset = audio.get("offset", 0.0)
        if (
            not isinstance(offset, (int, float))
            or isinstance(offset, bool)
            or not (math.isfinite(offset) and 0 <= offset <= MAX_AUDIO_OFFSET)
        ):
            raise FormatError(
                f"{source}: 'meta.audio.offset' must be a number of seconds in "
                f"0..{MAX_AUDIO_OFFSET:g}, got {offset!r}"
            )
        audio_ref = AudioRef(audio_path_from_file(audio["path"], base_dir), float(offset))

    texts = meta.get("texts") or []
    labels = meta.get("labels") or {}
    info = meta.get("info") or {}
    if not isinstance(texts, list) or not isinstance(labels, dict) or not isinstance(info, dict):
        raise FormatError(f"{source}: 'meta.texts' must be a list, 'labels' and 'info' objects")
    try:
        return Motion(
            positions=flat.reshape(n_frames, NUM_JOINTS, 3).astype(np.float32),
            fps=float(fps),
            texts=[str(t) for t in texts],
            labels={str(k): str(v) for k, v in labels.items()},
            actions=None if actions is None else [str(a) for a in actions],
            audio=audio_ref,
            name=str(meta.get("name") or ""),
            meta=dict(info),
        )
    except InputError as exc:
        raise FormatError(f"{source}: {exc}") from exc


def _from_service_answer(data: dict[str, Any]) -> dict[str, Any]:
    """The ``.motion`` object of the service's answer for a motion (checked as one)."""
    text = data.get("text")
    info = data.get("meta")
    return {
        "meta": {
            "fps": data.get("fps"),
            "joints": data.get("num_joints", NUM_JOINTS),
            "texts": [text] if isinstance(text, str) and text else [],
            "info": info if isinstance(info, dict) else {},
        },
        "skeleton": {"joints": data.get("joints", list(JOINT_NAMES))},
        "motion": data["positions"],
    }


def audio_path_from_file(stored: str, base_dir: Path | None, *, legacy: bool = False) -> str:
    """A stored audio path as written by ``audio_path_for_file``: a relative one is taken
    relative to ``base_dir`` (the file's folder). ``legacy``: unless only the path as it
    stands exists (.npz archives written before 2026-12-04 held it relative to the working
    folder)."""
    path = Path(stored)
    if path.is_absolute() or base_dir is None:
        return str(path)
    beside = base_dir / path
    return str(path) if legacy and path.exists() and not beside.exists() else str(beside)


def audio_path_for_file(audio_path: str, base_dir: Path | None) -> str:
    """Relative to ``base_dir`` when the audio lies inside it, else absolute: a file that
    stores it can be read from any working folder, and moved with its audio."""
    if base_dir is None:
        return str(audio_path)
    resolved = Path(audio_path).expanduser().resolve()
    try:
        return resolved.relative_to(base_dir).as_posix()
    except ValueError:
        return str(resolved)
