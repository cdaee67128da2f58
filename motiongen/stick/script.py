"""Scene scripts in plain sentences -> actors, their timed actions, emotions, lines, camera.

"A person walks in, waves happily, then sits down. A second person runs past. The camera
zooms in." gives two actors: the first walks, waves (happy) and sits, 3 s each by default;
the second runs; the camera zooms in when the second has run (a camera sentence takes the
time the last-named actor has reached).

Rules, not a remote service: sentences split on . ! ?; a subject starting a sentence ("a
person", "a second person", "another person", "a woman", "an old man" ...) makes a new actor,
its describing words ("old", "tired": ``DESCRIBING``) said in each of its actions' texts; a
pronoun or "the person / the old man / the second person" names an existing one (``_named``:
"he" / "she" and "the man" the actor of that gender or noun acting most lately) or, naming
one not yet there, brings it in;
actions split on commas, "and" and "then" (a part that only says how, ", tiredly", stays with
its action); "for N seconds" (digits
or words up to twenty, "for a second", minutes too; at most 20 s) sets a length, any other
"for ... seconds" is refused; a sentence may open with "Then" (its actor acts once the
sentence before is done, standing still till then); emotion words (happily, sadly, angrily,
surprised ...) set the face and go into the action's text; a quoted line ("...",
or '...' whose apostrophes stay: 'I can't') makes the mouth move and lasts as long as it takes
to say; "the camera zooms in/out, pans left/right, follows <actor>, cuts to <actor>".
Each action's text is checked against what the model knows (``Pipeline.vocabulary_check``)
by the story engine, which names the nearest known actions for one it cannot make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from motiongen.errors import InputError
from motiongen.generation.control import MIN_SEGMENT_SECONDS as MIN_ACTION_SECONDS
from motiongen.generation.durations import UNIT, said_seconds, without_said_length
from motiongen.retrieval.wordings import as_person

MAX_ACTORS = 4
# A sentence opening so goes on the story: its actor acts once the sentence before is done.
THEN_OPENING = re.compile(r"(?i)^(?:and\s+)?(?:then|next|afterwards|after that),?\s+")
WAIT_TEXT = "a person stands still"  # how an actor waits for its turn (generation/stand.py)
MAX_ACTIONS = 24
DEFAULT_SECONDS = 3.0
MAX_SECONDS = 20.0
WORD_SECONDS = 0.35  # speaking time per word of a line

EMOTIONS = {
    "happy": ("happily", "happy", "cheerfully", "joyfully", "excitedly", "gleefully"),
    "sad": ("sadly", "sad", "gloomily", "sorrowfully", "tiredly", "wearily", "tired", "weary"),
    "angry": ("angrily", "angry", "furiously", "crossly"),
    "surprised": ("surprised", "surprisedly", "in surprise", "astonished", "shocked"),
}
NOUNS = (
    "person|man|woman|boy|girl|child|dancer|runner|figure|kid|friend|lady|guy|gentleman|"
    "teenager|teacher|student|pupil|mother|father|mum|mom|dad|grandmother|grandfather|grandma|"
    "grandpa|neighbour|neighbor|stranger|doctor|nurse|king|queen|prince|princess"
)
# nouns ``as_person`` says as "a person" (or, as retrieval does, "a childlike person" for a
# child, "an old person" for a grandfather); the others are said as "a person" here ("A teacher
# waves" had been refused as no actor: a teacher's trial)
AS_PERSON_NOUNS = frozenset({
    "person", "man", "woman", "boy", "girl", "child", "dancer", "figure", "kid", "lady", "guy",
    "gentleman", "teenager", "grandmother", "grandfather", "grandma", "grandpa",
})  # fmt: skip
# Words that may describe a new actor ("An old man", "A tired young woman"): they go into each
# of that actor's texts ("an old person walks" is the data's elderly walk), and an emotion
# among them sets the face. A fixed list, as any word before the noun would read "A dog
# chases the man" as an actor.
# fmt: off
DESCRIBING = frozenset({
    "old", "elderly", "young", "tired", "exhausted", "weary", "happy", "cheerful", "sad",
    "gloomy", "angry", "furious", "proud", "confident", "shy", "nervous", "tall", "short",
    "small", "little", "big", "strong", "weak", "injured", "drunk", "sleepy", "excited",
    "elegant", "graceful", "clumsy", "lazy", "energetic", "bored", "scared", "frightened",
    "very", "rather", "quite",
})
# fmt: on
NEW_ACTOR = re.compile(
    r"^(a|an|another|one more|a second|a third|a fourth|a fifth|a sixth)\s+"
    r"(second\s+|third\s+|fourth\s+|other\s+)?((?:[a-z]+\s+){0,3}?)(" + NOUNS + r")\b"
)
# An actor already there (or, naming one not yet there, the next): a pronoun, or "the
# [first | second ...] [describing words] noun" ("the old man", "the second person")
NAMED = (
    r"\b(he|she|him|her|they|them|it|the\s+(?:(first|second|third|fourth)\s+)?"
    r"((?:[a-z]+\s+){0,3}?)(" + NOUNS + r"))\b"
)
EXISTING = re.compile("^" + NAMED)
NAMED_AT = re.compile(NAMED)
MALE = frozenset({"man", "boy", "guy", "he", "him", "gentleman", "father", "dad", "grandfather",
                  "grandpa", "king", "prince"})  # fmt: skip
FEMALE = frozenset({"woman", "girl", "lady", "she", "her", "mother", "mum", "mom", "grandmother",
                    "grandma", "queen", "princess"})  # fmt: skip
GENERIC = frozenset({"person", "figure"})  # an ordinal with these counts every actor
CHILD_NOUNS = frozenset({"child", "kid", "boy", "girl", "pupil"})  # drawn child-sized
CAMERA = re.compile(r"^(?:the\s+)?camera\b")
# "The camera slowly zooms in": how it moves is not read, only what it does
MANNER = r"(?:[a-z]+ly|then|now)"
CAMERA_MANNER = re.compile(r"^" + MANNER + r"\s+")
# "... walks off, and the camera follows him": a camera clause inside an actor's sentence is a
# sentence of its own (it had been made an action, "a person the camera follows him")
CAMERA_CLAUSE = re.compile(
    r"(?:\s*,\s*(?:and\s+)?(?:then\s+)?|\s+and\s+(?:then\s+)?|\s+then\s+)"
    r"(?=the camera\s+(?:" + MANNER + r"\s+)?(?:zooms?|moves|pulls|pans|follows|cuts)\b)"
)
MOVE_SECONDS = 1.0  # how long a camera move takes; one chained after another starts then
# "to the left" in a story is the screen's: an actor seen from the front goes to its own right
# (the model's "walks to the left" sidestepped to the screen's right: a new user's trial), and
# the view is chosen to show the way said where the actor travels (``story.view_yaw``). Hands,
# arms and legs keep their own sides ("waves with the left hand"); "right up to", "right
# away", "to the left of the woman" and "left and right" are no side to go to.
TRAVELS = (
    r"(?:walks|runs|moves|goes|comes|steps|jogs|dashes|strolls|heads|shuffles|sidesteps|hurries|"
    r"wanders|drifts|sprints|rushes|marches|crawls|skips|hops)"
)
SCREEN_SIDE = re.compile(
    r"\b((?:to(?:wards?)?\s+(?:the\s+)?|(?:" + TRAVELS + r"|turns)\s+(?:off\s+)?"
    r"(?:to\s+the\s+)?)(left|right)|(left|right)wards)\b"
    r"(?!\s+(?:of|and|or|up|back|away|around|round|in|into|out|past|through|over|behind|"
    r"after|along|across|now|there|here|next)\b)"
)
# "walks in from the left": enters from that side of the screen, so travels the other way (an
# old man "walking in from the left" had walked off to the left: no side was read)
FROM_SIDE = re.compile(
    r"\s*\b(?:in\s+)?from\s+the\s+(left|right)(?:\s+side)?"
    r"(?=\s*(?:$|[,.;]|and\b|then\b|to\b))"  # not "from the left wall" / "... of the stage"
)
AWAY = re.compile(r"\b(?:away|back|backwards)\b")  # "walks away from the left": no entrance
BOTH_SIDES = re.compile(r"\b(?:left and right|right and left)\b")
TRAVELLING = re.compile(r"\b" + TRAVELS + r"\b")
# "runs past", "walks by", "passes": crosses the other actors (``story.place``), who are
# otherwise kept apart
PASSING = re.compile(
    r"\b" + TRAVELS + r"\s+(?:[a-z]+ly\s+)?(?:right\s+)?(?:past|by)\b|\bpass(?:es)?\b"
)
# whom an action is done at ("waves at him", "bows to the old woman"): the actor it faces
TOWARDS = re.compile(r"\b(?:at|to|towards|toward)\s+" + NAMED)
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5}
# "and" inside one motion, not between two: "jumps up and down" had become "jumps up" and "down"
ONE_MOTION = re.compile(
    r"\b(up and down|back and forth|to and fro|round and round|around and around|side to side|"
    r"left and right|right and left|over and over|again and again)\b"
)
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
    way: int | None = None  # "to the right" (+1) or "to the left" (-1) of the screen
    towards: int | None = None  # the actor it is done at ("waves at him"), by index
    written: bool = True  # False for a wait the story adds (a "Then ..." sentence's)
    hand: bool = False  # the script said no hand: "with the right hand" was added (``WAVES``)


@dataclass
class ActorScript:
    name: str
    actions: list[Action] = field(default_factory=list)
    described: str = ""  # "old", "tired young": how the script describes the actor

    @property
    def noun(self) -> str:
        return self.name.split()[-1]  # "an old man" -> "man"

    @property
    def screen_way(self) -> int | None:
        """Where its actions say it goes on the screen (+1 right, -1 left), None for nowhere
        or both ways."""
        ways = {a.way for a in self.actions if a.way}
        return ways.pop() if len(ways) == 1 else None

    @property
    def gender(self) -> str | None:
        return _gender(self.noun)

    @property
    def child(self) -> bool:
        """Whether the script makes it a child ("a boy", "a little girl", "a kid")."""
        return self.noun in CHILD_NOUNS or "little" in self.described.split()

    @property
    def passes(self) -> bool:
        """Whether it goes past the others ("runs past", "walks by")."""
        return any(PASSING.search(a.text) for a in self.actions)

    @property
    def addressed(self) -> int | None:
        """The one actor its actions are done at ("waves at him"), None for none or several."""
        whom = {a.towards for a in self.actions if a.towards is not None}
        return whom.pop() if len(whom) == 1 else None


def _gender(word: str) -> str | None:
    return "male" if word in MALE else "female" if word in FEMALE else None


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
    order: list[int] = []  # who acted in each sentence so far
    story_at = 0.0  # where the last actor's sentence ended: a "Then ..." sentence starts there
    began = 0.0  # ...and where its actions started
    later: list[tuple[int, Action, str]] = []  # (actor, action, the noun of whom it addresses)
    queue = _sentences(text.strip())
    while queue:
        sentence = queue.pop(0).strip().rstrip(".!?").strip()
        hidden = QUOTE.sub(lambda m: "\x00" * len(m.group(0)), sentence)  # not inside a line
        clause = CAMERA_CLAUSE.search(hidden.lower())
        if clause and clause.start() > 0:
            queue.insert(0, sentence[clause.end() :])
            sentence = sentence[: clause.start()]
        # "Then he bows." / "And then she waves." go on the story: the actor is what follows,
        # and acts once the sentence before is done (``waits``)
        opened = THEN_OPENING.match(sentence)
        sentence = sentence[opened.end() :] if opened else sentence
        if not sentence:
            continue
        lower = sentence.lower()
        if camera_said := CAMERA.match(lower):
            # A camera move happens where the story has got to: after what the last-named
            # actor has done so far; moves chained in one sentence ("pans right, then zooms
            # in") one after the other (only the first had been kept, silently)
            at = clock[current] if current is not None else 0.0
            if camera:  # and never before a move written earlier (a zoom written before a pan
                at = max(at, camera[-1].at + MOVE_SECONDS)  # had come 4.5 s after it: a trial)
            for k, said in enumerate(_camera_parts(lower[camera_said.end() :])):
                move = _camera(said, at + k * MOVE_SECONDS, actors, current, order)
                named = move.actor is not None
                if move.kind == "follow" and move.actor == current and current is not None:
                    # following whom the story is about follows what it was just told to do,
                    # from its start (after "A man walks to the right." the follow began once
                    # his walk was over: a teacher's trial)
                    earliest = camera[-1].at + MOVE_SECONDS if camera else 0.0
                    move.at = max(began, earliest)
                if move.kind == "zoom_in" and not named and current is not None:
                    move.actor = current  # a close-up of whom the story is about
                camera.append(move)
                pending_zoom = move if move.kind == "zoom_in" and not named else None
            continue
        zoom, pending_zoom = pending_zoom, None
        match = NEW_ACTOR.match(lower)
        described = match.group(3).split() if match else []
        if match and all(w in DESCRIBING for w in described):
            ordinal = re.search(r"\b(second|third|fourth|fifth|sixth)\b", match.group(0))
            noun = match.group(4)
            # "A second girl": the second of the girls ("a second person" of everyone)
            alike = len(actors) if noun in GENERIC else sum(a.noun == noun for a in actors)
            if ordinal and ORDINALS[ordinal.group(1)] != alike:
                said = "person" if noun in GENERIC else noun
                raise InputError(
                    f"{sentence!r} brings in the {ordinal.group(1)} {said}, but the script has "
                    f"{alike} so far; say 'Another {said} ...' or number them in order"
                )
            actors.append(ActorScript(name=match.group(0), described=" ".join(described)))
            clock.append(0.0)
            current = len(actors) - 1
            rest = lower[match.end() :]
        else:
            existing = EXISTING.match(lower)
            if existing and not set((existing.group(3) or "").split()) <= DESCRIBING:
                existing = None  # "The dog's man ...": no actor of the script
            if existing is None:
                raise InputError(
                    f"cannot tell who acts in {sentence!r}; start with 'A person ...', "
                    "'An old man ...', 'A second person ...', 'He/She ...' or 'The camera ...'"
                )
            named, introduce = _named(existing, actors, current, order)
            if introduce:
                # "The second person ..." when there is one actor, "The man ..." as the first
                # sentence or beside a woman: read as bringing in the next
                described = " ".join((existing.group(3) or "").split())
                actors.append(ActorScript(name=existing.group(0), described=described))
                clock.append(0.0)
            elif named is None or named >= len(actors):
                raise InputError(
                    f"{sentence!r} refers to an actor the script has not introduced (it has "
                    f"{len(actors)} so far); bring one in with 'A person ...' or 'Another person ...'"
                )
            if zoom is not None and named != current and named < len(actors) and not introduce:
                # "The camera zooms in. The first person bows.": a close-up of the actor named
                # next, as that one's action starts (it had framed the actor named before, the
                # second person, when the first person's bow began: a new user's trial)
                zoom.actor = named
                zoom.at = max(clock[named], max((m.at for m in camera[:-1]), default=0.0))
            current = named
            rest = lower[existing.end() :]
        order.append(current)
        if len(actors) > MAX_ACTORS:
            raise InputError(f"the script has more than {MAX_ACTORS} actors; at most {MAX_ACTORS}")
        for line in _quoted(sentence):  # spoken as written: "I made it", not "i made it"
            rest = rest.replace(line.lower(), line, 1)
        if opened:  # waits, standing, for the story to get there
            for wait in _waits(story_at - clock[current]):
                actors[current].actions.append(wait)
                clock[current] += wait.seconds
        began = clock[current]  # where this sentence's actions start
        for part in _parts(rest):
            towards, said = _towards(part, actors, current, order)
            action = _action(said, actors[current].described, actors[current].noun)
            if isinstance(towards, str):
                later.append((current, action, towards))
            else:
                _done_towards(action, towards, current, said)
            actors[current].actions.append(action)
            clock[current] += action.seconds
        story_at = clock[current]
    for i, action, noun in later:  # addressed before they were brought in
        whom = next((j for j, a in enumerate(actors) if j != i and a.noun == noun), None)
        _done_towards(action, whom, i, action.text)
    if not actors:
        raise InputError("the script has no actor; start a sentence with 'A person ...'")
    if any(not a.actions for a in actors):
        empty = [a.name for a in actors if not a.actions]
        raise InputError(f"{empty[0]!r} does nothing; give each actor an action")
    if sum(a.written for actor in actors for a in actor.actions) > MAX_ACTIONS:
        # (the waits "Then" adds are not counted: 17 written were refused as over 24, a trial)
        raise InputError(f"the script has more than {MAX_ACTIONS} actions; at most {MAX_ACTIONS}")
    return Script(actors=actors, camera=camera)


def _done_towards(action: Action, towards: int | None, current: int, said: str) -> None:
    """``action`` done at actor ``towards``: a walk up to them goes their way on the screen
    ("walks up to the woman"; actors stand in the script's order, ``story.place``)."""
    action.towards = towards
    if towards is not None and action.way is None and TRAVELLING.search(said):
        action.way = 1 if towards > current else -1


def _waits(seconds: float) -> list[Action]:
    """Standing still for ``seconds`` (``WAIT_TEXT``), in actions of at most ``MAX_SECONDS``;
    none under half a second. "A man walks for 4 seconds. Then a woman waves." had the woman
    wave from the start, beside the walk (each actor's actions started at 0: a teacher's
    call-and-response story, "then she waves back", could not be told)."""
    out = []
    if seconds >= 0.5:  # a wait lasts a timeline segment's least at least (0.8 s was refused
        seconds = max(seconds, MIN_ACTION_SECONDS)  # as a segment under 1 s: a trial)
    while seconds >= MIN_ACTION_SECONDS:
        step = min(seconds, MAX_SECONDS)
        if 0 < seconds - step < MIN_ACTION_SECONDS:  # no wait shorter than an action may be
            step = seconds - MIN_ACTION_SECONDS
        out.append(Action(text=WAIT_TEXT, seconds=round(step, 3), written=False))
        seconds -= step
    return out


def _named(
    match: re.Match[str], actors: list[ActorScript], current: int | None, order: list[int]
) -> tuple[int | None, bool]:
    """Who a ``NAMED`` match names, and whether it brings a new actor in: an ordinal names that
    actor (the next one, brought in); "he" / "she" / "him" / "her" the actor of that gender
    acting most lately ("A man walks in. A woman runs. He waves." had made her wave), else the
    current one; "the [old] man" the actor acting most lately called so (its describing words
    among the actor's), else the current one unless that one is of the other gender or there
    is none yet (then a new actor)."""
    whole, ordinal, described, noun = match.groups(default="")
    if ordinal:
        index = ORDINALS[ordinal]
        if noun and noun not in GENERIC:  # "the second girl": of the girls (it had been the
            called = [i for i, a in enumerate(actors) if a.noun == noun]  # script's second
            if index < len(called):  # actor, a boy, who did her action: a teacher's trial)
                return called[index], False
            return len(actors), index == len(called)  # the next one brought in, or none
        return index, index == len(actors)
    gender = _gender(noun or whole)
    recent = list(dict.fromkeys(reversed(order)))  # most lately acting first
    if noun:
        called = [i for i in recent if noun in ("person", actors[i].noun)]
        # "the old man": the old one of the men, or the one man not called old
        told = [i for i in called if set(described.split()) <= set(actors[i].described.split())]
        if told or called:
            return (told or called)[0], False
        if current is None or (gender and actors[current].gender not in (None, gender)):
            return len(actors), True
        return current, False
    if gender and current is not None and actors[current].gender != gender:
        alike = [i for i in recent if actors[i].gender == gender]
        return (alike[0] if alike else current), False
    return current, False


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
    masked = ONE_MOTION.sub(lambda m: m.group(0).replace(" and ", " \x01 "), masked)
    parts = [p.strip().replace(" \x01 ", " and ") for p in SPLIT_ACTIONS.split(masked)
             if p and p.strip()]  # fmt: skip
    merged: list[str] = []
    for p in parts:  # merged with the lines hidden: a length inside a line is no length
        if merged and _manner_only(p):  # "walks to the right, tiredly" is one action
            said, rest, phrase = without_said_length(merged[-1])  # "for a second" closes it
            merged[-1] = f"{rest} {p} {phrase}" if said is not None else f"{merged[-1]} {p}"
        else:
            merged.append(p)
    out = []
    for p in merged:
        for i, q in enumerate(quotes):
            p = p.replace(f"\x00{i}\x00", q)
        out.append(p)
    return out


# "waves" alone is said as a one-hand wave: the model's "a person waves" is nearest its two-hand
# wave, which in a story read as cheering, not as greeting someone (a teacher's trial)
WAVES = re.compile(r"^(waves(?:\s+back)?)\b")
ONE_HAND_SAID = re.compile(r"\b(?:hands?|arms?|goodbye|bye|farewell|flag|both)\b")
INTENSIFIERS = frozenset({"very", "quite", "really", "so", "rather", "a", "bit", "little"})
EMOTION_WORDS = frozenset(w for words in EMOTIONS.values() for w in words)


def _manner_only(part: str) -> bool:
    """Whether ``part`` only says how ("tiredly", "very slowly", "in surprise"), no action."""
    words = part.split()
    if part in EMOTION_WORDS:
        return True
    if not 0 < len(words) <= 3 or all(w in INTENSIFIERS for w in words):
        return False
    return all(
        w in INTENSIFIERS or w in EMOTION_WORDS or (w.endswith("ly") and len(w) > 4) for w in words
    )


def _emotion(text: str) -> str:
    for name, words in EMOTIONS.items():
        if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words):
            return name
    return "neutral"


