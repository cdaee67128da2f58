"""`motiongen score FILE`: sanity, physics and (with audio) music metrics of one motion."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from motiongen.errors import DataNotFoundError


def score_motion(motion: Any, music: Path | None = None) -> dict[str, Any]:
    """Every model-free score of one ``Motion`` as a JSON-ready dict.

    Keys: name, frames, fps, seconds, sanity {passed, reasons, severity, warnings, checks},
    physics {...}, music ({...} or None when the motion has no audio and none is given),
    music_note (why music is None).
    """
    from motiongen.eval.physics import physics_report
    from motiongen.eval.sanity import MusicalityScorer, SanityChecker

    sanity = SanityChecker().check(motion)
    result: dict[str, Any] = {
        "name": motion.name,
        "frames": motion.num_frames,
        "fps": motion.fps,
        "seconds": round(motion.seconds, 3),
        "sanity": sanity.to_dict(),
        "physics": physics_report(motion.positions, motion.fps),
        "music": None,
        "music_note": None,
    }
    if music is not None or motion.audio is not None:
        result["music"] = MusicalityScorer().score(motion, music)
    else:
        result["music_note"] = "no audio: the motion has none and --music was not given"
    return result


def score_command(
    source: Annotated[
        str, typer.Argument(help="Motion file, dance folder, or prepared clip name.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    music: Annotated[
        Path | None,
        typer.Option(help="Audio to score against (default: the motion's own audio, if any)."),
    ] = None,
) -> None:
    """Score one motion: sanity checks, physics metrics, and music metrics when it has audio."""
    from rich.console import Console
    from rich.table import Table

    from motiongen.cli.console import resolve_motion

    if music is not None and not music.exists():
        raise DataNotFoundError(f"no such audio file: {music}")
    motion = resolve_motion(source)
    result = score_motion(motion, music)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
        return
    out = Console()
    sanity = result["sanity"]
    verdict = "[green]passed[/]" if sanity["passed"] else "[red]failed[/]"
    # A file is named as given: its stored name ("generated_0") tells several files apart badly.
    label = source if Path(source).exists() else (motion.name or source)
    out.print(f"{label}: {result['frames']} frames, {result['seconds']} s — sanity {verdict}")
    for reason in sanity["reasons"]:
        out.print(f"  reason: {reason}")
    for warning in sanity["warnings"]:
        out.print(f"  warning: {warning}")
    for title, values in (("physics", result["physics"]), ("music", result["music"])):
        if not values:
            continue
        table = Table(title=title, show_header=False)
        for key, value in values.items():
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        out.print(table)
    if result["music_note"]:
        out.print(result["music_note"])


def register(app: typer.Typer) -> None:
    """Add the ``score`` command to the main ``motiongen`` app."""
    app.command("score")(score_command)
