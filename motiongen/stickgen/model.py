"""Stick-Gen: text-to-stick-figure models that generate the 22 stick features directly.

The original design's family (SPEC §1): small (width 256, 6 blocks, 8 heads), medium (384, 8,
12) and large (512, 10, 16) transformers, plus tiny (128, 4, 4) for quick runs. The network is
our MotionDiT (RoPE, adaLN, cross-attention to the sentence encoder's tokens) over 22 numbers
per frame instead of 137, trained with the same flow-matching process and guided the same
way; ``stickgen.training`` trains it (pretrain -> SFT -> LoRA). The alternative it is compared
with (``benchmarks/stick.py``) is projecting the 3-D model's motion to the stick plane.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.features import NormStats
from motiongen.stick.features import STICK_FEATURES, stick_from_features

SIZES: dict[str, dict[str, int]] = {
    "tiny": {"width": 128, "depth": 4, "heads": 4},
    "small": {"width": 256, "depth": 6, "heads": 8},
    "medium": {"width": 384, "depth": 8, "heads": 12},
    "large": {"width": 512, "depth": 10, "heads": 16},
}
FPS = 20.0
CONFIG_NAME = "stick_gen.json"
WEIGHTS_NAME = "model.safetensors"
NORM_NAME = "norm.npz"


def network(size: str, text_dim: int = 384) -> Any:
    from motiongen.models.dit import MotionDiT, MotionDiTConfig

    if size not in SIZES:
        raise InputError(f"stick model size must be one of {', '.join(SIZES)}, got {size!r}")
    cfg = MotionDiTConfig(feature_dim=STICK_FEATURES, text_dim=text_dim, skip_gate=True,
                          **SIZES[size])  # fmt: skip
    return MotionDiT(cfg)


class StickGen:
    """A trained stick-native model: ``generate(texts, frames)`` -> (B, frames, 20)."""

    def __init__(self, model: Any, norm: NormStats, *, size: str, info: dict | None = None,
                 text_encoder: Any = None) -> None:  # fmt: skip
        from motiongen.generative import build_process

        self.model = model.eval()
        self.norm = norm
        self.size = size
        self.info = dict(info or {})
        self.process = build_process("flow")
        self._text = text_encoder

    @property
    def text_encoder(self) -> Any:
        if self._text is None:
            from motiongen.conditioning.text import shared_text_encoder

            self._text = shared_text_encoder()
        return self._text

    def num_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.inference_mode()
    def generate(
        self,
        texts: list[str],
        frames: int,
        *,
        steps: int = 10,
        sampler: str = "midpoint",
        guidance: float = 2.5,
        seed: int = 0,
    ) -> np.ndarray:
        """Stick numbers (B, frames, 20) for B prompts, one seeded noise draw per prompt."""
        from motiongen.generative import guided
        from motiongen.models import ModelConditions

        if not texts:
            raise InputError("give at least one prompt")
        if not 2 <= frames <= 4000:
            raise InputError(f"frames must be 2..4000, got {frames}")
        emb = self.text_encoder.encode(list(texts))
        cond = ModelConditions(text_pooled=emb.pooled.float(), text_tokens=emb.tokens.float(),
                               text_mask=emb.mask.bool())  # fmt: skip
        g = torch.Generator().manual_seed(int(seed))
        noise = torch.randn(len(texts), frames, STICK_FEATURES, generator=g)
        fn = guided(lambda x, t, c, m: self.model(x, t, c, m), cond, None, scale=guidance)
        x = self.process.sample(fn, noise, steps=steps, sampler=sampler)
        feats = x.numpy() * self.norm.std + self.norm.mean
        return stick_from_features(feats).astype(np.float32)

    # ---- files ------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {"format": "motiongen-stick-gen", "size": self.size,
                  "network": self.model.config.to_dict(), "info": self.info}  # fmt: skip
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2))
        save_file({k: v.contiguous() for k, v in self.model.state_dict().items()},
                  str(folder / WEIGHTS_NAME))  # fmt: skip
        self.norm.save(folder / NORM_NAME)
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, text_encoder: Any = None) -> StickGen:
        from safetensors.torch import load_file

        from motiongen.models.dit import MotionDiT, MotionDiTConfig

        folder = Path(folder)
        if not (folder / CONFIG_NAME).is_file():
            raise DataNotFoundError(
                f"no stick model at {folder} (no {CONFIG_NAME}); train one with "
                "`motiongen stick train`"
            )
        try:
            config = json.loads((folder / CONFIG_NAME).read_text())
            model = MotionDiT(MotionDiTConfig.from_dict(config["network"]))
            model.load_state_dict(load_file(str(folder / WEIGHTS_NAME)))
            norm = NormStats.load(folder / NORM_NAME, dim=STICK_FEATURES)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise FormatError(f"{folder} is not a readable stick model ({e})") from None
        return cls(model, norm, size=config["size"], info=config.get("info"),
                   text_encoder=text_encoder)  # fmt: skip
