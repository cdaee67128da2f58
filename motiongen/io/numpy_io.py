"""NumPy motion files: ``.npy`` joint arrays (HumanML3D ``new_joints`` / ``new_joint_vecs``)
and ``.npz`` archives that keep the frame rate, texts and labels.

| file                          | content                                                    |
|-------------------------------|------------------------------------------------------------|
| ``.npy`` (T, 22, 3) / (T, 66) | joint positions, metres, Y up; fps not stored (default 20) |
| ``.npy`` (T, 263)             | HumanML3D feature vector, recovered with ``recover_from_ric`` |
| ``.npz``                      | ``positions`` (T, 22, 3) float32, ``fps``, ``info`` (JSON)  |
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.io.motion_json import audio_path_for_file, audio_path_from_file
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import BONES, NUM_JOINTS

# 100k frames of 22 x 3 float64 are 53 MB; far more is a forged header or a zip bomb.
MAX_ARRAY_BYTES = 256_000_000
# HumanML3D stores motions at 20 fps and its .npy files carry no frame rate.
HUMANML3D_FPS = 20.0
HUMANML3D_FEATURE_DIM = 263  # 4 root + 21*3 ric + 21*6 rotations + 22*3 velocities + 4 contacts


def npy_rate_problem(fps: float) -> str | None:
    """Why a motion at ``fps`` cannot go into a .npy (None when it can): the file stores no
    frame rate and is read back at the HumanML3D rate, so another one plays at the wrong speed."""
    if abs(fps - HUMANML3D_FPS) > 1e-9:
        return f"a .npy stores no frame rate and reads back as {HUMANML3D_FPS:g} fps"
    return None


def save_numpy(motion: Motion, path: str | Path) -> Path:
    """Write ``motion`` as ``.npy`` (only the (T, 22, 3) float32 positions) or ``.npz``.

    The ``.npz`` holds ``positions`` (T, 22, 3) float32, ``fps`` () float64 and ``info``, a
    JSON string with name, texts, labels, actions, audio and meta, so nothing is lost.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    positions = np.ascontiguousarray(motion.positions, dtype=np.float32)
    if suffix == ".npy":
        if problem := npy_rate_problem(motion.fps):
            raise InputError(
                f"cannot write {path.name}: {problem}, this motion is at {motion.fps:g} fps; "
                f"write .npz or .bvh, or resample it to {HUMANML3D_FPS:g} fps "
                f"(--fps {HUMANML3D_FPS:g})"
            )
        np.save(path, positions)
    elif suffix == ".npz":
        info = {
            "name": motion.name,
            "texts": list(motion.texts),
            "labels": dict(motion.labels),
            "actions": None if motion.actions is None else list(motion.actions),
            "audio": None
            if motion.audio is None
            else {
                "path": audio_path_for_file(motion.audio.path, path.resolve().parent),
                "offset": float(motion.audio.offset),
            },
            "meta": motion.meta,
        }
        try:
            info_json = json.dumps(info)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"cannot write {path.name}: motion.meta is not JSON-serialisable ({exc}); "
                "keep only strings, numbers, lists and dicts in meta"
            ) from exc
        # np.savez appends ".npz" to names without it; open the file ourselves to keep the name.
        with open(path, "wb") as handle:
            np.savez(handle, positions=positions, fps=np.float64(motion.fps), info=info_json)
    else:
        raise InputError(f"cannot write {path.name} as NumPy: use a .npy or .npz extension")
    return path


def load_numpy(path: str | Path, fps: float | None = None) -> Motion:
    """Read a ``.npy`` or ``.npz`` motion.

    A bare ``.npy`` may hold joint positions (T, 22, 3) or (T, 66), metres, Y up (HumanML3D
    ``new_joints``), or the HumanML3D feature vector (T, 263) (``new_joint_vecs``, not
    normalised), whose joint positions are recovered. It stores no frame rate: ``fps`` gives
    it, else the HumanML3D convention of 20 fps is assumed and recorded in
    ``meta["fps_assumed"]``. For an ``.npz`` written by ``save_numpy`` the stored fps is used
    unless ``fps`` overrides it. Positions are returned as stored (not re-canonicalised).
    The result passes the plausibility gate every reader's does (``motiongen.load``; read
    alone, a walk in centimetres, Z up or 5 km away had come back unchecked: a new user's
    trial of the docs).
    """
    from motiongen.io import checked_read

    return checked_read(Path(path), lambda: read_numpy(path, fps))


