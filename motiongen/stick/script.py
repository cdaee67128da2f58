"""Scene scripts in plain sentences -> actors, their timed actions, emotions, lines, camera.

"A person walks in, waves happily, then sits down. A second person runs past. The camera
zooms in." gives two actors: the first walks, waves (happy) and sits, 3 s each by default;
the second runs; the camera zooms in when the second has run (a camera sentence takes the
time the last-named actor has reached).

Rules, not a remote service: sentences split on . ! ?; a subject starting a sentence ("a
person", "a second person", "another person", "a woman" ...) makes a new actor, a pronoun or
"the person / the first person / the second person" names an existing one (or, naming the
next one, brings it in); actions split on commas, "and" and "then"; "for N seconds" (digits
or words up to twenty, "for a second", minutes too; at most 20 s) sets a length, any other
"for ... seconds" is refused; a sentence may open with "Then"; emotion words (happily, sadly,
angrily, surprised ...) set the face and go into the action's text; a quoted line ("...",
or '...' whose apostrophes stay: 'I can't') makes the mouth move and lasts as long as it takes
to say; "the camera zooms in/out, pans left/right, follows <actor>, cuts to <actor>".
Each action's text is checked against what the model knows (``Pipeline.vocabulary_check``)
by the story engine, which names the nearest known actions for one it cannot make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from motiongen.errors import InputError
from motiongen.generation.durations import UNIT, said_seconds

MAX_ACTORS = 4
MAX_ACTIONS = 24
DEFAULT_SECONDS = 3.0
MAX_SECONDS = 20.0
WORD_SECONDS = 0.35  # speaking time per word of a line

EMOTIONS = {
    "happy": ("happily", "happy", "cheerfully", "joyfully", "excitedly", "gleefully"),
    "sad": ("sadly", "sad", "gloomily", "sorrowfully", "tiredly", "wearily"),
    "angry": ("angrily", "angry", "furiously", "crossly"),
    "surprised": ("surprised", "surprisedly", "in surprise", "astonished", "shocked"),
}
NEW_ACTOR = re.compile(
    r"^(a|an|another|one more|a second|a third|a fourth|a fifth|a sixth)\s+"
    r"(second\s+|third\s+|fourth\s+|other\s+)?(person|man|woman|boy|girl|child|dancer|"
    r"runner|figure|kid|friend)\b"
)
EXISTING = re.compile(
    r"^(he|she|they|it|the person|the man|the woman|the boy|the girl|the child|the dancer|"
    r"the figure|the (first|second|third|fourth) (person|man|woman|figure))\b"
)
CAMERA = re.compile(r"^the camera\b")
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5}
SPLIT_ACTIONS = re.compile(r",\s*(?:and\s+)?(?:then\s+)?|\s+and then\s+|\s+then\s+|\s+and\s+")
# A quoted line: in double quotes, or in single quotes that are not apostrophes ("can't"): an
# opening one not after a letter, a closing one not before a letter.
QUOTE = re.compile(r"[\"“”]([^\"“”]+)[\"“”]|(?<![a-z])['‘](.+?)['’](?![a-z])", re.IGNORECASE)


@dataclass
class Action:
    text: str  # what the model is asked, e.g. "a person waves happily"
    seconds: float
    emotion: str = "neutral"
    line: str | None = None  # spoken words, if any


@dataclass
class ActorScript:
    name: str
    actions: list[Action] = field(default_factory=list)


@dataclass
class CameraMove:
    at: float  # seconds into the scene
    kind: str  # zoom_in, zoom_out, pan_left, pan_right, follow, cut; "wide" (story.py's own)
    actor: int | None = None


@dataclass
class Script:
    actors: list[ActorScript]
    camera: list[CameraMove]


def parse_script(text: str) -> Script:
    """The scene a script describes (see the module docstring); ``InputError`` with the
    reason for a script it cannot read."""
    if not text or not text.strip():
        raise InputError("the script is empty; write sentences such as 'A person walks in, "
                         "then waves happily.'")  # fmt: skip
    if len(text) > 5000:
        raise InputError(f"the script has {len(text)} characters; at most 5000")
    actors: list[ActorScript] = []
    camera: list[CameraMove] = []
    current: int | None = None
    clock: list[float] = []
    pending_zoom: CameraMove | None = None  # a zoom in written just before an actor's sentence
    for sentence in _sentences(text.strip()):
        sentence = sentence.strip().rstrip(".!?").strip()
        # "Then he bows." / "And then she waves." go on the story: the actor is what follows.
        sentence = re.sub(r"(?i)^(?:and\s+)?(?:then|next|afterwards|after that),?\s+", "",
                          sentence)  # fmt: skip
        if not sentence:
            continue
        lower = sentence.lower()
        if CAMERA.match(lower):
            # A camera move happens where the story has got to: after what the last-named
            # actor has done so far.
            move = _camera(lower, clock[current] if current is not None else 0.0, len(actors))
            named = move.actor is not None
            if move.kind == "zoom_in" and not named and current is not None:
                move.actor = current  # a close-up of whom the story is about
            camera.append(move)
            pending_zoom = move if move.kind == "zoom_in" and not named else None
            continue
        zoom, pending_zoom = pending_zoom, None
        match = NEW_ACTOR.match(lower)
        if match:
            ordinal = re.search(r"\b(second|third|fourth|fifth|sixth)\b", match.group(0))
            if ordinal and ORDINALS[ordinal.group(1)] != len(actors):
                raise InputError(
                    f"{sentence!r} brings in the {ordinal.group(1)} person, but the script has "
                    f"{len(actors)} so far; say 'Another person ...' or number them in order"
                )
            actors.append(ActorScript(name=match.group(0)))
            clock.append(0.0)
            current = len(actors) - 1
            rest = lower[match.end() :]
        else:
            existing = EXISTING.match(lower)
            if existing is None:
                raise InputError(
                    f"cannot tell who acts in {sentence!r}; start with 'A person ...', "
                    "'A second person ...', 'He/She ...' or 'The camera ...'"
                )
            ordinal = existing.group(2)
            current = ORDINALS[ordinal] if ordinal else current
            if zoom is not None and ordinal and current < len(actors):
                # "The camera zooms in. The first person bows.": a close-up of the actor named
                # next, as that one's action starts (it had framed the actor named before, the
                # second person, when the first person's bow began: a new user's trial)
                zoom.actor = current
                zoom.at = max(clock[current], max((m.at for m in camera[:-1]), default=0.0))
            if current is not None and current == len(actors) and ordinal:
                # "The second person ..." when there is one actor: read as bringing in the next
                actors.append(ActorScript(name=existing.group(0)))
                clock.append(0.0)
            elif current is None or current >= len(actors):
                raise InputError(
                    f"{sentence!r} refers to an actor the script has not introduced (it has "
                    f"{len(actors)} so far); bring one in with 'A person ...' or 'Another person ...'"
                )
            rest = lower[existing.end() :]
        if len(actors) > MAX_ACTORS:
            raise InputError(f"the script has more than {MAX_ACTORS} actors; at most {MAX_ACTORS}")
        for line in _quoted(sentence):  # spoken as written: "I made it", not "i made it"
            rest = rest.replace(line.lower(), line, 1)
        for part in _parts(rest):
            action = _action(part)
            actors[current].actions.append(action)
            clock[current] += action.seconds
    if not actors:
        raise InputError("the script has no actor; start a sentence with 'A person ...'")
    if any(not a.actions for a in actors):
        empty = [a.name for a in actors if not a.actions]
        raise InputError(f"{empty[0]!r} does nothing; give each actor an action")
    if sum(len(a.actions) for a in actors) > MAX_ACTIONS:
        raise InputError(f"the script has more than {MAX_ACTIONS} actions; at most {MAX_ACTIONS}")
    return Script(actors=actors, camera=camera)


def _sentences(text: str) -> list[str]:
    """``text`` cut into sentences after . ! ? and at line breaks, never inside a quoted
    line, and also after a quoted line that ends one when a capital follows ('He says "I made
    it!" A woman waves.': the woman had been swallowed into his line, silently)."""
    quotes: list[str] = []

    def hide(m: re.Match[str]) -> str:
        quotes.append(m.group(0))
        ends = m.group(0).rstrip("\"“”'’").rstrip()[-1:] in (".", "!", "?")
        return f"\x00{len(quotes) - 1}{'.' if ends else ''}\x00"

    masked = QUOTE.sub(hide, text)
    pieces = re.split(r"(?<=[.!?])\s+|(?<=\.\x00)\s+(?=[A-Z])|\n+", masked)
    out = []
    for piece in pieces:
        for i, q in enumerate(quotes):
            piece = piece.replace(f"\x00{i}.\x00", q).replace(f"\x00{i}\x00", q)
        out.append(piece)
    return out


def _quoted(text: str) -> list[str]:
    """The quoted lines of ``text``, in order."""
    return [d or q for d, q in QUOTE.findall(text)]


def _parts(rest: str) -> list[str]:
    # Quoted lines may contain commas and "and": keep them whole.
    quotes = _quoted(rest)
    masked = rest
    for i, q in enumerate(quotes):
        masked = masked.replace(q, f"\x00{i}\x00")
    masked = re.sub(r"(\d),(\d+\s*" + UNIT + ")", r"\1.\2", masked)  # "2,5 seconds" is 2.5
    parts = [p.strip() for p in SPLIT_ACTIONS.split(masked) if p and p.strip()]
    out = []
    for p in parts:
        for i, q in enumerate(quotes):
            p = p.replace(f"\x00{i}\x00", q)
        out.append(p)
    return out


def _action(part: str) -> Action:
    seconds = DEFAULT_SECONDS
    said, phrase = said_seconds(QUOTE.sub("", part))  # words inside a spoken line set no length
    found = said is not None
    if found:
        seconds = said
        part = part.replace(phrase, "", 1).strip()
        if not 0.5 <= seconds <= MAX_SECONDS:
            raise InputError(f"an action lasts 0.5 to {MAX_SECONDS:g} s, got {seconds:g} s")
    line = None
    quotes = _quoted(part)
    if quotes:
        line = quotes[0].strip()
        part = QUOTE.sub("", part).strip(" ,:")
        seconds = max(seconds if found else 0.0, WORD_SECONDS * len(line.split()) + 0.5)
        if seconds > MAX_SECONDS:
            raise InputError(
                f"the line {_short(line)!r} takes {seconds:.0f} s to say and an action lasts at "
                f'most {MAX_SECONDS:g} s; split it into several lines (\'He says "...". He '
                'says "...".\')'
            )
        # "says 'hi' happily" -> "talks happily": the model knows talking, not saying.
        part = re.sub(r"^(says|say|said|shouts|whispers|asks|replies)\b", "talks", part)
        part = re.sub(r"\s+", " ", part).strip() or "talks"
        if not part.startswith("talks"):
            part = f"{part} and talks"
    emotion = "neutral"
    for name, words in EMOTIONS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", part) for w in words):
            emotion = name
            break
    verb = part.strip()
    if not re.search(r"[a-z]", verb):
        raise InputError(f"no action in {part!r}")
    return Action(text=f"a person {verb}", seconds=round(seconds, 2), emotion=emotion, line=line)


def _short(line: str, words: int = 6) -> str:
    w = line.split()
    return " ".join(w[:words]) + (" ..." if len(w) > words else "")


def _camera(lower: str, at: float, actors: int) -> CameraMove:
    rest = lower[len("the camera") :].strip()
    for kind, words in (("zoom_in", ("zooms in", "zoom in", "moves closer")),
                        ("zoom_out", ("zooms out", "zoom out", "pulls back")),
                        ("pan_left", ("pans left",)), ("pan_right", ("pans right",))):  # fmt: skip
        if any(rest.startswith(w) for w in words):
            # "zooms in on the second person": on the actor named (it had gone to whoever the
            # next sentence named: a new user's trial)
            named = re.search(r"\bon (?:the )?(first|second|third|fourth)\b", rest)
            if kind == "zoom_in" and named:
                if ORDINALS[named.group(1)] >= actors:
                    raise InputError(
                        "the camera zooms in on an actor the script has not introduced"
                    )
                return CameraMove(at=at, kind=kind, actor=ORDINALS[named.group(1)])
            return CameraMove(at=at, kind=kind)
    for kind, words in (("follow", ("follows",)), ("cut", ("cuts to",))):
        for w in words:
            if rest.startswith(w):
                target = rest[len(w) :].strip()
                ordinal = re.search(r"\b(first|second|third|fourth)\b", target)
                index = ORDINALS[ordinal.group(1)] if ordinal else 0
                if index >= actors:
                    raise InputError(f"the camera {w} an actor the script has not introduced")
                return CameraMove(at=at, kind=kind, actor=index)
    raise InputError(
        f"unknown camera move {rest!r}; use zooms in/out, pans left/right, follows <actor>, "
        "cuts to <actor>"
    )
