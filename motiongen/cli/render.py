"""``motiongen render`` and ``motiongen info``: one motion in, a file or a description out."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from motiongen.cli.console import (
    LOOP_HELP,
    NO_TRAVEL_HELP,
    as_written,
    out,
    resolve_motion,
    writable,
    wrote,
)
from motiongen.errors import InputError
from motiongen.io import CONTACT_FRAMES, PICTURES

MAX_PANELS = 40  # 320 px each: a 12,800 px wide picture


def render(
    source: Annotated[
        str, typer.Argument(help="Motion file, dance folder, or prepared clip name.")
    ],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Output: .mp4 .gif .png .bvh .motion .motion.json .npy .npz"
        ),
    ],
    title: Annotated[str | None, typer.Option(help="Title shown in videos.")] = None,
    fps: Annotated[float | None, typer.Option(help="Resample to this frame rate first.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Keep only the first N seconds.")] = None,
    start: Annotated[
        float | None,
        typer.Option(help="Start at S seconds (with --seconds: that long from there)."),
    ] = None,
    no_audio: Annotated[
        bool, typer.Option("--no-audio", help="Do not mux music into MP4.")
    ] = False,
    no_travel: Annotated[bool, typer.Option("--no-travel", help=NO_TRAVEL_HELP)] = False,
    loop: Annotated[bool, typer.Option("--loop", help=LOOP_HELP)] = False,
    panels: Annotated[
        int | None,
        typer.Option(
            help=f"A .png contact sheet's evenly spaced frames (default {CONTACT_FRAMES})."
        ),
    ] = None,
    bvh_skeleton: Annotated[
        str,
        typer.Option(
            help="A .bvh's bones: own (the motion's lengths, its joints exact) or standard "
            "(one skeleton in every file, for one rig in an engine; joints within ~1 cm, "
            "feet at the motion's height)."
        ),
    ] = "own",
) -> None:
    """Convert or render any readable motion (BVH, dance folder, .motion, npy) to a file."""
    from motiongen.cli.generate import check_output_fps, output_paths

    if panels is not None and not output.name.lower().endswith(".png"):
        raise InputError(f"--panels is for a .png contact sheet, not {output.name}")
    if panels is not None and not 1 <= panels <= MAX_PANELS:
        raise InputError(f"--panels must be 1..{MAX_PANELS}, got {panels}")
    if bvh_skeleton != "own" and not output.name.lower().endswith(".bvh"):
        raise InputError(f"--bvh-skeleton is for a .bvh output, not {output.name}")
    fps = check_output_fps(fps, output.suffix)
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"--seconds must be a positive number, got {seconds}")
    if start is not None and not (math.isfinite(start) and start >= 0):
        raise InputError(f"--start must be 0 or more seconds, got {start}")
    motion = resolve_motion(source)
    writable(*output_paths(output, 1))  # a new folder is said (it was made silently)
    # the end of an 80 s dance had needed Python to look at (a new user's trial)
    first = 0 if start is None else int(round(start * motion.fps))
    if first >= motion.num_frames:
        raise InputError(
            f"--start {start:g} s is past the motion's end ({motion.seconds:.2f} s); start earlier"
        )
    excerpt = None
    if start is not None or seconds is not None:
        length = motion.num_frames if seconds is None else int(round(seconds * motion.fps))
        excerpt = (first / motion.fps, motion.seconds)
        motion = motion.crop(first, min(motion.num_frames, first + max(1, length)))
    motion, note = as_written(motion, output, fps, no_travel, loop, panels)
    options: dict = {}
    suffix = output.name.lower()
    if suffix.endswith(PICTURES):
        options = (
            {"title": title} if suffix.endswith(".png") else {"title": title, "audio": not no_audio}
        )
        if panels is not None:  # a 20 s timeline's 5 frames missed a segment (a trial)
            options["frames"] = panels
        if excerpt is not None and suffix.endswith(".png") and not loop:
            options["excerpt"] = excerpt  # panels labelled in the whole motion's frames
    if suffix.endswith(".bvh"):
        options["skeleton"] = bvh_skeleton  # an unknown name is refused by the writer
    path = motion.save(output, **options)
    out.print(wrote(path, motion, note), highlight=False, soft_wrap=True)


def info(
    source: Annotated[
        str, typer.Argument(help="Motion file, dance folder, or prepared clip name.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Describe a motion: frames, fps, duration, labels, texts, audio, physical checks."""
    from motiongen.skeleton import FOOT_JOINTS, HEAD, bone_lengths

    m = resolve_motion(source)
    pos = m.positions
    bl = bone_lengths(pos)
    facts = {
        "name": m.name,
        "frames": m.num_frames,
        "fps": m.fps,
        "seconds": round(m.seconds, 3),
        "joints": int(pos.shape[1]),
        "texts": m.texts,
        "labels": m.labels,
        "audio": {"path": m.audio.path, "offset": m.audio.offset} if m.audio else None,
        # the head joint sits about 10 cm under the crown; "height" read as either the
        # body's or the raised hands' (a trial's 2.1 m "height" of a 1.7 m body waving)
        "head_height_m": round(
            float(np.median(pos[:, HEAD, 1] - pos[:, list(FOOT_JOINTS), 1].min(axis=1))), 3
        ),
        "vertical_extent_m": round(float(pos[:, :, 1].max() - pos[:, :, 1].min()), 3),
        "lowest_point_m": round(float(pos[:, :, 1].min()), 3),
        "root_travel_m": round(
            float(np.linalg.norm(np.diff(pos[:, 0, [0, 2]], axis=0), axis=-1).sum()), 3
        ),
        "bone_length_drift": round(float((bl.std(0) / np.maximum(bl.mean(0), 1e-6)).max()), 5),
    }
    if as_json:
        sys.stdout.write(json.dumps(facts, indent=2) + "\n")
        return
    table = Table(show_header=False, title=m.name or source)
    for k, v in facts.items():
        table.add_row(k, str(v))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("render")(render)
    app.command("info")(info)
