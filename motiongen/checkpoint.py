"""Inference checkpoints: one folder that ``Pipeline.from_pretrained`` needs nothing else for.

Layout::

    config.json        {"format": "motiongen-checkpoint", "version": 2,
                        "architecture": "dit" | "unet1d", "model": {...network config...},
                        "process": "flow" | "ddpm", "process_config": {...every field...},
                        "conditioning": {"text_model": ..., "text_dim": 384, "max_tokens": 64,
                                         "audio_dim": 50, "fps": 20.0, "window": 196,
                                         "guidance": null},
                        "training": {...how it was made: command, steps, wall time ...}}
    model.safetensors  network weights (the EMA weights when training used EMA)
    norm.npz           feature normalisation (``motiongen.features.NormStats``)

Weights are safetensors, never pickle. Loading checks every tensor for NaN/inf and for the
shapes the config implies, and says what is wrong in one line. The config is read strictly:
an unknown or missing key is an error naming it (``ConditioningSpec``, the process config);
version-1 folders are upgraded once with ``motiongen checkpoint upgrade DIR``.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from motiongen.errors import DataNotFoundError, FormatError, InputError, MotionGenError
from motiongen.features import NormStats
from motiongen.integrity import manifest_entries, verify_manifest, write_manifest
from motiongen.paths import DEFAULT_MODEL, PACKAGE_ROOT

FORMAT = "motiongen-checkpoint"
VERSION = 2  # 2: every conditioning and process key written out and read strictly
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
NORM_NAME = "norm.npz"
VOCABULARY_NAME = "vocabulary.json"  # optional: action label -> sentences (data.text)
# optional: {"actions": action label -> the styles it was recorded in, "words": style -> words}
STYLES_NAME = "action_styles.json"
STYLE_DIR_NAME = "style-encoder"  # a style-conditioned network's encoder (tasks.style)
SHIPPED_MODELS_DIR = PACKAGE_ROOT / "assets" / "models"


def shipped_model_path(name: str = DEFAULT_MODEL) -> Path:
    """Folder of a model shipped inside the package (it may not exist)."""
    return SHIPPED_MODELS_DIR / name


def resolve_checkpoint(path: str | Path | None) -> Path:
    """A checkpoint folder from a path or the name of a shipped model (None: the default)."""
    if path is None:
        folder = shipped_model_path(DEFAULT_MODEL)
        if not (folder / CONFIG_NAME).is_file():
            raise DataNotFoundError(
                f"the shipped model {DEFAULT_MODEL} is not installed ({folder} has no "
                "config.json); reinstall motiongen or pass a checkpoint folder "
                "(--checkpoint PATH)"
            )
        return folder
    if not isinstance(path, str | os.PathLike):
        raise InputError(
            f"a checkpoint is a folder path or a shipped model's name, got {path!r} "
            f"({type(path).__name__})"
        )
    folder = Path(path).expanduser()
    if not folder.exists() and shipped_model_path(str(path)).is_dir():
        return shipped_model_path(str(path))
    return folder


def shipped_model_names() -> list[str]:
    """Names of the models inside the package (folders with a config.json)."""
    if not SHIPPED_MODELS_DIR.is_dir():
        return []
    return sorted(p.name for p in SHIPPED_MODELS_DIR.iterdir() if (p / CONFIG_NAME).is_file())


@functools.cache
def rag_model_names() -> tuple[str, ...]:
    """Shipped models with a retrieval-prior input (they take retrieval); read once, since
    every retrieval request asks and the shipped models never change while running."""
    return tuple(
        name
        for name in shipped_model_names()
        if int(read_config(SHIPPED_MODELS_DIR / name).model.get("prior_dim", 0) or 0)
    )


def rag_model_for(default: str = DEFAULT_MODEL) -> str:
    """The model a retrieval request without a model runs on: ``default`` if it has a
    retrieval-prior input, else the shipped ``tiny-rag``, else any shipped model with one."""
    able = rag_model_names()
    for name in (default, "tiny-rag", *able):
        if name in able:
            return name
    raise InputError("no shipped model has a retrieval prior; generate without retrieval")


@dataclass
class ConditioningSpec:
    """What a checkpoint's network is conditioned on and at which frame rate it works.

    text_model: the sentence encoder it was trained with (a name, or a folder); None = no text.
    text_dim: width of its embeddings (0 = no text). max_tokens: prompt length cut.
    audio_dim: per-frame music features (0 = no music). fps, window: the model frame rate and
    the most frames sampled at once. guidance: the checkpoint's default guidance (a number or
    [text, audio]), None = the process's default. steps: its default sampler steps (a
    distilled model is made for fewer), None = the process's default. sampler: its default
    sampler (chosen on val with the steps), None = the process's first. tasks: a control
    model's own defaults per task, e.g. {"edit": {"guidance": 6.0}, "inbetween": {"steps": 8},
    "timeline": {"segment_model": "tiny-flow-smooth"}} (chosen on val: one setting does not
    suit every task; a timeline's segments, an edited span and a continuation's new action
    can come from a text model);
    a request's own options win. retrieval: a model with a prior input generates a prompt
    without music from retrieved phrases by default, when a motion index is built (chosen on
    val; ``Pipeline.check_request``'s ``rag=None``). prior_start: a flow model given a
    retrieved prior starts sampling from it at this time (0 = from noise; ``FlowMatching.
    sample``'s ``t0``), chosen on val.
    """

    text_model: str | None
    text_dim: int
    max_tokens: int
    audio_dim: int
    fps: float
    window: int
    guidance: float | list[float] | None = None
    steps: int | None = None
    sampler: str | None = None
    tasks: dict[str, dict[str, Any]] | None = None
    retrieval: bool = False
    prior_start: float = 0.0

    def __post_init__(self) -> None:
        if self.tasks is not None:
            _check_task_defaults(self.tasks)
        checks = [
            (isinstance(self.retrieval, bool), "retrieval (true or false)"),
            (
                isinstance(self.prior_start, int | float)
                and not isinstance(self.prior_start, bool)
                and 0 <= self.prior_start < 1,
                "prior_start (0 <= t < 1)",
            ),
            (self.sampler is None or isinstance(self.sampler, str), "sampler (a name)"),
            (
                self.steps is None or (isinstance(self.steps, int) and 1 <= self.steps <= 1000),
                "steps (1..1000)",
            ),
            (isinstance(self.text_dim, int) and self.text_dim >= 0, "text_dim"),
            (isinstance(self.max_tokens, int) and self.max_tokens >= 1, "max_tokens"),
            (isinstance(self.audio_dim, int) and self.audio_dim >= 0, "audio_dim"),
            (
                isinstance(self.fps, int | float)
                and math.isfinite(self.fps)
                and 0 < self.fps <= 1000,
                "fps",
            ),
            (isinstance(self.window, int) and self.window >= 8, "window (at least 8 frames)"),
        ]
        bad = [name for ok, name in checks if not ok]
        if bad:
            raise FormatError(f"conditioning values out of range: {', '.join(bad)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TASK_NAMES = ("predict", "inbetween", "edit", "style", "timeline")
TASK_OPTIONS = ("steps", "sampler", "guidance")
SEGMENT_OPTIONS = (*TASK_OPTIONS, "segment_model")  # tasks a text model can make parts of
SEGMENT_TASKS = ("timeline", "edit", "predict")


def _check_task_defaults(tasks: Any) -> None:
    """conditioning.tasks: {task: {option: value}} with known tasks and options only."""
    if not isinstance(tasks, dict) or not all(isinstance(v, dict) for v in tasks.values()):
        raise FormatError("conditioning.tasks must map task names to {option: value} objects")
    unknown = sorted(set(tasks) - set(TASK_NAMES))
    if unknown:
        raise FormatError(
            f"conditioning.tasks names unknown tasks {unknown}; known: {', '.join(TASK_NAMES)}"
        )
    for task, options in tasks.items():
        known = SEGMENT_OPTIONS if task in SEGMENT_TASKS else TASK_OPTIONS
        bad = sorted(set(options) - set(known))
        if bad:
            raise FormatError(
                f"conditioning.tasks.{task} has unknown options {bad}; known: {', '.join(known)}"
            )
        for key, value in options.items():
            if value is not None and not _task_value_ok(key, value):
                raise FormatError(
                    f"conditioning.tasks.{task}.{key} = {value!r} is not a valid {key} "
                    "(steps 1..1000, a sampler name, guidance 0..50 or [text, audio], "
                    "segment_model a model name or folder)"
                )


def _task_value_ok(key: str, value: Any) -> bool:
    def number(x: Any, hi: float) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and 0 <= x <= hi

    if key == "steps":  # the bounds of generation.request (MAX_STEPS, MAX_GUIDANCE)
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1000
    if key == "guidance":  # one scale, or [text, audio]
        pair = isinstance(value, list) and len(value) == 2
        return number(value, 50.0) or (pair and all(number(v, 50.0) for v in value))
    return isinstance(value, str) and bool(value.strip())  # sampler, segment_model


@dataclass
class CheckpointConfig:
    """Everything needed to rebuild a checkpoint's network, process and conditioners.

    model: the network config as a dict, read by the architecture's config class
    (``from_dict``: unknown keys are an error; fields added later default to the old
    behaviour). process_config: the process's config dataclass (``build_process``).
    training: how the checkpoint was made (command, steps, wall time): a record, never read.
    """

    architecture: str  # key of motiongen.models.ARCHITECTURES
    model: dict[str, Any]
    process: str  # a registered process name: "flow", "ddpm"
    process_config: Any
    conditioning: ConditioningSpec
    training: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        pc = self.process_config
        return {
            "format": FORMAT,
            "version": VERSION,
            "architecture": self.architecture,
            "model": self.model,
            "process": self.process,
            "process_config": pc.to_dict() if hasattr(pc, "to_dict") else dict(pc),
            "conditioning": self.conditioning.to_dict(),
            "training": self.training,
        }

    @classmethod
    def create(
        cls,
        architecture: str,
        model: dict[str, Any],
        process: str,
        *,
        conditioning: ConditioningSpec | dict[str, Any],
        process_config: Any = None,
        training: dict[str, Any] | None = None,
    ) -> CheckpointConfig:
        """A config with the process's defaults filled in (a dict process_config is read as
        in a file; a conditioning dict must give every ``ConditioningSpec`` key but guidance)."""
        from motiongen.generative import build_process

        if isinstance(conditioning, dict):
            conditioning = _strict(
                ConditioningSpec, {"guidance": None, **conditioning}, "conditioning"
            )
        proc = build_process(process, process_config)
        return cls(architecture, dict(model), process, proc.config, conditioning, training or {})

    def build_process(self) -> Any:
        from motiongen.generative import build_process

        return build_process(self.process, self.process_config)


@dataclass
class Checkpoint:
    config: CheckpointConfig
    model: nn.Module
    norm: NormStats
    path: Path | None = None
    vocabulary: dict[str, list[str]] | None = None  # action -> sentences it was trained on
    action_styles: dict[str, dict[str, list[str]]] | None = None  # see STYLES_NAME


def write_model_folder(
    path: str | Path, model: nn.Module, norm: NormStats, config: dict, fmt: str
) -> Path:
    """Write ``path/`` (created): ``model.safetensors`` (no pickle, metadata format ``fmt``),
    ``norm.npz``, and ``config.json`` last, so a folder with a config is a complete one (an
    interrupted save leaves no config, which readers report as such)."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg_path = path / CONFIG_NAME
    # a vocabulary belongs to older weights
    for stale in (cfg_path, path / VOCABULARY_NAME, path / STYLES_NAME):
        if stale.exists():
            stale.unlink()
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / (WEIGHTS_NAME + ".tmp")), metadata={"format": fmt})
    (path / (WEIGHTS_NAME + ".tmp")).replace(path / WEIGHTS_NAME)
    norm.save(path / NORM_NAME)
    tmp = path / (CONFIG_NAME + ".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    # The manifest covers the config about to appear, so a folder with a config always
    # has the manifest that proves it.
    entries = manifest_entries(path, [WEIGHTS_NAME, NORM_NAME])
    entries[CONFIG_NAME] = manifest_entries(path, [tmp.name])[tmp.name]
    write_manifest(path, entries)
    tmp.replace(cfg_path)
    return path


def record_manifest(path: str | Path) -> Path:
    """Write the manifest of a model folder as its files are now (trusting them)."""
    path = Path(path)
    names = [WEIGHTS_NAME, NORM_NAME, CONFIG_NAME]
    names += [n for n in (VOCABULARY_NAME, STYLES_NAME) if (path / n).is_file()]
    return write_manifest(path, manifest_entries(path, names))


def write_vocabulary(
    path: str | Path,
    vocabulary: dict[str, list[str]],
    action_styles: dict[str, list[str]] | None = None,
    style_words: dict[str, list[str]] | None = None,
    pace: dict[str, float] | None = None,
    clips: dict[str, int] | None = None,
    songs: dict[str, int] | None = None,
    posture: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Store what actions a checkpoint was trained on (``vocabulary.json``) and, given, the
    styles each was recorded in, the words its texts used for each style, each style's
    pace (``tasks.pace.style_pace``), each action's number of training clips, each
    dance's number of training songs and each style's posture (``tasks.posture``;
    ``action_styles.json``), and re-record its manifest; the folder must verify first, so
    nothing damaged is blessed."""
    path = Path(path)
    verify_manifest(path, f"checkpoint {path}")
    files: list[tuple[str, Any]] = [(VOCABULARY_NAME, vocabulary)]
    if action_styles is not None:
        styles: dict[str, Any] = {"actions": action_styles, "words": style_words or {}}
        if pace:
            styles["pace"] = pace
        if clips:
            styles["clips"] = clips
        if songs:
            styles["songs"] = songs
        if posture:
            styles["posture"] = posture
        files.append((STYLES_NAME, styles))
    elif (path / STYLES_NAME).exists():  # it described the old vocabulary's data
        (path / STYLES_NAME).unlink()
    for name, content in files:
        tmp = path / (name + ".tmp")
        tmp.write_text(json.dumps(content, indent=1, sort_keys=True))
        tmp.replace(path / name)
    record_manifest(path)
    return path / VOCABULARY_NAME


def _read_optional_json(file: Path) -> Any:
    """The parsed file, or None when there is none (a checkpoint's optional files)."""
    if not file.is_file():
        return None
    try:
        return json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise FormatError(f"{file} is not valid JSON ({err})") from err


def read_vocabulary(path: str | Path) -> dict[str, list[str]] | None:
    """A checkpoint's action vocabulary, or None when it has none."""
    file = Path(path) / VOCABULARY_NAME
    raw = _read_optional_json(file)
    if raw is not None and not _lists_of_strings(raw):
        raise FormatError(f"{file} must map action names to lists of sentences")
    return raw


def read_action_styles(path: str | Path) -> dict[str, dict[str, Any]] | None:
    """{"actions": action -> the styles the training data recorded it in, "words": style ->
    the words its texts used for it, and, in checkpoints made since 2026-12-03, "pace": style
    -> its walking speed as a share of the usual (``tasks.pace``)}, since 2026-12-04,
    "clips": action -> its number of training clips, since 2026-12-05 "songs": a dance
    of the dance set -> its number of training songs (a minute or two each), and since
    2026-12-07 "posture": style -> {"offset": 63 numbers, "energy": a positive number}
    (``tasks.posture``)}, or None."""
    file = Path(path) / STYLES_NAME
    raw = _read_optional_json(file)
    if raw is None:
        return None
    counts = ("clips", "songs")
    allowed = {"actions", "words", "pace", "posture", *counts}
    if (
        not isinstance(raw, dict)
        or not {"actions", "words"} <= set(raw) <= allowed
        or not all(_lists_of_strings(raw[k]) for k in ("actions", "words"))
        or not isinstance(pace := raw.get("pace", {}), dict)
        or not all(_positive_number(v) for v in pace.values())
        or not all(isinstance(raw.get(k, {}), dict) for k in counts)
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for k in counts
            for v in raw.get(k, {}).values()
        )  # fmt: skip
        or not _postures(raw.get("posture", {}))
    ):
        raise FormatError(
            f"{file} must hold actions (action -> style names), words (style -> words) and "
            "optionally pace (style -> a positive number), clips and songs (action -> a "
            "positive whole number) and posture (style -> offset, 63 numbers, and energy, a "
            "positive number)"
        )
    return raw


def _postures(posture: Any) -> bool:
    """Whether ``posture`` is style -> {"offset": 63 finite numbers (the features' local
    joint positions), "energy": > 0}."""
    from motiongen.features import LOCAL_POS

    return isinstance(posture, dict) and all(
        isinstance(v, dict)
        and set(v) == {"offset", "energy"}
        and isinstance(v["offset"], list)
        and len(v["offset"]) == LOCAL_POS.stop - LOCAL_POS.start
        and all(_finite_number(x) for x in v["offset"])
        and _positive_number(v["energy"])
        for v in posture.values()
    )


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive_number(value: Any) -> bool:
    return _finite_number(value) and value > 0


def _lists_of_strings(raw: Any) -> bool:
    return isinstance(raw, dict) and all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(t, str) for t in v)
        for k, v in raw.items()
    )


