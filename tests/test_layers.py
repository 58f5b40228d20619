"""Layers call only downward: the one statement of Satchel's layering, checked on every import.

Lowest first. A module may import its own area and any area of a lower layer, never a
higher layer nor another area of its own layer; HTTP (Starlette) stays in the top layers.
Imports under `if TYPE_CHECKING:` are annotations only and don't count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "satchel"

LAYERS: list[set[str]] = [
    {"errors", "strconv", "tokenizer", "mediatype", "config", "logsetup", "deepjson"},  # plain helpers, no I/O
    {"files", "db", "storage"},  # engines: file sniffing, SQL, object storage
    {"thumbs"},  # image work on top of storage
    {"core"},  # the domain: collections, records, rules, auth, jobs
    {"api", "clean_paths"},  # HTTP: parse the request, call core, shape the answer
    {"app"},  # the ASGI app
    {"server"},  # processes and the HTTP server
    {"cli"},
    {"__main__"},
]
HTTP_AREAS = {"api", "clean_paths", "app", "server"}
#: Mutual recursion of the filter grammar: `@request.body.x:changed` is itself a small filter.
ALLOWED_CYCLES = [{"satchel.core.rules.compiler", "satchel.core.rules.resolver"}]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _runtime_imports(path: Path) -> set[str]:
    """Every module `path` imports when it runs (function-level imports included)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    skipped = {
        id(node)
        for stmt in ast.walk(tree)
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)
        for body in stmt.body
        for node in ast.walk(body)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules or {target})
    return found


def _area(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def _layer(area: str) -> int:
    return next(i for i, areas in enumerate(LAYERS) if area in areas)


IMPORTS = {name: _runtime_imports(path) for name, path in MODULES.items()}


def test_every_area_has_a_layer():
    assert {_area(m) for m in MODULES if m != "satchel"} <= set().union(*LAYERS)


def test_imports_go_only_downward():
    wrong = []
    for module, targets in IMPORTS.items():
        if module == "satchel":
            continue
        here = _area(module)
        for target in targets:
            if not target.startswith("satchel.") or _area(target) == here:
                continue
            if _layer(_area(target)) >= _layer(here):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_http_stays_in_the_http_layers():
    wrong = [
        f"{module} -> {target}"
        for module, targets in IMPORTS.items()
        for target in targets
        if target.split(".")[0] == "starlette" and _area(module) not in HTTP_AREAS
    ]
    assert wrong == []


def test_no_import_cycles():
    """Tarjan's strongly connected components over satchel's own modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in IMPORTS[node] & MODULES.keys():
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(component)

    for module in MODULES:
        if module not in index:
            visit(module)
    assert [c for c in cycles if c not in ALLOWED_CYCLES] == []


def test_test_modules_import_helpers_not_each_other():
    """Shared test code lives in helper modules and plugins (conftest's pytest_plugins), not in test_*.py."""
    tests = Path(__file__).resolve().parent
    offenders = {
        f"{path.name} imports {node.module}"
        for path in tests.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1].startswith("test_")
    }
    assert offenders == set()


def test_a_sqlite_server_loads_no_postgresql_code(tmp_path: Path) -> None:
    """PostgreSQL's dialect and driver cost a SQLite server 2 MB and more of idle memory, for nothing."""
    import subprocess
    import sys

    script = f"""
import sys
from starlette.testclient import TestClient
from satchel.app import create_app
from satchel.config import Config
from satchel.core import superusers
import asyncio
app = create_app(Config(data_dir={str(tmp_path / "sb")!r}))
with TestClient(app) as client:
    asyncio.run(superusers.upsert(app.state.satchel, "root@example.com", "root-password-1"))
    token = client.post("/api/collections/_superusers/auth-with-password",
                        json={{"identity": "root@example.com", "password": "root-password-1"}}).json()["token"]
    body = {{"name": "notes", "fields": [{{"name": "a", "type": "text"}}], "indexes": ["CREATE INDEX idx_a ON notes (a) WHERE a != ''"]}}
    assert client.post("/api/collections", headers={{"Authorization": token}}, json=body).status_code == 200
    assert client.get("/api/collections/notes/records").status_code in (200, 403)
print(sorted(m for m in sys.modules if m.startswith(("sqlalchemy.dialects.postgresql", "psycopg"))))
"""
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
