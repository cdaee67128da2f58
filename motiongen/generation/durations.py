"""Lengths said in words: "for 2 seconds", "for 2.5 s", "for two seconds", "for a second",
"for 2,5 seconds" (a decimal comma), "for 1 minute" (a second only closing its text: "waits for a second person" names an actor).
Any other length ("for half a second", "for 1e3 seconds") is refused: a length read as none
had been 3 s without notice (the stick-figure story engine's scripts, then timelines)."""

from __future__ import annotations

import re

from motiongen.errors import InputError

_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty")  # fmt: skip
NUMBER_WORDS = {w: float(i) for i, w in enumerate(_UNITS)}
UNIT = r"(s|secs?|seconds?|mins?|minutes?|hours?|hrs?)\b"
SECONDS = re.compile(
    r"\bfor\s+(?:([-+]?\d+(?:[.,]\d+)?)\s*" + UNIT
    + r"|(" + "|".join(_UNITS) + r")\s+" + UNIT
    + r"|(a)\s+second\s*[.!]?\s*$)",
    re.IGNORECASE,
)  # fmt: skip
UNIT_SECONDS = {"m": 60.0, "h": 3600.0}  # by the unit's first letter; seconds otherwise
UNREADABLE_SECONDS = re.compile(
    r"\bfor\s+((?:(?!\bfor\b)[^,;])*?)\s*\b(secs?|seconds|mins?|minutes?|hours?|hrs?|"
    r"second(?!\s+[a-z]))\b",  # "for a second person / time" is no length
    re.IGNORECASE,
)


def said_seconds(text: str) -> tuple[float | None, str]:
    """(the length ``text`` says, in seconds, and the words that say it), or (None, "") when
    it says none; an ``InputError`` for a length it says in a way not read."""
    found = SECONDS.search(text)
    if found is None:
        if bad := UNREADABLE_SECONDS.search(text):
            raise InputError(
                f"cannot read {bad.group(1) + ' ' + bad.group(2)!r} as a length; write e.g. "
                "'for 2 seconds', 'for 2.5 s' or 'for two seconds'"
            )
        return None, ""
    digits, unit, word, word_unit, one = found.groups()
    seconds = (
        float(digits.replace(",", ".")) if digits else 1.0 if one else NUMBER_WORDS[word.lower()]
    )
    seconds *= UNIT_SECONDS.get((unit or word_unit or "s")[0].lower(), 1.0)
    return seconds, found.group(0)


def without_said_length(text: str) -> tuple[float | None, str, str]:
    """(the length ``text`` says or None, the text without those words, the words): "walks for
    3 seconds, then bows" -> (3.0, "walks, then bows", "for 3 seconds"). The words' gap is
    closed up, no space left before a comma."""
    said, phrase = said_seconds(text)
    if said is None:
        return None, text, ""
    rest = text.replace(phrase, " ", 1)
    rest = re.sub(r"\s+([,.;!?])", r"\1", " ".join(rest.split())).strip(" ,.")
    return said, rest, phrase.strip()
