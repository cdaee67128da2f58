"""schemathesis against /openapi.json, in-process: generated valid and invalid requests for
every operation, judged by every check schemathesis has (no server errors, status codes,
content types, headers and bodies as documented, invalid data rejected, valid data accepted)."""

from __future__ import annotations

import shutil
import tempfile

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from motiongen.serve import ServeSettings, create_app  # noqa: E402
from motiongen.serve.schemas import MAX_SECONDS, MAX_STEPS, MIN_SECONDS  # noqa: E402

# A large queue: a 503 is correct behaviour under load, but here every request must be judged
# on its content alone.
STORE = tempfile.mkdtemp(prefix="motiongen-schema-")
app = create_app(ServeSettings(store=STORE, queue_size=1000))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def running_server():
    """The app's lifespan (model and job threads) for the whole module, with a small
    retrieval index for use_rag requests (read at the first such request)."""
    import os
    from pathlib import Path

    from fastapi.testclient import TestClient

    from tests.serve_helpers import small_index

    before = os.environ.get("MOTIONGEN_INDEX")
    os.environ["MOTIONGEN_INDEX"] = str(small_index(Path(STORE) / "rag"))
    try:
        with TestClient(app):
            yield
    finally:
        if before is None:
            os.environ.pop("MOTIONGEN_INDEX", None)
        else:
            os.environ["MOTIONGEN_INDEX"] = before
        shutil.rmtree(STORE, ignore_errors=True)


# key -> (the schema's valid range, the cap a valid value is lowered to)
CHEAP = {"seconds": ((MIN_SECONDS, MAX_SECONDS), 1.0), "steps": ((1, MAX_STEPS), 2)}


def _wav_bytes() -> bytes:
    import io

    import numpy as np
    import soundfile as sf

    t = np.arange(22050 * 3) / 22050
    buf = io.BytesIO()
    sf.write(buf, 0.3 * np.sin(2 * np.pi * 220 * t), 22050, format="WAV")
    return buf.getvalue()


WAV = _wav_bytes()


def _keypoints_json() -> bytes:
    """2 s of COCO-17 keypoints of a synthetic walk filmed by a fixed camera."""
    import json

    import numpy as np

    from motiongen.capture.camera import film
    from motiongen.data.synthetic import synth_motion

    walk = synth_motion("walk", seconds=2.0, seed=0).positions.astype(np.float64)
    xy, conf, _ = film(walk, np.random.default_rng(0), noise=0.005, dropout=0.0)
    frames = np.concatenate([xy, conf[..., None]], axis=-1).round(2).tolist()
    return json.dumps({"fps": 20, "frames": frames}).encode()


KEYPOINTS = _keypoints_json()


def _standing(frames: int) -> dict:
    """A real body (the first pose of a clip of the shipped data's skeleton), standing still."""
    from motiongen.data.synthetic import synth_sequence

    pose = synth_sequence(["idle"], seconds=1.0, seed=0).positions[0]
    return {"fps": 20.0, "positions": [pose.tolist()] * frames}


STAND, POSE = _standing(20), _standing(1)
CONTROL = ("/predict", "/inbetween", "/edit", "/restyle", "/compose")


def cheapen_control(path: str, body: dict) -> None:
    """A control request's motions cannot be described by OpenAPI beyond their shape (a body
    must also be human-sized and move plausibly), and some fields must fit together (the
    keyframe times increase, a continuation outlasts its past): valid cases get a real
    standing body and fitting values, so what is fuzzed is every other field."""
    if isinstance(body.get("motion"), dict):
        body["motion"] = STAND
    keys = body.get("keyframes")
    if isinstance(keys, list) and len(keys) >= 2:
        body["keyframes"] = [POSE] * len(keys)
        body["times"] = [float(i) for i in range(len(keys))]
    seconds = body.get("seconds")
    if isinstance(seconds, int | float) and not isinstance(seconds, bool):
        body["seconds"] = 2.0  # a continuation outlasts its 1 s past
    if isinstance(body.get("frames"), list) and len(body["frames"]) == 2:
        body["frames"] = [0.2, 0.6]
    if path == "/edit" and body.get("frames") is None and body.get("joints") is None:
        body["joints"] = ["arms"]
    if path == "/restyle" and body.get("style") is None and body.get("text") is None:
        body["style"] = "sad"
    if path == "/inbetween" and body.get("style") is not None and body.get("text") is None:
        body["text"] = "a person waves"  # a style goes with a text (poses standing: none)
    if isinstance(body.get("segments"), list) and len(body["segments"]) > 3:
        body["segments"] = body["segments"][:3]  # a long timeline is slow, not more telling
    for seg in body.get("segments") or []:
        if isinstance(seg, dict) and isinstance(seg.get("seconds"), int | float):
            seg["seconds"] = min(seg["seconds"], 1.5)
    if body.get("loop") is True:  # a loop needs a motion of more than a second, in frames
        if isinstance(body.get("motion"), dict):
            body["motion"] = _standing(60)
            if "seconds" in body:
                body["seconds"] = 4.0  # a continuation outlasts its 3 s past
        if isinstance(body.get("times"), list):
            body["times"] = [2.0 * t for t in body["times"]]
        for seg in body.get("segments") or []:
            if isinstance(seg, dict):
                seg["seconds"] = 1.5
        if isinstance(body.get("seconds"), int | float) and "motion" not in body:
            body["seconds"] = max(body["seconds"], 2.0)  # a prompt's total
        fps = body.get("fps")
        if isinstance(fps, int | float) and not isinstance(fps, bool) and fps < 20:
            body["fps"] = 20.0
    steps = body.get("steps")
    if isinstance(steps, int) and not isinstance(steps, bool) and 1 <= steps <= MAX_STEPS:
        body["steps"] = min(steps, 2)


