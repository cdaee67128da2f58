"""``motiongen predict | inbetween | edit | restyle | compose``: control over motions read from
BVH, npy/npz or .motion files (or prepared clip names), written like ``motiongen generate``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from motiongen.cli.console import (
    LOOP_HELP,
    NO_TRAVEL_HELP,
    as_written,
    manner_note,
    out,
    print_warnings,
    resolve_motion,
    writable,
    wrote,
)
from motiongen.cli.generate import check_output_fps, set_threads
from motiongen.errors import InputError
from motiongen.generation.control import check_keyframe_times
from motiongen.generation.request import check_seconds
from motiongen.io import PICTURES

if TYPE_CHECKING:
    from motiongen.motion import Motion

Output = Annotated[
    Path,
    typer.Option(
        "-o", "--output", help="Output: .mp4 .gif .png .bvh .motion .motion.json .json .npy .npz"
    ),
]
Text = Annotated[str | None, typer.Option(help="What the motion does, e.g. 'a person bows'.")]
Steps = Annotated[int | None, typer.Option(help="Sampler steps (default: the model's).")]
Sampler = Annotated[str | None, typer.Option(help="euler, midpoint or heun (flow).")]
Guidance = Annotated[str | None, typer.Option(help="Guidance scale (default: the model's).")]
Seed = Annotated[int | None, typer.Option(help="Random seed; the same seed, the same motion.")]
Checkpoint = Annotated[
    Path | None,
    typer.Option(help="Control checkpoint folder (default: the shipped control model)."),
]
Post = Annotated[bool, typer.Option(help="Physical clean-up (given parts stay exact).")]
LiteralText = Annotated[
    bool,
    typer.Option(
        "--literal",
        help="Send texts as written, also a style their action was never recorded in (by "
        "default such style words are left out, with a warning) and manner words no training "
        "text uses (by default said as the style they mean), and an in-between's walk, run "
        "or dash in other words (by default said in the training data's words).",
    ),
]

Fps = Annotated[
    float | None,
    typer.Option(
        help="Frame rate of the written motion (default: the input's). Another rate than the "
        "input's resamples the frames kept from it."
    ),
]

ComposeFps = Annotated[
    float | None, typer.Option(help="Frame rate of the written motion (default: the model's 20).")
]

Threads = Annotated[
    int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")
]

LoopOption = Annotated[bool, typer.Option("--loop", help=LOOP_HELP)]
NoTravel = Annotated[bool, typer.Option("--no-travel", help=NO_TRAVEL_HELP)]

SegmentModel = Annotated[
    str | None,
    typer.Option(
        help="Text model that makes the new part, the joins in-betweened: a shipped name or a "
        "folder; 'self' makes it with the control model alone (default: the checkpoint's).",
    ),
]

StyleName = Annotated[
    str | None,
    typer.Option(
        "--style",
        help="A style to make it in (`motiongen style list`), e.g. sad: said in the text too.",
    ),
]


def _pipe(checkpoint: Path | None, default: str | None = None) -> Any:
    """The given checkpoint, else ``default`` (the shipped control model) when shipped."""
    from motiongen.checkpoint import shipped_model_path
    from motiongen.paths import DEFAULT_CONTROL_MODEL
    from motiongen.pipeline import Pipeline

    default = default or DEFAULT_CONTROL_MODEL
    if checkpoint is None and (shipped_model_path(default) / "config.json").is_file():
        return Pipeline.from_pretrained(default)
    return Pipeline.from_pretrained(checkpoint)


def _options(steps: int | None, sampler: str | None, guidance: str | None, seed: int | None,
             postprocess: bool, literal: bool = False,
             segment_model: str | None = None, style: str | None = None) -> dict[str, Any]:  # fmt: skip
    from motiongen.generation import parse_guidance

    opts: dict[str, Any] = {"postprocess": postprocess}
    if literal:
        opts["literal"] = True
    if segment_model is not None:
        opts["segment_model"] = segment_model
    if style is not None:
        opts["style"] = style
    for key, value in (("steps", steps), ("sampler", sampler), ("seed", seed)):
        if value is not None:
            opts[key] = value
    if guidance is not None:
        opts["guidance"] = parse_guidance(guidance)
    return opts


def _check_output(output: Path, fps: float | None) -> None:
    """The output's name, folder and --fps checked before the model loads (a bad extension
    was said only after it, as long as a whole run; a new user's trial)."""
    from motiongen.cli.generate import output_paths

    check_output_fps(fps, output.suffix)
    writable(*output_paths(output, 1))


