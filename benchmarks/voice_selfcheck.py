"""Phrase-bank self-check: synthetic English voices read every sentence, assessed against it.

Each English sentence of the shipped phrase bank is spoken by a voice, transcribed by
the service's English engine (WhisperTranscriber on tiny.en, word timestamps, as a
learn turn does) and assessed against itself. Correct speech must pass with no word
flagged, so the script prints per voice how many sentences passed, how many had a word
flagged (mispronounced or omitted), and which words were flagged, with what was heard.

Voices:

* ``piper``: ustad's own English voice (the packaged Piper en_US-joe-medium);
* ``espeak``: espeak-ng's English voice at :data:`ESPEAK_WPM` words a minute, a clearly
  robotic voice unlike any the recogniser was trained on.

Measured on all 356 sentences with tiny.en (x86-64, full window), before -> after issue 10's
assessment changes: Piper passed 347 -> 351, a word flagged in 29 -> 24 sentences;
espeak-ng passed 257 -> 283, a word flagged in 162 -> 134; words flagged though the
recogniser wrote them exactly 4 + 48 -> 0. What is still flagged is a word tiny.en
wrote as another word ("I want to." for "I want tea.").

With ``--support P`` each reading is assessed as a learn turn does with
``assessment.target_support`` on (``--support-model``, default base; threshold P):
tiny.en in the short window as served, 356 sentences, without -> with base at 0.25:
Piper passed 347 -> 355, a word flagged in 35 -> 13; espeak-ng passed 284 -> 322
(90.4 %). Both models' support is computed for every reading and cached. ``--prompted Q``
(``assessment.prompted_probability``) counts a flagged word the prompted decoding wrote
at the lower forced probability Q: at 0.05, Piper passed 356 (8 with a word flagged)
and espeak-ng 333 (93.5 %), against 355 / 12 and 319 without it in the same run.

Usage: ``.venv/bin/python benchmarks/voice_selfcheck.py [--voice piper|espeak|both]
[--limit N] [--cache DIR] [--support P] [--support-model M]``. ``--cache`` keeps the
transcripts and support values in JSON files (outside the repository) to rerun the
assessment quickly. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from assessment_quality import (
    _from_json,
    _to_json,
    add_cpu_threads_argument,
    add_prompted_argument,
    add_support_gate_arguments,
    gated_support,
    support_engine,
)
from phone_evidence import phone_judged

from ustad.assess.normalize import normalize_word
from ustad.assess.score import assess
from ustad.assess.support import needs_support, written_words
from ustad.assess.types import Assessment, WordStatus
from ustad.speech.phones.types import PhoneAlignmentError, PhoneResult, WordPhones
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import Audio, Transcript, WordSupport

REPO_ROOT = Path(__file__).resolve().parents[1]
ESPEAK_WPM = 150
"""The robotic voice's speaking rate (words per minute), as issue 10 measured it."""
Voice = Literal["piper", "espeak"]
VOICES: tuple[Voice, ...] = ("piper", "espeak")


@dataclass(frozen=True)
class VoiceReport:
    """How one voice's reading of the phrase bank was assessed."""

    voice: str
    sentences: int
    passed: int
    flagged: tuple[tuple[str, str, str | None], ...]
    """(sentence, flagged target word, what was heard) for every flagged word."""
    failed: tuple[Assessment, ...]

    @property
    def with_flag(self) -> int:
        """Sentences with at least one word flagged."""
        return len({sentence for sentence, _, _ in self.flagged})

    @property
    def flagged_exact(self) -> tuple[tuple[str, str, str | None], ...]:
        """Flagged words the recogniser wrote exactly as the target word (must be none)."""
        return tuple(
            (sentence, word, heard)
            for sentence, word, heard in self.flagged
            if heard is not None and normalize_word(heard) == normalize_word(word)
        )


def phrase_sentences() -> list[str]:
    """The English sentences of the shipped phrase bank, in file order, without repeats."""
    return list(dict.fromkeys(phrase.english for phrase in PhraseBank.load()))


def speaker(voice: Voice) -> Callable[[str], Audio]:
    """A function speaking one sentence as 16 kHz audio with the given voice."""
    from ustad.speech.audio import resample_pcm
    from ustad.speech.types import SAMPLE_RATE

    if voice == "piper":
        from ustad.speech.piper_tts import PiperSynthesizer

        synthesizer = PiperSynthesizer.packaged()
        speak = synthesizer.synthesize
    else:
        from ustad.speech.espeak_tts import EspeakSynthesizer

        espeak = EspeakSynthesizer("en", language="en", rate=ESPEAK_WPM)
        speak = espeak.synthesize

    def said(text: str) -> Audio:
        pcm = resample_pcm(speak(text), SAMPLE_RATE)
        return Audio(pcm.samples.astype(np.float32) / 32768.0)

    return said


