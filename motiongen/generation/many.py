"""Many prompts to many files: a prompts file, one output per prompt (or several), shared out
between processes (``accelerate launch``) and resumable.

Every motion's seed and file name depend only on its place in the prompts file, so the same
file gives the same motions whether it runs in one process or eight, and a run that was
stopped continues with what is missing (finished files are skipped; files are written under a
temporary name and renamed, so a half-written file never counts as done).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motiongen.errors import InputError
from motiongen.io import PICTURES

MAX_PROMPTS = 100_000
FORMATS = ("bvh", "npz", "npy", "motion", "motion.json", "mp4", "gif", "png")


@dataclass(frozen=True)
class Item:
    index: int  # the prompt's line among the prompts (0-based, blank lines and comments skipped)
    take: int  # the k-th motion of that prompt
    text: str
    seed: int
    path: Path


def read_prompts(path: Path) -> list[str]:
    """The prompts of a text file: one per line; blank lines and lines starting with # skipped."""
    from motiongen.conditioning.text import validate_prompt

    if not path.is_file():
        raise InputError(
            f"prompts file {path} not found; give a text file with one prompt per line"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"prompts file {path} is not UTF-8 text") from None
    prompts = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            prompts.append(validate_prompt(line))
        except InputError as exc:
            raise InputError(f"{path}:{number}: {exc}") from None
    if not prompts:
        raise InputError(f"prompts file {path} has no prompts (one per line; # starts a comment)")
    if len(prompts) > MAX_PROMPTS:
        raise InputError(f"prompts file {path} has {len(prompts)} prompts; at most {MAX_PROMPTS}")
    return prompts


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit].rstrip("_") or "motion"


def plan(
    prompts: Sequence[str], folder: Path, *, fmt: str, takes: int = 1, seed: int = 0
) -> list[Item]:
    """Every motion to make: ``folder/00003_a_person_waves[_k].fmt`` with seed
    ``seed + index * takes + take``."""
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not 1 <= takes <= 1000:
        raise InputError(f"--takes must be 1..1000, got {takes}")
    items = []
    for i, text in enumerate(prompts):
        for k in range(takes):
            suffix = f"_{k}" if takes > 1 else ""
            name = f"{i:05d}_{slug(text)}{suffix}.{fmt}"
            items.append(Item(i, k, text, seed + i * takes + k, folder / name))
    return items


def shard(items: Sequence[Item], rank: int, world: int) -> list[Item]:
    """This process's share: every world-th item, so long and short prompts spread evenly."""
    return list(items[rank::world])


def generate_many(
    pipe: Any,
    items: Iterable[Item],
    *,
    seconds: float | None,
    steps: int | None = None,
    sampler: str | None = None,
    guidance: Any = None,
    batch_size: int = 8,
    postprocess: bool = True,
    progress: Callable[[int], None] | None = None,
    manifest: Path | None = None,
    warn: Callable[[Item, str], None] | None = None,
    literal: bool = False,
    fps: float | None = None,
    rag: bool | None = None,
    no_travel: bool = False,
    loop: bool = False,
    timeline: bool | None = None,
) -> list[Path]:
    """Write every item not yet on disk, ``batch_size`` motions per model pass; returns the
    files written. Each finished file gets a line in ``manifest`` (JSON lines). literal:
    prompts go to the network as written (``Pipeline.generate``). fps: the written motions'
    frame rate (default the model's). rag: as ``Pipeline.generate``'s (None: the model's
    default). no_travel: written without the pelvis's travel (``Motion.without_travel``);
    loop: as its best loop (``Motion.exported``; one too short to loop is written as made,
    with a warning). timeline: as ``Pipeline.generate``'s ("walks, then waves" becomes a
    timeline of its segments by default, given no rag setting; False never; True every prompt).
    warn(item, message): called once per prompt whose motion carries a warning
    (e.g. far from every trained action), as a single generation prints it."""
    from motiongen.io.render import picture_title

    todo = [item for item in items if not item.path.is_file()]
    asked = {"seconds": seconds, "steps": steps, "sampler": sampler, "guidance": guidance,
             "literal": literal}  # fmt: skip
    # "walks, then waves": a timeline, as a single generation makes it (each its own pass),
    # checked here with the other lines, before any is made
    timelines: dict[int, Any] = {}
    requests = {}
    for i, item in enumerate(todo):
        try:  # a line's mistake names the line (the run stops before any motion is made)
            if pipe.makes_timeline(item.text, None, timeline, rag=rag):
                timelines[i] = pipe.check_timeline(item.text, seed=item.seed, **asked)
            else:
                requests[i] = pipe.check_request(item.text, seed=item.seed, rag=rag, **asked)
        except InputError as exc:
            raise InputError(f"{item.path.name} ({item.text!r}): {exc}") from None
    # One model pass per kind of request, over the whole list: prompts get lengths of their
    # own (and with the default's retrieval a prompt the index does not match has no prior),
    # so neighbours in the file seldom share a pass.
    groups: dict[tuple, list[int]] = {}
    for i, req in requests.items():
        groups.setdefault(pipe.batch_key(req), []).append(i)
    chunks = [[i] for i in sorted(timelines)] + [
        members[start : start + batch_size]
        for members in groups.values()
        for start in range(0, len(members), batch_size)
    ]
    warned: set[str] = set()
    written = []
    for chunk in chunks:
        if chunk[0] in timelines:
            made = [pipe.run_timeline(timelines[chunk[0]], postprocess)]
        else:
            made = pipe.generate_batch([requests[i] for i in chunk], postprocess=postprocess)
        for item, motion in zip([todo[i] for i in chunk], made, strict=True):
            try:
                motion = motion.exported(fps, loop, no_travel)
            except InputError as err:  # too short to loop: written as made, said, not fatal
                if warn is not None:
                    warn(item, f"written without a loop: {err}")
                motion = motion.exported(fps, False, no_travel)
            item.path.parent.mkdir(parents=True, exist_ok=True)
            partial = item.path.with_name(f".partial-{item.path.name}")
            picture = item.path.suffix in PICTURES
            options = {"title": picture_title(motion, item.text)} if picture else {}
            # The manifest line first, then the rename: a file that counts as done always has
            # its line (the merge keeps only lines whose file exists).
            motion.save(partial, **options)
            if manifest is not None:
                with manifest.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(_record(item, motion)) + "\n")
            partial.replace(item.path)
            written.append(item.path)
            if warn is not None and motion.meta.get("warning") and item.text not in warned:
                warned.add(item.text)
                warn(item, motion.meta["warning"])
        if progress is not None:
            progress(len(chunk))
    return written


def _record(item: Item, motion: Any) -> dict[str, Any]:
    return {
        "file": item.path.name,
        "prompt": item.text,
        "index": item.index,
        "take": item.take,
        "seed": item.seed,
        "frames": motion.num_frames,
        "fps": motion.fps,
        "warning": motion.meta.get("warning"),
        # the prompt the network was given, when a style never recorded with its action
        # was left out (generation.vocabulary)
        "used": (motion.meta.get("vocabulary", {}).get("unseen_style") or {}).get("used"),
    }
