"""Shared by the serve/client tests: a song to dance to, a free port, error-body checks,
waiting for a job."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

SR = 22050


def write_song(path: Path, seconds: float = 4.0, bpm: float = 120.0) -> Path:
    """A tone with a click on every beat: real, audible music-like audio."""
    t = np.arange(int(seconds * SR)) / SR
    y = 0.2 * np.sin(2 * np.pi * 220 * t)
    for beat in np.arange(0, seconds, 60.0 / bpm):
        i = int(beat * SR)
        y[i : i + 400] += 0.8 * np.exp(-np.arange(len(y[i : i + 400])) / 60.0)
    sf.write(str(path), y.astype(np.float32), SR)
    return path


def wait_job(client: Any, url: str, timeout: float = 60.0) -> dict:
    """The job at ``url`` (``/jobs/<id>``) once done or failed, polled through ``client``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get(url).json()
        if info["status"] in ("done", "failed"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {url} did not finish: {info}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_error(response, status: int, *words: str) -> str:  # noqa: ANN001
    """The answer is the JSON error body with ``status`` and a message naming ``words``."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error", "status"}, body
    assert body["status"] == status
    message = body["error"]
    assert isinstance(message, str) and len(message) > 10
    for word in words:
        assert word.lower() in message.lower(), (word, message)
    return message


def small_index(folder: Path, clips: int = 24) -> Path:
    """A retrieval index of synthetic motions built with the real encoders (the ones a served
    model queries with), for use_rag requests: MOTIONGEN_INDEX points at it."""
    from motiongen.data.prepare import prepare_synthetic
    from motiongen.retrieval.build import build_index, collect_data_phrases

    index = folder / "index"
    if (index / "index.faiss").is_file():
        return index
    prepare_synthetic(folder / "synth", clips, seed=0)
    phrases, motions = collect_data_phrases(("train",), prepared=folder / "synth")
    build_index(phrases, motions).save(index)
    return index
