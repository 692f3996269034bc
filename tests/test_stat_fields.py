"""Statistics described once in their dataclasses and rendered as JSON and metric families."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ustad.runtime.metrics import section_families
from ustad.stat_fields import counter, gauge, record, records, sections_of, tally, to_json


@dataclass(frozen=True)
class Pool:
    name: str
    size: int = field(metadata=gauge("Things held."))
    taken_total: float = field(metadata=counter("Seconds spent taking."))
    limit: int | None = None

    @property
    def full(self) -> bool:
        return self.limit is not None and self.size >= self.limit


@dataclass(frozen=True)
class Snapshot:
    calls: Mapping[str, int] = field(metadata=tally("t_calls", "kind", "Calls by kind."))
    pools: tuple[Pool, ...] = field(metadata=records(Pool, "t_pool", label="pool"))
    main: Pool | None = field(metadata=record(Pool, "t_main", doc="the main pool"))
    note: str = "not a section"


SNAPSHOT = Snapshot(
    calls={"b": 2, "a": 1},
    pools=(Pool("x", 3, 0.12345, limit=3), Pool("y", 1, 2.0)),
    main=Pool("main", 7, 1.0),
)


def test_json_has_every_field_and_property_of_every_section() -> None:
    assert to_json(SNAPSHOT) == {
        "calls": {"a": 1, "b": 2},
        "pools": {
            "x": {"size": 3, "taken_total": 0.123, "limit": 3, "full": True},
            "y": {"size": 1, "taken_total": 2.0, "limit": None, "full": False},
        },
        "main": {"size": 7, "taken_total": 1.0, "limit": None, "full": False},
    }
    assert "main" not in to_json(Snapshot(calls={}, pools=(), main=None))


def test_metric_families_follow_the_field_markers() -> None:
    families = {
        family.name: family
        for name, section in sections_of(Snapshot)
        for family in section_families(section, getattr(SNAPSHOT, name))
    }
    # Fields without a marker (name, limit) are not series; _total is Prometheus's suffix.
    assert {name: f.type for name, f in families.items()} == {
        "t_calls": "counter",
        "t_pool_size": "gauge",
        "t_pool_taken": "counter",
        "t_main_size": "gauge",
        "t_main_taken": "counter",
    }
    samples = {
        (s.name, tuple(s.labels.items())): s.value for f in families.values() for s in f.samples
    }
    assert samples[("t_calls_total", (("kind", "b"),))] == 2
    assert samples[("t_pool_size", (("pool", "x"),))] == 3
    assert samples[("t_pool_taken_total", (("pool", "y"),))] == 2.0
    assert samples[("t_main_size", ())] == 7
    assert families["t_main_size"].documentation == "Things held. [the main pool]"
    assert families["t_pool_size"].documentation == "Things held."


def test_without_a_snapshot_the_families_are_there_but_empty() -> None:
    families = [
        family
        for name, section in sections_of(Snapshot)
        for family in section_families(section, None)
    ]
    assert len(families) == 5 and all(not f.samples for f in families)
