"""Span edits made by a text model and sewn in by in-betweening.

The control model remakes an edited span itself, but it follows a text less well than the
best text-only model (docs/control.md: a 3 s span recognised as its new action in about half
the windows). So a span can instead come whole from a text model, as a timeline's segments
do. The text model makes the span less a short seam at each end the motion goes on past (so
no seam cuts into its action); that motion is turned to face halfway between the frame before
the span and the frame after it and moved on the ground so each seam carries the body as far
as easing from the kept motion's pace into its own covers (``SEAM_SPEED`` at least), the rest
slid across it; the control model in-betweens the seams, the frames outside the span given
exactly. Pure functions of positions; ``Pipeline.edit`` runs the models.
"""

from __future__ import annotations

import numpy as np

from motiongen.canonical import heading, rotate_y
from motiongen.skeleton import PELVIS
from motiongen.tasks import BODY_PARTS

# Seconds in-betweened at each seam, at most a quarter of the span. Chosen on val (120 edits
# of a 3 s span, `benchmarks/tasks.py`'s windows, 20 fps): seams of 6 / 8 / 10 frames gave
# 62.5 / 55.8 / 49.2 % recognised as the new action (the control model alone 51.7 %).
SEAM_SECONDS = 0.3
# How fast the seams carry the body over the ground (m/s) at least: a calm walk (1.5 m/s
# recognised 60.8 % on the val edits above); as fast as easing between the kept motion's pace
# and the new motion's where that is more (``placed_in_span``). A span whose new motion ends
# farther from where the kept motion resumes slides the rest across the span.
SEAM_SPEED = 1.0
# Longer seams where the kept motion travels (following the distance at 1.5 m/s, at most a
# quarter of the span) would carry the body instead of sliding it, but cost the action its time:
# on the val edits (3 s spans, 120 windows) 46.7 % recognised instead of 62.5 %, sanity 91.7 %
# instead of 79.2 % (2026-12-02; removed, a slide is said in the warning or stepped, below).
SEAM_SHARE = 0.25
# A slide faster than this (m/s) is said in the motion's warning.
SLIDE_WARNING = 0.3
# A new motion that would slide over the ground faster than this (m/s) - an in-place action
# put where the motion around it walks on at walking pace - keeps only its upper body and
# path: the control model makes its legs, which step along instead of gliding. Val (120 edits
# of a 3 s span, `benchmarks/tasks.py`): sanity passed 86.7 -> 95.0 %, recognised 62.5 ->
# 55.0 % (the classifier reads walking legs as a walk); from 0.3 m/s up: 96.7 % and 53.3 %,
# foot skating in the span 0.388 -> 0.277 (test, 40 edits: sanity 90 % both ways, recognised
# 65 -> 55 %, skating 0.314 -> 0.286). Said in the warning.
STEP_SLIDE = 1.0
# ...unless the new motion's legs are its action: an ankle rising this much (m) above its
# median (the kick contract's rule) keeps its legs and slides, said in the warning. Stepping,
# the control model's legs walked on and an edit to "a person kicks with the left leg" lifted
# the ankle 0.24 m where the made motion kicked 0.9 m (a new-user trial, 2026-12-05).
LEG_ACTION = 0.25


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def span_gap(motion: np.ndarray, a: int, b: int) -> float:
    """Ground distance (m) the pelvis covers from the frame before the span [a, b) to the
    frame after it: what the seams must carry (0 when the span touches an end)."""
    if a == 0 or b >= len(motion):
        return 0.0
    return float(np.linalg.norm(motion[b, PELVIS, [0, 2]] - motion[a - 1, PELVIS, [0, 2]]))


def seam_frames(span: int, fps: float) -> int:
    """Frames in-betweened at each inner end of a ``span``-frame edit at ``fps``:
    ``SEAM_SECONDS``, at most ``SEAM_SHARE`` of the span."""
    return min(int(round(SEAM_SECONDS * fps)), int(span * SEAM_SHARE))


def core(motion: np.ndarray, a: int, b: int, fps: float) -> tuple[int, int]:
    """Frames [a + lo, a + hi) of an edit of frames [a, b) of ``motion`` that the new motion
    fills whole: the span but for a seam at each end the motion goes on past."""
    cut = seam_frames(b - a, fps)
    return (cut if a > 0 else 0), (b - a - cut if b < len(motion) else b - a)


