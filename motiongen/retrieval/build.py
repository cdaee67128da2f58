"""Building a ``MotionIndex`` from the prepared data or from a folder of a user's motions.

Phrases of every kept clip of the chosen splits (the training split by default, so a model
evaluated on val or test never retrieves its own take), each also mirrored with its text's
left and right swapped. Vectors: the sentence encoder's embedding of the phrase's text, the
motion statistics, and the text-motion evaluator's motion embedding of the phrase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import DataNotFoundError, InputError
from motiongen.features import MODEL_FPS, positions_to_features
from motiongen.retrieval.index import MotionIndex, span_key
from motiongen.retrieval.phrases import Phrase, cut_phrases
from motiongen.retrieval.vectors import StatsScaler, VectorLayout, motion_stats

Progress = Callable[[int, int], None]


class Encoders:
    """The text encoder and the motion encoder an index's vectors come from."""

    def __init__(self, text: Any = None, motion: Any = None) -> None:
        self._text = text
        self._motion = motion

    @property
    def text(self) -> Any:
        if self._text is None:
            from motiongen.conditioning.text import shared_text_encoder

            self._text = shared_text_encoder()
        return self._text

    @property
    def motion(self) -> Any:
        if self._motion is None:
            from motiongen.evaluators.text_motion import TextMotionEvaluator

            self._motion = TextMotionEvaluator.from_pretrained()
        return self._motion

    def names(self) -> dict[str, Any]:
        text_name = getattr(self.text, "name", None) or str(getattr(self.text, "model_dir", ""))
        return {"text": Path(text_name).name or "text", "motion": "text-motion-evaluator"}

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        unique = sorted(set(texts))
        out = {}
        for i in range(0, len(unique), 256):
            chunk = unique[i : i + 256]
            pooled = self.text.encode(chunk).pooled.float().numpy()
            out.update(zip(chunk, pooled, strict=True))
        return np.stack([out[t] for t in texts])

    def embed_motions(self, positions: Sequence[np.ndarray], fps: float) -> np.ndarray:
        feats = [positions_to_features(p, fps) for p in positions]
        return self.motion.encode_features(feats)


def phrase_vectors(
    layout: VectorLayout,
    scaler: StatsScaler,
    encoders: Encoders,
    phrases: Sequence[Phrase],
    motions: Sequence[np.ndarray],
) -> np.ndarray:
    """(N, dim) vectors of phrases whose positions (mirrored if the phrase is) are given."""
    text = encoders.embed_texts([p.text for p in phrases])
    stats = np.stack(
        [scaler(motion_stats(m, p.fps, p.tempo)) for p, m in zip(phrases, motions, strict=True)]
    )
    motion = encoders.embed_motions(motions, phrases[0].fps) if layout.motion_dim else None
    return layout.compose(len(phrases), text=text, stats=stats, motion=motion)


def collect_data_phrases(
    splits: Sequence[str] = ("train",),
    *,
    fps: float = MODEL_FPS,
    bars: int = 4,
    prepared: str | Path | None = None,
    progress: Progress | None = None,
) -> tuple[list[Phrase], dict[str, np.ndarray]]:
    """Phrases (recorded, then mirrored) of the prepared data's kept clips of ``splits``."""
    from motiongen.augment import mirror_label
    from motiongen.conditioning.audio_features import FEATURE_SLICES
    from motiongen.data.dataset import audio_bank
    from motiongen.data.prepare import default_prepared_dir
    from motiongen.data.store import PreparedData

    data = PreparedData.open(Path(prepared) if prepared else default_prepared_dir())
    records = [r for s in splits for r in data.select(split=s)]  # kept clips only
    if not records:
        raise DataNotFoundError(f"no kept clip in splits {list(splits)} of {data.root}")
    bank = audio_bank(data, [r for r in records if r.audio], fps, cache=data.root)
    phrases: list[Phrase] = []
    motions: dict[str, np.ndarray] = {}
    for n, rec in enumerate(records):
        pos = data.motion(rec).resample(fps).positions
        beats, tempo = None, 0.0
        if rec.name in bank:
            audio = bank[rec.name]
            beats = np.flatnonzero(audio[: len(pos), FEATURE_SLICES["beat"]][:, 0] > 0.5)
            tempo = float(120.0 * 2.0 ** audio[0, FEATURE_SLICES["tempo"]][0])
        text = rec.texts[0] if rec.texts else rec.name.replace("_", " ")
        found = cut_phrases(
            pos, fps, clip=rec.name, text=text, labels=rec.labels, beat_frames=beats,
            music_tempo=tempo, bars=bars, split=rec.split, source=rec.source,
        )  # fmt: skip
        for p in found:
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
            mirrored = Phrase.from_dict({**p.to_dict(), "mirrored": True})
            mirrored.text = mirror_label(p.text)
            phrases.append(mirrored)
        if progress is not None:
            progress(n + 1, len(records))
    return phrases, motions


