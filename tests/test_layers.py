"""The package's layers, as ARCHITECTURE.md draws them, hold: who may import whom, no cycles.

Imports are read from the syntax tree, including those under ``if TYPE_CHECKING:`` (a
type-only import still ties the two modules together). The same no-cycle rule holds for
the simulator.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tap_fivetran_meta.runtime.services import TapServices
from tap_fivetran_meta.tap import TapFivetranMeta

ROOT = Path(__file__).resolve().parents[1]

#: Layer -> the layers its modules may import (besides the standard library and
#: third-party packages). ``package`` is ``tap_fivetran_meta/__init__.py`` (the version).
ALLOWED: dict[str, set[str]] = {
    "rules": {"rules"},
    "schemas": {"schemas"},
    "api": {"api", "rules"},
    "runtime": {"runtime", "api", "rules"},
    "webhooks": {"webhooks", "api", "rules", "package"},
    "client": {"api", "rules", "runtime", "schemas"},
    "streams": {"streams", "client", "api", "rules", "runtime", "schemas", "webhooks"},
    "tap": {"streams", "client", "api", "rules", "runtime", "schemas", "webhooks", "package"},
    "__main__": {"tap"},
    "package": {"runtime"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a submodule, else its package)."""
    paths = sorted((ROOT / package).rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(path)
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.split(".")[0] == package}
            elif isinstance(node, ast.ImportFrom) and node.module:
                assert node.level == 0, f"{path}: relative import"
                if node.module.split(".")[0] != package:
                    continue
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
        graph[name] = (targets & modules) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle found by a depth-first walk (each reported once)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def layer_of(module: str) -> str:
    parts = module.split(".")
    return "package" if len(parts) == 1 else parts[1]


@pytest.mark.parametrize("package", ["tap_fivetran_meta", "fivetran_sim"])
def test_no_import_cycles(package: str) -> None:
    # A package's __init__ re-exporting its submodules is not a cycle of theirs.
    graph = {m: {t for t in ts if t != package} for m, ts in import_graph(package).items()}
    assert cycles(graph) == []


def test_each_layer_imports_only_the_layers_below() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph("tap_fivetran_meta").items()
        for target in targets
        if layer_of(target) not in ALLOWED[layer_of(module)]
    )
    assert wrong == []


def test_nothing_but_the_entry_point_imports_the_tap() -> None:
    importers = sorted(
        module
        for module, targets in import_graph("tap_fivetran_meta").items()
        if "tap_fivetran_meta.tap" in targets
    )
    assert importers == ["tap_fivetran_meta.__main__"]


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted(m for m in import_graph("tap_fivetran_meta") if layer_of(m) not in ALLOWED)
    assert unknown == [], "add the new layer to ALLOWED and to ARCHITECTURE.md"


def test_the_layer_table_matches_architecture_md() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for layer in ALLOWED:
        if layer not in {"package", "__main__", "client", "tap"}:
            assert f"`{layer}/`" in text, f"ARCHITECTURE.md does not describe {layer}/"


def test_the_tap_provides_every_service_streams_use() -> None:
    members = {
        name
        for name, _ in inspect.getmembers(TapServices)
        if not name.startswith("_") or name == "__call__"
    } | set(TapServices.__annotations__)
    missing = sorted(name for name in members if not hasattr(TapFivetranMeta, name))
    # Instance attributes set in __init__ (annotated on the protocol) show on an instance.
    tap = TapFivetranMeta(config={}, parse_env_config=False, validate_config=False)
    missing = sorted(name for name in missing if not hasattr(tap, name))
    assert missing == []


def test_the_cycle_check_can_fail() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
