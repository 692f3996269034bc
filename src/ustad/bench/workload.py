"""What the simulated learners say, and when: workload knobs, clip pools, Zipf choice.

The honest limits of the data shape the workload:

- **Urdu step.** Only two real Urdu recordings exist (Common Voice, in
  ``../shared/data/urdu``). The Urdu pool is those two clips plus, optionally, ``K``
  espeak-ng renderings of phrase-bank sentences made by the bench itself with
  ustad's own :class:`~ustad.speech.espeak_tts.EspeakSynthesizer` and
  :func:`~ustad.speech.audio.encode_audio`. Whisper base does not recognise
  espeak-ng's Urdu reliably: a synthetic clip usually comes back as some other
  Urdu text and a speech-translation guess, not as its phrase-bank sentence. What
  the load test needs still holds: identical audio gives identical text, so when
  several learners say the same clip the translation and speech caches are hit
  exactly as they would be by real repeated sentences. Synthetic clips are labelled
  ``synthetic`` in the results.
- **Sentence popularity.** Real learners do not pick sentences uniformly: a few
  ("How are you?", "Where is the bathroom?") are said far more than the rest. Each
  cycle draws its Urdu clip from a bounded Zipf distribution over the pool (rank
  ``k`` has weight ``1 / k**s``, default ``s = 1.1``). The real clips take ranks 1
  and 2 (the most popular), so most Urdu turns are real speech; the synthetic
  clips follow in phrase-bank sampling order.
- **Repeat step.** The English attempts are real learner recordings
  (speechocean762), drawn uniformly: every learner has their own voice, so the
  same attempt audio arriving from two learners would be unrealistic. These clips
  do not say the target sentence, so attempts fail; after ``attempts`` tries the
  learner skips on with ``next_sentence``, which is how a client leaves a cycle
  it cannot pass. Both are whole cycles as far as the server's work goes.

Every random choice comes from a generator seeded by ``(seed, learner, cycle)``,
so a workload is reproducible and one learner's choices do not depend on how the
others were scheduled.
"""

from __future__ import annotations

import bisect
import csv
import io
import os
import random
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final, Literal

from ustad.vocabulary import LanguageMode

ClipSource = Literal["common_voice", "espeak-ng", "speechocean762"]

DEFAULT_ZIPF: Final = 1.1
"""Zipf exponent of sentence popularity; around 1 is what word and query frequencies show."""

SENTENCE_CHOICE: Final = (
    "Urdu clip per cycle: bounded Zipf over the Urdu pool (rank k has weight 1/k**zipf; "
    "the real Common Voice clips take ranks 1 and 2, synthetic espeak-ng renderings of "
    "phrase-bank sentences follow). Repeat attempts: speechocean762 learner clips, uniform. "
    "Whisper does not recognise espeak-ng Urdu as its phrase-bank sentence, but identical "
    "audio gives identical text, so repeats hit the caches as real repeats would."
)
"""The workload's sentence model in one paragraph (written into the results)."""


