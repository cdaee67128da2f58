"""The service under careless and greedy clients: compute budgets, heavy requests run as jobs,
a per-client share of the queue, and work that stops when nobody waits for it."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from motiongen.errors import Cancelled  # noqa: E402
from motiongen.serve import ServeSettings, create_app  # noqa: E402
from motiongen.serve.batcher import ClientBusyError, ModelQueue  # noqa: E402
from motiongen.serve.models import ModelRegistry  # noqa: E402
from tests.serve_helpers import assert_error, wait_job  # noqa: E402

QUICK = {"seconds": 2.0, "steps": 2}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("store")
    # 2 s at 2 Euler steps with text guidance costs 40 frames x 2 x 2 = 160 frame-evaluations;
    # 30 s at 10 steps with guidance costs 600 x 10 x 2 = 12,000: over the job budget.
    settings = ServeSettings(store=store, queue_size=8, client_share=1, sync_budget=500,
                             job_budget=5000, batch_wait=0.0)  # fmt: skip
    return create_app(settings)


def as_client(app, host: str) -> TestClient:
    return TestClient(app, client=(host, 50000))


def test_heavy_request_runs_as_a_job_and_too_heavy_is_refused(app) -> None:
    with as_client(app, "10.0.0.1") as client:
        light = client.post("/generate", json={"text": "a person waves", **QUICK})
        assert light.status_code == 200
        heavy = client.post(
            "/generate", json={"text": "a person waves", "seed": 1, "steps": 4, "guidance": 2.5}
        )  # 130 x 4 x 2 = 1,040
        assert heavy.status_code == 202, heavy.text
        body = heavy.json()
        assert "job" in body["note"] and body["url"].startswith("/jobs/")
        assert wait_job(client, body["url"])["status"] == "done"
        refused = client.post(
            "/generate",
            json={"text": "a person waves", "seconds": 30, "steps": 10, "guidance": 2.5},
        )
        assert_error(refused, 422, "budget", "fewer steps")
        health = client.get("/health").json()["stats"]
        assert health["budgets"] == {"sync": 500, "job": 5000}


def test_one_client_cannot_fill_the_queue(app) -> None:
    queue = app.state.server.queue
    with as_client(app, "10.0.0.2") as greedy, as_client(app, "10.0.0.3") as other:
        answers: dict[str, int] = {}

        def ask(client: TestClient, name: str) -> None:
            answers[name] = client.post(
                "/generate", json={"text": "a person walks", **QUICK}
            ).status_code

        queue.pause()
        try:
            first = threading.Thread(target=ask, args=(greedy, "first"))
            first.start()
            deadline = time.monotonic() + 30
            while queue.size() < 1:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            # the greedy client's share (1) is used up; another client still gets in
            again = greedy.post("/generate", json={"text": "a person walks", **QUICK})
            assert_error(again, 429, "share", "retry")
            assert int(again.headers["retry-after"]) >= 1
            second = threading.Thread(target=ask, args=(other, "other"))
            second.start()
            while queue.size() < 2:
                assert time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            queue.resume()
        first.join(60)
        second.join(60)
        assert answers == {"first": 200, "other": 200}


def test_jobs_have_a_client_share_too(app) -> None:
    runner = app.state.server.runner
    runner.stop()  # jobs stay queued while the share is tested
    try:
        with as_client(app, "10.0.0.4") as client:
            ok = client.post("/generate", json={"text": "a person bows", "async": True, **QUICK})
            assert ok.status_code == 202
            again = client.post("/generate", json={"text": "a person bows", "async": True, **QUICK})
            assert_error(again, 429, "share")
    finally:
        runner.start()


def test_abandoned_work_stops_between_network_evaluations() -> None:
    models = ModelRegistry("tiny-flow")
    pipe = models.get("tiny-flow")
    calls = {"n": 0}
    forward = pipe.model.forward

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003
        calls["n"] += 1
        return forward(*args, **kwargs)

    pipe.model.forward = counted  # type: ignore[method-assign]
    queue = ModelQueue(models, capacity=4, max_batch=2, client_share=4)
    queue.start()
    try:
        heavy = pipe.check_request(
            "a person dances", seconds=30.0, steps=200, sampler="heun", seed=0
        )
        ticket = queue.submit("tiny-flow", heavy, client="a")
        deadline = time.monotonic() + 60
        while calls["n"] < 3:  # running
            assert time.monotonic() < deadline
            time.sleep(0.005)
        # before any batch has finished, Retry-After is at least what the running one took
        # so far (it said 1 s while queued work waited 4-8 s)
        time.sleep(1.2)
        assert queue.retry_after() >= 2
        ticket.abandon()
        with pytest.raises(Cancelled):
            ticket.future.result(timeout=60)
        full = 4 * 200 * 2  # windows x steps x evaluations per Heun step (guidance is batched)
        assert calls["n"] < full / 4
        assert queue.stats()["cancelled_batches"] == 1
        # the queue goes on: the next request is answered normally
        light = pipe.check_request("a person waves", seconds=1.0, steps=2, seed=1)
        assert (
            queue.submit("tiny-flow", light, client="b").future.result(timeout=60).num_frames == 20
        )
    finally:
        queue.stop()
        pipe.model.forward = forward  # type: ignore[method-assign]


def test_a_waiting_request_not_started_is_skipped_when_abandoned() -> None:
    models = ModelRegistry("tiny-flow")
    pipe = models.get("tiny-flow")
    queue = ModelQueue(models, capacity=4, max_batch=1, client_share=4, paused=True)
    queue.start()
    try:
        req = pipe.check_request("a person waves", seconds=1.0, steps=2, seed=1)
        ticket = queue.submit("tiny-flow", req, client="a")
        ticket.abandon()
        queue.resume()
        assert ticket.future.cancelled()
        with pytest.raises(ClientBusyError):
            queue.client_share = 1
            queue.pause()
            queue.submit("tiny-flow", req, client="c")
            queue.submit("tiny-flow", req, client="c")
    finally:
        queue.resume()
        queue.stop()
