"""Values in Redis: JSON header and raw bytes, round-tripped and refused when wrong."""

from __future__ import annotations

import hashlib
import json

import pytest

from ustad.runtime.audio_store import StoredAudio
from ustad.runtime.shared_codec import MAGIC, AudioCodec, TranslationCodec, pack, unpack
from ustad.runtime.speech_parts import Answer
from ustad.speech.types import Translation

LIMIT = 1 << 20


def raw(header: object, body: bytes = b"") -> bytes:
    encoded = json.dumps(header).encode()
    return MAGIC + len(encoded).to_bytes(4, "big") + encoded + body


def audio_value(digest: str, fmt: str, data: bytes) -> bytes:
    return raw({"kind": "reply_audio", "digest": digest, "format": fmt}, data)


def test_reply_audio_round_trips_and_is_not_marked_on_disk() -> None:
    audio = StoredAudio.of(b"ID3 some mp3 bytes \x00\xff", "mp3")
    back = unpack(AudioCodec(), pack(AudioCodec(), audio), LIMIT)
    assert back == StoredAudio(audio.data, audio.digest, "mp3", on_disk=False)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(None),
        Answer(Translation("Hello.", "fake-mt")),
        Answer(Translation("ہیلو", "memory", 91.5, "سلام", "p-12", 0.915)),
    ],
)
def test_translations_round_trip(answer: Answer) -> None:
    assert unpack(TranslationCodec(), pack(TranslationCodec(), answer), LIMIT) == answer


def test_audio_that_does_not_match_its_digest_is_refused() -> None:
    data = b"the audio"
    wrong = hashlib.sha256(b"other audio").hexdigest()
    with pytest.raises(ValueError, match="digest"):
        unpack(
            AudioCodec(),
            raw({"kind": "reply_audio", "digest": wrong, "format": "mp3"}, data),
            LIMIT,
        )
    right = hashlib.sha256(data).hexdigest()
    with pytest.raises(ValueError, match="format"):
        unpack(
            AudioCodec(),
            raw({"kind": "reply_audio", "digest": right, "format": "exe"}, data),
            LIMIT,
        )


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94.",  # a pickle
        MAGIC + b"\x00\x00",  # cut short
        MAGIC + (10**6).to_bytes(4, "big") + b"{}",  # header longer than the value
        MAGIC + b"\x00\x00\x00\x03" + b"\xff\xfe\xfd",  # not UTF-8
        raw(["kind", "translation"]),  # not an object
        raw({"kind": "reply_audio", "translation": None}),  # another kind
        raw({"kind": "translation", "translation": {"text": "x"}}),  # missing fields
        raw(
            {
                "kind": "translation",
                "translation": {
                    "text": "x",
                    "provider": "p",
                    "score": True,  # a bool is not a score
                    "source_text": None,
                    "entry_id": None,
                    "confidence": None,
                },
            }
        ),
        raw(
            {
                "kind": "translation",
                "translation": {
                    "text": "x",
                    "provider": "p",
                    "score": 1,
                    "source_text": None,
                    "entry_id": None,
                    "confidence": None,
                    "__class__": "os.system",
                },
            }
        ),
        raw(
            {
                "kind": "translation",
                "translation": {
                    "text": "x",
                    "provider": "p",
                    "score": float("inf"),  # not JSON; would be stored as a score
                    "source_text": None,
                    "entry_id": None,
                    "confidence": float("nan"),
                },
            }
        ),
    ],
)
def test_malformed_values_are_refused(value: bytes) -> None:
    with pytest.raises(ValueError, match=r"value|header|translation"):
        unpack(TranslationCodec(), value, LIMIT)


def test_a_value_over_the_bound_is_refused_before_it_is_parsed() -> None:
    packed = pack(TranslationCodec(), Answer(Translation("x" * 2000, "p")))
    with pytest.raises(ValueError, match="bound"):
        unpack(TranslationCodec(), packed, 1024)
