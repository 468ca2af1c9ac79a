"""Who imports whom: the call context is a leaf, and the store is used through its edge alone."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports from (``from a import b`` counts as ``a``), type-checking ones too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
    return found


def test_the_call_context_imports_nothing_of_the_project():
    """server/callcontext.py is a leaf: every layer may use it, so it uses none (no cycle runs through it)."""
    ours = sorted(m for m in imported(ROOT / "server" / "callcontext.py") if m.startswith("connfacade"))
    assert ours == []


def test_nothing_outside_the_store_imports_its_modules():
    """Outside server/store/ the store is `connfacade.server.store`, nothing deeper: its parts are private."""
    outside = [
        path
        for folder in ("server", "client", "bench", "scripts")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (ROOT / "server" / "store") not in path.parents and "_generated" not in path.parts
    ]
    deeper = {
        str(path.relative_to(ROOT)): sorted(m for m in found if m.startswith("connfacade.server.store."))
        for path in outside
        if (found := imported(path))
    }
    assert {path: modules for path, modules in deeper.items() if modules} == {}
