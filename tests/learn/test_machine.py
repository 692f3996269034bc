"""The learn cycle state machine: every transition of protocol.md, and odd messages."""

from __future__ import annotations

import pytest

from ustad.assess.types import Assessment, Scores, WordResult, WordStatus
from ustad.learn.events import (
    Ack,
    AckKind,
    CycleEnded,
    CycleStarted,
    EnglishHeard,
    Ignored,
    InputRejected,
    NextSentence,
    NoSpeechHeard,
    NoTarget,
    RepeatAssessed,
    Reply,
    SetMode,
    Target,
    UrduUnderstood,
    Utterance,
    Work,
    sentence_words,
)
from ustad.learn.machine import LearnMachine, LearnState, State
from ustad.tutor import texts
from ustad.vocabulary import CycleStatus, ErrorCode, Step, TurnKind

TARGET = Target(english="I want water.", urdu="مجھے پانی چاہیے۔", phrase_id="food-001")


def assessment(passed: bool) -> Assessment:
    status = WordStatus.CORRECT if passed else WordStatus.OMITTED
    words = tuple(WordResult(w, status) for w in ("I", "want", "water"))
    score = 95.0 if passed else 20.0
    return Assessment(
        target=TARGET.english,
        transcript="I want water" if passed else "",
        scores=Scores(score, score, score, score),
        passed=passed,
        words=words,
    )


def replies(actions: list[object]) -> list[Reply]:
    return [a for a in actions if isinstance(a, Reply)]


def at_repeat(mode: str = "english") -> LearnMachine:
    machine = LearnMachine("english" if mode == "english" else "urdu")
    machine.handle(UrduUnderstood(TARGET))
    machine.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    machine.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    assert machine.state is State.AWAIT_REPEAT
    return machine


def test_utterance_at_urdu_step_asks_for_urdu_work() -> None:
    machine = LearnMachine()
    utterance = Utterance(b"audio")
    assert machine.handle(utterance) == [Work(TurnKind.URDU_STEP, utterance)]
    assert machine.state is State.AWAIT_URDU


def test_whole_cycle_in_english_mode() -> None:
    machine = LearnMachine("english")
    actions = machine.handle(UrduUnderstood(TARGET))
    assert actions[0] == CycleStarted(TARGET)
    (you_said,) = replies(actions)
    assert you_said.step is Step.YOU_SAID_AUDIO and you_said.speak
    assert you_said.spoken.text == "You said: مجھے پانی چاہیے. Now repeat after me."
    assert you_said.english_sentence == "I want water."
    assert you_said.urdu_sentence == "مجھے پانی چاہیے۔"
    assert you_said.words == ("I", "want", "water")
    assert machine.state is State.AWAIT_YOU_SAID_ACK

    (prompt,) = replies(machine.handle(Ack(AckKind.YOU_SAID_COMPLETE)))
    assert prompt.step is Step.REPEAT_PROMPT and not prompt.speak
    assert prompt.spoken.text == 'The English sentence is "I want water.". Can you repeat after me?'
    assert machine.state is State.AWAIT_WORD_BY_WORD_ACK

    (full,) = replies(machine.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE)))
    assert full.step is Step.FULL_SENTENCE_AUDIO and full.speak
    assert full.spoken.text == "Now repeat the full sentence: I want water."
    assert full.english_sentence == "I want water."
    assert full.urdu_sentence is None and full.words is None and full.verdict is None
    assert machine.state is State.AWAIT_REPEAT

    utterance = Utterance(b"x")
    assert machine.handle(utterance) == [Work(TurnKind.ENGLISH_REPEAT, utterance)]

    actions = machine.handle(RepeatAssessed(assessment(False)))
    (fb,) = replies(actions)
    assert fb.step is Step.FEEDBACK_STEP and fb.verdict is not None
    assert fb.verdict.passed is False and fb.verdict.attempt == 1
    assert fb.verdict.assessment is not None and fb.verdict.assessment.scores.overall == 20.0
    assert machine.state is State.AWAIT_FEEDBACK_ACK

    (wbw,) = replies(machine.handle(Ack(AckKind.FEEDBACK_COMPLETE)))
    assert wbw.step is Step.WORD_BY_WORD and not wbw.speak
    assert wbw.spoken.text == "Let's practice word-by-word: I want water."
    assert wbw.words == ("I", "want", "water")
    assert machine.state is State.AWAIT_WORD_BY_WORD_ACK

    machine.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE))
    actions = machine.handle(RepeatAssessed(assessment(True)))
    assert actions[0] == CycleEnded(CycleStatus.PASSED)
    (done,) = replies(actions)
    assert done.step is Step.AWAIT_NEXT and done.verdict is not None
    assert done.verdict.passed is True and done.verdict.attempt == 2
    assert machine.state is State.AWAIT_URDU and machine.target is None


