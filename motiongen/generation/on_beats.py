"""Dances retimed onto their music's beats (``beat_sync``, on by default for music).

The network's dances keep a pace of their own: played the same song at 0.8x or 1.25x, their
periodicities stay where they were (docs/dance-alignment.md, section 4). With beat sync the
network dances ``MAX_STRETCH`` times longer than asked (as far as the music goes), and the
motion is retimed onto the song's beats (``postprocess.beat_sync``: dynamic time warping of
its accents onto the beats, the local tempo changed by at most 25 %) and cut to the length
asked for, where that gives more of the music's beats a motion accent. The music is
untouched, so it still plays from the same offset.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from motiongen.errors import InputError
from motiongen.postprocess.beat_sync import MAX_STRETCH


def frames_to_make(frames: int, fps: float, music_seconds: float) -> int:
    """How many frames the network makes for a beat-synced motion of ``frames``: enough to
    be played ``MAX_STRETCH`` times slower, as far as the music lasts (``music_seconds`` from
    the offset), never fewer than asked."""
    available = int(math.floor(music_seconds * fps + 0.5))
    return max(frames, min(int(round(frames * MAX_STRETCH)), available))


# Beat sync's dynamic time warp grows with the square of the length (0.35 s for 12 s, 2.3 s
# and 0.5 GB for 60 s): by default only dances up to this long are retimed.
DEFAULT_SYNC_SECONDS = 30.0


def check_beat_sync(beat_sync: object, has_music: bool, has_seed: bool, seconds: float) -> bool:
    """Whether a request is beat-synced: ``beat_sync`` checked against the rest of it
    (``InputError`` with the reason). None, the default: a dance to music of at most
    ``DEFAULT_SYNC_SECONDS`` is, unless it continues a seed motion."""
    if beat_sync is None:
        return has_music and not has_seed and seconds <= DEFAULT_SYNC_SECONDS
    if not isinstance(beat_sync, bool):
        raise InputError(f"beat_sync must be true, false or None (the default), got {beat_sync!r}")
    if not beat_sync:
        return False
    if not has_music:
        raise InputError(
            "beat sync retimes a dance onto its music's beats; give a music file (the service: "
            "audio_url, or an upload to POST /dance) or leave beat sync off"
        )
    if has_seed:
        raise InputError(
            "beat sync cannot keep a seed motion's frames as given (it retimes the whole "
            "motion); leave out one of them"
        )
    return True


def past_default_reach(
    beat_sync: object, has_music: bool, has_seed: bool, seconds: float
) -> dict[str, Any] | None:
    """What a request's meta["beat_sync"] says when the default left it unsynced only for
    its length (``check_beat_sync``'s rule; a 60 s dance was left at the network's timing
    without a word: a new user's trial), else None."""
    if beat_sync is not None or not has_music or has_seed or seconds <= DEFAULT_SYNC_SECONDS:
        return None
    return {"applied": False, "past_default": True, "reason": (
        f"beat sync is on by default for dances up to {DEFAULT_SYNC_SECONDS:g} s; "
        "beat_sync=True (--beat-sync) retimes a longer one too")}  # fmt: skip


def on_beats(
    positions: np.ndarray, fps: float, music: Path, offset: float, frames: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """(``frames`` frames of ``positions`` retimed onto the beats of ``music`` from
    ``offset``, what was done for the motion's meta). The motion keeps its own timing where
    retiming would not give more of the music's beats a motion accent (the capture pipeline's
    rule: on a click track the warp had cut them from 53 to 41 %, and the music agreement
    0.22 -> 0.08), and, said as a warning ("warn"), where the music has too few beats over it
    or too little music is left to play it slower."""
    from motiongen.conditioning.audio_features import cached_features_from_file
    from motiongen.postprocess.beat_sync import beat_sync

    made = np.asarray(positions, dtype=np.float64)
    beats = cached_features_from_file(music, fps, offset, num_frames=len(made)).beat_times
    try:
        retimed = beat_sync(made, fps, beats)
    except InputError as exc:
        return made[:frames], {"applied": False, "reason": str(exc), "warn": True}
    hits = [round(retimed.beats_hit_before, 4), round(retimed.beats_hit, 4)]
    if not retimed.improves:
        return made[:frames], {
            "applied": False,
            "reason": f"retiming would give {'fewer' if hits[1] < hits[0] else 'no more'} of "
            f"the music's beats a motion accent ({100 * hits[0]:.0f} -> {100 * hits[1]:.0f} %); "
            "kept at its own timing (made as a retimed dance is, from longer music, it differs "
            "from the one --no-beat-sync / beat_sync=False makes)",
            "beats_hit": hits,
            "warn": False,
        }
    end = (len(made) - 1) / fps
    # the time map holds the last made frame once it runs out of motion: a frozen tail
    if len(retimed.positions) < frames or retimed.time_map[frames - 1] >= end - 0.5 / fps:
        return made[:frames], {
            "applied": False,
            "reason": "too little music is left after the motion to play it slower",
            "warn": True,
        }
    shown = retimed.time_map[frames - 1] if frames > 1 else 0.0
    return retimed.positions[:frames], {
        "applied": True,
        # motion seconds shown per second of music, over the part kept
        "pace": round(float(shown / ((frames - 1) / fps)), 4) if frames > 1 else 1.0,
        "beats_hit": hits,
    }
