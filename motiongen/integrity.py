"""SHA-256 manifests: a folder proves its files are the ones that were written.

``manifest.json`` lists every file of a checkpoint or training state with its size and
SHA-256. Weights whose bytes changed but stay finite numbers load without complaint and make
absurd motions; the manifest turns that into one clear error naming the file that changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from motiongen.errors import FormatError

MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def manifest_entries(folder: Path, names: list[str]) -> dict[str, dict[str, int | str]]:
    """{name: {"bytes", "sha256"}} of the named files of ``folder``."""
    return {
        n: {"bytes": (folder / n).stat().st_size, "sha256": sha256_file(folder / n)}
        for n in sorted(names)
    }


def write_manifest(folder: Path, entries: dict[str, dict[str, int | str]]) -> Path:
    """Write ``folder/manifest.json`` atomically (temporary name, then rename)."""
    path = folder / MANIFEST_NAME
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps({"sha256": entries}, indent=1, sort_keys=True))
    tmp.replace(path)
    return path


def verify_manifest(folder: Path, what: str, *, required: bool = True) -> None:
    """Check every file the manifest lists: present, same size, same SHA-256.

    ``what`` names the folder's owner in messages. Without a manifest: an error when
    ``required`` (the message says how to write one), else nothing is checked.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        if required:
            raise FormatError(
                f"{what} has no {MANIFEST_NAME} (made before integrity manifests, or an "
                f"interrupted save); if you trust its files run `motiongen checkpoint upgrade "
                f"{folder}` once to record them"
            )
        return
    try:
        entries = json.loads(path.read_text())["sha256"]
        if not isinstance(entries, dict):
            raise TypeError("sha256 is not an object")
        checks = [(str(n), int(e["bytes"]), str(e["sha256"])) for n, e in entries.items()]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError) as err:
        raise FormatError(f"{what}: {path} is unreadable ({err})") from err
    for name, size, digest in checks:
        file = folder / name
        if "/" in name or name.startswith("."):
            raise FormatError(f"{what}: {path} names a file outside the folder ({name!r})")
        if not file.is_file():
            raise FormatError(f"{what}: {name} is missing (the manifest lists it)")
        if file.stat().st_size != size:
            raise FormatError(
                f"{what}: {name} has {file.stat().st_size} bytes, the manifest says {size} "
                "(truncated or replaced); restore the folder from its source"
            )
        if sha256_file(file) != digest:
            raise FormatError(
                f"{what}: {name} changed since it was written (SHA-256 differs from the "
                "manifest); restore the folder from its source"
            )
