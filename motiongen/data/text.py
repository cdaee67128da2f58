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


# ---- training phrasings: many wordings per label pair ------------------------------------
# describe() gives the few fixed descriptions the evaluation uses (its first is the prompt of
# R-precision and label recognition). Training sees many more wordings of the same labels so
# the model learns what they mean rather than one sentence per pair: other subjects and verb
# synonyms, the style as an adverb, an adjective or a leading word, and, for a share of the
# samples, the content alone (so "waves with both hands" means two hands in any style, and a
# style word can be added to a content it was never recorded with) or the style alone.

# Extra verb phrases beside CONTENT_PHRASES (same person and tense).
MORE_CONTENT_PHRASES: dict[str, tuple[str, ...]] = {
    "walk": ("walks straight ahead", "walks forwards", "strolls forward", "is walking forward"),
    "run": ("runs ahead", "runs straight forward", "is running forward", "jogs ahead"),
    "dash": ("sprints ahead", "dashes forward", "runs very fast", "is sprinting"),
    "walk-back": ("walks backward", "moves backwards", "backs up", "retreats step by step"),
    "walk-left": ("walks sideways to the left", "side-steps to the left", "walks leftwards"),
    "walk-right": ("walks sideways to the right", "side-steps to the right", "walks rightwards"),
    "walk-turn-left": ("turns left while walking", "walks and makes a left turn",
                       "walks forward and turns left"),
    "walk-turn-right": ("turns right while walking", "walks and makes a right turn",
                        "walks forward and turns right"),
    "bow": ("bows forward", "bows politely", "bends the upper body forward", "does a bow"),
    "bye": ("waves bye", "waves a hand goodbye", "waves farewell with one hand"),
    "byebye": ("waves bye-bye with both hands", "waves goodbye using both arms",
               "waves both hands goodbye"),
    "guide": ("points the way", "guides someone with a gesture", "directs someone with an arm"),
    "respond": ("responds to someone", "answers with a gesture", "gestures in response"),
    "call": ("calls someone to come over", "beckons someone", "gestures for someone to come"),
    "punch": ("punches forward", "throws punches", "hits with a fist"),
    "kick": ("kicks forward", "kicks with one leg", "does a kick"),
    "slash": ("slashes", "swings a sword", "attacks with a sword"),
    "dance-long": ("dances for a while", "is dancing", "dances around"),
    "dance-short": ("dances a little", "does a few dance steps", "dances for a moment"),
    "wave-both-hands": ("waves both hands", "waves using both hands", "waves with two hands",
                        "waves both hands in the air"),
    "wave-left-hand": ("waves the left arm", "waves using the left hand",
                       "lifts the left hand and waves"),
    "wave-right-hand": ("waves the right arm", "waves using the right hand",
                        "lifts the right hand and waves"),
    "raise-up-both-hands": ("raises both arms", "raises both hands up", "lifts both hands up",
                            "holds both arms up"),
    "raise-up-left-hand": ("raises the left arm", "lifts the left hand", "puts up the left hand",
                           "raises the left hand up"),
    "raise-up-right-hand": ("raises the right arm", "lifts the right hand",
                            "puts up the right hand", "raises the right hand up"),
}  # fmt: skip

# Extra ways to say a style: (adverbial phrases, adjectives).
MORE_STYLE_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "happy": (("cheerfully", "joyfully", "in a happy mood"), ("cheerful", "joyful")),
    "sad": (("sorrowfully", "in a sad mood", "unhappily"), ("unhappy", "sorrowful")),
    "angry": (("furiously", "in an angry mood", "with anger"), ("furious", "mad")),
    "proud": (("with pride", "confidently and proudly"), ("confident",)),
    "not-confident": (("shyly", "nervously", "hesitantly"), ("nervous", "timid")),
    "masculinity": (("in a manly way",), ("manly",)),
    "masculine": (("in a manly way",), ("manly",)),
    "feminine": (("in a ladylike way", "gracefully in a feminine way"), ("ladylike",)),
    "childish": (("like a child", "playfully like a child"), ("childish", "playful")),
    "old": (("like an old person", "stiffly like an elderly person"), ("elderly", "aged")),
    "elderly": (("like an old person", "stiffly like an elderly person"), ("old", "aged")),
    "tired": (("tiredly", "in a tired way"), ("weary", "sleepy")),
    "exhausted": (("wearily", "with exhaustion"), ("worn-out", "tired")),
    "active": (("actively", "with lots of energy"), ("active", "lively")),
    "youthful": (("youthfully", "in a lively way"), ("youthful", "lively")),
    "musical": (("theatrically", "like in a musical"), ("dramatic",)),
    "giant": (("heavily like a giant", "like a huge giant"), ("huge", "heavy")),
    "chimpira": (("like a thug", "with a swagger"), ("thuggish", "cocky")),
}

_SUBJECTS = ("a person", "someone", "a man", "a woman", "a character", "the person", "a figure")
_DANCE_MORE = (
    "a person dances a {d}",
    "someone is dancing the {d}",
    "a dancer dances the {d} to the music",
    "the person performs a {d}",
)
_DANCE_GENERIC = ("a person dances to the music", "someone dances to the rhythm", "a person dances")


def _pick(options: tuple[str, ...], key: str, k: int) -> list[str]:
    """``k`` options chosen deterministically by ``key`` (different pairs, different picks)."""
    if not options:
        return []
    start = int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(options)
    return [options[(start + i) % len(options)] for i in range(min(k, len(options)))]


