"""The label vocabulary the learned evaluators judge with (content, style, label pairs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from motiongen.augment import mirror_label
from motiongen.errors import InputError

IGNORE = -100  # target index of a missing label (cross-entropy ignores it)

# Styles whose prompts (motiongen.data.text.STYLE_PHRASES) say the same thing in both Bandai
# datasets; a generator cannot tell them apart, so neither should the judge.
STYLE_SYNONYMS: dict[str, str] = {
    "masculinity": "masculine",
    "old": "elderly",
    "tired": "exhausted",
}


def content_label(labels: dict[str, str]) -> str | None:
    """The classifier's content label of a clip: Bandai content, ``dance-<type>``, or None."""
    if labels.get("dance_type"):
        return f"dance-{labels['dance_type']}"
    return labels.get("content") or None


def style_label(labels: dict[str, str]) -> str | None:
    """The classifier's style label (synonyms merged), or None (dances, unlabelled clips)."""
    if labels.get("dance_type"):
        return None
    style = labels.get("style") or None
    return STYLE_SYNONYMS.get(style, style) if style else None


def label_key(labels: dict[str, str], mirrored: bool = False) -> str:
    """content|style of a clip (of its mirror image when ``mirrored``)."""
    content = content_label(labels) or ""
    return f"{mirror_label(content) if mirrored else content}|{style_label(labels) or ''}"


def clip_texts(rec: Any) -> list[str]:
    """A clip record's descriptions (the first is the plainest)."""
    return list(rec.texts) or ["a person moves"]


def build_vocab(records: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Sorted content and style vocabularies of clip records (mirror images included)."""
    contents, styles = set(), set()
    for rec in records:
        c, s = content_label(rec.labels), style_label(rec.labels)
        if c:
            contents.update({c, mirror_label(c)})
        if s:
            styles.add(s)
    if not contents or not styles:
        raise InputError("the training clips carry no content and style labels to learn")
    return sorted(contents), sorted(styles)
