"""A real ``motiongen serve`` process on 127.0.0.1 driven by the Client; killed with SIGKILL
mid-job and restarted on the same store; and job claims from several processes at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
from motiongen.client import Client, ServerUnavailableError  # noqa: E402
from motiongen.serve.jobs import JobStore  # noqa: E402
from tests.serve_helpers import free_port, write_song  # noqa: E402

pytestmark = pytest.mark.slow


def start_server(
    store: Path, port: int, log: Path, workers: int = 1, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    # Every request here comes from one address, so that client may use the whole queue.
    cmd = [
        sys.executable, "-m", "motiongen.cli", "serve", "--host", "127.0.0.1",
        "--port", str(port), "--store", str(store), "--queue-size", "8", "--max-batch", "4",
        "--log-level", "warning", "--workers", str(workers), "--client-share", "8", *extra,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
    client = Client(f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + 180
    while True:
        try:
            client.health()
            return proc
        except ServerUnavailableError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def test_real_server_survives_sigkill_mid_job(tmp_path: Path) -> None:
    store, log = tmp_path / "store", tmp_path / "server.log"
    port = free_port()
    server = start_server(store, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", timeout=60)
        health = client.health()
        assert health["status"] == "ok" and health["stats"]["pid"] == server.pid
        from motiongen.serve.models import shipped_model_names

        assert len(client.models()["models"]) == len(shipped_model_names())
        # A second server on the same store would re-run this one's jobs: it is refused.
        second = subprocess.run(
            [sys.executable, "-m", "motiongen.cli", "serve", "--port", str(free_port()),
             "--store", str(store)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert "in use by another motiongen serve" in second.stderr
        assert f"pid {server.pid}" in second.stderr
        motion = client.generate("a person walks forward", seconds=2, steps=2, seed=1)
        assert motion.num_frames == 40
        song = write_song(tmp_path / "song.wav", seconds=3)
        assert client.dance(song, seconds=2, steps=2, seed=1).num_frames == 40
        finished = client.generate_job("a person waves", seconds=2, steps=2, seed=2)
        assert client.wait(finished, timeout=60)["status"] == "done"
        video = client.download(finished, "mp4", tmp_path / "before.mp4").read_bytes()
        # A long render, killed as soon as it runs: the kill lands mid-job.
        unfinished = client.generate_job("a person dances", seconds=20, steps=4, seed=3)
        deadline = time.monotonic() + 60
        while client.job(unfinished)["status"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        assert JobStore(store).get(unfinished).status == "running"  # what the dead server left
    finally:
        if server.poll() is None:
            server.kill()

    server = start_server(store, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", timeout=60)
        assert client.health()["stats"]["recovered"] == {"requeued": 1, "failed": 0}
        assert client.download(finished, "mp4", tmp_path / "after.mp4").read_bytes() == video
        info = client.wait(unfinished, timeout=120)
        assert info["status"] == "done" and info["attempts"] == 2
        assert client.job_motion(unfinished).num_frames == 400
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


CLAIMER = textwrap.dedent(
    """
    import sys, time
    from motiongen.serve.jobs import JobStore
    store, name = JobStore(sys.argv[1]), sys.argv[2]
    mine = []
    while True:
        jobs = store.claim(name, 2)
        if not jobs:
            break
        mine += [j.id for j in jobs]
        time.sleep(0.001)
    print(" ".join(mine))
    """
)


def test_processes_never_claim_the_same_job(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    ids = {store.create("generate", {"n": i}).id for i in range(120)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(tmp_path), f"worker-{k}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    claimed = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    flat = [job for part in claimed for job in part]
    assert len(flat) == len(set(flat)) == len(ids) and set(flat) == ids
    assert store.counts()["running"] == 120


def test_port_in_use_is_one_clear_error_before_models_load(tmp_path, monkeypatch, capsys) -> None:
    import socket

    from tests.cli_helpers import error_line, run

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["serve", "--port", port, "--store", tmp_path / "store"]
        code, _, err = run(args, monkeypatch, capsys)
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in error_line(err)
    assert "choose another --port" in err
    assert not (tmp_path / "store").exists()  # nothing was created or loaded


def test_two_workers_share_the_load_and_the_job_store(tmp_path: Path) -> None:
    """--workers 2: uvicorn spawns two processes, each with its models, queue and job thread."""
    from concurrent.futures import ThreadPoolExecutor

    port = free_port()
    server = start_server(tmp_path / "store", port, tmp_path / "server.log", workers=2)
    try:
        client = Client(f"http://127.0.0.1:{port}", timeout=120)
        with ThreadPoolExecutor(6) as pool:
            motions = list(
                pool.map(
                    lambda i: client.generate(
                        f"a person walks, take {i}", seconds=1, steps=1, seed=i
                    ),
                    range(6),
                )
            )
            jobs = [client.generate_job("a person bows", format="json", seconds=1, steps=1, seed=i)
                    for i in range(6)]  # fmt: skip
            infos = list(pool.map(lambda j: client.wait(j, timeout=120), jobs))
        assert [m.num_frames for m in motions] == [20] * 6
        assert all(info["status"] == "done" and info["attempts"] == 1 for info in infos)
        pids = {client.health()["stats"]["pid"] for _ in range(30)}
        assert server.pid not in pids  # the answers come from the spawned workers
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_abandoned_heavy_requests_stop_and_others_are_answered(tmp_path: Path) -> None:
    """Clients that send heavy synchronous requests and hang up do not keep the model busy:
    the server notices each disconnect and stops the work between network evaluations."""
    import threading

    from benchmarks.load import HEAVY, abandon_heavy

    port = free_port()
    # Budgets raised so the heavy requests run synchronously (by default they become jobs).
    extra = ("--sync-budget", "1000000", "--job-budget", "1000000")
    server = start_server(tmp_path / "store", port, tmp_path / "server.log", extra=extra)
    try:
        url = f"http://127.0.0.1:{port}"
        client = Client(url, timeout=120)
        # Warmed up first: the first prompt loads the motion index and the labels' wordings
        # (seconds), and heavy requests abandoned before any reached the model were all
        # skipped, none cancelled (the assertion below failed in 1 of 4 runs).
        client.generate(HEAVY["text"], seconds=1, steps=2, seed=0)
        before = client.health()["stats"]
        threads = [threading.Thread(target=abandon_heavy, args=(url, HEAVY, 1.5)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        motion = client.generate("a person waves", seconds=1, steps=2, seed=0)
        assert motion.num_frames == 20
        deadline = time.monotonic() + 60
        while True:
            after = client.health()["stats"]
            if after["abandoned"] - before["abandoned"] == 4:
                break
            assert time.monotonic() < deadline, after
            time.sleep(0.1)
        # every heavy request was stopped: skipped while waiting or cancelled while running
        assert after["cancelled_batches"] - before["cancelled_batches"] >= 1
        assert after["requests"] - before["requests"] <= 5
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
