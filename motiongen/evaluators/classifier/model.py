"""A motion label classifier: content and style heads on a small temporal-conv encoder.

It scores generated motions (does "a person waves with the left hand sadly" look like the
real ``wave-left-hand`` / ``sad`` clips?) and, through ``embed``, serves as the motion
feature extractor for distribution metrics (FID, diversity).

Input: model features (``motiongen.features``, 20 fps, (T, 137)) normalised with the
classifier's own statistics; any length from a few frames to a few hundred (trained on random
crops of 60-196 frames). Network::

    x (B, T, 137) -> Linear -> 4 x residual [LayerNorm, Conv1d k=5 (dilation 1, 2, 4, 8), GELU,
    Conv1d k=1] -> masked mean + max over valid frames (B, 2W) -> Linear, GELU = embedding (B, E)
    -> content logits, style logits

Labels (``evaluators.labels``): Bandai contents of both datasets share one vocabulary ("walk"
and "run" of dataset-1 and dataset-2 are one label each); style synonyms the text prompts
cannot tell apart are merged (``STYLE_SYNONYMS``); a dance clip's content is ``dance-<type>``
and it has no style label (dances are not acted in a style).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motiongen.checkpoint import CONFIG_NAME, NORM_NAME, WEIGHTS_NAME
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.evaluators.features import ConvBlock, center_crop, pad_batch, pooled_trunk
from motiongen.evaluators.labels import STYLE_SYNONYMS
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, motion_to_features
from motiongen.integrity import verify_manifest
from motiongen.paths import PACKAGE_ROOT

if TYPE_CHECKING:
    from motiongen.motion import Motion

FORMAT = "motiongen-label-classifier"
VERSION = 1
DEFAULT_DIR = PACKAGE_ROOT / "assets" / "evaluators" / "label-classifier"


@dataclass
class ClassifierConfig:
    num_contents: int  # content vocabulary size
    num_styles: int  # style vocabulary size
    feature_dim: int = FEATURE_DIM  # D: input features per frame
    width: int = 128  # W: channels of the conv trunk
    depth: int = 4  # residual blocks; block i has dilation 2**i
    kernel: int = 5  # temporal kernel size (frames)
    embed_dim: int = 128  # E: embedding size (the FID feature)
    dropout: float = 0.1  # before the heads

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise FormatError(f"unknown classifier config keys {unknown}; known: {sorted(known)}")
        return cls(**data)


class MotionEncoder(nn.Module):
    """forward(x (B, T, D) normalised, mask (B, T) bool) -> (embedding (B, E), content logits
    (B, Nc), style logits (B, Ns))."""

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = c = config
        self.inp = nn.Linear(c.feature_dim, c.width)
        self.blocks = nn.ModuleList(ConvBlock(c.width, c.kernel, 2**i) for i in range(c.depth))
        self.norm = nn.LayerNorm(c.width)
        self.embed = nn.Linear(2 * c.width, c.embed_dim)
        self.drop = nn.Dropout(c.dropout)
        self.content_head = nn.Linear(c.embed_dim, c.num_contents)
        self.style_head = nn.Linear(c.embed_dim, c.num_styles)

    def encode(self, x: Tensor, mask: Tensor) -> Tensor:
        """Pooled embedding (B, E) of normalised features x (B, T, D) over ``mask`` (B, T)."""
        return F.gelu(self.embed(pooled_trunk(self.inp, self.blocks, self.norm, x, mask)))

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        emb = self.encode(x, mask)
        h = self.drop(emb)
        return emb, self.content_head(h), self.style_head(h)


# ---- the classifier with its vocabularies and normalisation --------------------------------


@dataclass
class Predictions:
    """Per-motion predictions: labels, their probabilities and the embeddings.

    content, style: N predicted labels; content_prob, style_prob: (N,) their probabilities;
    content_probs (N, Nc), style_probs (N, Ns); embeddings (N, E).
    """

    content: list[str]
    style: list[str]
    content_prob: np.ndarray
    style_prob: np.ndarray
    content_probs: np.ndarray
    style_probs: np.ndarray
    embeddings: np.ndarray


class LabelClassifier:
    """The trained classifier: network, label vocabularies and feature normalisation.

    >>> clf = LabelClassifier.from_pretrained()          # the shipped weights
    >>> clf.classify(motions).content                    # e.g. ["walk", "wave-left-hand"]
    >>> clf.embed(features)                              # (B, 128) for FID
    """

    def __init__(
        self,
        model: MotionEncoder,
        contents: list[str],
        styles: list[str],
        norm: NormStats,
        *,
        max_frames: int = 196,
        info: dict[str, Any] | None = None,
    ) -> None:
        if len(contents) != model.config.num_contents or len(styles) != model.config.num_styles:
            raise FormatError(
                f"classifier vocabularies ({len(contents)} contents, {len(styles)} styles) do "
                f"not match its heads ({model.config.num_contents}, {model.config.num_styles})"
            )
        self.model = model.eval()
        self.contents = list(contents)
        self.styles = list(styles)
        self.content_index = {c: i for i, c in enumerate(self.contents)}
        self.style_index = {s: i for i, s in enumerate(self.styles)}
        self.norm = norm
        self.max_frames = max_frames
        self.info = dict(info or {})

    @property
    def embed_dim(self) -> int:
        return self.model.config.embed_dim

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    # -- inference ---------------------------------------------------------------------------
    def _as_clips(self, features: Any) -> list[np.ndarray]:
        dim = self.model.config.feature_dim  # 137 model features, or another representation's
        if isinstance(features, torch.Tensor):
            features = features.detach().cpu().numpy()
        if isinstance(features, np.ndarray):
            if features.ndim == 2:
                features = features[None]
            if features.ndim != 3:
                raise InputError(
                    f"features must have shape (B, T, {dim}) or (T, {dim}), got {features.shape}"
                )
            features = list(features)
        clips = [np.asarray(f, dtype=np.float32) for f in features]
        for f in clips:
            if f.ndim != 2 or f.shape[-1] != dim or len(f) < 1:
                raise InputError(
                    f"each motion's features must have shape (T, {dim}) with T >= 1, "
                    f"got {f.shape}; use motiongen.features.motion_to_features"
                )
            if not np.isfinite(f).all():
                raise InputError("features contain NaN or infinite values")
        return [center_crop(f, self.max_frames) for f in clips]

    @torch.inference_mode()
    def _run(
        self, features: Any, mask: np.ndarray | None, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if mask is not None:
            arr = np.asarray(
                features.detach().cpu() if isinstance(features, torch.Tensor) else features
            )
            m = np.asarray(mask, dtype=bool)
            if arr.ndim != 3 or m.shape != arr.shape[:2]:
                raise InputError(
                    f"mask must have shape (B, T) of the features {arr.shape[:2]}, got {m.shape}"
                )
            features = [a[k] for a, k in zip(arr, m, strict=True)]  # the real frames
        clips = self._as_clips(features)
        embs, cps, sps = [], [], []
        for i in range(0, len(clips), batch_size):
            x, m = pad_batch([self.norm.normalize(c) for c in clips[i : i + batch_size]])
            emb, cl, sl = self.model(torch.from_numpy(x), torch.from_numpy(m))
            embs.append(emb.numpy())
            cps.append(torch.softmax(cl, -1).numpy())
            sps.append(torch.softmax(sl, -1).numpy())
        return np.concatenate(embs), np.concatenate(cps), np.concatenate(sps)

    def embed(
        self, features: Any, mask: np.ndarray | None = None, *, batch_size: int = 64
    ) -> np.ndarray:
        """Embeddings (B, E) of raw (unnormalised) model features.

        features: (B, T, 137) array or tensor (with ``mask`` (B, T) marking real frames), or
        a list of (T_i, 137) arrays. Clips longer than ``max_frames`` are centre-cropped.
        """
        return self._run(features, mask, batch_size)[0]

    def predict(
        self, features: Any, mask: np.ndarray | None = None, *, batch_size: int = 64
    ) -> Predictions:
        """Content and style predictions for raw model features (see ``embed``)."""
        emb, cp, sp = self._run(features, mask, batch_size)
        ci, si = cp.argmax(-1), sp.argmax(-1)
        rows = np.arange(len(ci))
        return Predictions(
            content=[self.contents[i] for i in ci],
            style=[self.styles[i] for i in si],
            content_prob=cp[rows, ci],
            style_prob=sp[rows, si],
            content_probs=cp,
            style_probs=sp,
            embeddings=emb,
        )

    def classify(self, motions: Sequence[Motion], *, batch_size: int = 64) -> Predictions:
        """Predictions for motions at any frame rate (resampled to 20 fps first)."""
        return self.predict([motion_to_features(m) for m in motions], batch_size=batch_size)

    def embed_motions(self, motions: Sequence[Motion], *, batch_size: int = 64) -> np.ndarray:
        """Embeddings (N, E) of motions at any frame rate."""
        return self.embed([motion_to_features(m) for m in motions], batch_size=batch_size)

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (no pickle) and ``norm.npz``."""
        from motiongen.checkpoint import write_model_folder

        config = {
            "format": FORMAT,
            "version": VERSION,
            "model": asdict(self.model.config),
            "contents": self.contents,
            "styles": self.styles,
            "style_synonyms": STYLE_SYNONYMS,
            "fps": MODEL_FPS,
            "max_frames": self.max_frames,
            "info": self.info,
        }
        return write_model_folder(path, self.model, self.norm, config, FORMAT)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None) -> LabelClassifier:
        """Load a saved classifier folder (None: the one shipped with motiongen)."""
        from motiongen.checkpoint import load_checked_state

        path = Path(path) if path is not None else DEFAULT_DIR
        cfg_path = path / CONFIG_NAME
        if not cfg_path.is_file():
            raise DataNotFoundError(
                f"no label classifier at {path} ({CONFIG_NAME} missing); train one with "
                "`motiongen evaluator train classifier --out DIR`"
            )
        try:
            raw = json.loads(cfg_path.read_text())
            if raw.get("format") != FORMAT:
                raise FormatError(f"{cfg_path} is not a motiongen label-classifier config")
            if raw.get("version") != VERSION:
                raise FormatError(
                    f"classifier {path} has version {raw.get('version')}; this code reads {VERSION}"
                )
            config = ClassifierConfig.from_dict(raw["model"])
            contents, styles = list(raw["contents"]), list(raw["styles"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise FormatError(f"classifier config {cfg_path} is unreadable ({err})") from err
        verify_manifest(path, f"classifier {path}")
        model = MotionEncoder(config)
        state = load_checked_state(model, path / WEIGHTS_NAME, f"classifier {path}")
        model.load_state_dict(state)
        norm = NormStats.load(path / NORM_NAME, dim=config.feature_dim)
        return cls(
            model,
            contents,
            styles,
            norm,
            max_frames=int(raw.get("max_frames", 196)),
            info=raw.get("info", {}),
        )
