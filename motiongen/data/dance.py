"""The Tang et al. 2018 music-to-dance set: 23 3-D points per frame at 25 fps, with the song.

Folder layout (``DANCE_<type>_<n>/``): ``skeletons.json.gz`` = gzip JSON ``{"length": T,
"center": [T][3], "skeletons": [T][23][3]}`` in centimetres; ``config.json`` =
``{"start_position": a, "end_position": b}`` in song frames at 25 fps; ``audio.ogg`` = the song.

What the raw numbers mean was measured, not assumed (numbers and reasoning in
``docs/dance-alignment.md``, each conclusion pinned by ``tests/test_dance.py``):

- Y is up; the points are relative to ``center`` (their centroid), so world = points + center.
- The frame is left-handed: with the anatomical forward taken from the knees and toes, the
  3-4-5-6 arm and 7-8-9 leg are on the dancer's left (head turn and hold of the ballroom
  dances), so X is negated to reach the right-handed canonical frame.
- ``center``'s height drifts upwards during a take (the floor under the feet rises by
  0.2-0.5 m over a dance); a slowly varying floor estimate is subtracted.
- Motion frame 0 plays ``start_position / 25`` s into the song (checked against the music in
  ``benchmarks/dance_alignment.py``).
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from motiongen.canonical import canonicalize
from motiongen.data.records import BadFile
from motiongen.errors import DataNotFoundError, FormatError, MotionGenError
from motiongen.motion import AudioRef, Motion
from motiongen.skeleton import JOINT_INDEX, NUM_JOINTS

log = logging.getLogger(__name__)

DANCE_FPS = 25.0
DANCE_TYPES: dict[str, str] = {"C": "cha-cha", "R": "rumba", "T": "tango", "W": "waltz"}

# The 23 raw points, named from the analysis in docs/dance-alignment.md ("left" = the dancer's
# left). 0/1 sit either side of the head ~11 cm apart; 10/19 are heels and 11/20 toes (the
# toe is ~17 cm from the ankle, the heel ~12 cm). The README calls 5/14 wrists and 6/15 hands,
# but 5/14 lie on the forearm 12-17 cm from the elbow while 6/15 are 25 cm from it, where a
# wrist belongs (SMPL forearm 0.27 m), so 6/15 are used as wrists. 21/22 are the extra hand
# points the dataset's README says were added for hand direction.
RAW_JOINT_NAMES: tuple[str, ...] = (
    "head_left", "head_right", "pelvis",
    "left_shoulder", "left_elbow", "left_forearm", "left_wrist",
    "left_hip", "left_knee", "left_ankle", "left_heel", "left_toe",
    "right_shoulder", "right_elbow", "right_forearm", "right_wrist",
    "right_hip", "right_knee", "right_ankle", "right_heel", "right_toe",
    "right_hand_extra", "left_hand_extra",
)  # fmt: skip
RAW = {name: i for i, name in enumerate(RAW_JOINT_NAMES)}
NUM_RAW_JOINTS = len(RAW_JOINT_NAMES)
_FOOT_POINTS = [RAW[n] for n in RAW_JOINT_NAMES if n.endswith(("ankle", "heel", "toe"))]

CM = 0.01  # raw units are centimetres (hip-to-ankle ~ 0.8 m, standing height ~ 1.7 m)

# Canonical joints taken directly from one raw point.
DIRECT_MAP: dict[str, str] = {
    "pelvis": "pelvis",
    "left_hip": "left_hip", "right_hip": "right_hip",
    "left_knee": "left_knee", "right_knee": "right_knee",
    "left_ankle": "left_ankle", "right_ankle": "right_ankle",
    "left_foot": "left_toe", "right_foot": "right_toe",
    "left_shoulder": "left_shoulder", "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow", "right_elbow": "right_elbow",
    "left_wrist": "left_wrist", "right_wrist": "right_wrist",
}  # fmt: skip

# Where the interpolated joints sit, as fractions measured on the SMPL/HumanML3D skeleton:
# spine1..3 at 0.21/0.48/0.57 of pelvis->neck, the neck about halfway from the shoulder line
# to the head centre, collars 45 % of the way from the shoulder midpoint to each shoulder.
SPINE_FRACTIONS = (0.21, 0.48, 0.57)
NECK_FRACTION = 0.5
COLLAR_FRACTION = 0.45

# Window of the floor tracker: long enough that some foot touches the floor inside it, short
# against the drift (about 1 cm per second at worst).
FLOOR_WINDOW_S = 2.0


@dataclass
class RawDance:
    """The numbers of one dance folder, validated but not yet interpreted.

    skeletons: (T, 23, 3) float64 cm, relative to ``center``.
    center: (T, 3) float64 cm.
    start, end: song frames (25 fps) the dance covers, from config.json.
    """

    folder: Path
    skeletons: np.ndarray
    center: np.ndarray
    start: int
    end: int

    @property
    def num_frames(self) -> int:
        return int(self.skeletons.shape[0])


def _fail(folder: Path, what: str) -> FormatError:
    return FormatError(f"dance folder {folder.name}: {what}")


def _read_json(path: Path, folder: Path) -> object:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return json.load(f)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _fail(
            folder, f"{path.name} is corrupt ({err}); restore it from the dataset"
        ) from None


def read_dance_raw(folder: str | Path) -> RawDance:
    """Read and check one ``DANCE_*`` folder; no interpretation of axes or units.

    Raises DataNotFoundError (folder or file missing) or FormatError (corrupt gzip/JSON,
    wrong shapes, a length that disagrees with the arrays, bad start/end positions).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no such dance folder: {folder}")
    for name in ("skeletons.json.gz", "config.json"):
        if not (folder / name).is_file():
            raise DataNotFoundError(f"dance folder {folder.name} has no {name}; is it complete?")
    data = _read_json(folder / "skeletons.json.gz", folder)
    config = _read_json(folder / "config.json", folder)
    if not isinstance(data, dict) or not {"length", "center", "skeletons"} <= data.keys():
        raise _fail(folder, "skeletons.json.gz lacks the keys length/center/skeletons")
    if not isinstance(config, dict) or not {"start_position", "end_position"} <= config.keys():
        raise _fail(folder, "config.json lacks start_position/end_position")
    try:
        skel = np.asarray(data["skeletons"], dtype=np.float64)
        center = np.asarray(data["center"], dtype=np.float64)
        length = int(data["length"])
        start, end = int(config["start_position"]), int(config["end_position"])
    except (TypeError, ValueError) as err:
        raise _fail(folder, f"non-numeric or ragged values ({err})") from None
    if skel.ndim != 3 or skel.shape[1:] != (NUM_RAW_JOINTS, 3):
        raise _fail(folder, f"skeletons have shape {skel.shape}, expected (T, 23, 3)")
    if center.shape != (skel.shape[0], 3):
        raise _fail(folder, f"center has shape {center.shape}, expected ({skel.shape[0]}, 3)")
    if length != skel.shape[0]:
        raise _fail(folder, f"length says {length} frames but skeletons hold {skel.shape[0]}")
    if length < 2:
        raise _fail(folder, f"only {length} frame(s)")
    if not (np.isfinite(skel).all() and np.isfinite(center).all()):
        raise _fail(folder, "skeletons or center contain NaN/inf")
    if not 0 <= start < end:
        raise _fail(folder, f"config.json start/end positions {start}/{end} are not 0 <= a < b")
    return RawDance(folder, skel, center, start, end)


