"""The actions a motion does one after the other, read from the label classifier's
probabilities over its sliding windows: a walk that stops and waves is two segments, a walk
one. A restyle of a motion that carries no timeline restyles each with its own words: read as
one walk, a walk-stop-wave lost its wave (a new user's trial).

Actions are compared by kind (``kind``), not label: the classifier reads the end of a real
wave, the hand coming down, as a raise of that hand, and the turn at the end of a walk as a
turn; told apart by label 11 % of real single-action takes of 6 s or more were read as two
actions. By kind, with a kind sure (probability > ``SURE``) in ``LEAST_WINDOWS`` windows in a
row: none of 828 real takes of 6 s or more (every split, music aside) read as two, 14 of 16
composed two-action timelines (3.5 s each, tiny-control, 2 seeds of 8 pairs) cut within 0.6 s
of their join (missed: both walks into a kick, the kick read as a dance or a walk)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WINDOW_SECONDS = 3.0  # the classifier's windows are 3 s
HOP_SECONDS = 0.25
SURE = 0.5
LEAST_WINDOWS = 3

_ARMS = ("wave", "raise", "bye", "call", "respond", "guide")


def kind(content: str) -> str:
    """The kind of an action: "arms" for waves, raises, goodbyes, calls ...; "walk" for every
    walk (turning, sideways, backwards); else the action itself."""
    if content.startswith(_ARMS):
        return "arms"
    if content.startswith("walk"):
        return "walk"
    return content


def window_starts(frames: int, fps: float) -> list[int]:
    """The first frames of the sliding windows over a motion of ``frames`` ([] when no two
    windows fit)."""
    window, hop = int(round(WINDOW_SECONDS * fps)), max(1, int(round(HOP_SECONDS * fps)))
    starts = list(range(0, frames - window + 1, hop))
    return starts if len(starts) >= 2 else []


def actions_in_turn(
    probs: np.ndarray,
    contents: Sequence[str],
    starts: Sequence[int],
    window: int,
    frames: int,
    least_frames: int,
) -> list[tuple[str, int]]:
    """[(action, frames)] covering the motion's ``frames`` in turn, when it does actions of more
    than one kind one after the other; [] for a motion that does one thing. ``probs`` (W, C):
    the content probabilities of the windows of ``window`` frames starting at ``starts``.
    Each action is its windows' likeliest label of its kind; the cut between two lies halfway
    between the middles of the last window of one and the first of the next. A part under
    ``least_frames`` joins the one before it (so does a part then of the same label)."""
    probs = np.asarray(probs, dtype=float)
    kinds = sorted({kind(c) for c in contents})
    of_kind = np.array([[kind(c) == k for c in contents] for k in kinds], dtype=float)
    by_kind = probs @ of_kind.T  # (W, kinds)
    top = by_kind.argmax(1)
    runs: list[list[int]] = []  # [kind, first window, last window] of sure windows in a row
    for i, (k, sure) in enumerate(zip(top, by_kind.max(1) > SURE, strict=True)):
        if not sure:
            continue
        if runs and runs[-1][0] == k and runs[-1][2] == i - 1:
            runs[-1][2] = i
        else:
            runs.append([int(k), i, i])
    turns: list[list[int]] = []  # runs long enough, those of one kind merged
    for k, a, b in runs:
        if b - a + 1 < LEAST_WINDOWS:
            continue
        if turns and turns[-1][0] == k:
            turns[-1][2] = b
        else:
            turns.append([k, a, b])
    if len(turns) < 2:
        return []
    parts: list[tuple[str, int]] = []  # (action, first frame)
    for i, (k, a, b) in enumerate(turns):
        label = contents[int(np.argmax(probs[a : b + 1].sum(0) * of_kind[k]))]
        if not parts:
            parts.append((label, 0))
            continue
        cut = int(round((starts[turns[i - 1][2]] + starts[a]) / 2 + window / 2))
        long_enough = cut - parts[-1][1] >= least_frames and frames - cut >= least_frames
        if long_enough and label != parts[-1][0]:  # (the same again: a short part between)
            parts.append((label, cut))
    ends = [start for _, start in parts[1:]] + [frames]
    segments = [(label, end - start) for (label, start), end in zip(parts, ends, strict=True)]
    return segments if len(segments) > 1 else []
