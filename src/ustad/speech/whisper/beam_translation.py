"""Speech translation decoded again by beam search, kept from repeating itself.

``WhisperTranscriber.transcribe(task="translate")`` decodes greedily (sampled retries
only for loops), and a greedy decode of Urdu speech into English repeats phrases: the
two real Common Voice clips gave "The government and the government and the public
are starting ..." and, resampled, "the government and the government and the
government". This decode of the same model is the second attempt: beam search with
faster-whisper's ``repetition_penalty`` and ``no_repeat_ngram_size``, in the full
window, with the transcriber's token budget and loop checks. It reuses the
transcriber's kept encoding of the clip (``encodings_kept``), so it costs a decode,
not another encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ustad.speech.types import SAMPLE_RATE, Audio, Transcript
from ustad.speech.whisper.checks import (
    kept_segments,
    no_speech_probability,
    token_budget,
    weighted_avg_logprob,
)
from ustad.speech.whisper.transcriber import WhisperTranscriber
from ustad.speech.whisper.transcript import text_of


@dataclass(frozen=True)
class BeamTranslation:
    """A blocking ``(audio, language) -> Transcript`` decode of English from speech.

    Defaults in ``ustad.settings`` (``translation.retry_*``); see there for what they
    were measured on. ``language`` ``None`` lets Whisper identify it. Raises
    ``ValueError`` for audio that is not 16 kHz mono, for an English-only model, and
    for a ``beam_size`` under 1.
    """

    transcriber: WhisperTranscriber
    beam_size: int = 5
    repetition_penalty: float = 1.2
    no_repeat_ngram_size: int = 3

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {self.beam_size}")
        if not self.transcriber.multilingual:
            raise ValueError(f"{self.transcriber.name} is English-only; it cannot translate")

    def __call__(self, audio: Audio, language: str | None) -> Transcript:
        """The English the beam search decodes from ``audio`` (loops left out)."""
        if audio.sample_rate != SAMPLE_RATE or audio.samples.ndim != 1:
            raise ValueError(f"Whisper needs {SAMPLE_RATE} Hz mono audio")
        samples = np.ascontiguousarray(audio.samples, dtype=np.float32)
        segments_iter, info = self.transcriber.model.transcribe(
            samples,
            language=language,
            task="translate",
            beam_size=self.beam_size,
            # One temperature: a sampled retry would undo what the penalties are for.
            temperature=[0.0],
            repetition_penalty=self.repetition_penalty,
            no_repeat_ngram_size=self.no_repeat_ngram_size,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            log_prob_threshold=None,
            max_new_tokens=token_budget(audio.duration),
        )
        decoded = tuple(segments_iter)
        segments = kept_segments(decoded)
        return Transcript(
            text=text_of(segments),
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration=audio.duration,
            no_speech_probability=no_speech_probability(decoded),
            avg_logprob=weighted_avg_logprob(segments),
        )
