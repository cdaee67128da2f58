"""The prior builder: retrieved phrases -> one motion prior aligned to the target length.

softmax(score / temperature) weights; each phrase aligned to the target (time-stretched
toward the target tempo within ``max_stretch``, then stretched to fit when the length ratio
is within ``max_stretch``, else looped with a cross-fade or cut); every phrase after the
best one shifted in time to where its pose matches the best one's (``max_shift_seconds``):
the one kick clip's two phrases kick 17 frames apart, and blended unshifted the 0.9 m kicks
averaged to a 0.35 m lift; a weighted blend of the aligned phrases' features; Gaussian
smoothing along time. The blend is in the model's feature
space (pose relative to the pelvis, root velocities), where averaging takes after the
shared shape of the phrases instead of their unrelated world paths.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d

from motiongen.errors import InputError
from motiongen.features import (
    LOCAL_POS,
    ROOT_LIN_VEL,
    ROOT_ROT_VEL,
    ROOT_Y,
    VEL,
    features_to_positions,
    positions_to_features,
)

CROSSFADE_SECONDS = 0.25
POSE = slice(ROOT_Y.start, LOCAL_POS.stop)  # what "the same moment" is matched on
MOTION = (ROOT_ROT_VEL, ROOT_LIN_VEL, VEL)  # zero while a shifted phrase holds a frame
NEGLIGIBLE_WEIGHT = 1e-4  # a phrase weighted less is left out of the prior
# A sampler starts from a prior only when this share of its weight does one action: "a man
# backs up slowly" retrieved one backwards walk (0.21) and four exhausted runs (0.79), and
# started from that blend the man ran forwards where the network alone walked backwards.
AGREEMENT = 0.5


@dataclass
class Prior:
    """features: (T, 137) raw model features (smoothed, the network's prior input);
    positions: (T, 22, 3) of them; phrases: what went in (id, clip, span, text, label, score,
    weight), best first; starts: phrase index -> that phrase alone, aligned (shifted to the
    best one's timing) and unsmoothed, what a sampler starting from the prior starts from
    (``start_for``). Smoothed, a start lost the body's bounce (val FID_k 20.7 against 3.7);
    blended, the phrases' legs averaged into sliding feet (walks' skating 0.253 against 0.168
    from one phrase, real 0.240)."""

    features: np.ndarray
    phrases: list[dict[str, Any]] = field(default_factory=list)
    starts: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def positions(self) -> np.ndarray:
        return features_to_positions(self.features)

    @property
    def frames(self) -> int:
        return len(self.features)

    def turn_degrees(self) -> float:
        """How far the takes a sampler may start from turn round (their facing's range, deg)."""
        turns = [np.ptp(np.cumsum(f[:, ROOT_ROT_VEL.start])) for f in self.starts.values()]
        return float(np.degrees(max(turns, default=0.0)))

    def _agreeing(self, whole_label: bool = False) -> list[int]:
        return agreeing(self.phrases, whole_label)

    @property
    def agreement(self) -> float:
        """The weight share of the phrases doing the best phrase's action; 1.0 without
        phrase details."""
        return agreement(self.phrases)

    def start_for(self, rng: np.random.Generator) -> np.ndarray:
        """What one motion starts from: one of the phrases with the best phrase's label
        (action and style), drawn by weight: the seed picks among equally good takes (the
        data describes every take of a label alike, so they tie, and the best phrase alone
        made every seed a near-copy of one take; drawn from any style of the action, the
        style was lost: labels' style 98.5 -> 92.0 %); ``features`` without starts."""
        chosen = [i for i in self._agreeing(True) if i in self.starts] if self.phrases else []
        if not chosen:
            return self.features
        w = np.array([max(self.phrases[i].get("weight", 0.0), 0.0) for i in chosen])
        w = w / w.sum() if w.sum() > 0 else np.full(len(chosen), 1.0 / len(chosen))
        return self.starts[chosen[int(rng.choice(len(chosen), p=w))]]

    @property
    def agrees(self) -> bool:
        """Whether the phrases agree on one action (``AGREEMENT``): a sampler may start
        from this prior."""
        return self.agreement >= AGREEMENT


@dataclass
class BlendedPrior:
    """Two priors of one length mixed (1 - weight, weight), used as a ``Prior`` is: a restyle
    blended between two named styles starts between takes of the two styles, and at weight 0
    or 1 exactly where the restyle to that style alone starts (a blend with no start read
    P(sad) 0.27 at weight 1 against 0.88 for "sad" alone, which starts from sad takes: a new
    user's trial). Each prior draws its start with the same random state, as it alone would."""

    first: Prior
    second: Prior
    weight: float

    def __post_init__(self) -> None:
        if self.first.frames != self.second.frames:  # both are built for one request
            raise ValueError(
                f"blended priors need one length, got {self.first.frames} and "
                f"{self.second.frames} frames"
            )

    def _mix(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (1.0 - self.weight) * a + self.weight * b

    @property
    def features(self) -> np.ndarray:
        return self._mix(self.first.features, self.second.features)

    @property
    def positions(self) -> np.ndarray:
        return features_to_positions(self.features)

    @property
    def frames(self) -> int:
        return self.first.frames

    @property
    def phrases(self) -> list[dict[str, Any]]:
        return [*self.first.phrases, *self.second.phrases]

    @property
    def agrees(self) -> bool:
        return self.first.agrees and self.second.agrees

    def turn_degrees(self) -> float:
        return max(self.first.turn_degrees(), self.second.turn_degrees())

    def start_for(self, rng: np.random.Generator) -> np.ndarray:
        twin = copy.deepcopy(rng)
        return self._mix(self.first.start_for(rng), self.second.start_for(twin))


def agreeing(phrases: list[dict[str, Any]], whole_label: bool = False) -> list[int]:
    """Indices of the phrases (dicts with "label", "text", "weight") doing the best phrase's
    action (the content of their "content|style" label, else their text); whole_label: in
    its style too."""

    def action(p: dict[str, Any]) -> Any:
        label = p.get("label")
        if not label:
            return p.get("text")
        return str(label) if whole_label else str(label).split("|")[0]

    best = max(phrases, key=lambda p: p.get("weight", 0.0))
    return [i for i, p in enumerate(phrases) if action(p) == action(best)]


def agreement(phrases: list[dict[str, Any]]) -> float:
    """The weight share of ``phrases`` doing the best one's action; 1.0 for none."""
    if not phrases:
        return 1.0
    total = sum(p.get("weight", 0.0) for p in phrases) or 1.0
    return sum(phrases[i].get("weight", 0.0) for i in agreeing(phrases)) / total


# Gestures done once: cut to a shorter length they lose their end (a 3 s bow ended bent at
# 40 degrees), so they may play quicker instead. Repeating actions (waves, dances, walks;
# a slow sad walk or a rumba also keeps its pelvis nearly still) are cut as before: a shorter
# wave is still a wave, and a hurried rumba is not one.
ONE_SHOT = frozenset({"bow", "kick", "punch", "slash", "raise-up-both-hands",
                      "raise-up-left-hand", "raise-up-right-hand"})  # fmt: skip


# Of those, the gestures a body holds when given longer (a raise, a bow): the others (a kick,
# a punch) are done again. Held at its peak, "a person kicks" (its phrases 3.6 and 8.3 s,
# asked 8 s) stood on one leg for seconds, read as a dance in 2 of 3 seeds.
HELD = ONE_SHOT - {"kick", "punch", "slash"}


def _content(phrase: dict[str, Any]) -> str:
    """The action of a phrase (a dict with "label" "content|style")."""
    return str(phrase.get("label") or "").split("|")[0]


def one_shot(phrase: dict[str, Any]) -> bool:
    """Whether a phrase is a gesture done once."""
    return _content(phrase) in ONE_SHOT


def holds(phrase: dict[str, Any]) -> bool:
    """Whether a phrase is a gesture a body holds when given longer (``HELD``)."""
    return _content(phrase) in HELD


def _in_place(positions: np.ndarray, fps: float) -> bool:
    """Whether a phrase stays where it is (its pelvis slower than ``MOVING_SPEED`` over the
    ground): cut short, such an action loses its end; a walk cut short is still a walk."""
    from motiongen.tasks.pace import MOVING_SPEED, ground_speed

    return ground_speed(positions, fps) < MOVING_SPEED


def busiest_start(positions: np.ndarray, frames: int, fps: float) -> int:
    """The first frame of the ``frames`` frames of ``positions`` whose joints move most (their
    summed mean joint speed), at most ``len - frames``. A long take of a gesture done once
    spends seconds standing before it: a 2 s kick cut from the start of an 8.35 s take (4.2 s
    at its quickest) lifted the foot 5-17 cm instead of kicking."""
    from motiongen.retrieval.phrases import joint_speed

    if frames >= len(positions):
        return 0
    moving = np.concatenate([[0.0], np.cumsum(joint_speed(positions, fps))])
    return int(np.argmax(moving[frames:] - moving[:-frames]))


# How long around its peak a gesture done once is slowed to hold it (seconds each side).
HOLD_SECONDS = 0.25


def held(positions: np.ndarray, frames: int, fps: float) -> np.ndarray:
    """``positions`` (T, 22, 3) of a gesture done once, made ``frames`` long by holding it at
    its peak: the ``HOLD_SECONDS`` either side of the frame whose pose (about the pelvis) is
    farthest from its start and end poses, within its middle, played slowly enough to fill
    the time; lead-in and lead-out as recorded. Looped, "raises both hands" for 5 s raised
    them again and again, which the label classifier read as a wave in 6 of 12 seeds."""
    T = len(positions)
    if frames <= T:
        return positions
    pose = positions - positions[:, :1]
    rest = 0.5 * (pose[0] + pose[-1])
    far = np.linalg.norm(pose - rest, axis=-1).sum(axis=-1)
    lo, hi = T // 5, max(T // 5 + 1, T - T // 5)
    peak = lo + int(np.argmax(far[lo:hi]))
    k = max(1, int(round(HOLD_SECONDS * fps)))
    a, b = max(0, peak - k), min(T, peak + k + 1)
    return np.concatenate(
        [positions[:a], stretch(positions[a:b], (b - a) + frames - T), positions[b:]]
    )


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(scores, dtype=np.float64) / max(temperature, 1e-6)
    z = np.exp(z - z.max())
    return z / z.sum()


def stretch(positions: np.ndarray, frames: int) -> np.ndarray:
    """``positions`` (T, 22, 3) resampled to ``frames`` frames by linear interpolation."""
    T = len(positions)
    if frames == T:
        return positions
    src = np.linspace(0.0, T - 1, frames)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (src - i0)[:, None, None]
    return positions[i0] * (1 - w) + positions[i1] * w


def loop_features(
    features: np.ndarray, frames: int, fade: int, span: tuple[int, int] | None = None
) -> np.ndarray:
    """Features repeated to ``frames`` frames: played through to a frame that matches an
    earlier one (``loop_span``), then from there again, each repeat cross-fading in over
    ``fade`` frames (root channels are velocities, so the path continues instead of jumping
    back). Whole clips were repeated before: a walk recorded from a standing start played its
    end into that start, and a 20 s walk slowed to 0.7 m/s with both feet planted for half a
    second and its pelvis dropping 8 cm, near 9 s (a new user's trial). span: ``loop_span``'s
    answer when already known."""
    if len(features) >= frames:
        return features[:frames].copy()
    first, end = span if span is not None else loop_span(features)
    out = features[:end].copy()
    fade = max(0, min(fade, (end - first) // 2))
    w = np.linspace(0.0, 1.0, fade + 2)[1:-1, None]
    # what the phrase did after ``end``, faded into the repeat (the end of the phrase itself
    # when too few frames follow, overlapped as whole phrases were)
    after = features[end : end + fade]
    while len(out) < frames:
        nxt = features[first:end].copy()
        if fade and len(after) == fade:
            nxt[:fade] = after * (1 - w) + nxt[:fade] * w
        elif fade:
            nxt[:fade] = out[-fade:] * (1 - w) + nxt[:fade] * w
            out = out[:-fade]
        out = np.concatenate([out, nxt])
    return out[:frames]


def looped(features: np.ndarray, frames: int, extra: int, fps: float) -> tuple[np.ndarray, int]:
    """(``features`` as they are when at least ``frames`` long, else looped to ``frames +
    extra`` (``loop_features``, a ``CROSSFADE_SECONDS`` fade); how many of its first frames
    are played once, before a repeat: ``frames`` for a phrase not looped)."""
    if len(features) >= frames:
        return features, frames
    span = loop_span(features)
    fade = int(round(CROSSFADE_SECONDS * fps))
    return loop_features(features, frames + extra, fade, span), span[1]


def loop_span(features: np.ndarray) -> tuple[int, int]:
    """(first, end): a repeat plays ``features[first:end]``, where frame ``end`` would have
    been most like frame ``first`` (pose and joint velocities, each channel scaled by its
    spread over the phrase; a motion-graph transition, Kovar et al. 2002), ``first`` in the
    phrase's first half, ``end`` in its second, at least half the phrase apart; (0, T) for a
    phrase of under 8 frames."""
    T = len(features)
    if T < 8:
        return 0, T
    channels = np.r_[POSE, ROOT_LIN_VEL, VEL]
    x = features[:, channels]
    x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)
    firsts = np.arange(0, T // 2)
    ends = np.arange(T // 2, T)
    cost = ((x[ends][None, :, :] - x[firsts][:, None, :]) ** 2).mean(-1)  # (F, E)
    cost[ends[None, :] - firsts[:, None] < T // 2] = np.inf
    # the whole phrase again: its end runs into its first frame
    whole = float(((x[-1] + (x[-1] - x[-2]) - x[0]) ** 2).mean())
    f, e = np.unravel_index(int(np.argmin(cost)), cost.shape)
    if cost[f, e] >= whole:
        return 0, T
    return int(firsts[f]), int(ends[e])


def matched_window(
    features: np.ndarray, reference: np.ndarray, max_shift: int, matched: int | None = None
) -> np.ndarray:
    """The ``len(reference)`` frames of ``features`` whose pose is closest to ``reference``'s
    (mean squared distance of pelvis height and pelvis-relative joints, over the reference's
    first ``matched`` frames, default all), starting up to ``max_shift`` frames before or
    after its first frame (0: its first frames, unshifted).
    Frames outside ``features`` hold its first or last pose, standing still; on a tie the
    smaller shift wins."""
    T, L = len(reference), len(features)
    offsets = np.arange(-max_shift, max_shift + 1)
    idx = offsets[:, None] + np.arange(T)[None, :]  # (O, T)
    clipped = np.clip(idx, 0, L - 1)
    n = T if matched is None else max(1, min(T, matched))
    cost = ((features[:, POSE][clipped[:, :n]] - reference[None, :n, POSE]) ** 2).sum(-1).mean(-1)
    best = int(np.argmin(cost + 1e-9 * np.abs(offsets)))
    window = features[clipped[best]].copy()
    held = clipped[best] != idx[best]
    for channels in MOTION:
        window[held, channels] = 0.0
    return window


@dataclass
class PriorBuilder:
    """How retrieved phrases become a prior (see the module docstring)."""

    temperature: float = 0.05
    sigma_seconds: float = 0.1
    max_stretch: float = 1.5
    max_shift_seconds: float = 1.0
    # How much faster a gesture done once (``ONE_SHOT``) may play to fit a shorter length
    # (anything else is cut): at max_stretch's 1.5 a 3 s "bows deeply" ended still bent at
    # 39-41 degrees over 6 seeds, at 2 it stood up again (-1 to -4); val timelines level.
    max_squeeze: float = 2.0

    def __post_init__(self) -> None:
        if (
            not self.temperature > 0
            or not self.max_stretch >= 1
            or self.sigma_seconds < 0
            or self.max_shift_seconds < 0
            or not self.max_squeeze >= 1
        ):
            raise InputError(
                "prior builder needs temperature > 0, max_stretch >= 1, sigma_seconds >= 0, "
                "max_shift_seconds >= 0 and max_squeeze >= 1"
            )

    def align(
        self,
        positions: np.ndarray,
        frames: int,
        fps: float,
        *,
        tempo: float = 0.0,
        phrase_tempo: float = 0.0,
    ) -> np.ndarray:
        """(frames, 137) features of one phrase aligned to the target length and tempo."""
        feats = self.played(positions, frames, fps, tempo=tempo, phrase_tempo=phrase_tempo)
        return looped(feats, frames, 0, fps)[0][:frames]

    def played(
        self,
        positions: np.ndarray,
        frames: int,
        fps: float,
        *,
        tempo: float = 0.0,
        phrase_tempo: float = 0.0,
        extra: int = 0,
        squeeze: bool = False,
        hold: bool = False,
    ) -> np.ndarray:
        """One phrase's features as played, before a short one is looped (``looped``): fitted
        to ``frames`` when near that length, played at the music's tempo, or left its own
        length; ``extra`` frames more kept for ``matched_window`` to choose from. squeeze: the
        phrase is one gesture done once (``ONE_SHOT``), which may play up to ``max_squeeze``
        quicker rather than be cut, and is cut around its busiest frames
        (``busiest_start``) when even that is too long. hold: one a body holds (``HELD``),
        held at its peak (``held``) when asked longer than it plays."""
        if len(positions) < 2:
            raise InputError("a phrase needs at least 2 frames")
        lo, hi = 1.0 / self.max_stretch, self.max_stretch
        if tempo > 0 and phrase_tempo > 0:  # play the phrase at the music's tempo
            factor = float(np.clip(phrase_tempo / tempo, lo, hi))
            positions = stretch(positions, max(2, int(round(len(positions) * factor))))
        elif lo <= frames / len(positions) <= hi:  # close enough: fit it exactly
            positions = stretch(positions, frames)
        elif hold and frames / len(positions) > hi and _in_place(positions, fps):
            # done once and held, not done again. Exactly ``frames`` long, no ``extra``: with
            # room to shift, ``matched_window`` slid the other phrases onto the best one's hold,
            # cutting their lead-in, and seeds started with the arms already up
            positions = held(positions, frames, fps)
        elif squeeze and frames / len(positions) < lo and _in_place(positions, fps):
            quickest = max(2, int(round(len(positions) / self.max_squeeze)))
            if frames >= quickest:
                positions = stretch(positions, frames)  # a quicker bow, not half of one
            else:  # still too long: its busiest frames, not its lead-in
                positions = stretch(positions, quickest)
                # and up to ``extra`` frames after for matching (begun earlier, the other
                # phrases' kicks lay beyond matched_window's reach of the best one's)
                start = busiest_start(positions, frames, fps)
                positions = positions[start : start + frames + extra]
        return positions_to_features(positions, fps)

    def build(
        self,
        motions: Sequence[np.ndarray],
        scores: Sequence[float],
        frames: int,
        fps: float,
        *,
        tempo: float = 0.0,
        phrase_tempi: Sequence[float] | None = None,
        phrases: list[dict[str, Any]] | None = None,
        temperature: float | None = None,
    ) -> Prior:
        """The blended prior of phrases (their positions and scores, best first)."""
        if not motions:
            raise InputError("no retrieved phrases to build a prior from")
        if len(motions) != len(scores):
            raise InputError(f"{len(motions)} phrases but {len(scores)} scores")
        if frames < 2:
            raise InputError(f"a prior needs at least 2 frames, got {frames}")
        weights = softmax(np.asarray(scores), temperature or self.temperature)
        tempi = phrase_tempi or [0.0] * len(motions)
        told = phrases or [{} for _ in motions]
        blend = np.zeros((frames, 137))
        starts: dict[int, np.ndarray] = {}
        reference = None
        matched = frames
        max_shift = int(round(self.max_shift_seconds * fps))
        for i in np.argsort(-weights, kind="stable"):  # the best phrase sets the timing
            if weights[i] < NEGLIGIBLE_WEIGHT:  # it would cost an alignment for nothing
                continue
            extra = 0 if reference is None else max_shift
            feats = self.played(motions[i], frames, fps, tempo=tempo, phrase_tempo=tempi[i],
                                extra=extra, squeeze=one_shot(told[i]),
                                hold=holds(told[i]))  # fmt: skip
            feats, once = looped(feats, frames, extra, fps)
            if reference is None:
                reference = feats[:frames]
                feats = reference
                # matched on what was played once: over a looped tail the best shift depended
                # on the two loops' periods, and held a run's first pose for 1 s
                matched = once
            else:
                feats = matched_window(feats, reference, max_shift, matched)
            starts[int(i)] = feats.astype(np.float32)
            blend += weights[i] * feats
        blend /= max(float(weights[weights >= NEGLIGIBLE_WEIGHT].sum()), 1e-12)
        sigma = self.sigma_seconds * fps
        if sigma > 0:
            blend = gaussian_filter1d(blend, sigma, axis=0, mode="nearest")
        info = [dict(p) for p in told]
        for item, w in zip(info, weights, strict=True):
            item["weight"] = round(float(w), 4)
        return Prior(blend.astype(np.float32), info, starts)
