"""numpy's BLAS threads, sized like the engines' own intra-op threads.

numpy's wheels ship OpenBLAS, which runs a matrix product on a thread per core and
keeps its idle threads spinning for a while before they sleep. Every Whisper call
computes its log-mel features with numpy (faster-whisper's filter bank, an
80 x 201 by 201 x frames product), on an engine thread; the engine threads already
fill the cores, one call per core, so OpenBLAS's extra threads only spin on the core
another call needs. Measured with
``benchmarks/engine_costs.py --blas-threads 0,1`` (docs/BENCHMARKS.md, "numpy's BLAS
on one thread per call"): at one BLAS thread per call, tiny.en's transcription took
0.19 CPU-s per learner clip against 0.32, base's target support 0.27 against 0.47,
and two engine threads finished 18 % more English attempts a second.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy  # noqa: F401  # loads the BLAS the limit is applied to
from threadpoolctl import threadpool_limits


def limit_blas_threads(threads: int) -> Callable[[], None]:
    """From now on run numpy's BLAS on at most ``threads`` threads per call (the setting
    ``stt.cpu_threads``); 0 leaves the library's default (a thread per core). Returns
    the function that puts back the limits found; call it when the engines stop, on
    the thread that set them.

    numpy's wheels build OpenBLAS on pthreads, whose limit is process-wide, so the
    engine threads see it. threadpoolctl lets one thread at a time set that limit (the
    first to set it, until it releases it): the limit is held as its context manager,
    entered here and left by the returned function, so it is released for the next
    services built in this process, on whatever thread."""
    if threads <= 0:
        return lambda: None
    limiter = threadpool_limits(limits=threads, user_api="blas")
    limiter.__enter__()

    def restore() -> None:
        limiter.__exit__(None, None, None)

    return restore
