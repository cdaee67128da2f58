"""The shipped models, each loaded once per worker process."""

from __future__ import annotations

import threading
from typing import Any

from motiongen.checkpoint import DEFAULT_MODEL, rag_model_for, shipped_model_names
from motiongen.errors import InputError
from motiongen.pipeline import SHIPPED_MODELS_DIR, Pipeline

DEFAULT_MODEL_NAME = DEFAULT_MODEL


def model_samplers() -> dict[str, tuple[str, ...]]:
    """Shipped model -> the samplers its process offers (read from the configs, no weights)."""
    from motiongen.checkpoint import read_config
    from motiongen.generative import process_class

    out = {}
    for name in shipped_model_names():
        cls, _ = process_class(read_config(SHIPPED_MODELS_DIR / name).process)
        out[name] = tuple(cls.samplers)
    return out


class ModelRegistry:
    """Pipelines by name; all shipped models are loaded at start-up (``load_all``)."""

    def __init__(
        self, default: str, *, index: str | None = None, reranker: str | None = None
    ) -> None:
        self.names = shipped_model_names()
        if default not in self.names:
            raise InputError(
                f"model {default!r} is not shipped; choose one of {', '.join(self.names) or '-'}"
            )
        self.default = default
        # Retrieval (use_rag): the index folder and reranker models with a prior input use
        # (None: generation.rag's default index, dense order).
        self.index = index
        self.reranker = reranker
        self._pipes: dict[str, Pipeline] = {}
        self._lock = threading.Lock()

    def load_all(self) -> None:
        for name in self.names:
            pipe = self.get(name)
            if pipe.text_dim:
                _ = pipe.text_encoder  # the encoder loads here, not in the first request
                pipe.load_retrieval()  # so do the index and its wordings

    def resolve(self, name: str | None) -> str:
        """The model name to use; ``InputError`` (422) for an unknown one."""
        if name is None:
            return self.default
        if name not in self.names:
            raise InputError(
                f"unknown model {name!r}; choose one of {', '.join(self.names)} (GET /models)"
            )
        return name

    def get(self, name: str | None = None) -> Pipeline:
        name = self.resolve(name)
        with self._lock:
            if name not in self._pipes:
                pipe = Pipeline.from_pretrained(name)
                pipe.index_source = (self.index, self.reranker)
                self._pipes[name] = pipe
            return self._pipes[name]

    def rag_default(self) -> str:
        """The model a use_rag request without a model runs on (``checkpoint.rag_model_for``:
        the default if it has a retrieval prior, else the shipped ``tiny-rag``)."""
        try:
            return rag_model_for(self.default)
        except InputError:
            raise InputError(
                "use_rag: no shipped model has a retrieval prior on this server; leave use_rag "
                "false"
            ) from None

    def info(self) -> list[dict[str, Any]]:
        rows = []
        for name in self.names:
            pipe = self.get(name)
            g = pipe.default_guidance
            rows.append(
                {
                    "name": name,
                    "process": pipe.process_name,
                    "default_steps": pipe.default_steps,
                    "sampler": pipe.default_sampler,
                    "samplers": list(pipe.samplers),
                    "default_guidance": list(g) if isinstance(g, tuple) else float(g),
                    "fps": pipe.fps,
                    "window_seconds": pipe.window / pipe.fps,
                    "text": bool(pipe.text_dim),
                    "music": bool(pipe.audio_dim),
                    "retrieval": bool(pipe.prior_dim),
                }
            )
        return rows
