"""Python client of the motiongen REST service (``motiongen serve``).

>>> from motiongen.client import Client
>>> client = Client("http://127.0.0.1:8000")
>>> motion = client.generate("a person waves with both hands", seconds=4, seed=0)
>>> motion.save("wave.bvh")

Every failure raises a ``MotionGenError`` subclass whose message says what happened:
``ServerUnavailableError`` (nothing answers at the URL), ``ServerBusyError`` (503 or 429,
with ``retry_after``), ``ServerError`` (any other error answer, with the server's message),
``JobFailedError`` (a job ended failed).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from motiongen.errors import InputError, MotionGenError
from motiongen.motion import AudioRef, Motion

DEFAULT_URL = "http://127.0.0.1:8000"
FORMATS = ("json", "bvh", "motion", "npy", "mp4")


class ServerUnavailableError(MotionGenError, ConnectionError):
    """Nothing answers at the server URL, or it did not answer in time."""


class ServerError(MotionGenError):
    """The server answered with an error; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


# Answers that say "not now": the queue is full (503) or this client has enough waiting (429)
BUSY = (503, 429)


class ServerBusyError(ServerError):
    """503: the server's queue is full, or 429: this client has as many requests waiting as
    it may; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, retry_after: float, status: int = 503) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class JobFailedError(ServerError):
    """A job ended with status 'failed'."""


class Client:
    """A connection to one server.

    timeout: seconds to wait for any one answer (a synchronous generation included).
    busy_retries: how often to retry a 503 or 429 after the server's Retry-After (doubling
        each time); 0 raises ``ServerBusyError`` at once. (20 threads through one client with
        busy_retries=2 had 9 of 20 raise on 429s, which were not retried: a new user's trial.)
    http: an ``httpx.Client`` to send through (e.g. FastAPI's ``TestClient`` in tests); its
        own timeout applies.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        timeout: float = 120.0,
        busy_retries: int = 0,
        http: httpx.Client | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InputError(f"server URL must start with http:// or https://, got {url!r}")
        if not timeout > 0:
            raise InputError(f"timeout must be positive, got {timeout!r}")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.busy_retries = int(busy_retries)
        self._http = http or httpx.Client(base_url=self.url, timeout=self.timeout)
        self._own_http = http is None

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, timeout={self.timeout:g})"

    # ---- transport --------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        delay = None
        for attempt in range(self.busy_retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise ServerUnavailableError(
                    f"the server at {self.url} did not answer {method} {path} within "
                    f"{self.timeout:g} s; it may be overloaded — raise Client(timeout=...) or "
                    "use a job (generate_job)"
                ) from exc
            except httpx.TransportError as exc:
                raise ServerUnavailableError(
                    f"the server at {self.url} is not reachable ({exc}); start it with "
                    "`motiongen serve --host HOST --port PORT` or check the URL"
                ) from exc
            if response.status_code not in BUSY or attempt == self.busy_retries:
                break
            hint = _retry_after(response)
            delay = max(hint, 2 * delay) if delay else hint
            time.sleep(delay)
        if response.status_code >= 400:
            raise _error(response)
        return response

    # ---- service ----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health").json()

    def models(self) -> dict[str, Any]:
        return self._request("GET", "/models").json()

    # ---- generation -------------------------------------------------------------------
    def generate(
        self,
        text: str,
        *,
        seconds: float | None = None,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        model: str | None = None,
        literal: bool = False,
        fps: float | None = None,
        loop: bool = False,
        no_travel: bool = False,
        timeline: bool | None = None,
    ) -> Motion:
        """A motion for a prompt, generated now (POST /generate, format json). seconds: None
        lets the model choose (as long as the motions like the prompt). literal: send
        the prompt as written, also a style its action was never recorded in. fps: the
        answer's frame rate (default the model's 20). loop / no_travel: its best loop, without
        its travel (``Motion.looped``, ``Motion.without_travel``). timeline: None (default)
        makes a prompt with "then" as a timeline (meta["segments"]), False as one motion,
        True any prompt as a timeline."""
        body = _generate_body(
            text, "json", seconds=seconds, steps=steps, sampler=sampler, guidance=guidance,
            seed=seed, model=model, literal=literal, fps=fps, loop=loop, no_travel=no_travel,
            timeline=timeline,
        )  # fmt: skip
        return self._motion_answer(self._request("POST", "/generate", json=body))

    # ---- control (docs/control.md) ----------------------------------------------------
    def predict(
        self, past: Motion, seconds: float, text: str | None = None, **options: Any
    ) -> Motion:
        """Continue ``past`` to ``seconds`` in all (POST /predict). options: style,
        segment_model ("self"), and those every control call takes: steps, sampler,
        guidance, seed, model, literal, fps."""
        return self._control("/predict", {"motion": _payload(past), "seconds": seconds,
                                          "text": text}, options)  # fmt: skip

    def inbetween(
        self, keyframes: list[Motion], times: list[float], text: str | None = None, **options: Any
    ) -> Motion:
        """A motion through ``keyframes`` (poses or short motions) at ``times`` s (POST
        /inbetween). options: in_place (each keyframe moved on the ground to start where the
        one before ends), and those every control call takes (see ``predict``)."""
        body = {"keyframes": [_payload(k) for k in keyframes], "times": list(times), "text": text}
        return self._control("/inbetween", body, options)

    def edit(self, motion: Motion, text: str, **options: Any) -> Motion:
        """``motion`` with a part made anew (POST /edit). options: frames ([start, end] s),
        joints (names or body parts), segment_model ("self"), in_place (the span's action
        where it starts, the rest moved along), and those every control call takes (see
        ``predict``)."""
        return self._control("/edit", {"motion": _payload(motion), "text": text}, options)

    def restyle(self, motion: Motion, style: str | None = None, **options: Any) -> Motion:
        """``motion`` moved in another style (POST /restyle). options: text, blend ({style,
        weight}), keep_speed, whole_path, and those every control call takes (see
        ``predict``)."""
        return self._control(
            "/restyle", {"motion": _payload(motion, segments=True), "style": style}, options
        )

    def compose(self, timeline: str | list[tuple[str, float]], **options: Any) -> Motion:
        """One motion of segments (POST /compose): a prompt with "then" or (text, seconds)
        pairs. options: seconds (a prompt's total), style, segment_model ("self"), and those
        every control call takes (see ``predict``)."""
        body: dict[str, Any] = (
            {"prompt": timeline}
            if isinstance(timeline, str)
            else {"segments": [{"text": t, "seconds": s} for t, s in timeline]}
        )
        return self._control("/compose", body, options)

    def styles(self) -> list[str]:
        """The style names the control models know (GET /styles)."""
        return list(self._request("GET", "/styles").json()["styles"])

    def _control(self, path: str, body: dict[str, Any], options: dict[str, Any]) -> Motion:
        """POST ``body`` and ``options`` (left out where None) as JSON, the answer a Motion."""
        if "format" in options:
            raise InputError(f"{path} answers a Motion (format json); use the REST API for files")
        full = {k: v for k, v in {**body, **options}.items() if v is not None}
        return self._motion_answer(self._request("POST", path, json=full))

    def _motion_answer(self, response: httpx.Response) -> Motion:
        """The motion of a /generate or /dance answer: the body itself, or, where the server
        made the request a job (202: over its time budget for answering at once), the job's
        result once it is done."""
        if response.status_code == 202:
            job_id = response.json()["job_id"]
            self.wait(job_id, timeout=max(self.timeout, 600.0))
            return self.job_motion(job_id)
        return motion_from_payload(response.json())

    def generate_job(
        self,
        text: str,
        *,
        format: str = "mp4",
        seconds: float | None = None,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        model: str | None = None,
        literal: bool = False,
        fps: float | None = None,
        loop: bool = False,
        no_travel: bool = False,
        timeline: bool | None = None,
    ) -> str:
        """Submit a generation as a job (an mp4 render, or async); returns the job id.
        loop / no_travel / timeline: as ``generate``'s, for every file of the job."""
        body = _generate_body(
            text, format, seconds=seconds, steps=steps, sampler=sampler, guidance=guidance,
            seed=seed, model=model, literal=literal, fps=fps, loop=loop, no_travel=no_travel,
            timeline=timeline,
        )  # fmt: skip
        body["async"] = True
        return self._request("POST", "/generate", json=body).json()["job_id"]

    def dance(
        self,
        path: str | Path,
        *,
        seconds: float | None = None,
        music_offset: float = 0.0,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        model: str | None = None,
        text: str | None = None,
        fps: float | None = None,
        beat_sync: bool = True,
    ) -> Motion:
        """A dance to an audio file (uploaded), generated now; the motion keeps the file as
        its audio, so ``motion.save("x.mp4")`` muxes the song in. text: a text as well as the
        music ("a happy dance"); fps: the answer's frame rate (default 20); beat_sync: retimed
        onto the song's beats where more accents land on them (False: the network's own timing)."""
        path = Path(path)
        payload = self._dance(path, seconds, music_offset, steps, guidance, seed, model, "json",
                              text=text, fps=fps, beat_sync=beat_sync)  # fmt: skip
        motion = self._motion_answer(payload)
        motion.audio = AudioRef(str(path), float(music_offset))
        return motion

    def dance_job(
        self,
        path: str | Path,
        *,
        format: str = "mp4",
        seconds: float | None = None,
        music_offset: float = 0.0,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        model: str | None = None,
        text: str | None = None,
        fps: float | None = None,
        beat_sync: bool = True,
    ) -> str:
        """Submit a dance as a job; returns the job id."""
        response = self._dance(
            Path(path), seconds, music_offset, steps, guidance, seed, model, format, job=True,
            text=text, fps=fps, beat_sync=beat_sync,
        )  # fmt: skip
        return response.json()["job_id"]

    def _dance(
        self,
        path: Path,
        seconds: float | None,
        music_offset: float,
        steps: int | None,
        guidance: float | None,
        seed: int | None,
        model: str | None,
        fmt: str,
        *,
        job: bool = False,
        text: str | None = None,
        fps: float | None = None,
        beat_sync: bool = True,
    ) -> httpx.Response:
        if not path.is_file():
            raise InputError(f"no such audio file: {path}")
        _check_format(fmt)
        fields = {
            "seconds": seconds,
            "music_offset": music_offset,
            "steps": steps,
            "guidance": guidance,
            "seed": seed,
            "model": model,
            "format": fmt,
            "async": "true" if job else None,
            "text": text,
            "fps": fps,
            "beat_sync": None if beat_sync else "false",
        }
        data = {k: str(v) for k, v in fields.items() if v is not None}
        with path.open("rb") as f:
            return self._request("POST", "/dance", data=data, files={"audio": (path.name, f)})

    # ---- jobs -------------------------------------------------------------------------
    def job(self, job_id: str) -> dict[str, Any]:
        """A job's status (GET /jobs/{id})."""
        return self._request("GET", f"/jobs/{job_id}").json()

    def wait(self, job_id: str, *, timeout: float = 600.0, poll: float = 0.25) -> dict[str, Any]:
        """Poll until the job is done; ``JobFailedError`` if it failed."""
        deadline = time.monotonic() + timeout
        while True:
            info = self.job(job_id)
            if info["status"] == "done":
                return info
            if info["status"] == "failed":
                raise JobFailedError(f"job {job_id} failed: {info['error']}", 409)
            if info["status"] == "cancelled":
                raise JobFailedError(f"job {job_id} was cancelled", 409)
            if time.monotonic() > deadline:
                raise ServerError(
                    f"job {job_id} is still {info['status']} after {timeout:g} s; wait longer "
                    "(Client.wait(job_id, timeout=...))",
                    408,
                )
            time.sleep(poll)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (DELETE /jobs/{id}); its status afterwards."""
        return self._request("DELETE", f"/jobs/{job_id}").json()

    def download(self, job_id: str, format: str, path: str | Path) -> Path:
        """Write a finished job's file in ``format`` to ``path``."""
        _check_format(format)
        response = self._request("GET", f"/jobs/{job_id}/result", params={"format": format})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(response.content)
        return path

    def job_motion(self, job_id: str) -> Motion:
        """A finished job's motion."""
        response = self._request("GET", f"/jobs/{job_id}/result", params={"format": "json"})
        return motion_from_payload(response.json())


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _generate_body(
    text: str,
    fmt: str,
    *,
    seconds: float | None,
    steps: int | None,
    sampler: str | None,
    guidance: float | None,
    seed: int | None,
    model: str | None,
    literal: bool,
    fps: float | None,
    loop: bool,
    no_travel: bool,
    timeline: bool | None,
) -> dict[str, Any]:
    """A /generate body; options at the server's default are left out."""
    _check_format(fmt)
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
    ):
        raise InputError(f"seconds must be a finite number, got {seconds!r}")
    body = {
        "text": text,
        "seconds": seconds,
        "steps": steps,
        "sampler": sampler,
        "guidance": guidance,
        "seed": seed,
        "model": model,
        "format": fmt,
        "fps": fps,
        "timeline": timeline,
        # the server's defaults otherwise
        **{k: True for k, on in (("literal", literal), ("loop", loop), ("no_travel", no_travel))
           if on},
    }  # fmt: skip
    return {k: v for k, v in body.items() if v is not None}


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.1, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _error(response: httpx.Response) -> ServerError:
    status = response.status_code
    try:
        body = response.json()
        message = body["error"] if isinstance(body, dict) and "error" in body else response.text
    except ValueError:
        message = response.text.strip()[:500] or response.reason_phrase
    if status in BUSY:
        wait = _retry_after(response)
        return ServerBusyError(
            f"the server is busy ({message}); retry after {wait:g} s", wait, status
        )
    return ServerError(f"server answered {status}: {message}", status)


def _payload(motion: Motion, *, segments: bool = False) -> dict[str, Any]:
    """A Motion as the service reads one: {"fps", "positions"}; with ``segments`` (a restyle:
    each segment restyled with its own words) a timeline's segments too."""
    if not isinstance(motion, Motion):
        raise InputError(
            f"give a motiongen.Motion (motiongen.load(path)), got {type(motion).__name__}"
        )
    body: dict[str, Any] = {
        "fps": float(motion.fps),
        "positions": np.round(motion.positions, 5).tolist(),
    }
    if segments and (said := motion.timeline_segments):
        body["segments"] = [{"text": t, "seconds": s} for t, s in said]
    return body


def motion_from_payload(payload: dict[str, Any]) -> Motion:
    """A ``Motion`` from the JSON body of /generate, /dance or a job's json result."""
    try:
        positions = np.asarray(payload["positions"], dtype=np.float32)
        fps = float(payload["fps"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ServerError(f"the server's answer is not a motion ({exc})", 502) from exc
    text = payload.get("text")
    meta = dict(payload.get("meta") or {})
    return Motion(
        positions=positions,
        fps=fps,
        texts=[text] if text else [],
        labels={"generated": "motiongen", "conditions": "music" if text is None else "text"},
        name=f"generated_{payload.get('seed', 0)}",
        meta=meta,
    )
