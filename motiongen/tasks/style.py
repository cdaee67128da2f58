"""The style encoder of the STYLE task (SPEC §4): a motion's style as a unit vector.

Trained contrastively on the style labels (``tasks.style_training``): crops of clips with the
same style attract whatever their content, other styles repel, so the vector says *how* a
person moves and as little as possible *what* they do. Each style label has a prototype, the
normalised mean vector of its training clips; a control model conditions on such vectors
(``ModelConditions.style``), which gives three ways to ask for a style:

- a name (``"sad"``) -> its prototype; the known names are ``StyleEncoder.styles``;
- an example motion -> its vector (``embed``), "move like this";
- a blend of two -> ``mix(a, b, w)``, spherical interpolation between their vectors, so a
  sweep of ``w`` passes through the space smoothly instead of cutting across it.

Network (the evaluators' trunk, ``evaluators.features``)::

    x (B, T, 137) -> Linear -> 4 dilated residual conv blocks -> [masked mean, max] (B, 2W)
    -> Linear, GELU, Linear -> L2-normalised (B, S)
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

FORMAT = "motiongen-style-encoder"
VERSION = 1
DEFAULT_DIR = PACKAGE_ROOT / "assets" / "style-encoder"


@dataclass
class StyleNetConfig:
    feature_dim: int = FEATURE_DIM
    width: int = 96
    depth: int = 4  # block i has dilation 2**i
    kernel: int = 5
    style_dim: int = 32  # S: the style vector

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StyleNetConfig:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise FormatError(f"unknown style encoder config keys {unknown}")
        return cls(**data)


class StyleNet(nn.Module):
    """forward(x (B, T, D) normalised, mask (B, T) bool) -> unit style vectors (B, S)."""

    def __init__(self, config: StyleNetConfig) -> None:
        super().__init__()
        self.config = c = config
        self.inp = nn.Linear(c.feature_dim, c.width)
        self.blocks = nn.ModuleList(ConvBlock(c.width, c.kernel, 2**i) for i in range(c.depth))
        self.norm = nn.LayerNorm(c.width)
        self.head = nn.Sequential(
            nn.Linear(2 * c.width, c.width), nn.GELU(), nn.Linear(c.width, c.style_dim)
        )

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        pooled = pooled_trunk(self.inp, self.blocks, self.norm, x, mask)
        return F.normalize(self.head(pooled), dim=-1)


def slerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """The unit vector a fraction ``w`` of the way from unit ``a`` to unit ``b`` on the sphere."""
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    angle = np.arccos(dot)
    if angle < 1e-6:
        out = (1 - w) * a + w * b
    else:
        out = (np.sin((1 - w) * angle) * a + np.sin(w * angle) * b) / np.sin(angle)
    return (out / max(np.linalg.norm(out), 1e-12)).astype(np.float32)


class StyleEncoder:
    """The trained encoder with its style prototypes and feature normalisation.

    >>> enc = StyleEncoder.from_pretrained()        # the shipped one
    >>> enc.styles                                  # ['active', 'angry', ...]
    >>> enc.vector("sad")                           # (S,) the prototype
    >>> enc.embed_motions([motion])                 # (1, S) "move like this"
    >>> enc.mix("happy", "sad", 0.3)                # (S,) 30 % of the way to sad
    """

    def __init__(
        self,
        model: StyleNet,
        norm: NormStats,
        prototypes: dict[str, np.ndarray],
        *,
        max_frames: int = 196,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.model = model.eval()
        self.norm = norm
        self.prototypes = {k: np.asarray(v, np.float32) for k, v in sorted(prototypes.items())}
        self.max_frames = max_frames
        self.info = dict(info or {})

    @property
    def styles(self) -> list[str]:
        return list(self.prototypes)

    @property
    def style_dim(self) -> int:
        return self.model.config.style_dim

    @torch.inference_mode()
    def embed(self, features: Sequence[np.ndarray], *, batch_size: int = 64) -> np.ndarray:
        """Unit style vectors (N, S) of raw model features, each (T_i, 137) at 20 fps."""
        clips = []
        for f in features:
            f = np.asarray(f, dtype=np.float32)
            if f.ndim != 2 or f.shape[1] != FEATURE_DIM or len(f) < 2:
                raise InputError(
                    f"style features must be (T, {FEATURE_DIM}) with T >= 2, got {f.shape}"
                )
            if not np.isfinite(f).all():
                raise InputError("the motion to take a style from contains NaN or infinite values")
            clips.append(self.norm.normalize(center_crop(f, self.max_frames)))
        out = []
        for i in range(0, len(clips), batch_size):
            x, m = pad_batch(clips[i : i + batch_size])
            out.append(self.model(torch.from_numpy(x), torch.from_numpy(m)).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.style_dim), np.float32)

    def embed_motions(self, motions: Sequence[Motion]) -> np.ndarray:
        """Unit style vectors (N, S) of motions at any frame rate."""
        return self.embed([motion_to_features(m) for m in motions])

    def vector(self, style: str | Motion | np.ndarray) -> np.ndarray:
        """(S,) unit vector of a style name, an example motion or a given vector."""
        if isinstance(style, str):
            key = style.strip().lower()
            if key not in self.prototypes:  # the Bandai sets' own names: old, tired
                key = STYLE_SYNONYMS.get(key, key)
            if key not in self.prototypes:
                import difflib

                near = difflib.get_close_matches(key, self.styles, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise InputError(
                    f"unknown style {style!r}{hint}; known styles: {', '.join(self.styles)}"
                )
            return self.prototypes[key]
        if isinstance(style, np.ndarray):
            v = np.asarray(style, np.float32).reshape(-1)
            if v.shape != (self.style_dim,) or not np.isfinite(v).all() or not v.any():
                raise InputError(
                    f"a style vector must be {self.style_dim} finite numbers, not all zero"
                )
            return v / np.linalg.norm(v)
        if hasattr(style, "positions"):
            return self.embed_motions([style])[0]
        raise InputError(
            f"a style is a name ({', '.join(self.styles)}), a Motion or a vector; got "
            f"{type(style).__name__}"
        )

    def nearest(self, style: str | Motion | np.ndarray) -> tuple[str, float]:
        """The known style whose prototype is closest to ``style``'s vector, and the cosine
        (real clips of a known style: 0.97-1.0 to their own, under 0.25 to any other)."""
        v = self.vector(style)
        names = self.styles
        sims = np.stack([self.prototypes[k] for k in names]) @ v
        best = int(np.argmax(sims))
        return names[best], float(sims[best])

    def mix(self, a: Any, b: Any, weight: float) -> np.ndarray:
        """``weight`` of the way from style ``a`` to style ``b`` (0 = a, 1 = b), on the sphere."""
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float | np.number)
            or not (0.0 <= float(weight) <= 1.0)
        ):
            raise InputError(f"a style blend weight must be a number within 0..1, got {weight!r}")
        return slerp(self.vector(a), self.vector(b), float(weight))

    # -- files -------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        from motiongen.checkpoint import write_model_folder

        config = {
            "format": FORMAT,
            "version": VERSION,
            "model": asdict(self.model.config),
            "prototypes": {k: [round(float(x), 6) for x in v] for k, v in self.prototypes.items()},
            "fps": MODEL_FPS,
            "max_frames": self.max_frames,
            "info": self.info,
        }
        return write_model_folder(path, self.model, self.norm, config, FORMAT)

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None) -> StyleEncoder:
        """Load a saved style encoder folder (None: the one shipped with motiongen)."""
        from motiongen.checkpoint import load_checked_state

        path = Path(path) if path is not None else DEFAULT_DIR
        cfg_path = path / CONFIG_NAME
        if not cfg_path.is_file():
            raise DataNotFoundError(
                f"no style encoder at {path} ({CONFIG_NAME} missing); train one with "
                "`motiongen style train --out DIR`"
            )
        try:
            raw = json.loads(cfg_path.read_text())
            if raw.get("format") != FORMAT or raw.get("version") != VERSION:
                raise FormatError(f"{cfg_path} is not a version-{VERSION} style encoder config")
            config = StyleNetConfig.from_dict(raw["model"])
            prototypes = {k: np.asarray(v, np.float32) for k, v in raw["prototypes"].items()}
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise FormatError(f"style encoder config {cfg_path} is unreadable ({err})") from err
        verify_manifest(path, f"style encoder {path}")
        model = StyleNet(config)
        model.load_state_dict(
            load_checked_state(model, path / WEIGHTS_NAME, f"style encoder {path}")
        )
        return cls(
            model,
            NormStats.load(path / NORM_NAME),
            prototypes,
            max_frames=int(raw.get("max_frames", 196)),
            info=raw.get("info", {}),
        )


def attach_styles(clips: Sequence[Any], encoder: StyleEncoder, fps: float) -> None:
    """Give each training clip (``data.dataset.Clip``) with a known style label its own style
    vector and its label's prototype; other clips (dances) keep None."""
    from motiongen.evaluators.labels import style_label
    from motiongen.features import positions_to_features

    labelled = [c for c in clips if style_label(c.labels) in encoder.prototypes]
    if not labelled:
        return
    if abs(fps - MODEL_FPS) > 1e-9:
        raise InputError(f"style vectors need clips at {MODEL_FPS:g} fps, got {fps:g}")
    vectors = encoder.embed([positions_to_features(c.positions, fps) for c in labelled])
    for clip, vector in zip(labelled, vectors, strict=True):
        clip.own_style = vector
        clip.label_style = encoder.prototypes[style_label(clip.labels)]


def checkpoint_style_encoder(path: Path | None, style_dim: int) -> StyleEncoder | None:
    """The style encoder saved inside a generator checkpoint whose network takes
    ``style_dim``-d style vectors (its prototypes name the styles one can ask for), or None
    for a network without a style input."""
    from motiongen.checkpoint import STYLE_DIR_NAME

    if not style_dim:
        return None
    folder = None if path is None else Path(path) / STYLE_DIR_NAME
    if folder is None or not (folder / CONFIG_NAME).is_file():
        raise DataNotFoundError(
            f"checkpoint {path} takes style vectors but has no {STYLE_DIR_NAME}/ folder; copy "
            "the whole checkpoint folder"
        )
    encoder = StyleEncoder.from_pretrained(folder)
    if encoder.style_dim != style_dim:
        raise FormatError(
            f"checkpoint {path}: its style encoder gives {encoder.style_dim}-d vectors but the "
            f"network takes {style_dim}"
        )
    return encoder
