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

import functools
import hashlib
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.retrieval.vectors import unit

log = logging.getLogger(__name__)

# A label scores the mean of its closest wordings, this many: an action is said by many of
# them, and one odd wording should not carry a label ("a person waves" went to the beckoning
# label for "waves someone over"). A prompt naming a style is scored by the single closest
# (``Retriever._worded``): each wording pairs the action with one of the style's words, so
# "a timid person bows" is near one of the timid bow's wordings and far from the others.
TOP_WORDINGS = 3

# Who does it: the encoder weighs such words as much as the action, so "a woman bolts forward
# at top speed" matched "a woman runs at full speed" above "a person sprints forward". Both
# sides are said with "a person" before they are compared.
_NOUNS = (
    r"(?:man|woman|person|boy|girl|guy|lady|gentleman|character|human|dancer|kid|child|"
    r"teenager|grandma|grandpa|grandmother|grandfather|figure(?!\s+skat))(?![\w-])"
)
_SUBJECT = re.compile(
    rf"^\s*(?:(?:a|an|the|my|his|her|our|this|that)\s+{_NOUNS}|he|she|they|someone|somebody)\b",
    re.IGNORECASE,
)
# ...and one with up to three words before it ("a sad woman", "a very sad, tired man"): the
# words are kept, as the training texts say a style ("a sad person walks"). None of them may be
# a word that ends the subject ("a robot lifts the child", "an adult, not a child"): those
# nouns are the object, not who moves.
_NOT_DESCRIBING = (
    r"(?!(?:a|an|the|my|his|her|our|their|this|that|not|no|and|or|with|to|of|for|by|"
    r"lifts?|holds?|carr(?:y|ies)|hugs?|picks?|helps?|follows?|watches|watch|sees?)\b)"
)
_SAID_SUBJECT = re.compile(
    rf"^\s*(a|an|the|my|his|her|our|this|that)\s+((?:{_NOT_DESCRIBING}[a-z-]+,?\s+){{1,3}}?)"
    rf"({_NOUNS})",
    re.IGNORECASE,
)
# Subjects that say a style themselves: a child moves in the data's childish way, a
# grandmother in its old one ("a little girl skips" had become "a little person skips").
_STYLED_SUBJECT = {
    "kid": "childlike", "child": "childlike", "teenager": "young", "grandma": "old",
    "grandpa": "old", "grandmother": "old", "grandfather": "old",
}  # fmt: skip
# A possessive after the subject ("waves her hand", "bows his head"), not the subject's own
# before a body part only ("lifts her up" keeps its object)
_POSSESSIVE = re.compile(
    r"(?<=\S\s)(?:his|her|their)\b(?=\s+(?:(?:left|right|two)\s+)?(?:hands?|arms?|fists?|"
    r"wrists?|elbows?|legs?|feet|foot|knees?|head|body|back|shoulders?|hips?|torso|chest)\b)",
    re.IGNORECASE,
)
# "a little girl" is a child; only as the subject ("picks up a little girl" moves no child)
_CHILD_SUBJECT = re.compile(
    r"^(\s*(?:a|an|the|my|his|her|our|this|that)\s+)(?:little|small|young)\s+(?:girl|boy)\b",
    re.IGNORECASE,
)


