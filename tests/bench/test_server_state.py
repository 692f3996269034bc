"""Differences of the server's counters over a run."""

from __future__ import annotations

from ustad.bench.server_state import ServerState, executor_delta


def test_executor_delta_is_the_run_s_share_of_thread_time() -> None:
    def state(completed: int, waited: float, ran: float) -> ServerState:
        executor = {
            "workers": 2,
            "completed": completed,
            "failed": 1,
            "wait_seconds_total": waited,
            "run_seconds_total": ran,
        }
        return ServerState({"executor": executor}, None)

    delta = executor_delta(state(10, 1.0, 5.0), state(30, 4.5, 25.0), wall=20.0)
    assert delta == {
        "workers": 2,
        "calls": 20,
        "wait_seconds": 3.5,
        "run_seconds": 20.0,
        "busy_share": 0.5,  # 20 s of running over 2 threads x 20 s
    }
    # A server without the counters (or the baseline before them) gives no figures.
    assert executor_delta(ServerState({}, None), state(1, 0.0, 0.0), wall=1.0) == {}