def _written_rate_fits(output: Path, fps: float | None, given: Any) -> None:
    """A .npy output refused before the model runs when the result would not be at 20 fps:
    control results come back at the input's rate, and a .npy stores none (a 30 fps take's
    continuation ran 4 s, then was refused; a new user's trial)."""
    from motiongen.io.numpy_io import HUMANML3D_FPS, npy_rate_problem

    rate = fps if fps is not None else given.fps if given is not None else HUMANML3D_FPS
    if output.suffix.lower() == ".npy" and (problem := npy_rate_problem(rate)):
        raise InputError(
            f"{output}: {problem}, and the result comes back at the input's {rate:g} fps; "
            "write .npz or .bvh, or pass --fps 20"
        )


def _not_an_input(output: Path, *sources: str | None) -> None:
    """Refuse an output that is one of the input files (``FILE@S`` included) before any work:
    the result would replace the motion it was made from (helper trial: ``predict walk.bvh -o
    walk.bvh`` overwrote its input without a word)."""
    target = output.resolve()
    for source in sources:
        if not source:
            continue
        name, at, _ = source.rpartition("@")
        for candidate in {source, name} if at else {source}:
            if Path(candidate).is_file() and Path(candidate).resolve() == target:
                raise InputError(
                    f"the output {output} is also an input ({source}); write the result to "
                    "another file, or the motion it was made from would be lost"
                )


def _write(
    motion: Any,
    output: Path,
    t0: float,
    what: str,
    fps: float | None = None,
    shape: tuple[bool, bool] = (False, False),
) -> None:
    """Write the result; shape: (--loop, --no-travel)."""
    from motiongen.cli.generate import output_paths

    (path,) = output_paths(output, 1)
    loop, no_travel = shape
    motion, note = as_written(motion, path, fps, no_travel, loop)
    title = "; ".join(motion.texts) if motion.texts else what
    if motion.meta.get("segments"):
        title = None  # a timeline's video names the segment playing
    options = {"title": title} if path.suffix.lower() in PICTURES else {}
    motion.save(path, **options)
    if motion.meta.get("warning"):
        print_warnings(motion.meta["warning"])
    if found := motion.meta.get("style_from_example"):
        out.print(
            f"the style example moves like {found['style']} (similarity {found['similarity']:.2f})"
            + (f": restyled to {found['style']}" if found["named"] else ""),
            highlight=False,
            soft_wrap=True,
        )
    if into := motion.meta.get("continued_into"):
        out.print(
            f"the past does {into['past_action']}, the text another action (near "
            f"{', '.join(into['actions'])}): made by "
            f"{motion.meta.get('segments_from')} and joined over {into['join_seconds']:g} s; "
            "--segment-model self makes it all with the control model instead",
            highlight=False,
            soft_wrap=True,
        )
    if whole := motion.meta.get("whole_path"):
        out.print(
            f"the style walks the whole path at {whole['pace']:.0%} of the motion's speed, in "
            f"{motion.seconds:.2f} s instead of {whole['source_seconds']:.2f}",
            highlight=False,
            soft_wrap=True,
        )
    if "pace" in motion.meta:
        paces = motion.meta.get("segment_paces") or [motion.meta["pace"]]
        # a restyled timeline: the segments it slowed, each at its own share
        slowed = [(p, t) for p, t in zip(paces, motion.texts, strict=False) if p < 1]
        (first, text), *rest = slowed if len(paces) > 1 else [(paces[0], "")]
        at = ", ".join([f"{first:.0%} of the motion's speed" + (f" in {text!r}" if text else ""),
                        *(f"{p:.0%} in {t!r}" for p, t in rest)])  # fmt: skip
        out.print(
            # "goes": a restyled run said it walked (a new user's trial)
            f"the style goes along the path at {at} (--keep-speed keeps it)",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        wrote(path, motion, f"{note}; {what} made in {time.perf_counter() - t0:.1f} s"),
        highlight=False,
        soft_wrap=True,
    )


