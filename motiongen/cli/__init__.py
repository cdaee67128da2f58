"""The ``motiongen`` command line (``motiongen --help``): the typer app is built from
one module per sub-command (``commands.py`` builds it); ``console.py`` holds what they share (consoles, progress bars,
reading a motion). ``python -m motiongen.cli`` runs it too."""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    # The app imports every sub-command; keep `import motiongen.cli.console` light.
    if name in ("app", "main"):
        import importlib

        return getattr(importlib.import_module("motiongen.cli.commands"), name)
    raise AttributeError(f"module 'motiongen.cli' has no attribute {name!r}")
