"""Training the cross-attention reranker on the index's own phrases.

A query is a wording of one training phrase's labels (``data.text.training_phrasings``,
mirrored with the phrase); its candidates are the index's dense top hits for that wording,
minus the phrase's own clip: the hard negatives the reranker must push down are exactly the
phrases the dense search confuses. A candidate is relevant when it has the query phrase's
label (content and style, or dance genre) and the same side words (left/right).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from motiongen.features import NormStats, positions_to_features
from motiongen.retrieval.build import Encoders
from motiongen.retrieval.index import MotionIndex
from motiongen.retrieval.phrases import Phrase
from motiongen.retrieval.rerank import MotionReranker, Reranker, RerankerConfig, motion_tokens


def sides(text: str) -> tuple[bool, bool]:
    words = text.lower().replace(",", " ").split()
    return ("left" in words, "right" in words)


def relevant(query_label: str, query_text: str, phrase: Phrase) -> bool:
    return phrase.label == query_label and sides(phrase.text) == sides(query_text)


def query_wordings(phrase: Phrase) -> list[str]:
    from motiongen.augment import mirror_label
    from motiongen.data.text import training_phrasings

    texts = sorted(set(training_phrasings(phrase.labels))) or [phrase.text]
    return [mirror_label(t) for t in texts] if phrase.mirrored else texts


def train_reranker(
    index: MotionIndex,
    *,
    steps: int = 1500,
    queries_per_step: int = 16,
    candidates: int = 16,
    fetch: int = 40,
    lr: float = 3e-4,
    seed: int = 0,
    encoders: Encoders | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Reranker, list[float]]:
    """A trained ``Reranker`` and its loss per step."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    encoders = encoders or Encoders()
    ids = sorted(index.phrases)
    phrases = [index.phrases[i] for i in ids]
    fps = phrases[0].fps
    positions = {i: index.motion(i) for i in ids}
    norm = NormStats.compute([positions_to_features(p, fps) for p in positions.values()])
    config = RerankerConfig(text_dim=int(encoders.text.dim))
    x_all, m_all = motion_tokens([positions[i] for i in ids], fps, norm, config.max_frames)
    row_of = {pid: r for r, pid in enumerate(ids)}

    wordings = {pid: query_wordings(index.phrases[pid]) for pid in ids}
    texts = sorted({t for ws in wordings.values() for t in ws})
    text_row = {t: r for r, t in enumerate(texts)}
    emb = encoders.text.encode(texts)
    tokens, tmask = emb.tokens.float(), emb.mask.bool()
    vectors = index.layout.compose(len(texts), text=emb.pooled.float().numpy())
    dense = index.search(vectors, fetch)
    hits_of = {t: [h.id for h in dense[r]] for t, r in text_row.items()}

    model = MotionReranker(config)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    losses = []
    for step in range(steps):
        rows, qrows, labels = [], [], []
        for pid in rng.choice(ids, queries_per_step):
            p = index.phrases[int(pid)]
            text = wordings[int(pid)][int(rng.integers(len(wordings[int(pid)])))]
            pool = [h for h in hits_of[text] if index.phrases[h].clip != p.clip]
            pos = [h for h in pool if relevant(p.label, text, index.phrases[h])]
            neg = [h for h in pool if not relevant(p.label, text, index.phrases[h])]
            others = [h for h in ids if index.phrases[h].label == p.label and h != pid]
            if not pos and others:  # the dense search missed them all: show one anyway
                pos = [int(rng.choice(others))]
            if len(neg) < candidates // 2:  # too few hard negatives: add random phrases
                extra = rng.choice(ids, min(candidates, len(ids)), replace=False)
                neg += [int(h) for h in extra if not relevant(p.label, text, index.phrases[int(h)])]
            n_pos = min(len(pos), max(1, candidates // 4))
            chosen = list(rng.choice(pos, n_pos, replace=False)) if pos else []
            chosen += list(rng.choice(neg, min(len(neg), candidates - n_pos), replace=False))
            for h in chosen:
                rows.append(row_of[int(h)])
                qrows.append(text_row[text])
                labels.append(float(relevant(p.label, text, index.phrases[int(h)])))
        r = torch.as_tensor(rows)
        q = torch.as_tensor(qrows)
        y = torch.as_tensor(labels)
        logits = model(x_all[r], m_all[r], tokens[q], tmask[q])
        pos_weight = ((1 - y).sum() / y.sum().clamp_min(1.0)).clamp(max=10.0)
        loss = F.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(step + 1, steps, float(np.mean(losses[-50:])))
    return Reranker(model.eval(), norm, encoders.text), losses


def label_precision(
    index: MotionIndex,
    queries: list[tuple[str, str]],
    *,
    reranker: Any = None,
    k: int = 10,
    fetch: int = 40,
    encoders: Encoders | None = None,
) -> dict[str, float]:
    """Retrieval quality for (text, label) queries: precision@k (share of the top k that
    are relevant), hit@1 and recall@k (at least one relevant in the top k), dense order or
    reranked from the dense top ``fetch``."""
    from motiongen.retrieval.retriever import Retriever

    encoders = encoders or Encoders()
    retr = Retriever(
        index, encoders=encoders, reranker=reranker, k=fetch if reranker else k, n=k,
        min_similarity=-1.0,
    )  # fmt: skip
    prec, hit1, anyk = [], [], []
    for text, label in queries:
        hits = retr.search(text)[:k]
        rel = [relevant(label, text, h.phrase) for h in hits]
        prec.append(np.mean(rel) if rel else 0.0)
        hit1.append(float(bool(rel) and rel[0]))
        anyk.append(float(any(rel)))
    return {
        f"precision@{k}": float(np.mean(prec)),
        "hit@1": float(np.mean(hit1)),
        f"recall@{k}": float(np.mean(anyk)),
        "queries": len(queries),
    }