def track_floor(foot_height: np.ndarray, fps: float = DANCE_FPS) -> np.ndarray:
    """Slowly varying floor height under a drifting vertical track.

    foot_height: (T,) lowest foot point per frame -> (T,) floor estimate: a running minimum
    over ``FLOOR_WINDOW_S`` (some foot is down in any such window), smoothed by a moving
    average of the same length so steps in the minimum do not become jerks.
    """
    win = max(1, int(round(FLOOR_WINDOW_S * fps)))
    low = minimum_filter1d(foot_height, size=win, mode="nearest")
    return uniform_filter1d(low, size=win, mode="nearest")


def raw_to_world(raw: RawDance) -> np.ndarray:
    """Raw points in a right-handed, Y-up world frame, metres, floor drift removed.

    -> (T, 23, 3) float64, joint order of ``RAW_JOINT_NAMES``.
    """
    pos = (raw.skeletons + raw.center[:, None, :]) * CM
    pos[..., 0] *= -1.0  # left-handed source -> right-handed (see module docstring)
    floor = track_floor(pos[:, _FOOT_POINTS, 1].min(axis=1))
    pos[..., 1] -= floor[:, None]
    return pos


def retarget(world: np.ndarray) -> np.ndarray:
    """The 23 raw points on the canonical 22-joint skeleton.

    world: (T, 23, 3) -> (T, 22, 3). Joints the source lacks (spine1-3, neck, collars, head)
    are placed by interpolation; see ``docs/dance-alignment.md`` for the map.
    """
    out = np.empty((world.shape[0], NUM_JOINTS, 3), dtype=world.dtype)
    for canon, raw_name in DIRECT_MAP.items():
        out[:, JOINT_INDEX[canon]] = world[:, RAW[raw_name]]
    left_sh, right_sh = world[:, RAW["left_shoulder"]], world[:, RAW["right_shoulder"]]
    shoulder_mid = 0.5 * (left_sh + right_sh)
    head = 0.5 * (world[:, RAW["head_left"]] + world[:, RAW["head_right"]])
    neck = shoulder_mid + NECK_FRACTION * (head - shoulder_mid)
    pelvis = world[:, RAW["pelvis"]]
    out[:, JOINT_INDEX["head"]] = head
    out[:, JOINT_INDEX["neck"]] = neck
    for name, frac in zip(("spine1", "spine2", "spine3"), SPINE_FRACTIONS, strict=True):
        out[:, JOINT_INDEX[name]] = pelvis + frac * (neck - pelvis)
    out[:, JOINT_INDEX["left_collar"]] = shoulder_mid + COLLAR_FRACTION * (left_sh - shoulder_mid)
    out[:, JOINT_INDEX["right_collar"]] = shoulder_mid + COLLAR_FRACTION * (right_sh - shoulder_mid)
    return out


