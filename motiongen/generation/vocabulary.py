"""What a prompt asks for against what the checkpoint's training data recorded.

Two honest answers a generator owes its user (issue 10, "honest about vocabulary"): a prompt
far from every trained action gets a warning naming the nearest ones, and a known action asked
for in a style its clips were never recorded in (the two Bandai sets share only walk and run,
so "raises both hands happily" is a pair no clip shows) gets the style left out by default:
sent as written, the model followed the style's actions instead of the action (the label
classifier recognised the action in 46.7 % of 182 such motions of tiny-flow-smooth, 94.0 %
with the style words left out; ``benchmarks/unrecorded_styles.py``, docs/pipeline.md).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Sequence
from typing import Any

from motiongen.evaluators.labels import STYLE_SYNONYMS
from motiongen.motion import join_warnings

# A prompt whose sentence embedding is less similar than this (cosine, all-MiniLM-L6-v2) to
# every sentence of the checkpoint's action vocabulary asks for something the model never
# saw. On 13 in- and 14 out-of-vocabulary prompts (docs/pipeline.md) it lets 12 / 13 known
# ones through and flags 12 / 14 unknown ones.
KNOWN_SIMILARITY = 0.6


# Manner words no training text uses, each said as a word of the style it means (whole words,
# a prompt sent literal keeps its own): the text encoder had put "merrily" and "grumpily" next
# to "wearily" and "exhausted", and "miserably" nowhere, so a merry walk came out exhausted
# (`python benchmarks/paraphrases.py --set manner`; docs/pipeline.md).
MANNER_WORDS: dict[str, tuple[str, ...]] = {
    "happily": ("merrily", "gleefully", "joyously", "excitedly", "cheerily", "delightedly",
                "gladly"),
    "happy": ("merry", "gleeful", "joyous", "excited", "cheery", "delighted", "glad"),
    "energetically": ("enthusiastically", "eagerly", "vigorously", "briskly", "dynamically",
                      "zestfully"),
    "energetic": ("enthusiastic", "eager", "vigorous", "brisk", "dynamic", "peppy"),
    "tiredly": ("lazily", "sluggishly", "drowsily", "sleepily", "listlessly", "lethargically"),
    "tired": ("lazy", "sluggish", "drowsy", "listless", "lethargic"),
    "angrily": ("grumpily", "irritably", "crossly", "aggressively", "fiercely", "resentfully"),
    "angry": ("grumpy", "irritated", "irritable", "annoyed", "aggressive", "fierce"),
    "shyly": ("sheepishly", "awkwardly", "bashfully", "meekly", "anxiously", "uncertainly"),
    "shy": ("sheepish", "awkward", "bashful", "meek", "anxious", "insecure"),
    "sadly": ("miserably", "gloomily", "glumly", "mournfully", "dejectedly", "despondently"),
    "sad": ("miserable", "gloomy", "glum", "mournful", "dejected", "depressed", "upset"),
    "proudly": ("arrogantly", "haughtily", "smugly", "boldly", "pompously", "triumphantly"),
    "proud": ("arrogant", "haughty", "smug", "bold", "pompous", "triumphant"),
}  # fmt: skip
_MANNER = {w: said for said, words in MANNER_WORDS.items() for w in words}
_MANNER_RE = re.compile(  # whole words: not "non-aggressive" nor "awkward-looking"
    r"(?<![\w-])(?:(an?)\s+)?(" + "|".join(sorted(_MANNER, key=len, reverse=True)) + r")(?![\w-])",
    re.I,
)


# A gesture returned ("waves back", "bows back at her") is the gesture: the data's "back" is a
# walk backwards, and "a person waves back" retrieved goodbye and two-hand waves that
# disagreed, made from noise a cha-cha and two bows (seeds 0-2; a teacher's story "then she
# waves back" stood with its arms down).
_RETURNED = re.compile(
    r"\b(waves?|waving|bows?|bowing|nods?|nodding|salutes?|saluting|smiles?|smiling)\s+back\b"
    r"(?![\s-]*(?:and|&|-)[\s-]*forth)",  # "waves back and forth" is a wave's swing
    re.I,
)


def in_style_words(text: str) -> tuple[str, dict[str, str]]:
    """(``text`` with its ``MANNER_WORDS`` said as their style's word, an article before one
    made to fit ("an arrogant man" -> "a proud man"), and a gesture returned said as the
    gesture ("waves back" -> "waves"), {word: said as})."""
    said: dict[str, str] = {}
    text = _RETURNED.sub(lambda m: said.setdefault(m.group(0).lower(), m.group(1)), text)

    def swap(m: re.Match[str]) -> str:
        word = m.group(2).lower()
        said[word] = _MANNER[word]
        if m.group(1) is None:  # a capital kept: "Merrily, ..." -> "Happily, ..."
            return said[word].capitalize() if m.group(2)[0].isupper() else said[word]
        article = "an" if said[word][0] in "aeiou" else "a"
        return f"{article.capitalize() if m.group(1)[0].isupper() else article} {said[word]}"

    return _MANNER_RE.sub(swap, text), said


def styles_named(text: str, words: dict[str, list[str]]) -> set[str]:
    """The styles whose words (style -> words, a checkpoint's ``action_styles.json``) a prompt
    uses, whole words only: "happily" names happy; "old" names old and elderly (synonyms,
    both use it). A word two different styles use ("lively": active and youthful) names
    neither."""
    low = f" {_plain(text)} "
    own = _own_words(words)
    return {style for style, ws in own.items() if any(f" {w} " in low for w in ws)}


def _own_words(words: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each style's words without those another (non-synonym) style also uses (kept for the
    last table asked about: a checkpoint's table is asked twice a generation, 0.2 ms each)."""
    global _OWN_WORDS
    memo = _OWN_WORDS  # read once: another thread may replace it meanwhile
    if memo is not None and memo[0] is words and memo[1] == words:
        return memo[2]
    users: dict[str, set[str]] = {}
    for style, ws in words.items():
        for w in ws:
            users.setdefault(w, set()).add(_canonical(style))
    own = {s: [w for w in ws if len(users[w]) == 1] for s, ws in words.items()}
    _OWN_WORDS = (words, copy.deepcopy(words), own)
    return own


# (the table, a copy to see it unchanged, its own words): the last table asked about
_OWN_WORDS: tuple[dict[str, list[str]], dict[str, list[str]], dict[str, list[str]]] | None = None


def _plain(text: str) -> str:
    return re.sub(r"[^a-z-]+", " ", text.lower()).strip()


def _canonical(style: str) -> str:
    return STYLE_SYNONYMS.get(style, style)


# An action with fewer training clips than this is one the model could hardly learn (the data
# holds one kick, one punch, one slash, two "call" clips, then 11 or more of every other
# action): a prompt that is near only such actions is warned about.
RARE_CLIPS = 5


def rare_action(similarity: dict[str, float], clips: dict[str, int]) -> dict[str, Any] | None:
    """{"action", "clips"} when the prompt's nearest action (``similarity``: action -> cosine)
    has fewer than ``RARE_CLIPS`` training clips and no action with more is near enough to
    count as known ("waves hello" is nearest to the 2-clip "call" but near the waves too, which
    the model makes well). None without clip counts (checkpoints recorded before them)."""
    if not clips or not similarity:
        return None
    action = max(similarity, key=similarity.__getitem__)
    n = clips.get(action)
    if n is None or n >= RARE_CLIPS or similarity[action] < KNOWN_SIMILARITY:
        return None
    # An action without a count (the dances, labelled by genre) is not judged: counted as many.
    if any(
        s >= KNOWN_SIMILARITY and clips.get(a, RARE_CLIPS) >= RARE_CLIPS
        for a, s in similarity.items()
    ):
        return None
    return {"action": action, "clips": n}


# A whole prompt at least this close to one action's training sentence is that one action
# ("a person turns left and walks" 0.99 to walk-turn-left) even if its halves name two.
ONE_ACTION = 0.9


def action_parts(text: str) -> tuple[str, list[str]]:
    """("then", segments) for a prompt that puts actions one after the other (split as a
    timeline would split it), ("and", halves) for one joining two done at once with "and" or
    "while" (each half given the first's subject), or ("", []) for neither."""
    from motiongen.generation.control import parse_timeline

    try:
        parts = [t for t, _ in parse_timeline(text, 20.0)]
        if len(parts) > 1:
            return "then", parts
        halves = [t for t, _ in parse_timeline(_AND.sub(", then ", text), 20.0)]
    except ValueError:  # InputError: a part without letters ("walks and 3")
        return "", []
    return ("and", halves) if len(halves) > 1 else ("", [])


# "and" and "while" join two actions done at once: "runs while raising both hands" lost one
# of them without a word (a new user's trial); the -ing half is embedded as said ("a person
# raising both hands" reads as the raise). Not a clause after a comma: "kicks, lifting the left
# leg high" says how the kick is done. Not "for a while".
_AND = re.compile(r",?\s+(?:and|(?<!\ba )(?<!\bA )while|whilst)\s+(?!then\b)", re.IGNORECASE)


def compound(
    kind: str,
    parts: list[str],
    whole: dict[str, float],
    halves: list[dict[str, float]],
    joined: Collection[str] = (),
    sequences: Collection[str] = (),
) -> dict[str, Any] | None:
    """{"kind", "parts", "actions"} when a prompt names several actions (``action_parts``;
    ``whole`` and ``halves``: action -> cosine of the prompt and of each part): for "then"
    (one pass makes one action) unless the whole is one of ``sequences`` (the actions whose
    own sentences say "then": "walks forward then turns to the left" is walk-turn-left), for
    "and" when each half is a different known action and the whole is not itself one ("waves
    and says goodbye" is the goodbye wave), nor nearest to one of ``joined`` (the actions
    whose own sentences name two) that holds both."""
    if not halves:
        return None
    actions = [max(h, key=h.__getitem__) for h in halves]
    top = max(whole, key=whole.__getitem__) if whole else ""
    if kind == "then" and top in sequences and whole[top] >= ONE_ACTION:
        return None
    if kind == "and" and (
        len(set(actions)) < 2
        or any(h[a] < KNOWN_SIMILARITY for h, a in zip(halves, actions, strict=True))
        or max(whole.values()) >= ONE_ACTION
        # one action of ``joined`` (whose own sentences join two) holds both: "walks forward
        # and turns left" is walk-turn-left ("walks and turns left"), not a walk and a turn
        # never recorded together; walk-left ("walks to the left") holds no forward walk
        or (top in joined and all(a == top or top.startswith(f"{a}-") for a in actions))
    ):
        return None
    return {"kind": kind, "parts": parts, "actions": actions}


SIDE_TIE = 0.02  # similarities closer than this are a tie between a left and a right action


def unseen_style(
    text: str, info: dict[str, Any], action_styles: dict[str, Any] | None
) -> dict[str, Any] | None:
    """{"action", "styles" (named), "recorded" (the action's styles)} when a known prompt
    names only styles its nearest action was never recorded in, else None. Styles the label
    vocabulary merges (tired = exhausted, old = elderly) count as the same style."""
    known = action_styles or {"actions": {}, "words": {}}
    action = _same_side(text, info["nearest"])
    recorded = known["actions"].get(action)
    if not recorded and action in (known.get("songs") or {}):
        # the music-paired dances carry no style: a dance restyled "happy" changed 3.5 cm on
        # average, unsaid (a choreographer's trial)
        recorded = ["normal"]
    if not info["known"] or not recorded:
        return None
    named = styles_named(text, known["words"])
    if not named or {_canonical(s) for s in named} & {_canonical(s) for s in recorded}:
        return None
    return {"action": action, "styles": sorted(named), "recorded": list(recorded)}


def several_styles(
    text: str, action_styles: dict[str, Any] | None, action: str | None = None
) -> list[str] | None:
    """The styles a prompt names when it names more than one (synonyms counted once): every
    recorded take has one style, so a motion shows at most one of them ("a very sad old man
    walks" retrieved the old walks and said nothing of sad; a new-user trial). Each is named
    as ``action`` was recorded in it where it was ("a tired old man bows": old and tired, the
    bow's names, not elderly and exhausted, which `motiongen actions` does not list for it)."""
    words = (action_styles or {}).get("words") or {}
    named = sorted({_canonical(s) for s in styles_named(text, words)})
    if len(named) < 2:
        return None
    recorded = ((action_styles or {}).get("actions") or {}).get(action or "", [])
    return [recorded_as(c, recorded) for c in named]


# The actions that travel: the labels starting so ("walk-left", "run" ...).
TRAVELLING = ("walk", "run", "dash")


def action_family(label: str) -> str:
    """The kind of action a label shows, for asking whether a motion still does it: every
    wave one ("wave-right-hand", and the other set's goodbye waves "bye" and "byebye", which
    the label classifier tells apart by the recording, not the gesture), every hand raise
    one, every travelling action one (a restyle keeps the path); any other label its own."""
    if label.startswith("wave-") or label in ("bye", "byebye"):
        return "waving"
    if label.startswith("raise-up-"):
        return "raising"
    return "travelling" if label.startswith(TRAVELLING) else label


# Those an in-between's text is said in the data's words for, the labels themselves (not their
# "walk-*" variants): travelling straight ahead, whose first sentence ("a person walks
# forward") says no more than the keyframes' path does.
FORWARD_TRAVEL = frozenset(TRAVELLING)
# Speeds, which an in-between whose keyframes travel leaves to them (they set the pace).
_SPEED_WORDS = ("slow", "fast", "quick", "brisk", "hurr", "rapid", "swift")
_SPEED = re.compile(rf"\b(?:{'|'.join(_SPEED_WORDS)})\w*\b", re.IGNORECASE)
# Words saying more than a travelling action's first sentence does (a way, a side, a turn, a
# limb, a count, a gait, a prop, stairs, a degree, a negation, a manner: an adverb or "in an
# upbeat way"): a text with one is left as written ("runs backwards" is no "runs forward").
# The speed adverbs ("slowly") are left to ``_SPEED``.
_DETAIL = re.compile(
    r"\b(?:back\w*|revers\w*|retreat\w*|left|right|side\w*|turn\w*|round|around|circl\w*|"
    r"zig\w*|diagonal\w*|hands?|arms?|legs?|knees?|feet|foot|head|both|one|two|tiptoe\w*|"
    r"limp\w*|hop\w*|skip\w*|jump\w*|carr\w*|hold\w*|push\w*|pull\w*|stairs?|steps?|high|"
    r"low|deep\w*|not|never|without|way|manner|mood|fashion|style|"
    rf"(?!(?:{'|'.join(_SPEED_WORDS)})\w*ly\b)\w+ly)\b",
    re.IGNORECASE,
)
# Nearest actions closer than this are a tie ("jogs": run or walk) the wording must not break.
DATA_WORDS_MARGIN = 0.03
# What a known_actions answer flags that the data's first sentence would drop.
_FLAGS_KEPT = ("compound", "negated", "unshown", "several_styles", "unseen_style")


def in_data_words(
    text: str,
    info: dict[str, Any],
    action_styles: dict[str, Any] | None,
    vocabulary: dict[str, list[str]] | None,
    travelling: bool = False,
) -> str | None:
    """``text`` said in the training data's words where nothing it asks is lost, else None: a
    prompt nearest a walk, run or dash straight ahead (``FORWARD_TRAVEL``), by
    ``DATA_WORDS_MARGIN`` over every other action but that one's own "walk-*" variants (a
    way, a side, a turn, which a text without ``_DETAIL`` words cannot mean), naming no style,
    no ``_DETAIL`` and, unless ``travelling``, no speed, is said as that action's first
    ``vocabulary`` sentence ("a man strolls down the street" -> "a person walks forward").
    ``info``: its ``known_actions``, known unless ``travelling``: between keyframes a walk
    apart, a text far from every action for its place or person ("the guard strolls over to
    the door", 0.38) still asks how to cover the way, which the keyframes set."""
    nearest = info.get("nearest") or []
    if not nearest or not (info.get("known") or travelling):
        return None
    if _DETAIL.search(text) or (not travelling and _SPEED.search(text)):
        return None  # it asks more than the sentence says
    if any(info.get(k) for k in _FLAGS_KEPT):
        return None  # several actions, a negation, a path or a style warned about as asked
    action, similarity = str(nearest[0][0]), float(nearest[0][1])
    if action not in FORWARD_TRAVEL or not (vocabulary or {}).get(action):
        return None
    rivals = [float(v) for a, v in nearest[1:] if not str(a).startswith(f"{action}-")]
    if rivals and similarity - rivals[0] < DATA_WORDS_MARGIN:
        return None
    plain = _plain(text)
    words = (action_styles or {}).get("words") or {}
    if any(f" {_plain(w)} " in f" {plain} " for ws in words.values() for w in ws):
        return None  # a style word: said as written, as the network was taught styles
    if plain in {_plain(v) for v in vocabulary[action]}:
        return None  # already one of the data's sentences
    return vocabulary[action][0]


def recorded_as(style: str, recorded: Collection[str]) -> str:
    """``style`` in the word an action's ``recorded`` styles name it by: itself where recorded
    so, else a synonym recorded ("tired" for exhausted, "old" for elderly), else as given."""
    if style in recorded:
        return style
    same = _canonical(style)
    return next((r for r in recorded if _canonical(r) == same), style)


def _same_side(text: str, nearest: Sequence[Sequence[Any]]) -> str:
    """The nearest action, or its twin of the side the text names when the two are (nearly)
    tied: the sentence embedding barely tells left from right (0.811 for both with "waves
    with the right hand"), and a warning naming the other hand reads as a mistake."""
    top, sim = nearest[0][0], float(nearest[0][1])
    words = set(_plain(text).split())
    for side, other in (("left", "right"), ("right", "left")):
        if side in words and other not in words and other in top and side not in top:
            twin = top.replace(other, side)
            for name, s in nearest:
                if name == twin and sim - float(s) < SIDE_TIE:
                    return twin
    return top


_MARK = "\u241f"  # where a style phrase was taken out
_EDGE_L, _EDGE_R = r"(?<![A-Za-z-])", r"(?![A-Za-z-])"  # the word boundaries of styles_named
_JOIN = r"(?:,|\band\b|\bor\b|\bbut\b|\byet\b)"
# A style word that was part of a phrase ("punches a giant", "in a happy light") leaves one of
# these dangling: then the prompt is kept as written (the warning still says what is unseen).
_DANGLING = re.compile(
    r"(?i)\b(?:a|an|the|in|with|like|for|to|of|at|by|and|or|but|yet|very|so|too)\s*(?:[,.;:!?)]|$)"
)


def leave_out_styles(text: str, styles: Sequence[str], words: dict[str, list[str]]) -> str:
    """The prompt without the words of ``styles`` ("a person raises both hands happily" ->
    "a person raises both hands"; "in a happy mood" goes whole, "happily and proudly" both, an
    article before a removed adjective takes the next word's form); the prompt as written
    when the result would leave a word dangling or say nothing."""
    own = _own_words(words)
    phrases = sorted({w for s in styles for w in own.get(s, [])}, key=len, reverse=True)
    pats = [r"\s+".join(re.escape(p) for p in w.split()) for w in phrases]
    out = text
    for pat in pats:  # "in a happy way / mood / manner" as a whole first
        out = re.sub(rf"(?i){_EDGE_L}in\s+an?\s+{pat}\s+(?:way|mood|manner|fashion){_EDGE_R}",
                     _MARK, out)  # fmt: skip
    for pat in pats:
        out = re.sub(rf"(?i){_EDGE_L}{pat}{_EDGE_R}", _MARK, out)
    if _MARK not in out:
        return text
    out = re.sub(rf"(?i){_MARK}(?:\s*{_JOIN}\s*{_MARK})+", _MARK, out)  # "happily and proudly"
    out = re.sub(rf"(?i)\b(a|an)\s+{_MARK}\s*([A-Za-z])",
                 lambda m: _article(m.group(1), m.group(2)), out)  # fmt: skip
    out = re.sub(rf"(?i)\s*{_JOIN}\s*{_MARK}", _MARK, out)  # "quickly and happily"
    out = re.sub(rf"(?i){_MARK}\s*{_JOIN}\s*", _MARK, out)  # "sadly but quickly"
    out = out.replace(_MARK, " ")
    out = re.sub(r"\(\s*\)|\[\s*\]", " ", out)
    out = re.sub(r"\s+", " ", out)
    out = re.sub(r"\s+([,.;:!?)])", r"\1", out)
    out = re.sub(r",(\s*,)+", ",", out).strip(" ,")
    out = re.sub(r"^[,.;:!?]+\s*", "", out)
    if _DANGLING.search(out) or len(_plain(out).split()) < 2:
        return text
    return out


def _article(article: str, letter: str) -> str:
    right = "an" if letter.lower() in "aeiou" else "a"
    if article[0].isupper():
        right = right.capitalize()
    return f"{right} {letter}"


def vocabulary_warning(
    what: str, result: str, info: dict[str, Any], *, restyle: bool = False, inbetween: bool = False
) -> str:
    """The warning for a text far from every trained action, naming a style its action was
    never recorded in, near only an action of a handful of clips, or naming several actions;
    "" for none. ``restyle``: the text is a restyle's, whose style is
    the point (leaving it out is no advice). ``inbetween``: an in-between's, whose advice is
    its own, not generate's."""
    shown = join_warnings(_unshown_warning(what, result, info),
                          _negated_warning(what, result, info))  # fmt: skip
    if not info["known"]:
        return join_warnings(far_from_vocabulary(what, result, info), shown)
    rare = info.get("rare")
    rare_note = (
        f"{what} is near only {rare['action']} ({rare['phrase']!r}) among the trained actions, "
        f"and the training data holds {rare['clips']} clip{'s' if rare['clips'] != 1 else ''} "
        f"of it: {result} may well not show it"
        if rare
        else ""
    )
    unseen = info.get("unseen_style")
    unseen_note = (
        _unseen_warning(what, result, unseen, restyle=restyle, rare=bool(rare)) if unseen else ""
    )
    several = info.get("several_styles")
    several_note = (
        f"{what} names {len(several)} styles ({', '.join(several)}) and every recorded take has "
        f"one: {result} shows at most one of them (for a mix of two, restyle it: motiongen "
        "restyle --style A --blend B:0.5, or Pipeline.restyle(motion, A, blend=(B, 0.5)))"
        if several and not restyle
        else ""
    )
    several_actions = _compound_warning(what, result, info, inbetween)
    return join_warnings(unseen_note, several_note, rare_note, several_actions, shown)


# Paths, places and props no training clip shows (the data's 128 words name none of them): a
# known action with one of these ("a person runs in a circle") ran straight and said nothing.
# Words that also name movements ("circles his arms", "a box step", "takes some steps") count
# only in the phrases below.
UNSHOWN = {
    **dict.fromkeys(("in a circle", "in circles", "around in a circle"), "a circular path"),
    **dict.fromkeys(("in a zigzag", "zigzags", "in a spiral"), "a winding path"),
    **dict.fromkeys(("stairs", "staircase", "upstairs", "downstairs", "up the steps",
                     "down the steps", "climbs the steps", "a ladder", "ladders"), "stairs"),
    **dict.fromkeys(("uphill", "downhill", "a slope", "a ramp", "a hill"), "a slope"),
    **dict.fromkeys(("a chair", "chairs", "a sofa", "a couch", "a bench", "a stool", "the chair",
                     "the sofa", "the couch", "the bench", "bed"), "furniture"),
    # Movements no clip shows either, each word with its forms: "a person crouches down"
    # spun into the data's one kick and "does push-ups" raised both hands, near enough to
    # those actions' words (0.60, 0.63) to pass as known (a new user's trial).
    **dict.fromkeys(("crouch", "crouches", "crouching", "crouched", "squat", "squats",
                     "squatting", "kneel", "kneels", "kneeling", "knelt"), "crouching or kneeling"),
    **dict.fromkeys(("push-up", "push-ups", "pushups", "sit-ups", "situps", "a plank",
                     "burpees"), "floor exercises"),
    **dict.fromkeys(("sits down", "sit down", "sitting down", "sits on", "is sitting",
                     "is seated"), "sitting"),
    **dict.fromkeys(("lies down", "lie down", "lying down", "lays down", "lies on the",
                     "lying on the"), "lying down"),
    **dict.fromkeys(("crawl", "crawls", "crawling"), "crawling"),
    **dict.fromkeys(("jump", "jumps", "jumping", "jumped", "hop", "hops", "hopping", "leap",
                     "leaps", "leaping", "jumping jacks"), "jumping"),
    **dict.fromkeys(("cartwheel", "cartwheels", "somersault", "somersaults", "backflip",
                     "backflips", "a flip", "handstand", "handstands"), "acrobatics"),
    **dict.fromkeys(("climb", "climbs", "climbing"), "climbing"),
    **dict.fromkeys(("swim", "swims", "swimming"), "swimming"),
    **dict.fromkeys(("hip hop", "hip-hop", "breakdance", "breakdances", "breakdancing",
                     "ballet", "salsa", "tango", "tap dance", "tap dances", "moonwalk",
                     "moonwalks", "the twist", "disco"),
                    "a dance other than cha-cha, rumba and waltz"),
    # The data's turns are quarter turns (walk-turn takes: 93 degrees at the median, 110 at
    # p99): "turns around, then walks back" turned 60-90 and walked on away (a new user's trial).
    **dict.fromkeys(("turns around", "turn around", "turning around", "turned around",
                     "turns back", "turn back", "u-turn", "u-turns", "about-face", "about face",
                     "half turn", "180 degrees"), "a half turn"),
    # A new user's trial (thirty-seventh session): "a woman sidesteps to the left" walked 4.3 m
    # forward (the data's walk-left curves its way forward: 4.8 m ahead, 0.7 m left); "turns
    # left in place" walked 4.2 m; "stomps forward" ran, warned only of a kick.
    **dict.fromkeys(("sidestep", "sidesteps", "sidestepping", "side step", "side steps",
                     "side-step", "side-steps", "strafes", "strafing",
                     *(f"{verb} {way}" for verb in ("steps", "step", "stepping", "walks", "walk",
                                                    "walking", "moves", "move", "moving",
                                                    "shuffles", "shuffle", "shuffling")
                       for way in ("sideways", "sidewards"))),
                    "stepping sideways"),  # (not "raises both arms sideways")
    # (a wave or a bow "in place" is what the data holds: only going somewhere in place)
    **dict.fromkeys([f"{verb} {side}in place" for verb in (
        "walks", "walk", "walking", "runs", "run", "running", "jogs", "jog", "jogging",
        "marches", "march", "marching", "steps", "step", "stepping", "turns", "turn",
        "turning", "spins", "spin", "spinning") for side in ("", "left ", "right ")],
                    "stepping or turning in place"),
    **dict.fromkeys(("stomp", "stomps", "stomping", "stamps", "stamping"), "stomping"),
}  # fmt: skip


def unshown(text: str) -> list[str]:
    """What of ``UNSHOWN`` a prompt names, whole phrases, each once with the words that named
    it ("a circular path ('in a circle')"; "up the steps" is stairs, "takes some steps" is
    walking, which the data shows)."""
    low = f" {_plain(text)} "
    # named, not negated: "walks without turning around" asks for no half turn
    said = [words for words in UNSHOWN if f" {words} " in low
            and not re.search(rf"\b(?:without|not|never|no)\s+{re.escape(words)}\b", low)]  # fmt: skip
    found: dict[str, str] = {}
    for words in said:
        # a word inside a longer one found ("hop" of "hip hop") is that one's
        if UNSHOWN[words] not in found and not any(
            words != other and f" {words} " in f" {other} " for other in said
        ):
            found[UNSHOWN[words]] = words
    return [f"{what} ({words!r})" for what, words in found.items()]


# A negation and the words it negates, up to a comma or a joining word: the text encoder
# reads "waves but not with the right hand" as about the right hand, which then waved (a new
# user's trial). "not confident" and "without confidence" say the data's timid style.
_NEGATION = re.compile(
    r"\b(?:not|never|(?:do|does|did|is|are)n't|without)\b"
    r"(?!\s+(?:confident|confidence|very|too|only|just|much)\b)"
    # "without stopping / turning around" says how it goes on, which the data shows
    r"(?!\s+(?:stopping|pausing|a\s+break|breaking|turning|looking)\b)"
    r"(?:\s+[a-z'-]+){1,5}?(?=\s*(?:[,;.!]|\b(?:and|but|then|while|or)\b|$))",
    re.IGNORECASE,
)


def negated(text: str) -> str | None:
    """The first negated phrase of a prompt ("not with the right hand"), or None."""
    m = _NEGATION.search(text)
    return m.group(0).strip() if m else None


def _negated_warning(what: str, result: str, info: dict[str, Any]) -> str:
    phrase = info.get("negated")
    if not phrase:
        return ""
    return (
        f"{what} says {phrase!r}, and the model does not read negation: {result} may do just "
        "that; say what to do instead (e.g. 'with the left hand', 'stands still')"
    )


def _unshown_warning(what: str, result: str, info: dict[str, Any]) -> str:
    things = info.get("unshown")
    if not things:
        return ""
    return (
        f"{what} names {' and '.join(things)}, which no training clip shows: {result} "
        "will not follow it"
    )


def _compound_warning(what: str, result: str, info: dict[str, Any], inbetween: bool = False) -> str:
    """The warning for a prompt naming several actions (``compound``); ``inbetween``: an
    in-between's (a new user was told of generate's options, which take no keyframes)."""
    several = info.get("compound")
    if not several:
        return ""
    if inbetween:
        return (
            f"{what} names {len(several['parts'])} actions ({' and '.join(several['actions'])}) "
            f"and an in-between gives every gap between its keyframes that one text: "
            f"{result} may show only one; for an action in each gap, in-between one gap at a "
            "time with its own text (each from the last frame of the one before), or make the "
            "actions in turn with motiongen compose (Pipeline.timeline)"
        )
    if several["kind"] == "then":
        return (
            f"{what} puts {len(several['parts'])} actions one after the other, and one "
            f"generation makes one action: {result} may show only one; a timeline makes each "
            "in turn (what generate makes of a text given no music, start motion or rag "
            "setting, --rag/--no-rag; motiongen compose, Pipeline.timeline, POST /compose)"
        )
    asked = " and ".join(repr(p) for p in several["parts"])
    return (
        f"{what} asks for {asked} at once ({' and '.join(several['actions'])}), which no "
        f"training clip shows together: {result} may show only one of them (or neither); for "
        "one after the other put 'then' between them (generate then makes a timeline of them)"
    )


def _unseen_warning(
    what: str, result: str, unseen: dict[str, Any], *, restyle: bool, rare: bool
) -> str:
    """The warning for a known action asked for in a style it was never recorded in."""
    action = unseen["action"]
    if unseen.get("phrase"):
        # the recorded action's own words first: named only by its label ("dance-short"),
        # "a person dances happily" read as a warning about a brief dance nobody asked for
        action = f"{unseen['phrase']!r} ({action})"
    head = (
        f"{what} asks for {' / '.join(unseen['styles'])} with the nearest recorded action, "
        f"{action}, which the training data recorded only as {', '.join(unseen['recorded'])}"
    )
    if "used" in unseen:
        return (
            f"{head}; {result} was made from {unseen['used']!r} (the style left out"
            f"{'' if rare else ', so the action comes out right'}); pass literal=True "
            "(--literal) to send the prompt as written"
        )
    if restyle:  # "lose the action to the style's own actions: one of ... keeps it" read
        return (  # as a riddle (an animator's trial); after it, meta action_kept says
            f"{head}; it may lose the action (a warning after it says so, and "
            "meta action_kept): a style the action was recorded in keeps it surely"
        )
    # Restyling does not cross the two sets either (docs/pipeline.md): not suggested.
    return (
        f"{head}; {result} may follow the style's actions instead of the action: leave out "
        "the style word"
    )


def far_from_vocabulary(what: str, result: str, info: dict[str, Any]) -> str:
    """The warning for a text far from every trained action (``Pipeline.known_actions``)."""
    names = ", ".join(f"{k} ({v:.2f})" for k, v in info["nearest"])
    head = (
        f"{what} is far from every action this model was trained on (best similarity "
        f"{info['similarity']:.2f} < {KNOWN_SIMILARITY}); "
    )
    if started := info.get("started_from"):
        # Retrieval matches every wording of a label, and may find another action than these
        # sentences do: "jumps up and down excitedly" was said to look like a hand raise and
        # walked, started from a happy walk (a new user's trial). Say what it is made from.
        return (
            f"{head}{result} is made from recorded takes of {started['text']!r} (the closest "
            f"retrieved, match {started['score']:.2f}); the nearest known actions: {names}"
        )
    # Not "will look like" them: made from noise, "hands up!" (0.41 to the two-hand raise)
    # kept its wrists below the shoulders (a new user's trial).
    return f"{head}{result} may look like none of them; the nearest known actions: {names}"


def far_segments(
    texts: Sequence[str], known: Sequence[dict[str, Any]], *, restyle: bool = False
) -> str:
    """One warning naming every timeline segment far from the trained actions (or asking for
    a style its action was never recorded in), or "". ``restyle``: a restyled timeline's
    segments, whose style is the point (no advice to leave it out)."""
    warnings = [vocabulary_warning(f"segment {t!r}", "it", k, restyle=restyle)
                for t, k in zip(texts, known, strict=True)]  # fmt: skip
    return join_warnings(*warnings)
