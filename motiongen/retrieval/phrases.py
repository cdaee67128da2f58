"""Motion phrases: the units the retrieval index holds, cut from longer motions.

A phrase is a stretch of one motion that does one thing: for music-paired motion a whole
number of bars (4 or 8 bars of 4 beats, beats from the clip's librosa beat track), otherwise
the stretch between motion boundaries (low-energy valleys of the mean joint speed, where a
movement ends and the next begins; both feet planted counts for more). Phrases shorter than
``min_seconds`` are dropped (or merged into their neighbour), longer stretches than
``max_seconds`` are cut again, so phrases are comparable units of action.

Per phrase: energy (mean joint speed, m/s), tempo (BPM of the music, or of the motion's own
accent periodicity, librosa's tempo estimator over the joint-speed envelope), the labels
(content, style, genre) and a text description, kept as metadata beside the positions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from motiongen.errors import InputError
from motiongen.features import foot_contacts

MIN_SECONDS = 1.5
# A phrase up to the generator's window (9.8 s): a Bandai take (1.5-8 s) stays whole. Cutting
# shorter takes at speed valleys split them at the turning point of the action (the bottom
# of a bow is a speed valley too), so each half was no longer the action of its label.
MAX_SECONDS = 9.5
BEATS_PER_BAR = 4


@dataclass
class Phrase:
    """One phrase: where it comes from and what it holds (not its frames).

    clip: the source motion's name (its take); start/stop: frames at ``fps``; mirrored: the
    phrase is the left-right mirror of the recorded one (its text mirrored too).
    """

    clip: str
    start: int
    stop: int
    fps: float
    text: str
    labels: dict[str, str] = field(default_factory=dict)
    energy: float = 0.0
    tempo: float = 0.0
    mirrored: bool = False
    split: str = ""
    source: str = ""

    @property
    def frames(self) -> int:
        return self.stop - self.start

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    @property
    def label(self) -> str:
        """content|style (or the genre of a dance): what retrieval quality is judged on."""
        lab = self.labels
        if lab.get("dance_type"):
            return f"dance|{lab['dance_type']}"
        content = lab.get("content", "")
        if not content and not lab.get("style"):
            return ""  # a user's motion without labels
        if self.mirrored:  # a mirrored right-hand raise is a left-hand raise
            swap = {"left": "right", "right": "left"}
            content = "-".join(swap.get(w, w) for w in content.split("-"))
        return f"{content}|{lab.get('style', '')}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Phrase:
        return cls(**data)


def joint_speed(positions: np.ndarray, fps: float) -> np.ndarray:
    """(T,) mean joint speed in m/s (the last frame repeats the previous one)."""
    if len(positions) < 2:
        return np.zeros(len(positions))
    step = np.linalg.norm(np.diff(positions, axis=0), axis=-1).mean(axis=-1) * fps
    return np.append(step, step[-1])


def motion_tempo(positions: np.ndarray, fps: float) -> float:
    """BPM of the motion's accents: librosa's tempo estimator over the joint-speed envelope
    (0.0 for motions too short to show a period)."""
    import librosa

    if len(positions) < 2 * fps:
        return 0.0
    speed = joint_speed(positions, fps)
    accent = np.maximum(np.diff(speed, prepend=speed[0]), 0.0)  # rises of speed: accents
    if accent.max() <= 0:
        return 0.0
    tempo = librosa.feature.tempo(onset_envelope=accent, sr=fps, hop_length=1)
    return float(np.atleast_1d(tempo)[0])


def motion_boundaries(
    positions: np.ndarray,
    fps: float,
    *,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
) -> list[tuple[int, int]]:
    """(start, stop) frame spans cut at motion boundaries, each min..max seconds long.

    Candidates are valleys of the smoothed joint speed; a valley where both feet are planted
    scores lower (better). From each start the best-scoring candidate within
    [min, max] seconds ahead is taken; a span with no candidate is cut at max seconds; a
    short tail joins the span before it. Motions shorter than ``min_seconds`` give nothing.
    """
    T = len(positions)
    lo, hi = int(round(min_seconds * fps)), int(round(max_seconds * fps))
    if lo > T:
        return []
    if hi >= T:
        return [(0, T)]
    # Half a second of smoothing: a movement's brief turning points (the bottom of a bow)
    # are not boundaries; the rests between movements are.
    speed = gaussian_filter1d(joint_speed(positions, fps), sigma=max(fps / 2, 1.0))
    valleys, _ = find_peaks(-speed)
    planted = foot_contacts(positions, fps).all(axis=1)
    score = speed / max(float(speed.max()), 1e-6) - 0.1 * planted
    spans, start = [], 0
    while T - start > hi:
        cands = valleys[(valleys >= start + lo) & (valleys <= start + hi) & (valleys <= T - lo)]
        cut = int(cands[np.argmin(score[cands])]) if len(cands) else start + hi
        spans.append((start, cut))
        start = cut
    if T - start >= lo:
        spans.append((start, T))
    elif spans:
        spans[-1] = (spans[-1][0], T)
    return spans


def bar_phrases(beat_frames: np.ndarray, total: int, *, bars: int = 4) -> list[tuple[int, int]]:
    """(start, stop) spans of ``bars`` bars of ``BEATS_PER_BAR`` beats from the first beat
    (the tracker gives beats, not downbeats: bar one starts at the first beat)."""
    if bars not in (4, 8):
        raise InputError(f"a music phrase is 4 or 8 bars, got {bars}")
    beats = np.asarray(beat_frames, dtype=int)
    beats = beats[(beats >= 0) & (beats < total)]
    step = bars * BEATS_PER_BAR
    edges = list(beats[::step])
    spans = []
    for a, b in zip(edges, edges[1:], strict=False):
        spans.append((int(a), int(b)))
    return spans


def cut_phrases(
    positions: np.ndarray,
    fps: float,
    *,
    clip: str,
    text: str,
    labels: dict[str, str] | None = None,
    beat_frames: np.ndarray | None = None,
    music_tempo: float = 0.0,
    bars: int = 4,
    min_seconds: float = MIN_SECONDS,
    max_seconds: float = MAX_SECONDS,
    split: str = "",
    source: str = "",
) -> list[Phrase]:
    """The phrases of one motion: bar phrases when beats are given (music-paired motion),
    motion-boundary phrases otherwise; each shorter than ``min_seconds`` dropped."""
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (22, 3):
        raise InputError(f"{clip}: positions must have shape (T, 22, 3), got {positions.shape}")
    if not np.isfinite(positions).all():
        raise InputError(f"{clip}: positions contain NaN or infinite values")
    if beat_frames is not None and len(beat_frames) >= bars * BEATS_PER_BAR + 1:
        spans = bar_phrases(beat_frames, len(positions), bars=bars)
    else:
        spans = motion_boundaries(positions, fps, min_seconds=min_seconds, max_seconds=max_seconds)
    spans = [(a, b) for a, b in spans if (b - a) >= min_seconds * fps]
    out = []
    for a, b in spans:
        seg = positions[a:b]
        out.append(
            Phrase(
                clip=clip,
                start=int(a),
                stop=int(b),
                fps=float(fps),
                text=text,
                labels=dict(labels or {}),
                energy=float(joint_speed(seg, fps).mean()),
                tempo=float(music_tempo) if music_tempo > 0 else motion_tempo(seg, fps),
                split=split,
                source=source,
            )
        )
    return out
