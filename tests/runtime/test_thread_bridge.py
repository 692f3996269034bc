"""A blocking iterator on the engine executor, handed over item by item."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from ustad.runtime.executor import EngineExecutor
from ustad.runtime.thread_bridge import iterate_on


class Gated:
    """Yields 0, 1, 2... each only once its gate is opened; records what it did."""

    def __init__(self, count: int) -> None:
        self.gates = [threading.Event() for _ in range(count)]
        self.produced: list[int] = []
        self.threads: set[int] = set()
        self.closed = threading.Event()

    def items(self) -> Iterator[int]:
        try:
            for index, gate in enumerate(self.gates):
                assert gate.wait(timeout=30), "the test never opened this gate"
                self.threads.add(threading.get_ident())
                self.produced.append(index)
                yield index
        finally:
            self.closed.set()


async def test_items_arrive_as_they_are_produced_off_the_loop() -> None:
    executor = EngineExecutor(1)
    source = Gated(3)
    source.gates[0].set()
    items = iterate_on(executor, source.items)
    # The first item comes while the second is not produced yet.
    assert await anext(items) == 0 and source.produced == [0]
    source.gates[1].set()
    assert await anext(items) == 1
    source.gates[2].set()
    assert [item async for item in items] == [2]
    assert source.closed.is_set() and threading.get_ident() not in source.threads
    assert executor.stats().completed == 1
    executor.shutdown()


async def test_a_consumer_that_goes_away_stops_the_producer() -> None:
    executor = EngineExecutor(1)
    source = Gated(50)
    for gate in source.gates:
        gate.set()  # the producer could run to the end: only the queue holds it back
    items = iterate_on(executor, source.items, max_queued=2)
    assert await anext(items) == 0
    await items.aclose()
    # Waited for: the iterator is closed and the executor free when aclose returns.
    assert source.closed.is_set() and executor.stats().queued == 0
    assert len(source.produced) <= 1 + 2 + 2  # taken, queued, in hand, being handed over
    executor.shutdown()


async def test_errors_come_after_the_items_before_them() -> None:
    executor = EngineExecutor(1)

    def failing() -> Iterator[str]:
        yield "first"
        raise RuntimeError("engine failed")

    items = iterate_on(executor, failing)
    assert await anext(items) == "first"
    with pytest.raises(RuntimeError, match="engine failed"):
        await anext(items)

    def refusing() -> Iterator[str]:
        raise ValueError("unknown language")

    with pytest.raises(ValueError, match="unknown language"):
        await anext(iterate_on(executor, refusing))
    with pytest.raises(ValueError, match="max_queued"):
        await anext(iterate_on(executor, refusing, max_queued=0))
    executor.shutdown()


async def test_a_consumer_gone_before_a_thread_was_free_starts_nothing() -> None:
    executor = EngineExecutor(1)
    busy = threading.Event()
    started: list[int] = []
    blocker = asyncio.ensure_future(executor.run(lambda: busy.wait(timeout=30)))

    def start() -> Iterator[int]:
        started.append(1)
        return iter([1, 2])

    items = iterate_on(executor, start)
    consumer = asyncio.ensure_future(anext(items))
    for _ in range(5):  # the consumer waits; its producer waits for the thread
        await asyncio.sleep(0)
    consumer.cancel()
    await asyncio.sleep(0)
    busy.set()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await blocker
    assert started == [] and executor.stats().queued == 0
    executor.shutdown()
