"""A facade whose auditor writes a real hash-chained file in a temporary folder."""

from __future__ import annotations

import json

import pytest

from connfacade.server.api.audit_trail import Auditor, Level
from connfacade.server.audit import FileSink


@pytest.fixture
def audit_path(tmp_path):
    return tmp_path / "audit" / "audit.jsonl"


@pytest.fixture
def read_levels():
    return {}


@pytest.fixture
async def auditor(audit_path, read_levels):
    sink = FileSink(audit_path, fsync="always")
    await sink.open()
    auditor = Auditor([sink], method_levels=read_levels, redact_fields=["tags"])
    yield auditor
    await auditor.aclose()


def records(path):
    """Every audit record in the file (the live file only)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def audit_records(audit_path):
    return lambda: records(audit_path)


__all__ = ["Level", "records"]
