"""Pre-generating the phrase bank's spoken prompts into the disk audio store.

When a learner says a phrase-bank sentence, the tutor answers with two prompts
built from it: "You said: ... Now repeat after me." and "Now repeat the full
sentence: ...". Their text is known in advance for every phrase and language
mode, so their audio can be synthesised before anyone asks, once for a whole
fleet (the store is shared), and the first learner to say a sentence gets its
prompt as fast as a cached one.

Two ways to run it: ``ustad pregenerate`` fills the store flat out before a
deployment; in the server a background task does it politely, one prompt at a
time and only while the engine executor has nothing else to do, so a learner's
turn never queues behind it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ustad.runtime.executor import EngineExecutor, Priority, engine_priority
from ustad.runtime.speech_service import SpeechService
from ustad.settings import AudioFormat, AudioStoreSettings
from ustad.speech.phrasebank import Phrase
from ustad.speech.types import SpokenText
from ustad.tutor.texts import full_sentence, you_said
from ustad.vocabulary import LanguageMode

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 10
"""After this many failures in a row the store or an engine is broken: give up
rather than log the same error for every phrase."""


def phrase_prompts(
    phrases: Iterable[Phrase], modes: Sequence[LanguageMode], *, limit: int | None = None
) -> list[SpokenText]:
    """The ``you_said`` and ``full_sentence`` replies of the first ``limit`` phrases.

    Built with the same functions and arguments as the live replies (on a phrase-bank
    match the transcript becomes the phrase's Urdu spelling and the translation its
    English), so their cache keys are the ones a live turn computes.
    """
    prompts: dict[SpokenText, None] = {}
    for index, phrase in enumerate(phrases):
        if limit is not None and index >= limit:
            break
        for mode in modes:
            prompts[you_said(mode, phrase.urdu, phrase.english)] = None
            prompts[full_sentence(mode, phrase.english)] = None
    return list(prompts)


@dataclass(frozen=True)
class PregenerationResult:
    """What one run did."""

    total: int
    generated: int
    """Prompts synthesised and written."""
    skipped: int
    """Prompts already in the store."""
    failed: int
    seconds: float

    @property
    def done(self) -> int:
        """Prompts handled so far."""
        return self.generated + self.skipped + self.failed


async def wait_until_idle(executor: EngineExecutor, poll_seconds: float = 0.05) -> None:
    """Return once no engine call is waiting or running."""
    # Polling, because the executor has no "idle" event and a 50 ms delay in a
    # background job costs nothing.
    while executor.queued > 0:  # noqa: ASYNC110
        await asyncio.sleep(poll_seconds)


class _Progress:
    """Counters shared by the workers of one run, and the periodic progress log."""

    def __init__(self, total: int, log_every_seconds: float) -> None:
        self.total = total
        self.generated = 0
        self.skipped = 0
        self.failed = 0
        self.consecutive_failures = 0
        self.started = time.perf_counter()
        self._log_every = log_every_seconds
        self._last_log = self.started

    def result(self) -> PregenerationResult:
        return PregenerationResult(
            self.total,
            self.generated,
            self.skipped,
            self.failed,
            time.perf_counter() - self.started,
        )

    def maybe_log(self) -> None:
        now = time.perf_counter()
        if now - self._last_log >= self._log_every:
            self._last_log = now
            r = self.result()
            log.info(
                "pre-generating prompts: %d/%d (%d new, %d present, %d failed)",
                r.done,
                r.total,
                r.generated,
                r.skipped,
                r.failed,
            )


async def pregenerate_prompts(
    speech: SpeechService,
    prompts: Sequence[SpokenText],
    *,
    fmt: AudioFormat | None = None,
    yield_to_traffic: bool = True,
    concurrency: int = 1,
    poll_seconds: float = 0.05,
    log_every_seconds: float = 10.0,
) -> PregenerationResult:
    """Synthesise every prompt missing from the disk store.

    With ``yield_to_traffic`` each prompt waits until the executor is idle; with
    ``concurrency=1`` (what the server uses) the job then holds at most one executor
    thread at a time. Cancelling stops it between engine calls (a store write in
    flight still completes: files are renamed into place whole).
    """
    if speech.store is None:
        raise RuntimeError("pre-generation needs the disk audio store (USTAD_AUDIO_STORE)")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    progress = _Progress(len(prompts), log_every_seconds)
    pending = iter(prompts)
    gave_up = asyncio.Event()

    async def worker() -> None:
        # Workers share one iterator: each takes the next prompt nobody has taken.
        for spoken in pending:
            if gave_up.is_set():
                return
            if yield_to_traffic:
                await wait_until_idle(speech.executor, poll_seconds)
            try:
                # Behind every learner's turn and REST request for the engine threads.
                with engine_priority(Priority.BACKGROUND):
                    fresh = await speech.prestore(spoken, fmt=fmt)
            except Exception:
                progress.failed += 1
                progress.consecutive_failures += 1
                log.exception("could not pre-generate %r", spoken.text)
                if progress.consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
                    log.error(
                        "pre-generation gave up after %d failures in a row",
                        MAX_CONSECUTIVE_FAILURES,
                    )
                    gave_up.set()
                    return
                continue
            progress.consecutive_failures = 0
            if fresh:
                progress.generated += 1
            else:
                progress.skipped += 1
            progress.maybe_log()

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    except asyncio.CancelledError:
        result = progress.result()
        log.info(
            "pre-generation cancelled after %d/%d prompts (%d new)",
            result.done,
            result.total,
            result.generated,
        )
        raise
    result = progress.result()
    log.info(
        "pre-generated %d prompts in %.1f s: %d new, %d already stored, %d failed",
        result.total,
        result.seconds,
        result.generated,
        result.skipped,
        result.failed,
    )
    return result


class BackgroundPregeneration:
    """The server's pre-generation task: started after start-up, cancelled at shutdown."""

    def __init__(self, task: asyncio.Task[PregenerationResult]) -> None:
        self.task = task

    @classmethod
    def start(
        cls,
        speech: SpeechService,
        prompts: Sequence[SpokenText],
        *,
        poll_seconds: float = 0.05,
        log_every_seconds: float = 30.0,
    ) -> BackgroundPregeneration:
        """Start the job on the running loop (returns at once; readiness is not delayed)."""

        async def run() -> PregenerationResult:
            store = speech.store
            assert store is not None
            stats = await store.refresh()
            log.info(
                "pre-generating %d phrase prompts in the background (%d files, %d bytes stored)",
                len(prompts),
                stats.files,
                stats.bytes,
            )
            return await pregenerate_prompts(
                speech,
                prompts,
                poll_seconds=poll_seconds,
                log_every_seconds=log_every_seconds,
            )

        return cls(asyncio.create_task(run(), name="ustad-pregenerate-phrases"))

    async def stop(self) -> None:
        """Cancel the job (if still running) and wait for it to end."""
        self.task.cancel()
        # wait() neither raises the task's error nor swallows a cancellation of stop().
        await asyncio.wait([self.task])
        if not self.task.cancelled() and self.task.exception() is not None:
            log.error("phrase pre-generation failed", exc_info=self.task.exception())


def start_phrase_pregeneration(
    speech: SpeechService, phrases: Iterable[Phrase], settings: AudioStoreSettings
) -> BackgroundPregeneration | None:
    """The background job the settings ask for, or ``None`` (disabled or no store)."""
    if not settings.pregenerate_phrases or speech.store is None:
        return None
    prompts = phrase_prompts(phrases, settings.pregenerate_modes)
    if not prompts:
        return None
    # Workers sharing a store start at different places, so they split the work
    # instead of all synthesising the same prompt at the same moment.
    offset = random.randrange(len(prompts))
    return BackgroundPregeneration.start(speech, [*prompts[offset:], *prompts[:offset]])