def fitting_rate(body: dict) -> None:
    """Cross-field rules OpenAPI cannot state, met by a valid case: a .npy stores no frame
    rate (asked for as the answer, only at 20 fps, the model's), beat sync retimes a dance
    onto its music (asked for without music, left to the default), and a timeline is made
    without music (asked for with a song, left to the default)."""
    if body.get("format") == "npy" and not body.get("async") and body.get("fps") is not None:
        body["fps"] = 20.0
    if body.get("beat_sync") is True and not body.get("audio_url"):
        body["beat_sync"] = None
    if body.get("timeline") is True and body.get("audio_url"):  # a timeline has no music
        body["timeline"] = None


def cheapen(case) -> None:  # noqa: ANN001
    """Valid lengths and step counts are lowered so a valid request takes a fraction of a
    second; invalid values are left as generated (a negative case stays negative).

    An upload's bytes cannot be described by OpenAPI (any string is schema-valid), so /dance
    always uploads a real 3 s recording: the form fields are what is fuzzed here (unreadable
    audio is fuzzed by tests/test_fuzz_inputs.py). A form has no null: a null field is left
    out, which is what a form means by it."""
    positive = case.meta is None or str(case.meta.generation.mode.value) == "positive"
    if positive and isinstance(case.body, dict):
        fitting_rate(case.body)
    if case.path == "/dance" and isinstance(case.body, dict):
        case.body = {k: v for k, v in case.body.items() if v is not None}
        case.body["audio"] = WAV
        return
    if case.path == "/capture" and isinstance(case.body, dict):
        # As for /dance: real keypoints, the form fields fuzzed (an IMU file is left out:
        # its bytes cannot be described either; tests/test_capture.py covers it).
        case.body = {k: v for k, v in case.body.items() if v is not None and k != "imu"}
        case.body["keypoints"] = KEYPOINTS
        return
    if case.path in CONTROL and isinstance(case.body, dict):
        if positive:
            cheapen_control(case.path, case.body)  # a negative case stays as generated
        return
    if case.path != "/generate" or not isinstance(case.body, dict):
        return
    for key, ((lo, hi), cap) in CHEAP.items():
        value = case.body.get(key)
        valid_type = int if key == "steps" else (int, float)
        if isinstance(value, valid_type) and not isinstance(value, bool) and lo <= value <= hi:
            case.body[key] = min(value, cap) if key == "steps" else float(min(value, cap))
    if positive and case.body.get("loop") is True:  # a loop needs more than a second
        for key in ("seconds", "duration"):
            value = case.body.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value <= 1.5:
                case.body[key] = 2.0
        fps = case.body.get("fps")  # ... of frames: at 1 fps two seconds are two frames
        if isinstance(fps, int | float) and not isinstance(fps, bool) and fps < 20:
            case.body["fps"] = 20.0


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case) -> None:  # noqa: ANN001
    cheapen(case)
    if case.path == "/capture":
        # Its body is replaced by real keypoints (see cheapen), so schemathesis's own idea of
        # which bodies are valid does not hold: only "no 5xx and a JSON error" is checked.
        response = case.call()
        assert response.status_code < 500, response.text
    else:
        response = case.call_and_validate()
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "status"} and body["status"] == response.status_code
