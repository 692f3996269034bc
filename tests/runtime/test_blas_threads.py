"""numpy's BLAS thread limit, as the services set it."""

from __future__ import annotations

import threading

from threadpoolctl import threadpool_info

from ustad.runtime.blas_threads import limit_blas_threads


def blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_limits_and_restores_numpys_blas() -> None:
    before = blas_threads()
    assert before, "numpy's wheel ships a BLAS that threadpoolctl finds"
    restore = limit_blas_threads(1)
    try:
        assert blas_threads() == [1] * len(before)
    finally:
        restore()
    assert blas_threads() == before


def test_the_limit_is_released_for_services_built_on_another_thread() -> None:
    """threadpoolctl lets one thread at a time set OpenBLAS's process-wide limit: services
    closed on this (still running) thread must leave the next ones, built on another
    thread, free to set it."""
    before = blas_threads()
    limit_blas_threads(3)()
    seen: list[list[int]] = []

    def build_and_close() -> None:
        restore = limit_blas_threads(1)
        seen.append(blas_threads())
        restore()

    worker = threading.Thread(target=build_and_close)
    worker.start()
    worker.join()
    assert seen == [[1] * len(before)]
    assert blas_threads() == before


def test_zero_leaves_the_librarys_default() -> None:
    before = blas_threads()
    restore = limit_blas_threads(0)
    assert blas_threads() == before
    restore()
    assert blas_threads() == before
