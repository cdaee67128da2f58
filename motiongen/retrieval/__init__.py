"""RAG++: motion phrases, a FAISS index, a reranker and retrieval priors for generation.

- ``phrases``: cutting motions into phrases (bars of music, or motion boundaries).
- ``vectors``: the index's vectors (text ⊕ motion statistics ⊕ motion embedding).
- ``index``: ``MotionIndex`` (FAISS flat / IVF / IVF-PQ, metadata, phrase motions, files).
- ``build``: indexes of the prepared data or of a folder of motion files.
- ``rerank``: the cross-attention reranker (or any sentence-transformers CrossEncoder).
- ``prior``: retrieved phrases -> one motion prior of the target length.
- ``retriever``: query -> dense search -> rerank -> prior, with an LRU cache.
- ``training``: retrieved priors for training windows (never the window's own clip).
"""

from motiongen.retrieval.index import Hit, MotionIndex
from motiongen.retrieval.phrases import Phrase, cut_phrases
from motiongen.retrieval.prior import Prior, PriorBuilder
from motiongen.retrieval.retriever import NoMatch, Retriever

__all__ = [
    "Hit",
    "MotionIndex",
    "NoMatch",
    "Phrase",
    "Prior",
    "PriorBuilder",
    "Retriever",
    "cut_phrases",
]
