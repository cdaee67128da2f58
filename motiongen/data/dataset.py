"""Training windows from the prepared cache, with text and audio conditions ready to batch.

Everything expensive is computed once and cached beside the prepared data:
- clips at the model frame rate (20 fps) and their mirrored copies,
- one text bank: pooled and token embeddings of every distinct description,
- one audio bank: per-frame music features of every clip that has audio.
A window is a random crop of up to ``window`` frames; its features are computed relative to
its own first frame (see ``motiongen.features``), so every crop starts at the origin facing +Z.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from motiongen.augment import mirror_label
from motiongen.conditioning.audio_features import FEATURE_SLICES
from motiongen.data.store import ClipRecord, PreparedData
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, positions_to_features
from motiongen.skeleton import FOOT_JOINTS, MIRROR_PERM

# Column of the music features holding log2(tempo / 120 BPM).
TEMPO_COLUMN = FEATURE_SLICES["tempo"].start


@dataclass
class WindowConfig:
    fps: float = MODEL_FPS  # model frame rate
    window: int = 196  # frames per training window (9.8 s at 20 fps)
    min_frames: int = 25  # shorter clips are skipped
    mirror_prob: float = 0.5  # chance a window is mirrored (text left/right swapped too)
    speed_prob: float = 0.0  # chance a window is played faster or slower (music follows)
    speed_range: tuple[float, float] = (0.9, 1.1)  # playback factors, drawn log-uniformly
    # The same for windows with music (their features follow), None: as above. A dance must
    # learn to follow a song played 20 % faster, more than a body's own speed range.
    music_speed_prob: float | None = None
    music_speed_range: tuple[float, float] | None = None
    scale_prob: float = 0.0  # chance the body and its path are scaled (feet stay on the floor)
    scale_range: tuple[float, float] = (0.92, 1.08)
    # "length": clips weighted by the curation weight x length (most windows from the largest
    # source); "cells": each source gets its share of ``source_shares`` (the rest split evenly),
    # shared equally by its label cells (content x style, or one song), clips within a cell
    # by length, so rare pairs and dances are seen as often as the big cells.
    balance: str = "length"
    source_shares: dict[str, float] | None = None
    # Control tasks (tasks.training): each window also gets a task and which of its values
    # are given (``known``, ``known_mask``, ``task`` items).
    tasks: bool = False
    style_dim: int = 0  # > 0: each window gets a style vector (``style``, ``has_style``)
    style_own: float = 0.5  # chance of the clip's own vector over its label's prototype


class TextBank:
    """Pooled (N, C) and token (N, L, C) embeddings of N distinct texts, looked up by index."""

    def __init__(self, texts: list[str], pooled: np.ndarray, tokens: np.ndarray, mask: np.ndarray):
        self.texts = texts
        self.index = {t: i for i, t in enumerate(texts)}
        self.pooled = torch.from_numpy(pooled.astype(np.float32))
        self.tokens = torch.from_numpy(tokens.astype(np.float32))
        self.mask = torch.from_numpy(mask.astype(bool))

    @classmethod
    def build(cls, texts: list[str], encoder, cache: Path | None = None) -> TextBank:
        """Encode ``texts`` once (cached in ``cache`` keyed by the texts and encoder)."""
        texts = sorted(set(texts))
        key = hashlib.sha1(("\n".join(texts) + str(encoder.model_dir)).encode()).hexdigest()[:16]
        if cache is not None:
            path = cache / f"text_bank_{key}.npz"
            if path.is_file():
                z = np.load(path)
                return cls(texts, z["pooled"], z["tokens"], z["mask"])
        pooled, tokens, masks = [], [], []
        for i in range(0, len(texts), 64):
            emb = encoder.encode(texts[i : i + 64])
            pooled.append(emb.pooled.cpu().numpy())
            tokens.append(emb.tokens.cpu().numpy())
            masks.append(emb.mask.cpu().numpy())
        length = max(t.shape[1] for t in tokens)
        tok = np.zeros((len(texts), length, tokens[0].shape[2]), dtype=np.float16)
        msk = np.zeros((len(texts), length), dtype=bool)
        row = 0
        for t, m in zip(tokens, masks, strict=True):
            tok[row : row + len(t), : t.shape[1]] = t
            msk[row : row + len(t), : m.shape[1]] = m
            row += len(t)
        pooled_arr = np.concatenate(pooled).astype(np.float32)
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            # A per-process temporary name, then an atomic rename: runs may start side by side.
            tmp = cache / f"text_bank_{key}.{os.getpid()}.tmp.npz"
            np.savez(tmp, pooled=pooled_arr, tokens=tok, mask=msk)
            tmp.replace(cache / f"text_bank_{key}.npz")
        return cls(texts, pooled_arr, tok, msk)


def audio_bank(
    data: PreparedData, clips: list[ClipRecord], fps: float, cache: Path | None = None
) -> dict[str, np.ndarray]:
    """name -> (T_clip, F) audio features at ``fps`` for clips with audio (cached)."""
    from motiongen.conditioning.audio_features import features_from_file

    out: dict[str, np.ndarray] = {}
    path = cache / f"audio_bank_{int(fps)}fps.npz" if cache is not None else None
    if path is not None and path.is_file():
        z = np.load(path)
        out = {k: z[k] for k in z.files}
    missing = [c for c in clips if c.audio and c.name not in out]
    for c in missing:
        frames = int(round(c.num_frames * fps / c.fps))
        feats = features_from_file(
            c.audio["path"], fps=fps, offset=c.audio["offset"], seconds=frames / fps
        )
        arr = feats.frames
        if len(arr) < frames:  # song shorter than the dance: hold the last frame
            arr = np.concatenate([arr, np.repeat(arr[-1:], frames - len(arr), axis=0)])
        out[c.name] = arr[:frames].astype(np.float32)
    if missing and path is not None:
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")  # atomic, per process
        np.savez(tmp, **out)
        tmp.replace(path)
    return out


@dataclass
class Clip:
    name: str
    positions: np.ndarray  # (T, 22, 3) at the model fps
    texts: list[str]
    mirrored_texts: list[str]
    audio: np.ndarray | None  # (T, F)
    weight: float
    labels: dict[str, str]
    source: str = ""
    # Style vectors (tasks.style): the clip's own and its style label's prototype, or None
    # for clips without a style (dances).
    own_style: np.ndarray | None = None
    label_style: np.ndarray | None = None

    @property
    def cell(self) -> str:
        """The label cell the clip balances within: content x style, or its song."""
        lab = self.labels
        if lab.get("song") or lab.get("dance_type"):
            return f"song:{lab.get('song') or self.name}"
        return f"{lab.get('content', '')}|{lab.get('style', '')}"


def load_clips(
    data: PreparedData,
    split: str,
    cfg: WindowConfig,
    *,
    sources: tuple[str, ...] | None = None,
    phrasings: bool = False,
    phrasing_share: float = 0.5,
) -> list[Clip]:
    """Kept clips of ``split`` resampled to the model fps (long clips are kept whole).

    phrasings: texts are the stored descriptions plus ``training_phrasings`` of the labels
    (many wordings, for generator training), the extra wordings making ``phrasing_share`` of
    the draws; otherwise the stored descriptions only.
    """
    from motiongen.data.text import training_phrasings

    clips = []
    for rec in data.select(split=split):
        if sources is not None and rec.source not in sources:
            continue
        m = data.motion(rec).resample(cfg.fps)
        if m.num_frames < cfg.min_frames:
            continue
        texts = list(rec.texts)
        if phrasings and texts and phrasing_share > 0:
            extra = training_phrasings(rec.labels)
            # The stored descriptions are repeated so the extra wordings make up the share.
            reps = max(1, round(len(extra) * (1 - phrasing_share) / (phrasing_share * len(texts))))
            texts = texts * reps + extra
        clips.append(
            Clip(
                name=rec.name,
                positions=m.positions,
                texts=texts,
                mirrored_texts=[mirror_label(t) for t in texts],
                audio=None,
                weight=rec.weight if rec.weight > 0 else 1.0,
                labels=dict(rec.labels),
                source=rec.source,
            )
        )
    return clips


def balanced_weights(clips: list[Clip], window: int, shares: dict[str, float] | None) -> np.ndarray:
    """Per-clip sampling weights (sum 1) for ``WindowConfig.balance == "cells"``.

    Each source gets ``shares[source]`` (sources not named split what is left evenly; shares
    of absent sources are dropped and the rest renormalised), each label cell of a source an
    equal part of it, and each clip of a cell a part proportional to its length (capped at
    four windows, as the "length" weighting does).
    """
    sources = sorted({c.source for c in clips})
    given = {s: float(v) for s, v in (shares or {}).items() if s in sources}
    rest = [s for s in sources if s not in given]
    left = max(0.0, 1.0 - sum(given.values()))
    for s in rest:
        given[s] = left / len(rest) if left > 0 else 1.0 / len(sources)
    total = sum(given.values())
    lengths = np.array([min(len(c.positions), window * 4) for c in clips], dtype=np.float64)
    cells: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(clips):
        cells.setdefault((c.source, c.cell), []).append(i)
    per_source = {s: sum(1 for src, _ in cells if src == s) for s in sources}
    w = np.zeros(len(clips))
    for (src, _), idx in cells.items():
        cell_share = given[src] / total / per_source[src]
        w[idx] = cell_share * lengths[idx] / lengths[idx].sum()
    return w


def speed_up(positions: np.ndarray, factor: float, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """``frames`` frames of ``positions`` played ``factor`` times as fast (linear in time).

    Returns (frames, 22, 3) positions and the (frames,) source times they were read at, for
    resampling anything aligned with the clip (music features) the same way.
    positions must hold at least (frames - 1) * factor + 1 frames.
    """
    src = np.arange(frames) * factor
    src = np.minimum(src, len(positions) - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(positions) - 1)
    a = (src - lo)[:, None, None]
    return (1 - a) * positions[lo] + a * positions[hi], src


def attach_audio(clips: list[Clip], bank: dict[str, np.ndarray]) -> int:
    """Set ``clip.audio`` (T, F) from an ``audio_bank`` for every clip it holds; returns how many.

    The bank is computed from the clip records (frame count rounded from the source fps);
    a resampled clip can differ by a frame, so the features are cut or the last row held.
    """
    count = 0
    for clip in clips:
        feats = bank.get(clip.name)
        if feats is None:
            continue
        T = len(clip.positions)
        if len(feats) < T:
            feats = np.concatenate([feats, np.repeat(feats[-1:], T - len(feats), axis=0)])
        clip.audio = np.ascontiguousarray(feats[:T], dtype=np.float32)
        count += 1
    return count


def mirror_positions(positions: np.ndarray) -> np.ndarray:
    out = positions[:, list(MIRROR_PERM)].copy()
    out[..., 0] *= -1
    return out


class MotionWindows(torch.utils.data.Dataset):
    """Random windows of clips as training samples.

    An item is a dict: ``x`` (window, D) normalised features (zeros past the clip end),
    ``mask`` (window,) bool, ``text`` index into the text bank, ``audio`` (window, F) or
    zeros, ``has_audio`` bool. Sample clips with ``weights`` to balance sources.
    """

    def __init__(
        self,
        clips: list[Clip],
        text_bank: TextBank,
        norm: NormStats,
        cfg: WindowConfig,
        audio_dim: int,
        *,
        seed: int = 0,
    ):
        self.clips = clips
        self.bank = text_bank
        self.norm = norm
        self.cfg = cfg
        self.audio_dim = audio_dim
        self.rng = np.random.default_rng(seed)
        # Task draw weights (gen, predict, inbetween, edit, style); the trainer moves them
        # along its progressive schedule.
        self.task_weights = np.array([0.3, 0.2, 0.2, 0.2, 0.1])
        # Retrieval priors (retrieval.training.TrainingPriors): each window gets ``prior``
        # and ``has_prior`` items when set.
        self.priors: Any = None

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def weights(self) -> torch.Tensor:
        """Per-clip sampling weight (see ``WindowConfig.balance``)."""
        if self.cfg.balance == "cells":
            w = balanced_weights(self.clips, self.cfg.window, self.cfg.source_shares)
            return torch.tensor(w, dtype=torch.double)
        w = [c.weight * min(len(c.positions), self.cfg.window * 4) for c in self.clips]
        return torch.tensor(w, dtype=torch.double)

    def _speed_factor(self, rng: np.random.Generator, music: bool) -> float:
        cfg = self.cfg
        prob, bounds = cfg.speed_prob, cfg.speed_range
        if music:
            prob = prob if cfg.music_speed_prob is None else cfg.music_speed_prob
            bounds = bounds if cfg.music_speed_range is None else cfg.music_speed_range
        if prob <= 0 or rng.random() >= prob:
            return 1.0
        lo, hi = np.log(bounds[0]), np.log(bounds[1])
        return float(np.exp(rng.uniform(lo, hi)))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        clip = self.clips[i]
        rng = self.rng
        T = len(clip.positions)
        factor = self._speed_factor(rng, clip.audio is not None)
        # A window of n output frames reads (n - 1) * factor + 1 source frames.
        n = min(self.cfg.window, int((T - 1) / factor) + 1)
        span = min(T, int(np.ceil((n - 1) * factor)) + 1)
        start = int(rng.integers(0, T - span + 1))
        pos = clip.positions[start : start + span]
        src_times = np.arange(n, dtype=np.float64)
        if factor != 1.0:
            pos, src_times = speed_up(pos, factor, n)
        if self.cfg.scale_prob > 0 and rng.random() < self.cfg.scale_prob:
            k = float(rng.uniform(*self.cfg.scale_range))
            floor = float(pos[..., list(FOOT_JOINTS), 1].min())
            pivot = np.array([pos[0, 0, 0], floor, pos[0, 0, 2]])
            pos = (pos - pivot) * k + pivot
        mirrored = rng.random() < self.cfg.mirror_prob
        if mirrored:
            pos = mirror_positions(pos)
        feats = self.norm.normalize(positions_to_features(pos, self.cfg.fps))
        x = np.zeros((self.cfg.window, FEATURE_DIM), dtype=np.float32)
        x[:n] = feats
        mask = np.zeros(self.cfg.window, dtype=bool)
        mask[:n] = True
        texts = clip.mirrored_texts if mirrored else clip.texts
        text = texts[int(rng.integers(0, len(texts)))]
        audio = np.zeros((self.cfg.window, self.audio_dim), dtype=np.float32)
        if clip.audio is not None:
            rows = np.minimum(start + np.rint(src_times).astype(int), T - 1)
            audio[:n] = clip.audio[rows]
            if factor != 1.0:  # the music plays factor x faster too
                audio[:n, TEMPO_COLUMN] += np.log2(factor)
        item = {
            "x": torch.from_numpy(x),
            "mask": torch.from_numpy(mask),
            "text": torch.tensor(self.bank.index[text]),
            "audio": torch.from_numpy(audio),
            "has_audio": torch.tensor(clip.audio is not None),
        }
        if self.priors is not None:
            tempo = 0.0
            if clip.audio is not None:
                tempo = 120.0 * 2.0 ** float(audio[0, TEMPO_COLUMN])
            prior = np.zeros((self.cfg.window, FEATURE_DIM), dtype=np.float32)
            found = self.priors(clip.name, text, n, tempo, rng)
            if found is not None:
                prior[:n] = found
            item |= {
                "prior": torch.from_numpy(prior),
                "has_prior": torch.tensor(found is not None),
            }
        if self.cfg.style_dim:
            style = np.zeros(self.cfg.style_dim, dtype=np.float32)
            if clip.own_style is not None and clip.label_style is not None:
                own = rng.random() < self.cfg.style_own
                style = clip.own_style if own else clip.label_style
            item |= {
                "style": torch.from_numpy(np.asarray(style, dtype=np.float32)),
                "has_style": torch.tensor(clip.own_style is not None),
            }
        if self.cfg.tasks:
            from motiongen.tasks import CONTROL_DIM, control_mask, control_values, sample_task

            task, given = sample_task(rng, n, self.task_weights)
            known = np.zeros((self.cfg.window, CONTROL_DIM), dtype=np.float32)
            known_mask = np.zeros_like(known)
            known[:n] = control_values(feats, pos)
            known_mask[:n] = control_mask(given)
            item |= {
                "known": torch.from_numpy(known),
                "known_mask": torch.from_numpy(known_mask),
                "task": torch.tensor(task),
            }
        return item
