"""``Retriever``: a query (text, music tempo, or an example motion) -> phrases -> a prior.

Dense search top-``k`` in the index, rerank to top-``n`` when a reranker and a text are
given, then the prior builder. Results are kept in an LRU cache keyed by the query, so
a service asked the same prompt again does no search.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.retrieval.build import Encoders
from motiongen.retrieval.degree import asked_degree, by_degree, measured
from motiongen.retrieval.index import Hit, MotionIndex, span_key
from motiongen.retrieval.prior import (
    AGREEMENT,
    NEGLIGIBLE_WEIGHT,
    Prior,
    PriorBuilder,
    agreement,
    softmax,
)
from motiongen.retrieval.sides import asked_side, leading_side, moving_side, names_a_side
from motiongen.retrieval.travel import straight_ahead
from motiongen.retrieval.vectors import motion_stats
from motiongen.retrieval.wordings import (
    TOP_WORDINGS,
    SideFilter,
    Wordings,
    as_person,
    names_a_style,
)

MIN_SIMILARITY = 0.45  # below this, a text query matches nothing in the index
MUSIC_QUERY = "a person dances to the music"
# The best labels by their many wordings whose phrases join a text query's candidates.
WORDED_LABELS = 3
# A prompt naming no style asks for the plain take: its normal-style label is preferred by this
# much over the styled ones ("a person waves hello to a friend" found a timid goodbye, 0.674
# against the plain goodbye's 0.641, and barely moved its hand: a session's own look).
PLAIN_STYLE_BONUS = 0.04
# A prompt this similar to an indexed description is that description (the label benchmark's
# prompts, the quick start's): its matches are left as they were; the wordings are for the rest.
AS_INDEXED = 0.99


class NoMatch(InputError):
    """Nothing in the index is close enough to the query."""


class Retriever:
    def __init__(
        self,
        index: MotionIndex,
        *,
        encoders: Encoders | None = None,
        reranker: Any = None,
        builder: PriorBuilder | None = None,
        k: int = 10,
        n: int = 5,
        min_similarity: float = MIN_SIMILARITY,
        cache_size: int = 128,
        per_text: int = 4,
    ) -> None:
        if not 1 <= n <= k:
            raise InputError(f"retrieval needs 1 <= n <= k, got k={k}, n={n}")
        self.index = index
        self.encoders = encoders or Encoders()
        self.reranker = reranker
        self.builder = builder or PriorBuilder()
        self.k, self.n = k, n
        self.min_similarity = min_similarity
        self.cache_size = cache_size
        self.per_text = per_text
        self._cache: OrderedDict[tuple, Prior] = OrderedDict()
        self._hits: OrderedDict[tuple, list[Hit]] = OrderedDict()
        self._lock = threading.Lock()
        self._twins: dict[tuple[str, int, int, bool], int] | None = None
        self._worded_for: tuple[tuple[int, int], Wordings] | None = None
        self._wordings_lock = threading.Lock()
        self._measures: dict[tuple, float] = {}
        self._ids_for: tuple[tuple[int, int], dict[str, list[int]]] | None = None

    def clear_cache(self) -> None:
        """Forget the priors built so far (a benchmark's "new prompt" timing)."""
        with self._lock:
            self._cache.clear()
            self._hits.clear()

    def query_vector(
        self,
        text: str | None = None,
        *,
        tempo: float = 0.0,
        motion: np.ndarray | None = None,
        fps: float = 20.0,
        text_vector: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """(the query's vector, the top score it could reach) from what is given
        (text_vector: the text's embedding, when made already)."""
        layout = self.index.layout
        blocks: dict[str, np.ndarray] = {}
        if text is not None:
            blocks["text"] = (
                self.encoders.embed_texts([text]) if text_vector is None else text_vector
            )
        if motion is not None:
            if self.index.scaler is None:
                raise InputError("this index has no motion statistics; rebuild it")
            blocks["stats"] = self.index.scaler(motion_stats(motion, fps, tempo))[None]
            if layout.motion_dim:
                blocks["motion"] = self.encoders.embed_motions([motion], fps)
        if not blocks:
            raise InputError("a retrieval query needs a text, a music tempo or a motion")
        return layout.compose(1, **blocks), layout.reach(set(blocks))

    def search(
        self,
        text: str | None = None,
        *,
        tempo: float = 0.0,
        motion: np.ndarray | None = None,
        fps: float = 20.0,
        exclude: Iterable[str] = (),
        rerank: bool = True,
    ) -> list[Hit]:
        """Top-``n`` phrases (top-``k`` dense, reranked when a text and a reranker are given).
        Hit scores are similarities: weighted mean cosines of the blocks the query has.

        One phrase per source span: a phrase and its mirror blended would make a one-sided
        movement symmetric. When reranking, the candidates hold at most ``per_text`` phrases
        of one description: every take of a label shares its text, so dense scores tie in
        blocks of dozens and the top ``k`` would otherwise be one label, leaving the reranker
        nothing to choose between."""
        if text is None and motion is None and tempo > 0:
            text = MUSIC_QUERY  # a tempo alone: dance phrases, nearest tempo first
        worded = text is not None and motion is None and tempo <= 0
        text_vector = self.encoders.embed_texts([text]) if worded else None
        vec, top = self.query_vector(
            text, tempo=tempo, motion=motion, fps=fps, text_vector=text_vector
        )
        reranking = rerank and self.reranker is not None and text is not None
        fetch = min(len(self.index), (40 if reranking else 2) * self.k)
        pool = self.index.search(vec, fetch if tempo <= 0 else min(len(self.index), 20 * self.k),
                                 exclude_clips=set(exclude))[0]  # fmt: skip
        indexed = bool(pool) and pool[0].score >= top * AS_INDEXED
        # A reranker orders the candidates itself (by the one description of each phrase):
        # the degree's choice would be undone, so it is not made.
        degree = asked_degree(text) if worded and not indexed and not reranking else None
        if worded and not indexed:
            pool = self._worded(text, text_vector, pool, top, set(exclude), degree is not None)
        if tempo > 0:
            # Tempo closeness, not a z-score in the vector (a one-number block normalises to
            # its sign): within the similarity order, phrases near the music's tempo first.
            def off(h: Hit) -> float:
                pt = h.phrase.tempo
                return 1.0 if pt <= 0 else min(1.0, abs(float(np.log2(pt / tempo))))

            pool.sort(key=lambda h: -(h.score / top) + 0.25 * off(h))
        pool = straight_ahead(text, pool)
        if degree is not None:
            pool = by_degree(pool, degree, top=top, n=self.n, motion=self.index.motion,
                             content=_content, same_label=names_a_style(text),
                             measure=self._measure)  # fmt: skip
        hits, spans, per_text = [], set(), Counter()
        for h in pool:
            if span_key(h.phrase) in spans or len(hits) == self.k:
                continue
            if reranking and per_text[h.phrase.text] >= self.per_text:
                continue
            spans.add(span_key(h.phrase))
            per_text[h.phrase.text] += 1
            h.score /= top
            hits.append(h)
        best = hits[0].score if hits else -1.0
        if best < self.min_similarity:
            what = f"text {text!r}" if text is not None else "query"
            raise NoMatch(
                f"no phrase in the index is close to the {what} (best similarity {best:.2f} < "
                f"{self.min_similarity}); describe an action the index holds (`motiongen "
                "actions` lists them), index your own motions, or generate without retrieval"
            )
        if reranking:
            scores = self.reranker.score(text, hits, self.index)
            order = np.argsort(-np.asarray(scores), kind="stable")
            hits = [Hit(hits[i].id, float(scores[i]), hits[i].phrase) for i in order]
        return self._on_the_side_asked(text, hits[: self.n])

    def _worded(
        self,
        text: str,
        text_vector: np.ndarray,
        pool: list[Hit],
        top: float,
        exclude: set[str],
        whole_action: bool = False,
    ) -> list[Hit]:
        """``pool`` rescored with the labels' many wordings (``retrieval.wordings``): each
        phrase scores the better of its description's similarity and its label's, and the
        phrases of the ``WORDED_LABELS`` best labels join it (2 k each), best first.
        whole_action: every phrase of the best label's action joins it, in every style (a
        word of degree chooses among them: ``retrieval.degree``)."""
        if (said := as_person(text)) != text:
            text_vector = self.encoders.embed_texts([said])
        styled = names_a_style(text)
        scores = self._wordings().scores(text_vector[0], text, top=1 if styled else TOP_WORDINGS)
        if not names_a_style(said):  # nor its subject ("a little girl": childlike)
            scores = {
                lab: v + PLAIN_STYLE_BONUS * lab.endswith("|normal") for lab, v in scores.items()
            }
        found = pool
        if excluded := SideFilter(text):  # "with the left hand": no two-handed goodbye either
            # Not back to the other side's phrases when none of the first are on this one: a
            # phrase and its mirror share their text vector, so the dense search ties them,
            # and "walks forward and waves with the right hand" found only mirrored right-hand
            # waves (left-hand ones) and waved the left; the labels' wordings add this side's.
            pool = [h for h in pool if not excluded(h.phrase.label)]
        if not scores:
            return pool or found
        ids = self._label_ids()
        best = sorted(scores, key=lambda lab: -scores[lab])[:WORDED_LABELS]
        cap = 2 * self.k
        if whole_action and best:
            action = best[0].split("|")[0]
            best += [lab for lab in scores if lab.split("|")[0] == action and lab not in best]
            cap = len(self.index)
        have = {h.id for h in pool}
        extra = []
        for lab in best:
            fresh = [i for i in ids.get(lab, ()) if i not in have
                     and self.index.phrases[i].clip not in exclude]  # fmt: skip
            extra += [Hit(i, 0.0, self.index.phrases[i]) for i in fresh[:cap]]
        out = [
            Hit(h.id, max(h.score, top * scores.get(h.phrase.label, -1.0)), h.phrase)
            for h in pool + extra
        ]
        if not out:
            return found
        return sorted(out, key=lambda h: -h.score)  # stable: the dense order within ties

    def load_wordings(self) -> None:
        """Make (or read) the labels' wordings and the label table now, not at the first
        prompt that needs them."""
        self._wordings()
        self._label_ids()

    def _wordings(self) -> Wordings:
        """The index's label wordings, made on first use and again when phrases were added or
        removed since; made by one thread while the others wait (a first embedding takes
        seconds), and taken from the last made when the labels are the same."""
        made = self._worded_for
        if made is not None and made[0] == self.index.state:
            return made[1]
        with self._wordings_lock:
            made = self._worded_for
            if made is None or made[0] != self.index.state:
                before = None if made is None else made[1]
                made = (self.index.state,
                        Wordings.of(self.index.phrases.values(), self.encoders, reuse=before))  # fmt: skip
                self._worded_for = made
        return made[1]

    def _measure(self, hit: Hit, kind: str, over_ground: bool) -> float:
        """A phrase's reach or speed (``retrieval.degree``), kept: a prompt of degree measures
        every close phrase of its action (462 of them for a right-hand raise)."""
        key = (self.index.state, hit.id, kind, over_ground)
        value = self._measures.get(key)
        if value is None:
            value = measured(self.index.motion(hit.id), hit.phrase.fps, kind, over_ground)
            if len(self._measures) > 20000:
                self._measures.clear()
            self._measures[key] = value
        return value

    def _label_ids(self) -> dict[str, list[int]]:
        """label -> the ids of its phrases, in id order (made again when phrases were added
        or removed)."""
        made = self._ids_for
        if made is None or made[0] != self.index.state:
            table: dict[str, list[int]] = {}
            for i in sorted(self.index.phrases):
                table.setdefault(self.index.phrases[i].label, []).append(i)
            made = (self.index.state, table)
            self._ids_for = made
        return made[1]

    def _on_the_side_asked(self, text: str | None, hits: list[Hit]) -> list[Hit]:
        """``hits`` with each phrase that names no side, and moves its limb on the other side
        from the one ``text`` asks for, swapped for its mirror (``retrieval.sides``). A text
        that says neither left nor right gets the side the best phrase moves (``leading_side``): a left
        kick and a right kick blend into neither, and started from the second the sampler
        kicked 0.1-0.3 m where the first kicked 0.9 m."""
        asked = asked_side(text)
        if asked is None and hits and not (text and names_a_side(text)):
            # a text that says left or right in words asked_side cannot read ("a right kick",
            # "left and right kicks") keeps the phrases as found, not the best one's side
            asked = leading_side(self.index.motion(hits[0].id))
        if asked is None:
            return hits
        side, limb = asked
        out = []
        for h in hits:
            p = h.phrase
            if not names_a_side(p.text) and moving_side(self.index.motion(h.id), limb) not in (
                side,
                None,
            ):
                twin = self._twin(p)
                if twin is not None:
                    h = Hit(twin, h.score, self.index.phrases[twin])
            out.append(h)
        return out

    def _twin(self, p: Any) -> int | None:
        """The id of phrase ``p``'s mirror twin in the index, or None. The table is made on
        first use, and again when the id it gives no longer holds that twin or the index
        changed size (phrases removed and added since)."""
        key = (p.clip, p.start, p.stop, not p.mirrored)
        table = self._twins
        for again in (False, True):
            if table is None or again:
                table = {(q.clip, q.start, q.stop, q.mirrored): i
                         for i, q in self.index.phrases.items()}  # fmt: skip
                self._twins = table  # one assignment: a thread sees the old table or the new
            found = table.get(key)
            q = self.index.phrases.get(found) if found is not None else None
            if q is not None and (q.clip, q.start, q.stop, q.mirrored) == key:
                return found
            if found is None and len(table) == len(self.index):
                return None  # no twin (a folder's motions are indexed unmirrored)
        return None

    def prior(
        self,
        text: str | None = None,
        *,
        frames: int,
        fps: float = 20.0,
        tempo: float = 0.0,
        exclude: Iterable[str] = (),
        rerank: bool = True,
    ) -> Prior:
        """The motion prior for a query, ``frames`` long (cached by the query)."""
        key = (text, int(frames), float(fps), round(float(tempo), 2), frozenset(exclude), rerank)

        def build() -> Prior:
            hits = self._cached_search(text, fps=fps, tempo=tempo, exclude=exclude, rerank=rerank)
            return self.prior_from_hits(hits, frames, fps, tempo=tempo)

        return self._remembered(self._cache, key, build)

    def typical_frames(
        self, text: str, *, fps: float = 20.0, exclude: Iterable[str] = (), rerank: bool = True
    ) -> int:
        """How long the phrases like ``text`` last, in frames at ``fps``: the median of the
        hits' lengths under the prior's weights (a k-nearest-neighbour length estimate, as
        text-to-motion models predict a length from the text). Raised hands last 2.6 s in
        the data and waves 7 s; asked for 6.5 s, a raise was looped into a raise-lower-raise
        that the label classifier took for a wave. ``NoMatch`` as ``search``, and also where
        the phrases do not agree on one action (``AGREEMENT``): "a person jumps in place"
        found five unrelated actions, whose lengths say nothing of a jump's."""
        hits = self._cached_search(text, fps=fps, exclude=exclude, rerank=rerank)
        weights = softmax(np.array([h.score for h in hits]), self.builder.temperature)
        keep = weights >= NEGLIGIBLE_WEIGHT  # as in the prior
        told = [
            {"label": h.phrase.label, "text": h.phrase.text, "weight": float(w)}
            for h, w, k in zip(hits, weights, keep, strict=True)
            if k
        ]
        if agreement(told) < AGREEMENT:
            raise NoMatch(f"the phrases found for {text!r} do not agree on one action")
        lengths = np.array([h.phrase.seconds * fps for h in hits])[keep]
        order = np.argsort(lengths, kind="stable")
        cum = np.cumsum(weights[keep][order]) / weights[keep].sum()
        # the lower median on a tie (two phrases at 0.5 each): rounding must not hand the
        # middle to a phrase of negligible weight
        middle = int(np.searchsorted(cum, 0.5 - 1e-9))
        return max(2, int(round(lengths[order][min(middle, len(lengths) - 1)])))

    def _cached_search(
        self,
        text: str | None,
        *,
        fps: float,
        tempo: float = 0.0,
        exclude: Iterable[str] = (),
        rerank: bool = True,
    ) -> list[Hit]:
        """``search``'s hits, kept by the query: a length asked for before the prior
        searches once."""
        key = (text, float(fps), round(float(tempo), 2), frozenset(exclude), rerank)
        return self._remembered(
            self._hits,
            key,
            lambda: self.search(text, tempo=tempo, fps=fps, exclude=exclude, rerank=rerank),
        )

    def _remembered(self, cache: OrderedDict, key: tuple, make: Any) -> Any:
        """``cache[key]``, made by ``make()`` when missing; least recently used out first.
        Locked: a service checks and runs requests on several threads."""
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()  # outside the lock: a search must not hold up the others
        with self._lock:
            cache[key] = value
            cache.move_to_end(key)
            while len(cache) > self.cache_size:
                cache.popitem(last=False)
        return value

    def prior_from_hits(
        self, hits: list[Hit], frames: int, fps: float, *, tempo: float = 0.0
    ) -> Prior:
        """The prior of given hits. Dense scores are cosines and rerank scores probabilities,
        both in [0, 1]-like ranges, so one softmax temperature serves both."""
        scores = np.array([h.score for h in hits])
        return self.builder.build(
            [self.index.motion(h.id) for h in hits],
            scores,
            frames,
            fps,
            tempo=tempo,
            phrase_tempi=[h.phrase.tempo for h in hits],
            phrases=[describe(h) for h in hits],
        )


def _content(phrase: Any) -> str:
    """A phrase's action (its label's content; its text for a user's unlabelled motion)."""
    return phrase.label.split("|")[0] if phrase.label else phrase.text


def describe(hit: Hit) -> dict[str, Any]:
    p = hit.phrase
    return {
        "id": hit.id,
        "clip": p.clip,
        "start": p.start,
        "stop": p.stop,
        "mirrored": p.mirrored,
        "text": p.text,
        "label": p.label,
        "score": round(float(hit.score), 4),
    }
