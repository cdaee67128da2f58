"""The Bandai Namco Research motion datasets, read in place.

dataset-1: ``dataset-1/data/*.bvh`` with a ``.json`` label file beside each clip.
dataset-2: ``dataset-2/data.tar.xz`` holding ``data/<name>.bvh`` and ``.json`` members; it is
streamed with ``tarfile`` and never unpacked to disk.
Each JSON is ``{"content": i, "style": j}``, indices into ``cfg/content_label.txt`` and
``cfg/style_label.txt`` (lines like ``dataset-1_walk``). Clips are retargeted to the canonical
skeleton by ``motiongen.io.bvh`` (mapping in ``docs/retargeting.md``).
"""

from __future__ import annotations

import json
import logging
import lzma
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from motiongen.data.records import BadFile
from motiongen.errors import DataNotFoundError, FormatError, MotionGenError
from motiongen.io.bvh import bvh_to_motion, parse_bvh
from motiongen.motion import Motion

log = logging.getLogger(__name__)

DATASETS = ("dataset-1", "dataset-2")
FPS = 30.0
_TAR = "data.tar.xz"
# Clips handed to a worker at once: large enough to amortise pickling, small enough to stream.
_CHUNK = 16

Select = Callable[[str], bool] | None


def bandai_root(root: Path) -> Path:
    """The ``bandai`` folder, given it or the data directory that contains it."""
    root = Path(root)
    return root / "bandai" if (root / "bandai").is_dir() else root


def _dataset(which: str) -> str:
    key = which.lower().removeprefix("bandai-").removeprefix("dataset-")
    if key not in ("1", "2"):
        raise ValueError(f"unknown Bandai dataset {which!r}; use 'dataset-1' or 'dataset-2'")
    return f"dataset-{key}"


def read_labels(folder: Path) -> tuple[list[str], list[str]]:
    """(contents, styles) from ``folder/cfg``; the ``dataset-k_`` prefix removed."""
    out = []
    for kind in ("content", "style"):
        path = folder / "cfg" / f"{kind}_label.txt"
        try:
            lines = path.read_text(encoding="utf-8").split()
        except FileNotFoundError:
            raise DataNotFoundError(
                f"missing {path}; the Bandai {folder.name} folder needs its cfg/ label files"
            ) from None
        out.append([ln.split("_", 1)[-1] for ln in lines])
    return out[0], out[1]


def clip_labels(
    stem: str, label_json: str | bytes | None, contents: list[str], styles: list[str]
) -> dict[str, str]:
    """Labels of one clip: from its JSON indices, else from its file name.

    File names are ``dataset-<k>_<content>_<style>_<id>``; labels never contain ``_``.
    """
    dataset = stem.split("_", 1)[0]
    parts = stem.split("_")
    content, style = (parts[1], parts[2]) if len(parts) >= 4 else ("", "")
    if label_json is not None:
        try:
            idx = json.loads(label_json)
            content, style = contents[int(idx["content"])], styles[int(idx["style"])]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            log.warning("%s: unusable label JSON (%s); labels taken from the file name", stem, err)
    return {
        "source": "bandai-" + dataset.removeprefix("dataset-"),
        "dataset": dataset,
        "content": content,
        "style": style,
    }


def _texts(labels: dict[str, str]) -> list[str]:
    try:
        from motiongen.data.text import describe
    except ImportError:
        return []
    return list(describe(labels))


def label_file(motion: Motion, path: Path) -> None:
    """A clip read on its own from the sets' folder layout (``dataset-k/data/<stem>.bvh`` beside
    ``dataset-k/cfg``) gets the labels and texts reading the whole set gives it; any other
    file is left as it is."""
    folder = path.parent.parent
    if path.suffix.lower() != ".bvh" or not (folder / "cfg").is_dir():
        return
    if not re.fullmatch(r"dataset-\d+_[^_]+_[^_]+_\d+", path.stem):
        return
    label_json = path.with_suffix(".json")
    contents, styles = read_labels(folder)
    text = label_json.read_bytes() if label_json.is_file() else None
    motion.labels = clip_labels(path.stem, text, contents, styles)
    motion.texts = _texts(motion.labels)


def clip_to_motion(text: str, stem: str, labels: dict[str, str]) -> Motion | BadFile:
    """One clip's BVH text -> Motion, or BadFile with the reason it could not be read."""
    try:
        motion = bvh_to_motion(parse_bvh(text, name=f"{stem}.bvh"), name=stem)
    except MotionGenError as err:
        return BadFile(f"{stem}.bvh", str(err))
    motion.labels = labels
    motion.texts = _texts(labels)
    return motion


def _convert_chunk(items: list[tuple[str, str, dict[str, str]]]) -> list[Motion | BadFile]:
    return [clip_to_motion(*item) for item in items]