def test_urdu_mode_quotes_english_in_english_voice() -> None:
    machine = LearnMachine("urdu")
    (you_said,) = replies(machine.handle(UrduUnderstood(TARGET)))
    languages = [s.language for s in you_said.spoken.segments]
    assert "ur" in languages and "en" in languages
    english_parts = [s.text for s in you_said.spoken.segments if s.language == "en"]
    assert english_parts == ["I want water."]
    machine.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    (full,) = replies(machine.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE)))
    assert [s.language for s in full.spoken.segments] == ["ur", "en"]
    assert full.spoken.segments[1].text == "I want water."


def test_no_speech_and_english_edge_case_keep_state() -> None:
    machine = LearnMachine("english")
    (reply,) = replies(machine.handle(NoSpeechHeard()))
    assert reply.step is Step.NO_SPEECH and reply.spoken.text == "No speech detected."
    assert not reply.speak
    (edge,) = replies(machine.handle(EnglishHeard("en")))
    assert edge.step is Step.ENGLISH_INPUT_EDGE_CASE and edge.speak
    assert edge.detected_language == "en"
    assert edge.spoken.text.startswith("Great job speaking English!")
    assert machine.state is State.AWAIT_URDU
    repeat = at_repeat()
    repeat.handle(NoSpeechHeard())
    assert repeat.state is State.AWAIT_REPEAT


@pytest.mark.parametrize("kind", list(AckKind))
def test_stale_acks_are_ignored_in_every_state(kind: AckKind) -> None:
    machine = LearnMachine()
    assert isinstance(machine.handle(Ack(kind))[0], Ignored)
    machine.handle(UrduUnderstood(TARGET))
    machine.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    # A duplicate of the ack just handled changes nothing.
    before = machine.state
    actions = machine.handle(Ack(AckKind.YOU_SAID_COMPLETE))
    assert isinstance(actions[0], Ignored) and machine.state is before


def test_errors_keep_state_and_carry_a_code() -> None:
    machine = at_repeat()
    (error,) = replies(machine.handle(InputRejected(ErrorCode.INVALID_JSON)))
    assert error.step is Step.ERROR and not error.speak
    assert error.spoken.text == "Invalid JSON format."
    assert error.error is ErrorCode.INVALID_JSON
    assert machine.state is State.AWAIT_REPEAT and machine.target == TARGET


@pytest.mark.parametrize("mode", ["english", "urdu"])
def test_no_target_asks_to_say_it_again_and_keeps_state(mode: str) -> None:
    machine = LearnMachine(mode)  # type: ignore[arg-type]
    (reply,) = replies(machine.handle(NoTarget("no translation fit to teach")))
    assert reply.step is Step.ERROR and reply.error is ErrorCode.NO_VALID_AUDIO
    assert reply.spoken == texts.say_it_again(mode)  # type: ignore[arg-type]
    assert reply.english_sentence is None and not reply.speak
    assert machine.state is State.AWAIT_URDU and machine.target is None
    at = at_repeat(mode)
    (again,) = replies(at.handle(NoTarget("no translation fit to teach")))
    assert again.step is Step.ERROR
    assert at.state is State.AWAIT_REPEAT and at.target == TARGET


def test_a_target_keeps_its_provider_and_confidence_through_json() -> None:
    import json

    target = Target("Where is it?", "کہاں ہے؟", "whisper", None, confidence=0.2775)
    machine = LearnMachine("english")
    machine.handle(UrduUnderstood(target))
    restored = LearnState.from_dict(json.loads(json.dumps(machine.snapshot.to_dict())))
    assert restored.target == target and restored.target.confidence == 0.2775
    assert Target.from_dict({"english": "Hi.", "urdu": "سلام"}).confidence is None


