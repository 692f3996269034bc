"""What the disk audio store saves: a phrase prompt synthesised vs read back after a restart.

Loads the real engines once (Piper, espeak-ng, the configured format), then for the
``you_said`` and ``full_sentence`` prompts of the first N phrases in both language
modes measures, per reply:

* ``synthesise``: memory and disk empty (segments synthesised, encoded, written);
* ``disk``: a restart simulated by emptying the memory caches (read + digest check);
* ``memory``: the in-process cache.

Each round uses a fresh store directory in a temp dir; medians over rounds and prompts.
Usage: ``.venv/bin/python benchmarks/audio_store.py [--phrases N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ustad.learn.pregeneration import phrase_prompts
from ustad.runtime.audio_store import AudioStore
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.services import build_speech
from ustad.settings import Settings
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import SpokenText


async def timed(speech: SpeechService, prompts: list[SpokenText]) -> list[float]:
    """Milliseconds per ``speak_stored``; asserts every reply landed on disk."""
    out = []
    for spoken in prompts:
        started = time.perf_counter()
        stored = await speech.speak_stored(spoken)
        out.append((time.perf_counter() - started) * 1000)
        assert stored.on_disk
    return out


async def main(phrase_count: int, rounds: int) -> None:
    settings = Settings()
    executor = EngineExecutor(settings.runtime.engine_workers)
    io_executor = EngineExecutor(settings.runtime.io_workers, name="io")
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    speech = await executor.run(lambda: build_speech(settings, executor, phrases, io_executor))
    prompts = phrase_prompts(phrases, ["urdu", "english"], limit=phrase_count)
    results: dict[str, list[float]] = {"synthesise": [], "disk": [], "memory": []}
    sizes: list[int] = []
    try:
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as root:
                speech.store = AudioStore(Path(root), io=io_executor)
                speech.audio_cache.clear()
                speech.segment_cache.clear()
                results["synthesise"] += await timed(speech, prompts)
                sizes.append(speech.audio_cache.stats().bytes)
                speech.audio_cache.clear()
                speech.segment_cache.clear()
                results["disk"] += await timed(speech, prompts)
                results["memory"] += await timed(speech, prompts)
    finally:
        executor.shutdown()
        io_executor.shutdown()
    print(
        f"{len(prompts)} prompts x {rounds} rounds, format {settings.tts.audio_format}, "
        f"{statistics.median(sizes) / len(prompts) / 1024:.1f} KiB per reply"
    )
    base = statistics.median(results["synthesise"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:>10}: median {median:8.3f} ms per reply  ({base / median:7.1f}x faster)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phrases", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.phrases, args.rounds))
