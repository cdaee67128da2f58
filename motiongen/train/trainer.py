"""The training loop on accelerate: one function, ``train(config)``, for every stage.

Stages (``config.stage``): ``pretrain`` (from scratch or ``init_from``), ``sft`` (from
``init_from``, usually with the curated subset and a lower lr), ``lora`` (peft LoRA adapters
on the attention and feed-forward layers of ``init_from``; the saved inference checkpoint
holds merged weights, so ``load_checkpoint`` reads it like any other).

Outputs in ``run_dir``: ``last/`` (resumable training state, see ``train/state.py``),
``best/`` (inference checkpoint of the best EMA validation loss), ``final/`` (inference
checkpoint at the end), ``metrics.jsonl``, ``tb/`` (TensorBoard), ``loss.png``.

Multi-process: start with ``torchrun --nproc_per_node N -m motiongen.cli.train ...``; the
Accelerator reads the environment and wraps the network in DDP, every process draws its own
batches (seed + rank) and the main process writes the files.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from motiongen.checkpoint import (
    STYLE_DIR_NAME,
    CheckpointConfig,
    ConditioningSpec,
    load_checkpoint,
    save_checkpoint,
    write_vocabulary,
)
from motiongen.data.text import (
    action_clips,
    action_songs,
    action_styles,
    action_vocabulary,
    style_words,
)
from motiongen.errors import InputError, MotionGenError
from motiongen.features import FEATURE_DIM, NormStats
from motiongen.generative.process import Process, build_process
from motiongen.models import ARCHITECTURES, build_model
from motiongen.optim import adamw, warmup_cosine
from motiongen.tasks.pace import style_pace
from motiongen.tasks.posture import style_posture
from motiongen.train.config import TrainConfig
from motiongen.train.data import (
    Batch,
    BatchStream,
    TrainData,
    text_model_name,
    validation_batches,
)
from motiongen.train.losses import Rollout, TrainingLoss
from motiongen.train.state import find_state, load_state, lock_run_dir, save_state, state_norm

logger = logging.getLogger(__name__)


class TrainingDiverged(MotionGenError):
    """The loss or the gradient became NaN or infinite."""


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_val: float | None
    final: Path | None  # inference checkpoint written at the end (None if stopped early)
    best: Path | None
    wall_seconds: float
    resumed_from: int | None  # the step a resumed run started at


def make_process(cfg: TrainConfig) -> Process:
    """The generative process the config names, built through the process registry."""
    process = build_process(cfg.process.name, cfg.process.process_config())
    if hasattr(process, "t_max"):
        process.t_max = cfg.process.t_max
    return process


def lr_factor(step: int, cfg: TrainConfig, time_fraction: float = 0.0) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine to ``min_lr_ratio`` at ``max_steps``.

    time_fraction: training time / ``max_minutes``; with ``optim.decay_by_time`` the cosine
    runs on max(step fraction, time fraction), so the lr reaches its floor by the time cap
    even on a machine slower than planned.
    """
    o = cfg.optim
    by_time = o.decay_by_time and cfg.max_minutes > 0
    return warmup_cosine(
        step,
        warmup=o.warmup_steps,
        total=o.max_steps,
        min_ratio=o.min_lr_ratio,
        progress_floor=time_fraction if by_time else 0.0,
    )


def build_network(
    cfg: TrainConfig, text_dim: int, audio_dim: int, style_dim: int = 0, prior_dim: int = 0
) -> tuple[str, nn.Module]:
    m = cfg.model
    if m.architecture not in ARCHITECTURES:
        raise InputError(f"unknown model.architecture {m.architecture!r}")
    _, config_class = ARCHITECTURES[m.architecture]
    overrides = dict(m.overrides)
    if cfg.tasks.enabled:
        overrides.update(_control_overrides(m.architecture))
    if style_dim:
        if m.architecture != "dit":
            raise InputError("a style input (conditioning.style) needs the dit architecture")
        overrides["style_dim"] = style_dim
    if prior_dim:
        if m.architecture != "dit":
            raise InputError(
                "a retrieval prior (conditioning.rag_index) needs the dit architecture"
            )
        overrides["prior_dim"] = prior_dim
    net_cfg = config_class.preset(
        m.preset, feature_dim=FEATURE_DIM, text_dim=text_dim, audio_dim=audio_dim, **overrides
    )
    return m.architecture, build_model(m.architecture, net_cfg.to_dict())