def test_urdu_mode_errors_are_in_urdu() -> None:
    machine = LearnMachine("urdu")
    (error,) = replies(machine.handle(InputRejected(ErrorCode.NO_AUDIO)))
    assert "audio_base64" in error.spoken.text and error.spoken.segments[0].language == "ur"


def test_language_mode_switch_applies_to_next_reply() -> None:
    machine = LearnMachine("urdu")
    machine.handle(SetMode("english"))
    (reply,) = replies(machine.handle(NoSpeechHeard()))
    assert reply.spoken.text == "No speech detected."


@pytest.mark.parametrize(
    "state_setup",
    [
        [],
        [Ack(AckKind.YOU_SAID_COMPLETE)],
        [Ack(AckKind.YOU_SAID_COMPLETE), Ack(AckKind.WORD_BY_WORD_COMPLETE)],
    ],
)
def test_next_sentence_skips_from_any_state_after_you_said(state_setup: list[Ack]) -> None:
    machine = LearnMachine("english")
    machine.handle(UrduUnderstood(TARGET))
    for event in state_setup:
        machine.handle(event)
    actions = machine.handle(NextSentence())
    assert actions[0] == CycleEnded(CycleStatus.SKIPPED)
    (reply,) = replies(actions)
    assert reply.step is Step.AWAIT_NEXT
    assert reply.verdict is not None
    assert reply.verdict.passed is False and reply.verdict.skipped is True
    assert machine.state is State.AWAIT_URDU and machine.target is None


def test_next_sentence_without_a_sentence_is_ignored() -> None:
    machine = LearnMachine()
    assert isinstance(machine.handle(NextSentence())[0], Ignored)


def test_speaking_before_the_ack_is_the_repeat_attempt() -> None:
    machine = LearnMachine()
    machine.handle(UrduUnderstood(TARGET))
    utterance = Utterance(b"x")
    assert machine.handle(utterance) == [Work(TurnKind.ENGLISH_REPEAT, utterance)]
    machine.handle(RepeatAssessed(assessment(True)))
    assert machine.state is State.AWAIT_URDU


def test_new_urdu_sentence_during_repeat_abandons_the_cycle() -> None:
    machine = at_repeat()
    other = Target("Where is the station?", "اسٹیشن کہاں ہے؟")
    actions = machine.handle(UrduUnderstood(other))
    assert actions[:2] == [CycleEnded(CycleStatus.ABANDONED), CycleStarted(other)]
    assert replies(actions)[0].step is Step.YOU_SAID_AUDIO
    assert machine.target == other and machine.attempts == 0
    assert machine.state is State.AWAIT_YOU_SAID_ACK


def test_sentence_words_strip_punctuation_keep_apostrophes() -> None:
    assert sentence_words("Don't worry, I'm fine!") == ("Don't", "worry", "I'm", "fine")
    assert sentence_words("Where is it?") == ("Where", "is", "it")


def test_the_state_survives_json_at_every_step() -> None:
    """A session kept outside the process resumes exactly where it was."""
    import json

    machine = LearnMachine("english")
    events: list[object] = [
        UrduUnderstood(TARGET),
        Ack(AckKind.YOU_SAID_COMPLETE),
        Ack(AckKind.WORD_BY_WORD_COMPLETE),
        RepeatAssessed(assessment(False)),
        Ack(AckKind.FEEDBACK_COMPLETE),
    ]
    for event in events:
        machine.handle(event)  # type: ignore[arg-type]
        restored = LearnState.from_dict(json.loads(json.dumps(machine.snapshot.to_dict())))
        assert restored == machine.snapshot
    resumed = LearnMachine(state=restored)
    (full,) = replies(resumed.handle(Ack(AckKind.WORD_BY_WORD_COMPLETE)))
    assert full.step is Step.FULL_SENTENCE_AUDIO and resumed.attempts == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"state": "NOWHERE", "mode": "urdu", "target": None, "attempts": 0},
        {"state": "AWAIT_URDU", "mode": "klingon", "target": None, "attempts": 0},
        {"state": "AWAIT_REPEAT", "mode": "urdu", "target": None, "attempts": 0},
        {"state": "AWAIT_REPEAT", "mode": "urdu", "target": {"urdu": "x"}, "attempts": 0},
    ],
)
def test_a_state_that_is_not_one_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"state|mode|target|NOWHERE"):
        LearnState.from_dict(data)