def predict(
    past: Annotated[str, typer.Argument(help="The motion to continue (file or clip name).")],
    output: Output,
    seconds: Annotated[float, typer.Option(help="Length of the result, past included.")] = 8.0,
    text: Text = None,
    steps: Steps = None,
    sampler: Sampler = None,
    guidance: Guidance = None,
    seed: Seed = None,
    checkpoint: Checkpoint = None,
    postprocess: Post = True,
    literal: LiteralText = False,
    fps: Fps = None,
    threads: Threads = None,
    segment_model: SegmentModel = None,
    style: StyleName = None,
    loop: LoopOption = False,
    no_travel: NoTravel = False,
) -> None:
    """Continue a motion: its frames are kept exactly and the motion goes on from them (into
    another action the text names: made whole by a text model and joined, see
    --segment-model)."""
    _check_output(output, fps)
    _not_an_input(output, past)
    set_threads(threads)
    t0 = time.perf_counter()
    check_seconds(seconds)  # cheap checks before the model loads (seconds, a trial found)
    given = resolve_motion(past)
    _written_rate_fits(output, fps, given)
    options = _options(steps, sampler, guidance, seed, postprocess, literal, segment_model, style)
    motion = _pipe(checkpoint).predict(given, seconds, text, **options)
    _write(motion, output, t0, "continuation", fps, (loop, no_travel))


def inbetween(
    keyframes: Annotated[
        list[str],
        typer.Argument(
            help="Keyframe motions, in time order; FILE@SECONDS takes one pose of a file "
            "(FILE@end its last), FILE@START:END a piece of it."
        ),
    ],
    output: Output,
    times: Annotated[str, typer.Option(help="Start of each keyframe, seconds: 0,2.5,5")],
    text: Text = None,
    in_place: Annotated[
        bool,
        typer.Option(
            help="Move each keyframe on the ground to start where the one before ends, a "
            "clip moved on by the pace the two keep over the time between (poses from "
            "different takes stand where their takes put them, often metres apart)."
        ),
    ] = False,
    steps: Steps = None,
    sampler: Sampler = None,
    guidance: Guidance = None,
    seed: Seed = None,
    checkpoint: Checkpoint = None,
    postprocess: Post = True,
    literal: LiteralText = False,
    fps: Fps = None,
    threads: Threads = None,
    style: StyleName = None,
    loop: LoopOption = False,
    no_travel: NoTravel = False,
) -> None:
    """A motion through keyframes (each file a pose or a few frames, in world space); without
    --text, keyframes apart on the ground are walked between (run past 2 m/s)."""
    try:
        # every comma-separated item a number: "0,2," is refused, not read as two times
        starts = [float(x) for x in times.split(",")]
    except ValueError:
        raise InputError(f"--times must be numbers separated by commas, got {times!r}") from None
    check_keyframe_times(starts, len(keyframes))  # before the model loads
    _check_output(output, fps)
    _not_an_input(output, *keyframes)
    set_threads(threads)
    t0 = time.perf_counter()
    keys = [keyframe(k) for k in keyframes]
    rates = {k.fps for k in keys}  # one shared rate comes back; mixed ones at the model's
    _written_rate_fits(output, fps, keys[0] if len(rates) == 1 else None)
    options = _options(steps, sampler, guidance, seed, postprocess, literal, style=style)
    if in_place:
        options["in_place"] = True
    motion = _pipe(checkpoint).inbetween(keys, starts, text, **options)
    _write(motion, output, t0, "in-betweening", fps, (loop, no_travel))


def keyframe(source: str) -> Any:
    """A keyframe argument: a motion, or with ``@`` a pose or piece of one: ``walk.bvh@2.5``
    (the frame at 2.5 s), ``walk.bvh@end`` (its last frame), ``walk.bvh@1:2`` (1 s to 2 s).
    A whole generated motion is rarely the keyframe wanted; its last pose often is."""
    name, at, cut = source.rpartition("@")
    if not at or Path(source).exists():
        return resolve_motion(source)
    motion = resolve_motion(name)
    last = motion.num_frames - 1
    if cut.strip().lower() == "end":
        return motion.crop(last)
    try:
        ends = [float(x) for x in cut.split(":")]
    except ValueError:
        ends = []
    if len(ends) not in (1, 2) or not all(0 <= e <= motion.seconds for e in ends):
        raise InputError(
            f"{source}: after @ give seconds within 0..{motion.seconds:.2f} ({name} lasts "
            f"that long), 'end', or START:END, e.g. {name}@1.5"
        )
    from motiongen.generation.source_rate import frame_at

    first = min(last, frame_at(ends[0], motion.fps))
    if len(ends) == 1:
        return motion.crop(first, first + 1)
    stop = min(motion.num_frames, frame_at(ends[1], motion.fps) + 1)
    if stop <= first + 1:
        raise InputError(f"{source}: START:END must have END after START")
    return motion.crop(first, stop)


