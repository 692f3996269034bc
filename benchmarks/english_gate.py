"""The English gate at the Urdu step, through ``TurnProcessor`` with the real engines.

Every speechocean762 learner clip (non-native English) is sent as the Urdu step's
utterance, and so are the real Urdu clips with variants of each (8 kHz telephone
band, white noise at 20 and 15 dB SNR, 20 dB quieter, 10 % faster and slower, each
half alone). Prints:

* the share of English clips answered ``english_input_edge_case`` (``EnglishHeard``)
  and what the others got;
* for every Urdu clip and variant, its outcome (it must be understood as Urdu);
* the distribution of the English share ``P(en) / (P(en) + P(ur) + P(hi))`` on both
  sides, and how many clips fell in the unsure band;
* the engine calls per clip (language id in the short and full window, forced-Urdu
  transcriptions, tiny.en transcriptions made by the gate) and CPU seconds per clip.

With ``--repeat``, also the repeat step: each learner clip as an attempt at another
clip's sentence (a failed repeat, which must stay an attempt) and each Urdu clip as an
attempt at "I want water." (really a new Urdu sentence, which must start a new cycle).

With ``--evidence``, also the two other votes for every clip, whatever the band: the
forced-Urdu transcript's plausibility (``language_gate.urdu_doubt``, mean log-prob)
and tiny.en's mean log-prob, to show where their thresholds sit; how often tiny.en's
quick reading (the one the gate asks) is confident, against its full transcription,
and the CPU of each; and where the short and the full window's language id put each
clip (Urdu, the band, English).

Usage: ``.venv/bin/python benchmarks/english_gate.py [--limit N] [--repeat] [--evidence]
[--models-dir var/models]``. Nothing is written outside ``--models-dir`` (where base
is assembled once, as the service does).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ustad.learn.events import EnglishHeard, Target, Utterance, Work
from ustad.learn.language_gate import english_confident, english_share, share_zone, urdu_doubt
from ustad.learn.processor import TurnOutcome, TurnPolicy, TurnProcessor
from ustad.runtime.executor import EngineExecutor
from ustad.runtime.speech_service import SpeechService
from ustad.runtime.timing import TurnTimer
from ustad.services import build_speech
from ustad.settings import Settings
from ustad.speech.audio import decode_audio, encode_audio
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import SAMPLE_RATE, Pcm
from ustad.speech.whisper import WhisperTranscriber
from ustad.vocabulary import TurnKind

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
"""``../shared/data`` beside the checkout."""

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Clip:
    """One utterance sent at the Urdu step: its name, spoken language and WAV bytes."""

    name: str
    language: str
    """``en`` or ``ur``: what was really said."""
    wav: bytes


@dataclass(frozen=True)
class GateResult:
    """What the Urdu step made of one clip."""

    clip: Clip
    outcome: TurnOutcome
    share: float | None
    """English share of the language check the turn used (``None``: no check ran)."""
    calls: Counter[str]
    """Engine calls the turn made, by kind."""
    cpu_seconds: float

    @property
    def english(self) -> bool:
        """Whether the turn answered ``english_input_edge_case``."""
        return isinstance(self.outcome.event, EnglishHeard)

    @property
    def urdu_turn(self) -> bool:
        """Whether the turn went the Urdu sentence's way (at the repeat step: a new cycle)."""
        return self.outcome.kind is TurnKind.URDU_STEP


def learner_sentences() -> dict[str, str]:
    """The sentence each speechocean762 clip reads, by clip id."""
    with (SHARED_DATA / "speechocean762" / "index.tsv").open(encoding="utf-8") as handle:
        return {row["utt_id"]: row["text"] for row in csv.DictReader(handle, delimiter="\t")}


