"""``motiongen generate`` and ``motiongen dance``: thin commands over ``motiongen.Pipeline``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from motiongen.cli.console import (
    LOOP_HELP,
    NO_TRAVEL_HELP,
    as_written,
    manner_note,
    print_warnings,
    refuse_folder,
    writable,
    wrote,
)
from motiongen.errors import InputError
from motiongen.io import PICTURES, WRITE_SUFFIXES
from motiongen.paths import DANCE_DEFAULT_SECONDS, DEFAULT_MODEL

out = Console()
err = Console(stderr=True)

BEAT_SYNC_HELP = (
    "Retime a dance onto the music's beats where that puts more of its accents on beats (the "
    "network's dances keep a pace of their own; local tempo changed by at most 25 percent). "
    "Default: on for dances up to 30 s."
)
OUTPUT_SUFFIXES = WRITE_SUFFIXES  # what io.save writes


def _split_suffix(path: Path) -> tuple[str, str]:
    """("stem", ".suffix") of an output name, knowing the double suffix .motion.json."""
    name = path.name
    refuse_folder(path, "motion.mp4")  # before "unknown extension", which it would get
    for suffix in OUTPUT_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], suffix
    raise InputError(
        f"cannot write {name}: unknown extension {path.suffix or '(none)'}; "
        f"use one of {', '.join(OUTPUT_SUFFIXES)}"
    )


def output_paths(output: Path, count: int) -> list[Path]:
    """``output`` itself for one motion, else ``stem_0.ext``, ``stem_1.ext`` ... beside it."""
    stem, suffix = _split_suffix(output)
    if count == 1:
        return [output]
    return [output.with_name(f"{stem}_{i}{suffix}") for i in range(count)]


def check_output_fps(fps: float | None, suffix: str = "") -> float | None:
    """--fps checked (None: the model's rate), also against an output ``suffix`` that stores
    no frame rate (.npy: read back as 20 fps)."""
    if fps is None:
        return None
    from motiongen.io.numpy_io import npy_rate_problem
    from motiongen.plausibility import check_fps

    fps = check_fps(fps, "--fps")
    if suffix.lower().lstrip(".") == "npy" and (problem := npy_rate_problem(fps)):
        raise InputError(f"--fps {fps:g} with .npy: {problem}; write .npz or .bvh")
    return fps


def set_threads(threads: int | None) -> None:
    """torch's CPU threads from a --threads option (None: torch's choice)."""
    if threads is None:
        return
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def load_pipeline(
    checkpoint: Path | None,
    precision: str,
    runtime: str,
    *,
    rag: bool | None,
    index: Path | None,
    reranker: str | None,
) -> Any:
    """The pipeline ``generate`` runs on: with --rag and no checkpoint named, the default model
    if it takes a prior, else tiny-rag; the index (and reranker) for --rag or for the model's
    own retrieval."""
    from motiongen.pipeline import Pipeline

    if rag and checkpoint is None:
        from motiongen.checkpoint import rag_model_for

        checkpoint = Path(rag_model_for())
    if runtime != "torch":
        _say_onnx_export(checkpoint, int8=runtime == "onnx-int8")
    pipe = Pipeline.from_pretrained(checkpoint, precision=precision, runtime=runtime)
    pipe.index_source = (index, reranker)
    return pipe


def _say_onnx_export(checkpoint: Path | None, *, int8: bool) -> None:
    """A note before the first ONNX export of a checkpoint (25-30 s here, cached after), which
    would otherwise look like a hang."""
    from motiongen.checkpoint import WEIGHTS_NAME, resolve_checkpoint
    from motiongen.deploy.onnx import onnx_cache_path

    weights = resolve_checkpoint(str(checkpoint or DEFAULT_MODEL)) / WEIGHTS_NAME
    if weights.is_file() and not onnx_cache_path(weights, int8=int8).is_file():
        err.print(
            f"note: exporting {weights.parent.name} to ONNX{' (int8)' if int8 else ''} once "
            "(about half a minute; cached for later runs)",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


def _run(
    *,
    text: str | None,
    music: Path | None,
    music_offset: float,
    output: Path,
    seconds: float | None,
    steps: int | None,
    sampler: str | None,
    guidance: str | None,
    seed: int | None,
    checkpoint: Path | None,
    batch: int,
    postprocess: bool,
    threads: int | None,
    precision: str,
    title: str | None,
    runtime: str = "torch",
    rag: bool | None = None,
    index: Path | None = None,
    reranker: str | None = None,
    literal: bool = False,
    fps: float | None = None,
    prior_start: float | None = None,
    beat_sync: bool | None = None,
    no_travel: bool = False,
    loop: bool = False,
    timeline: bool | None = None,
) -> None:
    from motiongen.generation import check_seconds, parse_guidance
    from motiongen.generation.request import check_int
    from motiongen.io.render import picture_title
    from motiongen.pipeline import PRECISIONS, RUNTIMES

    # Cheap checks first: a typo should not cost a model load.
    if text is not None:
        from motiongen.conditioning.text import validate_prompt

        text = validate_prompt(text)
    if seconds is not None:
        check_seconds(seconds)
        if loop:  # before the model runs (it did, and then the loop was refused)
            from motiongen.loop import MIN_LOOP_SECONDS, loop_fits

            if not loop_fits(seconds, fps or 20.0):
                raise InputError(
                    f"--loop needs more than {MIN_LOOP_SECONDS:g} s of motion; ask --seconds "
                    "of a few seconds or more (e.g. --seconds 6)"
                )
    check_output_fps(fps, output.suffix)
    scales = parse_guidance(guidance) if guidance is not None else None
    if batch < 1:
        raise InputError(f"--batch must be at least 1, got {batch}")
    if seed is not None:  # as generate checks it, before the model loads
        check_int("--seed", seed, 0, 2**63 - 1)
    if precision not in PRECISIONS:
        raise InputError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if runtime not in RUNTIMES:
        raise InputError(f"--runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    paths = output_paths(output, batch)
    writable(*paths)
    set_threads(threads)

    t0 = time.perf_counter()
    pipe = load_pipeline(checkpoint, precision, runtime, rag=rag, index=index, reranker=reranker)
    if prior_start is not None:
        if not pipe.prior_dim or pipe.process_name != "flow":
            raise InputError(
                f"--prior-start needs a flow checkpoint with a retrieval-prior input (the default "
                f"{DEFAULT_MODEL}); {pipe.name} has none"
            )
        pipe.prior_start = prior_start
    if text is not None:
        _ = pipe.text_encoder  # loaded (and checked) here, so "text" below is encoding only
    load_s = time.perf_counter() - t0
    motions = pipe.generate(
        text,
        music,
        seconds=seconds,
        steps=steps,
        sampler=sampler,
        guidance=scales,
        seed=seed,
        batch=batch,
        music_offset=music_offset,
        postprocess=postprocess,
        rag=rag,
        literal=literal,
        beat_sync=beat_sync,
        timeline=timeline,
    )
    timing = motions[0].meta["timing_ms"]
    t0 = time.perf_counter()
    for motion, path in zip(motions, paths, strict=True):
        motion, note = as_written(motion, path, fps, no_travel, loop, seconds=seconds)
        picture = path.suffix.lower() in PICTURES
        options = {"title": picture_title(motion, title)} if picture else {}
        motion.save(path, **options)
        audio = " with music" if motion.audio is not None and path.suffix == ".mp4" else ""
        if motion.audio is not None and path.suffix.lower() in (".npy", ".bvh", ".gif", ".png"):
            audio = f"; {path.suffix} keeps no music: write .mp4 to hear it with the motion"
        own = f"; seed {motion.meta['seed']}" if batch > 1 else ""  # each re-made alone from it
        out.print(
            wrote(path, motion, f"{note}{audio}{own}"),
            highlight=False,
            soft_wrap=True,
        )
    write_s = time.perf_counter() - t0
    meta = motions[0].meta
    if maker := meta.get("made_as_timeline"):
        count = len(meta["segments"])
        lengths = ", ".join(f"{text!r} {secs:.1f} s" for text, secs in meta["segments"])
        total = "" if seconds is not None else "; --seconds sets the total"
        out.print(
            f"a timeline of {count} segment{'s' * (count != 1)} ({lengths}{total}), joined by "
            f"{maker}; --no-timeline makes one motion of the whole prompt",
            highlight=False,
            soft_wrap=True,
        )
    # what the parts leave: the request's checks and retrieval (the index loads on first use)
    parts = ("text_ms", "audio_ms", "sample_ms", "postprocess_ms")
    rest = max(0.0, timing["total_ms"] - sum(timing.get(k, 0.0) for k in parts))
    for item in meta.get("retrieved", []):
        if item["weight"] < 0.005:  # would print as 0.00: too light to matter to a reader
            continue
        side = " mirrored" if item["mirrored"] else ""
        # the share of the start and how well it matched, both named: a bare "0.20" on five
        # equal lines read as a poor match (a new-user trial)
        out.print(
            f"retrieved (share {item['weight']:.2f}, match {item['score']:.2f})  "
            f"{item['text']!r} ({item['clip']}{side}, "
            f"{item['start'] / pipe.fps:.1f}-{item['stop'] / pipe.fps:.1f} s)",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if meta.get("length_from") == "retrieved phrases":
        out.print(
            f"note: {meta['seconds']:.1f} s, as long as the retrieved phrases; --seconds "
            "sets another length",
            highlight=False,
            soft_wrap=True,
        )
    elif str(meta.get("length_from", "")).startswith("the prompt"):
        out.print(f"note: {meta['seconds']:.1f} s, as {meta['length_from']} says",
                  highlight=False, soft_wrap=True)  # fmt: skip
    if meta.get("retrieval_note"):
        out.print(f"note: {meta['retrieval_note']}", highlight=False, soft_wrap=True)
    if manner := manner_note(meta):
        out.print(manner, highlight=False, soft_wrap=True)
    synced = meta.get("beat_sync") or {}
    if synced.get("applied"):
        out.print(
            f"retimed onto the music's beats (played at {synced['pace']:.2f}x its own pace on "
            "average); --no-beat-sync keeps the network's timing",
            highlight=False,
            soft_wrap=True,
        )
    elif "beats_hit" in synced or synced.get("past_default"):  # not for want of music: a note
        out.print(f"note: not retimed: {synced['reason']}", highlight=False, soft_wrap=True)
    if meta.get("warning"):
        print_warnings(meta["warning"])
    out.print(
        f"{pipe.name or 'model'} ({meta['process']}, {meta['sampler']} {meta['steps']} steps, "
        f"guidance {meta['guidance']}, seed {meta['seed']}): generated in "
        f"{timing['total_ms']:.0f} ms ("
        + (
            # a timeline: its segments, then its joins (a trial read the joins' stages alone
            # as the whole)
            f"segments {timing['segments_ms']:.0f} ms; joins: sampling "
            f"{timing['sample_ms']:.0f}, post-processing {timing['postprocess_ms']:.0f} ms"
            if "segments_ms" in timing
            else f"checks and retrieval {rest:.0f}, text {timing['text_ms']:.0f}, music "
            f"{timing['audio_ms']:.0f}, sampling {timing['sample_ms']:.0f}, post-processing "
            f"{timing['postprocess_ms']:.0f} ms"
        )
        + f"); model load {load_s:.1f} s, writing {write_s:.1f} s",
        highlight=False,
        soft_wrap=True,
    )


def generate(
    prompt: Annotated[
        str | None,
        typer.Argument(help="What the motion shows, e.g. 'a person waves' (or --prompts)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Output: .mp4 .gif .png (contact sheet) .bvh .motion .motion.json .npy .npz; with --prompts a folder",
        ),
    ] = None,
    prompts: Annotated[
        Path | None,
        typer.Option(
            help="A text file of prompts, one per line: one file each in the --output folder "
            "(resumable; shared between processes under `accelerate launch`)."
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            help="With --prompts: bvh (default), npz, npy, motion, motion.json, mp4, gif, png."
        ),
    ] = None,
    takes: Annotated[int, typer.Option(help="With --prompts: motions per prompt.")] = 1,
    batch_size: Annotated[int, typer.Option(help="With --prompts: motions per model pass.")] = 8,
    seconds: Annotated[
        float | None,
        typer.Option(
            help="Length in seconds (0.5 to 120; default: as long as the indexed motions like "
            "the prompt, else 6.5)."
        ),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Sampler steps (default 4 for flow, 50 for DDIM).")
    ] = None,
    sampler: Annotated[
        str | None, typer.Option(help="euler, midpoint or heun (flow); ddim (diffusion).")
    ] = None,
    guidance: Annotated[
        str | None,
        typer.Option(help="Guidance scale, or TEXT,AUDIO scales (default: the model's)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed, the same motion.")
    ] = None,
    music: Annotated[
        Path | None, typer.Option(help="Music the motion follows (muxed into MP4).")
    ] = None,
    music_offset: Annotated[
        float, typer.Option(help="Seconds into the music file where the motion starts.")
    ] = 0.0,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Checkpoint folder (default: the shipped tiny-flow-rollout-r5)."),
    ] = None,
    batch: Annotated[int, typer.Option(help="How many motions (files get _0, _1 ...).")] = 1,
    postprocess: Annotated[
        bool, typer.Option(help="Constant bones, feet on the floor, no sliding, smoothing.")
    ] = True,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads for torch (default: torch's choice).")
    ] = None,
    precision: Annotated[
        str, typer.Option(help="fp32, or bf16 (faster on CPUs with bf16 support).")
    ] = "fp32",
    runtime: Annotated[
        str, typer.Option(help="torch, onnx or onnx-int8 (onnxruntime; exported once, cached).")
    ] = "torch",
    rag: Annotated[
        bool | None,
        typer.Option(
            "--rag/--no-rag",
            help="Start from retrieved motion phrases (default model: the default if it takes a "
            "prior, else tiny-rag), or never. Default: as the model says (the shipped default "
            "retrieves for a prompt without music when `motiongen index build` has run).",
        ),
    ] = None,
    index: Annotated[
        Path | None,
        typer.Option(help="Motion index for --rag (default: `motiongen index build`'s)."),
    ] = None,
    reranker: Annotated[
        str | None, typer.Option(help="Reranker folder for --rag; default none (dense order).")
    ] = None,
    literal: Annotated[
        bool,
        typer.Option(
            help="Send the prompt as written, also a style its action was never recorded in "
            "(by default such style words are left out, with a warning) and manner words no "
            "training text uses (by default said as the style they mean, 'merrily' as "
            "'happily')."
        ),
    ] = False,
    fps: Annotated[
        float | None,
        typer.Option(
            help="Frame rate of the written motions (default: the model's, 20; more frames "
            "are interpolated along a cubic spline)."
        ),
    ] = None,
    prior_start: Annotated[
        float | None,
        typer.Option(
            help="Where sampling starts from the retrieved phrases, 0-1 (the default model "
            "0.5: seeds of an action with few takes differ by centimetres; lower varies more "
            "and follows the prompt less; 0: from noise)."
        ),
    ] = None,
    beat_sync: Annotated[
        bool | None, typer.Option("--beat-sync/--no-beat-sync", help=BEAT_SYNC_HELP)
    ] = None,
    no_travel: Annotated[bool, typer.Option("--no-travel", help=NO_TRAVEL_HELP)] = False,
    loop: Annotated[bool, typer.Option("--loop", help=LOOP_HELP)] = False,
    timeline: Annotated[
        bool | None,
        typer.Option(
            "--timeline/--no-timeline",
            help="A prompt that puts actions one after the other ('walks, then waves') is made "
            "as a timeline of them, as `motiongen compose` makes it (default, given no music "
            "and no --rag/--no-rag); --no-timeline makes one motion of the whole prompt.",
        ),
    ] = None,
) -> None:
    """Generate motion from a text prompt (optionally following music), or from a file of
    prompts (--prompts) into a folder."""
    if output is None:
        raise InputError("give --output (-o): a file, or with --prompts a folder")
    if prior_start is not None and not 0 <= prior_start < 1:
        raise InputError(f"--prior-start must be in [0, 1), got {prior_start:g}")
    if prompts is not None:
        if prompt is not None:
            raise InputError("give a prompt or --prompts FILE, not both")
        if prior_start is not None:
            raise InputError(
                "--prior-start is for a single prompt (--prompts does not take it yet); "
                "leave it out, or run generate per prompt"
            )
        if music is not None or batch != 1:
            raise InputError(
                "--prompts makes one motion per line (--takes for more); "
                "--music and --batch are for a single prompt"
            )
        from motiongen.cli.many import run_many

        run_many(
            prompts, output, fmt=format or "bvh", takes=takes, batch_size=batch_size, seconds=seconds,
            steps=steps, sampler=sampler, guidance=guidance, seed=seed or 0,
            checkpoint=checkpoint, postprocess=postprocess, threads=threads,
            precision=precision, runtime=runtime, literal=literal, fps=check_output_fps(fps, format or "bvh"),
            rag=rag, index=index, reranker=reranker, no_travel=no_travel, loop=loop,
            timeline=timeline,
        )  # fmt: skip
        return
    if prompt is None:
        raise InputError(
            "give a prompt, e.g. motiongen generate 'a person waves' -o wave.mp4, or --prompts FILE"
        )
    if takes != 1:  # it was left unread: one file, no word
        raise InputError(
            "--takes is for --prompts (motions per line); for several motions of one prompt "
            f"use --batch {max(2, takes)}"
        )
    if format is not None:  # as --takes: the output's extension names the format here
        raise InputError(
            f"--format is for --prompts; for one prompt the output's extension names the "
            f"format (-o motion.{format.lstrip('.')})"
        )
    if batch_size != 8:
        raise InputError("--batch-size is for --prompts; for one prompt use --batch N")
    _run(
        text=prompt,
        music=music,
        music_offset=music_offset,
        output=output,
        seconds=seconds,
        steps=steps,
        sampler=sampler,
        guidance=guidance,
        seed=seed,
        checkpoint=checkpoint,
        batch=batch,
        postprocess=postprocess,
        threads=threads,
        precision=precision,
        title=prompt.strip(),
        runtime=runtime,
        rag=rag,
        index=index,
        reranker=reranker,
        literal=literal,
        fps=fps,
        prior_start=prior_start,
        beat_sync=beat_sync,
        no_travel=no_travel,
        loop=loop,
        timeline=timeline,
    )


def dance(
    song: Annotated[Path, typer.Argument(help="Music file (WAV, OGG, FLAC, MP3).")],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="Output: .mp4 (music muxed in) .gif .png .bvh .npy ..."
        ),
    ],
    seconds: Annotated[
        float | None,
        typer.Option(
            help=f"Length (default: the song from --offset, at most {DANCE_DEFAULT_SECONDS:g} s)."
        ),
    ] = None,
    offset: Annotated[float, typer.Option(help="Seconds into the song to start.")] = 0.0,
    steps: Annotated[int | None, typer.Option(help="Sampler steps.")] = None,
    sampler: Annotated[str | None, typer.Option(help="euler, midpoint, heun or ddim.")] = None,
    guidance: Annotated[str | None, typer.Option(help="Guidance scale.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="Checkpoint folder.")] = None,
    batch: Annotated[int, typer.Option(help="How many motions.")] = 1,
    postprocess: Annotated[bool, typer.Option(help="Physical clean-up.")] = True,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch.")] = None,
    precision: Annotated[str, typer.Option(help="fp32 or bf16.")] = "fp32",
    runtime: Annotated[str, typer.Option(help="torch, onnx or onnx-int8.")] = "torch",
    text: Annotated[
        str | None,
        typer.Option(
            help="A prompt beside the music, e.g. 'a person dances jazz' (needed by --rag)."
        ),
    ] = None,
    rag: Annotated[
        bool,
        typer.Option(help="Start from retrieved dance phrases at the song's tempo (needs --text)."),
    ] = False,
    index: Annotated[Path | None, typer.Option(help="Motion index for --rag.")] = None,
    fps: Annotated[
        float | None, typer.Option(help="Frame rate of the written motions (default 20).")
    ] = None,
    beat_sync: Annotated[
        bool | None, typer.Option("--beat-sync/--no-beat-sync", help=BEAT_SYNC_HELP)
    ] = None,
    literal: Annotated[
        bool,
        typer.Option(
            help="Send --text as written, also a style its dance was never recorded in (by "
            "default such style words are left out, with a warning that names this option)."
        ),
    ] = False,
) -> None:
    """Dance to a song (and a prompt, with --text), the song muxed into the MP4."""
    from motiongen.generation.request import dance_seconds
    from motiongen.io.audio import audio_duration

    if not (offset >= 0):
        raise InputError(f"--offset must be >= 0 seconds, got {offset}")
    if rag and text is None:
        # the network learned retrieved phrases only beside a prompt (dropped with it)
        raise InputError(
            "--rag searches the index with a prompt: add one, e.g. --text 'a person dances a waltz'"
        )
    if seconds is None:
        length = audio_duration(song)
        if length <= 0:
            raise InputError(f"audio {song.name} has no samples (0 s long)")
        seconds = dance_seconds(length, offset, song.name)
    _run(
        text=text,
        music=song,
        music_offset=offset,
        output=output,
        seconds=seconds,
        steps=steps,
        sampler=sampler,
        guidance=guidance,
        seed=seed,
        checkpoint=checkpoint,
        batch=batch,
        postprocess=postprocess,
        threads=threads,
        precision=precision,
        title=song.stem if text is None else f"{text} ({song.stem})",
        runtime=runtime,
        fps=fps,
        rag=rag,
        index=index,
        beat_sync=beat_sync,
        literal=literal,
    )
    if text is None:
        # The kind of dance comes from a prompt far more than from the music: music alone gave
        # the right kind for about half the test windows, a waltz for most other music.
        out.print(
            "note: danced to the music alone, which the model mostly dances as a waltz; name "
            "the dance to choose it (--text 'a person dances the cha-cha', the rumba or the "
            "waltz)",
            highlight=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add ``generate`` and ``dance`` to the ``motiongen`` command."""
    app.command("generate")(generate)
    app.command("dance")(dance)
