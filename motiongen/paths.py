"""Where data and caches live; overridable by environment variables."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
# The shipped models commands use unless told otherwise (motiongen/assets/models/<name>);
# here, not in checkpoint.py, so command modules can name them without importing torch.
DEFAULT_SECONDS = 6.5  # a motion without a length asked for or found in the index
DANCE_DEFAULT_SECONDS = 20.0  # a dance without a length asked for: the song, at most this
DEFAULT_MODEL = "tiny-flow-rollout-r5"  # chosen on val over tiny-flow-rollout-r4 (docs/training.md)
DEFAULT_CONTROL_MODEL = "tiny-control"  # continuation, keyframes, edits, restyle
# Timelines (compose, stories): as often recognised on val, far smoother seams (docs/control.md).
DEFAULT_TIMELINE_MODEL = "tiny-control-smooth"
# The pose a timeline's stop holds (generation/stand.py), made by motiongen/data/standing.py.
STANDING_POSE = PACKAGE_ROOT / "assets" / "poses" / "standing.npy"


def data_dir() -> Path:
    """The shared data directory: ``$MOTIONGEN_DATA``, else ``../shared/data`` beside the repo.

    The path may not exist (a fresh machine without data); callers check.
    """
    env = os.environ.get("MOTIONGEN_DATA")
    if env:
        return Path(env).expanduser()
    for base in (Path.cwd(), REPO_ROOT):
        candidate = (base / ".." / "shared" / "data").resolve()
        if candidate.is_dir():
            return candidate
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


def cache_dir() -> Path:
    """Where prepared shards live: ``$MOTIONGEN_CACHE``, else ``~/.cache/motiongen``."""
    env = os.environ.get("MOTIONGEN_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "motiongen"
    return path
