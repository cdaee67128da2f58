"""Training Stick-Gen models on the real data seen as stick figures: pretrain -> SFT -> LoRA.

pretrain: every kept clip of the train split (and its mirror, with left/right swapped in the
  text), the many wordings of its labels as prompts, random windows of up to ``window``
  frames, text dropped 10 % of the time for guidance; AdamW with warm-up and cosine decay.
sft: from a pretrained model, the curated clips only (quality >= 0.8, artifact <= 0.35, the
  generator's SFT subset) at a lower learning rate.
lora: peft LoRA adapters (rank 8, alpha 16, dropout 0.05) on the blocks' attention and
  feed-forward layers, trained on one source's clips (default bandai-1, the other capture
  set) and merged into the weights afterwards.
The flow-matching loss is the generator's (``generative.flow``), on normalised features.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.features import NormStats
from motiongen.stick.features import STICK_FEATURES, motion_stick_features
from motiongen.stickgen.model import FPS, StickGen, network

STAGES = ("pretrain", "sft", "lora")
STATE_NAME = "train_state.pt"  # the resumable state beside the model a run writes


@dataclass
class StickTrainConfig:
    stage: str = "pretrain"
    size: str = "small"
    steps: int = 3000
    batch_size: int = 32
    lr: float = 3e-4  # sft/lora: 1e-4 is typical
    warmup: int = 200
    weight_decay: float = 0.01
    window: int = 120  # frames (6 s at 20 fps)
    p_text: float = 0.1
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.05
    lora_source: str = "bandai-1"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise InputError(f"stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.steps < 1 or self.batch_size < 1 or self.window < 8 or self.warmup < 0:
            raise InputError("steps and batch size must be >= 1, the window >= 8 frames and "
                             "the warm-up >= 0 steps")  # fmt: skip


@dataclass
class StickClip:
    name: str
    source: str
    labels: dict[str, str]
    texts: list[str]
    mirrored_texts: list[str]
    features: np.ndarray  # (T, 22) raw
    mirrored: np.ndarray  # (T, 22) raw, of the mirrored motion


def stick_clips(data: Any, split: str, *, subset: str = "all", source: str | None = None,
                phrasings: bool = True) -> list[StickClip]:  # fmt: skip
    """The kept clips of ``split`` as stick features at 20 fps (``subset`` "sft": curated)."""
    from motiongen.augment import mirror_label
    from motiongen.data.dataset import mirror_positions
    from motiongen.data.text import training_phrasings

    out = []
    for rec in data.select(split=split):
        if source is not None and rec.source != source:  # select() gives kept clips only
            continue
        if subset == "sft" and not (
            rec.artifacts.get("quality", 0.0) >= 0.8 and rec.artifacts.get("artifact", 1.0) <= 0.35
        ):
            continue
        pos = data.motion(rec).resample(FPS).positions
        if len(pos) < 8:
            continue
        texts = list(rec.texts) + (training_phrasings(rec.labels) if phrasings else [])
        texts = texts or [rec.name.replace("_", " ")]
        out.append(StickClip(
            rec.name, rec.source, dict(rec.labels), texts, [mirror_label(t) for t in texts],
            motion_stick_features(pos), motion_stick_features(mirror_positions(pos)),
        ))  # fmt: skip
    return out


def _batch(clips: list[StickClip], bank: Any, norm: NormStats, cfg: StickTrainConfig,
           rng: np.random.Generator, *, drop: bool) -> tuple[torch.Tensor, ...]:  # fmt: skip
    """x (B, W, 22) normalised windows, mask (B, W), text rows (B,), text dropped (B,)."""
    B, W = cfg.batch_size, cfg.window
    x = np.zeros((B, W, STICK_FEATURES), dtype=np.float32)
    mask = np.zeros((B, W), dtype=bool)
    rows = np.zeros(B, dtype=np.int64)
    for b, i in enumerate(rng.integers(len(clips), size=B)):
        c = clips[int(i)]
        flip = rng.random() < 0.5
        feats, texts = (c.mirrored, c.mirrored_texts) if flip else (c.features, c.texts)
        n = min(W, len(feats))
        start = int(rng.integers(0, len(feats) - n + 1))
        x[b, :n] = norm.normalize(feats[start : start + n])
        mask[b, :n] = True
        rows[b] = bank.index[texts[int(rng.integers(len(texts)))]]
    dropped = rng.random(B) < (cfg.p_text if drop else 0.0)
    return (torch.from_numpy(x), torch.from_numpy(mask), torch.from_numpy(rows),
            torch.from_numpy(dropped))  # fmt: skip


def _loss(model: Any, process: Any, bank: Any, batch: tuple, generator: torch.Generator) -> Any:
    from motiongen.models import ModelConditions

    x, mask, rows, dropped = batch
    tmask = bank.mask[rows]
    length = max(int(tmask.sum(dim=1).max()), 1)
    cond = ModelConditions(text_pooled=bank.pooled[rows], text_tokens=bank.tokens[rows, :length],
                           text_mask=tmask[:, :length], drop_text=dropped)  # fmt: skip
    return process.loss(lambda xt, t, c, m: model(xt, t, c, m), x, cond, mask,
                        generator=generator).loss  # fmt: skip


def train_stick(
    data: Any,
    cfg: StickTrainConfig,
    *,
    init: StickGen | None = None,
    text_encoder: Any = None,
    progress: Callable[[int, int, float], None] | None = None,
    log_every: int = 50,
    state_path: str | Path | None = None,
    save_every: int = 50,
) -> tuple[StickGen, dict[str, Any]]:
    """(the trained model, a report with losses, val loss, time and the command's config).

    With ``state_path`` the run saves its whole state there every ``save_every`` steps and, when
    the file already exists, continues from it (same config) instead of starting again: the
    medium and large models train for hours on a CPU and a session can stop at any time.
    """
    from motiongen.data.dataset import TextBank
    from motiongen.generative import build_process
    from motiongen.optim import adamw, warmup_cosine
    from motiongen.train.config import LoRAConfig
    from motiongen.train.trainer import add_lora, merged_copy

    if cfg.stage != "pretrain" and init is None:
        raise InputError(f"stage {cfg.stage} starts from a trained stick model (--init-from)")
    if init is not None and cfg.size != init.size:
        raise InputError(f"--size {cfg.size} does not match the {init.size} model it starts from")
    t0 = time.perf_counter()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    subset = "sft" if cfg.stage == "sft" else "all"
    source = cfg.lora_source if cfg.stage == "lora" else None
    train = stick_clips(data, "train", subset=subset, source=source)
    val = stick_clips(data, "val", source=source, phrasings=False)
    if not train or not val:
        raise DataNotFoundError(f"no {cfg.stage} clips (train {len(train)}, val {len(val)})")
    if text_encoder is None:
        from motiongen.conditioning.text import TextEncoder

        text_encoder = TextEncoder.from_default()
    texts = sorted({t for c in train + val for t in c.texts + c.mirrored_texts})
    bank = TextBank.build(texts, text_encoder, cache=getattr(data, "root", None))
    if init is None:
        norm = NormStats.compute([c.features for c in train] + [c.mirrored for c in train])
        model = network(cfg.size, int(bank.pooled.shape[1]))
    else:
        norm, model = init.norm, init.model
        model = merged_copy(model)
    if cfg.stage == "lora":
        lora = LoRAConfig(rank=cfg.lora_rank, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout)
        model = add_lora(model, SimpleNamespace(lora=lora))
    process = build_process("flow")
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = adamw(model, lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    val_rng = np.random.default_rng(1234)
    val_batches = [_batch(val, bank, norm, cfg, val_rng, drop=False) for _ in range(4)]

    def val_loss() -> float:
        model.eval()
        g = torch.Generator().manual_seed(99)
        with torch.no_grad():
            out = float(np.mean([_loss(model, process, bank, b, g).item() for b in val_batches]))
        model.train()
        return out

    losses: list[float] = []
    running: list[float] = []
    start, spent = 0, 0.0  # spent: training minutes of earlier segments of a resumed run
    state_file = Path(state_path) if state_path is not None else None
    if state_file is not None and state_file.exists():
        state = _load_state(state_file)
        if state["config"] != asdict(cfg):
            raise InputError(
                f"{state_file} was saved by a run with another configuration "
                f"({_config_difference(state['config'], asdict(cfg))}); resume with the "
                f"options it was started with, or delete {state_file} to start again"
            )  # fmt: skip
        if not np.allclose(state.get("norm_mean", norm.mean), norm.mean):
            raise InputError(f"{state_file} was saved by a run started from another model; "
                             f"resume with the --init-from it was started with")  # fmt: skip
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["rng"]
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])  # dropout
        start, spent, losses, running = (state["step"], state["minutes"], state["losses"],
                                         state["running"])  # fmt: skip
        report: dict[str, Any] = state["report"] | {"resumed_at": start}
    else:
        report = {"config": asdict(cfg), "train_clips": len(train), "val_clips": len(val),
                  "val_loss_start": val_loss()}  # fmt: skip
    segment_t0 = time.perf_counter()

    def save_state(step: int) -> None:
        assert state_file is not None
        tmp = state_file.with_suffix(".tmp")
        torch.save({"config": asdict(cfg), "step": step, "model": model.state_dict(),
                    "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                    "generator": gen.get_state(), "torch_rng": torch.get_rng_state(), "losses": losses, "running": running,
                    "report": report, "norm_mean": norm.mean,
                    "minutes": spent + (time.perf_counter() - segment_t0) / 60}, tmp)  # fmt: skip
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, state_file)  # a stop while writing leaves the previous state whole

    model.train()
    for step in range(start, cfg.steps):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * warmup_cosine(step, warmup=cfg.warmup, total=cfg.steps,
                                                 min_ratio=0.05)  # fmt: skip
        loss = _loss(model, process, bank, _batch(train, bank, norm, cfg, rng, drop=True), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
            losses.append(float(np.mean(running)))
            running = []
            if progress is not None:
                progress(step + 1, cfg.steps, losses[-1])
        if state_file is not None and ((step + 1) % save_every == 0 or step + 1 == cfg.steps):
            save_state(step + 1)
    model = merged_copy(model).eval()
    for p in model.parameters():
        p.requires_grad = True
    report |= {"val_loss": val_loss(), "losses": [round(v, 4) for v in losses],
               "minutes": round(spent + (time.perf_counter() - segment_t0) / 60, 1),
               "minutes_with_setup": round((time.perf_counter() - t0) / 60, 1),
               "log_every": log_every,
               "params": sum(p.numel() for p in model.parameters()),
               "trained_params": sum(p.numel() for p in trainable)}  # fmt: skip
    model.eval()
    info = dict(init.info) if init is not None else {}
    info.setdefault("stages", []).append({k: v for k, v in report.items() if k != "losses"})
    return StickGen(model, norm, size=cfg.size if init is None else init.size, info=info,
                    text_encoder=text_encoder), report  # fmt: skip


def _load_state(path: Path) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises several kinds for a cut or foreign file
        raise FormatError(f"{path} is not a readable training state ({type(err).__name__}); "
                          f"delete it to start the run again") from err  # fmt: skip
    if not isinstance(state, dict) or "step" not in state or "config" not in state:
        raise FormatError(f"{path} is not a stick training state; delete it to start again")
    return state


def _config_difference(saved: dict[str, Any], now: dict[str, Any]) -> str:
    return ", ".join(f"{k} {saved.get(k)!r} then, {now.get(k)!r} now"
                     for k in sorted(now) if saved.get(k) != now.get(k))  # fmt: skip
