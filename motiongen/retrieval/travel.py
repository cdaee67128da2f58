"""Which way a prompt travels: phrases that go a way the prompt never says are left out.

"a person walks angrily" names no direction, and its closest phrases were the data's angry
walks forward (0.45 of the prior's weight), to the left (0.38) and backwards (0.17): their
blend walked 0.6-1.0 m/s on a bending path where the data's angry walks go 1.0-1.9 m/s
straight ahead (a new-user trial, 2026-12-05). A prompt that names no way to travel, or only
"forward", keeps the phrases whose text names none other, when there are any; one that names
a side, a turn or going back keeps everything, as the search ranked it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# Ways of travelling other than straight ahead, as the data's texts say them ("walks to the
# left", "walks backwards", "walks and turns right").
_ELSEWHERE = re.compile(
    r"\b(?:(?:walks|runs|moves|steps|goes|travels|sprints|jogs)\s+to\s+the\s+(?:left|right)|"
    r"(?:walks|runs|moves|steps|goes|jogs)\s+backwards?|turns?\s+(?:left|right|around)|"
    r"sideways|leftwards?|rightwards?)\b",
    re.IGNORECASE,
)
# Words with which a prompt says which way it goes (then the search's own order stands).
_DIRECTED = re.compile(
    r"\b(?:left|right|back|backs|backwards?|backing|backpedal\w*|turns?|turning|around|"
    r"sideways|side\s*-?\s*steps?|strafes?|circles?|clockwise|counter-?clockwise|"
    r"anti-?clockwise|away|retreats?|reverses?|reversing|leftwards?|rightwards?|"
    r"diagonal(?:ly)?|zig\s*-?\s*zags?)\b",
    re.IGNORECASE,
)


def names_a_direction(text: str) -> bool:
    """Whether a prompt says which way it goes other than forward."""
    return bool(_DIRECTED.search(text))


def straight_ahead(text: str | None, hits: Sequence[Any]) -> list[Any]:
    """``hits`` (each with ``.phrase.text``) without those travelling a way ``text`` does not
    name, when ``text`` names none and some hit is left; else all of them."""
    if not text or names_a_direction(text):
        return list(hits)
    kept = [h for h in hits if not _ELSEWHERE.search(h.phrase.text or "")]
    return kept or list(hits)
