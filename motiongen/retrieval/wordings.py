"""Many wordings of each label an index holds: a prompt matched against all of them.

Every take of a label shares one description in the index ("a person calls someone over"),
so a prompt worded otherwise was matched against that one sentence only: "she beckons her
friend over with her hand" found nothing (best 0.44) and "she shuffles sideways to the left"
found a right turn "in a feminine way". The generator was trained on many wordings of each
label (``data.text.training_phrasings``); a label's score is the best cosine between the
prompt and any of them, and a phrase scores the better of its own description's and its
label's (``Retriever.search``). Measured with ``benchmarks/paraphrases.py``
(docs/retrieval.md, "Prompts in other words").

The sentences' embeddings are made once per index's set of labels and kept in the cache
(``$MOTIONGEN_CACHE/retrieval-wordings``), keyed by the sentences and the text encoder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_SIDE = re.compile(r"\b(left|right|both)\b", re.IGNORECASE)
# Who does it: the encoder weighs such words as much as the action, so "a woman bolts forward
# at top speed" matched "a woman runs at full speed" above "a person sprints forward". Both
# sides are said with "a person" before they are compared.
_SUBJECT = re.compile(
    r"^\s*(?:(?:a|an|the)\s+(?:man|woman|person|boy|"
    r"girl|guy|lady|gentleman|character|figure|human)|he|she|they|someone|somebody)\b",
    re.IGNORECASE,
)


class Wordings:
    """Unit embeddings of the wordings of each label, and the label each belongs to."""

    def __init__(self, labels: list[str], owners: np.ndarray, vectors: np.ndarray) -> None:
        self.labels = labels
        self.owners = np.asarray(owners, dtype=np.int64)
        self.vectors = np.asarray(vectors, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.owners)

    @classmethod
    def of(cls, phrases: Iterable[Any], encoders: Any, cache: Path | None = None) -> Wordings:
        """The wordings of every labelled phrase's label (recorded or mirrored), embedded by
        ``encoders`` (a ``retrieval.build.Encoders``), read from ``cache`` when made before."""
        sentences = label_sentences(phrases)
        labels = sorted(sentences)
        pairs = [(i, s) for i, lab in enumerate(labels) for s in sentences[lab]]
        owners = np.array([i for i, _ in pairs], dtype=np.int64)
        texts = [s for _, s in pairs]
        if not texts:
            return cls(labels, owners, np.zeros((0, 0), dtype=np.float32))
        name = str(encoders.names().get("text", "text"))
        key = hashlib.sha1("\n".join([name, *texts]).encode()).hexdigest()[:20]
        folder = cache if cache is not None else _default_cache()
        path = folder / f"{key}.npz"
        try:
            with np.load(path) as z:
                vectors = z["vectors"]
            if vectors.shape[0] == len(texts):
                return cls(labels, owners, vectors)
        except (OSError, ValueError, KeyError, EOFError):
            pass  # not made yet (or unreadable): made below
        log.info("embedding %d wordings of %d labels for retrieval (once)", len(texts), len(labels))
        vectors = _unit(encoders.embed_texts(texts))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
            np.savez(tmp, vectors=vectors)
            tmp.replace(path)
        except OSError as e:  # a read-only cache: kept in memory only
            log.warning("could not keep the retrieval wordings in %s (%s)", folder, e)
        return cls(labels, owners, vectors)

    def scores(self, query: np.ndarray, text: str | None = None) -> dict[str, float]:
        """label -> the best cosine between ``query`` (a text embedding) and its wordings.
        A ``text`` that names one of left, right and both leaves out the labels that name
        another: the encoder hardly tells them apart ("she lifts her left hand up high"
        scored the two-hand raise's wordings 0.83, the left-hand raise's 0.70)."""
        if not len(self):
            return {}
        sims = self.vectors @ _unit(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        best = np.full(len(self.labels), -1.0)
        np.maximum.at(best, self.owners, sims)
        others = _other_sides(text)
        return {
            lab: float(v)
            for lab, v in zip(self.labels, best, strict=True)
            if not others.intersection(lab.split("|")[0].split("-"))
        }


def label_sentences(phrases: Iterable[Any]) -> dict[str, list[str]]:
    """label -> its distinct training wordings that name both its action and its style (a
    plain "a person bows" is the normal style's: given to every style's takes, it tied a
    childish bow with the plain one; "a person moves happily" names no action), for every
    labelled phrase."""
    from motiongen.data.text import training_phrasings

    out: dict[str, list[str]] = {}
    for p in phrases:
        label = p.label
        if not label or label in out:
            continue
        labels = dict(p.labels)
        if labels.get("content"):  # a mirrored phrase's label has its sides swapped
            labels["content"] = label.split("|")[0]
        said = training_phrasings(labels, content_only=False, style_only=False)
        out[label] = sorted({as_person(t) for t in said})
    return out


def as_person(text: str) -> str:
    """``text`` with its subject ("she", "a woman", "someone") said as "a person"."""
    return _SUBJECT.sub("a person", text, count=1)


def _other_sides(text: str | None) -> set[str]:
    """The sides of left, right and both a text does not name, when it names exactly one."""
    named = {m.group(1).lower() for m in _SIDE.finditer(text or "")}
    return {"left", "right", "both"} - named if len(named) == 1 else set()


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _default_cache() -> Path:
    from motiongen.paths import cache_dir

    return cache_dir() / "retrieval-wordings"