@dataclass(frozen=True)
class Workload:
    """The knobs of one benchmark workload (the learner count varies per run)."""

    learners: int = 4
    """Simulated learners connected at once."""
    cycles: int = 2
    """Learn cycles each learner runs."""
    think_time: float = 1.0
    """Mean seconds a learner waits after a reply before its next message (the client
    playing audio, the learner practising); each wait is uniform in [0.5, 1.5] x this."""
    zipf: float = DEFAULT_ZIPF
    """Exponent of the Zipf distribution of Urdu sentences over the pool (0 = uniform)."""
    seed: int = 0
    """Seed of every random choice."""
    synthetic_urdu: int = 8
    """Phrase-bank sentences rendered by espeak-ng and added to the Urdu pool."""
    attempts: int = 2
    """English attempts per cycle before the learner skips with ``next_sentence``."""
    urdu_retries: int = 2
    """Extra Urdu clips a learner tries when the server did not understand one."""
    language_mode: LanguageMode = "urdu"
    """Language of the tutor's prompts and feedback (the protocol's default is Urdu)."""

    def __post_init__(self) -> None:
        """Reject knobs that cannot describe a workload."""
        if self.learners < 1 or self.cycles < 1 or self.attempts < 1:
            raise ValueError("learners, cycles and attempts must be at least 1")
        if self.think_time < 0 or self.zipf < 0 or self.urdu_retries < 0:
            raise ValueError("think_time, zipf and urdu_retries must not be negative")
        if self.synthetic_urdu < 0:
            raise ValueError("synthetic_urdu must not be negative")

    def to_dict(self) -> dict[str, Any]:
        """The knobs as JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class Clip:
    """One recording a simulated learner can send."""

    name: str
    data: bytes = field(repr=False)
    format: str
    source: ClipSource
    text: str
    """What the clip says (the prompt it was read from, or the sentence synthesised)."""
    seconds: float

    @property
    def synthetic(self) -> bool:
        """Made by a speech synthesiser rather than recorded from a person."""
        return self.source == "espeak-ng"

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (without the audio)."""
        return {
            "name": self.name,
            "source": self.source,
            "synthetic": self.synthetic,
            "seconds": round(self.seconds, 2),
            "bytes": len(self.data),
            "text": self.text,
        }


class ZipfSampler:
    """Draws ranks ``0..n-1`` with probability proportional to ``1 / (rank + 1) ** s``."""

    def __init__(self, n: int, exponent: float) -> None:
        """A bounded Zipf over ``n`` items; ``exponent`` 0 is uniform."""
        if n < 1:
            raise ValueError("a Zipf sampler needs at least one item")
        if exponent < 0:
            raise ValueError("the Zipf exponent must not be negative")
        self.n = n
        self.exponent = exponent
        self._cumulative = list(accumulate(1.0 / (k**exponent) for k in range(1, n + 1)))

    def probabilities(self) -> list[float]:
        """The probability of each rank."""
        total = self._cumulative[-1]
        previous = 0.0
        out = []
        for value in self._cumulative:
            out.append((value - previous) / total)
            previous = value
        return out

    def sample(self, rng: random.Random) -> int:
        """One rank, using ``rng`` (inverse transform over the cumulative weights)."""
        point = rng.random() * self._cumulative[-1]
        # bisect_right: a draw exactly on a boundary belongs to the next rank, and
        # min() guards the float edge where the draw equals the total.
        return min(bisect.bisect_right(self._cumulative, point), self.n - 1)


@dataclass(frozen=True)
class CyclePlan:
    """Every choice one learner makes in one cycle, fixed before it starts."""

    urdu: tuple[int, ...]
    """Urdu pool indices: the first, then one per retry if not understood."""
    english: tuple[int, ...]
    """Learner pool indices, one per English attempt."""
    think: tuple[float, ...]
    """Think times in seconds, used in order (cyclically if the cycle runs longer)."""


THINKS_PER_CYCLE: Final = 24
"""Think times drawn per cycle; more than a cycle with the default knobs uses unless
turns are answered ``busy`` and said again (then they are reused, in order)."""


def plan_cycle(
    workload: Workload, learner: int, cycle: int, *, urdu_pool: int, learner_pool: int
) -> CyclePlan:
    """The choices of ``learner`` in ``cycle``: a pure function of the workload and indices."""
    if urdu_pool < 1 or learner_pool < 1:
        raise ValueError("both clip pools must hold at least one clip")
    # A string seed is hashed with SHA-512 by random.Random: stable across runs and
    # machines, unlike hash() of a tuple.
    rng = random.Random(f"ustad-bench:{workload.seed}:{learner}:{cycle}")
    zipf = ZipfSampler(urdu_pool, workload.zipf)
    urdu = tuple(zipf.sample(rng) for _ in range(1 + workload.urdu_retries))
    english = tuple(rng.randrange(learner_pool) for _ in range(workload.attempts))
    mean = workload.think_time
    think = tuple(rng.uniform(0.5 * mean, 1.5 * mean) for _ in range(THINKS_PER_CYCLE))
    return CyclePlan(urdu, english, think)


