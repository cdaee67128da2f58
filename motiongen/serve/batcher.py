"""The bounded request queue and the one model thread that runs compatible requests as a batch.

Handlers put checked requests here and await a ``concurrent.futures.Future``; the model
thread takes the oldest request plus up to ``max_batch - 1`` queued ones with the same
``(model, Pipeline.batch_key)`` and runs them with ``Pipeline.generate_batch`` (per-request
prompts, music and seeds), so the event loop never runs model code.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from motiongen.errors import Cancelled, MotionGenError
from motiongen.generation import GenerationRequest
from motiongen.serve.models import ModelRegistry

logger = logging.getLogger(__name__)


class QueueFullError(Exception):
    """The queue holds ``capacity`` requests; the caller answers 503 with Retry-After."""

    def __init__(self, capacity: int, retry_after: int) -> None:
        super().__init__(
            f"the server is busy: its queue of {capacity} requests is full; retry after "
            f"{retry_after} s"
        )
        self.retry_after = retry_after


class ClientBusyError(Exception):
    """One client already holds its fair share of the queue; the caller answers 429."""

    def __init__(self, share: int, retry_after: int, jobs: bool = False) -> None:
        super().__init__(
            f"this client already has {share} queued or running jobs (its share of the job "
            f"queue); wait for one to finish (GET /jobs/ID) or retry after {retry_after} s"
            if jobs
            else f"this client already has {share} requests waiting (its share of the queue); "
            f'wait for them, retry after {retry_after} s, or send long work as jobs ("async": '
            "true)"
        )
        self.retry_after = retry_after


@dataclass
class Ticket:
    """A queued request: its future, and ``abandon()`` for a caller that stops waiting (the
    model thread skips it if it has not started, and stops a running batch between network
    evaluations once every request in it is abandoned)."""

    model: str
    request: GenerationRequest  # already checked
    key: tuple
    client: str = ""
    future: Future = field(default_factory=Future)
    abandoned: threading.Event = field(default_factory=threading.Event)

    def abandon(self) -> None:
        self.abandoned.set()
        self.future.cancel()


class ModelQueue:
    def __init__(
        self,
        models: ModelRegistry,
        *,
        capacity: int,
        max_batch: int,
        batch_wait: float = 0.0,
        paused: bool = False,
        client_share: int | None = None,
    ) -> None:
        self.models = models
        self.capacity = capacity
        # Requests one client may have waiting: a quarter of the queue, so three others
        # still find room however many requests one client sends.
        self.client_share = client_share or max(1, capacity // 4)
        self.max_batch = max_batch
        self.batch_wait = batch_wait
        self._items: deque[Ticket] = deque()
        self._cond = threading.Condition()
        self._paused = paused
        self._stop = False
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.requests = 0
        self.busy_seconds = 0.0
        self.cancelled = 0  # batches stopped because every request in them was abandoned
        self._running_since: float | None = None  # perf_counter when the running batch began

    # ---- the handlers' side --------------------------------------------------------------
    def submit(self, model: str, request: Any, *, force: bool = False, client: str = "") -> Ticket:
        """Queue one checked request; ``QueueFullError`` when full, ``ClientBusyError`` when
        ``client`` already has its share waiting (neither applies with ``force``, used for
        jobs that were admitted earlier)."""
        pipe = self.models.get(model)
        work = Ticket(model, request, (model, *pipe.batch_key(request)), client)
        with self._cond:
            if not force:
                if len(self._items) >= self.capacity:
                    raise QueueFullError(self.capacity, self.retry_after())
                mine = sum(1 for w in self._items if w.client == client and client)
                if mine >= self.client_share:
                    raise ClientBusyError(self.client_share, self.retry_after())
            self._items.append(work)
            self._cond.notify_all()
        return work

    def size(self) -> int:
        with self._cond:
            return len(self._items)

    def retry_after(self) -> int:
        """Seconds until the queue has likely drained by one batch's worth: the mean batch's
        time, or before any batch finished what the running one has taken so far (the first
        said 1 s while queued work waited 4-8 s: a new user's trial), per batch ahead."""
        running = self._running_since
        so_far = time.perf_counter() - running if running is not None else 0.0
        per_batch = self.busy_seconds / self.batches if self.batches else max(1.0, so_far)
        batches_ahead = len(self._items) / self.max_batch
        return max(1, math.ceil(per_batch * max(batches_ahead, 1.0)))

    def stats(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "requests": self.requests,
            "mean_batch": round(self.requests / self.batches, 3) if self.batches else 0.0,
            "max_batch": self.max_batch,
            "busy_seconds": round(self.busy_seconds, 3),
            "cancelled_batches": self.cancelled,
        }

    # ---- test hooks: hold the model thread so the queue fills deterministically --------
    def pause(self) -> None:
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    # ---- the model thread ---------------------------------------------------------------
    def start(self) -> None:
        with self._cond:
            self._stop = False
        self._thread = threading.Thread(target=self._loop, name="motiongen-model", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._cond:
            for work in self._items:
                work.future.cancel()
            self._items.clear()

    def _take_batch(self) -> list[Ticket] | None:
        with self._cond:
            while not self._stop and (self._paused or not self._items):
                self._cond.wait()
            if self._stop:
                return None
            first = self._items[0]
            if self.batch_wait > 0 and self.max_batch > 1:
                # A short wait lets requests arriving together share one model pass.
                deadline = time.monotonic() + self.batch_wait
                while (
                    sum(1 for w in self._items if w.key == first.key) < self.max_batch
                    and (left := deadline - time.monotonic()) > 0
                    and not self._stop
                ):
                    self._cond.wait(left)
            batch: list[Ticket] = []
            kept: deque[Ticket] = deque()
            for work in self._items:
                if len(batch) < self.max_batch and work.key == first.key:
                    batch.append(work)
                else:
                    kept.append(work)
            self._items = kept
        # Requests whose caller went away (a cancelled await) are dropped here.
        return [w for w in batch if w.future.set_running_or_notify_cancel()]

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            if not batch:
                continue
            t0 = time.perf_counter()
            self._running_since = t0
            motions: list | None = None
            error: Exception | None = None
            try:
                pipe = self.models.get(batch[0].model)
                motions = pipe.generate_batch(
                    [w.request for w in batch],
                    cancel=lambda b=batch: all(w.abandoned.is_set() for w in b),
                )
            except Exception as exc:  # every waiter gets the error; the thread goes on
                if not isinstance(exc, MotionGenError):
                    logger.exception("model pass failed")
                if isinstance(exc, Cancelled):
                    self.cancelled += 1
                error = exc
            # The counters move before any waiter is answered, so /health never lags behind
            # an answer a client already holds.
            self.busy_seconds += time.perf_counter() - t0
            self._running_since = None
            self.batches += 1
            self.requests += len(batch)
            for i, w in enumerate(batch):
                if motions is None:
                    w.future.set_exception(error)
                else:
                    w.future.set_result(motions[i])