def _span(frames: str | None) -> tuple[float, float] | None:
    if frames is None:
        return None
    try:
        a, b = (float(x) for x in frames.split(":"))
    except ValueError:
        raise InputError(
            f"--frames must be START:END in seconds, e.g. 1.0:2.5; got {frames!r}"
        ) from None
    return a, b


def edit(
    motion_in: Annotated[str, typer.Argument(metavar="MOTION", help="The motion to edit.")],
    output: Output,
    text: Annotated[str, typer.Option(help="What the edited part does.")],
    frames: Annotated[str | None, typer.Option(help="Seconds START:END to make anew.")] = None,
    joints: Annotated[
        str | None,
        typer.Option(
            help="Joints or parts to make anew, comma-separated: arms, upper_body, legs, "
            "left_arm, right_leg ... or joint names (right_wrist)."
        ),
    ] = None,
    steps: Steps = None,
    sampler: Sampler = None,
    guidance: Guidance = None,
    seed: Seed = None,
    checkpoint: Checkpoint = None,
    postprocess: Post = True,
    literal: LiteralText = False,
    segment_model: SegmentModel = None,
    fps: Fps = None,
    threads: Threads = None,
    style: StyleName = None,
    loop: LoopOption = False,
    no_travel: NoTravel = False,
    in_place: Annotated[
        bool,
        typer.Option(
            help="Make the span's action where the span starts, the frames after it moved "
            "back along the ground to go on from there (a bow set in a walk stops and bows; "
            "else it must cover the walk's ground, sliding). Needs --frames; not with --joints."
        ),
    ] = False,
) -> None:
    """Make part of a motion anew (a span of time, some joints, or both); the rest is kept."""
    names = None if joints is None else [j for j in joints.split(",") if j.strip()]
    if frames is None and names is None:
        raise InputError("say what to edit: --frames START:END (seconds), --joints, or both")
    if names is not None:  # before the model loads, and before an output folder is made
        from motiongen.generation.control import resolve_joints

        resolve_joints(names)
    _check_output(output, fps)
    _not_an_input(output, motion_in)
    set_threads(threads)
    t0 = time.perf_counter()
    given, span = resolve_motion(motion_in), _span(frames)
    _written_rate_fits(output, fps, given)
    options = _options(steps, sampler, guidance, seed, postprocess, literal, segment_model, style)
    if in_place:
        options["in_place"] = True
    result = _pipe(checkpoint).edit(given, text=text, frames=span, joints=names, **options)
    _write(result, output, t0, "edit", fps, (loop, no_travel))
    if moved := result.meta.get("rest_moved_m"):  # where the motion now ends: said (a trial)
        out.print(
            f"in place: the frames after the span go on from where it stands, moved back "
            f"{moved:.1f} m along the ground (the motion ends that much short of where it did)",
            highlight=False,
            soft_wrap=True,
        )
    by = result.meta.get("segments_from")  # the wave fallback's warning has said it
    if names is not None and by and not result.meta.get("wave_fallback"):
        out.print(  # which model's motion the arms are (the control model's otherwise)
            f"the arms are {by}'s motion of the text, set on the motion's body",
            highlight=False,
            soft_wrap=True,
        )


