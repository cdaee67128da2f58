"""BVH reading (any skeleton, vectorised) and writing (the canonical skeleton).

Reading: rotation channels are intrinsic Euler angles in degrees applied in channel order
("Zrotation Xrotation Yrotation" means R = Rz @ Rx @ Ry); a joint with position channels uses
them as its local translation instead of its OFFSET. Frame data are parsed by numpy in one
call. ``load_bvh`` retargets the result to the canonical skeleton (``motiongen.retarget``).

Writing: the canonical 22 joints in centimetres, the root with 6 channels
(Xposition Yposition Zposition Zrotation Xrotation Yrotation), the others with three rotation
channels in their own order (``EULER_ORDERS``: ZXY but for hips, knees and ankles); rest
offsets are median bone lengths on a T-pose-like rest pose, and each frame's rotations map
rest bones onto the observed ones (see ``docs/retargeting.md``).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from motiongen.canonical import best_rotations, canonicalize, orthonormal_pair
from motiongen.errors import DataNotFoundError, FormatError, InputError
from motiongen.motion import Motion
from motiongen.plausibility import MAX_FPS, MIN_FPS
from motiongen.retarget import detect_skeleton, retarget
from motiongen.skeleton import (
    CHILDREN,
    FOOT_JOINTS,
    JOINT_NAMES,
    NUM_JOINTS,
    PARENTS,
    bone_lengths,
)

log = logging.getLogger(__name__)

_AXES = {"X": 0, "Y": 1, "Z": 2}
_MOTION_RE = re.compile(r"^[ \t]*MOTION[ \t]*\r?$", re.MULTILINE)
_FRAMES_RE = re.compile(r"\A\s*Frames:\s*(\S+)[ \t]*\r?\n\s*Frame\s+Time:\s*(\S+)[ \t]*\r?$", re.M)


@dataclass
class BVHData:
    """A parsed BVH file, before any retargeting.

    joint_names: (J,) joint names in file order (parents before children).
    parents: (J,) parent index per joint, -1 for the root.
    offsets: (J, 3) OFFSET of each joint in the file's units.
    channels: per joint, its channel names in file order (e.g. ("Zrotation", "Xrotation")).
    frame_time: seconds per frame.
    motion: (T, C) raw channel values, C = total number of channels.
    end_sites: (parent joint index, (3,) offset) for each End Site.
    name: the file name, for messages.
    """

    joint_names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    frame_time: float
    motion: np.ndarray
    end_sites: list[tuple[int, np.ndarray]] = field(default_factory=list)
    name: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second; snapped to a whole number when the frame time was rounded."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-3 * fps else fps

    def local_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Local rotation (T, J, 3, 3) and translation (T, J, 3) of every joint per frame."""
        t, j = self.num_frames, len(self.joint_names)
        trans = np.repeat(self.offsets[None].astype(np.float64), t, axis=0)
        rot = np.broadcast_to(np.eye(3), (t, j, 3, 3)).copy()
        pos_j, pos_axis, pos_col = [], [], []
        orders: dict[str, tuple[list[int], list[list[int]]]] = {}
        col = 0
        for ji, chans in enumerate(self.channels):
            order, cols = "", []
            for ch in chans:
                if ch.endswith("position"):
                    pos_j.append(ji)
                    pos_axis.append(_AXES[ch[0]])
                    pos_col.append(col)
                else:
                    order += ch[0]
                    cols.append(col)
                col += 1
            if order:
                joints, colss = orders.setdefault(order, ([], []))
                joints.append(ji)
                colss.append(cols)
        if pos_j:
            trans[:, pos_j, pos_axis] = self.motion[:, pos_col]
        for order, (joints, colss) in orders.items():
            angles = np.deg2rad(self.motion[:, np.array(colss)])  # (T, G, k)
            rot[:, joints] = _euler_matrices(angles, order)
        return rot, trans

    def global_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Global rotation (T, J, 3, 3) and position (T, J, 3) of every joint per frame."""
        return _chained(*self.local_transforms(), self.parents)

    def global_positions(self) -> np.ndarray:
        """Joint positions (T, J, 3) in the file's units and axes."""
        return self.global_transforms()[1]


