"""Command line: ``ustad serve | assess | say | pregenerate``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from ustad.assess.types import Assessment
from ustad.cpu_budget import MAX_ENGINE_WORKERS, usable_cores
from ustad.learn.pregeneration import PregenerationResult, phrase_prompts, pregenerate_prompts
from ustad.learn.processor import NoSpeechError, TurnProcessor
from ustad.logs import configure_logging
from ustad.runtime.blas_threads import limit_blas_threads
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.services import build_processor, build_speech
from ustad.settings import AudioFormat, Settings
from ustad.speech.audio import AudioDecodeError, AudioTooLongError
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import SpokenText
from ustad.tutor.feedback import feedback
from ustad.tutor.texts import by_script
from ustad.vocabulary import LanguageMode


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ustad`` command."""
    parser = argparse.ArgumentParser(prog="ustad", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP/WebSocket server")
    serve.add_argument("--host", help="interface (default: USTAD_SERVER__HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: USTAD_SERVER__PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes")

    assess = commands.add_parser("assess", help="assess an English recording, print JSON")
    assess.add_argument("file", type=Path, help="the recording (WAV, WebM, Ogg, MP3, M4A...)")
    assess.add_argument("--text", required=True, help="the sentence the learner meant to say")
    assess.add_argument(
        "--mode",
        choices=["english", "urdu"],
        default="english",
        help="language of the feedback text",
    )

    say = commands.add_parser("say", help="synthesise speech to a file")
    say.add_argument("text", help="what to say (Urdu-script runs use the Urdu voice)")
    say.add_argument("-o", "--output", type=Path, required=True, help="output file")
    say.add_argument("--voice", choices=["auto", "en", "ur"], default="auto")
    say.add_argument(
        "--format",
        choices=list(get_args(AudioFormat)),
        help="audio format (default: from the output's extension)",
    )
    say.add_argument("--speed", type=float, default=1.0)

    pregenerate = commands.add_parser(
        "pregenerate", help="synthesise the phrase bank's spoken prompts into the audio store"
    )
    pregenerate.add_argument("--limit", type=int, help="only the first N phrases")

    # Its options belong to ustad.bench.cli (``ustad bench --help``): passed through.
    commands.add_parser("bench", add_help=False, help="load-test a server with simulated learners")

    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        from ustad.bench.cli import run as bench

        return bench(extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "assess":
        return _assess(settings, args.file, args.text, args.mode)
    if args.command == "pregenerate":
        return _pregenerate(settings, args.limit)
    return _say(settings, args.text, args.output, args.voice, args.format, args.speed)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int) -> int:
    import uvicorn

    from ustad.app import uvicorn_options

    if workers > 1 and not settings.runtime.executor_workers:
        # Each worker process builds its own settings: split the cores between them
        # rather than let every one size its engine pool to all of them.
        share = min(MAX_ENGINE_WORKERS, max(1, usable_cores() // workers))
        os.environ["USTAD_RUNTIME__EXECUTOR_WORKERS"] = str(share)
    uvicorn.run(
        "ustad.app:serve_app",
        factory=True,
        host=host or settings.server.host,
        port=port or settings.server.port,
        workers=workers,
        loop="uvloop",
        log_config=None,
        **uvicorn_options(settings),
    )
    return 0


def _assess(settings: Settings, file: Path, text: str, mode: LanguageMode) -> int:
    if not file.is_file():
        print(f"ustad: no such file: {file}", file=sys.stderr)
        return 2
    data = file.read_bytes()

    async def run() -> Assessment:
        services = await _offline_services(settings)
        try:
            return await services.processor.assess_recording(
                data, text, format_hint=file.suffix.lstrip(".") or None
            )
        finally:
            services.close()

    try:
        assessment = asyncio.run(run())
    except (AudioDecodeError, AudioTooLongError, NoSpeechError) as error:
        print(f"ustad: {error}", file=sys.stderr)
        return 1
    result = assessment.to_dict()
    result["feedback"] = feedback(assessment, mode).text
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _say(
    settings: Settings, text: str, output: Path, voice: str, fmt: str | None, speed: float
) -> int:
    requested = (fmt or output.suffix.lstrip(".").lower() or "mp3").replace("ogg", "opus")
    formats: dict[str, AudioFormat] = {f: f for f in get_args(AudioFormat)}
    out_format = formats.get(requested)
    if out_format is None:
        print(f"ustad: unsupported format {requested!r} (mp3, opus, wav)", file=sys.stderr)
        return 2
    spoken = (
        by_script(text)
        if voice == "auto"
        else SpokenText.single("ur" if voice == "ur" else "en", text)
    )
    if not spoken.segments:
        print("ustad: nothing to say", file=sys.stderr)
        return 2

    async def run() -> bytes:
        services = await _offline_services(settings)
        try:
            return await services.speech.speak(spoken, fmt=out_format, speed=speed)
        finally:
            services.close()

    audio = asyncio.run(run())
    output.write_bytes(audio)
    print(f"wrote {len(audio)} bytes to {output}", file=sys.stderr)
    return 0


def _pregenerate(settings: Settings, limit: int | None) -> int:
    if not settings.audio_store.enabled:
        print("ustad: the audio store is disabled (USTAD_AUDIO_STORE__ENABLED)", file=sys.stderr)
        return 2
    if limit is not None and limit < 1:
        print("ustad: --limit must be at least 1", file=sys.stderr)
        return 2
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    prompts = phrase_prompts(phrases, settings.audio_store.pregenerate_modes, limit=limit)

    async def run() -> PregenerationResult:
        services = await _offline_services(settings)
        try:
            # Nothing else runs in this process: use every engine thread.
            return await pregenerate_prompts(
                services.speech,
                prompts,
                yield_to_traffic=False,
                concurrency=settings.runtime.engine_workers,
            )
        finally:
            services.close()

    result = asyncio.run(run())
    print(
        f"{result.total} prompts in {settings.audio_store.dir}: {result.generated} new, "
        f"{result.skipped} already stored, {result.failed} failed ({result.seconds:.1f} s)",
        file=sys.stderr,
    )
    return 1 if result.failed else 0


@dataclass
class _Offline:
    """Engines without the database, for one-shot commands."""

    executor: EngineExecutor
    io_executor: EngineExecutor
    speech: SpeechService
    processor: TurnProcessor
    restore_blas: Callable[[], None]

    def close(self) -> None:
        """Stop the engine and I/O threads; restore numpy's BLAS threads."""
        self.executor.shutdown()
        self.io_executor.shutdown()
        self.restore_blas()


async def _offline_services(settings: Settings) -> _Offline:
    settings = settings.effective()  # as the server runs them (baseline mode too)
    executor = EngineExecutor(settings.runtime.engine_workers)
    io_executor = EngineExecutor(settings.runtime.io_workers, name="io")
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    speech = await executor.run(lambda: build_speech(settings, executor, phrases, io_executor))
    processor = build_processor(settings, speech)
    # As the server runs them: numpy's BLAS on the engines' threads per call.
    restore_blas = limit_blas_threads(settings.stt.cpu_threads)
    return _Offline(executor, io_executor, speech, processor, restore_blas)


if __name__ == "__main__":
    raise SystemExit(main())
