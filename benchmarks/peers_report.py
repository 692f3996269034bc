"""The figures ``peers.py`` reports: each level's runs combined, the targets, the tables.

Pure functions over the results dictionary (no servers), so they can be tested alone.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from clip_wer import corpus_wer
from peers_measure import combine_repeats, ratio

from ustad.speech.types import Transcript

# The names of the sides, as the results file and the tables give them.
USTAD: Final = "ustad"
PEER_STT: Final = "wyoming-faster-whisper"
PEER_STT_DEFAULT_BEAM: Final = "wyoming-faster-whisper (default beam)"
PEER_TTS: Final = "wyoming-piper"


def stt_level(level: Mapping[str, Any]) -> dict[str, Any]:
    """One side's STT figures at one client count, from the ``runs``, ``latencies`` and
    ``pairs`` (clip, transcript) its repeats collected: WER, first transcripts, CPU."""
    combined = combine_repeats(level["runs"], level["latencies"])
    pairs = [
        (clip.text, Transcript(text=text, language="en", language_probability=1.0, duration=0.0))
        for clip, text in level.get("pairs", [])
    ]
    combined["wer"] = round(corpus_wer(pairs), 4) if pairs else None
    # What each clip came back as the first time (later repeats may differ: Whisper's
    # temperature fallback samples).
    first: dict[str, str] = {}
    for clip, text in level.get("pairs", []):
        first.setdefault(clip.utt_id, text.strip())
    combined["transcripts"] = first
    combined.update(_cpu_figures(level["runs"]))
    combined["runs"] = level["runs"]
    return combined


def _cpu_figures(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    per_request = [r["server_cpu_ms_per_request"] for r in runs if r["server_cpu_ms_per_request"]]
    other = [r["other_cpu_percent"] for r in runs if r["other_cpu_percent"] is not None]
    return {
        "server_cpu_ms_per_request": round(statistics.median(per_request), 1)
        if per_request
        else None,
        "other_cpu_percent_max": max(other) if other else None,
    }


def tts_level(level: Mapping[str, Any]) -> dict[str, Any]:
    """One side's TTS figures at one client count, from the ``runs`` and ``latencies``
    its repeats collected: audio length, synthesiser calls per run, CPU."""
    combined = combine_repeats(level["runs"], level["latencies"])
    audio = [r["audio_seconds_mean"] for r in level["runs"] if r["audio_seconds_mean"]]
    combined["audio_seconds_mean"] = round(statistics.median(audio), 3) if audio else None
    synth = [r["engine_calls"].get("tts_piper", 0) for r in level["runs"] if "engine_calls" in r]
    combined["synth_calls_per_run"] = synth or None
    combined.update(_cpu_figures(level["runs"]))
    combined["runs"] = level["runs"]
    return combined


def top_sentences(items: Sequence[str], count: int) -> list[dict[str, Any]]:
    """The ``count`` most requested sentences with their request counts, most first."""
    tally: dict[str, int] = {}
    for item in items:
        tally[item] = tally.get(item, 0) + 1
    ranked = sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))[:count]
    return [{"text": text, "requests": n} for text, n in ranked]


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue's three targets, measured against the primary (beam 1) peer."""
    out: list[dict[str, Any]] = []
    stt = results["stt"]["levels"]
    one = stt.get("1", {})
    if USTAD in one and PEER_STT in one:
        mine, theirs = one[USTAD]["latency_ms"]["p50"], one[PEER_STT]["latency_ms"]["p50"]
        out.append(
            {
                "target": "STT latency at 1 client no worse than the peer (p50)",
                "ustad": mine,
                "peer": theirs,
                "ratio_peer_over_ustad": ratio(theirs, mine),
                "met": mine is not None and theirs is not None and mine <= theirs,
            }
        )
    eight = stt.get("8", {})
    if USTAD in eight and PEER_STT in eight:
        mine, theirs = (eight[s]["throughput_per_second"] for s in (USTAD, PEER_STT))
        out.append(
            _throughput_target("STT throughput at 8 clients >= 1.5x the peer", mine, theirs, 1.5)
        )
    workloads = results["tts"]["workloads"]
    for name, state in (("zipf", "cold ustad"), ("zipf_restarted", "ustad restarted warm")):
        for clients, by_side in workloads.get(name, {}).get("levels", {}).items():
            if USTAD in by_side and PEER_TTS in by_side:
                mine, theirs = (by_side[s]["throughput_per_second"] for s in (USTAD, PEER_TTS))
                label = (
                    f"TTS throughput, repeated sentences, {state}, {clients} client(s) "
                    ">= 5x the peer"
                )
                out.append(_throughput_target(label, mine, theirs, 5.0))
    return out


def _throughput_target(
    label: str, mine: float | None, theirs: float | None, goal: float
) -> dict[str, Any]:
    factor = ratio(mine, theirs)
    return {
        "target": label,
        "ustad": mine,
        "peer": theirs,
        "ratio_ustad_over_peer": factor,
        "met": factor is not None and factor >= goal,
    }


def _rows(
    levels: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for clients, by_side in sorted(levels.items(), key=lambda kv: int(kv[0])):
        for side, figures in by_side.items():
            yield clients, side, figures


def format_tables(results: Mapping[str, Any]) -> str:
    """Markdown tables of the STT and TTS figures and the targets (what was run)."""
    lines: list[str] = []
    if "stt" in results:
        lines += [
            "STT: /v1/audio/transcriptions vs wyoming-faster-whisper, "
            f"{len(results['stt']['clips'])} clips, {results['plan']['repeats']} repeat(s)",
            "",
            "| clients | side | p50 ms | p95 ms | clips/s | WER | server CPU ms/clip "
            "| other CPU % (max) | errors |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for clients, side, f in _rows(results["stt"]["levels"]):
            lines.append(
                f"| {clients} | {side} | {f['latency_ms']['p50']} | {f['latency_ms']['p95']} | "
                f"{f['throughput_per_second']} | {_pct(f['wer'])} | "
                f"{f['server_cpu_ms_per_request']} | {f['other_cpu_percent_max']} | "
                f"{f['errors']} |"
            )
    for name, workload in results.get("tts", {}).get("workloads", {}).items():
        lines += [
            "",
            f"TTS {name}: /v1/audio/speech ({results['tts']['ustad_response_format']}) vs "
            f"wyoming-piper, {workload['requests']} requests, "
            f"{workload['distinct_sentences']} distinct sentences, "
            f"{results['plan']['repeats']} repeat(s)",
            "",
            "| clients | side | p50 ms | p95 ms | requests/s | audio s/request | synth calls "
            "| server CPU ms/request | other CPU % (max) | errors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for clients, side, f in _rows(workload["levels"]):
            synth = f.get("synth_calls_per_run")
            lines.append(
                f"| {clients} | {side} | {f['latency_ms']['p50']} | {f['latency_ms']['p95']} | "
                f"{f['throughput_per_second']} | {f['audio_seconds_mean']} | "
                f"{'/'.join(map(str, synth)) if synth else '-'} | "
                f"{f['server_cpu_ms_per_request']} | {f['other_cpu_percent_max']} | "
                f"{f['errors']} |"
            )
    if results.get("targets"):
        lines += ["", "| target | ustad | peer | ratio | met |", "|---|---|---|---|---|"]
        for t in results["targets"]:
            factor = t.get("ratio_ustad_over_peer", t.get("ratio_peer_over_ustad"))
            met = "yes" if t["met"] else "no"
            lines.append(f"| {t['target']} | {t['ustad']} | {t['peer']} | {factor} | {met} |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"
