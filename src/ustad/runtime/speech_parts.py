"""Small parts of the speech layer: the spoken form of reply text, and the values its
caches hold (kept apart from ``speech_service`` so the shared tier's codecs can use them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ustad.speech.text_chunks import speakable_chunks
from ustad.speech.types import Pcm, Segment, Translation
from ustad.text.english import voice_english
from ustad.text.urdu import spoken_urdu


def spoken_pieces(segments: Sequence[Segment], max_chars: int) -> list[Segment]:
    """The segments in their spoken form (:func:`spoken_form`), each cut into pieces of
    at most ``max_chars`` characters (:func:`ustad.speech.text_chunks.speakable_chunks`)."""
    return [
        Segment(segment.language, piece)
        for segment in segments
        for piece in speakable_chunks(spoken_form(segment), max_chars)
    ]


def spoken_form(segment: Segment) -> str:
    """What a segment's voice says: the spoken form of its text in its language.

    English: :func:`ustad.text.english.voice_english` ("$500" -> five hundred dollars);
    Urdu: :func:`ustad.text.urdu.spoken_urdu` (every digit script said). Markup, emoji and
    control characters are dropped; "" when nothing is left to say. The voices apply the
    same again (it changes nothing the second time), so any caller of a voice gets it.
    """
    if segment.language == "en":
        return voice_english(segment.text)
    return spoken_urdu(segment.text)


@dataclass(frozen=True)
class StandIn(Pcm):
    """A local voice's speech said in place of a remote voice that failed: it is used
    for this reply but never cached or stored, so the remote voice is heard again once
    the provider is back."""


@dataclass(frozen=True)
class Answer:
    """A cached translation result; ``None`` (no provider could translate) is cached too."""

    translation: Translation | None

    def size(self) -> int:
        """Bytes of text held."""
        if self.translation is None:
            return 0
        t = self.translation
        return len(t.text.encode()) + len((t.source_text or "").encode())