SUPPORT_MODELS = ("multilingual", "english")
"""The values of ``assessment.support_model``."""


@dataclass(frozen=True)
class Heard:
    """What the engines made of one reading: tiny.en's transcript, and per support model
    its forced reading of the sentence itself (``target_support``) and that pass's CPU
    seconds."""

    transcript: Transcript
    support: dict[str, tuple[WordSupport, ...]]
    support_seconds: dict[str, float]
    phones: list[list[Any]] | None = None
    """The phone stage's [word, phones, status, score] per written word (``--phones``)."""


def transcribe_voice(
    voice: Voice,
    sentences: Sequence[str],
    *,
    progress: bool = False,
    models: Sequence[str] = SUPPORT_MODELS,
    cpu_threads: int = 1,
) -> dict[str, Heard]:
    """tiny.en transcripts (word timestamps) of ``voice`` reading each sentence, with the
    engine's support for the sentence on the same audio (kept so that reruns need no
    synthesis; a turn asks for it only when its transcript flagged a word), by each
    recogniser of ``models`` (values of ``assessment.support_model``), at ``cpu_threads``
    CTranslate2 intra-op threads (``stt.cpu_threads``)."""
    engine = support_engine("english", cpu_threads)
    engines = {
        model: engine if model == "english" else support_engine(model, cpu_threads)
        for model in models
    }
    say = speaker(voice)
    from ustad.speech.phones.aligner import PhoneAligner

    aligner = PhoneAligner()
    found: dict[str, Heard] = {}
    started = time.perf_counter()
    for n, sentence in enumerate(sentences, 1):
        audio = say(sentence)
        transcript = engine.transcribe(audio, language="en", word_timestamps=True)
        supports: dict[str, tuple[WordSupport, ...]] = {}
        seconds: dict[str, float] = {}
        for model, reader in engines.items():
            cpu = time.process_time()
            supports[model] = reader.target_support(audio, sentence)
            seconds[model] = time.process_time() - cpu
        try:
            words = aligner.align(audio.samples, written_words(sentence))
            phones = [[w.word, len(w.phones), w.status, w.score] for w in words]
        except PhoneAlignmentError:
            phones = []
        found[sentence] = Heard(transcript, supports, seconds, phones)
        if progress and n % 50 == 0:
            print(
                f"  {voice}: {n}/{len(sentences)} ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    return found


def judged(
    sentence: str,
    heard: Heard,
    support_probability: float | None,
    model: str = "multilingual",
    prompted_probability: float | None = None,
    phone_score: int | None = None,
    min_overall: float = 0.0,
    phones_min_overall: float = 0.0,
    prompted_min_overall: float = 0.0,
) -> tuple[Assessment, bool]:
    """The assessment of a reading as a learn turn makes it, and whether it asked for the
    target support (only when the transcript alone flagged a word and scored at least
    ``min_overall``); with ``phone_score``, the phone stage's opinion where the support
    leaves a flag on a reading scoring at least ``phones_min_overall``; the prompted
    decoding's evidence only when the forced reading alone scores at least
    ``prompted_min_overall`` (``gated_support``)."""
    first = assess(sentence, heard.transcript)
    if support_probability is None or not needs_support(first, min_overall):
        return first, False
    floors = {
        "support_probability": support_probability,
        "prompted_probability": prompted_probability,
    }
    support = gated_support(
        sentence, heard.transcript, heard.support[model], prompted_min_overall, **floors
    )
    again = assess(sentence, heard.transcript, support=support, **floors)
    if phone_score is None or heard.phones is None:
        return again, True
    dummy = PhoneResult("AH", 0.0, 0.0, 0.0, 100, "ok")
    phones = [WordPhones(w, (dummy,) * n, score, status) for w, n, status, score in heard.phones]
    return phone_judged(
        sentence,
        heard.transcript,
        again,
        support,
        lambda: phones,
        phone_score,
        phones_min_overall,
        **floors,
    ), True


def report(
    voice: str,
    heard: dict[str, Heard],
    support_probability: float | None = None,
    model: str = "multilingual",
    prompted_probability: float | None = None,
    phone_score: int | None = None,
    min_overall: float = 0.0,
    phones_min_overall: float = 0.0,
    prompted_min_overall: float = 0.0,
) -> VoiceReport:
    """Assess every sentence against its own reading (with ``model``'s target support at
    ``support_probability`` when given: ``assessment.support_model`` and
    ``support_probability``)."""
    passed = 0
    flagged: list[tuple[str, str, str | None]] = []
    failed: list[Assessment] = []
    for sentence, reading in heard.items():
        result, _ = judged(
            sentence,
            reading,
            support_probability,
            model,
            prompted_probability,
            phone_score,
            min_overall,
            phones_min_overall,
            prompted_min_overall,
        )
        passed += result.passed
        if not result.passed:
            failed.append(result)
        flagged += [
            (sentence, w.word, w.heard)
            for w in result.words
            if w.status in (WordStatus.MISPRONOUNCED, WordStatus.OMITTED)
        ]
    return VoiceReport(voice, len(heard), passed, tuple(flagged), tuple(failed))


def _heard_to_json(heard: dict[str, Heard]) -> dict[str, Any]:
    transcripts = _to_json({s: h.transcript for s, h in heard.items()})
    return {
        s: {
            "transcript": transcripts[s],
            "support": {
                m: [[w.word, w.probability, w.prompted] for w in v] for m, v in h.support.items()
            },
            "seconds": h.support_seconds,
            "phones": h.phones,
        }
        for s, h in heard.items()
    }


def _heard_from_json(data: dict[str, Any]) -> dict[str, Heard]:
    transcripts = _from_json({s: v["transcript"] for s, v in data.items()})
    return {
        s: Heard(
            transcripts[s],
            {m: tuple(WordSupport(*entry) for entry in found) for m, found in v["support"].items()},
            v["seconds"],
            v.get("phones"),
        )
        for s, v in data.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", choices=[*VOICES, "both"], default="both")
    parser.add_argument("--limit", type=int, default=None, help="only the first N sentences")
    parser.add_argument("--cache", type=Path, default=None, help="transcript cache directory")
    parser.add_argument(
        "--support",
        type=float,
        default=None,
        metavar="P",
        help="use the target support at this probability (assessment.support_probability)",
    )
    parser.add_argument(
        "--support-model",
        choices=SUPPORT_MODELS,
        default="multilingual",
        help="assessment.support_model",
    )
    add_prompted_argument(parser)
    add_support_gate_arguments(parser)
    parser.add_argument(
        "--phones",
        type=int,
        default=None,
        metavar="SCORE",
        help="ask the phone stage where support leaves a flag (assessment.phone_support_score)",
    )
    add_cpu_threads_argument(parser)
    args = parser.parse_args()
    if args.cache is not None and args.cache.resolve().is_relative_to(REPO_ROOT):
        parser.error("keep the cache outside the repository")

    sentences = phrase_sentences()[: args.limit]
    voices: tuple[Voice, ...] = VOICES if args.voice == "both" else (args.voice,)
    for voice in voices:
        cache = None if args.cache is None else args.cache / f"{voice}-heard.json"
        transcripts: dict[str, Heard] = {}
        if cache is not None and cache.exists():
            transcripts = _heard_from_json(json.loads(cache.read_text(encoding="utf-8")))
        missing = [s for s in sentences if s not in transcripts or transcripts[s].phones is None]
        if missing:
            print(f"{voice}: speaking and transcribing {len(missing)} sentences ...")
            started = time.perf_counter()
            transcripts |= transcribe_voice(
                voice, missing, progress=True, cpu_threads=args.cpu_threads
            )
            seconds = time.perf_counter() - started
            print(f"  {seconds:.0f} s, {seconds / len(missing):.2f} s per sentence")
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(_heard_to_json(transcripts)), encoding="utf-8")
        heard = {s: transcripts[s] for s in sentences}
        result = report(
            voice,
            heard,
            args.support,
            args.support_model,
            args.prompted,
            args.phones,
            args.support_min_overall,
            args.phones_min_overall,
            args.prompted_min_overall,
        )
        if args.support is not None:
            asked = sorted(
                h.support_seconds[args.support_model]
                for s, h in heard.items()
                if judged(s, h, 0.0, min_overall=args.support_min_overall)[1]
            )
            median = f", median {asked[len(asked) // 2]:.3f} s CPU" if asked else ""
            print(f"{voice}: target support asked for {len(asked)}/{len(heard)}{median}")
        n = result.sentences
        print(
            f"{voice}: passed {result.passed}/{n} = {100 * result.passed / n:.1f} %, "
            f"word flagged in {result.with_flag}/{n}, "
            f"flagged though heard exactly: {len(result.flagged_exact)}"
        )
        for sentence, word, heard in result.flagged:
            print(f"  flagged {word!r} (heard {heard!r}) in {sentence!r}")
        for failed in result.failed:
            scored = f"{failed.scores.overall:5.1f}"
            print(f"  failed {scored}: {failed.target!r} <- {failed.transcript!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
