"""Errors a user can act on.

Every error raised for bad input derives from ``MotionGenError``; its message says what is
wrong and what to do. The CLI prints it as one line and exits non-zero.
"""

from __future__ import annotations


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
