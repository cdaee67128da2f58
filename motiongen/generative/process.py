"""The one interface every generative process implements, and the registry that builds them.

A process knows how to turn data into a training example for a network (``training_pair``),
how to read a clean-data estimate back from a prediction (``clean_estimate``), how to carry
known values to any noise level (``known_coefficients``) and how to sample
(``sample``), plus its defaults: steps, samplers offered (the first is the default) and
guidance scale. The pipeline, the trainer and the service only ever talk to this interface.

Adding a process is one module in ``motiongen/generative/`` that defines a config dataclass
and a class decorated with ``@register_process``, and its test: ``build_process`` finds every
module of the package the first time an unknown name is asked for. Adding a sampler to an
existing process is a change to that process's module only (``samplers`` and ``sample``).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import torch
from torch import Tensor

from motiongen.errors import FormatError, InputError

PredictFn = Callable[[Tensor, Tensor], Tensor]  # (x (B, ...), t (B,)) -> prediction like x
PostStep = Callable[[Tensor, float], Tensor]  # (x after a step, its time) -> x


@dataclass
class TrainingPair:
    """One training example of a process for data x (B, T, D).

    xt: the network input; t: the network time (B,); target: what the network should output;
    aux_weight: (B,) weight of auxiliary losses on the clean estimate, ~1 near the data and
    ~0 at pure noise, where such an estimate says nothing useful.
    """

    xt: Tensor
    t: Tensor
    target: Tensor
    aux_weight: Tensor


@runtime_checkable
class Process(Protocol):
    """A generative process (see the module docstring)."""

    name: ClassVar[str]
    default_steps: ClassVar[int]
    samplers: ClassVar[tuple[str, ...]]  # the first is the default
    default_guidance: ClassVar[float]
    config: Any  # the process's config dataclass (``to_dict()`` is saved in checkpoints)

    def training_pair(
        self, x: Tensor, noise: Tensor, *, generator: torch.Generator | None = None
    ) -> TrainingPair: ...

    def clean_estimate(self, xt: Tensor, t: Tensor, pred: Tensor) -> Tensor: ...

    def known_coefficients(self, t: float) -> tuple[float, float]: ...

    def evaluations(self, steps: int, sampler: str, t0: float = 0.0) -> int: ...

    def sample(
        self,
        predict: PredictFn,
        noise: Tensor,
        *,
        steps: int,
        sampler: str,
        generator: torch.Generator | None = None,
        post_step: PostStep | None = None,
    ) -> Tensor: ...


_PROCESSES: dict[str, tuple[type, type]] = {}  # name -> (process class, config class)
P = TypeVar("P")


def register_process(config_class: type) -> Callable[[type[P]], type[P]]:
    """Class decorator: make a process buildable by its ``name`` from ``config_class``."""

    def register(cls: type[P]) -> type[P]:
        _PROCESSES[cls.name] = (cls, config_class)  # type: ignore[attr-defined]
        return cls

    return register


def _discover() -> None:
    import motiongen.generative as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def process_names() -> list[str]:
    """Every registered process."""
    _discover()
    return sorted(_PROCESSES)


def process_class(name: str) -> tuple[type, type]:
    """(process class, config class) of a registered process; ``InputError`` if unknown."""
    if name not in _PROCESSES:
        _discover()
    if name not in _PROCESSES:
        raise InputError(f"unknown generative process {name!r}; choose one of {process_names()}")
    return _PROCESSES[name]


def config_from_dict(config_class: type, data: dict[str, Any], what: str) -> Any:
    """A config dataclass from a saved dict, strictly: unknown keys are an error naming them,
    missing keys take the dataclass defaults only when it has them (else an error)."""
    if not isinstance(data, dict):
        raise FormatError(f"{what} must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise FormatError(f"{what} has unknown keys {unknown}; known keys: {sorted(fields)}")
    missing = sorted(
        n
        for n, f in fields.items()
        if n not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    )
    if missing:
        raise FormatError(f"{what} lacks the keys {missing}")
    try:
        return config_class(**data)
    except (TypeError, ValueError, InputError) as err:
        raise FormatError(f"{what} is invalid ({err})") from err


def build_process(name: str, config: Any = None) -> Process:
    """The process ``name`` from its config: a config dataclass, a saved dict (read strictly)
    or None for the defaults."""
    cls, config_class = process_class(name)
    if config is None:
        config = config_class()
    elif isinstance(config, dict):
        config = config_from_dict(config_class, config, f"process config of {name!r}")
    elif not isinstance(config, config_class):
        raise InputError(f"process {name!r} takes a {config_class.__name__}, got {config!r}")
    return cls(config)
