"""Deterministic train / val / test splits (80 / 10 / 10), stratified, stable under additions.

Unit and group:
- the *unit* that is never divided between splits is the song for dance clips
  (``labels["song"]``), otherwise the clip name without a window suffix (``name#w2`` ->
  ``name``), so windows cut from one clip stay together;
- the *group* (stratum) is source × content × style × dance type (labels that are absent
  count as empty): content×style for Bandai, dance type for the dance songs.

Base rule (``assign_split``): a unit's split comes from u = SHA-1(unit) mapped to [0, 1):
u < 0.8 train, u < 0.9 val, else test. It depends on nothing but the unit's own name, so it
is identical on every machine and adding clips never moves another clip.

Group guarantees (``split_table``, the one to use when the whole set is known), applied on
top of the base rule and moving as few units as possible (the ones whose u is most extreme):
- a group with 1 unit: train (a lone content×style clip is more useful for training);
- a group with 2 units: at least one in train (the lower u);
- a group with ≥ 3 units: at least one in train and at least one in val or test (the unit
  with the highest u goes to test if none is there);
- a group with ≥ 10 units: at least one in val and one in test.
Adding clips to a group can only change the units these fixes moved.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

SPLITS: tuple[str, str, str] = ("train", "val", "test")
FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)

_WINDOW_SUFFIX = re.compile(r"#w\d+$")


def unit_of(labels: Mapping[str, str], name: str) -> str:
    """The unit that stays within one split: the song for dances, else the clip."""
    song = labels.get("song")
    if song:
        return f"song:{song}"
    return _WINDOW_SUFFIX.sub("", name)


def group_of(labels: Mapping[str, str]) -> str:
    """The stratum: source|content|style|dance_type."""
    return "|".join(labels.get(k, "") or "" for k in ("source", "content", "style", "dance_type"))


def unit_hash(unit: str) -> float:
    """Stable uniform number in [0, 1) from a unit name (SHA-1, machine-independent)."""
    digest = hashlib.sha1(unit.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _base_split(u: float) -> str:
    if u < FRACTIONS[0]:
        return "train"
    if u < FRACTIONS[0] + FRACTIONS[1]:
        return "val"
    return "test"


def assign_split(labels: Mapping[str, str], name: str) -> str:
    """Split of one clip by the base rule alone ("train" | "val" | "test").

    Use ``split_table`` when all clips are known: it adds the per-group guarantees.
    """
    return _base_split(unit_hash(unit_of(labels, name)))


def _fix_group(units: dict[str, float]) -> dict[str, str]:
    """Splits for the units of one group (unit -> u), with the group guarantees."""
    order = sorted(units, key=lambda k: units[k])  # ascending u
    split = {k: _base_split(units[k]) for k in order}
    n = len(order)
    if n == 1:
        return {order[0]: "train"}
    if "train" not in split.values():
        split[order[0]] = "train"
    if n >= 3 and not ({"val", "test"} & set(split.values())):
        split[order[-1]] = "test"
    if n >= 10:
        for need in ("test", "val"):
            if need not in split.values():
                # The train unit with the highest u (the base rule's nearest miss) moves.
                trains = [k for k in order if split[k] == "train"]
                split[trains[-1]] = need
    return split


def split_table(items: Iterable[Any]) -> dict[str, str]:
    """name -> split for every item (anything with ``.name`` and ``.labels``: Motion,
    ClipRecord ...). Deterministic; a unit (song / clip) never spans two splits."""
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    unit_names: dict[str, list[str]] = defaultdict(list)
    unit_group: dict[str, str] = {}
    for it in items:
        labels = dict(getattr(it, "labels", {}) or {})
        unit = unit_of(labels, it.name)
        unit_names[unit].append(it.name)
        # A unit belongs to the group of its first clip (songs have one group anyway).
        group = unit_group.setdefault(unit, group_of(labels))
        groups[group][unit] = unit_hash(unit)
    table: dict[str, str] = {}
    for units in groups.values():
        for unit, split in _fix_group(units).items():
            for name in unit_names[unit]:
                table[name] = split
    return table


def split_counts(table: Mapping[str, str]) -> dict[str, int]:
    """Clips per split."""
    out = dict.fromkeys(SPLITS, 0)
    for split in table.values():
        out[split] += 1
    return out