def placed_in_span(
    segment: np.ndarray, motion: np.ndarray, a: int, b: int, fps: float
) -> tuple[np.ndarray, float]:
    """(placed, slide): ``segment`` (the core's frames, ``core``) turned about Y and moved on
    the ground to stand in the edit of frames [a, b) of ``motion``: it faces halfway between
    the turns that would meet the frame before the span and the frame after it; the seams
    carry the body as far as easing from the kept motion's pace into the core's own covers, or
    ``SEAM_SPEED`` if that is more, and what is left of the distance slides evenly across the
    core. A span at an end of the motion is set off from the kept frame beside it by what easing
    between the two paces covers. (Meeting only the frame before, as a timeline does, left a
    walk's end 1-4 m from where the motion resumed: one seam cannot walk that.) slide: that
    slide's speed over the ground, m/s (0 when the seams carry it all)."""
    from motiongen.generation.timeline import eased_reach, edge_pace
    from motiongen.tasks.pace import MOVING_SPEED, ground_speed

    seg = np.asarray(segment, dtype=np.float64)
    pos = np.asarray(motion, dtype=np.float64)
    before = pos[a - 1 : a] if a > 0 else None
    after = pos[b : b + 1] if b < len(pos) else None
    gap_s = (seam_frames(b - a, fps) + 1) / fps  # from a kept frame to the new motion's edge
    turns = []
    if before is not None:
        turns.append(float(heading(before)[0] - heading(seg[:1])[0]))
    if after is not None:
        turns.append(float(heading(after)[0] - heading(seg[-1:])[0]))
    slide = 0.0
    turn = turns[0] + (_wrap(turns[1] - turns[0]) / 2 if len(turns) == 2 else 0.0) if turns else 0.0
    p = rotate_y(seg, turn)
    ground = [0, 2]
    if before is None and after is None:  # the whole motion: stand where it started
        shift = pos[0, PELVIS, ground] - p[0, PELVIS, ground]
        offsets = np.repeat(shift[None], len(p), axis=0)
    elif after is None or before is None:
        # the seam covers what easing from the kept motion's pace into the new one's covers:
        # set where the kept frame stands, a walk stopped dead at a bow (1.15 -> 0.16 m/s in
        # one frame) or set off from it at full pace (a new user's trial)
        if after is None:
            ease = eased_reach(
                edge_pace(pos[:a], fps, end=True), edge_pace(p, fps, end=False), gap_s
            )
            shift = before[0, PELVIS, ground] + ease - p[0, PELVIS, ground]
        else:
            ease = eased_reach(
                edge_pace(p, fps, end=True), edge_pace(pos[b:], fps, end=False), gap_s
            )
            shift = after[0, PELVIS, ground] - ease - p[-1, PELVIS, ground]
        offsets = np.repeat(shift[None], len(p), axis=0)
    else:
        start = before[0, PELVIS, ground] - p[0, PELVIS, ground]
        end = after[0, PELVIS, ground] - p[-1, PELVIS, ground]
        gap = end - start  # beyond the new motion's own travel
        dist = float(np.linalg.norm(gap))
        unit = gap / dist if dist > 1e-9 else np.zeros(2)
        core_s = (len(p) - 1) / fps
        # each seam eases from the kept motion's pace into the new motion's own (both along
        # the way, the slide's included); what the seams do not carry slides evenly across the
        # new motion (at SEAM_SPEED alone a walk's 1.3 m/s dipped to 0.6 in one frame at each
        # seam; a walk set in a walk's span stopped in its seams: a new user's trial, a review)
        # (only a new motion that travels brings a pace of its own: an action done in place,
        # slower than MOVING_SPEED, is eased into at the slide's pace alone)
        own = ground_speed(p, fps) >= MOVING_SPEED
        paces = np.array(
            [
                (edge_pace(pos[:a], fps, end=True) + own * edge_pace(p, fps, end=False)) @ unit,
                (own * edge_pace(p, fps, end=True) + edge_pace(pos[b:], fps, end=False)) @ unit,
            ]
        ).clip(min=0.0)
        # together the seams carry (paces + 2 slide) / 2 over the seam's time, or SEAM_SPEED's
        # reach if that is more: solved for the slide, continuous in the distance
        reach = SEAM_SPEED * seam_frames(b - a, fps) / fps
        slide = (dist - 0.5 * paces.sum() * gap_s) / (core_s + gap_s)
        if (0.5 * paces.sum() + slide) * gap_s < 2 * reach:
            slide = max(dist - 2 * reach, 0.0) / core_s if core_s > 0 else 0.0
        weights = paces + slide
        share = weights[0] / weights.sum() if weights.sum() > 0 else 0.5
        ramp = np.linspace(0.0, 1.0, len(p))[:, None]
        offsets = start + unit * ((dist - slide * core_s) * share + slide * core_s * ramp)
    out = p.copy()
    out[..., 0] += offsets[:, None, 0]
    out[..., 2] += offsets[:, None, 1]
    return out, slide


def span_keyframes(
    motion: np.ndarray,
    placed: np.ndarray,
    a: int,
    b: int,
    fps: float,
) -> tuple[list[np.ndarray], list[int]]:
    """(keyframes, their start frames) for in-betweening ``placed`` (the core's frames) into
    the edit of frames [a, b) of ``motion``: every frame outside the span given as it is, the
    new motion whole, the seams between them free."""
    pos = np.asarray(motion, dtype=np.float64)
    lo, hi = core(pos, a, b, fps)
    if len(placed) != hi - lo:
        raise ValueError(f"the new motion has {len(placed)} frames, the core {hi - lo}")
    keys, starts = [], []
    if a > 0:
        keys.append(pos[:a])
        starts.append(0)
    keys.append(np.asarray(placed, dtype=np.float64))
    starts.append(a + lo)
    if b < len(pos):
        keys.append(pos[b:])
        starts.append(b)
    return keys, starts


def legs_act(positions: np.ndarray, fps: float) -> bool:
    """Whether a motion's legs do its action in place (``LEG_ACTION``: a kick), so that
    stepping them along (``legs_freed``) would lose it. A run or sprint lifts its ankles as
    high, but travels: its legs step already."""
    from motiongen.retrieval.sides import limb_reach
    from motiongen.tasks.pace import MOVING_SPEED, ground_speed

    return bool(
        limb_reach(positions, "leg").max() >= LEG_ACTION
        and ground_speed(positions, fps) < MOVING_SPEED
    )


def legs_freed(targets: np.ndarray, start: int, stop: int) -> np.ndarray:
    """In-betweening ``targets`` (T, 22, 3) with the legs of frames [start, stop) (the new
    motion's, where it slides: ``STEP_SLIDE``) left to the model."""
    out = np.array(targets, dtype=np.float64, copy=True)
    out[start:stop, list(BODY_PARTS["legs"])] = np.nan
    return out
