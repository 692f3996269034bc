"""Quality and cost of the phone stage (ustad.speech.phones), issue 13.

Three parts, each printed as a table:

* controlled mispronunciations: phrase-bank sentences read by espeak-ng (en-us) with one
  word given as phoneme input (``[[...]]``, espeak-ng's own phonemes for the word) with
  one phone changed the way Urdu speakers change it: v -> w, th -> t, dh -> d,
  z -> dʒ, a vowel before a word-initial s-cluster ("istation"), h dropped. Reported:
  the changed word flagged, the changed phone named (flagged and ``heard`` the
  substituted phone; for epenthesis a vowel before S; for a dropped h, missing), and
  the same words rendered unchanged with no phone of the sentence flagged;
* real learner clips (speechocean762, ../shared/data): alignment failures, own-sentence
  GOP above another sentence's (three other sentences per clip), a swapped content word
  flagged, and the share of own-sentence words flagged;
* cost: CPU seconds per clip of the phone stage (recogniser + scoring of the own
  sentence) beside tiny.en's transcription of the same clip (as a learn turn does it,
  word timestamps), and their ratio.

Measured (300 clips, 40 sentences per kind; docs/measurements.md, "Phones and GOP"):
changed word flagged 0.648 and phone named 0.633 of 210 renderings (v -> w 0.97,
z -> dʒ 0.88, epenthesis 0.82, th -> t 0.80, dropped h 0.45, dh -> d 0.05), 0.866 of
149 unchanged sentences with no phone flagged; learner clips: none failed, own GOP
above another sentence's 900 of 900, swapped word flagged 0.993; phone stage 0.267 s
CPU per clip against tiny.en's 0.710 (0.38).

Usage: ``.venv/bin/python benchmarks/phone_quality.py [--limit N] [--per-kind N]
[--cache FILE] [--skip-cost]``. ``--cache`` keeps tiny.en's CPU seconds per clip in a
JSON file (outside the repository). Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from clip_wer import DATA, load_index

from ustad.speech.phones.aligner import PhoneAligner
from ustad.speech.phones.scoring import sentence_gop
from ustad.speech.phones.types import PhoneAlignmentError, WordPhones

SEED = 762
OTHER_OFFSETS = (1, 7, 101)
KINDS = ("v>w", "th>t", "dh>d", "z>jh", "s-epenthesis", "drop-h")
_STRESS = "'%,="
_VOWEL_STARTS = set("aeiouAEIOUV@3")


@dataclass(frozen=True)
class Case:
    """One controlled rendering: ``text`` for espeak-ng, ``words`` for the aligner, the
    changed word's index, its phone and the heard label that names the change."""

    kind: str
    sentence: str
    text: str
    words: tuple[str, ...]
    index: int
    phone: str
    heard: str


def _bare(token: str) -> str:
    return token.lstrip(_STRESS)


def mutate(kind: str, tokens: Sequence[str], cmu: Sequence[str]) -> list[str] | None:
    """espeak mnemonics of a word with the change of ``kind``, or None if it has no
    place for it (the CMU pronunciation ``cmu`` must have the phone too)."""
    swaps = {"v>w": ("v", "w", "V"), "th>t": ("T", "t", "TH"), "dh>d": ("D", "d", "DH")}
    swaps["z>jh"] = ("z", "dZ", "Z")
    out = list(tokens)
    if kind in swaps:
        old, new, phone = swaps[kind]
        if phone not in cmu:
            return None
        for i, token in enumerate(out):
            # /v/ -> /w/ where Urdu speakers merge them: before a vowel (a "w" after a
            # vowel at a word's end is only a diphthong's glide, not a /w/ of English)
            before_vowel = i + 1 < len(out) and _bare(out[i + 1])[:1] in _VOWEL_STARTS
            if _bare(token) == old and (kind != "v>w" or before_vowel):
                out[i] = token[: len(token) - len(old)] + new
                return out
        return None
    consonants = set("bdfghklmnprstvwzDNSTZ")
    if kind == "s-epenthesis":
        if len(cmu) < 2 or cmu[0] != "S" or cmu[1] in {"AA", "AE", "AH", "AO", "EH", "IH"}:
            return None
        if len(out) > 1 and _bare(out[0]) == "s" and _bare(out[1])[:1] in consonants:
            return ["I", *out]
        return None
    if kind == "drop-h" and cmu[:1] == ["HH"] and _bare(out[0]) == "h":
        return out[1:] if len(out) > 1 else None
    return None


_EXPECTED = {"v>w": ("V", "W"), "th>t": ("TH", "T"), "dh>d": ("DH", "D"), "z>jh": ("Z", "JH")}
_EXPECTED |= {"s-epenthesis": ("S", "* S"), "drop-h": ("HH", "")}


