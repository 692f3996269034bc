"""A blocking iterator run on the engine executor, its items handed to async code.

Some engines produce their results lazily (faster-whisper decodes a window at a time
and yields its segments as it goes). ``iterate_on`` runs such an iterator on one
executor thread, never on the event loop, and hands each item over through a bounded
queue: when the consumer is slower, the thread waits rather than piling items up.
When the consumer stops early (a client that went away closes the async generator),
the thread stops pulling items after the one in hand and closes the iterator, so the
engine does no more work than the item it was producing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Final, TypeVar, cast

from ustad.runtime.executor import EngineExecutor

T = TypeVar("T")

_END: Final = object()
"""Put on the queue once the iterator is done (or failed, or was stopped)."""


async def iterate_on(
    executor: EngineExecutor, start: Callable[[], Iterator[T]], *, max_queued: int = 4
) -> AsyncGenerator[T]:
    """The items of the iterator ``start()`` returns, pulled on one ``executor`` thread
    (``start`` runs there too) and yielded here as each is produced.

    At most ``max_queued`` items (>= 1, else ``ValueError``) wait to be taken. The
    iterator's errors, and ``start``'s, are raised here after the items before them.
    Closing this generator early stops the thread after its current item and closes
    the iterator (its ``close``, when it has one); the generator's close waits for
    that, so the executor slot is free when it returns.
    """
    if max_queued < 1:
        raise ValueError(f"max_queued must be at least 1, got {max_queued}")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(max_queued)
    stopped = threading.Event()

    async def offer(item: object) -> None:
        if not stopped.is_set():
            await queue.put(item)

    def hand_over(item: object) -> None:
        # Blocks this thread while the queue is full: the consumer sets the pace.
        asyncio.run_coroutine_threadsafe(offer(item), loop).result()

    def produce() -> None:
        try:
            if stopped.is_set():  # the consumer left while this waited for a thread
                return
            iterator = start()
            try:
                for item in iterator:
                    hand_over(item)
                    if stopped.is_set():
                        break
            finally:
                close = getattr(iterator, "close", None)
                if callable(close):
                    close()
        finally:
            hand_over(_END)

    worker = asyncio.ensure_future(executor.run(produce))
    try:
        while (item := await queue.get()) is not _END:
            yield cast("T", item)
        await worker  # the iterator's error, if it ended with one
    finally:
        if not worker.done():
            stopped.set()
            # A thread waiting to put an item is let go; it then sees the stop.
            while not queue.empty():
                queue.get_nowait()
            await asyncio.wait([worker])
        if not worker.cancelled():
            with contextlib.suppress(Exception):
                worker.exception()  # retrieved: an error after the stop is not news
