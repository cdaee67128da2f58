"""What every command shares: the two consoles, progress bars, and reading a motion from a
path or a prepared clip name. Benchmarks use these too, without the command-line app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from motiongen.errors import InputError

out = Console()
err = Console(stderr=True)


def print_warnings(text: str, about: str = "") -> None:
    """Each warning of ``text`` (one a line, ``motion.join_warnings``) on a "warning:" line of
    its own, after ``about`` (what it is about, e.g. a file's name)."""
    for line in str(text).splitlines():
        if line.strip():
            err.print(
                f"[yellow]warning:[/] {escape(about + line)}", soft_wrap=True, highlight=False
            )


def refuse_folder(path: Path, example: str | None = None) -> None:
    """An ``InputError`` for an output path that is a folder (with ``example``, a file name
    in it to suggest)."""
    if path.is_dir():
        hint = f", e.g. {path / example}" if example else ""
        raise InputError(f"{path} is a folder; give a file name to write{hint}")


def writable(*paths: Path) -> None:
    """Make each output file's folder and check it can take the file, before a long command
    does its work (an eval wrote nothing after minutes of generation when its --json named a
    folder or a path through a file); an OSError here reads as one error line."""
    import os

    for path in paths:
        path = Path(path)
        refuse_folder(path)
        if not path.parent.exists():  # said, so a mistyped folder does not go unnoticed
            path.parent.mkdir(parents=True, exist_ok=True)
            err.print(
                f"note: made the folder {path.parent} for the output",
                highlight=False,
                soft_wrap=True,
                markup=False,  # a path is not Rich markup ("out/[b]x")
            )
        if not os.access(path.parent, os.W_OK):
            raise InputError(f"cannot write into {path.parent}; choose a folder you may write to")


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


@contextmanager
def loss_progress(label: str, total: int) -> Iterator[Callable[[int, int, float], None]]:
    """A bar over optimiser steps showing the running loss; yields the (step, total, loss)
    callback the learned evaluators and the style encoder train with."""
    with Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} loss {task.fields[loss]:.3f}"),
        TimeRemainingColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("train", total=total, loss=float("nan"))

        def progress(step: int, steps: int, loss: float) -> None:
            bar.update(task, completed=step, total=steps, loss=loss)

        yield progress


def named_progress(bar: Progress):  # noqa: ANN201 - a (name, done, total) callback
    """A (name, done, total) progress callback: one bar per name (a data source, an
    evaluated variant)."""
    tasks: dict[str, Any] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        if name not in tasks:
            tasks[name] = bar.add_task(name, total=total)
        bar.update(tasks[name], completed=done)

    return progress


_RATES_SAID: set[str] = set()  # files whose assumed frame rate was said (once a command)


def resolve_motion(source: str) -> Any:
    """The motion at a file/folder path, or the clip of that name in the prepared cache; a
    frame rate the file does not store (a .npy, an .npz without one) said on stderr, once a
    file (a 30 fps take saved as .npy was continued as a slowed 20 fps one, unsaid: a new
    user's trial)."""
    from motiongen.data.load import load_any

    motion = load_any(source)
    assumed = motion.meta.get("fps_assumed")
    if assumed and str(source) not in _RATES_SAID:
        _RATES_SAID.add(str(source))
        err.print(
            f"[yellow]warning:[/] {escape(str(source))}: read at {escape(str(assumed))}; for "
            f"another rate save it as .bvh or .npz, e.g. in Python "
            f"motiongen.load(F).copy(fps=30).save('x.npz')",
            soft_wrap=True,
            highlight=False,
        )
    return motion


def manner_note(meta: dict[str, Any]) -> str | None:
    """The note of a prompt's manner words said as their styles (``meta["manner_words"]``,
    ``generation/vocabulary.MANNER_WORDS``), or None."""
    manner = meta.get("manner_words")
    if not manner:
        return None
    said = ", ".join(f"{w!r} as {s!r}" for w, s in manner.items())
    return f"note: read {said} (the style it means; --literal keeps the words)"


def wrote(path: Path, motion: Any, note: str = "") -> str:
    """The summary line of a written motion: "wrote x.bvh (137 frames, 6.85 s at 20 fps...)"
    (seconds to the hundredth: "8.8 s" of an 8.85 s file read as a frame lost)."""
    return (
        f"wrote {path} ({motion.num_frames} frames, {round(motion.seconds, 2):g} s at "
        f"{motion.fps:g} fps{note})"
    )