def controlled_cases(aligner: PhoneAligner, per_kind: int) -> tuple[list[Case], list[Case]]:
    """(changed cases, unchanged cases): at most ``per_kind`` sentences per kind, one
    unchanged rendering per sentence used, phrase-bank sentences without digits."""
    from ustad.speech.phones.espeak_phonemes import EspeakPhonemizer
    from ustad.speech.phrasebank import PhraseBank

    espeak = EspeakPhonemizer()
    sentences = list(dict.fromkeys(p.english for p in PhraseBank.load()))
    sentences = [s for s in sentences if not any(ch.isdigit() for ch in s)]
    random.Random(SEED).shuffle(sentences)
    changed: list[Case] = []
    unchanged: dict[str, Case] = {}
    for kind in KINDS:
        found = 0
        for sentence in sentences:
            if found >= per_kind:
                break
            words = tuple(sentence.split())
            for index, word in enumerate(words):
                core = word.strip(".,;:!?\"'()")
                groups = espeak.mnemonic_words(core)
                if len(groups) != 1 or not core.isalpha():
                    continue
                cmu = list(aligner.pronouncer.phones(core))
                new = mutate(kind, groups[0], cmu) if cmu else None
                if new is None:
                    continue
                phone, heard = _EXPECTED[kind]

                def render(
                    tokens: Sequence[str],
                    i: int = index,
                    w: str = word,
                    ws: tuple[str, ...] = words,
                ) -> str:
                    said = "[[" + "".join(tokens) + "]]" + w[len(w.rstrip(".,;:!?")) :]
                    return " ".join([*ws[:i], said, *ws[i + 1 :]])

                changed.append(Case(kind, sentence, render(new), words, index, phone, heard))
                unchanged.setdefault(
                    sentence, Case("unchanged", sentence, render(groups[0]), words, index, "", "")
                )
                found += 1
                break
    return changed, list(unchanged.values())


def named(result: WordPhones, case: Case) -> bool:
    """Whether the changed phone is flagged with the change named."""
    for phone in result.flagged:
        if phone.phone != case.phone:
            continue
        if case.heard == "* S":
            if phone.heard.endswith(" S"):
                return True
        elif phone.heard == case.heard:
            return True
    return False


def run_controlled(aligner: PhoneAligner, per_kind: int) -> dict[str, tuple[int, int, int]]:
    """Per kind: (cases, word flagged, phone named); "unchanged": (cases, clean, 0)."""
    from ustad.speech.audio import resample_pcm
    from ustad.speech.espeak_tts import EspeakSynthesizer
    from ustad.speech.types import SAMPLE_RATE

    voice = EspeakSynthesizer("en-us", language="en")
    changed, unchanged = controlled_cases(aligner, per_kind)
    table: dict[str, list[int]] = {kind: [0, 0, 0] for kind in (*KINDS, "unchanged")}
    misses: list[str] = []
    for case in [*changed, *unchanged]:
        pcm = resample_pcm(voice.synthesize_phonemes(case.text), SAMPLE_RATE)
        audio = pcm.samples.astype(np.float32) / 32768.0
        result = aligner.align(audio, case.words)
        row = table[case.kind]
        row[0] += 1
        if case.kind == "unchanged":
            clean = not any(w.flagged for w in result)
            row[1] += clean
            if not clean:
                misses.append(f"  unchanged flagged: {case.text} -> {_flags(result)}")
            continue
        word = result[case.index]
        row[1] += word.status != "ok"
        row[2] += named(word, case)
        if not named(word, case):
            misses.append(f"  {case.kind} not named: {case.text} -> {_flags(result)}")
    for line in misses[:40]:
        print(line)
    return {kind: (r[0], r[1], r[2]) for kind, r in table.items()}


def _flags(result: Sequence[WordPhones]) -> str:
    return "; ".join(
        f"{w.word}:{p.phone}>{p.heard or '-'}({p.gop:.1f})" for w in result for p in w.flagged
    )


@dataclass
class LearnerFigures:
    """Counts over the learner clips."""

    clips: int = 0
    failed: int = 0
    pairs: int = 0
    own_above: int = 0
    swapped: int = 0
    swapped_flagged: int = 0
    own_words: int = 0
    own_words_flagged: int = 0
    phone_seconds: float = 0.0


