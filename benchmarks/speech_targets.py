"""Targets from Whisper base's speech translation of the real Urdu clips, and copies.

For each of the shared Urdu clips (``../shared/data/urdu``) as recorded and in copies
(through 8 kHz, white noise at about 25 dB and 19 dB SNR, 20 % of the level, 1 s of
silence on both sides), prints:

* the service's first decode (``WhisperTranscriber.transcribe(task="translate")``:
  greedy, sampled retries for loops) and the second (``BeamTranslation`` with the
  ``translation.retry_*`` settings), each with its mean token log-prob and what
  ``TargetGuard`` finds wrong with it;
* the target ``WhisperSpeechTranslator`` teaches (or ``-`` for none: the learner is
  asked to say it again) and its confidence;

then how many copies got a target, and how many targets repeat a phrase (must be 0).
Set ``CT2_FORCE_CPU_ISA`` (``AVX``, ``GENERIC``) to see other instruction sets' int8
kernels.

Usage: ``.venv/bin/python benchmarks/speech_targets.py``. Nothing is written outside
``var/models`` (where base is assembled once, as the service does).
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from clip_wer import SHARED_DATA

from ustad.settings import TranslationSettings
from ustad.speech.audio import decode_audio
from ustad.speech.model_paths import multilingual_whisper_dir
from ustad.speech.speech_translator import WhisperSpeechTranslator
from ustad.speech.target_guard import english_words, repeated_phrase
from ustad.speech.types import Audio, Transcript, TranslationRequest
from ustad.speech.whisper import WhisperTranscriber
from ustad.speech.whisper.beam_translation import BeamTranslation

REPO_ROOT = Path(__file__).resolve().parents[1]
URDU = SHARED_DATA / "urdu"
T = TypeVar("T")


def copies(audio: Audio, seed: int) -> dict[str, Audio]:
    """The clip as recorded and changed the ways a learner's recording may be."""
    samples = audio.samples
    rms = float(np.sqrt(np.mean(samples**2)))
    rng = np.random.default_rng(seed)
    narrow = samples[::2]
    silence = np.zeros(16_000, dtype=np.float32)
    return {
        "as recorded": audio,
        "8 kHz": Audio(
            np.interp(np.arange(samples.size) / 2, np.arange(narrow.size), narrow).astype(
                np.float32
            )
        ),
        "noise 25 dB": Audio((samples + rng.normal(0, rms / 18, samples.size)).astype(np.float32)),
        "noise 19 dB": Audio((samples + rng.normal(0, rms / 9, samples.size)).astype(np.float32)),
        "quiet": Audio((samples * 0.2).astype(np.float32)),
        "1 s silence": Audio(np.concatenate([silence, samples, silence])),
    }


async def in_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def main() -> None:
    settings = TranslationSettings()
    base = WhisperTranscriber(
        multilingual_whisper_dir("packaged", REPO_ROOT / "var" / "models"),
        name="whisper-base",
        encodings_kept=4,
    )
    translator = WhisperSpeechTranslator.from_settings(base, in_thread, settings)
    beam = BeamTranslation(
        base,
        beam_size=settings.retry_beam_size,
        repetition_penalty=settings.retry_repetition_penalty,
        no_repeat_ngram_size=settings.retry_no_repeat_ngram_size,
    )
    with (URDU / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    taught = repeated = total = 0
    for number, row in enumerate(rows):
        clip = decode_audio((URDU / row["file"]).read_bytes())
        print(f"\n{row['file']} ({clip.duration:.1f} s): {row['text']}")
        for name, audio in copies(clip, number).items():
            started = time.perf_counter()
            first: Transcript = base.transcribe(audio, language="ur", task="translate")
            second = beam(audio, "ur")
            for label, decoded in (("greedy", first), ("beam", second)):
                fault = translator.guard.fault(
                    decoded.text, seconds=audio.duration, avg_logprob=decoded.avg_logprob
                )
                print(
                    f"  {name:12s} {label:6s} {decoded.avg_logprob:6.2f} "
                    f"{fault or 'ok':16s} {decoded.text}"
                )
            request = TranslationRequest(text=row["text"], audio=audio)
            translation = await translator.translate(request)
            total += 1
            if translation is None:
                print(f"  {name:12s} target -")
                continue
            taught += 1
            repeated += repeated_phrase(english_words(translation.text)) is not None
            print(
                f"  {name:12s} target {translation.confidence:.3f} {translation.text} "
                f"({time.perf_counter() - started:.1f} s for all three)"
            )
    print(f"\ntargets: {taught} of {total} copies; with a repeated phrase: {repeated}")


if __name__ == "__main__":
    asyncio.run(main())
