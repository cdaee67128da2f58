"""A benchmark's result as it leaves the run: the table printed and, with ``--out FILE``,
FILE.md (the same table) and FILE.json (the numbers behind it)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def report(text: str, data: Any, out: Path | None) -> None:
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=_plain))
        out.with_suffix(".md").write_text(text + "\n")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def run_cli(main: Callable[[], int]) -> None:
    """Exit with ``main()``'s code; a MotionGenError (bad input, missing data) is one
    ``error:`` line and exit code 2, not a traceback."""
    from motiongen.errors import MotionGenError

    try:
        raise SystemExit(main())
    except MotionGenError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