def run_learner(aligner: PhoneAligner, rows: list[dict[str, str]]) -> LearnerFigures:
    """Own vs other sentences, swapped content word, failures, CPU of the stage."""
    from ustad.assess.normalize import normalize_word
    from ustad.assess.word_match import is_content_word
    from ustad.speech.audio import decode_audio

    def content(word: str) -> bool:
        tokens = normalize_word(word)
        return len(tokens) == 1 and is_content_word(tokens[0])

    everything = load_index()
    texts = [r["text"] for r in everything]
    vocabulary = sorted({w for t in texts for w in t.split() if content(w)})
    rng = random.Random(SEED)
    figures = LearnerFigures()
    for n, row in enumerate(rows):
        audio = decode_audio((DATA / row["file"]).read_bytes()).samples
        words = row["text"].split()
        figures.clips += 1
        started = time.process_time()
        try:
            log_probs = aligner.log_probs(audio)
            own = aligner.score(log_probs, words)
        except PhoneAlignmentError as error:
            figures.failed += 1
            print(f"  {row['utt_id']}: {error}")
            continue
        figures.phone_seconds += time.process_time() - started
        figures.own_words += len(own)
        figures.own_words_flagged += sum(w.status != "ok" for w in own)
        own_gop = sentence_gop(own)
        position = next(i for i, r in enumerate(everything) if r["utt_id"] == row["utt_id"])
        for offset in OTHER_OFFSETS:
            other = texts[(position + offset) % len(texts)]
            if other == row["text"]:
                continue
            figures.pairs += 1
            figures.own_above += own_gop > sentence_gop(aligner.score(log_probs, other.split()))
        content_at = [i for i, w in enumerate(words) if content(w)]
        if content_at:
            i = rng.choice(content_at)
            replacement = rng.choice([v for v in vocabulary if v.lower() != words[i].lower()])
            swapped = [*words[:i], replacement, *words[i + 1 :]]
            figures.swapped += 1
            figures.swapped_flagged += aligner.score(log_probs, swapped)[i].status != "ok"
        if (n + 1) % 50 == 0:
            print(f"  learner clips {n + 1}/{len(rows)}", flush=True)
    return figures


def whisper_seconds(rows: list[dict[str, str]], cache: Path | None) -> dict[str, float]:
    """tiny.en's CPU seconds per clip (transcribe with word timestamps), cached."""
    from ustad.speech.audio import decode_audio
    from ustad.speech.model_paths import english_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    found: dict[str, float] = {}
    if cache is not None and cache.exists():
        found = json.loads(cache.read_text(encoding="utf-8"))
    missing = [r for r in rows if r["utt_id"] not in found]
    if missing:
        engine = WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en")
        for row in missing:
            audio = decode_audio((DATA / row["file"]).read_bytes())
            started = time.process_time()
            engine.transcribe(audio, language="en", word_timestamps=True)
            found[row["utt_id"]] = time.process_time() - started
        if cache is not None:
            cache.write_text(json.dumps(found), encoding="utf-8")
    return {r["utt_id"]: found[r["utt_id"]] for r in rows}


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.3f} ({part}/{whole})" if whole else "-"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the three parts and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="learner clips (default all)")
    parser.add_argument("--per-kind", type=int, default=40, help="controlled sentences per kind")
    parser.add_argument("--cache", type=Path, default=None, help="tiny.en CPU-seconds cache")
    parser.add_argument("--skip-cost", action="store_true", help="no tiny.en comparison")
    args = parser.parse_args(argv)
    aligner = PhoneAligner()
    timed: Callable[[], float] = time.process_time
    started = timed()
    controlled = run_controlled(aligner, args.per_kind)
    print(f"\ncontrolled renderings ({timed() - started:.0f} s CPU)")
    print(f"{'kind':<14}{'cases':>6}  {'word flagged':<18}{'phone named':<18}")
    total = [0, 0, 0]
    for kind, (cases, flagged, hit) in controlled.items():
        if kind == "unchanged":
            continue
        total = [total[0] + cases, total[1] + flagged, total[2] + hit]
        print(f"{kind:<14}{cases:>6}  {_rate(flagged, cases):<18}{_rate(hit, cases):<18}")
    print(f"{'all changed':<14}{total[0]:>6}  {_rate(total[1], total[0]):<18}"
          f"{_rate(total[2], total[0]):<18}")  # fmt: skip
    cases, clean, _ = controlled["unchanged"]
    print(f"{'unchanged':<14}{cases:>6}  no phone flagged {_rate(clean, cases)}")

    rows = load_index(args.limit)
    figures = run_learner(aligner, rows)
    aligned = figures.clips - figures.failed
    print(f"\nlearner clips ({figures.clips})")
    print(f"  alignment failed          {_rate(figures.failed, figures.clips)}")
    print(f"  own GOP > other sentence  {_rate(figures.own_above, figures.pairs)}")
    print(f"  swapped word flagged      {_rate(figures.swapped_flagged, figures.swapped)}")
    print(f"  own words flagged         {_rate(figures.own_words_flagged, figures.own_words)}")
    if not args.skip_cost and aligned:
        whisper = whisper_seconds(rows, args.cache)
        phone = figures.phone_seconds / aligned
        turn = sum(whisper.values()) / len(whisper)
        print("\ncost (CPU seconds per clip)")
        print(f"  phone stage {phone:.3f}   tiny.en transcription {turn:.3f}   "
              f"ratio {phone / turn:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