LOOP_HELP = (
    "Write the best loop of at least half the motion (a walk cycle for an engine): its last "
    "frame is its first pose again, moved on by one repeat, as players that loop over the "
    "keys' time span want (Unity, Blender, three.js; drop it for players that wrap from the "
    "last frame to the first); a small net turn per repeat taken out. Ask a few seconds more "
    "than the loop you want."
)


NO_TRAVEL_HELP = (
    "Write the motion without its travel along the floor (the pelvis stays over its start; "
    "heights and turns kept): for engines that add their own root motion."
)


# A bone whose length strays more than this from the one a BVH holds moves the written joints
# (``io.bvh.bone_shift``). Generated and cleaned motions keep their bones to a millimetre.
BVH_BONE_SHIFT = 0.02  # m


def as_written(
    motion: Any,
    path: Path,
    fps: float | None = None,
    no_travel: bool = False,
    loop: bool = False,
    panels: int | None = None,
    seconds: float | None = None,
) -> tuple[Any, str]:
    """(``motion`` as ``path`` will hold it, a note for the summary line): at ``fps`` when
    given, but a GIF at most at the rate its writer plays (``io.render.GIF_MAX_FPS``: delays
    are whole centiseconds) and a video at the rate it is drawn, so the line says the frames
    the file has; then as ``Motion.exported`` (looped at that rate, without travel) when
    asked. seconds: the length asked for, in frames of the written rate (the model's 20-fps
    frames rounded first: 2.37 s at 24 fps had been 56 frames, 2.33 s)."""
    from motiongen.io.render import CONTACT_FRAMES, GIF_MAX_FPS, VIDEO_MAX_FPS, contact_frames

    rate = fps if fps is not None else motion.fps
    suffix = path.suffix.lower()
    note = ""
    if suffix == ".gif" and rate > GIF_MAX_FPS:
        rate, note = GIF_MAX_FPS, f"; a GIF plays at most {GIF_MAX_FPS:g} fps"
    elif suffix == ".mp4" and rate > VIDEO_MAX_FPS:  # what render_video draws
        rate, note = VIDEO_MAX_FPS, f"; a video is drawn at most {VIDEO_MAX_FPS:g} fps"
    elif suffix == ".bvh":  # Blender imports at scale 1: a rig 100x too large
        note = "; a BVH in centimetres, Y up: import it at scale 0.01 for metres"
        from motiongen.io.bvh import bone_shift

        if (shift := bone_shift(motion.positions)) > BVH_BONE_SHIFT:
            # one length per bone: a dance take's drifting bones had moved its kept frames
            # by up to 21 cm in a BVH, unsaid (a new user's trial)
            note += (
                f"; a bone's length strays up to {100 * shift:.0f} cm from the one length a "
                "BVH holds, so joints shift (.npz and .motion keep them exactly)"
            )
    if seconds is not None and not loop and abs(rate - motion.fps) > 1e-9:
        motion = motion.resample(rate, frames=max(1, round(seconds * rate)))
    motion = motion.exported(rate, loop, no_travel)
    if suffix == ".png":  # said of the motion as written (a loop's has no segments)
        asked = panels or CONTACT_FRAMES
        shown = len(contact_frames(motion, asked))
        note = f"; drawn as a contact sheet of {asked} evenly spaced frames" + (
            f" and {shown - asked} more, one in each segment none of them shows"
            if shown > asked
            else ""
        )
    if loop:
        info = motion.meta["loop"]
        turn = (
            f"a turn of {info['turn_deg']:g} degrees a repeat taken out"
            if info["turn_taken_out"]
            else f"turning {info['turn_deg']:g} degrees a repeat, as the motion does"
        )
        note = (
            f"; a loop of {info['seconds']:g} s starting at {info['start_seconds']:g} s, its ends "
            f"met within {100 * info['pose_gap_m']:.1f} cm, {turn}; its last frame is its "
            f"first pose again{note}"
        )
        if left := info.get("segments_left_out"):  # a sequence does not repeat
            note += (
                f"; it leaves out {', '.join(map(repr, left))} of the timeline: to loop, "
                "generate one action"
            )
    return motion, note
