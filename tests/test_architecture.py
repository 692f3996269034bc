"""The layers, as drawn from the code's own imports (docs/architecture.md).

transport (api, web) -> learn session -> domain (tutor, assess) -> runtime ->
engines and storage (speech, store) -> foundations (vocabulary, settings, ...).
An import may only point down. ``services`` wires the layers below the transport into
one container that the routes read; the app, the CLI and the bench sit on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ustad"

RANK: dict[str, int] = {
    "__init__": 0,
    "vocabulary": 0,
    "caching": 0,
    "cpu_budget": 0,
    "stat_fields": 0,
    "settings": 0,
    "remote_settings": 0,
    "assessment_settings": 0,
    "database_settings": 0,
    "redis_settings": 0,
    "resume_settings": 0,
    "runtime_settings": 0,
    "logs": 0,
    "text": 0,
    "speech": 1,
    "store": 1,
    "runtime": 2,
    "assess": 3,
    "tutor": 4,
    "learn": 5,
    "services": 6,
    "api": 7,
    "web": 7,
    "app": 8,
    "bench": 9,
    "cli": 10,
}
MAX_LINES = 450


def unit(path: Path) -> str:
    return path.relative_to(SRC).with_suffix("").parts[0]


def imports(path: Path) -> set[str]:
    """Modules named ``ustad.*`` that this file imports at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    package = list(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("ustad.")}


SOURCES = sorted(SRC.rglob("*.py"))


def test_every_unit_has_a_layer() -> None:
    assert {unit(path) for path in SOURCES} <= set(RANK)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    here = unit(path)
    upward = sorted(
        name
        for name in imports(path)
        if name.split(".")[1] in RANK and RANK[name.split(".")[1]] > RANK[here]
    )
    assert not upward, f"{here} (layer {RANK[here]}) imports a higher layer: {upward}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_source_files_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines"


def test_the_websocket_route_knows_nothing_of_the_store() -> None:
    names = imports(SRC / "api" / "learn_socket.py")
    assert not [name for name in names if name.startswith("ustad.store")]
    assert not [name for name in names if name.startswith("ustad.services")]
    assert not [name for name in names if name.startswith(("ustad.speech", "ustad.assess"))]


def test_same_layer_units_do_not_import_each_other() -> None:
    for path in SOURCES:
        here = unit(path)
        sideways = {
            name.split(".")[1]
            for name in imports(path)
            if name.split(".")[1] in RANK
            and name.split(".")[1] != here
            and RANK[name.split(".")[1]] == RANK[here]
            and RANK[here] > 0
        }
        assert not sideways, f"{path.relative_to(SRC)} imports its peers {sideways}"
