"""Audio uploads for POST /dance: size and type limits, saved under the store."""

from __future__ import annotations

import functools
import inspect
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")
AUDIO_TYPES = {
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/ogg": ".ogg",
    "audio/vorbis": ".ogg",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
}
# Multipart framing and the small form fields around the file.
MULTIPART_SLACK = 64 * 1024
CHUNK = 1 << 20


class UploadRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@functools.cache
def _form_fields(route: Any) -> frozenset[str]:
    """The form fields an endpoint reads: its own parameters (``async_`` is sent as "async")."""
    params = inspect.signature(route).parameters
    return frozenset("async" if name == "async_" else name for name in params if name != "http")


async def check_form(http: Any, route: Any, path: str) -> None:
    """``UploadRejected`` (422) for a multipart form with a field ``route`` does not read or
    one sent more than once: the framework drops the first and keeps the last value silently
    (/capture took both, a REST trial; /dance refused them)."""
    fields = _form_fields(route)
    form = await http.form()  # parsed once already: the fields as sent
    if unknown := sorted(set(form.keys()) - fields):
        raise UploadRejected(
            422,
            f"unknown field(s) {', '.join(map(repr, unknown))}; {path} takes "
            f"{', '.join(sorted(fields))}",
        )
    if repeated := sorted(k for k in set(form.keys()) if len(form.getlist(k)) > 1):
        raise UploadRejected(
            422, f"field(s) {', '.join(map(repr, repeated))} sent more than once; send each once"
        )


def audio_suffix(filename: str | None, content_type: str | None) -> str:
    """The file's audio extension, from its name or else its content type; 415 otherwise."""
    name = (filename or "").strip()
    suffix = Path(name).suffix.lower()
    if suffix in AUDIO_SUFFIXES:
        return suffix
    ctype = (content_type or "").split(";")[0].strip().lower()
    if not suffix and ctype in AUDIO_TYPES:
        return AUDIO_TYPES[ctype]
    raise UploadRejected(
        415,
        f"the upload {name or '(no name)'} ({ctype or 'no content type'}) is not a supported "
        f"audio file; send WAV, MP3, OGG or FLAC ({', '.join(AUDIO_SUFFIXES)})",
    )


def safe_name(filename: str | None, suffix: str) -> str:
    stem = Path(filename or "audio").stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80] or "audio"
    return stem + suffix


async def save_upload(upload: Any, folder: Path, limit: int) -> Path:
    """Stream an ``UploadFile`` to ``folder/<uuid>/<safe name>``; 413 past ``limit`` bytes."""
    suffix = audio_suffix(upload.filename, upload.content_type)
    target = folder / uuid.uuid4().hex / safe_name(upload.filename, suffix)
    target.parent.mkdir(parents=True)
    size = 0
    try:
        with target.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadRejected(413, too_large_message(limit))
                out.write(chunk)
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    if size == 0:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise UploadRejected(422, f"the upload {upload.filename or ''} is empty (0 bytes)")
    return target


def too_large_message(limit: int) -> str:
    return (
        f"the upload is larger than the limit of {limit / 2**20:g} MB; send a shorter or "
        "compressed excerpt (e.g. an MP3 or OGG of the part to dance to)"
    )


class UploadGuard:
    """ASGI middleware for upload routes: 415 for a body that is not multipart, 413 as soon
    as the body passes the limit (before it is spooled to disk)."""

    def __init__(self, app: Any, *, paths: tuple[str, ...], limit: int) -> None:
        self.app = app
        self.paths = paths
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if not ctype.startswith("multipart/form-data"):
            await _send_error(
                send,
                415,
                f"send the file as multipart/form-data (got {ctype or 'no content type'}): a "
                "file field 'audio' for /dance (curl -F audio=@song.wav URL/dance), "
                "'keypoints' for /capture",
            )
            return
        await capped(self.app, scope, receive, send, self.limit + MULTIPART_SLACK,
                     too_large_message(self.limit))  # fmt: skip


class BodyLimit:
    """ASGI middleware for the JSON routes: 413 as soon as a request body passes ``limit``
    bytes (declared or counted), before it is parsed (a 100 MB body was read whole and a
    50 MB one padded with spaces answered 200). Upload routes have ``UploadGuard``."""

    def __init__(self, app: Any, *, skip: tuple[str, ...], limit: int) -> None:
        self.app = app
        self.skip = skip
        self.limit = limit

    def _message(self) -> str:
        return (
            f"the request body is larger than the limit of {self.limit / 2**20:g} MB; send "
            "shorter motions (fewer frames, or the part that matters)"
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        await capped(self.app, scope, receive, send, self.limit, self._message())


async def capped(app: Any, scope: dict, receive: Any, send: Any, cap: int, message: str) -> None:
    """Run ``app`` on a request whose body may hold at most ``cap`` bytes: 413 with
    ``message`` at once when its declared length is over, or as soon as the bytes received
    pass it (then the request fails while being read; FastAPI turns any error while parsing
    into a 400, so ``scope["motiongen.too_large"]`` holds the message for the error handler)."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    try:
        declared = int(headers.get(b"content-length", b"0") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        await _send_error(send, 413, message)
        return
    seen = 0

    async def counted() -> dict:
        nonlocal seen
        received = await receive()
        if received["type"] == "http.request":
            seen += len(received.get("body", b""))
            if seen > cap:
                scope["motiongen.too_large"] = message
                raise UploadRejected(413, message)
        return received

    await app(scope, counted, send)


async def _send_error(send: Any, status: int, message: str) -> None:
    import json

    body = json.dumps({"error": message, "status": status}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