def learner_clips(limit: int | None = None, step: int = 1) -> list[Clip]:
    """The speechocean762 clips (every ``step``-th, at most ``limit``), as WAV bytes."""
    root = SHARED_DATA / "speechocean762"
    with (root / "index.tsv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))[::step][:limit]
    return [Clip(row["utt_id"], "en", (root / row["file"]).read_bytes()) for row in rows]


def urdu_clips() -> list[Clip]:
    """The real Urdu clips, each as recorded and in every ``urdu_variants`` form."""
    root = SHARED_DATA / "urdu"
    with (root / "index.tsv").open(encoding="utf-8") as handle:
        files = [row["file"] for row in csv.DictReader(handle, delimiter="\t")]
    clips = []
    for name in files:
        samples = decode_audio((root / name).read_bytes()).samples
        for variant, changed in urdu_variants(samples):
            clips.append(Clip(f"{name}:{variant}", "ur", _wav(changed)))
    return clips


def urdu_variants(samples: Samples) -> Iterator[tuple[str, Samples]]:
    """The clip (16 kHz) as recorded and as other recordings of it might come.

    Telephone band (300-3400 Hz, 8 kHz, 8-bit steps), white noise at 20 and 15 dB
    SNR (fixed seeds), 20 dB quieter, 10 % faster and slower (pitch moves with it),
    and each half alone.
    """
    half = len(samples) // 2
    yield "as recorded", samples
    yield "telephone 8 kHz", _telephone(samples)
    yield "noise 20 dB", _noisy(samples, 20.0, seed=1)
    yield "noise 15 dB", _noisy(samples, 15.0, seed=2)
    yield "20 dB quieter", (samples * 0.1).astype(np.float32)
    yield "10 % faster", _speed(samples, 1.1)
    yield "10 % slower", _speed(samples, 0.9)
    yield "first half", samples[:half].copy()
    yield "second half", samples[half:].copy()


def _telephone(samples: Samples) -> Samples:
    spectrum = np.fft.rfft(samples)
    hertz = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    spectrum[(hertz < 300) | (hertz > 3400)] = 0
    narrow = np.fft.irfft(spectrum, len(samples))[::2]  # 8 kHz
    stepped = np.round(narrow * 128) / 128
    back = np.interp(np.arange(len(samples)) / 2, np.arange(len(stepped)), stepped)
    return back.astype(np.float32)


def _noisy(samples: Samples, snr_db: float, *, seed: int) -> Samples:
    power = float(np.mean(samples.astype(np.float64) ** 2))
    noise = np.random.default_rng(seed).normal(
        0.0, np.sqrt(power / 10 ** (snr_db / 10)), len(samples)
    )
    return np.clip(samples + noise, -1.0, 1.0).astype(np.float32)


def _speed(samples: Samples, factor: float) -> Samples:
    count = int(len(samples) / factor)
    positions = np.arange(count) * factor
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def _wav(samples: Samples) -> bytes:
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)
    return encode_audio(Pcm(pcm, SAMPLE_RATE), "wav")


def gate_settings(models_dir: Path) -> Settings:
    """The default settings, without the disk audio store (nothing is spoken here)."""
    return Settings.model_validate(
        {"stt": {"models_dir": str(models_dir)}, "audio_store": {"enabled": False}}
    )


def real_speech(settings: Settings, executor: EngineExecutor) -> SpeechService:
    """The service's own engines, as the settings describe them."""
    return build_speech(settings, executor, PhraseBank.load(settings.translation.phrase_bank))


async def run_gate(
    processor: TurnProcessor, clips: list[Clip], targets: list[Target] | None = None
) -> list[GateResult]:
    """Each clip as the Urdu step's utterance, one after another; with ``targets``
    (one per clip), as the repeat step's attempt at that target instead."""
    results = []
    urdu_languages = processor.policy.urdu_languages
    for index, clip in enumerate(clips):
        before = Counter(processor.speech.engine_calls)
        started = time.process_time()
        target = targets[index] if targets is not None else None
        kind = TurnKind.URDU_STEP if target is None else TurnKind.ENGLISH_REPEAT
        outcome = await processor.process(Work(kind, Utterance(clip.wav)), target, TurnTimer())
        cpu = time.process_time() - started
        calls = Counter(processor.speech.engine_calls)
        calls.subtract(before)
        guess = outcome.language
        share = english_share(guess, urdu_languages) if guess is not None else None
        results.append(GateResult(clip, outcome, share, +calls, cpu))
    return results