def collect_folder_phrases(
    folder: str | Path, *, fps: float = MODEL_FPS, progress: Progress | None = None
) -> tuple[list[Phrase], dict[str, np.ndarray], list[str]]:
    """Phrases of every motion file (BVH, .npy, .motion) in a folder; the text is a sidecar
    ``NAME.txt`` if present, else the file name. Unreadable files are skipped and reported."""
    from motiongen.data.load import load_any

    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"{folder} is not a folder; give a folder of motion files")
    files = sorted(
        f for f in folder.rglob("*") if f.suffix.lower() in (".bvh", ".npy", ".motion", ".json")
    )
    if not files:
        raise DataNotFoundError(f"no motion files (.bvh, .npy, .motion) in {folder}")
    phrases: list[Phrase] = []
    motions: dict[str, np.ndarray] = {}
    skipped = []
    for n, f in enumerate(files):
        try:
            pos = load_any(f).resample(fps).positions
        except Exception as e:  # a bad file is reported and skipped, the rest indexed
            skipped.append(f"{f.name}: {e}")
            continue
        sidecar = f.with_suffix(".txt")
        text = sidecar.read_text().strip() if sidecar.is_file() else f.stem.replace("_", " ")
        clip = str(f.relative_to(folder))
        for p in cut_phrases(pos, fps, clip=clip, text=text, source="user"):
            motions[span_key(p)] = pos[p.start : p.stop]
            phrases.append(p)
        if progress is not None:
            progress(n + 1, len(files))
    return phrases, motions, skipped


def positions_of(phrases: Sequence[Phrase], motions: dict[str, np.ndarray]) -> list[np.ndarray]:
    from motiongen.data.dataset import mirror_positions

    out = []
    for p in phrases:
        pos = np.asarray(motions[span_key(p)], dtype=np.float64)
        out.append(mirror_positions(pos) if p.mirrored else pos)
    return out


def build_index(
    phrases: Sequence[Phrase],
    motions: dict[str, np.ndarray],
    *,
    kind: str = "flat",
    nlist: int = 0,
    encoders: Encoders | None = None,
    motion_embedding: bool = True,
    progress: Progress | None = None,
    source: dict[str, Any] | None = None,
) -> MotionIndex:
    """A ``MotionIndex`` of the phrases (vectors computed here, in chunks)."""
    if not phrases:
        raise InputError("no phrases to index (every motion was shorter than a phrase?)")
    encoders = encoders or Encoders()
    layout = VectorLayout(
        text_dim=int(encoders.text.dim),
        motion_dim=int(encoders.motion.embed_dim) if motion_embedding else 0,
    )
    all_pos = positions_of(phrases, motions)
    scaler = StatsScaler.fit(
        [motion_stats(m, p.fps, p.tempo) for p, m in zip(phrases, all_pos, strict=True)]
    )
    if kind != "flat" and nlist == 0:
        nlist = max(1, min(1024, int(4 * np.sqrt(len(phrases)))))
    index = MotionIndex(layout, scaler, kind=kind, nlist=nlist, encoders=encoders.names())
    index.source = dict(source or {})
    vectors = []
    chunk = 512
    for i in range(0, len(phrases), chunk):
        vectors.append(
            phrase_vectors(layout, scaler, encoders, phrases[i : i + chunk], all_pos[i : i + chunk])
        )
        if progress is not None:
            progress(min(i + chunk, len(phrases)), len(phrases))
    vectors_all = np.concatenate(vectors)
    if kind != "flat":
        index.train(vectors_all)
    index.add(list(phrases), vectors_all, motions)
    from motiongen.retrieval.wordings import Wordings

    Wordings.of(index.phrases.values(), encoders)  # made now, not at the first prompt
    return index


def add_phrases(
    index: MotionIndex,
    phrases: Sequence[Phrase],
    motions: dict[str, np.ndarray],
    encoders: Encoders | None = None,
) -> list[int]:
    """Add phrases to an existing index (its layout and scaler kept: no rebuild)."""
    if not phrases:
        return []
    if index.scaler is None:
        raise InputError("this index has no statistics scaler; rebuild it")
    encoders = encoders or Encoders()
    vectors = phrase_vectors(
        index.layout, index.scaler, encoders, phrases, positions_of(phrases, motions)
    )
    return index.add(list(phrases), vectors, motions)