def test_every_work_kind_is_a_turn_kind_the_store_accepts() -> None:
    machine = LearnMachine()
    kinds = {machine.handle(Utterance(b"x"))[0].kind}  # type: ignore[union-attr]
    kinds |= {at_repeat().handle(Utterance(b"x"))[0].kind}  # type: ignore[union-attr]
    assert kinds == set(TurnKind)


RESUMED_AT: list[tuple[list[object], State, list[Step]]] = [
    ([], State.AWAIT_URDU, []),
    ([UrduUnderstood(TARGET)], State.AWAIT_YOU_SAID_ACK, [Step.YOU_SAID_AUDIO]),
    (
        [UrduUnderstood(TARGET), Ack(AckKind.YOU_SAID_COMPLETE)],
        State.AWAIT_WORD_BY_WORD_ACK,
        [Step.REPEAT_PROMPT],
    ),
    (
        [
            UrduUnderstood(TARGET),
            Ack(AckKind.YOU_SAID_COMPLETE),
            Ack(AckKind.WORD_BY_WORD_COMPLETE),
        ],
        State.AWAIT_REPEAT,
        [Step.FULL_SENTENCE_AUDIO],
    ),
    (
        [
            UrduUnderstood(TARGET),
            Ack(AckKind.YOU_SAID_COMPLETE),
            Ack(AckKind.WORD_BY_WORD_COMPLETE),
            RepeatAssessed(assessment(False)),
        ],
        State.AWAIT_FEEDBACK_ACK,
        [Step.WORD_BY_WORD],
    ),
    (
        [
            UrduUnderstood(TARGET),
            Ack(AckKind.YOU_SAID_COMPLETE),
            Ack(AckKind.WORD_BY_WORD_COMPLETE),
            RepeatAssessed(assessment(False)),
            Ack(AckKind.FEEDBACK_COMPLETE),
        ],
        State.AWAIT_WORD_BY_WORD_ACK,
        [Step.WORD_BY_WORD],
    ),
]


def test_the_resume_cases_cover_every_state() -> None:
    assert {state for _, state, _ in RESUMED_AT} == set(State)


@pytest.mark.parametrize(("events", "state", "steps"), RESUMED_AT)
def test_every_state_resumes_through_json_and_resends_what_it_expects(
    events: list[object], state: State, steps: list[Step]
) -> None:
    """A machine rebuilt from JSON in any state re-sends what the client needs next, and
    the cycle then goes on as if the connection had never dropped."""
    import json

    machine = LearnMachine("english")
    for event in events:
        machine.handle(event)  # type: ignore[arg-type]
    assert machine.state is state
    restored = LearnState.from_dict(json.loads(json.dumps(machine.snapshot.to_dict())))
    assert restored == machine.snapshot
    resumed = LearnMachine(state=restored)
    sent = replies(resumed.resume())
    assert [reply.step for reply in sent] == steps
    if state is not State.AWAIT_URDU:
        shown = sent[0]
        assert shown.english_sentence == TARGET.english
        if shown.step is not Step.FULL_SENTENCE_AUDIO:
            assert shown.urdu_sentence == TARGET.urdu and shown.words == TARGET.words
        # Whatever the step, the learner can go on to the repeat and pass.
        for ack in (AckKind.YOU_SAID_COMPLETE, AckKind.WORD_BY_WORD_COMPLETE):
            resumed.handle(Ack(ack))
        assert resumed.state is State.AWAIT_REPEAT
        actions = resumed.handle(RepeatAssessed(assessment(True)))
        assert CycleEnded(CycleStatus.PASSED) in actions
    assert resumed.resume() == [] or resumed.state is not State.AWAIT_URDU