def _control_overrides(architecture: str) -> dict[str, int]:
    from motiongen.tasks import CONTROL_DIM, TASKS

    if architecture != "dit":
        raise InputError("control tasks (tasks.enabled) need the dit architecture")
    return {"control_dim": CONTROL_DIM, "num_tasks": len(TASKS)}


def with_control(model: nn.Module) -> nn.Module:
    """A legacy MotionDiT as a control network computing the same function (its per-frame
    known mask widened to per-value masks with world channels, a zero task embedding)."""
    from motiongen.models.dit import MotionDiT, MotionDiTConfig, expand_for_control

    old = model.config
    if getattr(old, "control_dim", 0):
        return model
    new = MotionDiTConfig.from_dict({**old.to_dict(), **_control_overrides("dit")})
    control = MotionDiT(new)
    control.load_state_dict(expand_for_control(model.state_dict(), old, new))
    return control


def with_setting(model: nn.Module, field: str, value: Any, new_keys: set[str]) -> nn.Module:
    """A MotionDiT with config ``field`` set to ``value`` (an input added, or its output read
    another way), every weight carried over; the layers it adds (``new_keys`` of the state
    dict) start as they initialise. The model itself when ``field`` already has ``value``."""
    from motiongen.models.dit import MotionDiT, MotionDiTConfig

    old = model.config
    have = getattr(old, field, 0)
    if have == value:
        return model
    if have:
        raise InputError(f"init_from has {field} = {have} but this run needs {value}")
    if not isinstance(model, MotionDiT):
        raise InputError(f"{field} needs the dit architecture")
    grown = MotionDiT(MotionDiTConfig.from_dict({**old.to_dict(), field: value}))
    missing, unexpected = grown.load_state_dict(model.state_dict(), strict=False)
    if unexpected or set(missing) != new_keys:
        raise InputError(f"cannot set {field}: missing {missing}, unexpected {unexpected}")
    return grown


def with_style(model: nn.Module, style_dim: int) -> nn.Module:
    """A MotionDiT with a style input of ``style_dim`` added (the projection starts at 0)."""
    return with_setting(model, "style_dim", style_dim, {"style_embed.weight"})


def with_prior(model: nn.Module, prior_dim: int) -> nn.Module:
    """A MotionDiT with a retrieval-prior input added (projection and flag start at 0)."""
    keys = {"prior_proj.weight", "prior_proj.bias", "prior_on"}
    return with_setting(model, "prior_dim", prior_dim, keys)


def with_clean_skip(model: nn.Module) -> nn.Module:
    """The same network (same weights) reading its skip gate without a noise path
    (``MotionDiTConfig.clean_skip``): where x_t is the estimate's own signal it gives the
    same estimate; the noise it leaked into its output is gone."""
    return with_setting(model, "clean_skip", True, set())


def with_frame_lowpass(model: nn.Module) -> nn.Module:
    """The network with a learned low-pass along its output frames
    (``MotionDiTConfig.frame_lowpass``), started at layers.FrameLowpass's defaults."""
    return with_setting(model, "frame_lowpass", True, {"frame_lowpass.a", "frame_lowpass.b"})


def add_lora(model: nn.Module, cfg: TrainConfig) -> nn.Module:
    """Wrap ``model`` with peft LoRA adapters on its attention / feed-forward linears."""
    from peft import LoraConfig, inject_adapter_in_model

    names = set(cfg.lora.target_modules)
    targets = [
        n
        for n, mod in model.named_modules()
        if isinstance(mod, nn.Linear) and n.startswith("blocks.") and n.split(".")[-1] in names
    ]
    if not targets:
        raise InputError(
            f"lora.target_modules {sorted(names)} match no linear layer in the blocks of this model"
        )
    lora = LoraConfig(
        r=cfg.lora.rank,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=targets,
    )
    model = inject_adapter_in_model(lora, model)
    for name, p in model.named_parameters():
        p.requires_grad = "lora_" in name
    return model


def merged_copy(model: nn.Module) -> nn.Module:
    """A plain network with LoRA adapters (if any) merged into the base weights."""
    model = copy.deepcopy(model)
    from peft.tuners.lora import LoraLayer

    if not any(isinstance(m, LoraLayer) for m in model.modules()):
        return model
    for name, module in list(model.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, module.get_base_layer())
    return model