def _action(part: str, described: str = "", noun: str = "person") -> Action:
    """One action of ``part`` ("waves happily for 2 seconds") of an actor called ``noun``;
    described: the actor's describing words, said in its text ("an old person waves") and its
    face where they name an emotion and the action does not."""
    seconds = DEFAULT_SECONDS
    said, phrase = said_seconds(QUOTE.sub("", part))  # words inside a spoken line set no length
    found = said is not None
    if found:
        seconds = said
        part = part.replace(phrase, "", 1).strip()
        if not MIN_ACTION_SECONDS <= seconds <= MAX_SECONDS:
            raise InputError(
                f"an action lasts {MIN_ACTION_SECONDS:g} to {MAX_SECONDS:g} s, got {seconds:g} s"
            )
    line = None
    quotes = _quoted(part)
    if quotes:
        line = quotes[0].strip()
        part = QUOTE.sub("", part).strip(" ,:")
        # a short line ("Bye!") as long as an action at least (0.85 s was refused: a trial)
        seconds = max(seconds if found else 0.0, WORD_SECONDS * len(line.split()) + 0.5,
                      MIN_ACTION_SECONDS)  # fmt: skip
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
    emotion = _emotion(part)
    if emotion == "neutral" and described:
        emotion = _emotion(described)
    verb = part.strip()
    if not re.search(r"[a-z]", verb):
        raise InputError(f"no action in {part!r}")
    if line is not None and verb.startswith("talks"):
        # the body of a line stands still: the face shows the emotion, the mouth the line.
        # (It had been "a person talks", the data's one gesture of response, an arm held up
        # "as if pointing" through every line: a teacher's and an author's trials; said with a
        # style or manner it had been refused as unknown before that.)
        verb, described, noun = "stands still", "", "person"
    verb, way = _screen_sides(verb)
    hand = not ONE_HAND_SAID.search(verb) and bool(WAVES.search(verb))
    if hand:  # a greeting's wave is one hand's (the story picks the hand its actor faces with)
        verb = WAVES.sub(r"\1 with the right hand", verb, count=1)
    # said of the actor as retrieval says a subject ("a little girl" is a childlike person)
    subject = f"a {described} {noun if noun in AS_PERSON_NOUNS else 'person'}"
    text = as_person(re.sub(r"\s+", " ", f"{subject} {verb}"))
    return Action(text=text, seconds=round(seconds, 2), emotion=emotion, line=line, way=way,
                  hand=hand)  # fmt: skip


