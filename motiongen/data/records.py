"""Small records shared by the data sources."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BadFile:
    """A file or folder a source could not read; bulk jobs skip and report it.

    path: the offending file or folder.
    reason: a one-line message saying what is wrong.
    """

    path: str
    reason: str
