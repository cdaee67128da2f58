"""Retrieval priors for the Pipeline: which index, and the prior of one request.

A checkpoint with a prior input (``MotionDiT.prior_dim``, trained by ``conditioning.rag_index``)
takes the blended phrases a ``retrieval.Retriever`` finds for the request's text (and its
music's tempo). The index is the one given to ``Pipeline.use_index``, else the index of the
training split that training built into the prepared cache (``default_index_dir``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motiongen.errors import DataNotFoundError, InputError

# The shortest length a prompt gets unasked: a sharp "arms up" is recorded in 1.5 s, too brief
# to see in a viewer before it is over.
MIN_TYPICAL_SECONDS = 2.0


def default_index_dir() -> Path:
    """$MOTIONGEN_INDEX, else ``rag_index_train`` in the prepared cache."""
    from motiongen.retrieval.index import default_index_dir as default

    return default()


def make_retriever(index: Any = None, *, reranker: Any = None, **options: Any) -> Any:
    """A ``Retriever`` over ``index`` (a ``MotionIndex``, a folder, or None for the default
    folder); ``reranker``: None, a ``Reranker``, a folder (ours or a sentence-transformers
    CrossEncoder)."""
    from motiongen.retrieval import MotionIndex, Retriever
    from motiongen.retrieval.rerank import load_reranker

    if not isinstance(index, MotionIndex):
        folder = Path(index) if index is not None else default_index_dir()
        try:
            index = MotionIndex.load(folder)
        except DataNotFoundError:
            motions = folder.is_dir() and any(
                f.suffix.lower() in (".bvh", ".npy", ".motion") for f in folder.iterdir()
            )
            how = (  # building into a folder of the user's motions would mix the two
                f"it holds motion files: index them with `motiongen index build --folder "
                f"{folder} -o {folder}_index` and pass --index {folder}_index"
                if motions
                else f"build one with `motiongen index build -o {folder}`"
            )
            raise DataNotFoundError(
                f"no motion index at {folder}; {how} (or pass another with --index / "
                "Pipeline.use_index)"
            ) from None
    if isinstance(reranker, str | Path):
        reranker = load_reranker(reranker)
    return Retriever(index, reranker=reranker, **options)


def request_prior(
    pipe: Any, text: str | None, music: Path | None, music_offset: float, frames: int
) -> tuple[Any, str | None]:
    """(the ``retrieval.Prior`` of one request, ``frames`` long, or None; a warning or None).

    Clear errors for a checkpoint without a prior input or a missing index. A query nothing in
    the index matches is not an error here: the motion is generated without a prior (the
    network was trained with priors dropped) and the warning says so."""
    from motiongen.retrieval import NoMatch

    if not pipe.prior_dim:
        raise InputError(
            f"checkpoint {pipe.name} has no retrieval-prior input; use a RAG checkpoint "
            "(the shipped 'tiny-rag') or generate without retrieval"
        )
    if text is None and music is None:
        raise InputError("retrieval needs a text or music to search with; add a prompt")
    if text is None:  # the network learned priors only beside a text (dropped with it)
        return None, "retrieval needs a prompt beside the music; generated without a prior"
    if frames < 2:
        return None, "retrieval: a motion of one frame has no prior; generated without one"
    _load_retriever(pipe)
    tempo = 0.0
    if music is not None:
        from motiongen.conditioning.audio_features import cached_features_from_file

        feats = cached_features_from_file(music, pipe.fps, music_offset, num_frames=frames)
        tempo = float(feats.tempo_bpm)
    try:
        return pipe.retriever.prior(text, frames=frames, fps=pipe.fps, tempo=tempo), None
    except NoMatch as exc:
        return None, f"retrieval: {exc}; generated without a retrieved prior"


def request_frames(pipe: Any, text: str) -> int | None:
    """The length a prompt's motion gets when none is asked for: as long as the index's
    phrases like it (``Retriever.typical_frames``), within ``MIN_TYPICAL_SECONDS`` and one model
    window; None when nothing in the index matches (the caller keeps its default)."""
    from motiongen.retrieval import NoMatch

    if not pipe.prior_dim:  # request_prior says why retrieval cannot be used
        return None
    _load_retriever(pipe)
    try:
        frames = pipe.retriever.typical_frames(text, fps=pipe.fps)
    except NoMatch:
        return None
    return int(min(max(frames, round(MIN_TYPICAL_SECONDS * pipe.fps)), pipe.window))


def _load_retriever(pipe: Any) -> None:
    """The pipeline's retriever, made from its index source on first use."""
    if pipe.retriever is None:
        index, reranker = pipe.index_source
        pipe.use_index(index, reranker=reranker)