def music_offset(start_position: int) -> float:
    """Seconds into the song at which motion frame 0 plays: the README's ``a / 25``.

    ``benchmarks/dance_alignment.py`` found no offset or frame-rate hypothesis that lines the
    dances up with the music better (docs/dance-alignment.md).
    """
    return start_position / DANCE_FPS


def dance_type(folder: Path) -> str:
    """'cha-cha' | 'rumba' | 'tango' | 'waltz' from a ``DANCE_<letter>_<n>`` folder name."""
    parts = folder.name.split("_")
    if len(parts) != 3 or parts[0] != "DANCE" or parts[1] not in DANCE_TYPES:
        raise FormatError(
            f"dance folder {folder.name}: name is not DANCE_<C|R|T|W>_<n>, so the dance type "
            "is unknown; keep the dataset's folder names"
        )
    return DANCE_TYPES[parts[1]]


def _texts(labels: dict[str, str]) -> list[str]:
    try:
        from motiongen.data.text import describe
    except ImportError:
        return []
    return list(describe(labels))


def load_dance(folder: str | Path) -> Motion:
    """One dance as a canonical ``Motion`` (25 fps) with its song attached.

    The audio reference points at ``audio.ogg`` with the offset of motion frame 0 in the song.
    Raises DataNotFoundError / FormatError with a one-line message for a broken folder.
    """
    folder = Path(folder)
    raw = read_dance_raw(folder)
    kind = dance_type(folder)
    audio = folder / "audio.ogg"
    if not audio.is_file():
        raise DataNotFoundError(f"dance folder {folder.name} has no audio.ogg; is it complete?")
    from motiongen.io.audio import audio_duration

    song_seconds = audio_duration(audio)
    offset = music_offset(raw.start)
    if offset >= song_seconds:
        raise _fail(
            folder, f"start {offset:.2f} s is past the end of the song ({song_seconds:.2f} s)"
        )
    world = raw_to_world(raw)
    positions = canonicalize(retarget(world))
    labels = {"source": "dance", "dance_type": kind, "song": folder.name}
    return Motion(
        positions=positions,
        fps=DANCE_FPS,
        texts=_texts(labels),
        labels=labels,
        audio=AudioRef(str(audio), offset),
        name=folder.name,
        meta={
            "source_path": str(folder),
            "original_fps": DANCE_FPS,
            "song_frames": [raw.start, raw.end],
            "song_seconds": round(song_seconds, 3),
        },
    )


def iter_dance(root: str | Path) -> Iterator[Motion | BadFile]:
    """Every ``DANCE_*`` folder under ``root`` in name order; broken ones yield ``BadFile``."""
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"no dance data folder at {root}; set MOTIONGEN_DATA")
    for folder in sorted(p for p in root.glob("DANCE_*") if p.is_dir()):
        try:
            yield load_dance(folder)
        except MotionGenError as err:
            log.warning("skipping %s: %s", folder.name, err)
            yield BadFile(str(folder), str(err))
