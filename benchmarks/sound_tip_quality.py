"""How often the feedback names the right sound, and how often it names one wrongly.

The controlled renderings of ``phone_quality.py`` (phrase-bank sentences read by
espeak-ng en-us with one word given as phonemes, one phone changed the way Urdu speakers
change it; and the same sentences unchanged) go through the whole English assessment of
a turn with ``assessment.phones`` on (tiny.en, the target support, the phone stage:
``TurnProcessor.assess_recording`` as the CLI builds it), and
:func:`ustad.tutor.sound_tips.sound_tip` picks the reply's tip. Reported per kind: the
changed word marked mispronounced by the assessment (a tip's first condition), the tip
naming that word and that confusion, and a tip about anything else; for the unchanged
renderings, any tip at all. Each with the rule as the tutor uses it and, after a slash,
with the spelling check too (``sound_tip(..., spelling=True)``).

Usage: ``PYTHONPATH=src:benchmarks .venv/bin/python benchmarks/sound_tip_quality.py
[--per-kind N]``. Nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import wave
from collections.abc import Sequence

import numpy as np
from phone_quality import KINDS, controlled_cases

from ustad.assess.types import WordStatus
from ustad.runtime.executor import EngineExecutor
from ustad.services import build_processor, build_speech
from ustad.settings import Settings
from ustad.speech.audio import resample_pcm
from ustad.speech.espeak_tts import EspeakSynthesizer
from ustad.speech.phrasebank import PhraseBank
from ustad.speech.types import SAMPLE_RATE
from ustad.tutor.sound_tips import sound_tip

TIP_OF = {
    "v>w": "v_as_w",
    "th>t": "th_as_t",
    "dh>d": "dh_as_d",
    "z>jh": "z_as_j",
    "s-epenthesis": "vowel_before_s",
    "drop-h": "no_h",
}


def _wav(samples: np.ndarray) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        handle.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    return out.getvalue()


def _bare(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum() or ch == "'")


async def run(per_kind: int) -> dict[str, list[int]]:
    """Per kind: [cases, word flagged, right tip, other tip, right tip and other tip with
    the spelling check]; "unchanged": [cases, 0, 0, tip, 0, tip with it]."""
    settings = Settings.model_validate({"assessment": {"phones": True}})
    executor = EngineExecutor(settings.runtime.engine_workers)
    io_executor = EngineExecutor(settings.runtime.io_workers, name="io")
    phrases = PhraseBank.load(settings.translation.phrase_bank)
    speech = await executor.run(lambda: build_speech(settings, executor, phrases, io_executor))
    processor = build_processor(settings, speech)
    assert processor.phones is not None
    voice = EspeakSynthesizer("en-us", language="en")
    changed, unchanged = controlled_cases(processor.phones, per_kind)
    table = {kind: [0] * 6 for kind in (*KINDS, "unchanged")}
    try:
        for n, case in enumerate([*changed, *unchanged]):
            pcm = resample_pcm(voice.synthesize_phonemes(case.text), SAMPLE_RATE)
            assessment = await processor.assess_recording(_wav(pcm.samples), case.sentence)
            tip = sound_tip(assessment)
            strict = sound_tip(assessment, spelling=True)
            row = table[case.kind]
            row[0] += 1
            if case.kind == "unchanged":
                row[3] += tip is not None
                row[5] += strict is not None
                if tip is not None:
                    heard = {w.word: w.heard for w in assessment.words}
                    print(f"  unchanged: {case.text} -> {tip} heard {heard[tip.word]!r}")
                continue
            target = _bare(case.words[case.index])
            word = [w for w in assessment.words if w.status is not WordStatus.INSERTED]
            row[1] += any(
                _bare(w.word) == target and w.status is WordStatus.MISPRONOUNCED for w in word
            )
            for found, at in ((tip, 2), (strict, 4)):
                right = (
                    found is not None
                    and _bare(found.word) == target
                    and found.kind == TIP_OF[case.kind]
                )
                row[at] += right
                row[at + 1] += found is not None and not right
            if tip is not None:
                heard = {w.word: w.heard for w in assessment.words}
                print(f"  {case.kind}: {case.text} -> {tip} heard {heard[tip.word]!r}")
            if (n + 1) % 50 == 0:
                print(f"  {n + 1} renderings", flush=True)
    finally:
        executor.shutdown()
        io_executor.shutdown()
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Assess every rendering and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=20, help="changed sentences per kind")
    args = parser.parse_args(argv)
    table = asyncio.run(run(args.per_kind))
    print("\n| rendering | cases | word marked mispronounced | right tip | other tip |")
    print("|---|---|---|---|---|")
    for kind, (cases, flagged, right, other, strict_right, strict_other) in table.items():
        if kind == "unchanged":
            print(f"| unchanged | {cases} | | | {other} / {strict_other} |")
        else:
            row = f"{right} / {strict_right} | {other} / {strict_other}"
            print(f"| {kind} | {cases} | {flagged} | {row} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
