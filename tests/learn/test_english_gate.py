"""The English gate with the real engines: learner English at the Urdu step is English,
real Urdu (and variants of it) is Urdu. Rates over sets of clips, with margin."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.conftest import REPO_ROOT
from ustad.learn.processor import TurnPolicy, TurnProcessor
from ustad.runtime.executor import EngineExecutor
from ustad.speech.urdu_text import is_urdu_script

if str(REPO_ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from english_gate import (
    GateResult,
    gate_settings,
    learner_clips,
    real_speech,
    run_gate,
    urdu_clips,
)

pytestmark = pytest.mark.models

LEARNER_STEP = 3
"""Every third speechocean762 clip: 100 clips, about 3 minutes on two busy cores (all 300
in benchmarks/english_gate.py)."""
MIN_ENGLISH_RATE = 0.97
"""Share answered ``english_input_edge_case``: 300/300 measured (benchmarks/english_gate.py;
299/300 before the short window decided), 99/100 on this subset when it held both learner
clips of the full window's unsure band; the issue asks for
0.97 on held-out clips, and under other instruction sets (AVX, GENERIC) hard clips'
shares moved by up to 0.1 (docs/measurements.md)."""


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnProcessor]:
    """The default settings' policy over the real packaged engines."""
    settings = gate_settings(tmp_path_factory.mktemp("models"))
    executor = EngineExecutor(settings.runtime.engine_workers)
    try:
        yield TurnProcessor(real_speech(settings, executor), TurnPolicy.from_settings(settings))
    finally:
        executor.shutdown()


async def test_learner_english_at_the_urdu_step_is_english(processor: TurnProcessor) -> None:
    clips = learner_clips(step=LEARNER_STEP)
    results = await run_gate(processor, clips)
    missed = [
        (r.clip.name, type(r.outcome.event).__name__, r.share) for r in results if not r.english
    ]
    assert len(results) == 100
    assert sum(r.english for r in results) / len(results) >= MIN_ENGLISH_RATE, missed


async def test_real_urdu_and_its_variants_stay_urdu(processor: TurnProcessor) -> None:
    results: list[GateResult] = await run_gate(processor, urdu_clips())
    assert len(results) == 18
    english = [r.clip.name for r in results if r.english]
    assert not english, f"taken for English: {english}"
    # Understood as Urdu: decoded in Urdu script (the translation is another check's concern).
    not_urdu = [r.clip.name for r in results if not is_urdu_script(r.outcome.transcript or "")]
    assert not not_urdu, f"not decoded as Urdu: {not_urdu}"
