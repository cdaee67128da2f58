"""``motiongen serve``: the REST service and web page (``motiongen.serve``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from motiongen.errors import InputError
from motiongen.paths import DEFAULT_MODEL

err = Console(stderr=True)


def warm_up_librosa() -> None:
    """Compile librosa's numba functions once in this process, before workers start: several
    processes compiling the same gufunc into numba's cache at once can crash (numba#10128)."""
    import librosa
    import numpy as np

    noise = np.random.default_rng(0).standard_normal(22050 * 3).astype(np.float32) * 0.1
    librosa.beat.beat_track(y=noise, sr=22050)
    librosa.onset.onset_strength(y=noise, sr=22050)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each loads the models and batches).")
    ] = 1,
    store: Annotated[
        Path | None,
        typer.Option(help="Folder of the job database and results (default <cache>/serve)."),
    ] = None,
    queue_size: Annotated[
        int, typer.Option(help="Waiting requests (and queued jobs) before answering 503.")
    ] = 32,
    max_batch: Annotated[
        int, typer.Option(help="Compatible requests run as one batched model pass.")
    ] = 8,
    model: Annotated[str, typer.Option(help="Default model (GET /models).")] = DEFAULT_MODEL,
    request_timeout: Annotated[
        float, typer.Option(help="Seconds a synchronous request may wait before a 504.")
    ] = 120.0,
    sync_budget: Annotated[
        int,
        typer.Option(help="Frame-evaluations above which a request runs as a job (202)."),
    ] = 100_000,
    job_budget: Annotated[
        int, typer.Option(help="Frame-evaluations above which a request is refused (422).")
    ] = 600_000,
    client_share: Annotated[
        int,
        typer.Option(help="Requests (and jobs) one client may have waiting; 0 = queue / 4."),
    ] = 0,
    allow_audio_host: Annotated[
        list[str] | None,
        typer.Option(
            help="A host (HOST or HOST:PORT) POST /generate may fetch an audio_url from "
            "(repeatable). Without it the server fetches nothing."
        ),
    ] = None,
    fetch_timeout: Annotated[
        float, typer.Option(help="Seconds one audio_url download may take.")
    ] = 15.0,
    index: Annotated[
        Path | None,
        typer.Option(
            help="Motion index for use_rag (default: $MOTIONGEN_INDEX or the one "
            "in the prepared cache; `motiongen index build`)."
        ),
    ] = None,
    reranker: Annotated[
        str | None,
        typer.Option(help="Reranker folder for use_rag; default none (dense order)."),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="A web origin (https://host[:port], or *) whose pages may call the API from a "
            "browser (repeatable). Without it only the server's own page can."
        ),
    ] = None,
    threads: Annotated[
        int, typer.Option(help="torch CPU threads per worker (0: torch's choice, all cores).")
    ] = 0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the REST API, its OpenAPI spec and the web page (http://HOST:PORT/)."""
    import uvicorn

    from motiongen.serve.jobs import JobStore
    from motiongen.serve.models import shipped_model_names
    from motiongen.serve.settings import SETTINGS_ENV, ServeSettings, default_store

    if not 0 <= port <= 65535:
        raise InputError(f"--port must be 0..65535, got {port}")
    if not 1 <= workers <= 64:
        raise InputError(f"--workers must be 1..64, got {workers}")
    levels = ("critical", "error", "warning", "info", "debug", "trace")
    if log_level not in levels:
        raise InputError(f"--log-level must be one of {', '.join(levels)}, got {log_level!r}")
    if model not in shipped_model_names():
        raise InputError(
            f"--model {model!r} is not shipped; choose one of {', '.join(shipped_model_names())}"
        )
    settings = ServeSettings(
        store=store or default_store(),
        queue_size=queue_size,
        max_batch=max_batch,
        model=model,
        request_timeout=request_timeout,
        sync_budget=sync_budget,
        job_budget=job_budget,
        client_share=client_share,
        audio_hosts=list(allow_audio_host or []),
        fetch_timeout=fetch_timeout,
        index=None if index is None else str(index),
        reranker=reranker,
        cors_origins=list(cors_origin or []),
        threads=threads,
    )
    check_port_free(host, port)  # before the models load: uvicorn would find out only after
    lock = lock_store(settings.store)  # noqa: F841 - held until this process ends
    JobStore(settings.store)  # create the database once, before workers race to
    warm_up_librosa()
    os.environ[SETTINGS_ENV] = settings.to_env()
    err.print(
        f"motiongen serve: http://{host}:{port}/ ({workers} worker(s), store {settings.store}, "
        f"queue {queue_size}, max batch {max_batch})",
        highlight=False,
    )
    uvicorn.run(
        "motiongen.serve.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )


def check_port_free(host: str, port: int) -> None:
    """InputError when ``host:port`` cannot be bound (in use, or not an address of this host)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise InputError(f"--host {host!r} is not a known address ({err.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # uvicorn sets SO_REUSEADDR too, so a port in TIME_WAIT counts as free for both
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise InputError(
                f"cannot listen on {host}:{port}: {err.strerror.lower()}; choose another "
                "--port (or stop what is using it)"
            ) from None


def lock_store(store: Path):  # noqa: ANN201 - an open file whose lock lives as long as it
    """An exclusive lock on the store for this server's lifetime (``locks.hold_lock``).

    Restart recovery re-queues jobs left "running" by another server instance, which is right
    after a crash but wrong while that other server is alive; so one store, one server.
    """
    from motiongen.locks import LockHeld, hold_lock

    try:
        return hold_lock(store / "serve.lock")
    except LockHeld as held:
        raise InputError(
            f"the store {store} is in use by another motiongen serve (pid {held.owner}); stop "
            "it or give this server its own --store"
        ) from None


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``motiongen`` command."""
    app.command("serve")(serve)
