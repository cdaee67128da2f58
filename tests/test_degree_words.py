"""benchmarks/degree_words.py: a row is in order only by steps a user would notice."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.test_classifier import load_script

bench = load_script("degree_words")


def test_rows_are_in_order_only_by_a_tenth_of_the_real_range(monkeypatch):
    monkeypatch.setattr(bench, "real_range", lambda *a: (20.0, 60.0))  # a step of 4 degrees
    pitches = {"a person bows slightly": 30.0, "a person bows": 44.0, "a person bows deeply": 60.0}
    monkeypatch.setattr(bench, "_pitch", lambda p, fps: float(p[0, 0, 0]))
    monkeypatch.setattr(bench, "ROWS", (("bow depth", bench._pitch, "deg", "bow",
                                         tuple(pitches), ("bow",), None),))  # fmt: skip

    class Made:
        fps = 20.0

        def __init__(self, v: float) -> None:
            self.positions = np.full((2, 22, 3), v)

    made = lambda prompt, n: [Made(pitches[prompt] + 0.1 * i) for i in range(n)]  # noqa: E731
    read = lambda motions: SimpleNamespace(content=["bow"] * 8 + ["walk"],  # noqa: E731
                                           style=["normal"] * 9)  # fmt: skip
    result = bench.run(made, 3, "train", read)
    assert result["in_order"] == 1 and result["rows"][0]["less_under_plain"] == 1.0
    assert result["rows"][0]["kept"] == 8 / 9  # one motion of nine read as another action
    pitches["a person bows deeply"] = 46.0  # 2 degrees deeper: not a step anyone would see
    assert bench.run(made, 3, "train")["in_order"] == 0
    result["settings"] = {"checkpoint": "x", "seeds": 3, "split": "train"}
    assert "Rows in order: 1 of 1" in bench.markdown(result)
