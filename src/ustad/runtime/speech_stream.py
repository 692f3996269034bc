"""Speech sent as it is synthesised: sentence by sentence, encoded as it goes.

``SpeechService.speak`` renders a whole reply before a byte leaves (the tutor's replies
are short and cached whole). An API caller asking for a long text wants to start
playing after the first sentence: ``stream_speech`` says the text one sentence (or
bounded piece) at a time through the same cached per-piece synthesis, encodes each
piece as soon as it is ready with a ``StreamEncoder``, and synthesises the next piece
while the current one is encoded and sent. Every engine call runs in the service's
bounded executor; a client that goes away stops the work after the piece in hand.

The seconds actually said are counted as they are synthesised: an estimate from the
text cannot know what a voice makes of it (espeak-ng says "ﷺ" in 1.3 s, Piper reads
"1e999" digit by digit), so past ``max_seconds`` the stream ends there, cleanly (the
piece that crosses the limit cut at it, the encoder finished), and a first piece that
is already too long is an error before any audio is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence

from ustad.runtime.speech_parts import spoken_form
from ustad.runtime.speech_service import SpeechService
from ustad.speech.stream_encoding import StreamEncoder, StreamFormat, silence
from ustad.speech.text_chunks import SENTENCE_END, speakable_chunks
from ustad.speech.types import Pcm, Segment, SpokenText

log = logging.getLogger(__name__)


class SpeechTooLongError(Exception):
    """The first piece of a stream already says more than its ``max_seconds``."""

    def __init__(self, seconds: float, limit: float) -> None:
        super().__init__(f"{seconds:.0f} s of speech; the limit is {limit:.0f} s")
        self.seconds = seconds
        self.limit = limit


def sentence_pieces(segments: Sequence[Segment], max_chars: int) -> list[Segment]:
    """The segments in their spoken form, one piece per sentence (a sentence longer
    than ``max_chars`` characters cut further by ``speakable_chunks``), in order."""
    pieces: list[Segment] = []
    for segment in segments:
        for sentence in SENTENCE_END.split(spoken_form(segment)):
            pieces.extend(
                Segment(segment.language, chunk) for chunk in speakable_chunks(sentence, max_chars)
            )
    return pieces


async def stream_speech(
    speech: SpeechService,
    spoken: SpokenText,
    *,
    fmt: StreamFormat,
    speed: float = 1.0,
    max_seconds: float | None = None,
) -> AsyncGenerator[bytes]:
    """The encoded audio of ``spoken`` in ``fmt``, yielded piece by piece as each is
    synthesised (never an empty chunk; WAV opens with a header whose sizes say
    "unknown", as OpenAI streams it). Pieces are joined by ``tts.gap_seconds`` of
    silence; the rate is ``tts.sample_rate`` (Opus 48 kHz, ``pcm`` 24 kHz).

    At most ``max_seconds`` of audio (gaps included) is sent: the piece that reaches it
    is cut there and the stream finished; the rest is not synthesised.

    Raises ``ValueError`` when there is nothing to say (checked before anything is
    synthesised), ``SpeechTooLongError`` when the first piece alone is longer than
    ``max_seconds`` (nothing sent), and the engines' errors as they happen."""
    tts = speech.tts
    pieces = await asyncio.to_thread(sentence_pieces, spoken.segments, tts.max_chunk_chars)
    if not pieces:
        raise ValueError("nothing to say")
    bitrate = {"mp3": tts.mp3_bitrate, "opus": tts.opus_bitrate}.get(fmt)
    encoder = StreamEncoder(
        fmt, sample_rate=tts.sample_rate, bitrate=bitrate, mp3_quality=tts.mp3_quality
    )
    speech.requests["tts_streams"] += 1
    speech.engine_calls[f"encode_{fmt}"] += 1
    gap = silence(tts.gap_seconds, encoder.sample_rate)

    def synthesis(index: int) -> asyncio.Task[Pcm]:
        return asyncio.ensure_future(speech.synthesize_segment(pieces[index], speed=speed))

    upcoming: asyncio.Task[Pcm] | None = synthesis(0)
    said = 0.0
    try:
        for index in range(len(pieces)):
            assert upcoming is not None
            pcm = await upcoming
            parts = (pcm,) if index == 0 else (gap, pcm)
            seconds = sum(part.duration for part in parts)
            over = max_seconds is not None and said + seconds > max_seconds
            if over and index == 0:
                raise SpeechTooLongError(seconds, max_seconds or 0.0)
            if max_seconds is not None and over:
                # Cut at the limit; the gap comes first, so whatever is left is speech.
                left = max(0.0, max_seconds - said - gap.duration)
                parts = (gap, Pcm(pcm.samples[: round(left * pcm.sample_rate)], pcm.sample_rate))
                log.info("streamed speech cut at its limit of %.0f s", max_seconds)
            said += seconds
            # The next piece is synthesised while this one is encoded and sent.
            more = index + 1 < len(pieces) and not over
            upcoming = synthesis(index + 1) if more else None

            def encode(parts: tuple[Pcm, ...] = parts) -> bytes:
                return b"".join(encoder.add(part) for part in parts)

            chunk = await speech.executor.run(encode)
            if chunk:
                yield chunk
            if over:
                break
        tail = await speech.executor.run(encoder.finish)
        if tail:
            yield tail
    finally:
        if upcoming is not None:
            upcoming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upcoming
        encoder.close()
