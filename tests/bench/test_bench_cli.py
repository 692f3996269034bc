"""``ustad bench`` is reachable from the ``ustad`` command and checks its options."""

from __future__ import annotations

import pytest

from ustad.bench.cli import _failure_status, parser
from ustad.cli import main


def test_ustad_bench_help_is_the_bench_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ustad bench")
    assert "--learners" in out and "--synthetic-urdu" in out


def test_options_pass_through_and_are_validated(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--learners", "0,4"])
    assert exit_info.value.code == 2
    assert "positive" in capsys.readouterr().err


def test_other_commands_still_reject_unknown_options() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--no-such-option"])
    assert exit_info.value.code == 2


def test_learner_levels_and_env_overrides_parse() -> None:
    args = parser().parse_args(
        ["--learners", "1,4,16", "--env", "USTAD_RUNTIME__EXECUTOR_WORKERS=3", "--env", "A=b=c"]
    )
    assert args.learners == [1, 4, 16]
    assert args.env == [("USTAD_RUNTIME__EXECUTOR_WORKERS", "3"), ("A", "b=c")]


def test_env_overrides_do_not_apply_to_an_existing_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--url", "http://127.0.0.1:9", "--env", "A=1"]) == 2
    assert "--env" in capsys.readouterr().err


def test_the_exit_status_and_stderr_say_what_a_run_failed_to_serve(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures = {
        "learners": 8,
        "learners_dropped": 8,
        "reasons": {"keepalive timeout": 8},
        "turns_sent": 8,
        "turns_served": 0,
        "turns_not_served": 8,
        "timeouts": 0,
        "cycles_planned": 16,
        "cycles_not_completed": 16,
    }
    broken = {"errors": ["learner 0: cycle 0: dropped: keepalive timeout"], "failures": failures}
    served = {"learners_dropped": 0, "turns_served": 8, "turns_not_served": 0}
    fine = {"errors": [], "failures": {**failures, **served, "cycles_not_completed": 0}}
    results = {"configs": {"baseline": {"runs": {"8": broken}}, "optimised": {"runs": {"8": fine}}}}
    assert _failure_status(results) == 1
    err = capsys.readouterr().err
    assert "baseline, 8 learners: served 0 of 8 turns; 8 of 8 learners dropped" in err
    assert "optimised" not in err
    assert _failure_status({"configs": {"optimised": {"runs": {"8": fine}}}}) == 0
