"""Assessment quality on the speechocean762 learner clips with Whisper tiny.en.

Transcribes each clip once with the service's English engine (WhisperTranscriber on
tiny.en, word timestamps, as a learn turn does), then prints:

* WER of tiny.en against the prompted sentences, over normalised tokens (numbers heard
  as digits read the way that fits the sentence best, as the aligner does);
* own-sentence pass rate: each clip assessed against its own sentence;
* mismatched passes: each clip against three other sentences (must be 0), and against
  every sentence sharing at least 40 % of its words with the clip's own;
* swapped-word flag rate: for clips whose own attempt had every word correct, one word
  of the sentence replaced by an unrelated word must not come out CORRECT;
* wrong-content-word fail rate: for clips whose own attempt passed, one content word
  (not a function word, see :func:`ustad.assess.word_match.is_content_word`) of the
  sentence replaced by another content word of the corpus that is not the same word
  or a homophone: the learner said something other than the sentence, so the attempt
  must fail. Also printed over all 300 clips.

The last lines print the four figures issue 10 checks, in one place. Measured on the
300 clips (x86-64, tiny.en int8), before -> after the wrong-word rule, lenient
function-word slips and unflagged low-confidence matches: own sentence passed 0.673 ->
0.707; other sentence rejected 1.000 -> 0.997 (5 of 1774 pairs pass, all sentences of
mostly function words); swapped word flagged 1.000 -> 1.000; wrong content word failed
0.500 -> 0.976 (own attempt passed; over all clips 0.66 -> 0.98).

With ``--support P`` every assessment is made as a learn turn makes it with
``assessment.target_support`` on: when the transcript flags a word, the recogniser of
``--support-model`` (``assessment.support_model``) reads the target on the clip and
the attempt is assessed again with that evidence at ``support_probability`` P. With
base's support at 0.25 (the default) the figures become: own sentence passed 0.780;
other sentence rejected 0.994 (10 of 1774 pairs); swapped word flagged 1.000; wrong
content word failed 0.965 (219 of 227). ``--prompted Q`` adds the prompted decoding's
evidence (``assessment.prompted_probability``): at 0.05, own sentence passed 0.827,
other sentence rejected 0.995, swapped word flagged 0.994, wrong content word failed
0.959 (0.780 / 0.995 / 1.000 / 0.956 without it, same run). Sweep: docs/measurements.md.

Usage: ``.venv/bin/python benchmarks/assessment_quality.py [--limit N] [--cache FILE]
[--support P [--support-model M] [--support-cache FILE]]``. ``--cache`` keeps the
transcripts, ``--support-cache`` the support values, in JSON files (outside the
repository) to rerun quickly. Nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clip_wer import DATA, corpus_wer, load_index
from phone_evidence import PhoneEvidence, phone_judged

from ustad.assess.normalize import normalize_word
from ustad.assess.score import assess
from ustad.assess.support import needs_support, prompted_check
from ustad.assess.types import Assessment, WordStatus
from ustad.assess.word_match import MatchKind, compare_words, is_content_word
from ustad.assessment_settings import AssessmentSettings
from ustad.settings import Settings, SttSettings
from ustad.speech.types import Audio, Transcript, Word, WordSupport

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 762
MISMATCH_OFFSETS = (1, 7, 101)
OVERLAP_SHARE = 0.4


def transcribe_all(rows: list[dict[str, str]], cpu_threads: int = 1) -> dict[str, Transcript]:
    """Transcripts from the service's own English engine and decoder (``cpu_threads``:
    CTranslate2's intra-op threads, ``stt.cpu_threads``)."""
    from ustad.speech.audio import decode_audio
    from ustad.speech.model_paths import english_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    engine = WhisperTranscriber(
        english_whisper_dir("packaged"), name="tiny.en", cpu_threads=cpu_threads
    )
    found: dict[str, Transcript] = {}
    started = time.perf_counter()
    for n, row in enumerate(rows, 1):
        audio = decode_audio((DATA / row["file"]).read_bytes())
        found[row["utt_id"]] = engine.transcribe(audio, language="en", word_timestamps=True)
        if n % 50 == 0:
            print(
                f"  transcribed {n}/{len(rows)} ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    return found


class Judge:
    """Assesses a clip's transcript against a target the way a learn turn does.

    Without ``support_probability`` the transcript alone is scored. With it, a turn
    whose transcript-level assessment flagged a word asks the English engine for its
    forced reading of the target (``target_support``) and is assessed again with that
    evidence, as ``TurnProcessor._attempt`` does. Support values are kept in
    ``support_cache`` (a JSON file) keyed by model, clip and target, so reruns with
    another threshold are instant; ``asked`` counts the passes asked for and
    ``computed_seconds`` holds the CPU seconds of each one computed.
    """

    def __init__(
        self,
        transcripts: dict[str, Transcript],
        files: dict[str, Path],
        support_probability: float | None,
        support_cache: Path | None,
        support_model: str = "multilingual",
        prompted_probability: float | None = None,
    ) -> None:
        self.transcripts = transcripts
        self.prompted_probability = prompted_probability
        self.files = files
        self.probability = support_probability
        self.model = support_model
        self.cache_file = support_cache
        self.cache: dict[str, list[list[Any]]] = {}
        if support_cache is not None and support_cache.exists():
            self.cache = json.loads(support_cache.read_text(encoding="utf-8"))
        self.asked = 0
        self.collecting: set[tuple[str, str]] | None = None
        """While a set: ``support`` only notes what it is asked for and gives nothing."""
        self.computed_seconds: list[float] = []
        self._engine: Any = None
        self._audio: tuple[str, Audio] | None = None
        self.phones: PhoneEvidence | None = None
        """With ``--phones``: the phone stage's opinion where support leaves a flag."""
        self.phone_score = 90
        self.cpu_threads = 1
        """CTranslate2's intra-op threads of the support engine (``stt.cpu_threads``)."""
        self.prompted_needed = 0
        """Support passes asked whose prompted decoding could change the result (the
        service decodes only those: ``ustad.assess.support.prompted_matters``)."""
        self.min_overall = 0.0
        """``assessment.support_min_overall``: no support below this transcript-only score."""
        self.prompted_min_overall = 0.0
        """No prompted decoding below this score with the forced reading alone (a gate
        measured and not kept: docs/measurements.md)."""
        self.prompted_gated = 0
        """Support passes whose prompted decoding could matter but was gated off."""
        self.phones_min_overall = 0.0
        """``assessment.phone_support_min_overall``: no phone stage below this score."""
        self.phones_asked = self.phones_skipped = 0
        """Phone passes asked, and skipped for scoring under ``phones_min_overall``."""

    def support(self, utt_id: str, target: str) -> tuple[WordSupport, ...]:
        """The engine's forced reading of ``target`` on the clip (cached)."""
        key = f"{self.model}\t{utt_id}\t{target}"
        if self.collecting is not None and key not in self.cache:
            self.collecting.add((utt_id, target))
            return ()
        self.asked += 1
        if key not in self.cache:
            from ustad.speech.audio import decode_audio

            if self._engine is None:
                self._engine = support_engine(self.model, self.cpu_threads)
            if self._audio is None or self._audio[0] != utt_id:
                self._audio = (utt_id, decode_audio(self.files[utt_id].read_bytes()))
            started = time.process_time()
            found = self._engine.target_support(self._audio[1], target)
            self.computed_seconds.append(time.process_time() - started)
            self.cache[key] = [[w.word, w.probability, w.prompted] for w in found]
            if len(self.computed_seconds) % 200 == 0:
                self.save()
        # Entries written before the prompted decoding have two fields (never prompted).
        return tuple(WordSupport(*entry) for entry in self.cache[key])

    def __call__(self, utt_id: str, target: str) -> Assessment:
        transcript = self.transcripts[utt_id]
        first = assess(target, transcript)
        if self.probability is None or not needs_support(first, self.min_overall):
            return first
        floors = {
            "support_probability": self.probability,
            "prompted_probability": self.prompted_probability,
        }
        support = self.support(utt_id, target)
        if self.collecting is None:
            wanted = prompted_check(target, self.probability, self.prompted_probability)
            if wanted(support):
                gated = gated_support(
                    target, transcript, support, self.prompted_min_overall, **floors
                )
                self.prompted_needed += gated is support
                self.prompted_gated += gated is not support
                support = gated
        second = assess(target, transcript, support=support, **floors)
        if self.phones is None or self.collecting is not None:
            return second
        if needs_support(second):
            if second.scores.overall >= self.phones_min_overall:
                self.phones_asked += 1
            else:
                self.phones_skipped += 1
        evidence = self.phones
        return phone_judged(
            target,
            transcript,
            second,
            support,
            lambda: evidence(utt_id, target),
            self.phone_score,
            self.phones_min_overall,
            **floors,
        )

    def prefetch(self) -> None:
        """Compute what the collecting run asked for, clip by clip, so each clip is
        encoded once (the engine keeps recent encodings) and only aligned again."""
        wanted = sorted(self.collecting or ())
        self.collecting = None
        print(f"computing target support for {len(wanted)} clip/target pairs ...", flush=True)
        for n, (utt_id, target) in enumerate(wanted, 1):
            self.support(utt_id, target)
            if n % 200 == 0:
                print(f"  {n}/{len(wanted)}", flush=True)
        self.save()

    def save(self) -> None:
        """Write the support cache back."""
        if self.cache_file is not None:
            self.cache_file.write_text(json.dumps(self.cache), encoding="utf-8")


def gated_support(
    target: str,
    transcript: Transcript,
    support: tuple[WordSupport, ...],
    min_overall: float,
    **floors: Any,
) -> tuple[WordSupport, ...]:
    """``support`` as a learn turn would have it with the prompted decoding made only for
    attempts scoring at least ``min_overall`` with the forced reading alone (a gate
    measured and not kept: docs/measurements.md): without the prompted decoding's
    evidence (every ``prompted`` false) under it; the same object otherwise. The
    caches hold the prompted decoding's result for every pass, so any gate is replayed
    from them."""
    if min_overall <= 0:
        return support
    forced = tuple(WordSupport(s.word, s.probability, False) for s in support)
    if assess(target, transcript, support=forced, **floors).scores.overall < min_overall:
        return forced
    return support


def add_phones_arguments(parser: argparse.ArgumentParser) -> None:
    """``--phones SCORE`` (``assessment.phone_support`` at ``phone_support_score``) and
    ``--phones-cache``."""
    parser.add_argument(
        "--phones",
        type=int,
        default=None,
        metavar="SCORE",
        help="ask the phone stage where support leaves a flag (assessment.phone_support_score)",
    )
    parser.add_argument("--phones-cache", type=Path, default=None, help="phone cache (JSON)")


def add_cpu_threads_argument(parser: argparse.ArgumentParser) -> None:
    """``--cpu-threads N``: ``stt.cpu_threads`` of the benchmark's recognisers."""
    parser.add_argument(
        "--cpu-threads",
        type=int,
        default=SttSettings().cpu_threads,
        help="CTranslate2 intra-op threads per call (stt.cpu_threads; default the service's); "
        "the caches do not record it: use other caches for another count",
    )


def add_support_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """``--support-min-overall G``, ``--prompted-min-overall G`` and
    ``--phones-min-overall G``: ``assessment.support_min_overall``, a gate on the
    prompted decoding (measured, not in the service) and
    ``assessment.phone_support_min_overall`` for the runs."""
    defaults = AssessmentSettings()
    parser.add_argument(
        "--support-min-overall",
        type=float,
        default=defaults.support_min_overall,
        metavar="G",
        help="ask for support only when the transcript-only overall score is at least G "
        "(assessment.support_min_overall; default the service's, 0 = always)",
    )
    parser.add_argument(
        "--prompted-min-overall",
        type=float,
        default=0.0,
        metavar="G",
        help="decode the support prompted only when the score with the forced reading alone "
        "is at least G (a gate measured and not kept: docs/measurements.md; default 0 = always)",
    )
    parser.add_argument(
        "--phones-min-overall",
        type=float,
        default=defaults.phone_support_min_overall,
        metavar="G",
        help="ask the phone stage only when the score after support is at least G "
        "(assessment.phone_support_min_overall; default the service's, 0 = always)",
    )


def add_prompted_argument(parser: argparse.ArgumentParser) -> None:
    """``--prompted Q``: ``assessment.prompted_probability`` for the benchmark's runs."""
    parser.add_argument(
        "--prompted",
        type=float,
        default=None,
        metavar="Q",
        help="support floor for words a target-prompted decoding wrote "
        "(assessment.prompted_probability; default: the --support value)",
    )


def support_engine(model: str, cpu_threads: int = 1) -> Any:
    """The recogniser that reads targets for ``assessment.support_model`` = ``model``,
    configured as the service's (short-clip window, ``stt.english_window_max_seconds``,
    and for tiny.en ``stt.english_low_logprob_redo``; ``cpu_threads``: CTranslate2's
    intra-op threads, which can change int8 results in the last bits)."""
    from ustad.speech.model_paths import english_whisper_dir, multilingual_whisper_dir
    from ustad.speech.whisper import WhisperTranscriber

    stt = Settings().stt
    if model == "english":
        return WhisperTranscriber(
            english_whisper_dir("packaged"),
            name="tiny.en",
            short_clip_window=True,
            redo_low_logprob=stt.english_low_logprob_redo,
            english_window_max_seconds=stt.english_window_max_seconds,
            cpu_threads=cpu_threads,
        )
    model_dir = multilingual_whisper_dir("packaged", REPO_ROOT / "var" / "models")
    return WhisperTranscriber(
        model_dir,
        name="base",
        short_clip_window=True,
        encodings_kept=8,
        english_window_max_seconds=stt.english_window_max_seconds,
        cpu_threads=cpu_threads,
    )


def _to_json(transcripts: dict[str, Transcript]) -> dict[str, Any]:
    return {key: asdict(value) for key, value in transcripts.items()}


def _from_json(data: dict[str, Any]) -> dict[str, Transcript]:
    found: dict[str, Transcript] = {}
    for key, value in data.items():
        words = tuple(Word(**w) for w in value.pop("words"))
        found[key] = Transcript(**value, words=words)
    return found


def swapped_target(words: list[str], rng: random.Random, pool: list[str]) -> tuple[str, int]:
    """The sentence with one word replaced by an unrelated one, and the replaced position."""
    position = rng.randrange(len(words))
    original = normalize_word(words[position])
    taken = {token for word in words for token in normalize_word(word)}
    while True:
        candidate = rng.choice(pool)
        tokens = normalize_word(candidate)
        if len(tokens) != 1 or tokens[0] in taken:
            continue
        if any(compare_words(tokens[0], o) is MatchKind.SAME for o in original):
            continue
        swapped = [*words[:position], candidate, *words[position + 1 :]]
        return " ".join(swapped), position


def wrong_content_target(words: list[str], rng: random.Random, pool: list[str]) -> str | None:
    """The sentence with one content word replaced by another content word of ``pool``.

    ``None`` when the sentence has no content word of one token.
    """
    positions = [
        i
        for i, word in enumerate(words)
        if len(tokens := normalize_word(word)) == 1 and is_content_word(tokens[0])
    ]
    if not positions:
        return None
    position = rng.choice(positions)
    (original,) = normalize_word(words[position])
    taken = {token for word in words for token in normalize_word(word)}
    while True:
        candidate = rng.choice(pool)
        tokens = normalize_word(candidate)
        if len(tokens) != 1 or tokens[0] in taken or not is_content_word(tokens[0]):
            continue
        if compare_words(tokens[0], original) is MatchKind.SAME:
            continue
        return " ".join([*words[:position], candidate, *words[position + 1 :]])


def target_results(assessment: Assessment) -> list[WordStatus]:
    return [w.status for w in assessment.words if w.status is not WordStatus.INSERTED]


@dataclass(frozen=True)
class Figures:
    """What ``measure`` found (pairs are clip id and target)."""

    own_passed: int
    own_flagged: int
    """Own attempts whose transcript alone flagged a word (the turns that ask for support)."""
    wer: float
    mismatched: int
    mismatched_passed: list[tuple[str, str]]
    overlapping: int
    overlapping_passed: list[tuple[str, str]]
    all_correct: int
    flagged: int
    missed: list[tuple[str, str]]
    wrong_checked: int
    wrong_failed: int
    wrong_checked_all: int
    wrong_failed_all: int
    wrong_passed: list[tuple[str, str]]


def measure(
    rows: list[dict[str, str]],
    transcripts: dict[str, Transcript],
    judge: Judge,
    *,
    verbose: bool = False,
) -> Figures:
    """Every figure of the report, from ``judge``'s assessments."""
    own_passed = own_flagged = 0
    own_passing: list[dict[str, str]] = []
    all_correct: list[dict[str, str]] = []
    for row in rows:
        transcript = transcripts[row["utt_id"]]
        result = judge(row["utt_id"], row["text"])
        own_flagged += needs_support(assess(row["text"], transcript))
        own_passed += result.passed
        if result.passed:
            own_passing.append(row)
        if all(status is WordStatus.CORRECT for status in target_results(result)):
            all_correct.append(row)
        if verbose:
            print(
                f"{'PASS' if result.passed else 'fail'} {result.scores.overall:5.1f} "
                f"a{result.scores.accuracy:5.1f} c{result.scores.completeness:5.1f} "
                f"f{result.scores.fluency:5.1f} | {row['text']} | {transcript.text}"
            )
    wer = corpus_wer([(row["text"], transcripts[row["utt_id"]]) for row in rows])

    mismatched = 0
    mismatched_passed: list[tuple[str, str]] = []
    for offset in MISMATCH_OFFSETS:
        for i, row in enumerate(rows):
            other = rows[(i + offset) % len(rows)]
            if other["text"] == row["text"]:
                continue
            mismatched += 1
            if judge(row["utt_id"], other["text"]).passed:
                mismatched_passed.append((row["utt_id"], other["text"]))

    # The hardest mismatches: sentences sharing at least 40 % of their words with the
    # clip's own ("LOOK AT MY FACE" for a clip of "LOOK AT MY MOUTH").
    overlapping = 0
    overlapping_passed: list[tuple[str, str]] = []
    word_sets = [set(row["text"].split()) for row in rows]
    for i, row in enumerate(rows):
        for j, other in enumerate(rows):
            if other["text"] == row["text"]:
                continue
            if len(word_sets[i] & word_sets[j]) < OVERLAP_SHARE * len(word_sets[j]):
                continue
            overlapping += 1
            if judge(row["utt_id"], other["text"]).passed:
                overlapping_passed.append((row["utt_id"], other["text"]))

    rng = random.Random(SEED)
    pool = sorted({word for row in load_index(None) for word in row["text"].split()})
    flagged = 0
    missed: list[tuple[str, str]] = []
    for row in all_correct:
        words = row["text"].split()
        swapped, position = swapped_target(words, rng, pool)
        statuses = target_results(judge(row["utt_id"], swapped))
        if statuses[position] is not WordStatus.CORRECT:
            flagged += 1
        else:
            missed.append((row["utt_id"], swapped))

    wrong_rng = random.Random(SEED)
    wrong_failed = wrong_checked = wrong_failed_all = wrong_checked_all = 0
    wrong_passed: list[tuple[str, str]] = []
    passing_ids = {row["utt_id"] for row in own_passing}
    for row in rows:
        wrong = wrong_content_target(row["text"].split(), wrong_rng, pool)
        if wrong is None:
            continue
        failed = not judge(row["utt_id"], wrong).passed
        wrong_checked_all += 1
        wrong_failed_all += failed
        if row["utt_id"] in passing_ids:
            wrong_checked += 1
            wrong_failed += failed
            if not failed:
                wrong_passed.append((row["utt_id"], wrong))

    return Figures(
        own_passed,
        own_flagged,
        wer,
        mismatched,
        mismatched_passed,
        overlapping,
        overlapping_passed,
        len(all_correct),
        flagged,
        missed,
        wrong_checked,
        wrong_failed,
        wrong_checked_all,
        wrong_failed_all,
        wrong_passed,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument("--cache", type=Path, default=None, help="transcript cache (JSON)")
    parser.add_argument("--verbose", action="store_true", help="print every own-sentence result")
    parser.add_argument(
        "--support",
        type=float,
        default=None,
        metavar="P",
        help="use the target support at this probability (assessment.support_probability)",
    )
    parser.add_argument(
        "--support-model",
        choices=["multilingual", "english"],
        default="multilingual",
        help="assessment.support_model",
    )
    parser.add_argument("--support-cache", type=Path, default=None, help="support cache (JSON)")
    add_cpu_threads_argument(parser)
    add_prompted_argument(parser)
    add_support_gate_arguments(parser)
    add_phones_arguments(parser)
    args = parser.parse_args()
    for path in (args.cache, args.support_cache, args.phones_cache):
        if path is not None and path.resolve().is_relative_to(REPO_ROOT):
            parser.error("keep the caches outside the repository")

    rows = load_index(args.limit)
    transcripts: dict[str, Transcript] = {}
    if args.cache is not None and args.cache.exists():
        transcripts = _from_json(json.loads(args.cache.read_text(encoding="utf-8")))
    missing = [row for row in rows if row["utt_id"] not in transcripts]
    if missing:
        print(f"transcribing {len(missing)} clips with tiny.en ...")
        transcripts |= transcribe_all(missing, args.cpu_threads)
        if args.cache is not None:
            args.cache.write_text(json.dumps(_to_json(transcripts)), encoding="utf-8")
    files = {row["utt_id"]: DATA / row["file"] for row in load_index(None)}
    judge = Judge(
        transcripts, files, args.support, args.support_cache, args.support_model, args.prompted
    )
    judge.cpu_threads = args.cpu_threads
    judge.min_overall = args.support_min_overall
    judge.prompted_min_overall = args.prompted_min_overall
    judge.phones_min_overall = args.phones_min_overall

    while args.support is not None:
        # Note what support the run asks for and compute it clip by clip, until a run
        # asks for nothing new (supported own attempts change which swaps are drawn).
        judge.collecting = set()
        measure(rows, transcripts, judge)
        if not judge.collecting:
            break
        judge.prefetch()
    judge.collecting = None
    judge.asked = judge.prompted_needed = judge.prompted_gated = 0
    if args.phones is not None:
        from ustad.speech.audio import decode_audio

        judge.phones = PhoneEvidence(
            lambda clip: decode_audio(files[clip].read_bytes()), args.phones_cache
        )
        judge.phone_score = args.phones
    f = measure(rows, transcripts, judge, verbose=args.verbose)
    judge.save()
    if judge.phones is not None:
        judge.phones.save()
        cost = sorted(judge.phones.computed_seconds)
        if cost:
            print(f"phone stage computed {len(cost)} times; median {cost[len(cost) // 2]:.3f} s")
        print(
            f"phone stage asked {judge.phones_asked} times, skipped {judge.phones_skipped} "
            f"(score after support under {judge.phones_min_overall:g})"
        )
    n = len(rows)
    print(f"clips: {n}")
    if args.support is not None:
        cost = sorted(judge.computed_seconds)
        median = f"{cost[len(cost) // 2]:.3f} s CPU" if cost else "all cached"
        print(f"target support asked {judge.asked} times; median {median} per pass")
        print(
            f"  its prompted decoding could matter in {judge.prompted_needed} "
            "(the service decodes only those; the cached CPU times include it), "
            f"gated off in {judge.prompted_gated} more "
            f"(score with the forced reading alone under {judge.prompted_min_overall:g})"
        )
    print(f"WER (tiny.en, normalised): {100 * f.wer:.1f} %")
    print(f"own-sentence pass rate: {f.own_passed}/{n} = {100 * f.own_passed / n:.1f} %")
    print(f"own attempts with a word flagged by the transcript: {f.own_flagged}/{n}")
    print(f"mismatched pairs passed: {len(f.mismatched_passed)}/{f.mismatched}")
    for utt_id, text in f.mismatched_passed:
        print(f"  passed against another sentence: {utt_id} vs {text!r}")
    print(f"overlapping mismatched pairs passed: {len(f.overlapping_passed)}/{f.overlapping}")
    for utt_id, text in f.overlapping_passed:
        print(f"  passed against an overlapping sentence: {utt_id} vs {text!r}")
    rate = 100 * f.flagged / f.all_correct if f.all_correct else float("nan")
    print(f"swapped word flagged: {f.flagged}/{f.all_correct} = {rate:.1f} %")
    for utt_id, text in f.missed:
        print(f"  swapped word not flagged: {utt_id} {text!r}")
    print(
        f"wrong content word failed (own attempt passed): {f.wrong_failed}/{f.wrong_checked}; "
        f"over all clips: {f.wrong_failed_all}/{f.wrong_checked_all}"
    )
    for utt_id, text in f.wrong_passed:
        print(f"  passed with a wrong content word: {utt_id} {text!r}")
    rejected = 1 - (len(f.mismatched_passed) + len(f.overlapping_passed)) / (
        f.mismatched + f.overlapping
    )
    print("summary:")
    print(f"  own sentence passed:        {f.own_passed / n:.3f}")
    print(f"  other sentence rejected:    {rejected:.3f}")
    print(f"  swapped word flagged:       {f.flagged / max(1, f.all_correct):.3f}")
    print(f"  wrong content word failed:  {f.wrong_failed / max(1, f.wrong_checked):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
