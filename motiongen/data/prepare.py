"""`motiongen data prepare`: every source under the data directory -> one cache + report.

A second run with unchanged source files reuses the cache (the fingerprint covers each source
file's path, size and modification time, and the prepare code version).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.data.records import BadFile
from motiongen.data.sources import Source, discover
from motiongen.data.store import ClipRecord, PreparedData, write_prepared
from motiongen.data.text import describe
from motiongen.errors import DataNotFoundError, MotionGenError
from motiongen.locks import waiting_lock
from motiongen.motion import Motion
from motiongen.paths import cache_dir, data_dir

PREPARE_VERSION = 3  # 3: turn takes against their label dropped (data/curation.py)

# progress(source_name, clips_done, expected_total_or_None)
ProgressFn = Callable[[str, int, int | None], None]


@dataclass
class PrepareResult:
    root: Path
    reused: bool
    seconds: float
    data: PreparedData


def default_prepared_dir() -> Path:
    return cache_dir() / "prepared"


def fingerprint(sources: list[Source]) -> str:
    h = hashlib.sha1(f"v{PREPARE_VERSION}".encode())
    for src in sources:
        h.update(src.name.encode())
        for f in src.files:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _split_and_curate(
    records: list[ClipRecord], motions: list[Motion], reports: dict[str, Any]
) -> Any:
    """Fill in each record's split and curation verdict (pretrain thresholds)."""
    from motiongen.data.curation import CurationConfig, curate
    from motiongen.data.splits import split_table

    splits = split_table(records)
    result = curate(motions, CurationConfig.preset("pretrain"), reports=reports)
    for rec in records:
        rec.split = splits[rec.name]
        rec.weight = float(result.weights.get(rec.name, 0.0))
        rec.windows = [list(w) for w in result.windows.get(rec.name, [])]
        if rec.name in result.drop_reasons:
            rec.kept = False
            rec.drop_reasons = list(result.drop_reasons[rec.name])
    return result


def _guarded(src: Source):
    """Iterate a source, turning a failure to open it into one MotionGenError."""
    try:
        yield from src.iterate()
    except OSError as err:
        raise DataNotFoundError(f"cannot read source {src.name}: {err}") from err


def prepare(
    root: Path | None = None,
    out: Path | None = None,
    *,
    force: bool = False,
    extra_bvh_folders: tuple[Path, ...] = (),
    progress: ProgressFn | None = None,
) -> PrepareResult:
    """Read every source, score and split each clip, curate, and write the cache + report."""
    t0 = time.perf_counter()
    root = Path(root) if root is not None else data_dir()
    out = Path(out) if out is not None else default_prepared_dir()
    if not root.is_dir():
        raise DataNotFoundError(
            f"data directory {root} does not exist; set MOTIONGEN_DATA or pass --data DIR "
            "(without real data, `motiongen data synth` makes synthetic motions)"
        )
    sources = discover(root, extra_bvh_folders)
    if not sources:
        raise DataNotFoundError(
            f"no known source under {root} (looked for bandai/dataset-1, "
            "bandai/dataset-2/data.tar.xz, dance/DANCE_*)"
        )
    fp = fingerprint(sources)
    if not force and (cached := _cached(out, fp)) is not None:
        return PrepareResult(out, True, time.perf_counter() - t0, cached)
    # Two processes that find the cache stale at once (two benchmarks started together) would
    # write the same files; the second waits for the first and then reads what it wrote.
    with waiting_lock(out / ".prepare.lock"):
        if not force and (cached := _cached(out, fp)) is not None:
            return PrepareResult(out, True, time.perf_counter() - t0, cached)
        return _build(sources, root, out, fp, t0, progress)


def _cached(out: Path, fp: str) -> PreparedData | None:
    """The cache in ``out`` when it is readable and made from sources with fingerprint ``fp``."""
    if not (out / "index.json").is_file():
        return None
    try:
        existing = PreparedData.open(out)
    except (MotionGenError, KeyError, TypeError):  # an unreadable cache is rebuilt
        return None
    return existing if existing.fingerprint == fp else None


