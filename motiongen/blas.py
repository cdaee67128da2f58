"""numpy's (and FAISS's) BLAS on one thread beside torch's sampler.

Idle OpenBLAS threads spin after each call, and on 2 cores they took the CPU from torch: a
196-frame generation right after retrieval or post-processing 26 -> 47 ms (sampler 16 -> 33
ms); the small matrices motiongen hands BLAS gain nothing from a second thread. Set once per
process from the first Pipeline on, and again when FAISS loads its own OpenBLAS (at the first
retrieval); ``MOTIONGEN_BLAS_THREADS=N`` sets another count, ``0`` leaves the libraries' own.
"""

from __future__ import annotations

import os

from motiongen.errors import InputError

_ON = False  # set by the first Pipeline: later BLAS libraries are limited as they load


def one_blas_thread() -> None:
    """Limit every BLAS library loaded so far to ``MOTIONGEN_BLAS_THREADS`` (default 1)."""
    global _ON
    threads = os.environ.get("MOTIONGEN_BLAS_THREADS", "1").strip().lower()
    if threads in ("", "0", "default"):
        return
    if not threads.isdecimal() or not threads.isascii():
        raise InputError(
            f"MOTIONGEN_BLAS_THREADS must be a whole number of threads (0: the libraries' own "
            f"choice), got {threads!r}"
        )
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(threads), user_api="blas")
    _ON = True


def again_if_on() -> None:
    """Limit a BLAS library loaded since (FAISS's), if a Pipeline asked for the limit."""
    if _ON:
        one_blas_thread()