def _weights_hash(model: nn.Module) -> str:
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class Trainer:
    """Holds everything of one run; ``run()`` trains to ``optim.max_steps``."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, command: str = "") -> None:
        from accelerate import Accelerator

        self.cfg = cfg
        self.command = command
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        # Without a GPU, accelerate only forms a multi-process (gloo) group when told cpu=True.
        self.acc = Accelerator(
            gradient_accumulation_steps=cfg.optim.grad_accum, cpu=not torch.cuda.is_available()
        )
        self.rank = self.acc.process_index
        self.world = self.acc.num_processes
        self.run_dir = Path(cfg.run_dir)
        self.lock = lock_run_dir(self.run_dir) if self.acc.is_main_process else None
        state_path = find_state(self.run_dir)
        if state_path is not None and not resume:
            raise InputError(
                f"{self.run_dir} already holds a training state; pass --resume to continue it "
                "or choose another run_dir"
            )
        finished = [n for n in ("best", "final") if (self.run_dir / n / "config.json").is_file()]
        if state_path is None and finished:
            # its training state was deleted (to save disk): starting over would overwrite
            # the models it made and its metrics
            raise InputError(
                f"{self.run_dir} holds the models of an earlier run ({' and '.join(finished)}/) "
                "but no training state to resume (last/, prev/); choose another run_dir, or "
                f"fine-tune one with --init-from {self.run_dir / finished[-1]}"
            )
        self.state_path = state_path if resume else None
        torch.manual_seed(cfg.seed)  # the same initial weights on every process
        t0 = time.perf_counter()

        init = None
        # A fine-tuned model keeps its parent's sampling defaults: guidance, steps, sampler,
        # per-task settings, and whether it retrieves a prior and where sampling starts from
        # it (lost, a fine-tune of the default was evaluated from noise: val FID 0.121 where
        # with them 0.048, a researcher's trial). A reflow student gets its own guidance,
        # steps and sampler (few Euler steps, the guidance baked into its pairs).
        self.sampling: dict[str, Any] = {}  # ConditioningSpec's sampling defaults
        if cfg.init_from:
            init = load_checkpoint(cfg.init_from)
            spec = init.config.conditioning
            self.sampling = {"guidance": spec.guidance, "steps": spec.steps,
                             "sampler": spec.sampler, "tasks": spec.tasks,
                             "retrieval": spec.retrieval, "prior_start": spec.prior_start}  # fmt: skip
        if cfg.stage == "reflow":
            self.sampling.update(guidance=cfg.reflow.student_guidance,
                                 steps=cfg.reflow.student_steps, sampler=None)  # fmt: skip
        # Normalisation: a resumed run keeps its own, a fine-tuned one its parent's.
        norm = state_norm(self.state_path) if self.state_path is not None else None
        if norm is None and init is not None:
            norm = init.norm
        with self.acc.main_process_first():  # the main process fills the caches
            self.data = TrainData(cfg, norm=norm)
        self.norm: NormStats = self.data.norm
        if init is not None:
            self.architecture = init.config.architecture
            model = init.model.train()
            self._check_init(init)
            if cfg.tasks.enabled:
                model = with_control(model).train()
            if self.data.style_dim:
                model = with_style(model, self.data.style_dim).train()
            if self.data.prior_dim:
                model = with_prior(model, self.data.prior_dim).train()
            if cfg.model.overrides.get("clean_skip"):
                model = with_clean_skip(model).train()
            if cfg.model.overrides.get("frame_lowpass"):
                model = with_frame_lowpass(model).train()
        else:
            self.architecture, model = build_network(
                cfg, self.data.text_dim, self.data.audio_dim, self.data.style_dim,
                self.data.prior_dim,
            )  # fmt: skip
        self.net_config = model.config.to_dict()
        if cfg.stage == "lora":
            model = add_lora(model, cfg)
        self.startup_seconds = time.perf_counter() - t0

        self.process = make_process(cfg)
        mean = torch.as_tensor(self.norm.mean)
        std = torch.as_tensor(self.norm.std)
        rollout = None
        if cfg.stage == "reflow":
            r = cfg.reflow
            rollout = Rollout(weight=r.rollout, steps=r.student_steps, windows=r.rollout_windows)
        self.loss_fn = TrainingLoss(
            self.process, cfg.loss, mean, std, fps=cfg.data.fps, rollout=rollout
        )
        opt = adamw(
            model,
            lr=cfg.optim.lr,
            weight_decay=cfg.optim.weight_decay,
            betas=(cfg.optim.betas[0], cfg.optim.betas[1]),
        )
        self.time_fraction = 0.0  # training time / max_minutes, for optim.decay_by_time
        self.lr_schedule = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: lr_factor(s, cfg, self.time_fraction)
        )
        self.ema = None
        if cfg.ema.enabled:
            from ema_pytorch import EMA

            self.ema = EMA(
                model,
                beta=cfg.ema.beta,
                power=cfg.ema.power,
                update_after_step=cfg.ema.update_after_step,
                update_every=cfg.ema.update_every,
                include_online_model=False,
            )
            self.ema.ema_model.eval()
        # Only model and optimizer go through accelerate: a prepared scheduler would step
        # once per process per optimizer step.
        self.model, self.optimizer = self.acc.prepare(model, opt)
        torch.manual_seed(cfg.seed * 1000 + 700 + self.rank)  # dropout differs per process
        self.batches: Any = BatchStream(
            self.data, seed=cfg.seed * 1000 + self.rank, batch_size=cfg.optim.batch_size
        )
        self.noise_gen = torch.Generator().manual_seed(cfg.seed * 1000 + 500 + self.rank)
        self.val = validation_batches(
            self.data, count=cfg.data.val_batches, batch_size=cfg.optim.batch_size
        )
        if cfg.stage == "reflow":
            self._setup_reflow()
        self.step = 0
        self.best_val: float | None = None
        self.best_step: int | None = None
        self.prior_seconds = 0.0
        self.t_start = time.perf_counter()
        self.resumed_from: int | None = None
        if self.state_path is not None:
            self._restore(self.state_path)

    # ---- setup helpers -------------------------------------------------------------------

    def _setup_reflow(self) -> None:
        """Teacher pairs (made once, on the main process) replace the data stream and the
        validation batches."""
        import numpy as np

        from motiongen.train.reflow import (
            PairStream,
            load_batch,
            lowpass_targets,
            make_pairs,
            without_real,
        )

        r = self.cfg.reflow
        teacher = load_checkpoint(str(r.teacher))
        if not (
            np.allclose(teacher.norm.mean, self.norm.mean)
            and np.allclose(teacher.norm.std, self.norm.std)
        ):
            raise InputError(
                f"teacher {r.teacher} normalises features differently from the student; "
                "distil between models trained on the same prepared data"
            )
        folder = self.run_dir / "pairs"

        def progress(done: int, total: int) -> None:
            if done == total or done % max(1, total // 10) == 0:
                logger.warning("teacher pairs: %d / %d batches", done, total)

        options = dict(steps=r.teacher_steps, sampler=r.teacher_sampler, guidance=r.guidance,
                       p_prior=r.p_prior)  # fmt: skip
        with self.acc.main_process_first():
            if self.acc.is_main_process:
                source = BatchStream(self.data, seed=self.cfg.seed + 4242,
                                     batch_size=self.cfg.optim.batch_size, dropout=False)  # fmt: skip
                if self.cfg.tasks.enabled:  # pairs of every task, in the config's mix
                    source.dataset.task_weights = np.asarray(self.cfg.tasks.weights)
                make_pairs(teacher, source, folder / "train", count=r.pairs,
                           seed=self.cfg.seed, progress=progress, **options)  # fmt: skip
                make_pairs(teacher, iter(self.val), folder / "val",
                           count=min(r.val_pairs, len(self.val)), seed=self.cfg.seed + 1,
                           **options)  # fmt: skip
        train = sorted((folder / "train").glob("shard_*.safetensors"))[: r.pairs]
        val = sorted((folder / "val").glob("shard_*.safetensors"))[: r.val_pairs]
        if self.cfg.loss.real_arm_pace > 0 and (old := without_real(train + val)):
            raise InputError(
                f"loss.real_arm_pace needs the real windows in the teacher pairs, and "
                f"{len(old)} shard(s) in {folder} were made before pairs kept them (e.g. "
                f"{old[0].name}); delete that folder (or use another run_dir) to make them anew"
            )
        hz, fps = r.target_lowpass_hz, self.cfg.data.fps

        def target(batch: Batch) -> Batch:
            return batch if hz is None else lowpass_targets(batch, hz, fps)

        self.batches = PairStream(train, seed=self.cfg.seed * 1000 + self.rank, transform=target)
        self.val = [target(load_batch(p)) for p in val]

    def _check_init(self, init: Any) -> None:
        if init.config.process != self.cfg.process.name:
            raise InputError(
                f"init_from {self.cfg.init_from} is a {init.config.process} model but this "
                f"config trains {self.cfg.process.name}: its network predicts another quantity; "
                f"set process.name={init.config.process} or start from a "
                f"{self.cfg.process.name} checkpoint"
            )
        if init.config.training.get("stage") == "reflow" and self.cfg.stage != "reflow":
            # a researcher's plain fine-tune of the default: grad norms 10-35, the loss 0.47
            # -> 2.08 at step 50, unsaid
            logger.warning(
                "init_from %s is a reflow student (sampled in %s steps); stage %s trains it "
                "on the flow-matching loss, which pulls it back towards a many-step model: "
                "expect a loss spike and changed few-step samples (configs/tiny_flow_rollout."
                "yaml fine-tunes a student as one)",
                self.cfg.init_from,
                init.config.conditioning.steps,
                self.cfg.stage,
            )
        got = (init.config.model.get("text_dim", 0), init.config.model.get("audio_dim", 0))
        want = (self.data.text_dim, self.data.audio_dim)
        if got != want:
            raise InputError(
                f"init_from {self.cfg.init_from} has (text_dim, audio_dim) = {got} but this "
                f"config's conditioning gives {want}; use the same text model and audio setting"
            )

    @property
    def unwrapped(self) -> nn.Module:
        return self.acc.unwrap_model(self.model)

    @property
    def eval_model(self) -> nn.Module:
        return self.ema.ema_model if self.ema is not None else self.unwrapped

    # ---- state ---------------------------------------------------------------------------

    def _gather(self, value: Any) -> list[Any]:
        if self.world == 1:
            return [value]
        from accelerate.utils import gather_object

        return gather_object([value])

    def save_last(self) -> None:
        torch_state, numpy_state = self.batches.state()
        states = self._gather(
            {
                "global": torch.get_rng_state(),
                "sampler": torch_state,
                "noise": self.noise_gen.get_state(),
                "numpy": numpy_state,
            }
        )
        if self.acc.is_main_process:
            rng: dict[str, Tensor] = {}
            for r, s in enumerate(states):
                for k in ("global", "sampler", "noise"):
                    rng[f"rank{r}.{k}"] = s[k]
            ema = None
            if self.ema is not None:
                ema = {k: v for k, v in self.ema.state_dict().items()}
            meta = {
                "step": self.step,
                "best_val": self.best_val,
                "best_step": self.best_step,
                "wall_seconds": self._elapsed(),
                "world_size": self.world,
                "numpy_rng": [s["numpy"] for s in states],
                "lr_schedule": self.lr_schedule.state_dict(),
                "config": self.cfg.to_dict(),
                "command": self.command,
                "architecture": self.architecture,
                "model": self.net_config,
            }
            save_state(
                self.run_dir,
                model=self.unwrapped.state_dict(),
                ema=ema,
                optimizer=self.optimizer.state_dict(),
                rng=rng,
                meta=meta,
                norm=self.norm,
            )
        self.acc.wait_for_everyone()

    def _restore(self, path: Path) -> None:
        st = load_state(path)
        meta = st["meta"]
        if meta.get("architecture") != self.architecture or meta.get("model") != self.net_config:
            raise InputError(
                f"the training state in {path} belongs to another network "
                f"({meta.get('architecture')}); resume with the config it was started with"
            )
        started = (meta.get("config") or {}).get("process", {}).get("name", self.cfg.process.name)
        if started != self.cfg.process.name:
            raise InputError(
                f"the training state in {path} trains {started}, this config "
                f"{self.cfg.process.name}; resume with the process it was started with"
            )
        self.unwrapped.load_state_dict(st["model"])
        if self.ema is not None and st["ema"] is not None:
            self.ema.load_state_dict(st["ema"])
        self.optimizer.load_state_dict(st["optimizer"])
        # "scheduler": the key's name in states written before the rename
        self.lr_schedule.load_state_dict(meta.get("lr_schedule", meta.get("scheduler")))
        self.step = int(meta["step"])
        self.command = meta.get("command") or self.command
        self.best_val = meta.get("best_val")
        self.best_step = meta.get("best_step")
        self.prior_seconds = float(meta.get("wall_seconds", 0.0))
        self.resumed_from = self.step
        rng = st["rng"]
        if meta.get("world_size") == self.world:
            torch.set_rng_state(rng[f"rank{self.rank}.global"])
            self.noise_gen.set_state(rng[f"rank{self.rank}.noise"])
            self.batches.load_state(rng[f"rank{self.rank}.sampler"], meta["numpy_rng"][self.rank])
        else:  # another process count: same weights and schedule, fresh random streams
            logger.warning(
                "resuming with %d processes, the state was saved with %s; data order restarts",
                self.world,
                meta.get("world_size"),
            )
            torch.manual_seed(self.cfg.seed + self.rank + 7919 * self.step)

    def checkpoint_config(self, *, val_loss: float | None) -> CheckpointConfig:
        cfg = self.cfg
        return CheckpointConfig(
            architecture=self.architecture,
            model=self.net_config,
            process=cfg.process.name,
            process_config=self.process.config,
            conditioning=ConditioningSpec(
                text_model=text_model_name(cfg) if self.data.text_dim else None,
                text_dim=self.data.text_dim,
                max_tokens=cfg.conditioning.max_tokens,
                audio_dim=self.data.audio_dim,
                fps=cfg.data.fps,
                window=cfg.data.window,
                **self.sampling,
            ),
            training={
                "command": self.command,
                "stage": cfg.stage,
                "step": self.step,
                "max_steps": cfg.optim.max_steps,
                "ema": cfg.ema.enabled,
                "val_loss": val_loss,
                "best_step": self.best_step,
                "wall_seconds": round(self._elapsed(), 1),
                "processes": self.world,
                "weights_sha256_per_process": getattr(self, "rank_hashes", None),
                "threads_per_process": torch.get_num_threads(),
                "batch_size": cfg.optim.batch_size * cfg.optim.grad_accum * self.world,
                "init_from": cfg.init_from,
                "data": {
                    "prepared": str(self.data.data.root),
                    "fingerprint": self.data.data.fingerprint,
                    "train_clips": len(self.data.train_clips),
                    "train_frames": self.data.train_frames,
                    "val_clips": len(self.data.val_clips),
                },
                "config": cfg.to_dict(),
            },
        )

    def save_inference(self, name: str, *, val_loss: float | None) -> Path | None:
        path = None
        if self.acc.is_main_process:
            model = merged_copy(self.eval_model).eval()
            path = save_checkpoint(
                self.run_dir / name, self.checkpoint_config(val_loss=val_loss), model, self.norm
            )
            if self.data.text_dim:
                clips = self.data.train_clips
                labels = [c.labels for c in clips]
                fps = self.cfg.data.fps
                pace = style_pace((c.labels, c.positions, fps) for c in clips)
                posture = style_posture((c.labels, c.positions, fps) for c in clips)
                write_vocabulary(path, action_vocabulary(labels), action_styles(labels),
                                 style_words(), pace, action_clips(labels),
                                 action_songs(labels), posture)  # fmt: skip
            if self.data.style_encoder is not None:
                self.data.style_encoder.save(path / STYLE_DIR_NAME)
        self.acc.wait_for_everyone()
        return path

    # ---- loop ----------------------------------------------------------------------------

    def _model_fn(self, model: nn.Module):
        return lambda x, t, cond, mask: model(x, t, cond, mask)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean loss terms on the fixed validation batches with the EMA (and raw) weights."""
        out: dict[str, float] = {}
        models = {"val": self.eval_model}
        if self.ema is not None:
            models["val_raw"] = self.unwrapped
        for prefix, model in models.items():
            was_training = model.training
            model.eval()
            sums = torch.zeros(2, dtype=torch.float64)
            for i in range(self.rank, len(self.val), self.world):
                b: Batch = self.val[i]
                gen = torch.Generator().manual_seed(10_000 + i)
                terms = self.loss_fn(
                    self._model_fn(model),
                    b.x,
                    b.cond,
                    b.mask,
                    generator=gen,
                    noise=b.noise,
                    real=b.real,
                )
                sums += torch.tensor([float(terms.total), float(terms.recon)], dtype=torch.float64)
            if self.world > 1:
                sums = self.acc.reduce(sums, reduction="sum")
            n = max(len(self.val), 1)
            out[f"{prefix}/loss"] = float(sums[0]) / n
            out[f"{prefix}/recon"] = float(sums[1]) / n
            model.train(was_training)
        return out

    def _train_step(self) -> dict[str, float]:
        cfg = self.cfg
        logs: dict[str, float] = {}
        if cfg.tasks.enabled and hasattr(self.batches, "dataset"):
            from motiongen.tasks import TaskSchedule

            schedule = TaskSchedule(cfg.tasks.predict_from, cfg.tasks.all_from,
                                    tuple(cfg.tasks.weights))  # fmt: skip
            self.batches.dataset.task_weights = schedule.weights_at(self.step)
        for _ in range(cfg.optim.grad_accum):
            batch = next(self.batches)
            with self.acc.accumulate(self.model):
                terms = self.loss_fn(
                    self._model_fn(self.model), batch.x, batch.cond, batch.mask,
                    generator=self.noise_gen, noise=batch.noise, real=batch.real,
                )  # fmt: skip
                loss = terms.total
                mean_loss = self.acc.reduce(loss.detach(), reduction="mean")
                if not torch.isfinite(mean_loss):
                    self._diverged("loss")
                self.acc.backward(loss)
                if self.acc.sync_gradients:
                    clip = cfg.optim.grad_clip if cfg.optim.grad_clip > 0 else float("inf")
                    norm = self.acc.clip_grad_norm_(self.model.parameters(), clip)
                    if not torch.isfinite(torch.as_tensor(norm)):
                        self._diverged("gradient norm")
                    logs["grad_norm"] = float(norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            for k, v in terms.as_floats().items():
                logs[k] = logs.get(k, 0.0) + v / cfg.optim.grad_accum
        if cfg.optim.decay_by_time and cfg.max_minutes > 0:
            self.time_fraction = self._elapsed() / (60 * cfg.max_minutes)
            if self.world > 1:  # every process must use the same lr
                t = self.acc.reduce(torch.tensor([self.time_fraction]), reduction="mean")
                self.time_fraction = float(t.item())
        self.lr_schedule.step()
        if self.ema is not None:
            self.ema.update()
        return logs

    def _check_sync(self) -> list[str]:
        """Hashes of every process's weights; they must agree (DDP keeps replicas equal)."""
        hashes = self._gather(_weights_hash(self.unwrapped))
        if len(set(hashes)) > 1:
            raise MotionGenError(
                f"the {self.world} training processes ended with different weights "
                f"({', '.join(h[:12] for h in hashes)}); the distributed setup is broken"
            )
        return hashes

    def _elapsed(self) -> float:
        """Training wall time so far in seconds, over all resumed segments (startup excluded)."""
        return self.prior_seconds + time.perf_counter() - self.t_start

    def _time_up(self) -> bool:
        """True on every process once any process has trained ``max_minutes``."""
        elapsed = self._elapsed()
        flag = torch.tensor([float(elapsed > 60 * self.cfg.max_minutes)])
        if self.world > 1:
            flag = self.acc.reduce(flag, reduction="sum")
        return bool(flag.item() > 0)

    def _diverged(self, what: str) -> None:
        where = find_state(self.run_dir)
        keep = f"the last good checkpoint is {where}" if where else "no checkpoint was written yet"
        raise TrainingDiverged(
            f"training diverged: the {what} became NaN or infinite at step {self.step + 1}; "
            f"{keep}. Lower optim.lr or raise optim.warmup_steps, then resume"
        )

    def run(self, *, stop_after: int | None = None) -> TrainResult:
        """Train to ``max_steps`` (or stop after step ``stop_after`` without saving, which is
        what a kill looks like to the files; used by tests)."""
        from motiongen.train.logs import MetricsLog

        cfg = self.cfg
        self.t_start = time.perf_counter()
        log = MetricsLog(self.run_dir, enabled=self.acc.is_main_process, resume_step=self.step)
        if self.acc.is_main_process:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
            log.text(
                f"startup {self.startup_seconds:.1f} s; {len(self.data.train_clips)} train clips "
                f"({self.data.train_frames} frames), {len(self.data.val_clips)} val clips; "
                f"{sum(p.numel() for p in self.unwrapped.parameters())} parameters "
                f"({sum(p.numel() for p in self.unwrapped.parameters() if p.requires_grad)} trained); "
                f"{self.world} process(es) x {torch.get_num_threads()} thread(s)"
                + (f"; resumed at step {self.step}" if self.resumed_from is not None else "")
            )
        windows_per_step = cfg.optim.batch_size * cfg.optim.grad_accum * self.world
        self.model.train()
        progress = log.progress(cfg.optim.max_steps, self.step, enabled=cfg.progress)
        last_val: float | None = None
        tick = time.perf_counter()
        try:
            while self.step < cfg.optim.max_steps:
                logs = self._train_step()
                self.step += 1
                progress.advance(logs.get("total", float("nan")))
                if self.step % cfg.log_every == 0 or self.step == cfg.optim.max_steps:
                    now = time.perf_counter()
                    steps = cfg.log_every if self.step % cfg.log_every == 0 else 1
                    logs["lr"] = self.lr_schedule.get_last_lr()[0]
                    logs["epoch"] = self.step * windows_per_step / self.data.epoch_windows
                    logs["sec_per_step"] = (now - tick) / steps
                    tick = now
                    log.scalars(self.step, {f"train/{k}": v for k, v in logs.items()})
                if self.step % cfg.val_every == 0 or self.step == cfg.optim.max_steps:
                    val = self.validate()
                    last_val = val["val/loss"]
                    log.scalars(self.step, val)
                    if self.best_val is None or last_val < self.best_val:
                        self.best_val, self.best_step = last_val, self.step
                        self.save_inference("best", val_loss=last_val)
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.optim.max_steps:
                    self.save_last()
                if cfg.max_minutes > 0 and self._time_up():
                    log.text(f"stopping at step {self.step}: max_minutes {cfg.max_minutes} reached")
                    if self.step % cfg.ckpt_every:
                        self.save_last()
                    if last_val is None or self.step % cfg.val_every:
                        last_val = self.validate()["val/loss"]
                    break
                if stop_after is not None and self.step >= stop_after:
                    progress.close()
                    log.close()
                    return self._result(final=None)
        except KeyboardInterrupt:
            progress.close()
            log.close()
            raise
        progress.close()
        self.rank_hashes = self._check_sync()
        final = self.save_inference("final", val_loss=last_val)
        if self.acc.is_main_process:
            # a run shorter than val_every has no best: only the final validation, if any
            if self.best_val is not None:
                best = f"best val {self.best_val:.4f} at step {self.best_step}"
            elif last_val is not None:
                best = f"final val {last_val:.4f} (no best/: no validation before it)"
            else:
                best = "no validation"
            log.text(f"done: step {self.step}, {best}, {self._elapsed():.0f} s")
            log.plot(self.run_dir / "loss.png", title=f"{cfg.name} ({cfg.stage})")
        log.close()
        if self.world > 1:  # leave together, the process group taken down before exit
            self.acc.wait_for_everyone()
            self.acc.end_training()
        return self._result(final=final)

    def _result(self, *, final: Path | None) -> TrainResult:
        best = self.run_dir / "best"
        return TrainResult(
            run_dir=self.run_dir,
            step=self.step,
            best_val=self.best_val,
            final=final,
            best=best if best.is_dir() else None,
            wall_seconds=self._elapsed(),
            resumed_from=self.resumed_from,
        )


def train(
    cfg: TrainConfig, *, resume: bool = False, command: str = "", stop_after: int | None = None
) -> TrainResult:
    """Train a model as ``cfg`` says; see the module docstring for what is written."""
    trainer = Trainer(cfg, resume=resume, command=command)
    try:
        return trainer.run(stop_after=stop_after)
    finally:
        if trainer.lock is not None:
            trainer.lock.close()  # the run folder is free for the next run


__all__ = ["TrainResult", "Trainer", "TrainingDiverged", "lr_factor", "make_process", "train"]
