"""The rooms stay apart: streamapp.core imports no I/O library and nothing from the adapters."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "streamapp" / "core"
FORBIDDEN = ("faust", "mode", "redis", "aiokafka", "aiohttp", "httpx", "requests", "socket",
             "streamapp.store", "streamapp.worker", "streamapp.cli", "streamapp.kafka",
             "streamapp.dev", "streamapp.pipeline", "streamapp.settings")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_is_pure() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in CORE.rglob("*.py")
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert offenders == set()