# ------------------------------------------------------------------------- clip pools


def shared_data_dir(explicit: Path | None = None) -> Path:
    """``../shared/data`` of the checkout (``USTAD_SHARED_DATA`` or ``explicit`` overrides)."""
    if explicit is not None:
        return explicit
    override = os.environ.get("USTAD_SHARED_DATA")
    if override:
        return Path(override)
    candidates = [
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3].parent / "shared" / "data",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def _read_index(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as reader:
        return float(reader.getnframes()) / float(reader.getframerate())


def _indexed_clips(root: Path, name_column: str, source: ClipSource) -> list[Clip]:
    """The WAV recordings listed in ``root/index.tsv``, in index order."""
    clips = []
    for row in _read_index(root / "index.tsv"):
        data = (root / row["file"]).read_bytes()
        clips.append(Clip(row[name_column], data, "wav", source, row["text"], _wav_seconds(data)))
    if not clips:
        raise FileNotFoundError(f"no clips listed in {root / 'index.tsv'}")
    return clips


def real_urdu_clips(data_dir: Path) -> list[Clip]:
    """The Common Voice Urdu recordings, in index order."""
    return _indexed_clips(data_dir / "urdu", "file", "common_voice")


def synthetic_urdu_clips(count: int, seed: int) -> list[Clip]:
    """``count`` phrase-bank sentences spoken by espeak-ng's Urdu voice, as WAV.

    WAV, like the real clips, so that synthetic and real turns differ only in the
    speech and not in decoding cost.
    """
    if count <= 0:
        return []
    # Imported here: loading a private espeak-ng copy is only worth it when asked for.
    from ustad.speech.audio import encode_audio
    from ustad.speech.espeak_tts import EspeakSynthesizer
    from ustad.speech.phrasebank import PhraseBank

    phrases = list(PhraseBank.load())
    chosen = random.Random(f"ustad-bench-synthetic:{seed}").sample(
        phrases, min(count, len(phrases))
    )
    synthesizer = EspeakSynthesizer("ur")
    clips = []
    for phrase in chosen:
        pcm = synthesizer.synthesize(phrase.urdu)
        clips.append(
            Clip(
                f"espeak:{phrase.id}",
                encode_audio(pcm, "wav"),
                "wav",
                "espeak-ng",
                phrase.urdu,
                pcm.duration,
            )
        )
    return clips


def urdu_pool(data_dir: Path, *, synthetic: int, seed: int) -> list[Clip]:
    """The Urdu pool in Zipf rank order: real clips first, then synthetic ones."""
    return real_urdu_clips(data_dir) + synthetic_urdu_clips(synthetic, seed)


def learner_pool(data_dir: Path) -> list[Clip]:
    """The speechocean762 learner recordings, in index order."""
    return _indexed_clips(data_dir / "speechocean762", "utt_id", "speechocean762")


def describe_pools(urdu: Sequence[Clip], learner: Sequence[Clip], zipf: float) -> dict[str, Any]:
    """The pools as recorded in the results: each Urdu clip with its Zipf probability."""
    probabilities = ZipfSampler(len(urdu), zipf).probabilities()
    return {
        "sentence_choice": SENTENCE_CHOICE,
        "urdu_pool": [
            {"rank": rank + 1, "probability": round(p, 4), **clip.describe()}
            for rank, (clip, p) in enumerate(zip(urdu, probabilities, strict=True))
        ],
        "urdu_pool_real": sum(not clip.synthetic for clip in urdu),
        "urdu_pool_synthetic": sum(clip.synthetic for clip in urdu),
        "learner_pool": {
            "source": "speechocean762",
            "clips": len(learner),
            "choice": "uniform",
            "mean_seconds": round(sum(c.seconds for c in learner) / len(learner), 2),
        },
    }
