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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from motiongen.augment import mirror_label
from motiongen.data.store import ClipRecord, PreparedData
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, positions_to_features
from motiongen.skeleton import MIRROR_PERM


@dataclass
class WindowConfig:
    fps: float = MODEL_FPS  # model frame rate
    window: int = 196  # frames per training window (9.8 s at 20 fps)
    min_frames: int = 25  # shorter clips are skipped
    mirror_prob: float = 0.5  # chance a window is mirrored (text left/right swapped too)


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
            tmp = cache / f"text_bank_{key}.tmp.npz"  # atomic: runs may start side by side
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
        tmp = path.with_name(path.stem + ".tmp.npz")  # atomic: runs may start side by side
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


def load_clips(
    data: PreparedData, split: str, cfg: WindowConfig, *, sources: tuple[str, ...] | None = None
) -> list[Clip]:
    """Kept clips of ``split`` resampled to the model fps (long clips are kept whole)."""
    clips = []
    for rec in data.select(split=split):
        if sources is not None and rec.source not in sources:
            continue
        m = data.motion(rec).resample(cfg.fps)
        if m.num_frames < cfg.min_frames:
            continue
        clips.append(
            Clip(
                name=rec.name,
                positions=m.positions,
                texts=list(rec.texts),
                mirrored_texts=[mirror_label(t) for t in rec.texts],
                audio=None,
                weight=rec.weight if rec.weight > 0 else 1.0,
                labels=dict(rec.labels),
            )
        )
    return clips


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

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def weights(self) -> torch.Tensor:
        """Per-clip sampling weight: source balance x length (longer clips hold more windows)."""
        w = [c.weight * min(len(c.positions), self.cfg.window * 4) for c in self.clips]
        return torch.tensor(w, dtype=torch.double)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        clip = self.clips[i]
        rng = self.rng
        T = len(clip.positions)
        n = min(T, self.cfg.window)
        start = int(rng.integers(0, T - n + 1))
        pos = clip.positions[start : start + n]
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
            audio[:n] = clip.audio[start : start + n]
        return {
            "x": torch.from_numpy(x),
            "mask": torch.from_numpy(mask),
            "text": torch.tensor(self.bank.index[text]),
            "audio": torch.from_numpy(audio),
            "has_audio": torch.tensor(clip.audio is not None),
        }