def _chained(
    rot: np.ndarray, trans: np.ndarray, parents: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations (T, J, 3, 3) and positions (T, J, 3) of joints whose local rotations
    ``rot`` and translations ``trans`` (from the parent; the root's its position) hang on
    ``parents`` (each before its children)."""
    g_rot = np.empty_like(rot)
    g_pos = np.empty_like(trans)
    for j, p in enumerate(parents):
        if p < 0:
            g_rot[:, j] = rot[:, j]
            g_pos[:, j] = trans[:, j]
        else:
            g_rot[:, j] = g_rot[:, p] @ rot[:, j]
            g_pos[:, j] = g_pos[:, p] + (g_rot[:, p] @ trans[:, j, :, None])[..., 0]
    return g_rot, g_pos


def _euler_matrices(angles: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic rotations: angles (..., k) radians about the axes in ``order`` -> (..., 3, 3)."""
    out = None
    for i, axis in enumerate(order):
        c, s = np.cos(angles[..., i]), np.sin(angles[..., i])
        m = np.zeros((*angles.shape[:-1], 3, 3))
        a = _AXES[axis]
        b, d = (a + 1) % 3, (a + 2) % 3
        m[..., a, a] = 1.0
        m[..., b, b] = c
        m[..., d, d] = c
        m[..., b, d] = -s
        m[..., d, b] = s
        out = m if out is None else out @ m
    assert out is not None
    return out


# ---- parsing ---------------------------------------------------------------------------------


# Beyond this many degrees a rotation channel holds garbage, not a wound-up angle.
MAX_ANGLE = 1e5


def _fail(what: str, problem: str) -> FormatError:
    return FormatError(f"{what}: {problem}; check or re-export the BVH file")


class _HierarchyError(ValueError):
    pass


def _parse_hierarchy(header: str, what: str) -> tuple[list, list, list, list, list]:
    """(names, parents, offsets, channels, end_sites). Callers must not modify the lists."""
    try:
        return _parse_hierarchy_cached(header)
    except _HierarchyError as exc:
        raise _fail(what, str(exc)) from None


@functools.lru_cache(maxsize=32)
def _parse_hierarchy_cached(header: str) -> tuple[list, list, list, list, list]:
    # Cached on the header text: a dataset's files share a handful of headers.
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    end_sites: list[tuple[int, np.ndarray]] = []
    stack: list[int] = []  # joint index per open brace; -2 marks an End Site
    pending: int | None = None
    lines = header.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == "HIERARCHY"), None)
    if start is None:
        raise _HierarchyError("no HIERARCHY section")
    for lineno, raw in enumerate(lines[start + 1 :], start + 2):
        line = raw.strip()
        if not line:
            continue
        key, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if key in ("ROOT", "JOINT"):
                name = rest.removesuffix("{").strip()
                if not name:
                    raise ValueError("joint without a name")
                if key == "ROOT" and (stack or names):
                    raise ValueError("a second ROOT (only one skeleton per file is supported)")
                if key == "JOINT" and not stack:
                    raise ValueError("JOINT outside any ROOT")
                parents.append(stack[-1] if stack else -1)
                names.append(name)
                offsets.append([0.0, 0.0, 0.0])
                channels.append(())
                pending = len(names) - 1
                if rest.endswith("{"):
                    stack.append(pending)
                    pending = None
            elif key == "End":
                if not stack or stack[-1] < 0:
                    raise ValueError("End Site outside a joint")
                end_sites.append((stack[-1], np.zeros(3)))
                pending = -2
                if rest.endswith("{"):
                    stack.append(-2)
                    pending = None
            elif line == "{":
                if pending is None:
                    raise ValueError("unexpected '{'")
                stack.append(pending)
                pending = None
            elif line == "}":
                if not stack:
                    raise ValueError("unbalanced '}'")
                stack.pop()
            elif key == "OFFSET":
                vec = [float(v) for v in rest.split()]
                if len(vec) != 3:
                    raise ValueError("OFFSET needs 3 numbers")
                if not stack:
                    raise ValueError("OFFSET outside a joint")
                if stack[-1] == -2:
                    end_sites[-1] = (end_sites[-1][0], np.array(vec))
                else:
                    offsets[stack[-1]] = vec
            elif key == "CHANNELS":
                parts = rest.split()
                n = int(parts[0])
                chans = tuple(parts[1:])
                if len(chans) != n:
                    raise ValueError(f"CHANNELS says {n} but lists {len(chans)}")
                for ch in chans:
                    if len(ch) < 2 or ch[0] not in _AXES or ch[1:] not in ("position", "rotation"):
                        raise ValueError(f"unknown channel {ch!r}")
                if not stack or stack[-1] < 0:
                    raise ValueError("CHANNELS outside a joint")
                channels[stack[-1]] = chans
            else:
                raise ValueError(f"unexpected {line[:40]!r}")
        except ValueError as exc:
            raise _HierarchyError(f"bad HIERARCHY line {lineno} ({exc})") from None
    if not names:
        raise _HierarchyError("HIERARCHY has no joints")
    if stack:
        raise _HierarchyError("HIERARCHY ends with unclosed braces")
    return names, parents, offsets, channels, end_sites


