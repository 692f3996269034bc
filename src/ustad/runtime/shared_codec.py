"""How shared values are written to Redis: a small JSON header and raw bytes.

A value in Redis is ``MAGIC``, the header's length (4 bytes, big-endian), the header
(UTF-8 JSON object) and the body (raw bytes, e.g. encoded audio). Nothing is pickled
or evaluated: a value another program (or an older ustad) wrote can at worst be
refused. Every check that fails raises ``ValueError``; the shared cache counts it as
a rejected value and treats it as a miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any, Final, Generic, Protocol, TypeVar, get_args

from ustad.runtime.audio_store import StoredAudio, is_digest
from ustad.runtime.speech_parts import Answer
from ustad.settings import AudioFormat
from ustad.speech.types import Translation

MAGIC: Final = b"ustad\x01"
"""Marks a value as ustad's, version 1 of this layout."""
_MAX_HEADER_BYTES: Final = 64 * 1024

V = TypeVar("V")


class Codec(Protocol, Generic[V]):
    """Turns one kind of value into a header and a body and back."""

    kind: str
    """Written into the header; a value of another kind is refused."""

    def to_parts(self, value: V) -> tuple[dict[str, Any], bytes]:
        """The value's JSON-able header fields and its raw body."""
        ...

    def from_parts(self, header: dict[str, Any], body: bytes) -> V:
        """The value back (``ValueError`` when the parts do not make one)."""
        ...


def pack(codec: Codec[V], value: V) -> bytes:
    """The bytes stored in Redis for ``value``."""
    fields, body = codec.to_parts(value)
    header = json.dumps({"kind": codec.kind, **fields}, separators=(",", ":")).encode()
    return MAGIC + len(header).to_bytes(4, "big") + header + body


def unpack(codec: Codec[V], raw: bytes, max_bytes: int) -> V:
    """The value packed in ``raw``; ``ValueError`` when it is larger than ``max_bytes``,
    not ustad's layout, not JSON, or of another kind."""
    if len(raw) > max_bytes:
        raise ValueError(f"value of {len(raw)} bytes is over the {max_bytes}-byte bound")
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 4:
        raise ValueError("not a value ustad wrote")
    start = len(MAGIC) + 4
    size = int.from_bytes(raw[len(MAGIC) : start], "big")
    if size > min(_MAX_HEADER_BYTES, len(raw) - start):
        raise ValueError("header length out of bounds")
    try:
        header = json.loads(raw[start : start + size].decode("utf-8"), parse_constant=_refuse)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"header is not JSON: {error}") from error
    if not isinstance(header, dict) or header.get("kind") != codec.kind:
        raise ValueError(f"not a {codec.kind} value")
    return codec.from_parts(header, raw[start + size :])


def _refuse(constant: str) -> object:
    """``json.loads``' hook for ``NaN`` and ``Infinity``, which JSON has not and ustad
    never writes: refused, so no such number reaches a score or the database."""
    raise ValueError(f"header holds {constant}, not a JSON number")


class AudioCodec:
    """A synthesised reply: digest and format in the header, the encoded audio as body
    (checked against the digest when read; read back as not yet on this worker's disk)."""

    kind = "reply_audio"

    def to_parts(self, value: StoredAudio) -> tuple[dict[str, Any], bytes]:
        """Header ``{"digest", "format"}``, body the audio bytes."""
        return {"digest": value.digest, "format": value.format}, value.data

    def from_parts(self, header: dict[str, Any], body: bytes) -> StoredAudio:
        """The reply; ``ValueError`` for an unknown format or a digest that does not match."""
        fmt, digest = header.get("format"), header.get("digest")
        formats: tuple[AudioFormat, ...] = get_args(AudioFormat)
        known = next((f for f in formats if f == fmt), None)
        if known is None or not isinstance(digest, str) or not is_digest(digest):
            raise ValueError("reply audio with a bad format or digest")
        if hashlib.sha256(body).hexdigest() != digest:
            raise ValueError("reply audio does not match its digest")
        return StoredAudio(body, digest, known)


_TRANSLATION_FIELDS: Final[dict[str, tuple[type, ...]]] = {
    "text": (str,),
    "provider": (str,),
    "score": (int, float),
    "source_text": (str, type(None)),
    "entry_id": (str, type(None)),
    "confidence": (int, float, type(None)),
}


class TranslationCodec:
    """A translation answer (``None``: no provider could translate) as JSON, no body."""

    kind = "translation"

    def to_parts(self, value: Answer) -> tuple[dict[str, Any], bytes]:
        """Header ``{"translation": {...} | null}``, empty body."""
        found = value.translation
        return {"translation": None if found is None else asdict(found)}, b""

    def from_parts(self, header: dict[str, Any], body: bytes) -> Answer:
        """The answer; ``ValueError`` for missing, extra or mistyped fields."""
        found = header.get("translation")
        if found is None:
            return Answer(None)
        if not isinstance(found, dict) or set(found) != set(_TRANSLATION_FIELDS):
            raise ValueError("translation with unexpected fields")
        for name, types in _TRANSLATION_FIELDS.items():
            if not isinstance(found[name], types) or isinstance(found[name], bool):
                raise ValueError(f"translation field {name} has the wrong type")
        return Answer(Translation(**found))