def _folder_clips(folder: Path, select: Select) -> Iterator[tuple[str, str, dict[str, str]]]:
    contents, styles = read_labels(folder)
    files = sorted((folder / "data").glob("*.bvh"))
    if not files:
        raise DataNotFoundError(f"no .bvh files in {folder / 'data'}")
    for bvh in files:
        if select is not None and not select(bvh.stem):
            continue
        label_path = bvh.with_suffix(".json")
        label_json = label_path.read_bytes() if label_path.exists() else None
        text = bvh.read_bytes().decode("utf-8", errors="replace")
        yield text, bvh.stem, clip_labels(bvh.stem, label_json, contents, styles)


def _tar_clips(folder: Path, select: Select) -> Iterator[tuple[str, str, dict[str, str]]]:
    tar_path = folder / _TAR
    if not tar_path.is_file():
        raise DataNotFoundError(f"missing {tar_path}; dataset-2 is read from its xz tar")
    contents, styles = read_labels(folder)
    # Members come as <name>.bvh then <name>.json; hold a BVH until its labels arrive.
    pending: dict[str, str] = {}
    labels_seen: dict[str, bytes] = {}
    n_bvh = 0
    try:
        with tarfile.open(tar_path, mode="r|xz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                name = Path(member.name)
                if name.suffix not in (".bvh", ".json"):
                    continue
                stem = name.stem
                if name.suffix == ".bvh":
                    n_bvh += 1
                if select is not None and not select(stem):
                    continue
                f = tar.extractfile(member)
                if f is None:
                    continue
                data = f.read()
                if name.suffix == ".bvh":
                    text = data.decode("utf-8", errors="replace")
                    if stem in labels_seen:
                        lab = clip_labels(stem, labels_seen.pop(stem), contents, styles)
                        yield text, stem, lab
                    else:
                        pending[stem] = text
                elif stem in pending:
                    yield pending.pop(stem), stem, clip_labels(stem, data, contents, styles)
                else:
                    labels_seen[stem] = data
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as err:
        raise FormatError(
            f"{tar_path}: corrupt or truncated xz tar after {n_bvh} clips ({err}); "
            "re-download Bandai dataset-2"
        ) from None
    if n_bvh == 0:
        raise FormatError(f"{tar_path}: holds no data/*.bvh members; re-download Bandai dataset-2")
    for stem, text in pending.items():
        yield text, stem, clip_labels(stem, None, contents, styles)


def _chunks(
    items: Iterable[tuple[str, str, dict[str, str]]], size: int
) -> Iterator[list[tuple[str, str, dict[str, str]]]]:
    chunk: list[tuple[str, str, dict[str, str]]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def iter_bandai(
    root: Path, which: str, *, workers: int = 1, select: Select = None
) -> Iterator[Motion | BadFile]:
    """Every clip of one Bandai dataset as a canonical Motion, or BadFile for unreadable clips.

    root: the ``bandai`` folder (or the data directory holding it).
    which: "dataset-1" or "dataset-2" ("bandai-1", "1" ... also accepted).
    workers: processes converting clips; 1 converts in this process. With 2, one process
        reads (for dataset-2, decompresses) while the others parse and retarget.
    select: if given, only clips whose file stem it accepts are converted (others are skipped
        unparsed; dataset-2 is still decompressed up to the last member).
    Motion: name = file stem, fps 30, labels {"source", "dataset", "content", "style"},
    texts from ``motiongen.data.text.describe``.
    """
    dataset = _dataset(which)
    folder = bandai_root(root) / dataset
    if not folder.is_dir():
        raise DataNotFoundError(f"no Bandai {dataset} folder at {folder}; set MOTIONGEN_DATA")
    clips = _tar_clips(folder, select) if dataset == "dataset-2" else _folder_clips(folder, select)
    if workers <= 1:
        for item in clips:
            yield clip_to_motion(*item)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Keep a bounded number of chunks in flight so memory stays flat while streaming.
        in_flight = []
        for chunk in _chunks(clips, _CHUNK):
            in_flight.append(pool.submit(_convert_chunk, chunk))
            if len(in_flight) > 2 * workers:
                yield from in_flight.pop(0).result()
        for fut in in_flight:
            yield from fut.result()


def count_bandai(root: Path, which: str) -> int:
    """Number of clips without parsing them (dataset-2 lists the tar, which decompresses it)."""
    dataset = _dataset(which)
    folder = bandai_root(root) / dataset
    if dataset == "dataset-1":
        return len(list((folder / "data").glob("*.bvh")))
    try:
        with tarfile.open(folder / _TAR, mode="r|xz") as tar:
            return sum(1 for m in tar if m.isfile() and m.name.endswith(".bvh"))
    except FileNotFoundError:
        raise DataNotFoundError(f"missing {folder / _TAR}") from None
    except (tarfile.TarError, lzma.LZMAError, EOFError, OSError) as err:
        raise FormatError(f"{folder / _TAR}: corrupt xz tar ({err})") from None
