"""The prepared-data cache: canonical positions in one array per source plus a JSON index.

Layout of a prepared directory::

    index.json     {"version", "fingerprint", "clips": [ClipRecord...], "bad_files": [...]}
    <source>.npy   (N_frames_total, 22, 3) float32, clips stored back to back
    report.json    statistics and curation report
    report.png     the same as pictures

Arrays are memory-mapped on read, so opening the cache is instant.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import DataNotFoundError, FormatError
from motiongen.motion import AudioRef, Motion

INDEX_NAME = "index.json"


@dataclass
class ClipRecord:
    """What the index knows about one clip (positions live in ``<source>.npy``)."""

    name: str
    source: str
    fps: float
    num_frames: int
    start: int  # first row in the source array
    labels: dict[str, str]
    texts: list[str]
    split: str
    audio: dict[str, Any] | None = None  # {"path", "offset"}
    artifacts: dict[str, Any] = field(default_factory=dict)
    kept: bool = True
    drop_reasons: list[str] = field(default_factory=list)
    weight: float = 1.0  # sampling weight that balances sources (see data/curation.py)
    windows: list[list[int]] = field(default_factory=list)  # kept [start, stop) at curation fps

    @property
    def minutes(self) -> float:
        return self.num_frames / self.fps / 60.0


class PreparedData:
    """Read access to a prepared directory."""

    def __init__(self, root: Path, index: dict[str, Any]):
        self.root = root
        self.index = index
        self.clips = [ClipRecord(**c) for c in index["clips"]]
        self._by_name = {c.name: c for c in self.clips}
        self._arrays: dict[str, np.ndarray] = {}

    @classmethod
    def open(cls, root: str | Path) -> PreparedData:
        root = Path(root)
        path = root / INDEX_NAME
        if not path.is_file():
            raise DataNotFoundError(
                f"no prepared data in {root}; run `motiongen data prepare` first"
            )
        try:
            index = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise FormatError(
                f"prepared index {path} is unreadable ({err}); run `motiongen data prepare --force`"
            ) from err
        return cls(root, index)

    @property
    def fingerprint(self) -> str:
        return str(self.index.get("fingerprint", ""))

    @property
    def failed_sources(self) -> list[str]:
        """Sources that gave no usable clip (e.g. an empty or corrupt archive)."""
        return list(self.index.get("failed_sources", []))

    @property
    def bad_files(self) -> list[dict[str, str]]:
        return list(self.index.get("bad_files", []))

    def select(
        self, *, split: str | None = None, source: str | None = None, kept_only: bool = True
    ) -> list[ClipRecord]:
        return [
            c
            for c in self.clips
            if (split is None or c.split == split)
            and (source is None or c.source == source)
            and (c.kept or not kept_only)
        ]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def record(self, name: str) -> ClipRecord:
        try:
            return self._by_name[name]
        except KeyError:
            raise DataNotFoundError(f"no clip named {name!r} in {self.root}") from None

    def positions(self, clip: ClipRecord) -> np.ndarray:
        """(T, 22, 3) float32 view of one clip."""
        arr = self._arrays.get(clip.source)
        if arr is None:
            arr = np.load(self.root / f"{clip.source}.npy", mmap_mode="r")
            self._arrays[clip.source] = arr
        return np.asarray(arr[clip.start : clip.start + clip.num_frames])

    def motion(self, clip: ClipRecord | str) -> Motion:
        rec = self.record(clip) if isinstance(clip, str) else clip
        audio = AudioRef(**rec.audio) if rec.audio else None
        return Motion(
            positions=np.array(self.positions(rec)),
            fps=rec.fps,
            texts=list(rec.texts),
            labels=dict(rec.labels),
            audio=audio,
            name=rec.name,
            meta={"split": rec.split, "source": rec.source},
        )


def write_prepared(
    root: Path,
    *,
    fingerprint: str,
    version: int,
    arrays: dict[str, np.ndarray],
    clips: list[ClipRecord],
    bad_files: list[dict[str, str]],
    extra: dict[str, Any] | None = None,
) -> None:
    """Write arrays then the index last, so a half-written cache never looks valid."""
    root.mkdir(parents=True, exist_ok=True)
    index_path = root / INDEX_NAME
    if index_path.exists():
        index_path.unlink()
    for source, arr in arrays.items():
        tmp = root / f"{source}.npy.tmp"
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(arr, dtype=np.float32))
        tmp.replace(root / f"{source}.npy")
    index = {
        "version": version,
        "fingerprint": fingerprint,
        "clips": [asdict(c) for c in clips],
        "bad_files": bad_files,
        **(extra or {}),
    }
    tmp = root / (INDEX_NAME + ".tmp")
    tmp.write_text(json.dumps(index))
    tmp.replace(index_path)
