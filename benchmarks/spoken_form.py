"""What the English voice is heard saying, and written forms in assessment.

1. Each line of the shared ``cases/speech-text.tsv`` through the real speech path
   (``PiperSynthesizer.synthesize``, which says the spoken form of its text) and the
   packaged tiny.en: what was heard, and the WER against the "heard as" column (both
   sides in the assessment normaliser's spoken form).
2. Each sentence of ``tests/assess/test_written_forms.py``'s ``PAIRS`` (written with a
   number, symbol or abbreviation, and spelled out), said by Piper from the written
   form, heard by tiny.en and assessed against both forms: how many pass, how many get
   the same verdict, and in how many a written-form word is flagged.

Usage: ``PYTHONPATH=src .venv/bin/python benchmarks/spoken_form.py``. Nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jiwer

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.assess.test_written_forms import PAIRS, flagged  # noqa: E402
from tests.text.test_shared_cases import speech_cases  # noqa: E402

from ustad.assess.normalize import normalize_text  # noqa: E402
from ustad.assess.score import assess  # noqa: E402
from ustad.speech.audio import decode_audio, encode_audio  # noqa: E402
from ustad.speech.model_paths import english_whisper_dir  # noqa: E402
from ustad.speech.piper_tts import PiperSynthesizer  # noqa: E402
from ustad.speech.types import Transcript  # noqa: E402
from ustad.speech.whisper import WhisperTranscriber  # noqa: E402
from ustad.text.english import spoken_words  # noqa: E402


def main() -> None:
    """Print both measurements."""
    piper = PiperSynthesizer.packaged(threads=1)
    tiny = WhisperTranscriber(english_whisper_dir("packaged"), name="tiny.en")

    def hear(text: str) -> Transcript:
        audio = decode_audio(encode_audio(piper.synthesize(text), "wav"))
        return tiny.transcribe(audio, language="en", word_timestamps=True)

    references: list[str] = []
    hypotheses: list[str] = []
    for text, expected in speech_cases():
        said = hear(text).text.strip()
        print(f"{text!r} -> heard {said!r}")
        references.append(" ".join(normalize_text(expected)))
        hypotheses.append(" ".join(normalize_text(said)))
    words = sum(len(r.split()) for r in references)
    print(f"speech-text.tsv: WER {jiwer.wer(references, hypotheses):.3f} over {words} words")

    passed = same = form_flagged = 0
    for written, spelled in PAIRS:
        transcript = hear(written)
        as_written, as_spelled = assess(written, transcript), assess(spelled, transcript)
        forms = {w.core for w in spoken_words(written) if w.readings}
        marked = [word for word, _ in flagged(as_written) if word in forms]
        passed += as_written.passed
        same += as_written.passed == as_spelled.passed
        form_flagged += bool(marked)
        print(f"{written!r} heard {transcript.text.strip()!r} flagged {flagged(as_written)}")
    n = len(PAIRS)
    print(f"pairs: {passed}/{n} pass, {same}/{n} same verdict, {form_flagged}/{n} form flagged")


if __name__ == "__main__":
    main()
