"""benchmarks/paraphrases.py: its prompt file and how hits are counted."""

from __future__ import annotations

import json
from types import SimpleNamespace

from motiongen.data.text import CONTENT_PHRASES, training_phrasings
from motiongen.evaluators.labels import STYLE_SYNONYMS
from tests.test_classifier import load_script

bench = load_script("paraphrases")


def test_the_prompts_are_in_words_no_training_text_uses():
    data = json.loads(bench.PROMPTS.read_text())
    assert len(data["held_out"]) >= 40 and len(data["tuning"]) >= 40
    said = set()
    for content in CONTENT_PHRASES:
        for style in ("normal", "happy", "sad", "angry", "proud", "tired", "old", "active"):
            said.update(training_phrasings({"content": content, "style": style}))
    for prompt, content, _ in data["held_out"] + data["tuning"]:
        assert prompt not in said, prompt
        assert content in CONTENT_PHRASES or content.startswith("dance-"), content


def test_hits_are_counted_per_set_and_styles_only_where_asked():
    asked = [("p1", "bow", None, "held_out"), ("p2", "walk", "tired", "held_out"),
             ("p3", "kick", None, "tuning")]  # fmt: skip
    read = {"p1": (["bow", "bow"], ["normal", "sad"]),
            "p2": (["walk", "run"], [STYLE_SYNONYMS["tired"], "normal"]),
            "p3": (["punch", "punch"], ["normal", "normal"])}  # fmt: skip

    def classify(made):  # as LabelClassifier.classify answers
        contents, styles = read[made[0]]
        return SimpleNamespace(content=contents, style=styles)

    result = bench.run(lambda prompt, n: [prompt] * n, classify, asked, 2)
    held, tuning = result["summary"]["held_out"], result["summary"]["tuning"]
    assert held["content"] == 0.75 and held["prompts_all_seeds_right"] == 1
    assert held["styled_prompts"] == 1 and held["style"] == 0.5  # "tired" read as its synonym
    assert tuning["content"] == 0.0 and tuning["style"] is None
    result["settings"] = {"checkpoint": "x", "seeds": 2, "set": "all", "rag": True}
    text = bench.markdown(result)
    assert "| held_out | p2 | walk|tired | walk|exhausted, run|normal |" in text
