"""Timeline segments that stop: "a person walks, then stops" comes to rest and stands.

No clip of the data has standing still as its action (each one does something), so a text
model makes "a person stops" from the nearest actions it knows: a tired walk, which walks on
(a 13 s walk for "walks, then stops"). A segment that only stops ("stops", "comes to a halt",
"stands still", "waits" ...) is instead the data's standing pose, held; the timeline's join
in-betweens into it from the action before, so the body slows over its last steps and stands.

The pose (``STANDING_POSE``) is the median first frame of the 231 normal-style gesture takes
(bows, waves, raised hands, calls) of the training split, which all begin at rest, set at the
origin facing +Z: ``python -m motiongen.data.standing`` makes it again from the prepared
data (joints within 9 mm of it in half of those takes).
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from motiongen.paths import STANDING_POSE

# How long a stop lasts when the timeline asks no length of it: the in-betweened second into it
# and a second of standing.
STOP_SECONDS = 2.0

# The segment's subject (parse_timeline gives every segment one: "a person", "the man", "she")
_SUBJECT = (
    r"(?:(?:a|an|the|this|that|our)\s+(?:[a-z]+\s+){0,3}?"
    r"(?:person|man|woman|boy|girl|child|kid|dancer|figure|character|guy|lady|actor|walker|"
    r"runner|athlete)|someone|somebody|he|she|they|it)"
)
_STOPS = (
    r"(?:stops?|halts?|pauses?|waits?|rests?|freezes?|comes?\s+to\s+(?:a\s+)?(?:stop|halt|rest)"
    r"|stands?|stays?\s+(?:still|put)|holds?\s+still)"
)
_ADVERB = r"(?:[a-z]+ly)"
_STOP_CLAUSE = (
    rf"(?:{_ADVERB}\s+)?{_STOPS}"
    rf"(?:\s+(?:still|there|moving|walking|running|in\s+place|on\s+the\s+spot|{_ADVERB}))*"
)
# "stops and stands still", "halts and waits": one stop said twice (a new user's "stops and
# stands still" was taken as an unknown action and walked on)
_STOP = re.compile(
    rf"^\s*{_SUBJECT}\s+{_STOP_CLAUSE}(?:\s*,?\s+and\s+{_STOP_CLAUSE})*"
    r"(?:\s+in\s+an?\s+[a-z-]+\s+way)?(?:\s+for\s+[\w.\s]+?)?\s*[.!]?\s*$",
    re.IGNORECASE,
)


def is_stop(text: str) -> bool:
    """Whether a timeline segment's text only stops or stands ("a person stops", "the man
    comes to a halt", "she stands still for 2 seconds"), not when it does something too ("stops
    and waves", "stands up", "walks to a stop sign")."""
    return bool(_STOP.match(text))


@cache
def _pose() -> np.ndarray:
    return np.load(STANDING_POSE).astype(np.float64)


def standing(frames: int) -> np.ndarray:
    """(frames, 22, 3) of the standing pose held, at the origin facing +Z (a timeline places
    it where the segment before ends, facing as it faces)."""
    return np.repeat(_pose()[None], max(1, int(frames)), axis=0)
