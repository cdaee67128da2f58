"""``motiongen.load``: any motion file (``motiongen.io.load``) or a dataset folder.

File formats are ``motiongen.io``'s business; a folder is a dataset's layout (today the
music-to-dance set's ``skeletons.json.gz`` + ``config.json`` + ``audio.ogg``), which is data
knowledge and so lives here, above ``io``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from motiongen.errors import DataNotFoundError, InputError
from motiongen.io import READ_SUFFIXES, checked_read
from motiongen.io import load as load_file
from motiongen.motion import Motion

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData


def load_any(path: str | Path) -> Motion:
    """Read any supported motion file or dance folder into a canonical ``Motion``, or the
    clip of that name in the prepared data ("dataset-1_walk_normal_001")."""
    if isinstance(path, str) and not path.strip():  # Path("") is the current folder
        raise InputError("no motion given; name a motion file, dance folder or prepared clip")
    path = Path(path)
    if not path.exists():
        bare = path.name == str(path) and not path.suffix  # a clip's name, not a file's path
        nor = ""
        if bare:  # the prepared index, read once for the clip or the names like it
            data = _prepared_data()
            if data is not None and str(path) in data:
                return data.motion(str(path))
            nor = f" (nor a clip of that name in the prepared data{_clips_like(str(path), data)})"
        raise DataNotFoundError(f"no such file or folder: {path}{nor}")
    if path.is_dir() or path.name == "skeletons.json.gz":
        folder = path if path.is_dir() else path.parent
        if (folder / "skeletons.json.gz").exists():
            from motiongen.data.dance import load_dance

            return checked_read(folder, lambda: load_dance(folder))
        raise InputError(
            f"{path} is a folder without skeletons.json.gz; give one motion file "
            f"({', '.join(READ_SUFFIXES)}) or a dance folder"
        )
    from motiongen.data.bandai import label_file

    motion = load_file(path)
    label_file(motion, path)
    return motion


def _clips_like(name: str, data: PreparedData | None, most: int = 3) -> str:
    """ "; clips like it: a, b, c" from the prepared ``data``'s clip names containing ``name``
    (or close to it), and where the list is; "" without prepared data. "walk" alone had left a
    new user browsing the BVH folder for names."""
    import difflib

    if data is None:
        return ""
    names = [c.name for c in data.clips]
    low = name.lower()
    like = [n for n in names if low in n.lower()][:most]
    like = like or difflib.get_close_matches(name, names, n=most, cutoff=0.6)
    listed = ", ".join(repr(n) for n in like)
    return (f"; clips like it: {listed}" if like else "") + "; `motiongen data clips` lists them"


def _prepared_data() -> PreparedData | None:
    """The prepared cache's index, or None where there is none."""
    from motiongen.data.prepare import default_prepared_dir
    from motiongen.data.store import PreparedData

    try:
        return PreparedData.open(default_prepared_dir())
    except DataNotFoundError:
        return None
