"""Jobs in SQLite (WAL) plus result files under the store folder.

A job is claimed with one ``UPDATE ... WHERE status = 'queued' ... RETURNING`` inside an
immediate transaction, so two worker processes can never both run it. A result's files are
written and renamed into place before its row says ``done``, so a done job always has them.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    error TEXT,
    files TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    instance TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, created);
"""


@dataclass
class Job:
    id: str
    kind: str  # "generate" | "dance"
    status: str  # queued | running | done | failed | cancelled
    request: dict[str, Any]
    error: str | None
    files: dict[str, str]  # format -> file name inside the job's result folder
    created: float
    started: float | None
    finished: float | None
    instance: str | None
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            kind=row["kind"],
            status=row["status"],
            request=json.loads(row["request"]),
            error=row["error"],
            files=json.loads(row["files"]),
            created=row["created"],
            started=row["started"],
            finished=row["finished"],
            instance=row["instance"],
            attempts=row["attempts"],
        )


class JobStore:
    """The job table and the folders of one store (``<store>/jobs.sqlite3``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.results_dir = self.root / "results"
        self.inputs_dir = self.root / "inputs"
        self.uploads_dir = self.root / "uploads"
        for folder in (self.results_dir, self.inputs_dir, self.uploads_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "jobs.sqlite3"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if "client" not in columns:  # a store made before per-client shares
                db.execute("ALTER TABLE jobs ADD COLUMN client TEXT NOT NULL DEFAULT ''")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per operation: safe from any thread or process.
        db = sqlite3.connect(self.db_path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout=30000")
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- paths ------------------------------------------------------------------------
    def result_dir(self, job_id: str) -> Path:
        return self.results_dir / job_id

    def input_dir(self, job_id: str) -> Path:
        return self.inputs_dir / job_id

    # ---- rows -------------------------------------------------------------------------
    def create(
        self,
        kind: str,
        request: dict[str, Any],
        *,
        job_id: str | None = None,
        limit: int = 0,
        client: str = "",
        client_limit: int = 0,
    ) -> Job | None | str:
        """Insert a queued job. None when ``limit`` > 0 jobs are already queued; "client"
        when ``client`` already has ``client_limit`` > 0 queued or running jobs (its share)."""
        job_id = job_id or uuid.uuid4().hex
        with self._transaction() as db:
            if limit > 0:
                (queued,) = db.execute("SELECT COUNT(*) FROM jobs WHERE status='queued'").fetchone()
                if queued >= limit:
                    return None
            if client and client_limit > 0:
                (mine,) = db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE client = ? AND status IN ('queued', 'running')",
                    (client,),
                ).fetchone()
                if mine >= client_limit:
                    return "client"
            db.execute(
                "INSERT INTO jobs (id, kind, status, request, created, client) "
                "VALUES (?, ?, 'queued', ?, ?, ?)",
                (job_id, kind, json.dumps(request), time.time(), client),
            )
        return self.get(job_id)

    def get(self, job_id: str) -> Job | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.from_row(row)

    def claim(self, instance: str, limit: int = 1) -> list[Job]:
        """Atomically mark up to ``limit`` of the oldest queued jobs running for ``instance``."""
        with self._transaction() as db:
            rows = db.execute(
                "UPDATE jobs SET status='running', started=?, instance=?, attempts=attempts+1 "
                "WHERE id IN (SELECT id FROM jobs WHERE status='queued' ORDER BY created LIMIT ?) "
                "AND status='queued' RETURNING *",
                (time.time(), instance, int(limit)),
            ).fetchall()
        return sorted((Job.from_row(r) for r in rows), key=lambda j: j.created)

    def finish(self, job_id: str, files: dict[str, str]) -> bool:
        """Mark a job done; False (nothing changed) when it was cancelled meanwhile."""
        with self._connect() as db:
            changed = db.execute(
                "UPDATE jobs SET status='done', files=?, finished=?, error=NULL "
                "WHERE id=? AND status != 'cancelled'",
                (json.dumps(files), time.time(), job_id),
            ).rowcount
        self.drop_inputs(job_id)
        return bool(changed)

    def fail(self, job_id: str, error: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET status='failed', error=?, finished=? "
                "WHERE id=? AND status != 'cancelled'",
                (error, time.time(), job_id),
            )
        self.drop_inputs(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued or running job (a running one's work under way finishes, its
        result is not kept); a finished, failed or cancelled job is returned as it is; None
        for an unknown id."""
        with self._transaction() as db:
            db.execute(
                "UPDATE jobs SET status='cancelled', finished=?, error='cancelled by a client' "
                "WHERE id=? AND status IN ('queued', 'running')",
                (time.time(), job_id),
            )
        job = self.get(job_id)
        if job is not None and job.status == "cancelled":
            self.drop_inputs(job_id)
        return job

    def drop_inputs(self, job_id: str) -> None:
        """A finished or failed job's uploaded inputs: never read again, so removed."""
        shutil.rmtree(self.input_dir(job_id), ignore_errors=True)

    def sweep_uploads(self, older_than: float = 3600.0) -> int:
        """Remove upload folders a crashed request left behind (older than ``older_than``
        seconds: a request in flight in another worker is younger). Returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        for folder in self.uploads_dir.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        out = {s: 0 for s in ("queued", "running", "done", "failed")}
        out.update({status: n for status, n in rows})
        return out

    def recover(
        self, instance: str, *, max_attempts: int, inputs_missing: Callable[[Job], str | None]
    ) -> tuple[list[str], list[str]]:
        """Jobs a dead server left queued or running: back to queued, or failed when their
        inputs are gone or they were already tried ``max_attempts`` times (a job that keeps
        killing the server must not loop forever). Returns (requeued ids, failed ids)."""
        requeued: list[str] = []
        failed: list[str] = []
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM jobs WHERE (status='running' AND instance IS NOT ?) "
                "OR status='queued'",
                (instance,),
            ).fetchall()
            now = time.time()
            for job in map(Job.from_row, rows):
                reason = inputs_missing(job)
                if reason is None and job.status == "running" and job.attempts >= max_attempts:
                    reason = (
                        f"the server stopped {job.attempts} times while running this job; "
                        "it is not retried again — submit it anew, perhaps shorter"
                    )
                if reason is not None:
                    db.execute(
                        "UPDATE jobs SET status='failed', error=?, finished=? WHERE id=?",
                        (reason, now, job.id),
                    )
                    failed.append(job.id)
                elif job.status == "running":
                    db.execute(
                        "UPDATE jobs SET status='queued', started=NULL, instance=NULL WHERE id=?",
                        (job.id,),
                    )
                    requeued.append(job.id)
        for job_id in requeued + failed:
            # what the dead server had half written (a render's scratch folder, a temporary
            # file) goes: it stayed on disk through restarts, 2 MB a video (a trial)
            shutil.rmtree(self.result_dir(job_id), ignore_errors=True)
        return requeued, failed
