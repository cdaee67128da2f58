"""The contrastive text–motion evaluator: FID features, R-precision and matching distance.

A motion tower and a text projection map a motion and its description to nearby points of one
unit sphere (TMR/CLIP style, trained with a symmetric InfoNCE loss on the train split only;
training is in ``train.py``). Distribution metrics use the motion embeddings (FID,
diversity, multimodality), retrieval metrics use both (R-precision, matching distance).

Motion tower: model features (20 fps, (T, 137), normalised with the evaluator's own statistics)
-> Linear -> 4 dilated residual conv blocks (the label classifier's trunk) -> masked mean + max
-> Linear(2W, W) GELU Linear(W, E) -> L2-normalised (B, E).
Text tower: the frozen all-MiniLM-L6-v2 sentence embedding (384) -> Linear GELU Linear ->
L2-normalised (B, E).

Embeddings are unit vectors, so the matching distance (Euclidean, as in T2M) lies in [0, 2]
and equals sqrt(2 - 2 cos). Numbers are comparable between runs of this evaluator only, never
with published HumanML3D figures, which come from another evaluator on other data.
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
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, motion_to_features
from motiongen.integrity import verify_manifest
from motiongen.paths import PACKAGE_ROOT

if TYPE_CHECKING:
    from motiongen.motion import Motion

FORMAT = "motiongen-text-motion-evaluator"
VERSION = 1
DEFAULT_DIR = PACKAGE_ROOT / "assets" / "evaluators" / "text-motion"


@dataclass
class TextMotionConfig:
    feature_dim: int = FEATURE_DIM  # D: motion features per frame
    text_dim: int = 384  # sentence embedding width (all-MiniLM-L6-v2)
    width: int = 128  # W: channels of the motion trunk and hidden width of both heads
    depth: int = 4  # residual conv blocks; block i has dilation 2**i
    kernel: int = 5
    embed_dim: int = 128  # E: the shared space (and the FID feature size)
    init_temperature: float = 0.07

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextMotionConfig:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise FormatError(f"unknown text-motion config keys {unknown}")
        return cls(**data)


class TextMotionModel(nn.Module):
    def __init__(self, config: TextMotionConfig) -> None:
        super().__init__()
        self.config = c = config
        self.inp = nn.Linear(c.feature_dim, c.width)
        self.blocks = nn.ModuleList(ConvBlock(c.width, c.kernel, 2**i) for i in range(c.depth))
        self.norm = nn.LayerNorm(c.width)
        self.motion_head = nn.Sequential(
            nn.Linear(2 * c.width, c.width), nn.GELU(), nn.Linear(c.width, c.embed_dim)
        )
        self.text_head = nn.Sequential(
            nn.Linear(c.text_dim, c.width), nn.GELU(), nn.Linear(c.width, c.embed_dim)
        )
        # CLIP's learnable temperature, stored as log(1/τ)
        self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1.0 / c.init_temperature))))

    def encode_motion(self, x: Tensor, mask: Tensor) -> Tensor:
        """Unit embeddings (B, E) of normalised features x (B, T, D) over ``mask`` (B, T)."""
        pooled = pooled_trunk(self.inp, self.blocks, self.norm, x, mask)
        return F.normalize(self.motion_head(pooled), dim=-1)

    def encode_text(self, sentence: Tensor) -> Tensor:
        """Unit embeddings (B, E) of sentence embeddings (B, 384)."""
        return F.normalize(self.text_head(sentence), dim=-1)


def sentence_embeddings(encoder: Any, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
    """The frozen text encoder's pooled sentence embeddings (N, 384) of ``texts``, in chunks."""
    return np.concatenate(
        [
            encoder.encode(list(texts[i : i + batch_size])).pooled.cpu().numpy()
            for i in range(0, len(texts), batch_size)
        ]
    )


