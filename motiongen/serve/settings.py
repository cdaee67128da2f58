"""What one server runs with; passed to uvicorn workers through one environment variable."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from motiongen.errors import InputError
from motiongen.paths import DEFAULT_MODEL, cache_dir

SETTINGS_ENV = "MOTIONGEN_SERVE_SETTINGS"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# A JSON request: every valid one fits (the largest, 16 keyframes of 3,600 frames with 66
# numbers of ~20 characters each, is ~76 MB); a bigger body is refused before it is parsed.
MAX_JSON_BYTES = 96 * 1024 * 1024
MAX_BATCH_LIMIT = 64
MAX_QUEUE_LIMIT = 10_000


def default_store() -> Path:
    return cache_dir() / "serve"


@dataclass
class ServeSettings:
    """store: folder of the job database (jobs.sqlite3) and result files.
    queue_size: pending model requests (and, separately, queued jobs) before 503.
    max_batch: requests run as one batched model pass.
    batch_wait: seconds the model thread waits for more compatible requests before a pass.
    instance: one id per server start, shared by its workers; a job left running by
        another instance belongs to a server that died and is re-queued at start-up.
    """

    store: Path = field(default_factory=default_store)
    queue_size: int = 32
    max_batch: int = 8
    batch_wait: float = 0.01
    model: str = DEFAULT_MODEL
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_json_bytes: int = MAX_JSON_BYTES
    max_attempts: int = 3
    job_poll: float = 0.5
    request_timeout: float = 120.0  # s a synchronous request may wait for the model (then 504)
    # Compute budgets in network frame-evaluations (Pipeline.request_cost; ~16 us each for the
    # tiny model here): above sync_budget a request runs as a job (202), above job_budget it
    # is refused (422). 100k is about 1.6 s of model time. The default job budget admits
    # every request the schema allows (30 s at 200 Heun steps with guidance: 576k); an
    # operator lowers it to refuse the heaviest.
    sync_budget: int = 100_000
    job_budget: int = 600_000
    # Requests (and, separately, jobs) one client may have waiting; 0 = a quarter of the
    # queue, so one client's flood leaves room for others.
    client_share: int = 0
    # Hosts ("host" or "host:port") POST /generate may fetch an audio_url from; empty = the
    # server fetches nothing (serve/fetch.py says why). fetch_timeout bounds one download.
    audio_hosts: list[str] = field(default_factory=list)
    fetch_timeout: float = 15.0
    # Retrieval (use_rag): the motion index folder (None: generation.rag's default) and the
    # reranker (a folder, or None for dense order).
    index: str | None = None
    reranker: str | None = None
    # Web origins ("https://game.example.com") whose pages may call the API from a browser
    # (CORS); empty = only the server's own page. "*" allows any origin.
    cors_origins: list[str] = field(default_factory=list)
    # torch CPU threads per worker process; 0 = torch's choice (all cores), which oversubscribes
    # the machine when several workers each take every core.
    threads: int = 0

    def __post_init__(self) -> None:
        self.store = Path(self.store).expanduser()
        for origin in self.cors_origins:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise InputError(
                    f"--cors-origin must be * or start with http:// or https://, got {origin!r}"
                )
        if not 1 <= int(self.queue_size) <= MAX_QUEUE_LIMIT:
            raise InputError(
                f"--queue-size must be between 1 and {MAX_QUEUE_LIMIT}, got {self.queue_size}"
            )
        if not 1 <= int(self.max_batch) <= MAX_BATCH_LIMIT:
            raise InputError(
                f"--max-batch must be between 1 and {MAX_BATCH_LIMIT}, got {self.max_batch}"
            )
        if not 0 <= float(self.batch_wait) <= 1:
            raise InputError(f"batch wait must be 0..1 s, got {self.batch_wait}")
        if not 0 <= int(self.client_share) <= MAX_QUEUE_LIMIT:
            raise InputError(
                f"--client-share must be 0..{MAX_QUEUE_LIMIT}, got {self.client_share}"
            )
        if not 1 <= int(self.sync_budget) <= int(self.job_budget):
            raise InputError(
                f"budgets must satisfy 1 <= sync budget <= job budget, got {self.sync_budget} "
                f"and {self.job_budget}"
            )
        if not 0 <= int(self.threads) <= 256:
            raise InputError(f"--threads must be 0 (torch's choice) .. 256, got {self.threads}")
        if not 0 < float(self.request_timeout) <= 3600:
            raise InputError(
                f"--request-timeout must be in (0, 3600] s, got {self.request_timeout}"
            )

        from motiongen.serve.fetch import allowed_entry

        self.audio_hosts = [str(h) for h in self.audio_hosts]
        for entry in self.audio_hosts:
            try:
                allowed_entry(entry)
            except ValueError as exc:
                raise InputError(f"--allow-audio-host: {exc}") from None
        if not 0 < float(self.fetch_timeout) <= 300:
            raise InputError(f"--fetch-timeout must be in (0, 300] s, got {self.fetch_timeout}")

    def to_env(self) -> str:
        data = asdict(self)
        data["store"] = str(self.store)
        return json.dumps(data)

    @classmethod
    def from_env(cls) -> ServeSettings:
        raw = os.environ.get(SETTINGS_ENV)
        if not raw:
            return cls()
        return cls(**json.loads(raw))