def read_numpy(path: str | Path, fps: float | None = None) -> Motion:
    """``load_numpy`` without the plausibility gate (``motiongen.io.load`` applies it)."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no such NumPy file: {path}")
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise InputError(f"frame rate must be a positive number, got {fps!r}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _load_npy(path, fps)
    if suffix == ".npz":
        return _load_npz(path, fps)
    raise InputError(f"cannot read {path.name} as NumPy: use a .npy or .npz file")


# ---- .npy ------------------------------------------------------------------------------
def _check_npy_header(handle: Any, available: int, what: str) -> None:
    """Refuse an array whose header declares more data than the file holds (a forged header
    would make NumPy allocate petabytes) or a dtype that is not real numbers."""
    try:
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise FormatError(f"{what} is not a readable .npy array (its header: {exc})") from exc
    if dtype.hasobject:
        raise FormatError(f"{what} holds Python objects; only numeric arrays are read")
    count = 1
    for n in shape:
        count *= int(n)
    needed = count * dtype.itemsize
    if needed > min(available, MAX_ARRAY_BYTES):
        raise FormatError(
            f"{what} declares shape {tuple(shape)} ({needed:,} bytes) but "
            + (
                f"holds {available:,} bytes"
                if needed > available
                else f"arrays are read up to {MAX_ARRAY_BYTES:,} bytes"
            )
        )


def _load_npy(path: Path, fps: float | None) -> Motion:
    with open(path, "rb") as handle:
        _check_npy_header(handle, path.stat().st_size, path.name)
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FormatError(f"{path.name} is not a readable .npy array ({exc})") from exc
    meta: dict[str, Any] = {"source_file": str(path)}
    if fps is None:
        fps = HUMANML3D_FPS
        meta["fps_assumed"] = (
            f"{HUMANML3D_FPS:g} fps (HumanML3D convention; the .npy stores no frame rate)"
        )
    if array.ndim == 2 and array.shape[1] == HUMANML3D_FEATURE_DIM:
        positions = recover_from_ric(_checked_float(array, path))
        _check_plausible_skeleton(positions, path)
        meta["recovered_from"] = "HumanML3D new_joint_vecs (263-d) via recover_from_ric"
    else:
        positions = _as_joints(array, path)
    return Motion(positions=positions, fps=fps, name=_stem(path), meta=meta)


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def _checked_float(array: np.ndarray, path: Path) -> np.ndarray:
    if not np.issubdtype(array.dtype, np.floating):
        raise FormatError(
            f"{path.name} holds {array.dtype} values; expected floating-point positions in "
            "metres (integers are not metres: convert and scale them first)"
        )
    if array.shape[0] < 1:
        raise FormatError(f"{path.name} has no frames")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=tuple(range(1, array.ndim))).sum())
        raise FormatError(
            f"{path.name} contains NaN or infinite values in {bad} frame(s); fill or cut "
            "those frames (e.g. interpolate them) and save the file again"
        )
    return array


def _as_joints(array: np.ndarray, path: Path) -> np.ndarray:
    """(T, 22, 3) or (T, 66) -> (T, 22, 3) float32, with clear errors for anything else."""
    if array.ndim == 2 and array.shape[1] == NUM_JOINTS * 3:
        array = array.reshape(array.shape[0], NUM_JOINTS, 3)
    if array.ndim != 3 or array.shape[1:] != (NUM_JOINTS, 3):
        hint = ""
        if array.ndim == 3 and array.shape[2] == 3:
            hint = (
                f" ({array.shape[1]} joints: retarget to the canonical {NUM_JOINTS}-joint "
                "skeleton first)"
            )
        elif array.ndim == 2 and array.shape[1] > 100:
            hint = " (a feature vector? only HumanML3D's 263-d features are understood)"
        raise FormatError(
            f"{path.name} has shape {tuple(array.shape)}; expected joint positions "
            f"(T, {NUM_JOINTS}, 3) or (T, {NUM_JOINTS * 3}), or HumanML3D features "
            f"(T, {HUMANML3D_FEATURE_DIM}){hint}"
        )
    return _checked_float(array, path).astype(np.float32)


def _check_plausible_skeleton(positions: np.ndarray, path: Path) -> None:
    """Normalised features recover to a body whose bones stretch from frame to frame."""
    child = np.array([c for c, _ in BONES])
    parent = np.array([p for _, p in BONES])
    lengths = np.linalg.norm(positions[:, child] - positions[:, parent], axis=-1)  # (T, 21)
    mean = lengths.mean(axis=0)
    spread = float(np.max(lengths.std(axis=0) / np.maximum(mean, 1e-6)))
    if spread > 0.5 or not (0.5 < float(mean.sum()) < 10.0):
        raise FormatError(
            f"{path.name} looks like HumanML3D features that are normalised or not in metres "
            f"(bone lengths vary by up to {spread:.0%}); denormalise with the dataset's "
            "Mean.npy/Std.npy (x * std + mean) or pass the new_joints file instead"
        )


def recover_from_ric(features: np.ndarray) -> np.ndarray:
    """HumanML3D ``recover_from_ric``: joint positions from the 263-d feature vector.

    features: (T, 263) unnormalised -> (T, 22, 3) float32 metres, Y up.
    Root yaw is the running sum of the per-frame yaw velocity (feature 0, stored as the half
    angle of a quaternion about Y, as HumanML3D does), root XZ the running sum of the
    velocities (features 1:3, in the body's facing frame) rotated to the world, root height
    is feature 3, and features 4:67 are the other 21 joints relative to the root in the facing
    frame. Velocities of frame t move frame t to t + 1, so frame 0 sits at yaw 0, XZ origin.
    """
    data = np.asarray(features, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != HUMANML3D_FEATURE_DIM:
        raise InputError(
            f"HumanML3D features must have shape (T, {HUMANML3D_FEATURE_DIM}), got {data.shape}"
        )
    n = data.shape[0]
    half_yaw = np.zeros(n)
    half_yaw[1:] = np.cumsum(data[:-1, 0])
    # The quaternion (cos a, 0, sin a, 0) rotates by 2a; HumanML3D applies its inverse.
    cos, sin = np.cos(2.0 * half_yaw), np.sin(2.0 * half_yaw)

    step = np.zeros((n, 2))  # (x, z) displacement arriving at each frame, in the facing frame
    step[1:] = data[:-1, 1:3]
    step_x = cos * step[:, 0] - sin * step[:, 1]
    step_z = sin * step[:, 0] + cos * step[:, 1]
    root = np.stack([np.cumsum(step_x), data[:, 3], np.cumsum(step_z)], axis=-1)  # (T, 3)

    local = data[:, 4 : 4 + (NUM_JOINTS - 1) * 3].reshape(n, NUM_JOINTS - 1, 3)
    c, s = cos[:, None], sin[:, None]
    world = np.stack(
        [
            c * local[..., 0] - s * local[..., 2] + root[:, None, 0],
            local[..., 1],
            s * local[..., 0] + c * local[..., 2] + root[:, None, 2],
        ],
        axis=-1,
    )
    return np.concatenate([root[:, None, :], world], axis=1).astype(np.float32)


# ---- .npz ------------------------------------------------------------------------------
def _check_npz_members(path: Path) -> None:
    """Refuse an archive whose members would decompress beyond the limit (a zip bomb) before
    anything is decompressed, and check each member's .npy header against its size."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_ARRAY_BYTES:
                raise FormatError(
                    f"{path.name} would decompress to {total:,} bytes; archives are read up to "
                    f"{MAX_ARRAY_BYTES:,} bytes"
                )
            for m in members:
                with z.open(m) as handle:
                    _check_npy_header(handle, m.file_size, f"{path.name}:{m.filename}")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        raise FormatError(f"{path.name} is not a readable .npz archive ({exc})") from exc


def _load_npz(path: Path, fps: float | None) -> Motion:
    _check_npz_members(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FormatError(f"{path.name} is not a readable .npz archive ({exc})") from exc
    with archive:
        keys = set(archive.files)
        if "positions" in keys:
            key = "positions"
        elif "joints" in keys:
            key = "joints"
        elif len(keys) == 1:
            key = next(iter(keys))
        else:
            raise FormatError(
                f"{path.name} has no 'positions' array (keys: {', '.join(sorted(keys)) or 'none'}); "
                "expected an archive written by save_numpy"
            )
        try:
            positions = _as_joints(archive[key], path)
            stored_fps = float(archive["fps"]) if "fps" in keys else None
            info_text = str(archive["info"]) if "info" in keys else None
        except MotionGenError:  # already says what is wrong with the array (NaN frames ...)
            raise
        except (ValueError, TypeError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise FormatError(f"{path.name}: unreadable array in the archive ({exc})") from exc

    info = _parse_info(info_text, path)
    meta = dict(info.get("meta") or {})
    if fps is None:
        fps = stored_fps
    if fps is None:
        fps = HUMANML3D_FPS
        meta["fps_assumed"] = f"{HUMANML3D_FPS:g} fps (the archive stores no frame rate)"
    audio = info.get("audio")
    try:
        return Motion(
            positions=positions,
            fps=fps,
            texts=[str(t) for t in info.get("texts") or []],
            labels={str(k): str(v) for k, v in (info.get("labels") or {}).items()},
            actions=info.get("actions"),
            audio=None
            if not audio
            else AudioRef(
                audio_path_from_file(str(audio["path"]), path.resolve().parent, legacy=True),
                float(audio.get("offset", 0.0)),
            ),
            name=str(info.get("name") or _stem(path)),
            meta=meta,
        )
    except InputError as exc:
        raise FormatError(f"{path.name}: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FormatError(f"{path.name}: malformed 'info' record ({exc})") from exc


def _parse_info(text: str | None, path: Path) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path.name}: the 'info' entry is not valid JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise FormatError(f"{path.name}: the 'info' entry must be a JSON object")
    return info
