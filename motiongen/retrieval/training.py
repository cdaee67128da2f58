"""Retrieved priors for training windows, as the Pipeline will build them at run time.

Every text of the training text bank is searched once (dense top-``fetch``, cached on disk
beside the index); a window then takes its text's hits minus every phrase of its own clip
(the take it was cut from, recorded or mirrored), one phrase per source span, the best
``n``, and the prior builder aligns them to the window's length (and, for a dance, to its
music's tempo). So the network never learns to copy its own target from the prior: it gets
other takes of the same action, as it will for a new prompt.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.features import NormStats
from motiongen.retrieval.build import Encoders
from motiongen.retrieval.index import MotionIndex, span_key
from motiongen.retrieval.prior import PriorBuilder


class TrainingPriors:
    """``__call__(clip_name, text, frames, tempo, rng)`` -> (frames, D) normalised prior
    features, or None when no phrase of another clip is found."""

    def __init__(
        self,
        index: MotionIndex,
        texts: list[str],
        norm: NormStats,
        *,
        fps: float,
        n: int = 5,
        fetch: int = 512,
        builder: PriorBuilder | None = None,
        encoders: Encoders | None = None,
        cache_dir: Path | None = None,
        cache_size: int = 6000,
    ) -> None:
        self.index = index
        self.norm = norm
        self.fps = fps
        self.n = n
        self.builder = builder or PriorBuilder()
        self._priors: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._motions: dict[int, np.ndarray] = {}
        self.cache_size = cache_size
        self.hits = self._search(texts, fetch, encoders or Encoders(), cache_dir)

    def _search(
        self, texts: list[str], fetch: int, encoders: Encoders, cache_dir: Path | None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        key = hashlib.sha1(
            ("|".join(texts) + f"|{fetch}|{len(self.index)}|{self.index.dim}|"
             + json.dumps(self.index.source, sort_keys=True)).encode()
        ).hexdigest()[:16]  # fmt: skip
        path = None if cache_dir is None else cache_dir / f"rag_hits_{key}.npz"
        if path is not None and path.is_file():
            with np.load(path) as z:  # read each array once: z[name] decompresses anew
                ids, scores = z["ids"], z["scores"]
            return {t: (ids[i], scores[i]) for i, t in enumerate(texts)}
        layout = self.index.layout
        top = layout.reach({"text"})  # scores as the Retriever gives them
        ids = np.full((len(texts), fetch), -1, dtype=np.int64)
        scores = np.zeros((len(texts), fetch), dtype=np.float32)
        for i in range(0, len(texts), 256):
            chunk = texts[i : i + 256]
            q = layout.compose(len(chunk), text=encoders.embed_texts(chunk))
            hits = self.index.search(q, fetch)
            for j, row in enumerate(hits):
                ids[i + j, : len(row)] = [h.id for h in row]
                scores[i + j, : len(row)] = [h.score / top for h in row]
        if path is not None:
            tmp = path.with_name(f"{path.stem}.tmp.npz")
            np.savez(tmp, ids=ids, scores=scores)
            tmp.replace(path)
        return {t: (ids[i], scores[i]) for i, t in enumerate(texts)}

    def choose(self, clip: str, text: str, rng: np.random.Generator) -> list[int]:
        """The ids of the best ``n`` phrases of other clips for a text (ties in random
        order: takes of one label share their text, so their scores are equal)."""
        ids, _ = self.hits[text]
        return [int(ids[i]) for i in self._ranks(clip, text, rng)]

    def _ranks(self, clip: str, text: str, rng: np.random.Generator) -> list[int]:
        """Positions in the text's hits of the phrases ``choose`` picks."""
        ids, scores = self.hits[text]
        noisy = scores + rng.uniform(0, 1e-3, len(scores))
        picked, spans = [], set()
        for i in np.argsort(-noisy, kind="stable"):
            pid = int(ids[i])
            if pid < 0:
                continue
            p = self.index.phrases[pid]
            if p.clip == clip or span_key(p) in spans:
                continue
            picked.append(int(i))
            spans.add(span_key(p))
            if len(picked) == self.n:
                break
        return picked

    def __call__(
        self, clip: str, text: str, frames: int, tempo: float, rng: np.random.Generator
    ) -> np.ndarray | None:
        ranks = self._ranks(clip, text, rng)
        if not ranks:
            return None
        ids, scores = self.hits[text]
        chosen = [int(ids[i]) for i in ranks]
        key = (tuple(chosen), frames, round(tempo, 1))
        if key in self._priors:
            self._priors.move_to_end(key)
            return self._priors[key]
        prior = self.builder.build(
            [self.motion(i) for i in chosen],
            [float(scores[i]) for i in ranks],
            frames,
            self.fps,
            tempo=tempo,
            phrase_tempi=[self.index.phrases[i].tempo for i in chosen],
        )
        out = self.norm.normalize(prior.features).astype(np.float32)
        self._priors[key] = out
        if len(self._priors) > self.cache_size:
            self._priors.popitem(last=False)
        return out

    def motion(self, pid: int) -> np.ndarray:
        if pid not in self._motions:
            self._motions[pid] = self.index.motion(pid)
        return self._motions[pid]


def training_priors(
    cfg: Any, texts: list[str], norm: NormStats, cache: Path | None
) -> TrainingPriors:
    """The priors a config's ``conditioning.rag_index`` asks for ("train": an index of the
    training split built into the prepared cache on first use)."""
    from motiongen.data.store import PreparedData
    from motiongen.retrieval.build import build_index, collect_data_phrases

    c = cfg.conditioning
    where = c.rag_index
    if where == "train":
        folder = (cache or Path(".")) / "rag_index_train"
        source = {"fingerprint": PreparedData.open(cache).fingerprint if cache else "",
                  "splits": [cfg.data.train_split], "fps": float(cfg.data.fps)}  # fmt: skip
        fresh = (folder / "index.faiss").is_file() and MotionIndex.load(folder).source == source
        if not fresh:  # none yet, or built from other data: never trust a stale split
            phrases, motions = collect_data_phrases(
                (cfg.data.train_split,), fps=cfg.data.fps, prepared=cache
            )
            build_index(phrases, motions, source=source).save(folder)
        where = str(folder)
    index = MotionIndex.load(where)
    return TrainingPriors(index, texts, norm, fps=cfg.data.fps, n=c.rag_n, cache_dir=cache)