def _screen_sides(verb: str) -> tuple[str, int | None]:
    """(``verb`` with the screen's sides said as the actor's own, the screen's way it says
    its actor travels: +1 right, -1 left, None)."""
    if BOTH_SIDES.search(verb):  # "looks left and right": neither way
        return verb, None
    came = FROM_SIDE.search(verb) if TRAVELLING.search(verb) and not AWAY.search(verb) else None
    if came and not SCREEN_SIDE.search(verb):
        return FROM_SIDE.sub(" forward", verb, count=1).strip(), 1 if came[1] == "left" else -1
    if came:  # "from the left to the right": the side gone to says it
        verb = FROM_SIDE.sub("", verb, count=1).strip()
    sides = {m.group(2) or m.group(3) for m in SCREEN_SIDE.finditer(verb)}
    if len(sides) != 1:
        return verb, None
    way = {"left": -1, "right": 1}[sides.pop()] if TRAVELLING.search(verb) else None
    return SCREEN_SIDE.sub(_other_side, verb), way


def _other_side(m: re.Match[str]) -> str:
    side = m.group(2) or m.group(3)
    return m.group(0).replace(side, "right" if side == "left" else "left")


def _short(line: str, words: int = 6) -> str:
    w = line.split()
    return " ".join(w[:words]) + (" ..." if len(w) > words else "")


