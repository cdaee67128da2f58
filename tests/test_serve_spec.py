"""The original design's REST names (text_prompt, duration, guidance_scale, audio_url) and
the audio_url fetcher against a real HTTP server on 127.0.0.1: off by default, allow-listed
hosts only (redirect hops too), size and time limits."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from motiongen.errors import InputError  # noqa: E402
from motiongen.serve import ServeSettings, create_app  # noqa: E402
from motiongen.serve.fetch import host_allowed  # noqa: E402
from tests.serve_helpers import assert_error, write_song  # noqa: E402

QUICK = {"steps": 2, "seed": 1}
LIMIT = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def song_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return write_song(tmp_path_factory.mktemp("audio") / "song.wav", seconds=4.0).read_bytes()


@pytest.fixture(scope="module")
def origin(song_bytes: bytes):
    """A song server: the song, redirects to the same and to another host, a file over the
    limit (with and without its length declared), a trickle and a 404."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_GET(self) -> None:  # noqa: N802
            port = self.server.server_address[1]
            # /get.php?id=1: a dynamic URL, named by its content type
            if self.path in ("/song.wav", "/get.php?id=1"):
                self._send(song_bytes)
            elif self.path == "/to-same":
                self._redirect("/song.wav")
            elif self.path == "/to-other":
                self._redirect(f"http://localhost:{port}/song.wav")
            elif self.path == "/big.wav":
                self._send(b"\0" * (LIMIT + 1))
            elif self.path == "/endless.wav":
                self.send_response(200)
                self.end_headers()  # no length: the fetcher must count
                try:
                    for _ in range(LIMIT // 65536 + 2):
                        self.wfile.write(b"\0" * 65536)
                except OSError:
                    pass
            elif self.path == "/slow.wav":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(100):
                        self.wfile.write(b"\0" * 10)
                        self.wfile.flush()
                        time.sleep(0.1)
                except OSError:
                    pass
            elif self.path == "/slow-headers.wav":
                try:  # the status line, then a header every 0.2 s: never a body
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(60):
                        self.wfile.write(b"X-Pad: 1\r\n")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass
            elif self.path == "/notes.txt":
                self._send(b"hello", "text/plain")
            else:
                self.send_error(404)

        def _send(self, body: bytes, ctype: str = "audio/wav") -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def make_client(tmp_path: Path, **settings):
    app = create_app(ServeSettings(store=tmp_path, batch_wait=0.0, **settings))
    return TestClient(app)


@pytest.fixture(scope="module")
def open_client(tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("store-open")
    with make_client(
        store, audio_hosts=["127.0.0.1"], max_upload_bytes=LIMIT, fetch_timeout=1.5
    ) as c:
        yield c


@pytest.fixture(scope="module")
def closed_client(tmp_path_factory: pytest.TempPathFactory):
    with make_client(tmp_path_factory.mktemp("store-closed")) as c:
        yield c


def test_the_specs_request_example_verbatim(closed_client: TestClient) -> None:
    body = {
        "text_prompt": "a person walks forward",
        "duration": 6.5,
        "guidance_scale": 7.5,
        "use_rag": False,
    }
    answer = closed_client.post("/generate", json=body)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["fps"] == 20.0 and data["num_frames"] == 130 and data["num_joints"] == 22
    assert len(data["positions"]) == 130 and len(data["positions"][0][0]) == 3
    assert data["text"] == "a person walks forward"
    # The spec's names are the same values as ours: same seed, same motion.
    ours = {
        "text": "a person walks forward",
        "seconds": 6.5,
        "guidance": 7.5,
        "seed": 5,
        "use_rag": False,  # absent is the model's default, which retrieves where an index is
    }
    spec = {**body, "seed": 5}
    a = closed_client.post("/generate", json=ours).json()["positions"]
    b = closed_client.post("/generate", json=spec).json()["positions"]
    assert a == b


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, ["no condition", "audio_url"]),
        ({"seconds": 2.0}, 400, ["no condition"]),
        ({"text": "a walk", "text_prompt": "a run"}, 422, ["text_prompt", "not both"]),
        ({"text": "a walk", "seconds": 2, "duration": 2}, 422, ["duration", "not both"]),
        ({"text": "a walk", "seconds": None, "duration": None}, 422, ["duration", "not both"]),
        ({"text": "a walk", "guidance": 2, "guidance_scale": 2}, 422, ["guidance_scale"]),
        ({"text": "a walk", "guidance": [1, 2, 3]}, 422, ["guidance"]),
        ({"text": "a walk", "guidance_scale": 21}, 422, ["guidance_scale", "20"]),
        ({"text_prompt": "   "}, 422, ["letters"]),
        ({"text": "a walk", "audio_url": "http://127.0.0.1:9/a.wav"}, 403, ["allow-audio-host"]),
    ],
)
def test_spec_names_reject(closed_client: TestClient, body, status: int, words) -> None:
    assert_error(closed_client.post("/generate", json=body), status, *words)


