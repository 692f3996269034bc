"""Urdu to English by a remote OpenAI-compatible ``/chat/completions`` (an LLM).

One request per transcript gives both forms the Urdu step needs, as JSON: the
sentence in clean Urdu script and its English translation. Both callers of one
utterance (the Urdu-script form and the translation run at the same time) share that
request. The English passes the same ``TargetGuard`` as Whisper's speech translation
(no loop, no repeated phrase, English words, a sane length for the clip, not cut off),
and the Urdu must be Urdu script without a loop; whatever fails falls back to the
local engines (the phrase bank's spelling, Whisper's speech translation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict

from ustad.caching import MemoryCache
from ustad.speech.remote.provider import Answer, RemoteError, RemoteProvider
from ustad.speech.speech_translator import clean_sentence
from ustad.speech.target_guard import TargetGuard, english_words
from ustad.speech.translation_memory import TranslationMemory
from ustad.speech.types import Translation, TranslationRequest
from ustad.speech.urdu_text import is_urdu_script, normalize_urdu, to_display
from ustad.speech.whisper.checks import has_repetition_loop, plain_words

SYSTEM_PROMPT: Final = (
    "You help an English tutor for Urdu speakers. The user message is what a speech "
    "recogniser heard a learner say in Urdu: usually Urdu script, sometimes Hindi script "
    "or Roman Urdu, possibly with recognition mistakes. Reply with one JSON object and "
    'nothing else: {"urdu": the sentence written in correct Urdu script, "english": '
    "one natural, complete English sentence that means the same, the way a learner "
    "would say it}. No notes, no alternatives, no transliteration."
)
"""The instructions of every translation request."""

_FENCE: Final = re.compile(r"^```(?:json)?\s*|\s*```$")
PAIRS_KEPT: Final = 256
"""Recent answers kept so the Urdu form and the translation of one transcript share a call."""

WORDS_PER_SECOND: Final = 2.0
"""Speech rate assumed for the length checks of a request without audio."""


class _Pair(BaseModel):
    model_config = ConfigDict(extra="ignore")

    urdu: str = ""
    english: str = ""


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: str | None = None


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: _Message


class _Completion(BaseModel):
    """The part of a ``/chat/completions`` answer ustad reads."""

    model_config = ConfigDict(extra="ignore")

    choices: list[_Choice]


@dataclass(frozen=True)
class RemotePair:
    """A provider's answer for one transcript: Urdu script and English, as given."""

    urdu: str
    english: str

    def size(self) -> int:
        """Bytes of text held."""
        return len(self.urdu.encode()) + len(self.english.encode())


def parse_pair(answer: Answer) -> RemotePair:
    """The chat answer's JSON object (``RemoteError("malformed")`` when it has none).

    Both levels are parsed by pydantic's JSON parser, which has a depth limit: an answer
    nested a hundred thousand deep is a ``ValueError`` here, never a ``RecursionError``.
    """
    try:
        choices = _Completion.model_validate_json(answer.content).choices
        content = choices[0].message.content if choices else None
        if content is None:
            raise ValueError("no message content")
        pair = _Pair.model_validate_json(_FENCE.sub("", content.strip()))
    except ValueError as error:
        raise RemoteError("malformed", f"no JSON pair in the chat answer: {error}") from error
    return RemotePair(urdu=pair.urdu.strip(), english=pair.english.strip())


class RemoteTranslator:
    """``Translator`` (and the Urdu-script form) by a chat model on ``provider``.

    ``guard`` is the speech translation's (the service shares the one it built, with
    its English word list); ``max_tokens`` and ``json_mode`` shape the request.
    """

    name = "remote"

    def __init__(
        self,
        provider: RemoteProvider,
        *,
        guard: TargetGuard | None = None,
        max_tokens: int = 400,
        json_mode: bool = True,
    ) -> None:
        self.provider = provider
        self.guard = guard or TargetGuard()
        self._max_tokens = max_tokens
        self._json_mode = json_mode
        self._pairs: MemoryCache[str, RemotePair] = MemoryCache(
            "remote_translation", size_of=RemotePair.size, max_entries=PAIRS_KEPT
        )

    async def pair(self, text: str) -> RemotePair:
        """The provider's answer for ``text`` (one request however many ask at once).
        Raises ``RemoteError``."""
        key = " ".join(text.split())
        return await self._pairs.get_or_compute(key, lambda: self._ask(key))

    async def _ask(self, text: str) -> RemotePair:
        body: dict[str, object] = {
            "model": self.provider.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": text},
            ],
            "temperature": 0,
            "max_tokens": self._max_tokens,
        }
        if self._json_mode:
            body["response_format"] = {"type": "json_object"}
        return await self.provider.post("chat/completions", parse_pair, json=body)

    async def translate(self, request: TranslationRequest) -> Translation | None:
        """English for the request's Urdu text, or ``None`` (provider failed, or the
        English failed the guard: the next translator is asked)."""
        if request.target != "en" or not request.text.strip():
            return None
        try:
            found = await self.pair(request.text)
        except RemoteError:
            self.provider.fell_back()
            return None
        english = clean_sentence(found.english)
        words = english_words(english)
        seconds = (
            request.audio.duration if request.audio is not None else len(words) / WORDS_PER_SECOND
        )
        fault = self.guard.fault(english, seconds=seconds, avg_logprob=0.0)
        if fault is not None:
            self.provider.rejected(f"translation {fault}: {english[:120]!r}")
            self.provider.fell_back()
            return None
        return Translation(
            text=english, provider=self.name, source_text=urdu_form(found.urdu) or None
        )

    async def urdu_script(self, text: str) -> str | None:
        """The provider's Urdu-script form of ``text``, or ``None`` (failed, or not
        Urdu script, or a loop)."""
        try:
            found = await self.pair(text)
        except RemoteError:
            self.provider.fell_back()
            return None
        urdu = urdu_form(found.urdu)
        if urdu is None:
            self.provider.rejected(f"Urdu form: {found.urdu[:120]!r}")
            self.provider.fell_back()
        return urdu


def urdu_form(text: str) -> str | None:
    """``text`` cleaned as a local transcript is, or ``None`` when it is not Urdu
    script or holds a repetition loop."""
    cleaned = to_display(normalize_urdu(text))
    if not cleaned or not is_urdu_script(cleaned) or has_repetition_loop(plain_words(cleaned)):
        return None
    return cleaned


class RemoteUrduScript:
    """``ScriptNormalizer``: the phrase bank's spelling of a sentence it knows, else the
    remote provider's Urdu-script form, else the local clean-up (``memory``)."""

    def __init__(self, remote: RemoteTranslator, memory: TranslationMemory) -> None:
        self.remote = remote
        self.memory = memory

    async def to_urdu_script(self, text: str) -> str:
        """Urdu script for a transcript."""
        if self.memory.match(text) is None:
            urdu = await self.remote.urdu_script(text)
            if urdu is not None:
                return urdu
        return await self.memory.to_urdu_script(text)