def save_checkpoint(
    path: str | Path, config: CheckpointConfig, model: nn.Module, norm: NormStats
) -> Path:
    """Write a generator checkpoint folder (``write_model_folder``)."""
    return write_model_folder(path, model, norm, config.to_json(), FORMAT)


def _strict(cls: type, data: Any, what: str) -> Any:
    """A dataclass from a dict where every field must be present and no other key."""
    if not isinstance(data, dict):
        raise FormatError(f"{what} must be a JSON object, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(data) - set(names))
    # A field with a default may be left out (a key added later, e.g. conditioning.steps).
    required = [
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    ]
    missing = [n for n in required if n not in data]
    if unknown or missing:
        parts = ([f"unknown keys {unknown}"] if unknown else []) + (
            [f"missing keys {missing}"] if missing else []
        )
        raise FormatError(f"{what} has {' and '.join(parts)}")
    try:
        return cls(**data)
    except (TypeError, ValueError) as err:
        raise FormatError(f"{what} is invalid ({err})") from err


def upgrade_config(raw: dict[str, Any]) -> dict[str, Any]:
    """A version-1 config as version 2: every conditioning key written out (v1 readers took
    a missing guidance as the process default, fps as 20 and window as 196)."""
    if raw.get("version") == VERSION:
        return raw
    if raw.get("version") != 1:
        raise FormatError(f"cannot upgrade checkpoint format version {raw.get('version')}")
    from motiongen.generative import process_class

    cond = {
        "guidance": None,
        "max_tokens": 64,
        "fps": 20.0,
        "window": 196,
        **raw.get("conditioning", {}),
    }
    cond.setdefault("text_model", None)
    cond.setdefault("text_dim", int(raw.get("model", {}).get("text_dim", 0)))
    cond.setdefault("audio_dim", int(raw.get("model", {}).get("audio_dim", 0)))
    _, config_class = process_class(raw["process"])
    process_config = {**config_class().to_dict(), **raw.get("process_config", {})}
    return {
        **raw,
        "version": VERSION,
        "process_config": process_config,
        "conditioning": cond,
        "training": {**raw.get("training", {}), "upgraded_from_version": 1},
    }


def upgrade_checkpoint(path: str | Path) -> bool:
    """Rewrite ``path/config.json`` in the current version and record a SHA-256 manifest
    when there is none; False if the folder was already current."""
    from motiongen.integrity import MANIFEST_NAME

    path = Path(path)
    cfg_path = path / CONFIG_NAME
    raw = _read_json(cfg_path)
    has_manifest = (path / MANIFEST_NAME).is_file()
    if raw.get("version") == VERSION and has_manifest:
        return False
    if raw.get("version") != VERSION:
        new = upgrade_config(raw)
        read_config_dict(new, cfg_path)  # must read back cleanly before it replaces the old one
        tmp = cfg_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(new, indent=2))
        tmp.replace(cfg_path)
    record_manifest(path)
    return True