def _camera_parts(said: str) -> list[str]:
    """The moves of a camera sentence after "the camera", one after the other ("pans right,
    then zooms in"; "zooms in and out" is in, then out); [""] for none."""
    said = re.sub(r"\b(zooms?)\s+(in|out)\s+and\s+(in|out)\b", r"\1 \2, then \1 \3", said)
    return _parts(said) or [""]


def _towards(
    part: str, actors: list[ActorScript], current: int, order: list[int]
) -> tuple[int | str | None, str]:
    """(the actor ``part`` is done at ("waves at him", "bows to the woman"), not its own actor,
    or the noun of one the script brings in later ("the queen" before "A queen ..."), None for
    none named; ``part`` without those words where one is named: the model knows waving and
    bowing, not at whom, and "waves at the boy happily" was refused as an action it does not
    know where "waves happily" is one: a teacher's trial, and an author's whose king walked up
    to the queen before she was brought in)."""
    hidden = QUOTE.sub(lambda m: "\x00" * len(m.group(0)), part)  # not inside a spoken line
    match = TOWARDS.search(hidden)
    if match is None:
        return None, part
    whole = NAMED_AT.match(match.group(0), match.start(1) - match.start(0))
    if whole is None or not set((whole.group(3) or "").split()) <= DESCRIBING:
        return None, part  # "to the left of the woman": a side, no one addressed
    # "he waves at him": the latest other actor of that gender, never the one acting
    others = [i for i in order if i != current]
    index, new = _named(whole, actors, None if not others else others[-1], others)
    noun = whole.group(4)
    if new and noun:  # one brought in later: found by its noun once all are in
        index = noun
    elif new or index is None or index == current or index >= len(actors):
        return None, part
    before = part[: match.start()]
    if TRAVELLING.search(before):  # "walks up to her", "runs over to him": walks, runs
        before = re.sub(r"(?:\s+(?:up|over|across|back|straight|right))+\s*$", "", before)
    said = re.sub(r"\s+", " ", before + " " + part[match.end() :]).strip(" ,")
    return index, said or part


