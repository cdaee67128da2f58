"""``audio_url``: the server fetches a song for the client, only from hosts its operator allows.

A server that downloads any URL it is given is a server-side request forgery hole (it can be
made to read the cloud's metadata service or an intranet page), so fetching is off unless the
server was started with ``--allow-audio-host``. Redirects are followed by hand, each hop
checked against the same list; the download is cut at the upload size limit and at a total
time limit, so a slow or endless answer cannot hold a worker.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from motiongen.serve.uploads import (
    AUDIO_SUFFIXES,
    AUDIO_TYPES,
    UploadRejected,
    audio_suffix,
    safe_name,
)

MAX_REDIRECTS = 3
MAX_FETCHES = 4  # downloads one worker runs at once; more wait for none (503)
_FETCHES = threading.BoundedSemaphore(MAX_FETCHES)


def url_host(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL as httpx (which fetches it) reads it; 422 for
    anything else. One parser for the check and the fetch: no parser-difference bypass."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise UploadRejected(422, f"audio_url {url!r} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UploadRejected(
            422, f"audio_url must be an http:// or https:// URL with a host, got {url!r}"
        )
    if parsed.userinfo:
        raise UploadRejected(422, "audio_url must not carry a user name or password")
    default = 443 if parsed.scheme == "https" else 80
    return parsed.scheme, parsed.host.lower().rstrip("."), parsed.port or default


def allowed_entry(entry: str) -> tuple[str, int | None]:
    """("host", port or None) of an allow-list entry: "host", "host:port" or "[v6]:port"."""
    text = entry.strip().lower()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    if not host or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        raise ValueError(f"allowed audio host {entry!r} is not HOST or HOST:PORT")
    return host, int(port) if port else None


def host_allowed(host: str, port: int, allowed: tuple[str, ...]) -> bool:
    """An entry "host" allows any port of that host, "host:port" only that port."""
    for entry in allowed:
        name, entry_port = allowed_entry(entry)
        if name == host.strip("[]") and entry_port in (None, port):
            return True
    return False


def check_url(url: str, allowed: tuple[str, ...]) -> None:
    """403 unless fetching is on and the URL's host is on the allow-list."""
    if not allowed:
        raise UploadRejected(
            403,
            "this server does not fetch audio_url (off by default); upload the song with "
            "POST /dance (multipart field 'audio'), or start the server with "
            "--allow-audio-host HOST",
        )
    _, host, port = url_host(url)
    if not host_allowed(host, port, allowed):
        raise UploadRejected(
            403,
            f"audio_url host {host}:{port} is not on this server's allow-list "
            f"({', '.join(allowed)}); upload the song with POST /dance instead",
        )


def fetch_audio(
    url: str, folder: Path, *, allowed: tuple[str, ...], limit: int, timeout: float
) -> Path:
    """Download ``url`` to ``folder/<uuid>/<name>``: allow-listed hosts only (every redirect
    hop too), at most ``limit`` bytes and ``timeout`` seconds for the whole exchange
    (connecting, headers, every hop and the body: a watchdog closes the connection when the
    time is up). Errors are ``UploadRejected`` with the status the client gets."""
    import httpx

    check_url(url, allowed)
    if not _FETCHES.acquire(blocking=False):
        raise UploadRejected(503, "this server is fetching as many songs as it can; retry soon")
    deadline = time.monotonic() + timeout
    target: Path | None = None
    expired = threading.Event()
    try:
        with httpx.Client(follow_redirects=False, timeout=min(timeout, 10.0),
                          headers={"Accept-Encoding": "identity"}) as client:  # fmt: skip

            def expire() -> None:
                expired.set()
                client.close()

            watchdog = threading.Timer(timeout, expire)
            watchdog.daemon = True
            watchdog.start()
            try:
                for _ in range(MAX_REDIRECTS + 1):
                    with client.stream("GET", url) as answer:
                        if answer.is_redirect:
                            url = urljoin(url, answer.headers.get("location", ""))
                            check_url(url, allowed)
                            continue
                        if answer.status_code != 200:
                            raise UploadRejected(
                                422, f"audio_url answered HTTP {answer.status_code}; check the URL"
                            )
                        encoding = answer.headers.get("content-encoding", "identity").lower()
                        if encoding not in ("", "identity"):
                            raise UploadRejected(
                                422, f"audio_url answered {encoding}-compressed data; serve the "
                                "audio file as it is"
                            )  # fmt: skip
                        target = _target(url, answer.headers.get("content-type"), folder)
                        _download(answer, target, url, limit=limit, deadline=deadline)
                        return target
                raise UploadRejected(422, f"audio_url redirected more than {MAX_REDIRECTS} times")
            finally:
                watchdog.cancel()
    except (httpx.HTTPError, httpx.InvalidURL, RuntimeError) as exc:
        _drop(target)
        if expired.is_set() or isinstance(exc, httpx.TimeoutException):
            raise UploadRejected(
                422, f"audio_url {url} took too long (over {timeout:g} s); upload the file instead"
            ) from None
        raise UploadRejected(422, f"audio_url {url} could not be fetched ({exc})") from None
    except BaseException:
        _drop(target)
        raise
    finally:
        _FETCHES.release()


def _target(url: str, content_type: str | None, folder: Path) -> Path:
    name = Path(urlsplit(url).path).name
    ctype = (content_type or "").split(";")[0].strip().lower()
    # The URL's own audio suffix first; otherwise (a bare or dynamic URL such as get.php?id=1)
    # the content type names it.
    audio_name = name if Path(name).suffix.lower() in AUDIO_SUFFIXES else None
    suffix = audio_suffix(audio_name, ctype if ctype in AUDIO_TYPES else None)
    target = folder / uuid.uuid4().hex / safe_name(name, suffix)
    target.parent.mkdir(parents=True)
    return target


def _download(answer, target: Path, url: str, *, limit: int, deadline: float) -> None:
    declared = answer.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadRejected(
            413,
            f"audio_url {url} is {int(declared):,} bytes, over this server's limit of {limit:,}",
        )
    size = 0
    with target.open("wb") as out:
        for chunk in answer.iter_raw():  # as the bytes arrive: the deadline is checked often
            size += len(chunk)
            if size > limit:
                raise UploadRejected(
                    413, f"audio_url {url} is over this server's limit of {limit:,} bytes"
                )
            if time.monotonic() > deadline:
                raise UploadRejected(
                    422, f"audio_url {url} took too long to download; upload the file instead"
                )
            out.write(chunk)
    if size == 0:
        raise UploadRejected(422, f"audio_url {url} answered an empty file")


def _drop(target: Path | None) -> None:
    if target is not None:
        shutil.rmtree(target.parent, ignore_errors=True)
