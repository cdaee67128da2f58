"""``motiongen index build | info | query | add | remove | train-reranker``: the retrieval
index of motion phrases (``motiongen.retrieval``)."""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from motiongen.cli.console import loss_progress, out, progress_bar
from motiongen.errors import InputError

index_app = typer.Typer(
    help="The retrieval index of motion phrases: build, inspect, query, edit.",
    no_args_is_help=True,
)

IndexDir = Annotated[
    Path | None,
    typer.Option("--index", "-i", help="Index folder (default: $MOTIONGEN_INDEX or the one in "
                 "the prepared cache)."),
]  # fmt: skip


def _folder(index: Path | None) -> Path:
    from motiongen.generation.rag import default_index_dir

    return index if index is not None else default_index_dir()


def _bar_callback(bar, label: str):  # noqa: ANN202 - a (done, total) callback
    task = bar.add_task(label, total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return progress


@index_app.command("build")
def build(
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Folder to write.")] = None,
    splits: Annotated[
        list[str] | None, typer.Option("--split", help="Data splits to index (repeatable).")
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option("--folder", help="Index your own motion files (BVH, npy, .motion) instead."),
    ] = None,
    kind: Annotated[str, typer.Option(help="flat | ivf | ivfpq")] = "flat",
    nlist: Annotated[int, typer.Option(help="IVF cells (0: about 4 sqrt(N)).")] = 0,
    bars: Annotated[int, typer.Option(help="Bars per music phrase: 4 or 8.")] = 4,
    data: Annotated[Path | None, typer.Option(help="Data directory (default: shared).")] = None,
) -> None:
    """Cut motions into phrases and index them (default: the data's training split, so
    evaluation on val/test never retrieves its own take)."""
    from motiongen.retrieval.build import build_index, collect_data_phrases, collect_folder_phrases

    t0 = time.perf_counter()
    skipped: list[str] = []
    with progress_bar() as bar:
        if folder is not None:
            phrases, motions, skipped = collect_folder_phrases(
                folder, progress=_bar_callback(bar, "cutting phrases")
            )
        else:
            from motiongen.data.prepare import prepare

            prepared = prepare(data).data
            phrases, motions = collect_data_phrases(
                tuple(splits or ["train"]), bars=bars, prepared=prepared.root,
                progress=_bar_callback(bar, "cutting phrases"),
            )  # fmt: skip
            source = {"fingerprint": prepared.fingerprint, "splits": list(splits or ["train"]),
                      "fps": 20.0}  # fmt: skip
        index = build_index(
            phrases, motions, kind=kind, nlist=nlist, progress=_bar_callback(bar, "embedding"),
            source=source if folder is None else {"folder": str(folder)},
        )  # fmt: skip
    target = _folder(output)
    index.save(target)
    for s in skipped:
        out.print(f"skipped {s}", soft_wrap=True, highlight=False)
    info = index.info()
    out.print(
        f"indexed {info['phrases']} phrases of {info['clips']} motions ({info['seconds']:.0f} s, "
        f"{info['labels']} label{'' if info['labels'] == 1 else 's'}) in "
        f"{time.perf_counter() - t0:.0f} s -> {target}",
        soft_wrap=True, highlight=False,
    )  # fmt: skip


@index_app.command("info")
def info(index: IndexDir = None) -> None:
    """What an index holds."""
    from motiongen.retrieval import MotionIndex

    out.print(json.dumps(MotionIndex.load(_folder(index)).info(), indent=2), highlight=False)


MAX_TEMPO = 300.0  # BPM: the fastest music the dance set's features were made for is ~200


@index_app.command("query")
def query(
    text: Annotated[str | None, typer.Argument(help="What the motion does.")] = None,
    index: IndexDir = None,
    motion: Annotated[
        Path | None, typer.Option("--motion", help="Query by an example motion file.")
    ] = None,
    tempo: Annotated[float, typer.Option(help="Music tempo to match, BPM (0: none).")] = 0.0,
    k: Annotated[int, typer.Option("--k", "-k", help="Dense candidates.")] = 10,
    n: Annotated[int, typer.Option("--n", "-n", help="Phrases to show.")] = 5,
    reranker: Annotated[
        str | None, typer.Option(help="A reranker folder (ours or a CrossEncoder).")
    ] = None,
    prior: Annotated[
        Path | None, typer.Option(help="Also write the blended prior (.bvh/.npy/.motion/.mp4).")
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length of the prior.")] = 6.5,
) -> None:
    """The phrases a query retrieves (and the prior they blend into)."""
    from motiongen.generation.rag import make_retriever
    from motiongen.generation.request import check_seconds

    if not math.isfinite(tempo) or not 0 <= tempo <= MAX_TEMPO:
        raise InputError(
            f"--tempo must be 0 (none) or a tempo up to {MAX_TEMPO:g} BPM, got {tempo:g}"
        )
    if text is None and motion is None and tempo <= 0:
        raise InputError("give a text, --motion FILE or --tempo BPM to query with")
    if k < 1 or n < 1:
        raise InputError(f"-k and -n must be at least 1, got -k {k} -n {n}")
    if n > k:
        raise InputError(
            f"-n {n} asks for more phrases than the {k} dense candidates (-k); raise -k"
        )
    try:
        check_seconds(seconds)
    except InputError as e:
        raise InputError(f"--seconds: {e}") from None
    retriever = make_retriever(_folder(index), reranker=reranker, k=k, n=n)
    positions = None
    if motion is not None:
        from motiongen.cli.console import resolve_motion

        positions = resolve_motion(str(motion)).resample(20.0).positions
    hits = retriever.search(text, tempo=tempo, motion=positions)
    for rank, h in enumerate(hits, 1):
        p = h.phrase
        side = " (mirrored)" if p.mirrored else ""
        out.print(
            escape(f"{rank}. {h.score:.3f}  {p.text!r}  {f'[{p.label}]  ' if p.label else ''}{p.clip}{side} "
                   f"{p.start / p.fps:.1f}-{p.stop / p.fps:.1f} s"),
            soft_wrap=True, highlight=False,
        )  # fmt: skip
    if prior is not None:
        from motiongen.features import features_to_motion

        frames = max(2, int(round(seconds * 20.0)))
        built = retriever.prior_from_hits(hits, frames, 20.0, tempo=tempo)
        features_to_motion(built.features, 20.0, name="prior").save(prior)
        out.print(f"prior written to {prior}")


@index_app.command("add")
def add(
    folder: Annotated[Path, typer.Argument(help="Folder of motion files to add.")],
    index: IndexDir = None,
) -> None:
    """Add a folder's motions to an index (no rebuild)."""
    from motiongen.retrieval import MotionIndex
    from motiongen.retrieval.build import add_phrases, collect_folder_phrases

    target = _folder(index)
    idx = MotionIndex.load(target)
    phrases, motions, skipped = collect_folder_phrases(folder)
    # a motion added again would be found twice: the copy in the index stays
    held = {p.clip for p in idx.phrases.values()}
    again = sorted({p.clip for p in phrases if p.clip in held})
    phrases = [p for p in phrases if p.clip not in held]
    ids = add_phrases(idx, phrases, motions)
    idx.save(target)
    for s in skipped:
        out.print(f"skipped {s}", soft_wrap=True, highlight=False)
    if again:
        out.print(
            f"skipped {len(again)} motions already in the index ({', '.join(again[:5])}"
            f"{', ...' if len(again) > 5 else ''}); `motiongen index remove` them first to "
            "index them anew",
            soft_wrap=True,
            highlight=False,
        )
    out.print(f"added {len(ids)} phrases; the index holds {len(idx)}")


@index_app.command("remove")
def remove(
    clips: Annotated[list[str], typer.Argument(help="Names of the motions (clips) to remove.")],
    index: IndexDir = None,
) -> None:
    """Remove every phrase of the named motions (no rebuild)."""
    from motiongen.retrieval import MotionIndex

    target = _folder(index)
    idx = MotionIndex.load(target)
    ids = idx.ids_of_clips(clips)
    if not ids:
        names = sorted({p.clip for p in idx.phrases.values()})
        near = [n for n in names if any(c in n for c in clips)][:5] or names[:5]
        raise InputError(
            f"no phrase of {', '.join(clips)} in {target}; motions are named as indexed, with "
            f"their extension: {', '.join(near)}{', ...' if len(names) > len(near) else ''}"
        )
    idx.remove(ids)
    idx.save(target)
    out.print(f"removed {len(ids)} phrases; the index holds {len(idx)}")


@index_app.command("train-reranker")
def train_reranker_cmd(
    output: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")],
    index: IndexDir = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 1500,
    threads: Annotated[int, typer.Option(help="torch threads.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the cross-attention reranker on the index's phrases (hard negatives from the
    index itself)."""
    import torch

    from motiongen.retrieval import MotionIndex
    from motiongen.retrieval.rerank_training import train_reranker

    if steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}")
    torch.set_num_threads(threads)
    idx = MotionIndex.load(_folder(index))
    labels = idx.info()["labels"]
    if labels < 2:  # it "trained" to a loss of 0 on an index of unlabelled motions
        raise InputError(
            "a reranker learns which phrases share a label, and this index's phrases have "
            f"{labels} label{'' if labels == 1 else 's'}; train it on the prepared data's index "
            "(`motiongen index build`) or label the motions"
        )
    t0 = time.perf_counter()
    with loss_progress("training the reranker", steps) as progress:
        reranker, losses = train_reranker(idx, steps=steps, seed=seed, progress=progress)
    reranker.save(output)
    minutes = (time.perf_counter() - t0) / 60
    (Path(output) / "train.json").write_text(json.dumps({
        "command": shlex.join(["motiongen", *sys.argv[1:]]), "threads": threads,
        "minutes": round(minutes, 1), "phrases": len(idx), "final_loss": round(float(
            sum(losses[-50:]) / max(len(losses[-50:]), 1)), 4),
    }, indent=2))  # fmt: skip
    out.print(f"reranker saved to {output} ({minutes:.1f} min)")


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
