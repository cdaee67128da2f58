"""Training logs: TensorBoard scalars, ``metrics.jsonl``, ``train.log``, a rich progress bar
and the loss-curve PNG. Everything is a no-op on non-main processes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger("motiongen.train")


class _Progress:
    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]:.4f}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.task = self.bar.add_task("train", total=total, completed=done, loss=float("nan"))
            self.bar.start()

    def advance(self, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, loss=loss)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class MetricsLog:
    """Writes scalars to TensorBoard (``run_dir/tb``) and ``run_dir/metrics.jsonl``.

    On resume, rows past ``resume_step`` (logged after the checkpoint the run resumed from)
    are dropped from ``metrics.jsonl`` so the curves have no duplicated steps.
    """

    def __init__(self, run_dir: Path, *, enabled: bool, resume_step: int = 0) -> None:
        self.enabled = enabled
        self.run_dir = run_dir
        self.writer = None
        self.jsonl = run_dir / "metrics.jsonl"
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        if self.jsonl.is_file():
            rows = [json.loads(line) for line in self.jsonl.read_text().splitlines() if line]
            kept = [r for r in rows if r.get("step", 0) <= resume_step]
            self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in kept))
        self._fh = open(self.jsonl, "a")  # noqa: SIM115 - held for the run
        self._log = open(run_dir / "train.log", "a")  # noqa: SIM115
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(run_dir / "tb"), purge_step=resume_step + 1)

    def text(self, message: str) -> None:
        if self.enabled:
            logger.info(message)
            self._log.write(message + "\n")
            self._log.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        for k, v in values.items():
            self.writer.add_scalar(k, v, step)
        self._fh.write(json.dumps({"step": step, **values}) + "\n")
        self._fh.flush()
        shown = ", ".join(f"{k.removeprefix('train/')} {v:.4g}" for k, v in values.items())
        self.text(f"step {step}: {shown}")

    def progress(self, total: int, done: int, *, enabled: bool) -> _Progress:
        return _Progress(total, done, enabled and self.enabled)

    def close(self) -> None:
        if self.enabled and self.writer is not None:
            self.writer.close()
            self._fh.close()
            self._log.close()
            self.writer = None

    def plot(self, path: Path, *, title: str = "") -> Path | None:
        return plot_losses(self.jsonl, path, title=title) if self.enabled else None


def read_metrics(jsonl: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]


def plot_losses(jsonl: Path, path: Path, *, title: str = "") -> Path:
    """Train and validation loss against step (log scale) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(jsonl)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    series = [
        ("train/total", "train (total)", "-"),
        ("train/recon", "train (recon)", ":"),
        ("val/loss", "val, EMA (total)", "-o"),
        ("val_raw/loss", "val, raw (total)", "--"),
    ]
    for key, label, style in series:
        pts = [(r["step"], r[key]) for r in rows if key in r]
        if pts:
            steps, values = zip(*pts, strict=True)
            ax.plot(steps, values, style, label=label, markersize=3)
    ax.set_yscale("log")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
