"""Label recognition: does a generated motion show the content and style its prompt asked for?

For every content x style pair of the training set, the prompt is the plainest description of
those labels (``motiongen.data.text.describe``); a generator makes a few motions from it and
the label classifier (``motiongen.evaluators.classifier``) judges them. The same classifier's
accuracy on real held-out clips of the same pairs is the reference: a generator that matches
the real data scores a ratio of about 1.

The loop takes any generate function ``(prompt, n, seed) -> n Motions``; ``make_generate_fn``
builds one over a ``motiongen.pipeline.Pipeline``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from motiongen.data.text import describe
from motiongen.errors import InputError
from motiongen.evaluators.classifier import LabelClassifier
from motiongen.evaluators.features import clip_features
from motiongen.evaluators.labels import content_label, style_label
from motiongen.motion import Motion

if TYPE_CHECKING:
    from motiongen.data.store import PreparedData

GenerateFn = Callable[[str, int, int], list[Motion]]  # (prompt, n, seed) -> n motions
BANDAI_SOURCES = ("bandai-1", "bandai-2")


@dataclass
class LabelPair:
    """One content x style pair in the classifier's vocabulary and the prompt that asks for it.

    sources: datasets whose training split holds the pair; train_clips: how many clips.
    """

    content: str
    style: str
    prompt: str
    sources: list[str]
    train_clips: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.content, self.style)


def label_pairs(
    data: PreparedData,
    *,
    split: str = "train",
    sources: Sequence[str] = BANDAI_SOURCES,
    classifier: LabelClassifier | None = None,
) -> list[LabelPair]:
    """Every distinct (content, style) of ``split`` clips from ``sources``, sorted.

    Pairs that differ only by a merged style synonym (dataset-1 "old", dataset-2 "elderly")
    are one pair; its prompt comes from the raw labels with the most clips. With a
    ``classifier``, pairs outside its vocabulary are left out.
    """
    raw: dict[tuple[str, str], Counter] = {}
    srcs: dict[tuple[str, str], set[str]] = {}
    for rec in data.select(split=split):
        if rec.source not in sources:
            continue
        c, s = content_label(rec.labels), style_label(rec.labels)
        if not c or not s:
            continue
        if classifier is not None and (
            c not in classifier.content_index or s not in classifier.style_index
        ):
            continue
        raw.setdefault((c, s), Counter())[(rec.labels["content"], rec.labels["style"])] += 1
        srcs.setdefault((c, s), set()).add(rec.source)
    pairs = []
    for key in sorted(raw):
        (content, style), _ = max(raw[key].items(), key=lambda kv: (kv[1], kv[0]))
        prompt = describe({"content": content, "style": style})[0]
        pairs.append(LabelPair(key[0], key[1], prompt, sorted(srcs[key]), sum(raw[key].values())))
    return pairs


@dataclass
class PairResult:
    """Classifier verdicts on the motions of one pair (generated samples or real clips)."""

    pair: LabelPair
    predicted: list[tuple[str, str]] = field(default_factory=list)  # (content, style) each

    @property
    def n(self) -> int:
        return len(self.predicted)

    @property
    def content_hits(self) -> int:
        return sum(c == self.pair.content for c, _ in self.predicted)

    @property
    def style_hits(self) -> int:
        return sum(s == self.pair.style for _, s in self.predicted)

    @property
    def both_hits(self) -> int:
        return sum(c == self.pair.content and s == self.pair.style for c, s in self.predicted)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.pair),
            "n": self.n,
            "content_hits": self.content_hits,
            "style_hits": self.style_hits,
            "both_hits": self.both_hits,
            "predicted": [list(p) for p in self.predicted],
        }


def score(classifier: LabelClassifier, pair: LabelPair, motions: Sequence[Motion]) -> PairResult:
    """Classify ``motions`` meant to show ``pair``."""
    pred = classifier.classify(motions)
    return PairResult(pair, list(zip(pred.content, pred.style, strict=True)))


def recognise_generated(
    classifier: LabelClassifier,
    pairs: Sequence[LabelPair],
    generate: GenerateFn,
    *,
    samples: int = 3,
    seed: int = 0,
    progress: Callable[[LabelPair], None] | None = None,
) -> list[PairResult]:
    """Generate ``samples`` motions per pair (seed ``seed + pair index``) and classify them."""
    if samples < 1:
        raise InputError(f"samples per pair must be at least 1, got {samples}")
    results = []
    for i, pair in enumerate(pairs):
        motions = generate(pair.prompt, samples, seed + i)
        if len(motions) != samples:
            raise InputError(f"the generator returned {len(motions)} motions, asked for {samples}")
        results.append(score(classifier, pair, motions))
        if progress is not None:
            progress(pair)
    return results


def recognise_real(
    classifier: LabelClassifier,
    data: PreparedData,
    pairs: Sequence[LabelPair],
    *,
    split: str = "test",
) -> list[PairResult]:
    """The classifier on real ``split`` clips of ``pairs`` (each whole, centre 196 frames).

    Pairs without a clip in ``split`` get an empty result (n = 0).
    """
    by_key = {p.key: PairResult(p) for p in pairs}
    clips = [
        (rec, feats)
        for rec, feats, _ in clip_features(data, split)
        if (content_label(rec.labels), style_label(rec.labels)) in by_key
    ]
    if clips:
        pred = classifier.predict([f for _, f in clips])
        for (rec, _), c, s in zip(clips, pred.content, pred.style, strict=True):
            by_key[(content_label(rec.labels), style_label(rec.labels))].predicted.append((c, s))
    return [by_key[p.key] for p in pairs]


def _rates(results: Sequence[PairResult]) -> dict[str, Any]:
    n = sum(r.n for r in results)

    def rate(hits: int) -> float | None:
        return round(hits / n, 4) if n else None

    return {
        "pairs": sum(1 for r in results if r.n),
        "motions": n,
        "content": rate(sum(r.content_hits for r in results)),
        "style": rate(sum(r.style_hits for r in results)),
        "both": rate(sum(r.both_hits for r in results)),
    }


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float | None]:
    return {
        k: (round(a[k] / b[k], 3) if a[k] is not None and b[k] else None)
        for k in ("content", "style", "both")
    }


def summarise(generated: Sequence[PairResult], real: Sequence[PairResult]) -> dict[str, Any]:
    """Accuracy rows: all generated, generated on the pairs that have real clips, real, ratio;
    the same per group of pairs by the datasets that hold them ("bandai-1", "bandai-2",
    "bandai-1+bandai-2"). Accuracies are over motions (micro averages); real clips count only
    for pairs that were generated."""
    gen_keys = {r.pair.key for r in generated}
    real = [r for r in real if r.pair.key in gen_keys]
    real_keys = {r.pair.key for r in real if r.n}

    def block(filter_: Callable[[LabelPair], bool]) -> dict[str, Any]:
        gen = [r for r in generated if filter_(r.pair)]
        matched = [r for r in gen if r.pair.key in real_keys]
        rl = [r for r in real if filter_(r.pair) and r.n]
        row = {"generated_all": _rates(gen), "generated": _rates(matched), "real": _rates(rl)}
        row["ratio"] = _ratio(row["generated"], row["real"])
        return row

    out = {"all": block(lambda p: True)}
    for group in sorted({"+".join(r.pair.sources) for r in generated}):
        out[group] = block(lambda p, g=group: "+".join(p.sources) == g)
    return out


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _fmt_ratio(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def markdown_table(summary: dict[str, Any]) -> str:
    """The summary as a Markdown table (one block of rows per dataset group)."""
    lines = [
        "| group | motions | pairs | content | style | both |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    names = {
        "generated_all": "generated, all pairs",
        "generated": "generated, pairs with real test clips",
        "real": "real test clips, same pairs",
    }
    for group, row in summary.items():
        for key, label in names.items():
            r = row[key]
            lines.append(
                f"| {group}: {label} | {r['motions']} | {r['pairs']} | {_fmt(r['content'])} | "
                f"{_fmt(r['style'])} | {_fmt(r['both'])} |"
            )
        ratio = row["ratio"]
        lines.append(
            f"| {group}: ratio generated / real | | | {_fmt_ratio(ratio['content'])} | "
            f"{_fmt_ratio(ratio['style'])} | {_fmt_ratio(ratio['both'])} |"
        )
    return "\n".join(lines)


# ---- generation from a checkpoint ---------------------------------------------------------


def make_generate_fn(
    pipe: Any,
    *,
    seconds: float | None = None,
    steps: int | None = None,
    sampler: str | None = None,
    guidance: float | None = None,
    **extra: Any,
) -> GenerateFn:
    """A ``(prompt, n, seed) -> n motions`` function over a ``Pipeline``; None options take
    the pipeline's defaults (seconds: the prompt's length as ``Pipeline.generate`` picks it);
    ``extra`` goes to ``generate`` as is (e.g. rag=True)."""
    options = {
        k: v
        for k, v in {"steps": steps, "sampler": sampler, "guidance": guidance}.items()
        if v is not None
    }

    def generate(prompt: str, n: int, seed: int) -> list[Motion]:
        return pipe.generate(text=prompt, seconds=seconds, seed=seed, batch=n, **options, **extra)

    return generate