def _parse_numbers(data: str, expected: int, n_channels: int, what: str) -> np.ndarray:
    """All frame values (expected,) float64; errors name the first bad frame."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            values: np.ndarray | None = np.fromstring(data, dtype=np.float64, sep=" ")
        except ValueError:
            values = None
    if values is None or values.size < expected:
        # Slow path, only for broken files: find out what is wrong.
        tokens = data.split()
        for i, tok in enumerate(tokens[:expected]):
            try:
                float(tok)
            except ValueError:
                raise _fail(
                    what,
                    f"garbled number {tok[:20]!r} in frame {i // n_channels} "
                    f"(channel {i % n_channels})",
                ) from None
        if len(tokens) < expected:
            # one row a frame: the first short row (the numbers after it shifted, so counting
            # them would blame the last frame); frames wrapped over rows: by the count
            rows = [len(line.split()) for line in data.splitlines() if line.strip()]
            whole, part = divmod(len(tokens), n_channels)
            if len(rows) == expected // n_channels:
                whole = next(k for k, n in enumerate(rows) if n != n_channels)
                part = rows[whole]
            where = (
                f"; frame {whole} has {part} of its {n_channels} numbers"
                if part
                else f"; the file ends after {whole} frames"
            )
            raise _fail(
                what,
                f"truncated motion data: expected {expected} numbers "
                f"({expected // n_channels} frames x {n_channels} channels), found "
                f"{len(tokens)}{where}",
            )
        values = np.array(tokens[:expected], dtype=np.float64)
    if values.size > expected:
        raise _fail(
            what,
            f"{values.size - expected} numbers after the last of the {expected // n_channels} "
            "declared frames",
        )
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise _fail(what, f"non-finite number in frame {bad // n_channels}")
    _check_rows(data, expected // n_channels, n_channels, what)
    return values


def _check_rows(data: str, n_frames: int, n_channels: int, what: str) -> None:
    """Every frame ends at a line end: one row per frame (or a frame wrapped over several
    whole rows). A row with a number too many or too few shifts every later frame, which
    would otherwise read without error as absurd motion."""
    counts = np.array([len(ln.split()) for ln in data.splitlines() if ln.strip()])
    ends = set(np.cumsum(counts).tolist())
    for k in range(1, n_frames + 1):
        if k * n_channels not in ends:
            raise _fail(
                what,
                f"frame {k - 1} does not end at the end of a row: a number is missing or one "
                f"too many there ({n_channels} channels per frame)",
            )


def parse_bvh(text: str, name: str = "") -> BVHData:
    """Parse BVH text (any skeleton). ``name`` (the file name) is used in error messages."""
    what = name or "BVH text"
    found = _MOTION_RE.search(text)
    if found is None:
        raise _fail(what, "no MOTION section")
    names, parents, offsets, channels, end_sites = _parse_hierarchy(text[: found.start()], what)
    rest = text[found.end() :]
    head = _FRAMES_RE.search(rest)
    if head is None:
        raise _fail(what, "MOTION must be followed by 'Frames: N' and 'Frame Time: dt' lines")
    try:
        n_frames = int(head.group(1))
        frame_time = float(head.group(2))
    except ValueError:
        raise _fail(
            what, f"bad Frames/Frame Time values {head.group(1)!r} {head.group(2)!r}"
        ) from None
    if n_frames <= 0:
        raise _fail(what, f"zero frames (Frames: {n_frames})")
    if not (np.isfinite(frame_time) and 1.0 / MAX_FPS <= frame_time <= 1.0 / MIN_FPS):
        raise _fail(
            what,
            f"Frame Time {head.group(2)} s is outside {1 / MAX_FPS:g}..{1 / MIN_FPS:g} s "
            f"({MIN_FPS:g}..{MAX_FPS:g} frames per second)",
        )
    n_channels = sum(len(c) for c in channels)
    if n_channels == 0:
        raise _fail(what, "no joint has CHANNELS")
    expected = n_frames * n_channels
    values = _parse_numbers(rest[head.end() :], expected, n_channels, what)
    rotations = [
        i for i, c in enumerate(ch for chans in channels for ch in chans) if "rotation" in c
    ]
    if rotations:
        biggest = float(np.abs(values.reshape(n_frames, n_channels)[:, rotations]).max())
        if biggest > MAX_ANGLE:
            raise _fail(
                what,
                f"a rotation of {biggest:.3g} degrees (more than {MAX_ANGLE:g}); the values are "
                "corrupt",
            )
    return BVHData(
        joint_names=list(names),
        parents=np.array(parents, dtype=np.int64),
        offsets=np.array(offsets, dtype=np.float64),
        channels=list(channels),
        frame_time=frame_time,
        motion=values.reshape(n_frames, n_channels),
        end_sites=[(j, off.copy()) for j, off in end_sites],
        name=name,
    )


def bvh_to_motion(data: BVHData, *, name: str = "", meta: dict[str, Any] | None = None) -> Motion:
    """Retarget parsed BVH data to a canonical ``Motion`` (metres, facing +Z, feet on floor).

    A file already on the canonical skeleton (as ``save_bvh`` writes) keeps its placement, as
    .npy and .motion files do: control results live in world space (keyframes, kept frames), and
    re-facing one whose first frame turned by a degree would move every joint of it."""
    skeleton = detect_skeleton(data.joint_names, data.name)
    positions = retarget(data.global_positions(), data.joint_names, skeleton=skeleton)
    info = {"skeleton": skeleton.name, "frame_time": data.frame_time}
    info.update(meta or {})
    if skeleton.name != "canonical":
        positions = canonicalize(positions)
    return Motion(
        positions=positions.astype(np.float32), fps=data.fps, name=name or data.name, meta=info
    )


def read_bvh_text(path: str | Path) -> str:
    """The text of a BVH file, with clear errors for a missing or unreadable file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(f"no such BVH file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    # BVH is ASCII; joint names from some exporters are Latin-1.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def load_bvh(path: str | Path) -> Motion:
    """Read a BVH file of any known skeleton into a canonical ``Motion``."""
    path = Path(path)
    data = parse_bvh(read_bvh_text(path), name=path.name)
    return bvh_to_motion(data, name=path.stem, meta={"path": str(path)})


# ---- writing ---------------------------------------------------------------------------------

_CM = 100.0  # the file is in centimetres, the usual BVH unit (Blender's importer scales it)


def _name(n: str) -> int:
    return JOINT_NAMES.index(n)


# T-pose rest direction of the bone ending at each joint, for joints whose parent has one child.
# Children of pelvis and spine3 take their rest offsets from the data instead (see _rest_offsets).
_REST_DIR: dict[int, tuple[float, float, float]] = {}
for _n in JOINT_NAMES:
    if _n.startswith(("left_", "right_")):
        _side = 1.0 if _n.startswith("left_") else -1.0
        _part = _n.split("_", 1)[1]
        if _part in ("knee", "ankle"):
            _REST_DIR[_name(_n)] = (0.0, -1.0, 0.0)
        elif _part == "foot":
            _REST_DIR[_name(_n)] = (0.0, 0.0, 1.0)
        elif _part in ("shoulder", "elbow", "wrist"):
            _REST_DIR[_name(_n)] = (_side, 0.0, 0.0)
    elif _n in ("spine2", "spine3", "head"):
        _REST_DIR[_name(_n)] = (0.0, 1.0, 0.0)

# End Site offsets (cm) for leaves, only for display in other tools.
_END_SITES = {"head": (0, 12, 0), "left_foot": (0, 0, 5), "right_foot": (0, 0, 5)}
_END_SITES.update({"left_wrist": (8, 0, 0), "right_wrist": (-8, 0, 0)})

# Multi-child joints: (joint, left child, right child, up child) defining its local frame.
_FRAMES = (
    (_name("pelvis"), _name("left_hip"), _name("right_hip"), _name("spine1")),
    (_name("spine3"), _name("left_collar"), _name("right_collar"), _name("neck")),
)


def _frame(left: np.ndarray, right: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Right-handed frames (T, 3, 3), columns x (to the left), y (up), z (forward)."""
    x, y = orthonormal_pair(left - right, up)  # the left-right axis as measured
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def bone_shift(positions: np.ndarray) -> float:
    """How far (m) any bone's length over ``positions`` (T, 22, 3) strays from the one length
    a written BVH gives it (the median, ``_rest_offsets``): its joints move by about that much
    per bone along a limb. A mocap dance's drifting bones stray up to 0.13 m; generated and
    cleaned motions a millimetre."""
    lengths = bone_lengths(np.asarray(positions, dtype=np.float64))
    if not len(lengths):
        return 0.0
    return float(np.abs(lengths - np.median(lengths, axis=0)).max())


def _rest_offsets(pos: np.ndarray) -> np.ndarray:
    """Rest offset (22, 3) of each joint from its parent; the root's is its frame-0 position.

    pos: (T, 22, 3). Single-child bones: median length along _REST_DIR. Children of pelvis and
    spine3: the median of their offsets in the parent's own left/up frame, so a rigid pelvis or
    chest is reproduced exactly.
    """
    lengths = np.median(bone_lengths(pos), axis=0)  # (21,) in BONES order == joints 1..21
    offsets = np.zeros((NUM_JOINTS, 3))
    offsets[0] = pos[0, 0]
    for j in range(1, NUM_JOINTS):
        if j in _REST_DIR:
            offsets[j] = lengths[j - 1] * np.array(_REST_DIR[j])
    for joint, left, right, up in _FRAMES:
        frame = _frame(pos[:, left], pos[:, right], pos[:, up] - pos[:, joint])
        for child in CHILDREN[joint]:
            local = np.einsum("tab,ta->tb", frame, pos[:, child] - pos[:, joint])
            offsets[child] = np.median(local, axis=0)
    return offsets


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotations (T, 3, 3) taking unit vector(s) a ((3,) or (T, 3)) to unit vectors
    b (T, 3)."""
    a = np.broadcast_to(a, b.shape)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    k = np.zeros((*b.shape[:-1], 3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    k[..., 1, 0], k[..., 2, 0], k[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    opposite = c < -1 + 1e-9
    scale = 1.0 / np.where(opposite, 1.0, 1.0 + c)
    rot = np.eye(3) + k + (k @ k) * scale[..., None, None]
    if opposite.any():
        # Half turn about any axis perpendicular to a.
        a0 = a[opposite][0]
        axis = np.cross(a0, [1.0, 0.0, 0.0] if abs(a0[0]) < 0.9 else [0.0, 1.0, 0.0])
        axis /= np.linalg.norm(axis)
        rot[opposite] = 2.0 * np.outer(axis, axis) - np.eye(3)
    return rot


# A single-child joint's rotation is its bone's aim plus a twist about the bone that positions
# do not say. The smallest rotation from the rest direction (the twist it implies) turns fast
# where the bone points nearly opposite its rest (a folded elbow, an arm across the body): an
# in-between's right elbow turned 105 degrees about its forearm in one frame, which a skinned
# forearm shows as a snap (a game developer's trial). The twist is carried on from frame to
# frame instead, and drawn back towards the smallest rotation's by this share a frame where
# the bone is within 90 degrees of its rest (none past 120), so it does not wander off.
TWIST_RETURN = 0.05


def _steady_swing(rest: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) taking unit ``rest`` (3,) to unit ``target`` (T, 3) exactly, their
    twist about the target carried on from the frame before (``TWIST_RETURN``)."""
    least = _swing(rest, target)  # (T, 3, 3)
    if len(target) < 2:
        return least
    # the twist that carrying the frame before's rotation on to this frame's aim adds to the
    # smallest rotation: the angle of moved @ least^T about the target
    moved = _swing(target[:-1], target[1:]) @ least[:-1]
    q = moved @ np.swapaxes(least[1:], -1, -2)
    sin = 0.5 * np.einsum("ti,ti->t", target[1:], np.stack(
        [q[:, 2, 1] - q[:, 1, 2], q[:, 0, 2] - q[:, 2, 0], q[:, 1, 0] - q[:, 0, 1]], axis=-1))  # fmt: skip
    cos = 0.5 * (np.trace(q, axis1=-2, axis2=-1) - 1.0)
    added = np.arctan2(sin, cos)
    near = np.clip((target[1:] @ rest + 0.5) / 0.5, 0.0, 1.0)  # 1 within 90 deg, 0 past 120
    keep = 1.0 - TWIST_RETURN * near
    twist = np.zeros(len(target))
    for t in range(1, len(target)):  # a leaky sum: scalars, fast even for long takes
        twist[t] = keep[t - 1] * (twist[t - 1] + added[t - 1])
    return Rotation.from_rotvec(target * twist[:, None]).as_matrix() @ least


def _local_rotations(pos: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Local rotations (T, 22, 3, 3) that pose the rest skeleton onto positions (T, 22, 3)."""
    t = pos.shape[0]
    local = np.broadcast_to(np.eye(3), (t, NUM_JOINTS, 3, 3)).copy()
    glob = np.empty_like(local)
    for j in range(NUM_JOINTS):
        parent_rot = (
            glob[:, PARENTS[j]] if PARENTS[j] >= 0 else np.broadcast_to(np.eye(3), (t, 3, 3))
        )
        children = CHILDREN[j]
        if children:
            seen = pos[:, list(children)] - pos[:, j : j + 1]  # (T, K, 3) global
            seen = np.einsum("tba,tkb->tka", parent_rot, seen)  # in the parent's frame
            if len(children) == 1:
                c = children[0]
                rest = offsets[c] / max(np.linalg.norm(offsets[c]), 1e-12)
                norm = np.linalg.norm(seen[:, 0], axis=-1, keepdims=True)
                target = np.where(norm > 1e-9, seen[:, 0] / np.maximum(norm, 1e-12), rest)
                local[:, j] = _steady_swing(rest, target)
            elif j in _AIMED:
                local[:, j] = _aimed(offsets, list(children), seen, _AIMED[j])
            else:
                local[:, j] = best_rotations(offsets[list(children)], seen)
        glob[:, j] = parent_rot @ local[:, j]
    return local


# A joint of several children whose rotation points one of them exactly, the others giving
# only the twist about it: spine3's neck, so the neck and head stay where they are whatever the
# collars do (a best fit over all three moved the head 7 mm in an edit of the arms alone).
_AIMED = {_name("spine3"): _name("neck")}


def _aimed(offsets: np.ndarray, children: list[int], seen: np.ndarray, main: int) -> np.ndarray:
    """Rotations (T, 3, 3) taking ``offsets[main]`` onto its seen direction exactly, then
    turning about that direction to bring the other children's offsets closest to theirs.
    seen: (T, K, 3) the children's offsets in the parent's frame, in ``children`` order."""
    k = children.index(main)
    rest = offsets[main] / max(float(np.linalg.norm(offsets[main])), 1e-12)
    norm = np.linalg.norm(seen[:, k], axis=-1, keepdims=True)
    axis = np.where(norm > 1e-9, seen[:, k] / np.maximum(norm, 1e-12), rest)  # (T, 3)
    swing = _swing(rest, axis)
    others = [i for i in range(len(children)) if i != k]
    if not others:
        return swing
    placed = np.einsum("tab,kb->tka", swing, offsets[[children[i] for i in others]])
    wanted = seen[:, others]

    def across(v: np.ndarray) -> np.ndarray:  # the part of v off the axis
        return v - np.sum(v * axis[:, None], axis=-1, keepdims=True) * axis[:, None]

    u, w = across(placed), across(wanted)
    # the twist angle that best turns u onto w about the axis (least squares over children)
    sin = np.sum(np.sum(np.cross(u, w) * axis[:, None], axis=-1), axis=1)
    cos = np.sum(np.sum(u * w, axis=-1), axis=1)
    twist = Rotation.from_rotvec(axis * np.arctan2(sin, cos)[:, None]).as_matrix()
    return twist @ swing


def _dfs_order() -> list[int]:
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c in CHILDREN[j]:
            visit(c)

    visit(0)
    return order


# Each joint's Euler order, ZXY but where the joint bends about the middle axis of ZXY:
# gimbal lock comes at +-90 degrees of the middle angle, and a knee bent past 90 degrees (a
# kick, a crouch) stepped by up to 90 degrees between frames there. Chosen on 150 training
# clips (largest middle angle, ZXY against the chosen): hips 71 -> 24, knees 90 -> 51
# (ZYX), ankles 87 -> 35 (XZY); every other joint is at most 60 in ZXY, which suits it best
# or nearly (elbows 60 against 86-90 in the others).
EULER_ORDERS: dict[str, str] = {
    **{f"{side}_{j}": "ZYX" for side in ("left", "right") for j in ("hip", "knee")},
    **{f"{side}_ankle": "XZY" for side in ("left", "right")},
}


def _euler_order(joint: int) -> str:
    return EULER_ORDERS.get(JOINT_NAMES[joint], "ZXY")


def _continuous(euler: np.ndarray) -> np.ndarray:
    """Euler angles (T, J, 3) in degrees, each joint in its own Tait-Bryan order, made
    continuous in time (an "Euler filter"): each frame takes, of its two equivalent triples
    (a, b, c) and (a + 180, 180 - b, c + 180) each shifted by whole turns, the one nearest the
    frame before. ``as_euler`` wraps every angle to +-180: a turning pelvis jumped from
    -170.6 to 163.3 degrees in one frame, and an engine interpolating the keys spun the body
    round (a game developer's trial)."""
    out = np.array(euler, dtype=np.float64)
    if len(out) < 2:
        return out
    other = out + np.array([180.0, 0.0, 180.0])
    other[..., 1] = 180.0 - out[..., 1]
    for t in range(1, len(out)):
        prev = out[t - 1]
        a, b = (c + 360.0 * np.round((prev - c) / 360.0) for c in (out[t], other[t]))
        nearer = np.abs(b - prev).sum(axis=-1) < np.abs(a - prev).sum(axis=-1)  # (J,)
        out[t] = np.where(nearer[:, None], b, a)
    return out


# What a written BVH's bones are: the motion's own lengths (its joints reproduced exactly), or
# one skeleton for every file (the shipped standing pose's), which an engine imports as one rig.
SKELETONS = ("own", "standard")


@functools.cache
def standard_offsets() -> np.ndarray:
    """Rest offsets (22, 3) in centimetres of the standard skeleton: the shipped standing
    pose's bones (``paths.STANDING_POSE``), the same in every file written with it."""
    from motiongen.paths import STANDING_POSE

    offsets = _rest_offsets(np.load(STANDING_POSE).astype(np.float64)[None] * _CM)
    offsets.setflags(write=False)  # cached: one skeleton for every caller
    return offsets


def _standard_pose(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, local rotations, root path) that pose the standard skeleton as ``pos`` (T,
    22, 3, cm) moves: every bone turned as the motion's, the root raised or lowered each frame
    so the lowest foot joint stands as high as the motion's (legs of another length would
    otherwise float or sink)."""
    offsets = standard_offsets().copy()
    offsets[0] = pos[0, 0]
    local = _local_rotations(pos, offsets)
    root = pos[:, 0].copy()
    trans = np.repeat(offsets[None], len(pos), axis=0)
    trans[:, 0] = root
    posed = _chained(local, trans, PARENTS)[1]
    feet = list(FOOT_JOINTS)
    root[:, 1] += pos[:, feet, 1].min(axis=1) - posed[:, feet, 1].min(axis=1)
    return offsets, local, root


def motion_to_bvh_text(motion: Motion, skeleton: str = "own") -> str:
    """The motion as BVH text on the canonical skeleton, in centimetres, each joint's
    rotation channels in its ``EULER_ORDERS`` order (ZXY for most). ``skeleton`` "own": the
    bones' lengths are the motion's (median), its joints reproduced; "standard": the same
    bones in every file (``standard_offsets``), each bone turned as the motion's and the feet
    kept at its height, the joints off by the difference in bone lengths."""
    if skeleton not in SKELETONS:
        raise InputError(f"unknown BVH skeleton {skeleton!r}; choose one of {', '.join(SKELETONS)}")
    pos = motion.positions.astype(np.float64) * _CM
    if skeleton == "standard":
        offsets, local, root = _standard_pose(pos)
    else:
        offsets = _rest_offsets(pos)
        local = _local_rotations(pos, offsets)
        root = pos[:, 0]
    order = _dfs_order()
    euler = np.empty((pos.shape[0], NUM_JOINTS, 3))
    with warnings.catch_warnings():
        # Gimbal lock only means one of the angles is arbitrary; the matrix is kept exactly.
        warnings.simplefilter("ignore", UserWarning)
        for k, j in enumerate(order):
            euler[:, k] = Rotation.from_matrix(local[:, j]).as_euler(_euler_order(j), degrees=True)
    euler = _continuous(euler).reshape(pos.shape[0], -1)
    frames = np.concatenate([root, euler], axis=1)

    out = io.StringIO()
    out.write("HIERARCHY\n")
    depth_of = {0: 0}
    open_depths: list[int] = []
    for j in order:
        depth = depth_of[j]
        while open_depths and open_depths[-1] >= depth:
            d = open_depths.pop()
            out.write("  " * d + "}\n")
        pad = "  " * depth
        out.write(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {JOINT_NAMES[j]}\n{pad}{{\n")
        out.write(f"{pad}  OFFSET {offsets[j, 0]:.6f} {offsets[j, 1]:.6f} {offsets[j, 2]:.6f}\n")
        chans = " ".join(f"{axis}rotation" for axis in _euler_order(j))
        if j == 0:
            out.write(f"{pad}  CHANNELS 6 Xposition Yposition Zposition {chans}\n")
        else:
            out.write(f"{pad}  CHANNELS 3 {chans}\n")
        if not CHILDREN[j]:
            ex, ey, ez = _END_SITES[JOINT_NAMES[j]]
            out.write(f"{pad}  End Site\n{pad}  {{\n{pad}    OFFSET {ex} {ey} {ez}\n{pad}  }}\n")
        for c in CHILDREN[j]:
            depth_of[c] = depth + 1
        open_depths.append(depth)
    while open_depths:
        out.write("  " * open_depths.pop() + "}\n")
    out.write(f"MOTION\nFrames: {pos.shape[0]}\nFrame Time: {1.0 / motion.fps:.9g}\n")
    np.savetxt(out, frames, fmt="%.6f")
    return out.getvalue()


def save_bvh(motion: Motion, path: str | Path, skeleton: str = "own") -> Path:
    """Write ``motion`` as a canonical-skeleton BVH file (centimetres; ``skeleton``: see
    ``motion_to_bvh_text``); returns the path."""
    path = Path(path)
    path.write_text(motion_to_bvh_text(motion, skeleton), encoding="utf-8")
    return path
