"""Reading and writing motions; ``load`` and ``save`` pick the format from the path.

| path                                   | read                 | write                  |
|----------------------------------------|----------------------|------------------------|
| ``*.bvh``                              | any skeleton known to ``motiongen.retarget`` | canonical skeleton |
| ``*.motion`` / ``*.motion.json``       | yes                  | yes (web viewer JSON)  |
| ``*.npy`` / ``*.npz``                  | (T, 22, 3) joints    | yes                    |
| ``*.mp4`` / ``*.gif``                  | no                   | rendered stick figure  |
| ``*.png``                              | no                   | a contact sheet        |

Dataset folders (a music-to-dance folder with ``skeletons.json.gz``) are read by
``motiongen.load`` (``motiongen.data.load``), which sits above this package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motiongen.errors import (
    DataNotFoundError,
    FormatError,
    InputError,
    MotionGenError,
    refuse_unknown,
)

if TYPE_CHECKING:
    from motiongen.motion import Motion

READ_SUFFIXES = (".bvh", ".motion", ".motion.json", ".json", ".npy", ".npz")
# Formats that draw the motion (and take a title); a PNG is a contact sheet of a few frames
PICTURES = (".mp4", ".gif", ".png")
CONTACT_FRAMES = 5  # a .png contact sheet's evenly spaced frames, by default
WRITE_SUFFIXES = (".bvh", ".motion", ".motion.json", ".json", ".npy", ".npz", *PICTURES)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for long in (".motion.json", ".json.gz"):
        if name.endswith(long):
            return long
    return path.suffix.lower()


def load(path: str | Path) -> Motion:
    """Read any supported motion file into a canonical ``Motion`` (dataset folders, such as
    a music-to-dance folder, are read by ``motiongen.load``).

    Every file passes one plausibility gate (``motiongen.plausibility.check_motion``), and any
    failure, expected or not, is one ``MotionGenError`` naming the file and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"no such file or folder: {path}")
    if path.is_dir():
        raise InputError(
            f"{path} is a folder; give one motion file ({', '.join(READ_SUFFIXES)}), or read "
            "a dataset folder with motiongen.load"
        )
    suffix = _suffix(path)
    if suffix in PICTURES:
        raise InputError(
            f"cannot read {path.name}: a {suffix} holds pictures, not joint positions; read a "
            f"motion file ({', '.join(READ_SUFFIXES)}): write one beside the video with "
            "-o NAME.npz (or .bvh)"
        )
    if suffix not in (".bvh", ".motion", ".motion.json", ".json", ".npy", ".npz"):
        raise InputError(
            f"cannot read {path.name}: unknown extension {suffix or '(none)'}; "
            f"readable: {', '.join(READ_SUFFIXES)} or a dance folder"
        )
    return checked_read(path, lambda: _read(path, suffix))


def checked_read(path: Path, read: Callable[[], Motion]) -> Motion:
    """``read()`` with every failure mapped to one ``MotionGenError`` naming ``path``, and
    the result through the plausibility gate."""
    from motiongen.plausibility import check_motion

    try:
        motion = read()
    except MotionGenError:
        raise
    except RecursionError:
        raise FormatError(f"{path.name}: nested too deeply to be a motion file") from None
    except MemoryError:
        raise FormatError(f"{path.name}: declares more data than fits in memory") from None
    except Exception as exc:  # an unforeseen malformation: still one clear line, never a trace
        raise FormatError(
            f"{path.name} cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
        ) from exc
    check_motion(motion.positions, motion.fps, path.name)
    return motion


def _read(path: Path, suffix: str) -> Motion:
    if suffix == ".bvh":
        from motiongen.io.bvh import load_bvh

        return load_bvh(path)
    if suffix in (".motion", ".motion.json", ".json"):
        from motiongen.io.motion_json import load_motion_json

        return load_motion_json(path)
    from motiongen.io.numpy_io import read_numpy

    return read_numpy(path)


def _check_options(writer: Any, options: dict[str, Any], path: Path) -> None:
    """An ``InputError`` naming what a format's writer takes, for an option it does not (a
    raw TypeError before: ``save("x.bvh", fps=60)``, a new user's trial)."""
    import inspect

    params = list(inspect.signature(writer).parameters.values())[2:]  # after motion, path
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    hint = "; for another frame rate resample first: motion.resample(fps).save(...)"
    refuse_unknown(
        options,
        [p.name for p in params],
        f"cannot write {path.name}",
        hint if "fps" in options else "",
    )


def save(motion: Motion, path: str | Path, **options: Any) -> Path:
    """Write ``motion`` to ``path`` in the format its extension names; returns the path."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in WRITE_SUFFIXES:
        raise InputError(
            f"cannot write {path.name}: unknown extension {suffix or '(none)'}; "
            f"writable: {', '.join(WRITE_SUFFIXES)}"
        )
    if suffix == ".bvh":
        from motiongen.io.bvh import save_bvh as writer
    elif suffix in (".motion", ".motion.json", ".json"):
        from motiongen.io.motion_json import save_motion_json as writer
    elif suffix in (".npy", ".npz"):
        from motiongen.io.numpy_io import save_numpy as writer
    elif suffix == ".png":
        from motiongen.io.render import save_png as writer
    else:
        from motiongen.io.render import render_video as writer
    _check_options(writer, options, path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    writer(motion, path, **options)
    return path