def restyle(
    motion_in: Annotated[str, typer.Argument(metavar="MOTION", help="The motion to restyle.")],
    output: Output,
    style: Annotated[
        str | None,
        typer.Option(
            help="A style name (`motiongen style list`) or a motion file to take the style "
            "from; needed unless --text says the style."
        ),
    ] = None,
    blend: Annotated[
        str | None, typer.Option(help="OTHER:WEIGHT, e.g. sad:0.3: that far towards another style.")
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="What the motion does (default: its recognised action).")
    ] = None,
    keep_speed: Annotated[
        bool,
        typer.Option(
            "--keep-speed",
            help="Keep the motion's speed along its path (by default a slower style walks it "
            "at its own pace, covering less of it; kept, its steps slide).",
        ),
    ] = False,
    whole_path: Annotated[
        bool,
        typer.Option(
            "--whole-path",
            help="Walk the whole path at a slower style's own pace, in more time (by default "
            "it covers less of the path in the motion's time).",
        ),
    ] = False,
    steps: Steps = None,
    sampler: Sampler = None,
    guidance: Guidance = None,
    seed: Seed = None,
    checkpoint: Checkpoint = None,
    postprocess: Post = True,
    fps: Fps = None,
    threads: Threads = None,
    loop: LoopOption = False,
    no_travel: NoTravel = False,
) -> None:
    """Keep a motion's path and length, move the body in another style (its poses the style's,
    first and last included; a slower style walks the path at its own pace)."""
    _check_output(output, fps)
    _not_an_input(output, motion_in, style)
    if style is None and text is None:  # as the pipeline says it, before the model loads
        raise InputError("restyle needs a style (e.g. --style sad), a --text, or both")
    set_threads(threads)
    t0 = time.perf_counter()
    opts = _options(steps, sampler, guidance, seed, postprocess)
    if blend is not None:
        other, sep, weight = blend.rpartition(":")
        try:
            opts["blend"] = (_style_arg(other), float(weight))
        except ValueError:
            raise InputError(f"--blend must be OTHER:WEIGHT, e.g. sad:0.3; got {blend!r}") from None
        if not sep or not other:
            raise InputError(f"--blend must be OTHER:WEIGHT, e.g. sad:0.3; got {blend!r}")
        if style is not None and other.strip().lower() == style.strip().lower():
            raise InputError(
                f"--blend {blend!r} moves towards the --style it starts from; name another "
                "style to blend towards"
            )
    if keep_speed:
        opts["keep_speed"] = True
    if whole_path:
        opts["whole_path"] = True
    given = resolve_motion(motion_in)
    _written_rate_fits(output, fps, given)
    target = None if style is None else _style_arg(style)
    result = _pipe(checkpoint).restyle(given, target, text=text, **opts)
    _write(result, output, t0, "restyle", fps, (loop, no_travel))
    if read_as := result.meta.get("read_as"):  # an in-place walk read as a backward one: unsaid
        out.print(
            f"the motion was read as {read_as!r}; if it does something else, say what with --text",
            highlight=False,
            soft_wrap=True,
        )


def _style_arg(value: str) -> Any:
    """A style name, or the motion in a file of that name (an example to move like)."""
    from motiongen.io import READ_SUFFIXES

    if not value.strip():  # Path("") is the current folder: "no motion given" (a trial)
        raise InputError(
            "the style is empty; give a style name (`motiongen style list`) or a motion file "
            "to take the style from"
        )
    path = Path(value)
    if path.exists() and (path.suffix or path.is_dir()):  # a dance folder is one motion too
        return resolve_motion(value)
    if path.suffix.lower() in READ_SUFFIXES or "/" in value:
        raise InputError(
            f"style file {value} not found; give a motion file that exists or a style name "
            "(`motiongen style list`)"
        )
    return value


def compose(
    prompt: Annotated[
        str | None, typer.Argument(help="Segments joined by 'then': 'a person walks, then bows'.")
    ] = None,
    output: Output = Path("compose.mp4"),
    seconds: Annotated[
        float | None,
        typer.Option(
            help="Total length of a 'then' prompt (default: each segment as long as such "
            "motions last in the motion index, else 4 s)."
        ),
    ] = None,
    segment: Annotated[
        list[str] | None,
        typer.Option(
            help="TEXT or TEXT:SECONDS, repeatable, instead of the prompt (without seconds, as "
            "long as such motions last)."
        ),
    ] = None,
    segments: Annotated[
        Path | None,
        typer.Option(
            help="A text file of segments, one TEXT or TEXT:SECONDS a line (lines starting "
            "with '#' skipped), instead of the prompt."
        ),
    ] = None,
    steps: Steps = None,
    sampler: Sampler = None,
    guidance: Guidance = None,
    seed: Seed = None,
    checkpoint: Checkpoint = None,
    postprocess: Post = True,
    literal: LiteralText = False,
    segment_model: SegmentModel = None,
    fps: ComposeFps = None,
    threads: Threads = None,
    style: StyleName = None,
    loop: LoopOption = False,
    no_travel: NoTravel = False,
) -> None:
    """One motion of consecutive segments, each following its own text."""
    given = [prompt is not None, bool(segment), segments is not None]
    if sum(given) != 1:
        raise InputError(
            "give one of: a prompt with 'then', --segment TEXT[:SECONDS] (repeatable), or "
            "--segments FILE"
        )
    if prompt is not None and not prompt.strip():
        raise InputError("the prompt is empty; e.g. motiongen compose 'a person walks, then bows'")
    if seconds is not None:
        check_seconds(seconds)
    spec: Any = prompt
    if segment:
        spec = [_segment_item(item, "--segment") for item in segment]
    elif segments is not None:
        spec = _segments_file(segments)
    from motiongen.paths import DEFAULT_TIMELINE_MODEL

    _check_output(output, fps)
    set_threads(threads)
    t0 = time.perf_counter()
    motion = _pipe(checkpoint, DEFAULT_TIMELINE_MODEL).timeline(
        spec, seconds=seconds,
        **_options(steps, sampler, guidance, seed, postprocess, literal, segment_model, style),
    )  # fmt: skip
    for said in (_segment_lengths_said(motion, seconds), manner_note(motion.meta)):
        if said:  # said before the "wrote" line, which ends the output as everywhere else
            out.print(said, highlight=False, soft_wrap=True)
    _write(motion, output, t0, "timeline", fps, (loop, no_travel))