def _build(
    sources: list[Source],
    root: Path,
    out: Path,
    fp: str,
    t0: float,
    progress: ProgressFn | None,
) -> PrepareResult:
    from motiongen.artifacts import artifact_report
    from motiongen.data.report import build_report, plot_report

    arrays: dict[str, np.ndarray] = {}
    records: list[ClipRecord] = []
    motions: list[Motion] = []
    reports: dict[str, Any] = {}
    bad: list[dict[str, str]] = []
    failed: list[str] = []
    for src in sources:
        chunks: list[np.ndarray] = []
        start = 0
        done = 0
        if progress:
            progress(src.name, 0, src.expected_clips)
        items = _guarded(src)
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except MotionGenError as err:
                # A source that cannot be read at all (an empty or corrupt archive) is
                # reported and the other sources are still prepared.
                bad.append({"source": src.name, "path": str(src.files[0]), "reason": str(err)})
                failed.append(src.name)
                break
            done += 1
            if progress:
                progress(src.name, done, src.expected_clips)
            if isinstance(item, BadFile):
                bad.append({"source": src.name, "path": item.path, "reason": item.reason})
                continue
            m = item
            m.labels.setdefault("source", src.name)
            if not m.texts:
                m.texts = describe(m.labels)
            audio = {"path": m.audio.path, "offset": m.audio.offset} if m.audio else None
            reports[m.name] = artifact_report(m.positions, m.fps)
            records.append(
                ClipRecord(
                    name=m.name,
                    source=src.name,
                    fps=m.fps,
                    num_frames=m.num_frames,
                    start=start,
                    labels=dict(m.labels),
                    texts=list(m.texts),
                    split="",
                    audio=audio,
                    artifacts=_jsonable(reports[m.name].to_dict()),
                )
            )
            motions.append(m)
            chunks.append(m.positions)
            start += m.num_frames
        if chunks:
            arrays[src.name] = np.concatenate(chunks, axis=0)
        elif src.name not in failed:
            failed.append(src.name)

    result = _split_and_curate(records, motions, reports)
    seconds = time.perf_counter() - t0
    write_prepared(
        out,
        fingerprint=fp,
        version=PREPARE_VERSION,
        arrays=arrays,
        clips=records,
        bad_files=bad,
        extra={
            "data_dir": str(root),
            "prepare_seconds": round(seconds, 2),
            "failed_sources": failed,
            "curation": _jsonable(result.summary),
            "curation_fps": result.config.fps,
        },
    )
    data = PreparedData.open(out)
    report = build_report(data)
    (out / "report.json").write_text(json.dumps(_jsonable(report), indent=2))
    plot_report(report, out / "report.png")
    return PrepareResult(out, False, time.perf_counter() - t0, data)


def source_stats(data: PreparedData) -> dict[str, Any]:
    """Per-source clip counts and minutes (all clips read, kept or not), plus splits."""
    stats: dict[str, Any] = {"sources": {}, "splits": {}, "bad_files": len(data.bad_files)}
    for rec in data.clips:
        s = stats["sources"].setdefault(rec.source, {"clips": 0, "frames": 0, "minutes": 0.0})
        s["clips"] += 1
        s["frames"] += rec.num_frames
        s["minutes"] += rec.minutes
        sp = stats["splits"].setdefault(rec.split, {"clips": 0, "minutes": 0.0})
        sp["clips"] += 1
        sp["minutes"] += rec.minutes
    for group in (stats["sources"], stats["splits"]):
        for s in group.values():
            s["minutes"] = round(s["minutes"], 2)
    stats["kept_clips"] = sum(1 for r in data.clips if r.kept)
    stats["dropped_clips"] = sum(1 for r in data.clips if not r.kept)
    return stats


def prepare_synthetic(out: Path, n: int = 200, *, seed: int = 0) -> PreparedData:
    """A prepared cache of ``n`` procedural motions: the embedded default for tests and for a
    machine without the real data (same layout as ``prepare``; source "synthetic")."""
    from motiongen.artifacts import artifact_report
    from motiongen.data.synthetic import synth_dataset

    out = Path(out)
    fp = hashlib.sha1(f"synthetic|v{PREPARE_VERSION}|{n}|{seed}".encode()).hexdigest()
    if (out / "index.json").is_file():
        try:
            existing = PreparedData.open(out)
            if existing.fingerprint == fp:
                return existing
        except (MotionGenError, KeyError, TypeError):
            pass
    motions = synth_dataset(n, seed=seed)
    records: list[ClipRecord] = []
    reports: dict[str, Any] = {}
    start = 0
    for m in motions:
        reports[m.name] = artifact_report(m.positions, m.fps)
        records.append(
            ClipRecord(
                name=m.name,
                source="synthetic",
                fps=m.fps,
                num_frames=m.num_frames,
                start=start,
                labels=dict(m.labels),
                texts=list(m.texts) or describe(m.labels),
                split="",
                artifacts=_jsonable(reports[m.name].to_dict()),
            )
        )
        start += m.num_frames
    _split_and_curate(records, motions, reports)
    write_prepared(
        out,
        fingerprint=fp,
        version=PREPARE_VERSION,
        arrays={"synthetic": np.concatenate([m.positions for m in motions], axis=0)},
        clips=records,
        bad_files=[],
        extra={"data_dir": "synthetic", "failed_sources": []},
    )
    return PreparedData.open(out)
