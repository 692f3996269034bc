"""A transcription sent as it is decoded: text pieces as the recogniser writes them.

``stream_transcription`` asks a recogniser that can stream (``SegmentStreamer``:
Whisper through faster-whisper's lazy segments) for its segments on the engine
executor, bridged to async code by ``thread_bridge.iterate_on`` (a bounded queue; a
consumer that goes away stops the decoding). A remote recogniser, tried first when
configured, answers whole; so does an engine that cannot stream: their segments (or
whole text) then follow one another at once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from ustad.runtime.speech_service import SpeechService
from ustad.runtime.thread_bridge import iterate_on
from ustad.speech.types import Audio, SegmentStreamer, Task, TranscriptSegment

MAX_QUEUED_SEGMENTS = 8
"""Decoded segments that may wait for a slow client before the decoding waits too."""


async def stream_transcription(
    speech: SpeechService,
    audio: Audio,
    *,
    english: bool,
    language: str | None = None,
    task: Task = "transcribe",
) -> AsyncGenerator[str]:
    """The text of ``audio`` in pieces, each yielded as soon as the recogniser has it:
    one per segment, each after the first with the space that joins it, so that the
    pieces concatenate to the whole text (stripped). ``english`` picks the English
    model, as ``SpeechService.transcribe``.

    Raises ``ValueError`` (at the first piece) for a ``language`` or ``task`` the model
    cannot take, and the engine's errors as they happen."""
    texts = _segment_texts(speech, audio, english, language, task)
    first = True
    try:
        async for text in texts:
            if text:
                yield text if first else " " + text
                first = False
    finally:
        await texts.aclose()  # a consumer that went away stops the decoding now


async def _segment_texts(
    speech: SpeechService, audio: Audio, english: bool, language: str | None, task: Task
) -> AsyncGenerator[str]:
    engine = speech.english_stt if english else speech.multilingual_stt
    remote = speech.remote.stt is not None and task == "transcribe"
    if remote or not isinstance(engine, SegmentStreamer):
        transcript = await speech.transcribe(audio, english=english, language=language, task=task)
        for text in [s.text for s in transcript.segments] or [transcript.text.strip()]:
            yield text
        return
    streamer: SegmentStreamer = engine
    model = "english" if english else "multilingual"
    speech.engine_calls[f"stt_{model}_{task}_stream"] += 1
    segments: AsyncGenerator[TranscriptSegment] = iterate_on(
        speech.executor,
        lambda: streamer.stream_segments(audio, language=language, task=task),
        max_queued=MAX_QUEUED_SEGMENTS,
    )
    try:
        async for segment in segments:
            yield segment.text
    finally:
        await segments.aclose()