class Wordings:
    """Unit embeddings of the wordings of each label, and the label each belongs to."""

    def __init__(
        self, labels: list[str], owners: np.ndarray, vectors: np.ndarray, key: str = ""
    ) -> None:
        self.labels = labels
        self.owners = np.asarray(owners, dtype=np.int64)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.key = key  # the encoder's name and the sentences, hashed

    def __len__(self) -> int:
        return len(self.owners)

    @classmethod
    def of(
        cls,
        phrases: Iterable[Any],
        encoders: Any,
        cache: Path | None = None,
        reuse: Wordings | None = None,
    ) -> Wordings:
        """The wordings of every labelled phrase's label (recorded or mirrored), embedded by
        ``encoders`` (a ``retrieval.build.Encoders``): ``reuse`` when it holds the same
        sentences, else read from ``cache`` when made before, else made (and kept there when
        the text encoder has a name: a nameless stand-in's vectors are not kept)."""
        sentences = label_sentences(phrases)
        labels = sorted(sentences)
        pairs = [(i, s) for i, lab in enumerate(labels) for s in sentences[lab]]
        owners = np.array([i for i, _ in pairs], dtype=np.int64)
        texts = [s for _, s in pairs]
        name = str(encoders.names().get("text") or "")
        key = hashlib.sha1("\n".join([name, *texts]).encode()).hexdigest()[:20]
        if reuse is not None and reuse.key == key:
            return reuse
        if not texts:
            return cls(labels, owners, np.zeros((0, 0), dtype=np.float32), key)
        kept = name not in ("", "text")
        path = (cache if cache is not None else _default_cache()) / f"{key}.npz"
        if kept:
            try:
                with np.load(path) as z:
                    vectors = z["vectors"]
                if vectors.shape[0] == len(texts):
                    return cls(labels, owners, vectors, key)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                pass  # not made yet, or unreadable (a write cut short): made again below
        log.info("embedding %d wordings of %d labels for retrieval (once)", len(texts), len(labels))
        vectors = unit(encoders.embed_texts(texts))
        if kept:
            _keep(path, vectors)
        return cls(labels, owners, vectors, key)

    def scores(
        self, query: np.ndarray, text: str | None = None, top: int = TOP_WORDINGS
    ) -> dict[str, float]:
        """label -> the mean cosine between ``query`` (a text embedding) and its ``top``
        closest wordings.
        A ``text`` that names one of left, right and both leaves out the labels that name
        another: the encoder hardly tells them apart ("she lifts her left hand up high"
        scored the two-hand raise's wordings 0.83, the left-hand raise's 0.70)."""
        if not len(self):
            return {}
        sims = self.vectors @ unit(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        # the mean of each label's TOP_WORDINGS best cosines: by the single best one, "a person
        # waves" went to the beckoning label for its one wording "waves someone over"
        order = np.lexsort((-sims, self.owners))
        owners = self.owners[order]
        starts = np.searchsorted(owners, owners, side="left")
        keep = np.arange(len(owners)) - starts < top
        total = np.bincount(owners[keep], weights=sims[order][keep], minlength=len(self.labels))
        count = np.bincount(owners[keep], minlength=len(self.labels))
        best = np.where(count > 0, total / np.maximum(count, 1), -1.0)
        excluded = SideFilter(text)
        return {
            lab: float(v) for lab, v in zip(self.labels, best, strict=True) if not excluded(lab)
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
        said = training_phrasings(labels, with_action_alone=False, with_style_alone=False)
        out[label] = sorted({as_person(t) for t in said})
    return out


def as_person(text: str) -> str:
    """``text`` with its subject ("she", "a woman", "someone") said as "a person", "a sad
    woman" as "a sad person", and a subject that says a style by that style's word ("a little
    girl" and "a child" as "a childlike person", "a grandfather" as "an old person")."""
    said = _CHILD_SUBJECT.sub(r"\1kid", text, count=1)
    # "lifts her arms" scored the data's feminine raise first (arms below the shoulders), as
    # "a woman" would have before it became "a person": whose limb it is says no style ("their",
    # not "the": "beckons her friend over with the hand" read as a wave goodbye).
    said = _POSSESSIVE.sub("their", said)
    if m := _SUBJECT.match(said):
        style = _STYLED_SUBJECT.get(m.group(0).split()[-1].lower())
        return _SUBJECT.sub(_a_person(style), said, count=1)
    if m := _SAID_SUBJECT.match(said):
        words = m.group(2).strip()
        style = _STYLED_SUBJECT.get(m.group(3).split()[0].lower())
        if style and style not in words.lower().split():
            words = f"{words} {style}"
        return said[: m.start()] + _a_person(words) + said[m.end() :]
    return said


def _a_person(words: str | None) -> str:
    """ "a person", or "a <words> person" with the article the words take."""
    if not words:
        return "a person"
    return f"{'an' if words[0].lower() in 'aeiou' else 'a'} {words} person"


@functools.lru_cache(maxsize=4096)
def label_sides(label: str) -> frozenset[str]:
    """The sides (left, right, both) a label's action is done with: named in the label
    ("wave-left-hand") or in the training texts' first words for it (the data's "byebye" is
    "waves goodbye with both hands")."""
    from motiongen.data.text import CONTENT_PHRASES
    from motiongen.retrieval.sides import sides_said

    content = label.split("|")[0]
    named = {w for w in content.split("-") if w in ("left", "right", "both")}
    return frozenset(named | sides_said(" ; ".join(CONTENT_PHRASES.get(content, ()))))


def other_sides(text: str | None, of: str | None = None) -> set[str]:
    """The sides of left, right and both a text does not say, when it says exactly one (of
    a limb or a way to go, or, with ``of``, only of that)."""
    from motiongen.retrieval.sides import sides_said

    said = sides_said(text, of)
    return {"left", "right", "both"} - said if len(said) == 1 else set()


@functools.lru_cache(maxsize=4096)
def label_of_a_limb(label: str) -> bool:
    """Whether a label's side is a limb's ("wave-left-hand", "byebye": with both hands) rather
    than a way to go ("walk-left", "walk-turn-right")."""
    from motiongen.data.text import CONTENT_PHRASES
    from motiongen.retrieval.sides import sides_said

    content = label.split("|")[0]
    said = [content.replace("-", " "), *CONTENT_PHRASES.get(content, ())]  # name, then words
    return bool(sides_said(" ; ".join(said), "limb"))


class SideFilter:
    """Which labels a text's sides leave out: a limb's label by the side said of a limb, a
    way to go's by the side said of a way ("walks to the right and raises the hands" had left
    out the two-hand raise for naming "right"; a new user's trial). False for every label
    when the text says no one side."""

    def __init__(self, text: str | None) -> None:
        self.limb = other_sides(text, "limb")
        self.way = other_sides(text, "way")
        if not self.limb and not self.way:  # one side said, of neither kind alone ("left and
            self.limb = self.way = other_sides(text)  # right turns"): as said in all

    def __bool__(self) -> bool:
        return bool(self.limb or self.way)

    def __call__(self, label: str) -> bool:
        others = self.limb if label_of_a_limb(label) else self.way
        return bool(others & label_sides(label))


# What follows these is the object or the place, not the manner: "waves at a huge crowd" is no
# giant's wave, "walks toward the old house" no old person's walk.
_OBJECT = re.compile(
    r"\b(?:at|to|toward|towards|into|onto|from|for|over|across|around|near|past|with)\s+"
    r"(?:a|an|the|his|her|their|its|some|my|your)\b"
)


def names_a_style(text: str | None) -> bool:
    """Whether a prompt names a style in the training texts' words, whole words only: before
    any object or place ("a sad woman", "proud"), or anywhere as an adverb or a phrase
    ("happily", "like an old person", "in a masculine way")."""
    if not text:
        return False
    low = " " + re.sub(r"[^a-z-]+", " ", text.lower()).strip() + " "
    cut = _OBJECT.search(low)
    head = low if cut is None else low[: cut.start()] + " "
    return any(f" {w} " in (low if w.endswith("ly") or " " in w else head) for w in _style_words())


@functools.lru_cache(maxsize=1)
def _style_words() -> tuple[str, ...]:
    from motiongen.data.text import style_words

    return tuple(w for ws in style_words().values() for w in ws)


def _keep(path: Path, vectors: np.ndarray) -> None:
    """``vectors`` written to ``path`` through a file of its own (threads and processes may
    make the same wordings at once); a read-only cache keeps them in memory only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".npz")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, vectors=vectors)
        Path(tmp).replace(path)
    except OSError as e:
        log.warning("could not keep the retrieval wordings in %s (%s)", path.parent, e)


def _default_cache() -> Path:
    from motiongen.paths import cache_dir

    return cache_dir() / "retrieval-wordings"