def training_phrasings(
    labels: dict[str, str], *, with_action_alone: bool = True, with_style_alone: bool = True
) -> list[str]:
    """Many wordings of a clip's labels for training, deterministic, duplicates kept on
    purpose: a text's share of the list is its chance to be drawn.

    About 70 % describe content and style, 22 % the content alone, 8 % the style alone
    ("a person moves happily"); a clip in the "normal" style gets content-only wordings.
    Unknown labels fall back to ``describe``. with_action_alone=False leaves out a styled
    clip's wordings without its style, with_style_alone=False those without its action (the
    shares above then no longer hold).
    """
    if labels.get("dance_type"):
        d = labels["dance_type"]
        texts = [p.format(d=d) for p in _DANCE_PHRASES + _DANCE_MORE]
        return texts + list(_DANCE_GENERIC)  # 3 of 11 name no dance type
    content = labels.get("content", "")
    if content not in CONTENT_PHRASES:
        return describe(labels)
    style = labels.get("style", "normal") or "normal"
    key = f"{content}|{style}"
    verbs = CONTENT_PHRASES[content] + MORE_CONTENT_PHRASES.get(content, ())
    action_alone = [
        f"{s} {v}"
        for s, v in zip(_pick(_SUBJECTS, key + "c", 4), _pick(verbs, key + "cv", 4), strict=False)
    ]
    if style == "normal" or style not in STYLE_PHRASES:
        full = [f"{s} {v}" for s in _SUBJECTS[:3] for v in verbs]
        return full + action_alone
    adverb, adjective = STYLE_PHRASES[style]
    more_adverbs, more_adjectives = MORE_STYLE_PHRASES.get(style, ((), ()))
    adverbs = (adverb, *more_adverbs)
    adjectives = tuple(a for a in (adjective, *more_adjectives) if a)
    full: list[str] = []
    for i, verb in enumerate(verbs):
        subject = _SUBJECTS[i % len(_SUBJECTS)]
        adv = adverbs[i % len(adverbs)]
        full.append(f"{subject} {verb} {adv}")
        if adjectives:
            adj = adjectives[i % len(adjectives)]
            full.append(f"{_article(adj)} {adj} person {verb}")
        if i % 3 == 0 and adv.endswith("ly") and " " not in adv:
            full.append(f"{adv[:1].upper()}{adv[1:]}, {subject} {verb}")
    style_alone = [f"a person moves {a}" for a in _pick(adverbs, key + "s", 2)]
    # ~70 / 22 / 8 % of draws.
    reps_c = max(1, round(0.22 / 0.70 * len(full) / len(action_alone)))
    reps_s = max(1, round(0.08 / 0.70 * len(full) / len(style_alone)))
    return (full + (action_alone * reps_c if with_action_alone else [])
            + (style_alone * reps_s if with_style_alone else []))  # fmt: skip


def action_vocabulary(labels: list[dict[str, str]]) -> dict[str, list[str]]:
    """Action label -> plain sentences naming it, for the actions present in ``labels``
    (clip label dicts). Saved beside a checkpoint (``vocabulary.json``) so generation can tell
    a prompt it knows from one far from anything it was trained on."""
    out: dict[str, list[str]] = {}
    for lab in labels:
        if lab.get("dance_type"):
            d = lab["dance_type"]
            out.setdefault(f"dance-{d}", [f"a person dances the {d}", f"a person dances a {d}"])
            continue
        content = lab.get("content", "")
        if content in CONTENT_PHRASES and content not in out:
            verbs = CONTENT_PHRASES[content] + MORE_CONTENT_PHRASES.get(content, ())
            out[content] = [f"a person {v}" for v in verbs]
    return dict(sorted(out.items()))


def action_styles(labels: list[dict[str, str]]) -> dict[str, list[str]]:
    """Action label -> the styles it was recorded in, for the labelled actions of ``labels``.
    The two Bandai sets share only walk and run: the emotions (happy, sad, angry, ...) were
    recorded only with dataset-1's actions, the hand raises and waves only with dataset-2's
    styles, so "raises both hands happily" asks for a pair no clip shows."""
    out: dict[str, set[str]] = {}
    for lab in labels:
        content = lab.get("content", "")
        if content in CONTENT_PHRASES and lab.get("style"):
            out.setdefault(content, set()).add(lab["style"])
    return {k: sorted(v) for k, v in sorted(out.items())}


def action_clips(labels: list[dict[str, str]]) -> dict[str, int]:
    """Action label -> how many of ``labels``' clips show it (the data holds one kick and one
    punch among 2,241 training clips: a model cannot learn those from it)."""
    out: dict[str, int] = {}
    for lab in labels:
        content = lab.get("content", "")
        if content in CONTENT_PHRASES:
            out[content] = out.get(content, 0) + 1
    return dict(sorted(out.items()))


def action_songs(labels: list[dict[str, str]]) -> dict[str, int]:
    """Dance action ("dance-waltz", as ``action_vocabulary`` names it) -> how many of
    ``labels``' recordings show it: each is a whole song's dance, a minute or two long, so a
    few are no rare action as a few clips are (``action_clips`` counts those)."""
    out: dict[str, int] = {}
    for lab in labels:
        if lab.get("dance_type"):
            action = f"dance-{lab['dance_type']}"
            out[action] = out.get(action, 0) + 1
    return dict(sorted(out.items()))


def style_words() -> dict[str, list[str]]:
    """Style -> the words and phrases the training texts use for it ("happily", "happy",
    "in a happy mood", ...), for telling which styles a prompt names."""
    words: dict[str, set[str]] = {}
    for style, (adverb, adjective) in STYLE_PHRASES.items():
        more_adverbs, more_adjectives = MORE_STYLE_PHRASES.get(style, ((), ()))
        for phrase in (adverb, adjective, *more_adverbs, *more_adjectives):
            for part in phrase.split(","):  # "timidly, without confidence"
                if part.strip():
                    words.setdefault(style, set()).add(part.strip().lower())
    return {k: sorted(v) for k, v in sorted(words.items())}
