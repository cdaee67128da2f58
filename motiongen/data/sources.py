"""Where each data source lives under the data directory, and how to iterate it.

A source yields ``Motion`` objects (canonical skeleton) or ``BadFile`` records for files that
could not be read, so a bulk job can skip and report them instead of dying.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from motiongen.data.records import BadFile
from motiongen.motion import Motion

SourceIter = Iterator[Motion | BadFile]


@dataclass(frozen=True)
class Source:
    """One data source found on disk.

    name: key used in stats and caches ("bandai-1", "bandai-2", "dance", "bvh-<folder>").
    files: the files whose size and mtime decide whether a cache is stale.
    expected_clips: clip count when known without reading (for the progress bar), else None.
    """

    name: str
    files: tuple[Path, ...]
    expected_clips: int | None
    iterate: Callable[[], SourceIter]


def _bandai_1(root: Path) -> Source | None:
    folder = root / "bandai" / "dataset-1"
    if not (folder / "data").is_dir():
        return None
    files = tuple(sorted((folder / "data").glob("*.bvh")))

    def it() -> SourceIter:
        from motiongen.data.bandai import iter_bandai

        return iter_bandai(root / "bandai", "dataset-1")

    return Source("bandai-1", files + tuple(sorted((folder / "cfg").glob("*"))), len(files), it)


def _bandai_2(root: Path) -> Source | None:
    tar = root / "bandai" / "dataset-2" / "data.tar.xz"
    if not tar.is_file():
        return None

    def it() -> SourceIter:
        from motiongen.data.bandai import iter_bandai

        return iter_bandai(root / "bandai", "dataset-2")

    cfg = tuple(sorted((tar.parent / "cfg").glob("*"))) if (tar.parent / "cfg").is_dir() else ()
    return Source("bandai-2", (tar, *cfg), None, it)


def _dance(root: Path) -> Source | None:
    folder = root / "dance"
    if not folder.is_dir():
        return None
    songs = sorted(p for p in folder.glob("DANCE_*") if p.is_dir())
    if not songs:
        return None
    files = tuple(f for s in songs for f in sorted(s.iterdir()))

    def it() -> SourceIter:
        from motiongen.data.dance import iter_dance

        return iter_dance(folder)

    return Source("dance", files, len(songs), it)


def bvh_folder_source(folder: Path) -> Source:
    """Any folder of BVH files (recursive); labels come from the file names."""
    files = tuple(sorted(folder.rglob("*.bvh")))

    def it() -> SourceIter:
        from motiongen.canonical import canonicalize
        from motiongen.errors import MotionGenError
        from motiongen.io.bvh import load_bvh

        for f in files:
            try:
                m = load_bvh(f)
            except MotionGenError as err:
                yield BadFile(str(f), str(err))
                continue
            # a clip on the canonical skeleton is read where it stands (others come canonical);
            # training clips face +Z from the origin, on the floor, whatever their skeleton
            if m.meta.get("skeleton") == "canonical":
                m.positions = canonicalize(m.positions)
            m.labels.setdefault("source", f"bvh-{folder.name}")
            yield m

    return Source(f"bvh-{folder.name}", files, len(files), it)


def discover(root: Path, extra_bvh_folders: tuple[Path, ...] = ()) -> list[Source]:
    """Every source present under ``root`` (missing ones are simply absent)."""
    found = [s for s in (_bandai_1(root), _bandai_2(root), _dance(root)) if s is not None]
    found += [bvh_folder_source(Path(f)) for f in extra_bvh_folders]
    return found
