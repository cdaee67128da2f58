"""The ``Motion`` object: canonical joint positions plus what is known about them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.skeleton import NUM_JOINTS, PELVIS, checked_positions


@dataclass
class AudioRef:
    """Audio that plays with a motion.

    path: an audio file soundfile/librosa can read.
    offset: seconds into the file at which motion frame 0 plays.
    """

    path: str
    offset: float = 0.0


# Frames from which a motion is upsampled along a cubic spline (fewer: linearly).
SPLINE_FROM = 4


@dataclass
class Motion:
    """A motion on the canonical skeleton (see ``motiongen.skeleton``).

    positions: (T, 22, 3) float32, metres, Y up, floor at 0.
    fps: frames per second of ``positions``.
    texts: natural-language descriptions (several phrasings allowed; the first is the title).
    labels: categorical labels kept for stratification and metrics, e.g.
        {"source": "bandai-1", "content": "bow", "style": "sad"}.
    actions: optional per-frame action label, length T.
    audio: optional music or speech aligned to frame 0.
    name: a short identifier (file stem, clip id).
    meta: anything else worth keeping (original fps, source path ...), JSON-serialisable.
    """

    positions: np.ndarray
    fps: float
    texts: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    actions: list[str] | None = None
    audio: AudioRef | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        pos = checked_positions(self.positions, dtype=np.float32, what="motion positions")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise InputError(f"frame rate must be a positive number, got {self.fps!r}")
        if self.actions is not None and len(self.actions) != pos.shape[0]:
            raise InputError(
                f"per-frame actions have length {len(self.actions)} but the motion has "
                f"{pos.shape[0]} frames"
            )
        self.positions = pos
        self.fps = float(self.fps)

    # ---- basic facts -------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    @property
    def title(self) -> str:
        return self.texts[0] if self.texts else self.name

    @property
    def timeline_segments(self) -> list[tuple[str, float]] | None:
        """A timeline's segments, (text, seconds) in turn, from ``meta["segments"]`` (a
        composed motion, or one made of a "then" prompt); None for one action, or for meta that
        is not two or more (text, positive seconds) pairs. They may no longer span the motion
        (cut or resampled since): a user of them checks that."""
        raw = self.meta.get("segments")
        try:
            parts = [(str(text), float(seconds)) for text, seconds in raw]  # type: ignore[union-attr]
        except (TypeError, ValueError):
            return None
        return parts if len(parts) > 1 and all(s > 0 for _, s in parts) else None

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        return (
            f"Motion(name={self.name!r}, frames={self.num_frames}, fps={self.fps:g}, "
            f"seconds={self.seconds:.2f}, labels={self.labels}, "
            f"audio={'yes' if self.audio else 'no'})"
        )

    def copy(self, **changes: Any) -> Motion:
        """A deep copy with some fields replaced."""
        new = copy.deepcopy(self)
        for key, value in changes.items():
            setattr(new, key, value)
        new.__post_init__()
        return new

    # ---- time --------------------------------------------------------------------------
    def resample(self, fps: float, frames: int | None = None) -> Motion:
        """The same motion at another frame rate: to fewer frames by linear interpolation of
        positions, to more along a cubic spline through them (linear left the acceleration zero
        on 2 of every 3 frames of a 20-fps walk written at 60 fps and 15 m/s^2 at the 20-fps
        frames, a stepped look in an engine; the spline also shortens fast bones between the
        frames half as much: a run's worst bone 4.3 -> 1.8 %, a kick's 15 -> 10 %).

        Duration is kept: the new frame count is round(seconds * fps), or ``frames`` (a frame
        or two more or less, to match another motion). A frame lasts 1 / fps, so the last one
        spans [(T - 1) / fps, T / fps): new frames in it carry on along its last step (holding
        the last pose froze the end of a 20-fps walk written at 120 fps for 5 frames, a hitch
        when looped or chained); frames beyond that hold the pose reached. Nothing the spline
        makes goes lower than the motion's lowest point (its overshoot put toes 2 mm under
        the floor).
        """
        if isinstance(fps, bool) or not isinstance(fps, int | float | np.number):
            raise InputError(f"target frame rate must be a number, got {fps!r}")
        if not (np.isfinite(fps) and fps > 0):
            raise InputError(f"target frame rate must be positive, got {fps!r}")
        n_new = max(1, int(round(self.num_frames * fps / self.fps)))
        if frames is not None:
            n_new = max(1, int(frames))
        if abs(fps - self.fps) < 1e-9 and n_new == self.num_frames:
            return self.copy()
        t_old = np.arange(self.num_frames) / self.fps
        t_new = np.arange(n_new) / fps
        t_new = np.clip(t_new, 0.0, self.num_frames / self.fps)
        flat = self.positions.reshape(self.num_frames, -1)
        idx = np.searchsorted(t_old, t_new, side="right") - 1
        idx = np.clip(idx, 0, max(self.num_frames - 2, 0))
        if self.num_frames == 1:
            new = np.repeat(flat, n_new, axis=0)
        else:
            w = ((t_new - t_old[idx]) / (t_old[idx + 1] - t_old[idx]))[:, None]
            new = flat[idx] * (1 - w) + flat[idx + 1] * w
            if n_new > self.num_frames and self.num_frames >= SPLINE_FROM:
                from scipy.interpolate import CubicSpline

                inside = t_new <= t_old[-1]
                new[inside] = CubicSpline(t_old, flat.astype(np.float64), axis=0)(t_new[inside])
                heights = new.reshape(n_new, NUM_JOINTS, 3)[..., 1]
                np.maximum(heights, float(self.positions[..., 1].min()), out=heights)
        actions = None
        if self.actions is not None:
            nearest = np.clip(np.round(t_new * self.fps).astype(int), 0, self.num_frames - 1)
            actions = [self.actions[i] for i in nearest]
        meta = dict(self.meta)
        meta.setdefault("original_fps", self.fps)
        return Motion(
            positions=new.reshape(n_new, NUM_JOINTS, 3).astype(np.float32),
            fps=fps,
            texts=list(self.texts),
            labels=dict(self.labels),
            actions=actions,
            audio=copy.deepcopy(self.audio),
            name=self.name,
            meta=meta,
        )

    def without_travel(self) -> Motion:
        """The motion with the pelvis's travel along the floor taken out (every frame moved
        so the pelvis stays above where it starts); heights and turns kept: the in-place
        clips a game engine moves with its own root motion. The feet then slide by what the
        body travelled, as in any in-place walk."""
        travel = self.positions[:, PELVIS].astype(np.float64) - self.positions[0, PELVIS]
        travel[:, 1] = 0.0
        moved = self.copy(positions=(self.positions - travel[:, None, :]).astype(np.float32))
        moved.meta = {**self.meta, "without_travel": True}
        return moved

    def looped(self, min_seconds: float | None = None, closed: bool = True) -> Motion:
        """The best loop of at least ``min_seconds`` (default half the motion, at least 1 s)
        cut from the motion, bent so its end leads into its start, a small net turn per
        repeat taken out and set at the origin facing +Z (``motiongen.loop``). closed: the
        last frame is the first pose again, moved on by one repeat's travel (players that
        loop over the keys' time span); False drops it (players that go from the last frame
        straight to the first). ``meta["loop"]`` says where it was cut (seconds) and how far
        it was bent."""
        from motiongen.loop import loop_positions

        positions, loop = loop_positions(self.positions, self.fps, min_seconds, closed)
        looped = self.crop(loop.start, loop.start + len(positions))
        looped.positions = positions
        looped.meta["loop"] = {
            "start_seconds": round(loop.start / self.fps, 3),
            "seconds": round((loop.stop - loop.start) / self.fps, 3),
            "closed": closed,
            "pose_gap_m": loop.pose_gap_m,
            "turn_deg": loop.turn_deg,
            "turn_taken_out": loop.turn_taken_out,
            "travel_m": loop.travel_m,
        }
        if left := _segments_left_out(self.timeline_segments, loop.start / self.fps,
                                      loop.stop / self.fps):  # fmt: skip
            # a sequence does not repeat: "walks, then waves" looped was a walk cycle, no word
            looped.meta["loop"]["segments_left_out"] = left
            add_warning(
                looped.meta,
                f"the loop leaves out {', '.join(map(repr, left))} of this timeline; to loop, "
                "generate one action",
            )
        return looped

    def exported(
        self, fps: float | None = None, loop: bool = False, no_travel: bool = False
    ) -> Motion:
        """The motion as a file for an engine holds it: at ``fps`` (when given), as its best
        loop (``looped``, found at that rate: the wrap meets frame to frame there), without its
        travel (``without_travel``), in that order."""
        motion = self if fps is None or fps == self.fps else self.resample(fps)
        if loop:
            motion = motion.looped()
        return motion.without_travel() if no_travel else motion

    def crop(self, start: int, stop: int | None = None) -> Motion:
        """Frames [start, stop) (frame numbers, not seconds); the audio offset moves with the
        first frame."""
        stop = self.num_frames if stop is None else stop
        for name, value in (("start", start), ("stop", stop)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise InputError(
                    f"crop takes frame numbers: {name} must be a whole number, got {value!r} "
                    f"(for seconds, multiply by the motion's fps, {self.fps:g})"
                )
        if not (0 <= start < stop <= self.num_frames):
            raise InputError(f"crop [{start}, {stop}) is outside 0..{self.num_frames}")
        audio = None
        if self.audio is not None:
            audio = AudioRef(self.audio.path, self.audio.offset + start / self.fps)
        return Motion(
            positions=self.positions[start:stop].copy(),
            fps=self.fps,
            texts=list(self.texts),
            labels=dict(self.labels),
            actions=None if self.actions is None else list(self.actions[start:stop]),
            audio=audio,
            name=self.name,
            # a timeline's segment lengths describe the whole motion, not a piece of it
            meta={k: v for k, v in self.meta.items() if k != "segments"},
        )

    # ---- files -------------------------------------------------------------------------
    def save(self, path: str | Path, **options: Any) -> Path:
        """Write to ``path``; the writer is chosen by the extension (see ``motiongen.io``)."""
        from motiongen.io import save

        return save(self, path, **options)


def _segments_left_out(segments: Any, start: float, stop: float) -> list[str]:
    """The texts of a timeline's ``segments`` ([text, seconds] in turn) that a loop over
    [start, stop) seconds holds less than half of."""
    left, at = [], 0.0
    for text, seconds in segments or ():
        held = max(0.0, min(stop, at + seconds) - max(start, at))
        if held < 0.5 * seconds:
            left.append(str(text))
        at += seconds
    return left if len(segments or ()) > 1 else []


def join_warnings(*notes: str | None) -> str:
    """Warnings one a line: joined by "; " a compose's ran to 900 characters in one line, hard
    to tell apart (a new user's trial); a warning's own "; " stays within its line."""
    return "\n".join(n for n in notes if n)


def add_warning(meta: dict[str, Any], note: str | None) -> None:
    """``note`` (if any) added to ``meta["warning"]`` on a line after what it already says."""
    if note:
        meta["warning"] = join_warnings(meta.get("warning"), note)
