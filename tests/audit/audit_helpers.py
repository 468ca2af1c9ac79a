"""Helpers for audit tests: write a log, read and rewrite its lines."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from connfacade.server.audit import FileSink

if TYPE_CHECKING:
    from pathlib import Path


def record(i: int) -> dict[str, Any]:
    """A record shaped like the facade's, numbered ``i``."""
    return {
        "eventName": "CreateConnection",
        "eventID": f"event-{i}",
        "requestParameters": {"connection_name": f"conn-{i}", "provider_type": "GITHUB"},
        "i": i,
    }


async def write_log(path: Path, count: int, *, start: int = 0, **sink_options: Any) -> None:
    """Writes ``count`` records through a FileSink that is closed afterwards."""
    async with FileSink(path, **sink_options) as sink:
        for i in range(start, start + count):
            await sink.write(record(i))


def lines(path: Path) -> list[bytes]:
    """The file's lines, without newlines."""
    return path.read_bytes().splitlines()


def rewrite(path: Path, new_lines: list[bytes], *, newline_at_end: bool = True) -> None:
    """Replaces the file's content with ``new_lines``."""
    path.write_bytes(b"\n".join(new_lines) + (b"\n" if newline_at_end else b""))


def sha(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def parsed(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def head(path: Path) -> dict[str, Any]:
    return parsed(path.with_name(path.name + ".head").read_bytes())
