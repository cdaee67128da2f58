"""schemathesis against /openapi.json, in-process: generated valid and invalid requests for
every operation; none may get a 5xx answer."""

from __future__ import annotations

import shutil
import tempfile

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from motiongen.serve import ServeSettings, create_app  # noqa: E402

# A large queue: a 503 is correct behaviour under load, but here every request must be judged
# on its content alone.
STORE = tempfile.mkdtemp(prefix="motiongen-schema-")
app = create_app(ServeSettings(store=STORE, queue_size=1000))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def running_server():
    """The app's lifespan (model and job threads) for the whole module."""
    from fastapi.testclient import TestClient

    with TestClient(app):
        yield
    shutil.rmtree(STORE, ignore_errors=True)


CHEAP = {"seconds": 1.0, "steps": 2}


def cheapen(case) -> None:  # noqa: ANN001
    """Valid lengths and step counts are clamped so a valid request takes a fraction of a
    second; invalid values are left as generated, so validation is still fuzzed."""
    if case.path != "/generate" or not isinstance(case.body, dict):
        return
    for key, cap in CHEAP.items():
        value = case.body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 200:
            case.body[key] = min(value, cap)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case) -> None:  # noqa: ANN001
    cheapen(case)
    response = case.call_and_validate(checks=[not_a_server_error])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error", "status"} and body["status"] == response.status_code