def repeat_targets(clips: list[Clip], sentences: dict[str, str]) -> list[Target]:
    """For each clip, a target it does not say: the next learner clip's sentence for
    English, "I want water." for Urdu."""
    names = [c.name for c in clips if c.language == "en"]
    others = {name: sentences[names[(i + 1) % len(names)]] for i, name in enumerate(names)}
    return [Target(others[c.name] if c.language == "en" else "I want water.", "") for c in clips]


def report_repeat(results: list[GateResult]) -> None:
    """Print how failed repeats were taken: attempts (English) or new sentences (Urdu)."""
    for language, wanted in (("en", "stayed attempts"), ("ur", "started a new sentence")):
        rows = [r for r in results if r.clip.language == language]
        if not rows:
            continue
        good = sum(r.urdu_turn == (language == "ur") for r in rows)
        print(f"repeat step, {language} clips: {good}/{len(rows)} {wanted}")
        for r in rows:
            if r.urdu_turn != (language == "ur"):
                event = type(r.outcome.event).__name__
                print(f"  {r.clip.name:36} {event} {r.outcome.transcript or ''}")
        checked = sum(r.calls.get("language_id", 0) for r in rows)
        print(f"  full-window language checks: {checked}/{len(rows)}")


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return (
        f"min {ordered[0]:.3f}  1% {at(0.01):.3f}  5% {at(0.05):.3f}  "
        f"median {at(0.5):.3f}  95% {at(0.95):.3f}  max {ordered[-1]:.3f}  (n={len(ordered)})"
    )


def report(results: list[GateResult], policy: TurnPolicy) -> None:
    """Print the rates, the Urdu outcomes, the share distributions and the costs."""
    english = [r for r in results if r.clip.language == "en"]
    urdu = [r for r in results if r.clip.language == "ur"]
    heard = sum(r.english for r in english)
    if english:
        print(
            f"learner English at the Urdu step: {heard}/{len(english)} "
            f"english_input_edge_case ({heard / len(english):.1%})"
        )
        others = Counter(type(r.outcome.event).__name__ for r in english if not r.english)
        for name, count in others.most_common():
            print(f"  otherwise {name}: {count}")
        gate = policy.gate
        for r in english:
            unsure = r.share is not None and r.share < gate.english_share
            if unsure or not r.english:
                share = "-" if r.share is None else f"{r.share:.3f}"
                event = type(r.outcome.event).__name__
                said = r.outcome.transcript or ""
                print(f"  {r.clip.name:12} share {share:>6}  {event:15} {said}")
    print(f"real Urdu and variants: {sum(not r.english for r in urdu)}/{len(urdu)} as Urdu")
    for r in urdu:
        share = "-" if r.share is None else f"{r.share:.3f}"
        said = r.outcome.transcript or ""
        print(f"  {r.clip.name:36} share {share:>6}  {type(r.outcome.event).__name__:15} {said}")
    gate = policy.gate
    for side, rows in (("English", english), ("Urdu", urdu)):
        shares = [r.share for r in rows if r.share is not None]
        band = sum(gate.urdu_share_below <= s < gate.english_share for s in shares)
        print(f"English share, {side} clips: {_quantiles(shares)}")
        print(
            f"  in the unsure band [{gate.urdu_share_below}, {gate.english_share}): {band}; "
            f"the language check the turn used (the short window when it decides)"
        )
    for side, rows in (("English", english), ("Urdu", urdu)):
        if not rows:
            continue
        calls: Counter[str] = Counter()
        for r in rows:
            calls.update(r.calls)
        per_clip = ", ".join(f"{k} {v / len(rows):.2f}" for k, v in sorted(calls.items()))
        cpu = [r.cpu_seconds for r in rows]
        print(f"{side} clips, engine calls per clip: {per_clip}")
        print(
            f"  CPU s per clip (all threads): mean {statistics.fmean(cpu):.2f}, "
            f"median {statistics.median(cpu):.2f}, max {max(cpu):.2f}"
        )