def test_audio_url_from_an_allowed_host(open_client: TestClient, origin: str) -> None:
    answer = open_client.post(
        "/generate", json={"audio_url": f"{origin}/song.wav", "seconds": 2.0, **QUICK}
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["num_frames"] == 40 and data["meta"]["music"] == "song.wav"
    # Text and music together, each with its own guidance; a redirect within the host.
    both = open_client.post(
        "/generate",
        json={
            "text_prompt": "a happy dance",
            "audio_url": f"{origin}/to-same",
            "duration": 2.0,
            "guidance": [2.0, 1.5],
            **QUICK,
        },
    )
    assert both.status_code == 200, both.text
    assert both.json()["text"] == "a happy dance"
    dynamic = open_client.post(
        "/generate", json={"audio_url": f"{origin}/get.php?id=1", "seconds": 2.0, **QUICK}
    )
    assert dynamic.status_code == 200, dynamic.text


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/to-other", 403, ["localhost", "allow-list"]),
        ("/big.wav", 413, ["limit"]),
        ("/endless.wav", 413, ["limit"]),
        ("/slow.wav", 422, ["too long"]),
        ("/slow-headers.wav", 422, ["too long"]),
        ("/missing.wav", 422, ["HTTP 404"]),
        ("/notes.txt", 415, ["audio"]),
    ],
)
def test_audio_url_refusals(open_client: TestClient, origin: str, path, status, words) -> None:
    started = time.monotonic()
    answer = open_client.post(
        "/generate", json={"audio_url": origin + path, "seconds": 2.0, **QUICK}
    )
    assert_error(answer, status, *words)
    assert time.monotonic() - started < 10  # cut, not waited out
    uploads = list((Path(open_client.app.state.server.store.uploads_dir)).glob("*/*"))
    assert uploads == []  # nothing half-downloaded is left behind


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/a.wav", "file:///etc/passwd", "http://user:pw@127.0.0.1/a.wav", "nonsense"],
)
def test_audio_url_schemes(open_client: TestClient, url: str) -> None:
    assert_error(open_client.post("/generate", json={"audio_url": url}), 422, "audio_url")


def test_allow_list_entries() -> None:
    assert host_allowed("127.0.0.1", 8000, ("127.0.0.1",))
    assert host_allowed("127.0.0.1", 8000, ("127.0.0.1:8000",))
    assert not host_allowed("127.0.0.1", 8001, ("127.0.0.1:8000",))
    assert not host_allowed("127.0.0.2", 8000, ("127.0.0.1",))
    assert host_allowed("::1", 80, ("[::1]:80",))
    with pytest.raises(InputError, match="allow-audio-host"):
        ServeSettings(audio_hosts=["127.0.0.1:http"])


def test_dance_with_a_text(open_client: TestClient, song_bytes: bytes) -> None:
    answer = open_client.post(
        "/dance",
        files={"audio": ("song.wav", song_bytes, "audio/wav")},
        data={
            "text": "a happy dance",
            "guidance": "2",
            "guidance_music": "1.5",
            "steps": "2",
            "seconds": "2",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "a happy dance"
    lone = open_client.post(
        "/dance",
        files={"audio": ("song.wav", song_bytes, "audio/wav")},
        data={"guidance_music": "1.5", "steps": "2", "seconds": "2"},
    )
    assert_error(lone, 422, "guidance_music", "text")
