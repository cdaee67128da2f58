"""Natural-language descriptions from dataset labels.

Each clip gets several phrasings (the first is the plainest) so a text encoder sees varied
wording for one content x style pair. Phrasings are deterministic: the same labels always
give the same list.
"""

from __future__ import annotations

import hashlib

# Content label -> verb phrases in the third person present ("a person ___").
CONTENT_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks forward", "walks", "takes a walk forward"),
    "run": ("runs forward", "runs", "jogs forward"),
    "dash": ("sprints forward", "dashes ahead", "runs at full speed"),
    "walk-back": ("walks backwards", "steps backwards", "walks in reverse"),
    "walk-left": ("walks to the left", "steps sideways to the left", "moves to the left"),
    "walk-right": ("walks to the right", "steps sideways to the right", "moves to the right"),
    "walk-turn-left": ("walks and turns left", "walks forward then turns to the left",
                       "takes a left turn while walking"),
    "walk-turn-right": ("walks and turns right", "walks forward then turns to the right",
                        "takes a right turn while walking"),
    "bow": ("bows", "takes a bow", "bends forward in a bow"),
    "bye": ("waves goodbye", "waves a hand to say bye", "says goodbye with a wave"),
    "byebye": ("waves goodbye with both hands", "waves both hands to say bye-bye",
               "waves farewell energetically"),
    "guide": ("gestures to guide someone", "points the way with an arm",
              "shows someone the direction"),
    "respond": ("responds with a gesture", "answers with a nod and a gesture",
                "reacts to someone with a gesture"),
    "call": ("calls someone over", "beckons someone to come", "waves someone over"),
    "punch": ("throws a punch", "punches", "strikes with a fist"),
    "kick": ("kicks", "throws a kick", "kicks with a leg"),
    "slash": ("slashes with a sword", "swings a blade", "makes a slashing attack"),
    "dance-long": ("dances", "performs a long dance", "dances freely"),
    "dance-short": ("dances briefly", "does a short dance", "performs a few dance moves"),
    "wave-both-hands": ("waves with both hands", "waves both arms", "gives a two-handed wave"),
    "wave-left-hand": ("waves with the left hand", "waves the left hand",
                       "gives a wave with the left hand"),
    "wave-right-hand": ("waves with the right hand", "waves the right hand",
                        "gives a wave with the right hand"),
    "raise-up-both-hands": ("raises both hands", "lifts both arms up", "puts both hands up"),
    "raise-up-left-hand": ("raises the left hand", "lifts the left arm up",
                           "puts the left hand up"),
    "raise-up-right-hand": ("raises the right hand", "lifts the right arm up",
                            "puts the right hand up"),
}  # fmt: skip

# Style label -> (adverbial phrase, adjective for "a ___ person").
STYLE_PHRASES: dict[str, tuple[str, str]] = {
    "normal": ("", ""),
    "happy": ("happily", "happy"),
    "sad": ("sadly", "sad"),
    "angry": ("angrily", "angry"),
    "proud": ("proudly", "proud"),
    "not-confident": ("timidly, without confidence", "shy"),
    "masculinity": ("in a masculine way", "masculine"),
    "masculine": ("in a masculine way", "masculine"),
    "feminine": ("in a feminine way", "feminine"),
    "childish": ("in a childish way", "childlike"),
    "old": ("slowly like an old person", "old"),
    "elderly": ("slowly like an elderly person", "elderly"),
    "tired": ("wearily", "tired"),
    "exhausted": ("in an exhausted way", "exhausted"),
    "active": ("energetically", "energetic"),
    "youthful": ("in a youthful, lively way", "young"),
    "musical": ("in a theatrical, musical way", "theatrical"),
    "giant": ("with heavy steps like a giant", "giant"),
    "chimpira": ("with a swaggering, thuggish attitude", "swaggering"),
}

DANCE_TYPES: dict[str, str] = {"C": "cha-cha", "R": "rumba", "T": "tango", "W": "waltz"}

_DANCE_PHRASES: tuple[str, ...] = (
    "a person dances the {d}",
    "someone dances a {d} to the music",
    "a dancer performs {d} steps",
    "a person dances a {d} alone to the rhythm",
)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _humanise(label: str) -> str:
    return label.replace("-", " ").replace("_", " ")


def describe(labels: dict[str, str], n: int = 4) -> list[str]:
    """Up to ``n`` descriptions for a clip's labels (first = plainest).

    Understands Bandai (``content``/``style``), dance (``dance_type``) and synthetic labels;
    unknown labels fall back to the label words themselves.
    """
    if labels.get("dance_type"):
        dance = labels["dance_type"]
        texts = [p.format(d=dance) for p in _DANCE_PHRASES]
        return texts[:n]
    content = labels.get("content", "")
    if not content:
        return ["a person moves"][:n]
    verbs = CONTENT_PHRASES.get(content, (_humanise(content) + "s",))
    style = labels.get("style", "normal") or "normal"
    adverb, adjective = STYLE_PHRASES.get(style, (f"in a {_humanise(style)} way", ""))
    texts: list[str] = []
    for i, verb in enumerate(verbs):
        subject = ("a person", "someone", "a character")[i % 3]
        texts.append(f"{subject} {verb} {adverb}".strip())
        if adjective:
            texts.append(f"{_article(adjective)} {adjective} person {verb}")
    # Dedupe while keeping order; rotate all but the first by a stable hash so different
    # clips of one label pair do not always show the same second phrasing.
    seen: list[str] = []
    for t in texts:
        if t not in seen:
            seen.append(t)
    head, tail = seen[:1], seen[1:]
    if tail:
        key = int(hashlib.sha1(f"{content}|{style}".encode()).hexdigest(), 16) % len(tail)
        tail = tail[key:] + tail[:key]
    return (head + tail)[:n]
