"""Statistics described once, in their dataclasses, and shown three ways.

``/health``, ``/v1/stats`` and ``/metrics`` all show the same counters (engine
calls, requests, caches, executors). Rather than each endpoint listing them by
hand, the statistics dataclasses say what each field is:

- on a record type (``CacheStats``, ``ExecutorStats``),
  ``field(metadata=counter(doc))`` and ``gauge(doc)`` mark the fields that become
  Prometheus series; every field but ``name``, and every property, goes into the JSON;
- on a snapshot (``SpeechStats``), ``tally``, ``records`` and ``record`` metadata
  say how a section is keyed in the JSON and named in Prometheus.

``to_json`` renders a snapshot for the JSON endpoints and
``ustad.runtime.metrics`` renders it as metric families, so a new cache, a new
kind of engine call or a new counter field shows up everywhere at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MetricKind = Literal["counter", "gauge"]
SectionKind = Literal["tally", "records", "record"]

_METRIC = "ustad.metric"
_SECTION = "ustad.section"


@dataclass(frozen=True)
class Series:
    """One field of a record type that is a Prometheus series."""

    field: str
    kind: MetricKind
    doc: str

    @property
    def suffix(self) -> str:
        """The metric name's tail: the field without ``_total`` (Prometheus adds it back)."""
        return self.field.removesuffix("_total")

    def help(self, section: Section) -> str:
        """Help text of this series within ``section``."""
        return f"{self.doc} [{section.doc}]" if section.doc else self.doc


@dataclass(frozen=True)
class Section:
    """How one field of a snapshot is shown.

    ``tally``: counts by kind (``Mapping[str, int]``), one counter labelled ``label``.
    ``records``: a sequence of records with a ``name``, one series per metric field,
    labelled ``label`` with the record's name; JSON keyed by name.
    ``record``: one record (or ``None`` when absent), unlabelled series.
    """

    kind: SectionKind
    metric: str
    """Metric name stem (``ustad_cache``: ``ustad_cache_hits_total{cache=...}``)."""
    label: str | None = None
    doc: str = ""
    """Help text of a tally's counter; for records, whose series take their help from
    their fields, what the records are (added to that help in brackets)."""
    record_type: type | None = None


def counter(doc: str) -> dict[str, Any]:
    """Field metadata: a record field that only grows, a counter with help text ``doc``.

    Use as ``hits: int = field(metadata=counter("..."))``.
    """
    return {_METRIC: Series("", "counter", doc)}


def gauge(doc: str) -> dict[str, Any]:
    """Field metadata: a record field that goes up and down, a gauge with help ``doc``."""
    return {_METRIC: Series("", "gauge", doc)}


def tally(metric: str, label: str, doc: str) -> dict[str, Any]:
    """Field metadata: a snapshot field of counts by kind; ``metric`` is the counter."""
    return {_SECTION: Section("tally", metric, label, doc)}


def records(record_type: type, metric: str, label: str, doc: str = "") -> dict[str, Any]:
    """Field metadata: a snapshot field holding a tuple of named ``record_type`` records."""
    return {_SECTION: Section("records", metric, label, doc, record_type)}


def record(record_type: type, metric: str, doc: str = "") -> dict[str, Any]:
    """Field metadata: a snapshot field holding one ``record_type`` record (or ``None``)."""
    return {_SECTION: Section("record", metric, None, doc, record_type)}


def series_of(record_type: type) -> tuple[Series, ...]:
    """The fields of ``record_type`` marked ``counter`` or ``gauge``, in order."""
    found = []
    for f in dataclasses.fields(record_type):
        marked = f.metadata.get(_METRIC)
        if marked is not None:
            found.append(dataclasses.replace(marked, field=f.name))
    return tuple(found)


def sections_of(snapshot_type: type) -> tuple[tuple[str, Section], ...]:
    """``(field name, section)`` of each marked field of a snapshot type, in order."""
    return tuple(
        (f.name, f.metadata[_SECTION])
        for f in dataclasses.fields(snapshot_type)
        if _SECTION in f.metadata
    )


def record_json(value: Any) -> dict[str, Any]:
    """A record's fields (but ``name``) and properties; floats rounded to 3 places."""
    out = {
        f.name: _plain(getattr(value, f.name))
        for f in dataclasses.fields(value)
        if f.name != "name"
    }
    for attr, member in vars(type(value)).items():
        if isinstance(member, property):
            out[attr] = _plain(getattr(value, attr))
    return out


def to_json(snapshot: Any) -> dict[str, Any]:
    """Every section of a snapshot, keyed by field name (an absent record is left out)."""
    out: dict[str, Any] = {}
    for name, section in sections_of(type(snapshot)):
        value = getattr(snapshot, name)
        if section.kind == "tally":
            counts: Mapping[str, int] = value
            out[name] = dict(sorted(counts.items()))
        elif section.kind == "records":
            out[name] = {item.name: record_json(item) for item in value}
        elif value is not None:
            out[name] = record_json(value)
    return out


def _plain(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value
