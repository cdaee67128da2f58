"""``motiongen.client.Client`` against the real app in-process, and its errors."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from motiongen.client import (  # noqa: E402
    Client,
    JobFailedError,
    ServerBusyError,
    ServerError,
    ServerUnavailableError,
)
from motiongen.errors import InputError, MotionGenError  # noqa: E402
from motiongen.io import load  # noqa: E402
from motiongen.motion import Motion  # noqa: E402
from motiongen.paths import DEFAULT_MODEL  # noqa: E402
from motiongen.serve import ServeSettings, create_app  # noqa: E402
from tests.serve_helpers import free_port, write_song  # noqa: E402


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("client-store")
    app = create_app(ServeSettings(store=store, queue_size=1, max_batch=4, batch_wait=0.0))
    with TestClient(app):
        yield app


@pytest.fixture
def client(app) -> Client:
    return Client("http://testserver", http=TestClient(app))


def test_refused_connection_says_how_to_start_the_server() -> None:
    port = free_port()
    with pytest.raises(ServerUnavailableError) as info:
        Client(f"http://127.0.0.1:{port}", timeout=5).health()
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "motiongen serve" in message
    assert isinstance(info.value, MotionGenError)


def test_bad_arguments_fail_before_any_request() -> None:
    with pytest.raises(InputError, match="http"):
        Client("localhost:8000")
    with pytest.raises(InputError, match="timeout"):
        Client("http://x", timeout=0)
    with pytest.raises(InputError, match="format"):
        Client("http://127.0.0.1:9").generate_job("a", format="gif")


def test_generate_dance_and_service_calls(client: Client, tmp_path: Path) -> None:
    assert client.health()["status"] == "ok"
    assert client.models()["default"] == DEFAULT_MODEL
    motion = client.generate("a person walks forward", seconds=2, steps=2, seed=4)
    assert isinstance(motion, Motion)
    assert (
        motion.num_frames == 40 and motion.fps == 20 and motion.texts == ["a person walks forward"]
    )
    assert motion.meta["seed"] == 4
    again = client.generate("a person walks forward", seconds=2, steps=2, seed=4)
    # Positions travel rounded to 0.1 mm, and with an index on the machine the server's first
    # retrieving request differs from later ones by float noise (5e-5 m): one rounding step.
    np.testing.assert_allclose(again.positions, motion.positions, atol=1.01e-4)
    song = write_song(tmp_path / "song.wav", seconds=3)
    dance = client.dance(song, seconds=2, steps=2, seed=1)
    assert dance.num_frames == 40 and dance.audio is not None and dance.audio.path == str(song)


def test_control_calls_answer_motions(client: Client) -> None:
    walk = client.generate("a person walks forward", seconds=2, steps=2, seed=1)
    more = client.predict(walk, 3.0, "a person walks forward", steps=2, seed=2)
    assert more.num_frames == 60 and more.meta["task"] == "predict"
    np.testing.assert_allclose(more.positions[:40], walk.positions, atol=2e-4)
    keys = client.inbetween([walk.crop(0, 1), walk.crop(39)], [0.0, 2.0], steps=2, seed=3)
    assert keys.num_frames == 41
    arms = client.edit(walk, "a person raises both hands", joints=["arms"], steps=2, seed=4)
    np.testing.assert_allclose(arms.positions[:, 1:3], walk.positions[:, 1:3], atol=2e-4)
    sad = client.restyle(walk, "sad", steps=2, seed=5)
    assert sad.meta["style"] == "sad" and "sad" in client.styles()
    line = client.compose([("a person walks", 1.5), ("a person bows", 1.5)], steps=2, seed=6)
    assert line.num_frames == 60 and line.meta["task"] == "timeline"
    # a timeline restyled goes with its segments: each keeps its own words
    sad_line = client.restyle(line, "sad", steps=2, seed=7)
    assert [t for t, _ in sad_line.meta["segments"]] == [
        "a person walks in a sad way", "a person bows in a sad way"]  # fmt: skip
    then = client.generate("a person walks, then bows", seconds=3, steps=2, seed=6)
    assert [t for t, _ in then.meta["segments"]] == ["a person walks", "a person bows"]
    one = client.generate("a person walks, then bows", seconds=3, steps=2, seed=6, timeline=False)
    assert "segments" not in one.meta
    with pytest.raises(ServerError, match="422"):
        client.restyle(walk, "grumpy")
    with pytest.raises(InputError, match="motiongen.Motion"):
        client.predict(walk.positions, 3.0)


def test_jobs_wait_and_download(client: Client, tmp_path: Path) -> None:
    job_id = client.generate_job("a person jumps", seconds=2, steps=2, seed=2)
    info = client.wait(job_id, timeout=60)
    assert info["status"] == "done" and "mp4" in info["files"]
    video = client.download(job_id, "mp4", tmp_path / "out" / "jump.mp4")
    assert video.read_bytes()[4:8] == b"ftyp"
    bvh = client.download(job_id, "bvh", tmp_path / "jump.bvh")
    assert load(bvh).num_frames == 40
    assert client.job_motion(job_id).meta["seed"] == 2
    assert client.job(job_id)["request"]["text"] == "a person jumps"


def test_server_messages_reach_the_caller(client: Client, tmp_path: Path) -> None:
    with pytest.raises(ServerError) as info:
        client.generate("a person", seconds=99)
    assert info.value.status == 422 and "seconds" in str(info.value) and "30" in str(info.value)
    with pytest.raises(ServerError) as info:
        client.job("missing")
    assert info.value.status == 404 and "missing" in str(info.value)
    text = tmp_path / "notes.txt"
    text.write_text("not music")
    with pytest.raises(ServerError) as info:
        client.dance(text)
    assert info.value.status == 415
    with pytest.raises(InputError, match="no such audio"):
        client.dance(tmp_path / "absent.wav")


def test_failed_job_raises(app, client: Client, tmp_path: Path) -> None:
    song = write_song(tmp_path / "song.wav", seconds=3)
    queue = app.state.server.queue
    queue.pause()  # hold the job so its input can vanish before it runs
    try:
        job_id = client.dance_job(song, seconds=2, steps=2, format="json")
        store = app.state.server.store
        for path in store.input_dir(job_id).iterdir():
            path.unlink()
    finally:
        queue.resume()
    with pytest.raises(JobFailedError, match="song.wav"):
        client.wait(job_id, timeout=60)


def test_busy_server(app, client: Client) -> None:
    queue = app.state.server.queue
    queue.pause()
    done = threading.Event()

    def first() -> None:
        client.generate("a person waits", seconds=2, steps=2)
        done.set()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        while queue.size() < 1:
            time.sleep(0.01)
        with pytest.raises(ServerBusyError) as info:
            client.generate("a person hurries", seconds=2, steps=2)
        assert info.value.retry_after >= 1 and "busy" in str(info.value)
        # With retries, the call waits out Retry-After and succeeds once the queue drains.
        threading.Timer(0.3, queue.resume).start()
        patient = Client("http://testserver", http=client._http, busy_retries=3)
        assert patient.generate("a person hurries", seconds=2, steps=2).num_frames == 40
    finally:
        queue.resume()
        thread.join(60)
    assert done.is_set()


def test_a_request_the_server_makes_a_job_still_returns_its_motion(tmp_path: Path) -> None:
    # a sync budget below any request: the server answers 202 with a job for every one
    app = create_app(ServeSettings(store=tmp_path / "store", sync_budget=1, batch_wait=0.0))
    with TestClient(app) as http:
        client = Client("http://testserver", http=http)
        motion = client.generate("a person walks forward", seconds=2, steps=2, seed=3)
        assert motion.num_frames == 40 and motion.meta["seed"] == 3
    with pytest.raises(InputError, match="seconds must be a finite number"):
        Client("http://127.0.0.1:9").generate("a person walks", seconds=float("nan"))


def test_the_answer_s_frame_rate_and_a_dance_s_text(client: Client, tmp_path: Path) -> None:
    motion = client.generate("a person walks forward", seconds=2, steps=2, seed=4, fps=30)
    assert motion.fps == 30 and motion.num_frames == 60
    song = write_song(tmp_path / "song.wav", seconds=3)
    dance = client.dance(song, seconds=2, steps=2, seed=1, text="a happy dance", fps=60)
    assert dance.fps == 60 and dance.num_frames == 120 and dance.texts == ["a happy dance"]
    assert "beat_sync" in dance.meta  # retimed where that helps, by default
    own = client.dance(song, seconds=2, steps=2, seed=1, beat_sync=False)
    assert "beat_sync" not in own.meta and own.num_frames == 40


def test_a_client_with_too_many_waiting_retries_and_says_busy() -> None:
    # 20 threads through one client (busy_retries=2) had 9 raise a plain ServerError on the
    # server's 429 "this client already has 8 requests waiting" (a new user's trial)
    import httpx

    answers = iter([429, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 429:
            return httpx.Response(429, json={"error": "this client already has 8 requests "
                                             "waiting"}, headers={"Retry-After": "0.01"})  # fmt: skip
        return httpx.Response(200, json={"status": "ok"})

    http = httpx.Client(base_url="http://testserver", transport=httpx.MockTransport(handler))
    assert Client("http://testserver", http=http, busy_retries=2).health() == {"status": "ok"}
    answers = iter([429])
    with pytest.raises(ServerBusyError) as info:
        Client("http://testserver", http=http).health()
    assert info.value.status == 429 and "8 requests waiting" in str(info.value)