def _segment_item(item: str, where: str) -> tuple[str, float | None]:
    """ "TEXT:SECONDS" (or "TEXT:3s") -> (text, seconds); "TEXT" (or "TEXT:") -> (text, None),
    its length left to the timeline. After the last colon a number is seconds and anything
    starting like one must be one ("walks:2,5" is refused, not read as text), as must one word
    right after it ("walks:abc"); other words there are the text's own ("a person says:
    hello")."""
    text, sep, tail = item.rpartition(":")
    # right after the colon, a word is a mistyped length ("walks:abc" had become the text)
    typed = bool(sep and tail) and not tail[0].isspace() and " " not in tail.strip()
    tail = tail.strip()
    seconds = None
    if sep and (not tail or tail[0] in "0123456789+-." or typed):
        number = tail[:-1] if tail.lower().endswith("s") else tail
        try:
            seconds = float(number) if tail else None
        except ValueError:
            raise InputError(
                f"{where}: {item!r}: after the last ':' give seconds, e.g. 'a person walks:3'"
            ) from None
    else:
        text = item
    if not text.strip():
        raise InputError(f"{where}: {item!r} has no text; give TEXT or TEXT:SECONDS")
    return text.strip(), seconds


def _segments_file(path: Path) -> list[tuple[str, float | None]]:
    """A segments file's (text, seconds or None) items, one a line; lines starting with '#'
    are skipped."""
    if not path.is_file():
        raise InputError(f"--segments {path}: no such file; give a text file, one segment a line")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM is no text
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--segments {path}: unreadable ({exc}); give a UTF-8 text file") from None
    items = [
        _segment_item(line, f"--segments {path.name} line {n}")
        for n, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not items:
        raise InputError(f"--segments {path}: no segment in it; write one TEXT[:SECONDS] a line")
    return items


# Where a timeline segment's length came from (``meta["segment_lengths_from"]``), said beside
# it when not the index's phrases
_LENGTH_FROM = {"asked": "as said", "default": "none found", "a stop": "a stop"}


def _segment_lengths_said(motion: Motion, seconds: float | None) -> str | None:
    """The line saying a composed motion's segment lengths and where they came from, or None
    (one segment, or every length given). A length written in the prompt ("strolls for 3
    seconds") was said to come from the index with the others (a new user's trial), and
    with --seconds no length was said at all. (Where a length came from is the pipeline's
    ``meta["segment_lengths_from"]``, recorded only where some length was sought.)"""
    from motiongen.pipeline import SEGMENT_CAP_SECONDS

    segments = motion.meta.get("segments") or []
    sources = motion.meta.get("segment_lengths_from") or []
    if "retrieved phrases" in sources:
        lengths = ", ".join(
            f"{s:.1f}" + ("" if src == "retrieved phrases" else f" ({_LENGTH_FROM.get(src, src)})")
            for (_, s), src in zip(segments, sources, strict=False)
        )
        which = "the others" if set(sources) != {"retrieved phrases"} else "each"
        return (
            f"segments of {lengths} s: {which} as long as such motions last in the index, at "
            f"most {SEGMENT_CAP_SECONDS:g} s (--seconds sets the total)"
        )
    if seconds is not None and len(segments) > 1:  # any length written in the prompt, kept
        lengths = ", ".join(f"{s:.1f}" for _, s in segments)
        return f"segments of {lengths} s ({seconds:g} s in all, --seconds)"
    return None


def register(app: typer.Typer) -> None:
    for name, command in (("predict", predict), ("inbetween", inbetween), ("edit", edit),
                          ("restyle", restyle), ("compose", compose)):  # fmt: skip
        app.command(name)(command)
