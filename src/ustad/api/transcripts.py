"""A ``Transcript`` in the shapes of OpenAI's audio API: verbose JSON, SRT, WebVTT.

Segments are the recogniser's own when it gives them (``Transcript.segments``:
Whisper's segments with their span, mean token log-prob, gzip compression ratio,
no-speech probability, temperature and token ids). An engine that gives only a text
and its timed words (a remote provider answering ``json``, or ``verbose_json``
without segments) has its segments rebuilt from the words: a segment ends after a
word that ends a sentence (``.``, ``!``, ``?``, ``۔``, ``؟``), before a pause of
``PAUSE_SECONDS`` or more, or once it has lasted ``MAX_SEGMENT_SECONDS``; each then
carries the transcript's mean token log-prob and no-speech probability, its own
compression ratio as Whisper computes it, and no token ids. Without either, the whole
text is one segment over the whole clip.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Final

from ustad.speech.types import Transcript, TranscriptSegment, Word

PAUSE_SECONDS: Final = 1.0
"""A silence between two words at least this long starts a new segment."""
MAX_SEGMENT_SECONDS: Final = 30.0
"""No rebuilt segment lasts longer (Whisper's own window)."""
_SENTENCE_ENDS: Final = (".", "!", "?", "۔", "؟")


def timed_segments(transcript: Transcript) -> list[TranscriptSegment]:
    """The transcript's segments (see the module's doc), in order; none for an empty
    text."""
    text = transcript.text.strip()
    if not text:
        return []
    if transcript.segments:
        return list(transcript.segments)
    if not transcript.words:
        return [_rebuilt(transcript, text, 0.0, max(transcript.duration, 0.0))]
    segments: list[TranscriptSegment] = []
    current: list[Word] = []
    for word in transcript.words:
        if current and _breaks(current, word):
            segments.append(_joined(transcript, current))
            current = []
        current.append(word)
    if current:
        segments.append(_joined(transcript, current))
    return segments


def _rebuilt(transcript: Transcript, text: str, start: float, end: float) -> TranscriptSegment:
    return TranscriptSegment(
        text=text,
        start=start,
        end=end,
        avg_logprob=transcript.avg_logprob,
        compression_ratio=compression_ratio(text),
        no_speech_prob=transcript.no_speech_probability,
    )


def _breaks(current: Sequence[Word], following: Word) -> bool:
    last = current[-1]
    return (
        last.text.endswith(_SENTENCE_ENDS)
        or following.start - last.end >= PAUSE_SECONDS
        or following.end - current[0].start > MAX_SEGMENT_SECONDS
    )


def _joined(transcript: Transcript, words: Sequence[Word]) -> TranscriptSegment:
    return _rebuilt(transcript, " ".join(w.text for w in words), words[0].start, words[-1].end)


def compression_ratio(text: str) -> float:
    """Bytes of ``text`` over bytes of its zlib compression (Whisper's repetition
    measure: above 2.4 a decode is taken to loop); 0.0 for empty text."""
    data = text.encode()
    return round(len(data) / len(zlib.compress(data)), 3) if data else 0.0


def verbose_json(
    transcript: Transcript, *, task: str, words: bool, segments: bool, language: str
) -> dict[str, Any]:
    """OpenAI's ``verbose_json``: ``task``, ``language`` (a name, e.g. ``english``),
    ``duration`` (s), ``text``, ``segments`` (when asked) and ``words`` (when asked:
    ``word``, ``start``, ``end`` in s, and ustad's ``probability``, 0-1)."""
    body: dict[str, Any] = {
        "task": task,
        "language": language,
        "duration": round(transcript.duration, 3),
        "text": transcript.text.strip(),
    }
    if segments:
        body["segments"] = [
            {
                "id": index,
                "seek": 0,
                "start": round(segment.start, 2),
                "end": round(segment.end, 2),
                "text": " " + segment.text,
                "tokens": list(segment.tokens),
                "temperature": segment.temperature,
                "avg_logprob": round(segment.avg_logprob, 4),
                "compression_ratio": round(segment.compression_ratio, 3),
                "no_speech_prob": round(segment.no_speech_prob, 4),
            }
            for index, segment in enumerate(timed_segments(transcript))
        ]
    if words:
        body["words"] = [
            {
                "word": w.text,
                "start": round(w.start, 2),
                "end": round(w.end, 2),
                "probability": round(w.probability, 3),
            }
            for w in transcript.words
        ]
    body["usage"] = {"type": "duration", "seconds": round(transcript.duration, 3)}
    return body


def subtitles(transcript: Transcript, kind: str) -> str:
    """The transcript as SubRip (``kind="srt"``) or WebVTT (``"vtt"``) cues, one per
    segment. Raises ``ValueError`` for another ``kind``."""
    if kind not in ("srt", "vtt"):
        raise ValueError(f"unknown subtitle format {kind!r}")
    separator = "," if kind == "srt" else "."
    cues = []
    for index, segment in enumerate(timed_segments(transcript), start=1):
        span = f"{_clock(segment.start, separator)} --> {_clock(segment.end, separator)}"
        cue = f"{index}\n{span}\n{segment.text}" if kind == "srt" else f"{span}\n{segment.text}"
        cues.append(cue)
    if kind == "vtt":
        return "WEBVTT\n\n" + "".join(f"{cue}\n\n" for cue in cues)
    return "".join(f"{cue}\n\n" for cue in cues)


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
