"""Rerankers: score (query text, candidate phrase) pairs more closely than the dense search.

``MotionReranker``: a small cross-attention scorer. The candidate phrase's motion (model
features at 10 fps, normalised) runs through a temporal convolution; its frames attend to
the query's token embeddings (the sentence encoder's, frozen); a transformer layer mixes the
result over time; the mean over frames gives one logit. It reads the motion itself, not the
phrase's description, so it can tell a left-hand wave from a right-hand one and a phrase
whose take does not look like its label. Trained by ``train_reranker`` on queries drawn from
the training phrases' wordings, with the index's own top candidates as hard negatives.

``CrossEncoderReranker``: any sentence-transformers ``CrossEncoder`` folder, scoring the
query against the phrase's description.

Both give probabilities (sigmoid of the logit), so the prior builder's softmax temperature
means the same for them and for dense cosines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from motiongen.errors import DataNotFoundError, FormatError
from motiongen.features import FEATURE_DIM, NormStats, positions_to_features

CONFIG_NAME = "reranker.json"
WEIGHTS_NAME = "reranker.safetensors"
NORM_NAME = "norm.npz"
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "assets" / "reranker"
RERANK_FPS = 10.0
MAX_TOKENS = 64


@dataclass
class RerankerConfig:
    text_dim: int = 384
    width: int = 128
    heads: int = 4
    fps: float = RERANK_FPS
    max_frames: int = MAX_TOKENS


class MotionReranker(nn.Module):
    def __init__(self, config: RerankerConfig) -> None:
        super().__init__()
        self.config = c = config
        self.motion_in = nn.Sequential(
            nn.Conv1d(FEATURE_DIM, c.width, 5, padding=2), nn.GELU(),
            nn.Conv1d(c.width, c.width, 5, padding=2),
        )  # fmt: skip
        self.text_in = nn.Linear(c.text_dim, c.width)
        self.pos = nn.Parameter(torch.zeros(c.max_frames, c.width))
        self.cross = nn.MultiheadAttention(c.width, c.heads, batch_first=True)
        self.norm = nn.LayerNorm(c.width)
        self.mix = nn.TransformerEncoderLayer(
            c.width, c.heads, 2 * c.width, dropout=0.1, batch_first=True, norm_first=True
        )
        self.head = nn.Sequential(nn.LayerNorm(c.width), nn.Linear(c.width, 1))

    def forward(
        self, motion: Tensor, motion_mask: Tensor, tokens: Tensor, token_mask: Tensor
    ) -> Tensor:
        """motion (B, T, 137) normalised, motion_mask (B, T) bool; tokens (B, L, Ct),
        token_mask (B, L) bool -> logits (B,)."""
        h = self.motion_in(motion.transpose(1, 2)).transpose(1, 2) + self.pos[: motion.shape[1]]
        t = self.text_in(tokens)
        att, _ = self.cross(self.norm(h), t, t, key_padding_mask=~token_mask)
        h = self.mix(h + att, src_key_padding_mask=~motion_mask)
        w = motion_mask[..., None].to(h.dtype)
        pooled = (h * w).sum(1) / w.sum(1).clamp_min(1.0)
        return self.head(pooled)[:, 0]


def motion_tokens(
    positions: Sequence[np.ndarray], fps: float, norm: NormStats, max_frames: int
) -> tuple[Tensor, Tensor]:
    """(B, T, 137) normalised features at ``RERANK_FPS`` (first ``max_frames``) and masks."""
    step = max(1, int(round(fps / RERANK_FPS)))
    feats = [
        norm.normalize(positions_to_features(p[::step], fps / step))[:max_frames] for p in positions
    ]
    T = max(len(f) for f in feats)
    x = np.zeros((len(feats), T, FEATURE_DIM), dtype=np.float32)
    m = np.zeros((len(feats), T), dtype=bool)
    for i, f in enumerate(feats):
        x[i, : len(f)] = f
        m[i, : len(f)] = True
    return torch.from_numpy(x), torch.from_numpy(m)


class Reranker:
    """A trained ``MotionReranker`` with its normalisation and text encoder."""

    def __init__(self, model: MotionReranker, norm: NormStats, text_encoder: Any = None) -> None:
        self.model = model.eval()
        self.norm = norm
        self._text = text_encoder

    @property
    def text(self) -> Any:
        if self._text is None:
            from motiongen.conditioning.text import shared_text_encoder

            self._text = shared_text_encoder()
        return self._text

    @torch.inference_mode()
    def logits(self, query: str, motions: Sequence[np.ndarray], fps: float) -> np.ndarray:
        emb = self.text.encode([query])
        x, m = motion_tokens(motions, fps, self.norm, self.model.config.max_frames)
        B = len(motions)
        tokens = emb.tokens.float().expand(B, -1, -1)
        mask = emb.mask.bool().expand(B, -1)
        return self.model(x, m, tokens, mask).numpy()

    def score(self, query: str, hits: Sequence[Any], index: Any) -> np.ndarray:
        """Probabilities that each hit's phrase shows what the query says."""
        motions = [index.motion(h.id) for h in hits]
        fps = hits[0].phrase.fps if hits else 20.0
        return 1.0 / (1.0 + np.exp(-self.logits(query, motions, fps)))

    def save(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self.model.config), indent=2))
        save_file(self.model.state_dict(), str(folder / WEIGHTS_NAME))
        self.norm.save(folder / NORM_NAME)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Reranker:
        from safetensors.torch import load_file

        folder = Path(folder)
        if not (folder / CONFIG_NAME).is_file():
            raise DataNotFoundError(
                f"no motiongen reranker at {folder} (no {CONFIG_NAME}); train one with "
                "`motiongen index train-reranker`"
            )
        try:
            config = RerankerConfig(**json.loads((folder / CONFIG_NAME).read_text()))
            model = MotionReranker(config)
            model.load_state_dict(load_file(str(folder / WEIGHTS_NAME)))
            norm = NormStats.load(folder / NORM_NAME)
        except (OSError, ValueError, TypeError, RuntimeError) as e:
            raise FormatError(f"{folder} is not a readable reranker ({e}); retrain it") from None
        return cls(model, norm)


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` folder scoring (query, phrase description)."""

    def __init__(self, folder: str | Path) -> None:
        from sentence_transformers import CrossEncoder

        self.folder = Path(folder)
        try:
            self.model = CrossEncoder(str(self.folder), device="cpu", local_files_only=True)
        except (OSError, ValueError) as e:
            raise FormatError(f"{folder} is not a CrossEncoder folder ({e})") from None

    def score(self, query: str, hits: Sequence[Any], index: Any) -> np.ndarray:
        raw = np.asarray(self.model.predict([(query, h.phrase.text) for h in hits]), dtype=float)
        if raw.ndim > 1:  # several labels: the last is "relevant"
            raw = raw[:, -1]
        if raw.min() < 0 or raw.max() > 1:  # logits, not probabilities
            raw = 1.0 / (1.0 + np.exp(-raw))
        return raw


def load_reranker(where: str | Path) -> Any:
    """ "shipped", a motiongen reranker folder, or a sentence-transformers CrossEncoder folder."""
    folder = SHIPPED_DIR if str(where) == "shipped" else Path(where).expanduser()
    if str(where) == "shipped" and not (folder / CONFIG_NAME).is_file():
        raise DataNotFoundError(
            "this build ships no reranker (the one trained here ranked worse than the dense "
            "search, docs/retrieval.md); train one with `motiongen index train-reranker -o DIR`"
        )
    if (folder / CONFIG_NAME).is_file():
        return Reranker.load(folder)
    if (folder / "config.json").is_file():
        return CrossEncoderReranker(folder)
    raise DataNotFoundError(
        f"no reranker at {folder}: give a motiongen reranker folder ({CONFIG_NAME}), a "
        "sentence-transformers CrossEncoder folder, or 'shipped'"
    )
