from motiongen.data.text import CONTENT_PHRASES, STYLE_PHRASES, describe


def test_bandai_phrasings():
    texts = describe({"content": "bow", "style": "sad"})
    assert texts[0] == "a person bows sadly"
    assert len(texts) == 4 and len(set(texts)) == 4
    assert all("bow" in t for t in texts)
    assert all("sad" in t for t in texts)


def test_left_and_right_survive_in_text():
    assert all("left" in t for t in describe({"content": "wave-left-hand", "style": "normal"}))
    assert all(
        "right" in t for t in describe({"content": "raise-up-right-hand", "style": "active"})
    )


def test_every_known_label_has_words():
    for content in CONTENT_PHRASES:
        for style in STYLE_PHRASES:
            texts = describe({"content": content, "style": style})
            assert texts and all(t.strip() == t and "  " not in t for t in texts)


def test_dance_and_deterministic():
    assert describe({"dance_type": "waltz"})[0] == "a person dances the waltz"
    assert describe({"content": "run", "style": "happy"}) == describe(
        {"content": "run", "style": "happy"}
    )
    assert describe({}) == ["a person moves"]
