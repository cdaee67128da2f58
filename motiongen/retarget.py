"""Mapping source skeletons onto the canonical 22-joint skeleton.

Each known source skeleton says, for every canonical joint, which source joint it is, or an
affine blend of source joints (weights sum to 1) for joints the source lacks; plus the source's
length unit and axes. ``retarget`` detects the skeleton from the joint names and returns
canonical joint positions in metres, Y up. The mappings are documented in
``docs/retargeting.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from motiongen.errors import FormatError
from motiongen.skeleton import JOINT_INDEX, JOINT_NAMES, NUM_JOINTS

Blend = tuple[tuple[str, float], ...]

# Units tried when a skeleton's unit is not fixed: metres, centimetres, millimetres, inches,
# and the CMU ASF unit (inches / 0.45) that the common CMU BVH conversions keep.
CANDIDATE_UNITS: dict[str, float] = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "inch": 0.0254,
    "cmu": 0.0254 / 0.45,
}
# Hip to ankle of an adult, metres; used only to pick one of CANDIDATE_UNITS.
TYPICAL_LEG_LENGTH = 0.8


@dataclass(frozen=True, eq=False)
class SourceSkeleton:
    """A source skeleton known to the retargeter.

    name: short id used in messages and ``Motion.meta["skeleton"]``.
    joints: canonical joint name -> blend of (source joint name, weight); weights sum to 1.
    unit: metres per source unit, or None to pick one of CANDIDATE_UNITS from the leg length.
    axes: (3, 3) matrix taking source coordinates to canonical ones (Y up, right-handed).
    note: one line for the docs and error messages.
    """

    name: str
    joints: dict[str, Blend]
    unit: float | None
    axes: np.ndarray = field(default_factory=lambda: np.eye(3))
    note: str = ""

    def __post_init__(self) -> None:
        missing = [n for n in JOINT_NAMES if n not in self.joints]
        if missing:
            raise ValueError(f"skeleton {self.name} does not map {missing}")
        for canon, blend in self.joints.items():
            if abs(sum(w for _, w in blend) - 1.0) > 1e-9:
                raise ValueError(f"skeleton {self.name}: weights of {canon} do not sum to 1")

    @property
    def source_joints(self) -> tuple[str, ...]:
        """Every source joint the mapping reads, in first-use order."""
        seen: dict[str, None] = {}
        for blend in self.joints.values():
            for src, _ in blend:
                seen.setdefault(src, None)
        return tuple(seen)

    def weights(self, joint_names: Sequence[str]) -> np.ndarray:
        """(22, J) matrix W with canonical = W @ source, for a file with these joint names."""
        return _weights(self, tuple(joint_names)).copy()


@functools.lru_cache(maxsize=64)
def _weights(skel: SourceSkeleton, joint_names: tuple[str, ...]) -> np.ndarray:
    index = {_normalise(n): i for i, n in enumerate(joint_names)}
    w = np.zeros((NUM_JOINTS, len(joint_names)))
    for canon, blend in skel.joints.items():
        for src, weight in blend:
            w[JOINT_INDEX[canon], index[_normalise(src)]] += weight
    return w


def _normalise(name: str) -> str:
    # Exporters prefix namespaces ("mixamorig:Hips", "mixamorig1:Hips") and vary case.
    return name.rsplit(":", 1)[-1].strip().lower()


def _one(name: str) -> Blend:
    return ((name, 1.0),)


def _sided(template: dict[str, str], left: str, right: str) -> dict[str, Blend]:
    """Expand {"hip": "UpperLeg{s}"} to left_/right_ canonical joints with side tags."""
    out: dict[str, Blend] = {}
    for part, src in template.items():
        out[f"left_{part}"] = _one(src.format(s=left))
        out[f"right_{part}"] = _one(src.format(s=right))
    return out


BANDAI = SourceSkeleton(
    name="bandai",
    joints={
        "pelvis": _one("Hips"),
        # Bandai's spine is Hips -> Spine (16 cm) -> Chest (9 cm) -> Neck (16 cm); SMPL puts
        # spine1/spine2/spine3 at about 24 % / 50 % / 60 % of the pelvis-neck length. spine1 is
        # placed on the Hips-Spine bone and spine2 on Spine itself so every canonical bone lies
        # in one rigid Bandai segment: bone lengths stay constant and BVH export is exact.
        "spine1": (("Hips", 0.4), ("Spine", 0.6)),
        "spine2": _one("Spine"),
        "spine3": _one("Chest"),
        "neck": _one("Neck"),
        # Bandai's Head is the base of the head, 6.5 cm above Neck; SMPL's head joint is about
        # 10 cm above its neck, so extend the neck bone by half.
        "head": (("Head", 1.5), ("Neck", -0.5)),
        **_sided(
            {
                "hip": "UpperLeg_{s}",
                "knee": "LowerLeg_{s}",
                "ankle": "Foot_{s}",
                "foot": "Toes_{s}",
                "collar": "Shoulder_{s}",
                "shoulder": "UpperArm_{s}",
                "elbow": "LowerArm_{s}",
                "wrist": "Hand_{s}",
            },
            "L",
            "R",
        ),
    },
    unit=0.01,
    note="Bandai Namco Research Motiondataset-1/-2 (centimetres, Y up)",
)

CANONICAL = SourceSkeleton(
    name="canonical",
    joints={n: _one(n) for n in JOINT_NAMES},
    unit=0.01,
    note="motiongen's own skeleton as written by save_bvh (centimetres, Y up)",
)

_MIXAMO_LIMBS = {
    "hip": "{s}UpLeg",
    "knee": "{s}Leg",
    "ankle": "{s}Foot",
    "foot": "{s}ToeBase",
    "collar": "{s}Shoulder",
    "shoulder": "{s}Arm",
    "elbow": "{s}ForeArm",
    "wrist": "{s}Hand",
}

MIXAMO = SourceSkeleton(
    name="mixamo",
    joints={
        "pelvis": _one("Hips"),
        "spine1": _one("Spine"),
        "spine2": _one("Spine1"),
        "spine3": _one("Spine2"),
        "neck": _one("Neck"),
        "head": _one("Head"),
        **_sided(_MIXAMO_LIMBS, "Left", "Right"),
    },
    unit=None,
    note="Mixamo rigs (mixamorig:Hips ..., any namespace prefix; unit from leg length)",
)

CMU = SourceSkeleton(
    name="cmu",
    joints={
        "pelvis": _one("Hips"),
        # LowerBack sits on Hips; Spine and Spine1 are the two upper-body segments above it.
        "spine1": _one("Spine"),
        "spine2": (("Spine", 0.5), ("Spine1", 0.5)),
        "spine3": _one("Spine1"),
        "neck": _one("Neck"),
        "head": _one("Head"),
        **_sided(_MIXAMO_LIMBS, "Left", "Right"),
    },
    unit=None,
    note="CMU mocap BVH conversions (Hips, LowerBack, Spine, Spine1, Neck, Neck1, Head ...)",
)

# Order matters: the first skeleton whose joints are all present wins, so skeletons whose
# joint sets contain another's come first (Mixamo has Spine2, CMU has LowerBack/Neck1).
SKELETONS: tuple[SourceSkeleton, ...] = (BANDAI, CANONICAL, MIXAMO, CMU)
_CMU_MARKERS = ("LowerBack", "Neck1")


def _matches(skel: SourceSkeleton, names: set[str]) -> list[str]:
    """Source joints of ``skel`` missing from ``names`` (normalised)."""
    need = list(skel.source_joints)
    if skel is CMU:
        need += list(_CMU_MARKERS)
    return [j for j in need if _normalise(j) not in names]


def detect_skeleton(joint_names: Sequence[str], what: str = "") -> SourceSkeleton:
    """The known skeleton these joint names belong to.

    Raises FormatError listing the known skeletons and the joints each one missed.
    """
    names = {_normalise(n) for n in joint_names}
    misses: list[str] = []
    for skel in SKELETONS:
        missing = _matches(skel, names)
        if not missing:
            return skel
        shown = ", ".join(missing[:6]) + (
            f" (+{len(missing) - 6} more)" if len(missing) > 6 else ""
        )
        misses.append(f"{skel.name} lacks {shown}")
    where = f"{what}: " if what else ""
    raise FormatError(
        f"{where}unknown skeleton with {len(joint_names)} joints "
        f"({', '.join(list(joint_names)[:5])}...); known skeletons: {'; '.join(misses)}. "
        "Rename the joints to one of these conventions or add a mapping in motiongen/retarget.py"
    )


def _guess_unit(canon: np.ndarray) -> float:
    """Metres per unit for positions (T, 22, 3) in unknown units, from the median leg length."""
    leg = np.zeros(canon.shape[0])
    for side in ("left", "right"):
        h, k, a = (canon[:, JOINT_INDEX[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        leg += 0.5 * (np.linalg.norm(k - h, axis=-1) + np.linalg.norm(a - k, axis=-1))
    length = float(np.median(leg))
    if not np.isfinite(length) or length <= 0:
        return 1.0
    units = np.array(list(CANDIDATE_UNITS.values()))
    return float(units[np.argmin(np.abs(np.log(length * units / TYPICAL_LEG_LENGTH)))])


def retarget(
    positions: np.ndarray,
    joint_names: Sequence[str],
    *,
    skeleton: SourceSkeleton | None = None,
    what: str = "",
) -> np.ndarray:
    """Canonical joint positions in metres, Y up, from a known source skeleton.

    positions: (T, J, 3) global joint positions in the source's units and axes.
    joint_names: the J source joint names (the skeleton is detected from them unless given).
    what: the file name, for error messages.
    Returns (T, 22, 3) float64. Facing and floor are left alone (see ``canonical.canonicalize``).
    """
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 3 or positions.shape[1:] != (len(joint_names), 3):
        raise FormatError(
            f"{what or 'positions'}: expected shape (T, {len(joint_names)}, 3), "
            f"got {positions.shape}"
        )
    skel = skeleton or detect_skeleton(joint_names, what)
    canon = _weights(skel, tuple(joint_names)) @ positions
    canon = canon @ skel.axes.T
    unit = skel.unit if skel.unit is not None else _guess_unit(canon)
    return canon * unit
