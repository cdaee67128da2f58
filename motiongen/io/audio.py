"""Reading music and speech: mono float32 samples at a chosen rate, with errors a user can act on.

soundfile (libsndfile >= 1.1) reads WAV, OGG/Vorbis, FLAC and MP3 and can seek, so an excerpt
costs only its own decoding; scipy's polyphase filter does the resampling.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from motiongen.errors import DataNotFoundError, FormatError, InputError

# Below this RMS (full scale = 1.0) a signal is treated as silence: -80 dBFS, well under the
# noise floor of any real recording, so quiet but real music never trips it.
SILENCE_RMS = 1e-4
WILD_SAMPLE = 10.0  # 20 dB past full scale: no master is that hot
MAX_WILD_SHARE = 0.01  # of the samples past WILD_SAMPLE: more is not audio at any level

_FORMAT_HINT = "give a WAV/OGG/FLAC/MP3 file"
# Decoded audio may fall short of its header's length by this share of it (of 1 s at least:
# 0.02 s, more than an MP3 encoder's padding) before the file counts as cut short.
CUT_SHORT_SLACK = 0.02
_BLOCK = 1 << 16


@dataclass(frozen=True)
class AudioInfo:
    """What ``check_audio`` learned about a file without decoding more than needed."""

    path: str
    samplerate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.samplerate


# Telephone speech to high-resolution studio audio; anything else is a broken header.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 384000
MAX_CHANNELS = 32


class ImplausibleHeader(FormatError):
    """A header libsndfile reads but that no real recording has (no fallback reader helps)."""


def _existing_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"no such audio file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an audio file; {_FORMAT_HINT}")
    return path


def _unreadable(path: Path, err: Exception) -> FormatError:
    reason = getattr(err, "error_string", None) or str(err).strip() or type(err).__name__
    if "does not exist" in reason and path.is_file():
        # libsndfile's words for a file it opened but found no sound in (a new-user trial:
        # random bytes named .mp3 were said not to exist)
        reason = "it is not a sound file this reader can decode (damaged, or another format)"
    return FormatError(f"cannot read audio {path.name}: {reason.rstrip('.')}; {_FORMAT_HINT}")


# fd 2 is one per process: the service reads audio on several threads at once, so the first
# reader to enter holds the decoder's warnings back and the last to leave lets fd 2 go (each
# restoring its own copy, two overlapping readers left fd 2 on a deleted file for good).
_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_state: tuple[int, Any] | None = None


@contextlib.contextmanager
def _decoder_quiet() -> Iterator[None]:
    """libmpg123 prints its warnings about a damaged MP3 ("Illegal Audio-MPEG-Header", "Xing
    stream size off") straight to file descriptor 2, around the one error line the CLI gives:
    they are held back while libsndfile reads, and anything else written meanwhile is passed
    on when the last reader is done."""
    global _quiet_depth, _quiet_state
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                sys.stderr.flush()
                saved = os.dup(2)
            except (OSError, ValueError):  # no real stderr (embedded): nothing to hold back
                saved = -1
            if saved >= 0:
                held = tempfile.TemporaryFile()  # noqa: SIM115 - the last reader out closes it
                os.dup2(held.fileno(), 2)
                _quiet_state = (saved, held)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _quiet_state is not None:
                saved, held = _quiet_state
                _quiet_state = None
                os.dup2(saved, 2)
                os.close(saved)
                held.seek(0)
                text = held.read().decode("utf-8", "replace")
                held.close()
                other = [line for line in text.splitlines(keepends=True)
                         if not _DECODER_NOISE.search(line)]  # fmt: skip
                if other:
                    sys.stderr.write("".join(other))


_DECODER_NOISE = re.compile(r"libmpg123|MPEG-Header|Xing stream|^\s*Note: |^Warning: ")


def _info(path: Path) -> AudioInfo:
    try:
        with _decoder_quiet():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _unreadable(path, err) from None
    if not MIN_SAMPLE_RATE <= int(info.samplerate) <= MAX_SAMPLE_RATE:
        raise ImplausibleHeader(
            f"audio {path.name} declares a sample rate of {info.samplerate} Hz, outside "
            f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz; the header is corrupt"
        )
    if not 1 <= int(info.channels) <= MAX_CHANNELS:
        raise ImplausibleHeader(
            f"audio {path.name} declares {info.channels} channels; the header is corrupt"
        )
    return AudioInfo(str(path), int(info.samplerate), int(info.channels), int(info.frames))


def audio_duration(path: str | Path) -> float:
    """Length of an audio file in seconds, read from its header (no decoding for WAV/OGG/FLAC)."""
    path = _existing_file(path)
    try:
        return _info(path).duration
    except ImplausibleHeader:
        raise
    except FormatError:
        # libsndfile does not know every container; librosa may (through audioread).
        import audioread
        import librosa

        try:
            with warnings.catch_warnings():
                # librosa announces its audioread fallback as deprecated; that is expected here.
                warnings.simplefilter("ignore", category=FutureWarning)
                warnings.simplefilter("ignore", category=DeprecationWarning)
                with _decoder_quiet():
                    return float(librosa.get_duration(path=str(path)))
        except (
            audioread.DecodeError, OSError, RuntimeError, EOFError, ValueError,
            ZeroDivisionError,
        ):  # fmt: skip
            pass
        raise


def decoded_duration(path: str | Path) -> float:
    """Length in seconds as far as the file decodes: an MP3's header length (``audio_duration``)
    outlives a file cut short, so an MP3 is decoded through (about 5 ms a minute, kept per file
    version); other formats read their header."""
    path = _existing_file(path)
    stat = path.stat()
    return _decoded_duration(str(path), stat.st_mtime, stat.st_size)


@functools.lru_cache(maxsize=64)
def _decoded_duration(path: str, mtime: float, size: int) -> float:
    info = _info(Path(path))
    try:
        with _decoder_quiet(), sf.SoundFile(path) as f:
            if f.format != "MP3":
                return info.duration
            frames = 0
            while len(block := f.read(_BLOCK, dtype="float32")):  # blocks() pads to the header
                frames += len(block)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _unreadable(Path(path), err) from None
    return frames / info.samplerate


def _check_span(path: Path, info: AudioInfo, offset: float, duration: float | None) -> None:
    if info.frames <= 0:
        raise InputError(f"audio {path.name} has no samples (0 s long); give a non-empty file")
    if not np.isfinite(offset) or offset < 0:
        raise InputError(f"audio offset must be >= 0 seconds, got {offset!r}")
    if duration is not None and not (np.isfinite(duration) and duration > 0):
        raise InputError(f"audio duration must be a positive number of seconds, got {duration!r}")
    if offset >= info.duration:
        raise InputError(
            f"audio offset {offset:.3f} s is past the end of {path.name} ({info.duration:.3f} s long)"
        )


def _silent_error(path: Path, rms: float) -> InputError:
    return InputError(
        f"audio {path.name} is silent (RMS {rms:.1e} < {SILENCE_RMS:g} over the requested span); "
        "give a file with audible music or speech"
    )


def _read_soundfile(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    with _decoder_quiet(), sf.SoundFile(str(path)) as f:
        native = f.samplerate
        start = int(round(offset * native))
        n = -1 if duration is None else int(round(duration * native))
        f.seek(min(start, f.frames))
        data = f.read(frames=n, dtype="float32", always_2d=True)
    return data.mean(axis=1), native


def load_audio(
    path: str | Path, sr: int = 22050, offset: float = 0.0, duration: float | None = None
) -> tuple[np.ndarray, int]:
    """Mono samples of ``path`` from ``offset`` seconds for ``duration`` seconds (None: to the end).

    Returns ``(samples, sr)``: samples (N,) float32 in [-1, 1] resampled to ``sr`` Hz.
    Raises DataNotFoundError (no file), FormatError (not decodable audio), InputError (empty,
    offset past the end, or silent: RMS below ``SILENCE_RMS`` over the span).
    """
    path = _existing_file(path)
    if not (isinstance(sr, int | np.integer) and sr > 0):
        raise InputError(f"sample rate must be a positive integer, got {sr!r}")
    info = _info(path)
    _check_span(path, info, offset, duration)
    try:
        y, native = _read_soundfile(path, offset, duration)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _unreadable(path, err) from None
    if y.size == 0:
        raise InputError(f"audio {path.name} has no samples in the requested span")
    asked = info.duration - offset if duration is None else min(duration, info.duration - offset)
    if y.size / native < asked - CUT_SHORT_SLACK * max(1.0, asked):
        # the header promised more than decodes: an MP3 cut short keeps its full-length header
        raise FormatError(
            f"audio {path.name} decodes to {offset + y.size / native:.2f} s where its header "
            f"says {info.duration:.2f} s: the file is cut short or damaged; give the whole file, or ask for at most "
            f"{max(y.size / native - 0.05, 0.0):.2f} s from offset {offset:g} s"
        )
    if not np.isfinite(y).all():
        raise FormatError(f"cannot read audio {path.name}: it decodes to NaN/inf; {_FORMAT_HINT}")
    if np.abs(y).max() > 1.0:
        # Decoders and float files give samples past full scale: a hot OGG master peaks at
        # 1.7 in 7 % of its samples (a dance song of the test split), and players clip them,
        # as we do (a few float samples at 1e30 overflowed the music features). Far past it
        # in many samples is not a level but another scale of numbers altogether.
        wild = float(np.mean(np.abs(y) > WILD_SAMPLE))
        if wild > MAX_WILD_SHARE:
            raise _wild_error(path, wild)
        y = np.clip(y, -1.0, 1.0)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if rms < SILENCE_RMS:
        raise _silent_error(path, rms)
    if native != sr:
        from math import gcd

        from scipy.signal import resample_poly

        # polyphase resampling: exact rational ratio, and no librosa/numba import cost
        g = gcd(int(native), int(sr))
        y = resample_poly(y, int(sr) // g, int(native) // g).astype(np.float32)
    return np.ascontiguousarray(y, dtype=np.float32), int(sr)


def _wild_error(path: Path, share: float) -> FormatError:
    return FormatError(
        f"cannot use audio {path.name}: {100 * share:.0f} % of its samples lie beyond "
        f"{WILD_SAMPLE:g} (audio lies within about -1..1); normalise it, e.g. export it again "
        "as 16-bit PCM"
    )


def check_audio(path: str | Path) -> AudioInfo:
    """Validate an audio file cheaply: it exists, decodes, is not empty and not silent.

    Decodes block by block and stops as soon as enough energy has been seen to rule out
    silence, so a normal song costs a fraction of a full load. Raises like ``load_audio``.
    """
    path = _existing_file(path)
    info = _info(path)
    _check_span(path, info, 0.0, None)
    # Silence means mean(x^2) < SILENCE_RMS^2 over the whole file; once the running sum of
    # squares passes that bound for the full length, the answer is known.
    needed = SILENCE_RMS**2 * info.frames
    energy, seen, wild = 0.0, 0, 0
    try:
        with _decoder_quiet(), sf.SoundFile(str(path)) as f:
            for block in f.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True):
                mono = block.mean(axis=1, dtype=np.float64)
                energy += float(np.dot(mono, mono))
                seen += len(mono)
                wild += int(np.count_nonzero(np.abs(mono) > WILD_SAMPLE))
                if energy >= needed:
                    # as load_audio refuses it, from what was read (an upload is checked
                    # with this before its job runs)
                    if wild > MAX_WILD_SHARE * seen:
                        raise _wild_error(path, wild / seen)
                    return info
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise _unreadable(path, err) from None
    raise _silent_error(path, float(np.sqrt(energy / max(info.frames, 1))))