def forget_encodings(speech: SpeechService) -> None:
    """Empty the English recogniser's encoder memo (when it has one)."""
    engine = speech.english_stt
    if isinstance(engine, WhisperTranscriber):
        engine.encodings.clear()


async def evidence(speech: SpeechService, policy: TurnPolicy, clips: list[Clip]) -> None:
    """The other two votes for every clip (Urdu plausibility; tiny.en confidence, from
    the full transcription and from the quick reading the gate uses, with the CPU each
    costs), and where each window's language id puts the clip: the short window's zone
    (English from ``quick_english_share``, at least ``english_share``) against the full
    window's (from ``english_share``)."""
    gate = policy.gate
    for language in ("en", "ur"):
        rows = [c for c in clips if c.language == language]
        if not rows:
            continue
        urdu_lp, english_lp, doubts = [], [], Counter[str]()
        confident = quick_confident = 0
        cpu = {"full": 0.0, "quick": 0.0}
        zones = Counter[tuple[str, str]]()
        for clip in rows:
            audio = await speech.decode(clip.wav, max_seconds=60.0, format_hint=None)
            urdu = await speech.transcribe(audio, english=False, language="ur")
            forget_encodings(speech)
            started = time.process_time()
            english = await speech.transcribe(audio, english=True, language="en")
            cpu["full"] += time.process_time() - started
            forget_encodings(speech)  # so the quick reading pays its own encoding
            started = time.process_time()
            quick = await speech.transcribe(audio, english=True, language="en", quick=True)
            cpu["quick"] += time.process_time() - started
            doubt = urdu_doubt(urdu, min_logprob=gate.urdu_min_logprob)
            doubts[(doubt or "plausible").split(" ")[0]] += 1
            if urdu.text.strip():
                urdu_lp.append(urdu.avg_logprob)
            english_lp.append(english.avg_logprob)
            confident += english_confident(english, min_logprob=gate.english_min_logprob)
            quick_confident += english_confident(quick, min_logprob=gate.english_min_logprob)
            short = await speech.detect_language(audio, short_window=True)
            full = await speech.detect_language(audio)
            zones[
                (
                    share_zone(
                        english_share(short, policy.urdu_languages),
                        gate.urdu_share_below,
                        max(policy.quick_english_share, gate.english_share),  # as _identify
                    ),
                    share_zone(
                        english_share(full, policy.urdu_languages),
                        gate.urdu_share_below,
                        gate.english_share,
                    ),
                )
            ] += 1
        print(f"{language} clips, forced-Urdu transcript: {dict(doubts)}")
        print(f"  its mean log-prob: {_quantiles(urdu_lp)}")
        print(f"  tiny.en mean log-prob: {_quantiles(english_lp)}; confident {confident}")
        print(
            f"  tiny.en quick reading confident {quick_confident}; CPU s per clip "
            f"{cpu['full'] / len(rows):.2f} full transcription, "
            f"{cpu['quick'] / len(rows):.2f} quick"
        )
        print(f"  (short window zone, full window zone): {dict(zones)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="learner clips (default all)")
    parser.add_argument("--repeat", action="store_true", help="also the repeat step")
    parser.add_argument("--evidence", action="store_true", help="also the other two votes")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    args = parser.parse_args()
    settings = gate_settings(args.models_dir)
    executor = EngineExecutor(settings.runtime.engine_workers)
    try:
        speech = real_speech(settings, executor)
        policy = TurnPolicy.from_settings(settings)
        processor = TurnProcessor(speech, policy)
        clips = learner_clips(args.limit) + urdu_clips()
        report(await run_gate(processor, clips), policy)
        if args.repeat:
            targets = repeat_targets(clips, learner_sentences())
            report_repeat(await run_gate(processor, clips, targets))
        if args.evidence:
            await evidence(speech, policy, clips)
    finally:
        executor.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
