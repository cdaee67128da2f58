"""``MotionIndex``: phrase vectors in FAISS, with the phrases' metadata and motions beside them.

Kinds: ``flat`` (exact inner product, the default: an index of our data holds thousands of
phrases and a flat search takes well under a millisecond), ``ivf`` (inverted lists over
k-means cells) and ``ivfpq`` (the same with product-quantised vectors, for millions of
phrases). Every kind keeps stable ids, so phrases can be added and removed without a
rebuild (IVF kinds keep their trained cells; re-train only after the data changes a lot).

On disk (a folder): ``index.faiss`` (FAISS's own format), ``phrases.json`` (layout, scaler,
encoder names, and each id's phrase), ``motions.npz`` (each phrase span's joint positions,
float16, shared by a phrase and its mirror). Files are written under temporary names and
renamed, so an interrupted save leaves the previous index readable.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.retrieval.phrases import Phrase
from motiongen.retrieval.vectors import StatsScaler, VectorLayout

KINDS = ("flat", "ivf", "ivfpq")
INDEX_ENV = "MOTIONGEN_INDEX"


def default_index_dir() -> Path:
    """$MOTIONGEN_INDEX, else ``rag_index_train`` beside the prepared data (where training
    with ``conditioning.rag_index: train`` builds it)."""
    from motiongen.data.prepare import default_prepared_dir

    env = os.environ.get(INDEX_ENV)
    return Path(env).expanduser() if env else default_prepared_dir() / "rag_index_train"


FORMAT_VERSION = 1


@dataclass
class Hit:
    id: int
    score: float
    phrase: Phrase


def span_key(p: Phrase) -> str:
    return f"{p.clip}:{p.start}:{p.stop}"


def _faiss() -> Any:
    import logging

    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # its CPU-probe chatter
    import faiss

    from motiongen.blas import again_if_on

    again_if_on()  # FAISS brings its own OpenBLAS, on every core otherwise
    return faiss


def new_faiss_index(dim: int, kind: str, *, nlist: int = 0, pq_m: int = 0) -> Any:
    """An empty FAISS inner-product index with ids; IVF kinds still need training."""
    faiss = _faiss()
    if kind not in KINDS:
        raise InputError(f"index kind must be one of {', '.join(KINDS)}, got {kind!r}")
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "flat":
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if nlist < 1:
        raise InputError(f"an {kind} index needs nlist >= 1 cells, got {nlist}")
    quantizer = faiss.IndexFlatIP(dim)
    if kind == "ivf":
        return faiss.IndexIVFFlat(quantizer, dim, nlist, ip)
    m = pq_m or _pq_subquantizers(dim)
    if dim % m:
        raise InputError(f"ivfpq: the vector size {dim} must split into {m} sub-vectors")
    index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, ip)
    return index


def _pq_subquantizers(dim: int) -> int:
    """The most sub-vectors (at most 64, each at least 4 wide) that split ``dim`` evenly."""
    fits = [m for m in range(1, 65) if dim % m == 0 and dim // m >= 4]
    return max(fits) if fits else 1


class MotionIndex:
    """Phrase vectors, metadata and motions. Build with ``retrieval.build``, open with
    ``MotionIndex.load``; ``search`` returns ``Hit``s, best first."""

    def __init__(
        self,
        layout: VectorLayout,
        scaler: StatsScaler | None,
        *,
        kind: str = "flat",
        faiss_index: Any = None,
        nlist: int = 0,
        encoders: dict[str, Any] | None = None,
    ) -> None:
        self.layout = layout
        self.scaler = scaler
        self.kind = kind
        self.nlist = nlist
        self.encoders = dict(encoders or {})
        self.index = (
            faiss_index
            if faiss_index is not None
            else new_faiss_index(layout.dim, kind, nlist=nlist)
        )
        self.phrases: dict[int, Phrase] = {}
        self.motions: dict[str, np.ndarray] = {}
        self._next_id = 0
        self.nprobe = 16
        # What the phrases came from (prepared data fingerprint, splits, fps): an index built
        # from other data is rebuilt rather than trusted (a clip may have changed split).
        self.source: dict[str, Any] = {}

    # ---- contents ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.phrases)

    @property
    def dim(self) -> int:
        return self.layout.dim

    @property
    def state(self) -> tuple[int, int]:
        """Changes whenever phrases are added or removed (ids are never reused): what a table
        made from the phrases is keyed by."""
        return len(self.phrases), self._next_id

    @property
    def trained(self) -> bool:
        return bool(self.index.is_trained)

    def train(self, vectors: np.ndarray) -> None:
        """Fit an IVF index's cells (and codebooks) on a sample of vectors."""
        vectors = self._check_vectors(vectors)
        # 8-bit product quantisation fits 256 centroids per sub-vector.
        need = max(self.nlist, 1, 256 if self.kind == "ivfpq" else 0)
        if len(vectors) < need:
            raise InputError(
                f"an {self.kind} index with {self.nlist} cells needs at least {need} vectors "
                f"to train, got {len(vectors)}; use kind 'flat' or fewer cells (--nlist)"
            )
        self.index.train(vectors)

    def add(
        self,
        phrases: Sequence[Phrase],
        vectors: np.ndarray,
        motions: dict[str, np.ndarray] | None = None,
    ) -> list[int]:
        """Add phrases with their vectors (N, dim); ``motions`` maps ``span_key`` to (T, 22,
        3) positions for spans not yet stored. Returns the new ids."""
        vectors = self._check_vectors(vectors)
        if len(phrases) != len(vectors):
            raise InputError(f"{len(phrases)} phrases but {len(vectors)} vectors")
        if not self.trained:
            self.train(vectors)
        for key, pos in (motions or {}).items():
            self.motions[key] = np.asarray(pos, dtype=np.float16)
        missing = [span_key(p) for p in phrases if span_key(p) not in self.motions]
        if missing:
            raise InputError(f"no motion given for phrase span {missing[0]}")
        ids = np.arange(self._next_id, self._next_id + len(phrases), dtype=np.int64)
        self.index.add_with_ids(vectors, ids)
        for i, p in zip(ids, phrases, strict=True):
            self.phrases[int(i)] = p
        self._next_id += len(phrases)
        return [int(i) for i in ids]

    def remove(self, ids: Iterable[int]) -> int:
        """Remove phrases by id (unknown ids are ignored); returns how many were removed."""
        ids = [int(i) for i in ids if int(i) in self.phrases]
        if not ids:
            return 0
        self.index.remove_ids(np.asarray(ids, dtype=np.int64))
        for i in ids:
            del self.phrases[i]
        used = {span_key(p) for p in self.phrases.values()}
        self.motions = {k: v for k, v in self.motions.items() if k in used}
        return len(ids)

    def ids_of_clips(self, clips: Iterable[str]) -> list[int]:
        wanted = set(clips)
        return [i for i, p in self.phrases.items() if p.clip in wanted]

    def motion(self, id_: int) -> np.ndarray:
        """(T, 22, 3) float64 positions of phrase ``id_`` (mirrored if the phrase is)."""
        from motiongen.data.dataset import mirror_positions

        p = self.phrases[int(id_)]
        pos = self.motions[span_key(p)].astype(np.float64)
        return mirror_positions(pos) if p.mirrored else pos

    # ---- search -----------------------------------------------------------------------
    def search(
        self,
        queries: np.ndarray,
        k: int = 10,
        *,
        exclude_clips: Sequence[set[str]] | set[str] | None = None,
        where: Any = None,
    ) -> list[list[Hit]]:
        """Top-``k`` hits per query row, best first, skipping phrases of excluded clips
        (one set for all queries or one per query) and phrases ``where(phrase)`` rejects."""
        if len(self) == 0:
            raise InputError(
                "the index is empty; add phrases with `motiongen index build` (or index.add)"
            )
        queries = self._check_vectors(queries)
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        one = (
            exclude_clips is None
            or isinstance(exclude_clips, set | frozenset | str)
            or all(isinstance(e, str) for e in exclude_clips)
        )
        if one:  # one set of clip names for every query (a lone name is a set of one)
            names = [exclude_clips] if isinstance(exclude_clips, str) else (exclude_clips or ())
            excludes = [set(names)] * len(queries)
        else:
            excludes = [set(e) for e in exclude_clips]
            if len(excludes) != len(queries):
                raise InputError("give one exclude set per query")
        if hasattr(self.index, "nprobe"):
            self.index.nprobe = min(self.nprobe, self.nlist or 1)
        results: list[list[Hit]] = [[] for _ in queries]
        todo = list(range(len(queries)))
        fetch = min(len(self), k + 16)
        while todo:
            scores, ids = self.index.search(queries[todo], fetch)
            again = []
            for row, q in enumerate(todo):
                hits = []
                for s, i in zip(scores[row], ids[row], strict=True):
                    if i < 0:
                        continue
                    p = self.phrases[int(i)]
                    if p.clip in excludes[q] or (where is not None and not where(p)):
                        continue
                    hits.append(Hit(int(i), float(s), p))
                    if len(hits) == k:
                        break
                if len(hits) < k and fetch < len(self):
                    again.append(q)
                results[q] = hits
            todo = again
            fetch = min(len(self), fetch * 4)
        return results

    def _check_vectors(self, vectors: np.ndarray) -> np.ndarray:
        v = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if v.ndim == 1:
            v = v[None]
        if v.ndim != 2 or v.shape[1] != self.dim:
            raise InputError(
                f"vectors must have {self.dim} dimensions for this index, got shape "
                f"{tuple(v.shape)}; query with the encoders the index was built with"
            )
        if not np.isfinite(v).all():
            raise InputError("vectors contain NaN or infinite values")
        return v

    # ---- files ------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        labels = {p.label for p in self.phrases.values() if p.label}
        seconds = sum(p.seconds for p in self.phrases.values())
        return {
            "phrases": len(self),
            "clips": len({p.clip for p in self.phrases.values()}),
            "labels": len(labels),
            "seconds": round(seconds, 1),
            "splits": sorted({p.split for p in self.phrases.values()}),
            "kind": self.kind,
            "nlist": self.nlist,
            "dim": self.dim,
            "layout": self.layout.to_dict(),
            "encoders": self.encoders,
            "source": self.source,
        }

    def save(self, folder: str | Path) -> Path:
        faiss = _faiss()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = f".{os.getpid()}.tmp"
        faiss.write_index(self.index, str(folder / f"index.faiss{tmp}"))
        np.savez(folder / f"motions{tmp}.npz", **self.motions)
        meta = {
            "format": FORMAT_VERSION,
            "kind": self.kind,
            "nlist": self.nlist,
            "layout": self.layout.to_dict(),
            "scaler": None if self.scaler is None else self.scaler.to_dict(),
            "encoders": self.encoders,
            "next_id": self._next_id,
            "source": self.source,
            "phrases": {str(i): p.to_dict() for i, p in self.phrases.items()},
        }
        (folder / f"phrases.json{tmp}").write_text(json.dumps(meta))
        for name, tmp_name in (
            ("index.faiss", f"index.faiss{tmp}"),
            ("motions.npz", f"motions{tmp}.npz"),
            ("phrases.json", f"phrases.json{tmp}"),
        ):
            (folder / tmp_name).replace(folder / name)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> MotionIndex:
        faiss = _faiss()
        folder = Path(folder)
        files = [folder / n for n in ("index.faiss", "phrases.json", "motions.npz")]
        if not folder.is_dir() or not all(f.is_file() for f in files):
            raise DataNotFoundError(
                f"no motion index at {folder} (it needs index.faiss, phrases.json and "
                "motions.npz); build one with `motiongen index build -o FOLDER`"
            )
        try:
            meta = json.loads(files[1].read_text())
            layout = VectorLayout(**meta["layout"])
            phrases = {int(i): Phrase.from_dict(p) for i, p in meta["phrases"].items()}
        except (ValueError, KeyError, TypeError) as e:
            raise FormatError(
                f"{files[1]} is not a motion index's metadata ({e}); rebuild the index"
            ) from None
        try:
            index = faiss.read_index(str(files[0]))
        except RuntimeError:
            raise FormatError(
                f"{files[0]} is not a readable FAISS index (corrupt or truncated); rebuild it "
                "with `motiongen index build`"
            ) from None
        if index.d != layout.dim or index.ntotal != len(phrases):
            raise FormatError(
                f"{folder}: the FAISS index ({index.ntotal} vectors of {index.d}) does not match "
                f"its metadata ({len(phrases)} phrases of {layout.dim}); rebuild the index"
            )
        try:
            with np.load(files[2]) as z:
                motions = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:  # truncated, empty
            raise FormatError(f"{files[2]} is not readable ({e}); rebuild the index") from None
        try:
            scaler = None if meta.get("scaler") is None else StatsScaler.from_dict(meta["scaler"])
            next_id = int(meta.get("next_id", max(phrases, default=-1) + 1))
        except (ValueError, KeyError, TypeError) as e:
            raise FormatError(
                f"{files[1]} is not a motion index's metadata ({e}); rebuild the index"
            ) from None
        out = cls(
            layout,
            scaler,
            kind=meta.get("kind", "flat"),
            faiss_index=index,
            nlist=int(meta.get("nlist", 0)),
            encoders=meta.get("encoders"),
        )
        out.phrases = phrases
        out.motions = motions
        out._next_id = next_id
        out.source = dict(meta.get("source") or {})
        return out