def _not_a_checkpoint(folder: Path) -> str:
    """What a folder that is not a checkpoint is instead, and which checkpoint to name."""
    if folder.is_file():
        return f"{folder} is a file; a checkpoint is a folder (or a shipped model's name)"
    made = [n for n in ("best", "final") if (folder / n / CONFIG_NAME).is_file()]
    if made:  # a training run's folder
        return f"{folder} is a training run; its checkpoints are " + " and ".join(
            str(folder / n) for n in made
        )
    if (folder / "state.json").is_file():  # last/ or prev/ of a run
        return (
            f"{folder} is a training state (`motiongen train --resume` continues it); the "
            f"run's checkpoints are {folder.parent / 'best'} and {folder.parent / 'final'}"
        )
    return ""


def _read_json(cfg_path: Path) -> dict[str, Any]:
    if cfg_path.name == CONFIG_NAME and (what := _not_a_checkpoint(cfg_path.parent)):
        raise DataNotFoundError(what)
    if not cfg_path.is_file():
        raise DataNotFoundError(
            f"{cfg_path.parent} is not a checkpoint: {CONFIG_NAME} is missing (an interrupted save?)"
        )
    try:
        raw = json.loads(cfg_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise FormatError(f"checkpoint config {cfg_path} is not valid JSON ({err})") from err
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise FormatError(f"{cfg_path} is not a motiongen checkpoint config")
    return raw


def read_config_dict(raw: dict[str, Any], cfg_path: Path) -> CheckpointConfig:
    """A ``CheckpointConfig`` from a config's JSON, strictly (see ``_strict``)."""
    from motiongen.generative import process_class
    from motiongen.generative.process import config_from_dict

    if raw.get("version") != VERSION:
        hint = (
            f"; upgrade it once with `motiongen checkpoint upgrade {cfg_path.parent}`"
            if raw.get("version") == 1
            else ""
        )
        raise FormatError(
            f"checkpoint {cfg_path.parent} has format version {raw.get('version')}; this "
            f"motiongen reads version {VERSION}{hint}"
        )
    top = {"format", "version", "architecture", "model", "process", "process_config",
           "conditioning", "training"}  # fmt: skip
    unknown = sorted(set(raw) - top)
    missing = sorted(k for k in top if k not in raw)
    if unknown or missing:
        raise FormatError(
            f"checkpoint config {cfg_path}: unknown keys {unknown}, missing keys {missing}"
        )
    if not isinstance(raw["model"], dict) or not isinstance(raw["training"], dict):
        raise FormatError(f"checkpoint config {cfg_path}: model and training must be objects")
    try:
        _, config_class = process_class(str(raw["process"]))
    except MotionGenError as err:
        raise FormatError(f"checkpoint config {cfg_path}: {err}") from err
    fields_of = {f.name for f in fields(config_class)}
    if isinstance(raw["process_config"], dict) and set(raw["process_config"]) != fields_of:
        raise FormatError(
            f"checkpoint config {cfg_path}: process_config keys {sorted(raw['process_config'])} "
            f"differ from the {raw['process']} process's {sorted(fields_of)}"
        )
    return CheckpointConfig(
        architecture=str(raw["architecture"]),
        model=raw["model"],
        process=str(raw["process"]),
        process_config=config_from_dict(
            config_class, raw["process_config"], f"checkpoint config {cfg_path}: process_config"
        ),
        conditioning=_strict(
            ConditioningSpec, raw["conditioning"], f"checkpoint config {cfg_path}: conditioning"
        ),
        training=raw["training"],
    )


def read_config(path: str | Path) -> CheckpointConfig:
    path = Path(path)
    if not path.exists():
        names = ", ".join(shipped_model_names())
        raise DataNotFoundError(
            f"no checkpoint at {path}; give a checkpoint folder or a shipped model's name"
            f"{': ' + names if names else ''}"
        )
    if path.is_file() and path.name != CONFIG_NAME:
        raise DataNotFoundError(_not_a_checkpoint(path))
    cfg_path = path / CONFIG_NAME if path.is_dir() else path
    return read_config_dict(_read_json(cfg_path), cfg_path)


def load_checked_state(
    model: torch.nn.Module,
    weights_path: Path,
    what: str,
    *,
    nan_hint: str = "the file is damaged or the training diverged",
    device: str = "cpu",
) -> dict[str, torch.Tensor]:
    """``model``'s state from a safetensors file, checked before use: readable, the same
    tensor names and shapes as ``model``, no NaN or infinite values. ``what`` names the file's
    owner in the messages (e.g. "checkpoint runs/x")."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(weights_path), device=device)
    except (SafetensorError, OSError, ValueError) as err:
        raise FormatError(f"{what}: weights {weights_path} are missing or corrupt ({err})") from err
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise FormatError(
            f"{what} does not match its config: missing {missing[:3]}, "
            f"unexpected {unexpected[:3]} (weights saved from another model?)"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise FormatError(
                f"{what}: tensor {name} has shape {tuple(tensor.shape)}, the config "
                f"implies {tuple(expected[name].shape)}"
            )
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise FormatError(f"{what}: tensor {name} contains NaN or infinite values; {nan_hint}")
    return state


def load_checkpoint(path: str | Path, *, device: str = "cpu") -> Checkpoint:
    """Rebuild the network from ``path`` (a folder or a shipped model's name) and load its
    weights, checking them first."""
    from motiongen.models import build_model

    path = resolve_checkpoint(path)
    config = read_config(path)
    verify_manifest(path, f"checkpoint {path}")
    model = build_model(config.architecture, config.model)
    weights_path = path / WEIGHTS_NAME
    if not weights_path.is_file():
        raise DataNotFoundError(f"checkpoint {path} has no {WEIGHTS_NAME}")
    state = load_checked_state(
        model,
        weights_path,
        f"checkpoint {path}",
        nan_hint="the training diverged or the file is damaged — use an earlier checkpoint",
        device=device,
    )
    model.load_state_dict(state)
    model.eval()
    norm_path = path / NORM_NAME
    if not norm_path.is_file():
        raise DataNotFoundError(f"checkpoint {path} has no {NORM_NAME} (normalisation stats)")
    norm = NormStats.load(norm_path)
    return Checkpoint(
        config=config,
        model=model.to(device),
        norm=norm,
        path=path,
        vocabulary=read_vocabulary(path),
        action_styles=read_action_styles(path),
    )
