"""``stick-gen PROMPT -o OUT.mp4`` and ``motiongen story SCRIPT -o OUT.mp4``: stick-figure scenes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from motiongen.cli.console import out, print_warnings
from motiongen.errors import InputError
from motiongen.paths import DEFAULT_TIMELINE_MODEL

AudioOption = Annotated[
    Path | None, typer.Option(help="Music or speech laid under the scene (wav/ogg/flac/mp3).")
]
OffsetOption = Annotated[
    float, typer.Option(help="Start the audio this many seconds into its file.")
]
LiteralOption = Annotated[
    bool,
    typer.Option(
        "--literal",
        help="Send the actions as written, also a style their action was never recorded in (by "
        "default such style words are left out of the motion; the face still shows them).",
    ),
]
ThreadsOption = Annotated[
    int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")
]


def _render(
    text: str,
    output: Path,
    checkpoint: str,
    seed: int,
    width: int,
    audio: Path | None = None,
    audio_offset: float = 0.0,
    literal: bool = False,
    threads: int | None = None,
) -> None:
    from motiongen.cli.generate import set_threads
    from motiongen.pipeline import Pipeline
    from motiongen.stick.render import render_scene
    from motiongen.stick.script import parse_script
    from motiongen.stick.story import make_scene

    if output.suffix.lower() != ".mp4":
        raise InputError(f"the output is an MP4 file, got {output.name}")
    if width not in (640, 960):
        raise InputError(f"--width must be 640 or 960 (480 high), got {width}")
    script = parse_script(text)  # before the model loads: a bad script or audio costs nothing
    if audio is not None:
        from motiongen.io.render import check_audio_track

        check_audio_track(str(audio), audio_offset)
    set_threads(threads)
    t0 = time.perf_counter()
    pipe = Pipeline.from_pretrained(checkpoint)
    scene = make_scene(script, pipe, seed=seed, width=width, speech=audio,
                       speech_offset=audio_offset, literal=literal)  # fmt: skip
    render_scene(scene, output, audio=audio, audio_offset=audio_offset)
    for warning in dict.fromkeys(scene.warnings):
        print_warnings(warning)
    actions = sum(a.written for actor in script.actors for a in actor.actions)
    out.print(
        f"wrote {output} ({scene.seconds:.1f} s, {len(script.actors)} actor(s), {actions} "
        f"action(s), {len(script.camera)} camera move(s){', with audio' if audio else ''}) "
        f"in {time.perf_counter() - t0:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


def story(
    script: Annotated[Path, typer.Argument(help="A text file: the scene in plain sentences.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .mp4 to write.")],
    checkpoint: Annotated[
        str, typer.Option(help="A control model (timelines).")
    ] = DEFAULT_TIMELINE_MODEL,
    seed: Annotated[int, typer.Option(help="Same seed, same scene.")] = 0,
    width: Annotated[int, typer.Option(help="640 or 960 (480 high).")] = 960,
    audio: AudioOption = None,
    audio_offset: OffsetOption = 0.0,
    literal: LiteralOption = False,
    threads: ThreadsOption = None,
) -> None:
    """Render a scene script ("A person walks in, then waves happily. ...") as stick figures."""
    if script.is_dir():
        raise InputError(f"{script} is a folder; give a script file (plain sentences, UTF-8)")
    if not script.is_file():
        raise InputError(f"script file {script} not found")
    try:
        text = script.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{script} is not UTF-8 text") from None
    _render(text, output, checkpoint, seed, width, audio, audio_offset, literal, threads)


def stick_gen(
    prompt: Annotated[str, typer.Argument(help="e.g. 'A person walking and waving happily'.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The .mp4 to write.")],
    checkpoint: Annotated[
        str, typer.Option(help="A control model (timelines).")
    ] = DEFAULT_TIMELINE_MODEL,
    seed: Annotated[int, typer.Option(help="Same seed, same scene.")] = 0,
    width: Annotated[int, typer.Option(help="640 or 960 (480 high).")] = 640,
    audio: AudioOption = None,
    audio_offset: OffsetOption = 0.0,
    literal: LiteralOption = False,
    threads: ThreadsOption = None,
) -> None:
    """A stick-figure video of a prompt or a short script."""
    _render(prompt, output, checkpoint, seed, width, audio, audio_offset, literal, threads)


def register(app: typer.Typer) -> None:
    app.command("story")(story)


def stick_gen_main() -> None:
    """The ``stick-gen`` command (its own entry point)."""
    from motiongen.cli.commands import run

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(stick_gen)
    run(app)
