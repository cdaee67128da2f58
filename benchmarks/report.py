"""A benchmark's result as it leaves the run: the table printed and, with ``--out FILE``,
FILE.md (the same table) and FILE.json (the numbers behind it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report(text: str, data: Any, out: Path | None) -> None:
    print(text)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(json.dumps(data, indent=1))
        out.with_suffix(".md").write_text(text + "\n")
