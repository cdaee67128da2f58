"""Errors a user can act on.

Every error raised for bad input derives from ``MotionGenError``; its message says what is
wrong and what to do. The CLI prints it as one line and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class MotionGenError(Exception):
    """Base class of errors meant for the user, not a traceback."""


class InputError(MotionGenError, ValueError):
    """A file, argument or value the user gave cannot be used."""


class FormatError(InputError):
    """A file exists but its content is malformed or of an unknown kind."""


class DataNotFoundError(MotionGenError, FileNotFoundError):
    """A path or dataset that should be there is not."""


class Cancelled(MotionGenError):
    """Work stopped because its caller no longer wants it (a client left, a deadline passed)."""


def refuse_unknown(given: Iterable[str], takes: Sequence[str], what: str, after: str = "") -> None:
    """An ``InputError`` for the first of ``given`` that ``takes`` does not hold, naming the
    nearest it does ("secnds": did you mean 'seconds'?) and all of them, then ``after``
    (where Python would raise a bare TypeError for an unexpected keyword)."""
    import difflib

    for name in given:
        if name not in takes:
            close = difflib.get_close_matches(name, list(takes), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(
                f"{what}: unknown option {name!r}; {hint}it takes "
                f"{', '.join(takes) or 'no options'}{after}"
            )
