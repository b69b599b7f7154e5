"""ARCHITECTURE.md stays the true map: every folder has its row, every row's "imports"
column names every folder it really imports (read from the import graph), and the web
layer writes nothing to the database itself (writes belong to actions)."""

from __future__ import annotations

import ast
import pkgutil
import re
from functools import cache
from pathlib import Path

import grimp
import pytest

import socialdesk

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"\| `([a-z_]+)(?:/|\.py)` \| .* \| (.*) \|$")
# Modules that belong to another row's entry (the CLI's groups are described with it).
SHARES_ROW = {
    "cli_bench": "cli",
    "cli_common": "cli",
    "cli_demo": "cli",
    "cli_kb": "cli",
    "cli_eval": "cli",
    "cli_raw_events": "cli",
    "cli_report": "cli",
}


def _rows() -> dict[str, str]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    return {m[1]: m[2] for line in text.splitlines() if (m := ROW.match(line))}


def _top_level() -> set[str]:
    return {m.name for m in pkgutil.iter_modules(socialdesk.__path__)}


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("socialdesk")


def _imports_of(top: str) -> set[str]:
    graph = _graph()
    name = f"socialdesk.{top}"
    modules = {name} | (graph.find_descendants(name) if graph.find_children(name) else set())
    found: set[str] = set()
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module):
            parts = imported.split(".")
            if len(parts) > 1 and parts[1] != top:
                found.add(SHARES_ROW.get(parts[1], parts[1]))
    return found - {top}


def test_every_folder_has_a_row_and_every_row_a_folder() -> None:
    rows, tops = _rows(), _top_level()
    assert sorted(tops - set(rows) - set(SHARES_ROW)) == []
    assert sorted(set(rows) - tops) == []


@pytest.mark.parametrize("top", sorted(_top_level() - set(SHARES_ROW)))
def test_the_imports_column_names_what_the_folder_imports(top: str) -> None:
    column = _rows().get(top, "")
    if "everything" in column:  # "everything above", "everything but web"
        return
    named = {t for t in _top_level() if re.search(rf"\b{t}\b", column)}
    assert sorted(_imports_of(top) - named) == [], f"ARCHITECTURE.md's row for {top}"


# Calls that write through a session, and the Core constructs that build writes.
_SESSION_WRITES = {"add", "add_all", "delete", "merge", "bulk_save_objects"}
_CORE_WRITES = {"insert", "update", "delete"}


def _writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            found += [f"imports {a.name}" for a in node.names if a.name in _CORE_WRITES]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SESSION_WRITES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"s", "session", "db_session"}
        ):
            found.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}(…)")
    return found


def test_the_web_layer_writes_nothing_itself() -> None:
    web = ROOT / "socialdesk" / "web"
    writes = {
        str(path.relative_to(ROOT)): found
        for path in sorted(web.rglob("*.py"))
        if (found := _writes_in(path))
    }
    assert writes == {}, "writes belong in actions/ (or the feature's actions module)"


def test_the_write_detector_sees_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "page.py"
    sample.write_text("from sqlalchemy import update\n\ndef f(session):\n    session.add(1)\n")
    assert _writes_in(sample) == ["imports update", "line 4: session.add(…)"]
