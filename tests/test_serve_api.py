"""The REST API in-process (FastAPI's TestClient): every endpoint, every class of bad input,
batching, the bounded queue and job durability across a restart on the same store."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from motiongen.io import load  # noqa: E402
from motiongen.paths import DEFAULT_MODEL  # noqa: E402
from motiongen.pipeline import Pipeline  # noqa: E402
from motiongen.serve import ServeSettings, create_app  # noqa: E402
from motiongen.serve.jobs import JobStore  # noqa: E402
from tests.serve_helpers import assert_error, write_song  # noqa: E402
from tests.serve_helpers import wait_job as wait_for  # noqa: E402

QUICK = {"seconds": 2.0, "steps": 2}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-store")


@pytest.fixture(scope="module")
def client(store: Path):
    # One test client fills the whole queue here, so its share is all of it.
    app = create_app(
        ServeSettings(store=store, queue_size=3, max_batch=4, batch_wait=0.0, client_share=3)
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_song(tmp_path_factory.mktemp("audio") / "song.wav", seconds=4.0)


def wait_job(client: TestClient, job_id: str, timeout: float = 60.0) -> dict:
    return wait_for(client, f"/jobs/{job_id}", timeout)


def queue_size(client: TestClient) -> int:
    return client.get("/health").json()["queue"]["size"]


def wait_queue(client: TestClient, n: int) -> None:
    deadline = time.monotonic() + 30
    while queue_size(client) < n:
        assert time.monotonic() < deadline, "requests never reached the queue"
        time.sleep(0.01)


# ---- service endpoints ------------------------------------------------------------------
def test_health_models_openapi_docs(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == DEFAULT_MODEL
    assert health["queue"] == {"size": 0, "capacity": 3}
    assert {"batches", "requests", "mean_batch"} <= set(health["stats"])
    models = client.get("/models").json()
    by_name = {m["name"]: m for m in models["models"]}
    assert models["default"] == DEFAULT_MODEL
    assert (
        by_name[DEFAULT_MODEL]["process"] == "flow" and by_name[DEFAULT_MODEL]["default_steps"] == 4
    )
    assert by_name["tiny-ddim"]["samplers"] == ["ddim"]
    spec = client.get("/openapi.json").json()
    assert {"/generate", "/dance", "/jobs/{job_id}", "/health", "/models"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/generate" in docs.text and "cdn" not in docs.text.lower()
    assert client.get("/").status_code == 200


# ---- generation -------------------------------------------------------------------------
def test_generate_json_is_a_motion_and_seeded(client: TestClient) -> None:
    body = {"text": "a person walks forward", "seed": 5, **QUICK}
    first = client.post("/generate", json=body)
    assert first.status_code == 200, first.text
    data = first.json()
    assert data["fps"] == 20.0 and data["num_frames"] == 40 and data["num_joints"] == 22
    assert len(data["joints"]) == 22 and data["parents"][0] == -1
    positions = np.asarray(data["positions"])
    assert positions.shape == (40, 22, 3) and np.isfinite(positions).all()
    assert data["text"] == "a person walks forward" and data["seed"] == 5
    assert data["meta"]["steps"] == 2 and data["meta"]["checkpoint"] == DEFAULT_MODEL
    again = client.post("/generate", json=body).json()
    np.testing.assert_allclose(np.asarray(again["positions"]), positions, atol=2e-4)
    drawn = client.post("/generate", json={"text": "a person walks forward", **QUICK}).json()
    assert 0 <= drawn["seed"] < 2**31  # a drawn seed is reported, so it can be replayed


def test_a_length_said_in_the_prompt_is_kept_within_the_services_bound(
    client: TestClient,
) -> None:
    said = client.post("/generate", json={"text": "a person walks for 1.5 seconds", "steps": 2})
    assert said.status_code == 200, said.text
    assert said.json()["num_frames"] == 30
    assert said.json()["meta"]["length_from"] == "the prompt ('for 1.5 seconds')"
    long = client.post("/generate", json={"text": "a person walks for 1 minute", "steps": 2})
    assert long.status_code == 422 and "at most 30 s" in long.json()["error"]
    both = client.post("/generate", json={"text": "a person walks for 3 seconds", **QUICK})
    assert both.status_code == 422 and "leave out one of them" in both.json()["error"]


def test_generate_leaves_out_a_style_never_recorded_with_the_action(client: TestClient) -> None:
    body = {"text": "a person raises both hands happily", "seed": 5, **QUICK}
    made = client.post("/generate", json=body).json()["meta"]
    assert made["vocabulary"]["unseen_style"]["used"] == "a person raises both hands"
    assert "made from 'a person raises both hands'" in made["warning"]
    as_written = client.post("/generate", json={**body, "literal": True}).json()["meta"]
    assert "used" not in as_written["vocabulary"]["unseen_style"]
    assert client.post("/generate", json={**body, "literal": "yes"}).status_code == 422


@pytest.mark.parametrize("fmt", ["bvh", "motion", "npy"])
def test_generate_files(client: TestClient, fmt: str, tmp_path: Path) -> None:
    r = client.post("/generate", json={"text": "a person jumps", "seed": 1, "format": fmt, **QUICK})
    assert r.status_code == 200, r.text
    assert f"filename=motion.{fmt}" in r.headers["content-disposition"]
    path = tmp_path / f"m.{fmt}"
    path.write_bytes(r.content)
    motion = load(path)
    assert motion.num_frames == 40 and motion.positions.shape[1:] == (22, 3)


def test_ddim_model_by_name(client: TestClient) -> None:
    r = client.post(
        "/generate", json={"text": "a person bows", "model": "tiny-ddim", "seed": 2, **QUICK}
    )
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["checkpoint"] == "tiny-ddim" and r.json()["meta"]["sampler"] == "ddim"


def test_mp4_job_runs_to_done_and_serves_every_file(client: TestClient, tmp_path: Path) -> None:
    r = client.post(
        "/generate", json={"text": "a person waves", "format": "mp4", "seed": 3, **QUICK}
    )
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.json()["url"] == f"/jobs/{job_id}" == r.headers["location"]
    info = wait_job(client, job_id)
    assert info["status"] == "done", info
    assert info["request"]["seed"] == 3 and info["result_url"] == f"/jobs/{job_id}/result"
    assert set(info["files"]) == {"json", "bvh", "motion", "npy", "mp4"}
    video = client.get(info["result_url"])
    assert video.headers["content-type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    # asked first by download tools (405 before: a new user's trial)
    head = client.head(info["result_url"])
    assert head.status_code == 200 and head.headers["content-type"] == "video/mp4"
    assert head.content == b"" and int(head.headers["content-length"]) == len(video.content)
    motion = client.get(f"/jobs/{job_id}/result", params={"format": "json"}).json()
    assert motion["num_frames"] == 40 and motion["seed"] == 3
    # a video is drawn at most 60 times a second, the files keep the rate asked (1000 fps
    # drew 30,000 frames of a 30 s answer for minutes, holding up other jobs: a trial)
    r = client.post("/generate", json={"text": "a person waves", "format": "mp4", "fps": 240,
                                       "seed": 3, **QUICK})  # fmt: skip
    info = wait_job(client, r.json()["job_id"])
    import imageio_ffmpeg

    video = tmp_path / "v.mp4"
    video.write_bytes(client.get(info["result_url"]).content)
    assert imageio_ffmpeg.count_frames_and_secs(str(video))[0] == 120  # 2 s at 60 fps
    assert client.get(info["result_url"], params={"format": "json"}).json()["num_frames"] == 480


def test_generate_at_another_frame_rate_now_and_as_a_job(client: TestClient) -> None:
    now = client.post("/generate", json={"text": "a person waves", "fps": 30, "seed": 1, **QUICK})
    assert now.status_code == 200, now.text
    assert now.json()["fps"] == 30.0 and now.json()["num_frames"] == 60
    r = client.post("/generate", json={"text": "a person waves", "fps": 60, "async": True,
                                       "seed": 1, **QUICK})  # fmt: skip
    info = wait_job(client, r.json()["job_id"])
    assert info["status"] == "done", info
    assert client.get(info["result_url"]).json()["num_frames"] == 120
    bvh = client.get(info["result_url"], params={"format": "bvh"}).text
    assert "Frames: 120\nFrame Time: 0.0166666667" in bvh
    npy = np.load(io.BytesIO(client.get(info["result_url"], params={"format": "npy"}).content))
    assert npy.shape == (40, 22, 3)  # a .npy holds 20 fps
    # asked for as the answer, a .npy at another rate is refused (as the CLI does)
    r = client.post("/generate", json={"text": "a person waves", "fps": 60, "format": "npy"})
    assert r.status_code == 422 and "ask for format bvh or motion" in r.json()["error"]


def test_generate_a_loop_without_travel(client: TestClient) -> None:
    # the command line's --loop and --no-travel, for an engine's clip (the service had neither)
    r = client.post("/generate", json={"text": "a person walks", "seconds": 4.0, "steps": 2,
                                       "seed": 3, "loop": True, "no_travel": True})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    loop = body["meta"]["loop"]
    assert loop["closed"] and 2.0 <= loop["seconds"] < 4.0
    assert body["num_frames"] == round(loop["seconds"] * 20) + 1
    pelvis = np.asarray(body["positions"])[:, 0]
    np.testing.assert_allclose(pelvis[:, [0, 2]], 0.0, atol=1e-4)
    r = client.post("/generate", json={"text": "a person walks", "seconds": 0.5, "loop": True})
    assert r.status_code == 422 and "loop needs more than 1 s" in r.json()["error"]


def test_a_bvh_on_the_standard_skeleton(client: TestClient) -> None:
    # a game tool downloads every clip on one rig (each BVH had had its own bones)
    from typing import get_args

    from motiongen.io.bvh import SKELETONS, standard_offsets
    from motiongen.serve.schemas import BvhSkeleton

    assert get_args(BvhSkeleton) == SKELETONS  # the service offers what the writer takes

    heads = []
    for text in ("a person walks", "a person waves"):
        r = client.post("/generate", json={"text": text, "seconds": 2.0, "format": "bvh",
                                           "bvh_skeleton": "standard", **QUICK})  # fmt: skip
        assert r.status_code == 200, r.text
        heads.append([ln for ln in r.text.split("MOTION")[0].splitlines() if "OFFSET" in ln])
    assert heads[0][1:] == heads[1][1:]  # all but the root's
    hip = [float(v) for v in heads[0][1].split()[1:]]
    np.testing.assert_allclose(hip, standard_offsets()[1], atol=1e-5)
    r = client.post("/generate", json={"text": "a person walks", "bvh_skeleton": "tall"})
    assert r.status_code == 422 and "bvh_skeleton" in r.json()["error"]
    r = client.post("/generate", json={"text": "a person walks", "seconds": 2.0, "async": True,
                                       "bvh_skeleton": "standard", **QUICK})  # fmt: skip
    info = wait_job(client, r.json()["job_id"])
    bvh = client.get(info["result_url"], params={"format": "bvh"}).text
    assert [ln for ln in bvh.split("MOTION")[0].splitlines() if "OFFSET" in ln][1:] == heads[0][1:]


def test_async_json_job_has_no_mp4(client: TestClient) -> None:
    r = client.post("/generate", json={"text": "a person sits", "async": True, **QUICK})
    assert r.status_code == 202
    info = wait_job(client, r.json()["job_id"])
    assert info["status"] == "done" and "mp4" not in info["files"]
    missing = client.get(f"/jobs/{info['job_id']}/result", params={"format": "mp4"})
    assert_error(missing, 404, "mp4")
    assert client.get(info["result_url"]).json()["num_frames"] == 40


def test_dance_now_and_as_job(client: TestClient, song: Path) -> None:
    with song.open("rb") as f:
        r = client.post(
            "/dance",
            files={"audio": ("song.wav", f, "audio/wav")},
            data={"seconds": "2", "seed": "4"},
        )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["num_frames"] == 40 and data["text"] is None
    assert data["meta"]["music"] == "song.wav"  # the upload's name, not a server path
    assert "applied" in data["meta"]["beat_sync"]  # retimed onto the beats by default
    with song.open("rb") as f:
        r = client.post("/dance", files={"audio": ("song.wav", f, "audio/wav")},
                        data={"seconds": "2", "seed": "4", "beat_sync": "false"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "beat_sync" not in r.json()["meta"] and r.json()["num_frames"] == 40
    with song.open("rb") as f:
        r = client.post("/dance", files={"audio": ("song.wav", f, "audio/wav")},
                        data={"seconds": "2", "seed": "4", "steps": "2", "fps": "30"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["fps"] == 30.0 and r.json()["num_frames"] == 60
    with song.open("rb") as f:
        r = client.post(
            "/dance",
            files={"audio": ("song.wav", f, "audio/wav")},
            data={"seconds": "2", "format": "mp4", "steps": "2"},
        )
    assert r.status_code == 202, r.text
    info = wait_job(client, r.json()["job_id"])
    assert info["status"] == "done", info
    assert info["request"]["music_name"] == "song.wav" and "music" not in info["request"]
    assert client.get(info["files"]["mp4"]).content[4:8] == b"ftyp"


def test_dance_default_length_is_the_song(client: TestClient, song: Path) -> None:
    with song.open("rb") as f:
        r = client.post(
            "/dance", files={"audio": ("song.wav", f)}, data={"steps": "2", "music_offset": "1"}
        )
    assert r.status_code == 200, r.text
    assert r.json()["num_frames"] == 60  # 4 s song from 1 s


# ---- bad input: every class answers a JSON error that says what is wrong -------------
@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, ["no condition", "text"]),
        ({"text": None}, 400, ["no condition"]),
        ({"text": ""}, 422, ["text"]),
        ({"text": "\u0000\u0000"}, 422, ["letters"]),
        ({"text": "123 !!"}, 422, ["letters"]),
        ({"text": "a", "seconds": "6.5"}, 422, ["seconds", "number"]),
        ({"text": "a", "seconds": True}, 422, ["seconds"]),
        ({"text": "a", "seconds": 1e-9}, 422, ["seconds", "0.5"]),
        ({"text": "a", "async": "yes"}, 422, ["async", "boolean"]),
        ({"text": "a", "async": 0}, 422, ["async", "boolean"]),
        ({"text": "a", "steps": "4"}, 422, ["steps", "integer"]),
        ({"text": "   "}, 422, ["letters"]),
        ({"text": "x" * 1001}, 422, ["1000"]),
        ({"text": "a", "seconds": 0}, 422, ["seconds"]),
        ({"text": "a", "seconds": 31}, 422, ["seconds", "30"]),
        ({"text": "a", "seconds": "long"}, 422, ["seconds"]),
        ({"text": "a", "steps": 0}, 422, ["steps"]),
        ({"text": "a", "steps": 201}, 422, ["steps", "200"]),
        ({"text": "a person walks", "beat_sync": True}, 422, ["beat sync", "music"]),
        ({"text": "a", "beat_sync": "often"}, 422, ["beat_sync"]),
        ({"text": "a", "steps": 2.5}, 422, ["steps"]),
        ({"text": "a", "guidance": -1}, 422, ["guidance"]),
        ({"text": "a", "guidance": 21}, 422, ["guidance", "20"]),
        ({"text": "a", "seed": -1}, 422, ["seed"]),
        ({"text": "a", "seed": 2**31}, 422, ["seed"]),
        ({"text": "a", "sampler": "ddim"}, 422, ["ddim", "euler"]),
        ({"text": "a", "sampler": "rk4"}, 422, ["sampler"]),
        ({"text": "a", "model": "huge"}, 422, ["huge", "tiny-flow"]),
        ({"text": "a", "format": "gif"}, 422, ["format"]),
        ({"text": "a", "use_rag": True, "model": "tiny-ddim"}, 422, ["retrieval prior"]),
        ({"text": "a", "colour": "red"}, 422, ["colour"]),
        ({"text": "a", "fps": 0}, 422, ["fps"]),
        ({"text": "a", "fps": "30"}, 422, ["fps", "number"]),
        ({"text": "a", "fps": 5000}, 422, ["fps", "1000"]),
        ([1, 2], 400, ["JSON object"]),
    ],
)
def test_generate_rejects(client: TestClient, body, status: int, words: list[str]) -> None:
    assert_error(client.post("/generate", json=body), status, *words)


def test_field_errors_say_the_field_once_and_name_nan(client: TestClient) -> None:
    r = client.post("/generate", json={"text": "a", "guidance": -1})
    assert r.json()["error"] == "guidance: must be at least 0, got -1"  # the field's words
    r = client.post("/generate", json={"text": "", "seconds": 9999})
    assert r.json()["error"] == ("text: the prompt is empty; describe the motion in words, e.g. "
                                 "'a person walks forward'; seconds: must be at most 30, got 9999")  # fmt: skip
    nan = b'{"text": "a person walks", "seconds": NaN}'
    r = client.post("/generate", content=nan, headers={"content-type": "application/json"})
    assert_error(r, 422, "seconds: must be a finite number, got nan")


def test_unreadable_bodies(client: TestClient) -> None:
    r = client.post("/generate", content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 400, "JSON")
    assert_error(client.post("/generate"), 400, "body")


def test_not_found(client: TestClient) -> None:
    assert_error(client.get("/jobs/0123"), 404, "0123")
    assert_error(client.get("/jobs/0123/result"), 404, "0123")
    assert_error(client.get("/nowhere"), 404, "/nowhere")
    assert_error(client.delete("/generate"), 405, "DELETE")


def test_upload_limits_and_types(client: TestClient, tmp_path: Path) -> None:
    big = io.BytesIO(b"\0" * (20 * 2**20 + 1))
    assert_error(client.post("/dance", files={"audio": ("big.wav", big)}), 413, "20 MB")
    r = client.post("/dance", files={"audio": ("notes.txt", b"la la la", "text/plain")})
    assert_error(r, 415, "notes.txt", "WAV")
    assert_error(client.post("/dance", json={"audio": "song.wav"}), 415, "multipart")
    assert_error(client.post("/dance", files={"other": ("a.wav", b"x")}), 422, "audio")
    import soundfile as sf

    silent = tmp_path / "quiet.wav"
    sf.write(str(silent), np.zeros(22050, dtype=np.float32), 22050)
    r = client.post("/dance", files={"audio": ("quiet.wav", silent.read_bytes())})
    assert_error(r, 422, "quiet.wav", "silent")
    r = client.post("/dance", files={"audio": ("fake.mp3", b"this is not audio at all")})
    assert_error(r, 422, "fake.mp3", "cannot read")
    assert_error(client.post("/dance", files={"audio": ("e.wav", b"")}), 422, "empty")


def test_dance_rejects_lengths(client: TestClient, song: Path) -> None:
    data = song.read_bytes()
    r = client.post("/dance", files={"audio": ("song.wav", data)}, data={"seconds": "10"})
    assert_error(r, 422, "song.wav", "shorter")
    r = client.post("/dance", files={"audio": ("song.wav", data)}, data={"music_offset": "9"})
    assert_error(r, 422, "past the end")
    r = client.post("/dance", files={"audio": ("song.wav", data)}, data={"seconds": "99"})
    assert_error(r, 422, "seconds")
    # Uploads that were only checked leave nothing behind.
    assert list((Path(client.app.state.server.store.uploads_dir)).iterdir()) == []


# ---- batching and the bounded queue -----------------------------------------------------
def test_batched_requests_match_lone_generation_and_full_queue_is_503(
    client: TestClient,
) -> None:
    queue = client.app.state.server.queue
    prompts = ["a person walks forward", "a person jumps up", "someone waves the right hand"]
    seeds = [11, 22, 33]
    results: dict[int, dict] = {}

    def ask(i: int) -> None:
        body = {"text": prompts[i], "seed": seeds[i], **QUICK}
        results[i] = client.post("/generate", json=body).json()

    before = queue.stats()
    queue.pause()
    try:
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        wait_queue(client, 3)
        # The queue (capacity 3) is full: a request now is turned away, not queued.
        busy = client.post("/generate", json={"text": "one more", **QUICK})
        assert_error(busy, 503, "busy", "retry")
        assert int(busy.headers["retry-after"]) >= 1
        # Jobs are bounded the same way... one queued job is fine.
        assert (
            client.post("/generate", json={"text": "a job", "async": True, **QUICK}).status_code
            == 202
        )
    finally:
        queue.resume()
    for t in threads:
        t.join(60)
    after = queue.stats()
    # One model pass ran all three (the job may or may not have joined it).
    assert after["batches"] - before["batches"] <= 2
    assert all(results[i]["meta"]["batched_with"] >= 3 for i in range(3))
    pipe = Pipeline.from_pretrained()
    for i in range(3):
        alone = pipe.generate(prompts[i], seed=seeds[i], **QUICK)[0]
        np.testing.assert_allclose(np.asarray(results[i]["positions"]), alone.positions, atol=5e-4)


def test_sync_request_past_the_timeout_is_504_and_dropped(client: TestClient) -> None:
    server = client.app.state.server
    queue, settings = server.queue, server.settings
    queue.pause()
    old = settings.request_timeout
    settings.request_timeout = 0.3
    try:
        r = client.post("/generate", json={"text": "a person waits", **QUICK})
        assert_error(r, 504, "async", "poll")
    finally:
        settings.request_timeout = old
        queue.resume()
    before = queue.stats()["requests"]
    ok = client.post("/generate", json={"text": "a person walks", **QUICK})
    assert ok.status_code == 200
    # the timed-out request was dropped, not run: only the new one reached the model
    assert queue.stats()["requests"] == before + 1


def test_job_result_409_while_queued(client: TestClient) -> None:
    queue = client.app.state.server.queue
    queue.pause()
    try:
        r = client.post("/generate", json={"text": "a person runs", "async": True, **QUICK})
        job_id = r.json()["job_id"]
        assert_error(client.get(f"/jobs/{job_id}/result"), 409, "poll")
        assert client.get(f"/jobs/{job_id}").json()["status"] in ("queued", "running")
    finally:
        queue.resume()
    assert wait_job(client, job_id)["status"] == "done"


# ---- durability: a new server on the same store ------------------------------------------
def test_restart_keeps_results_and_reruns_or_fails_unfinished_jobs(
    tmp_path: Path, song: Path
) -> None:
    settings = {"store": tmp_path, "queue_size": 4, "max_batch": 4}
    with TestClient(create_app(ServeSettings(**settings))) as first:
        r = first.post(
            "/generate", json={"text": "a person kicks", "seed": 8, "format": "mp4", **QUICK}
        )
        done_id = r.json()["job_id"]
        assert wait_job(first, done_id)["status"] == "done"
        video = first.get(f"/jobs/{done_id}/result").content
    # What a server killed mid-job leaves behind: a job 'running' for a dead instance, a
    # queued one, and a dance job whose uploaded audio has since been deleted.
    store = JobStore(tmp_path)
    params = {"text": "a person turns", "seconds": 2.0, "steps": 2, "sampler": None,
              "guidance": None, "seed": 9, "model": "tiny-flow", "format": "json"}  # fmt: skip
    running = store.create("generate", params)
    assert store.claim("dead-server", 1)[0].id == running.id
    queued = store.create("generate", {**params, "seed": 10})
    gone = store.create(
        "dance", {**params, "text": None, "music": "inputs/x/song.wav", "music_name": "song.wav"}
    )
    with TestClient(create_app(ServeSettings(**settings))) as second:
        assert second.get(f"/jobs/{done_id}/result").content == video
        assert second.get("/health").json()["stats"]["recovered"] == {"requeued": 1, "failed": 1}
        for job in (running, queued):
            info = wait_job(second, job.id)
            assert info["status"] == "done", info
        assert wait_job(second, running.id)["attempts"] == 2
        failed = second.get(f"/jobs/{gone.id}").json()
        assert failed["status"] == "failed" and "song.wav" in failed["error"]
        assert "upload it again" in failed["error"]
        assert_error(second.get(f"/jobs/{gone.id}/result"), 409, "failed")


def test_a_job_that_keeps_killing_the_server_is_failed(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    params = {"text": "a person", "seconds": 2.0, "seed": 1, "model": "tiny-flow", "format": "json"}
    job = store.create("generate", params)
    for n in range(3):
        assert store.claim(f"dead-{n}", 1)  # claimed, then that server died
        store.recover(f"next-{n}", max_attempts=3, inputs_missing=lambda j: None)
    info = store.get(job.id)
    assert info.status == "failed" and "3 times" in info.error


def test_what_a_dead_server_half_wrote_is_swept_when_its_job_is_recovered(tmp_path: Path) -> None:
    # a render's scratch folder and a temporary file stayed through restarts (a trial)
    store = JobStore(tmp_path)
    params = {"text": "a person", "seconds": 2.0, "seed": 1, "model": "tiny-flow", "format": "mp4"}
    job = store.create("generate", params)
    assert store.claim("dead", 1)
    half = store.result_dir(job.id) / ".render-x"
    half.mkdir(parents=True)
    (half / "video.mp4").write_bytes(b"x" * 100)
    (store.result_dir(job.id) / ".tmp-1-motion.mp4").write_bytes(b"")
    assert store.recover("next", max_attempts=3, inputs_missing=lambda j: None)[0] == [job.id]
    assert not store.result_dir(job.id).exists()


def test_a_render_stops_when_it_is_cancelled(tmp_path: Path) -> None:
    # a cancelled job's ffmpeg had encoded on for 15 s after the job answered "cancelled"
    from motiongen.data.synthetic import synth_motion
    from motiongen.errors import Cancelled
    from motiongen.io.render import CANCEL_EVERY
    from motiongen.serve.results import write_file

    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 2

    motion = synth_motion("walk", seconds=3.0)
    with pytest.raises(Cancelled):
        write_file(motion, "mp4", tmp_path, cancel=cancel)
    assert len(asked) == 3 and not list(tmp_path.iterdir())  # no file, no scratch left
    assert motion.num_frames > 3 * CANCEL_EVERY


def test_finished_jobs_drop_their_inputs_and_stale_uploads_are_swept(tmp_path: Path) -> None:
    import os

    store = JobStore(tmp_path / "store")
    for job_id, end in (("a" * 32, "finish"), ("b" * 32, "fail")):
        store.create("dance", {"format": "json"}, job_id=job_id)
        folder = store.input_dir(job_id)
        folder.mkdir(parents=True)
        (folder / "song.wav").write_bytes(b"x")
        if end == "finish":
            store.finish(job_id, {"json": "motion.json"})
        else:
            store.fail(job_id, "broken")
        assert not folder.exists()
    old, new = store.uploads_dir / "old", store.uploads_dir / "new"
    old.mkdir()
    new.mkdir()
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.sweep_uploads() == 1
    assert not old.exists() and new.exists()  # a request in flight elsewhere keeps its upload


def test_use_rag_answers_with_the_retrieved_phrases(tmp_path, monkeypatch) -> None:
    from tests.serve_helpers import small_index

    monkeypatch.setenv("MOTIONGEN_INDEX", str(small_index(tmp_path)))
    with TestClient(create_app(ServeSettings(store=tmp_path / "store"))) as c:
        r = c.post("/generate", json={"text": "a person walks", "use_rag": True, "seconds": 2,
                                      "seed": 1})  # fmt: skip
        assert r.status_code == 200, r.text
        meta = r.json()["meta"]
        assert meta["checkpoint"] == DEFAULT_MODEL  # the default takes a retrieval prior
        assert meta["retrieved"] and {"clip", "text", "weight"} <= set(meta["retrieved"][0])
        plain = c.post("/generate", json={"text": "a person walks", "seconds": 2, "seed": 1,
                                          "model": "tiny-rag"}).json()  # fmt: skip
        assert "retrieved" not in plain["meta"]
        models = {m["name"]: m for m in c.get("/models").json()["models"]}
        assert models["tiny-rag"]["retrieval"] and models[DEFAULT_MODEL]["retrieval"]
        assert not models["tiny-ddim"]["retrieval"]
        # No length asked for: the retrieved phrases' length, stored with the job so that a
        # re-run makes the same one.
        r = c.post("/generate", json={"text": "a person walks", "async": True, "steps": 1})
        info = wait_job(c, r.json()["job_id"])
        motion = c.get(info["result_url"]).json()
        assert motion["meta"]["length_from"] == "retrieved phrases"
        assert motion["num_frames"] == round(info["request"]["seconds"] * 20)
    monkeypatch.setenv("MOTIONGEN_INDEX", str(tmp_path / "no-index"))
    with TestClient(create_app(ServeSettings(store=tmp_path / "store2"))) as c:
        r = c.post("/generate", json={"text": "a person walks", "use_rag": True, "seconds": 2})
        assert_error(r, 503, "motiongen index build")


def test_integrator_mistakes_get_short_answers_that_say_the_fix(client: TestClient) -> None:
    import json as _json

    for ctype in ("text/plain", "application/x-www-form-urlencoded"):  # the second: curl -d
        r = client.post("/generate", content=_json.dumps({"text": "a person walks"}),
                        headers={"content-type": ctype})  # fmt: skip
        assert r.status_code == 400 and "Content-Type: application/json" in r.json()["error"]
    flat = [[[0.0, 0.0]] * 22] * 80  # 2-D joints in every frame: one problem, one line
    r = client.post("/predict", json={"motion": {"fps": 20, "positions": flat}, "seconds": 6})
    assert r.status_code == 422 and len(r.text) < 400
    assert "positions[i][i]" in r.json()["error"] and "[frames][22][3]" in r.json()["error"]
    r = client.post("/predict", json={"motion": {"fps": 20}, "seconds": 6})
    assert "a /generate JSON answer fits" in r.json()["error"]
    assert "/predict" in client.get("/jobs/nosuchjob").json()["error"]


def test_a_file_answer_carries_the_seed_and_warning_in_headers(client: TestClient) -> None:
    r = client.post("/generate", json={"text": "a person jumps", "format": "bvh", "seconds": 2,
                                       "steps": 2})  # fmt: skip
    assert r.status_code == 200 and r.text.startswith("HIERARCHY")
    assert int(r.headers["X-Motiongen-Seed"]) >= 0
    assert "far from every action" in r.headers["X-Motiongen-Warning"]


def test_a_json_body_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    import json as _json

    app = create_app(ServeSettings(store=tmp_path / "store", max_json_bytes=100_000))
    with TestClient(app) as small:
        padded = _json.dumps({"text": "a person walks", "seconds": 2}) + " " * 200_000
        r = small.post("/generate", content=padded, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "larger than the limit" in r.json()["error"]

        def chunks():  # no declared length: counted as it arrives
            yield b'{"text": "a person walks", "seconds": 2'
            for _ in range(5):
                yield b" " * 50_000
            yield b"}"

        r = small.post("/generate", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_cross_origin_pages_are_allowed_only_when_named(tmp_path: Path) -> None:
    game = "https://game.example.com"
    preflight = {"Origin": game, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}  # fmt: skip
    app = create_app(ServeSettings(store=tmp_path / "a", cors_origins=[game]))
    with TestClient(app) as http:
        r = http.options("/generate", headers=preflight)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == game
        r = http.get("/health", headers={"Origin": game})
        assert r.headers["access-control-allow-origin"] == game
        # a page may cancel its jobs (DELETE was refused: a new user's trial)
        cancel = {**preflight, "Access-Control-Request-Method": "DELETE"}
        assert http.options("/jobs/x", headers=cancel).status_code == 200
    with TestClient(create_app(ServeSettings(store=tmp_path / "b"))) as http:
        assert (
            "access-control-allow-origin"
            not in http.get("/health", headers={"Origin": game}).headers
        )
        r = http.options("/generate", headers=preflight)  # said why, not just "not allowed"
        assert r.status_code == 405 and "start the server with --cors-origin" in r.json()["error"]
    from motiongen.errors import InputError

    with pytest.raises(InputError, match="--cors-origin"):
        ServeSettings(store=tmp_path / "c", cors_origins=["game.example.com"])
    with pytest.raises(InputError, match="--threads"):
        ServeSettings(store=tmp_path / "d", threads=-1)


def test_dance_form_fields_are_read_as_strictly_as_json(client: TestClient, song: Path) -> None:
    def send(**fields: str):
        files = {"audio": ("song.wav", song.read_bytes(), "audio/wav")}
        return client.post("/dance", files=files, data=fields)

    r = send(second="4")
    assert r.status_code == 422 and "unknown field(s) 'second'" in r.json()["error"]
    r = send(**{"async": "yes"})
    assert r.status_code == 422 and "async must be true or false" in r.json()["error"]
    r = send(seconds="NaN")
    assert r.status_code == 422 and "must be a finite number" in r.json()["error"]
    # a field sent twice is not read as its last value
    files = [("audio", ("song.wav", song.read_bytes(), "audio/wav"))]
    r = client.post("/dance", files=files, data={"seconds": ["2", "7"]})
    assert r.status_code == 422 and "'seconds' sent more than once" in r.json()["error"]
    r = client.post("/dance", files=files * 2)
    assert r.status_code == 422 and "'audio' sent more than once" in r.json()["error"]


def test_a_running_job_that_is_cancelled_stops_its_work(tmp_path: Path) -> None:
    settings = ServeSettings(store=tmp_path, batch_wait=0.0, job_poll=0.05)
    with TestClient(create_app(settings)) as http:
        heavy = {"text": "a person dances", "seconds": 30, "steps": 200, "sampler": "heun",
                 "seed": 0, "async": True}  # fmt: skip
        job = http.post("/generate", json=heavy).json()["job_id"]
        deadline = time.monotonic() + 60
        while http.get(f"/jobs/{job}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # inside its network passes (minutes of them)
        assert http.delete(f"/jobs/{job}").json()["status"] == "cancelled"
        deadline = time.monotonic() + 20
        while http.get("/health").json()["stats"]["cancelled_batches"] < 1:
            assert time.monotonic() < deadline, "the cancelled job's work went on"
            time.sleep(0.05)
        assert http.get(f"/jobs/{job}").json()["status"] == "cancelled"
        # the model is free again at once
        r = http.post("/generate", json={"text": "a person bows", "seconds": 1, "steps": 2})
        assert r.status_code == 200


def test_jobs_can_be_cancelled_and_stay_cancelled(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    params = {"text": "a person turns", "seconds": 2.0, "steps": 2, "sampler": None,
              "guidance": None, "seed": 9, "model": "tiny-flow", "format": "json"}  # fmt: skip
    queued = store.create("generate", params)
    running = store.create("generate", {**params, "seed": 10})
    assert store.claim("dead-server", 5)[-1].id == running.id
    assert store.cancel(queued.id).status == store.cancel(running.id).status == "cancelled"
    assert store.finish(running.id, {"json": "x.json"}) is False  # its result is not kept
    assert store.get(running.id).status == "cancelled" and store.claim("me", 5) == []
    with TestClient(create_app(ServeSettings(store=tmp_path, batch_wait=0.0))) as http:
        assert http.get("/health").json()["stats"]["recovered"] == {"requeued": 0, "failed": 0}
        info = http.delete(f"/jobs/{queued.id}")  # twice is the same as once
        assert info.status_code == 200 and info.json()["status"] == "cancelled"
        assert_error(http.get(f"/jobs/{running.id}/result"), 409, "cancelled")
        r = http.post("/generate", json={"text": "a person bows", "seconds": 2, "steps": 2,
                                         "async": True})  # fmt: skip
        done = r.json()["job_id"]
        assert wait_job(http, done)["status"] == "done"
        assert_error(http.delete(f"/jobs/{done}"), 409, "already done")
        assert_error(http.delete("/jobs/nosuchjob"), 404, "no job")