def _whom(
    target: str, actors: list[ActorScript], current: int | None, order: list[int]
) -> int | None:
    """The actor a camera sentence names ("the second person", "the old man", "her") as an
    actor's sentence would (``_named``), None for none named; one not yet in the script as
    ``len(actors)`` (the caller refuses it)."""
    match = NAMED_AT.search(target)
    if match is None:
        return None
    index, new = _named(match, actors, current, order)
    return len(actors) if new or index is None else index


def _camera(
    said: str, at: float, actors: list[ActorScript], current: int | None, order: list[int]
) -> CameraMove:
    """The move ``said`` after "the camera" ("zooms in on the woman") names (a part of
    ``_camera_parts``)."""
    rest = CAMERA_MANNER.sub("", said.strip())
    for kind, words in (("zoom_in", ("zooms in", "zoom in", "moves closer")),
                        ("zoom_out", ("zooms out", "zoom out", "pulls back")),
                        ("pan_left", ("pans left",)), ("pan_right", ("pans right",))):  # fmt: skip
        if any(rest.startswith(w) for w in words):
            # "zooms in on the second person": on the actor named (it had gone to whoever the
            # next sentence named: a new user's trial)
            on = re.search(r"\bon (.+)$", rest)
            named = _whom(on.group(1), actors, current, order) if kind == "zoom_in" and on else None
            if named is not None:
                if named >= len(actors):
                    raise InputError(
                        "the camera zooms in on an actor the script has not introduced"
                    )
                return CameraMove(at=at, kind=kind, actor=named)
            return CameraMove(at=at, kind=kind)
    for kind, words in (("follow", ("follows",)), ("cut", ("cuts to",))):
        for w in words:
            if rest.startswith(w):
                index = _whom(rest[len(w) :], actors, current, order)
                index = index if index is not None else current or 0
                if index >= len(actors):
                    raise InputError(f"the camera {w} an actor the script has not introduced")
                return CameraMove(at=at, kind=kind, actor=index)
    raise InputError(
        f"unknown camera move {rest!r}; use zooms in/out, pans left/right, follows <actor>, "
        "cuts to <actor>"
    )