class TextMotionEvaluator:
    """The trained evaluator with its feature normalisation.

    >>> ev = TextMotionEvaluator.from_pretrained()        # the shipped weights
    >>> ev.encode_motions(motions)                        # (N, 128) unit vectors
    >>> ev.encode_texts(["a person walks forward"])       # (1, 128)
    """

    def __init__(
        self,
        model: TextMotionModel,
        norm: NormStats,
        *,
        max_frames: int = 196,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.model = model.eval()
        self.norm = norm
        self.max_frames = max_frames
        self.info = dict(info or {})
        self._text_encoder: Any = None

    @property
    def embed_dim(self) -> int:
        return self.model.config.embed_dim

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @property
    def text_encoder(self) -> Any:
        if self._text_encoder is None:
            from motiongen.conditioning.text import shared_text_encoder

            self._text_encoder = shared_text_encoder()
        return self._text_encoder

    @torch.inference_mode()
    def encode_sentences(self, sentences: np.ndarray | Tensor) -> np.ndarray:
        """Unit embeddings (N, E) of precomputed sentence embeddings (N, 384)."""
        s = torch.as_tensor(np.asarray(sentences, dtype=np.float32))
        if s.ndim != 2 or s.shape[1] != self.model.config.text_dim:
            raise InputError(
                f"sentence embeddings must have shape (N, {self.model.config.text_dim}), "
                f"got {tuple(s.shape)}"
            )
        return self.model.encode_text(s).numpy()

    def encode_texts(self, texts: Sequence[str], *, batch_size: int = 128) -> np.ndarray:
        """Unit embeddings (N, E) of prompts."""
        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise InputError("no texts given to the text-motion evaluator")
        return self.encode_sentences(sentence_embeddings(self.text_encoder, texts, batch_size))

    @torch.inference_mode()
    def encode_features(
        self, features: Sequence[np.ndarray], *, batch_size: int = 64
    ) -> np.ndarray:
        """Unit embeddings (N, E) of raw (unnormalised) model features, each (T_i, 137)."""
        if len(features) == 0:
            raise InputError("no motions given to the text-motion evaluator")
        clips = []
        for i, f in enumerate(features):
            f = np.asarray(f, dtype=np.float32)
            if f.ndim != 2 or f.shape[1] != FEATURE_DIM or len(f) < 2:
                raise InputError(
                    f"motion {i}: features must have shape (T >= 2, {FEATURE_DIM}), got "
                    f"{f.shape}; use motiongen.features.motion_to_features"
                )
            if not np.isfinite(f).all():
                raise InputError(f"motion {i} contains NaN or infinite values")
            clips.append(center_crop(f, self.max_frames))
        out = []
        for i in range(0, len(clips), batch_size):
            x, m = pad_batch([self.norm.normalize(c) for c in clips[i : i + batch_size]])
            out.append(self.model.encode_motion(torch.from_numpy(x), torch.from_numpy(m)).numpy())
        return np.concatenate(out)

    def encode_motions(self, motions: Sequence[Motion], *, batch_size: int = 64) -> np.ndarray:
        """Unit embeddings (N, E) of motions at any frame rate (resampled to 20 fps)."""
        feats = []
        for i, m in enumerate(motions):
            if not np.isfinite(m.positions).all():
                raise InputError(
                    f"motion {i} ({m.name or 'unnamed'}) contains NaN or infinite positions"
                )
            feats.append(motion_to_features(m, MODEL_FPS))
        return self.encode_features(feats, batch_size=batch_size)

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (no pickle) and ``norm.npz``."""
        from motiongen.checkpoint import write_model_folder

        config = {
            "format": FORMAT,
            "version": VERSION,
            "model": asdict(self.model.config),
            "fps": MODEL_FPS,
            "max_frames": self.max_frames,
            "info": self.info,
        }
        return write_model_folder(path, self.model, self.norm, config, FORMAT)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None) -> TextMotionEvaluator:
        """Load a saved evaluator folder (None: the one shipped with motiongen)."""
        from motiongen.checkpoint import load_checked_state

        path = Path(path) if path is not None else DEFAULT_DIR
        cfg_path = path / CONFIG_NAME
        if not cfg_path.is_file():
            raise DataNotFoundError(
                f"no text-motion evaluator at {path} ({CONFIG_NAME} missing); train one with "
                "`motiongen evaluator train text-motion --out DIR`"
            )
        try:
            raw = json.loads(cfg_path.read_text())
            if raw.get("format") != FORMAT or raw.get("version") != VERSION:
                raise FormatError(
                    f"{cfg_path} is not a version-{VERSION} motiongen text-motion evaluator"
                )
            config = TextMotionConfig.from_dict(raw["model"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise FormatError(f"evaluator config {cfg_path} is unreadable ({err})") from err
        verify_manifest(path, f"evaluator {path}")
        model = TextMotionModel(config)
        state = load_checked_state(model, path / WEIGHTS_NAME, f"evaluator {path}")
        model.load_state_dict(state)
        return cls(
            model,
            NormStats.load(path / NORM_NAME),
            max_frames=int(raw.get("max_frames", 196)),
            info=raw.get("info", {}),
        )
