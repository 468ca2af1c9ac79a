"""Fixtures of the client tests: scripted servers on TCP and on a Unix socket."""

from __future__ import annotations

import os
import tempfile
from typing import TYPE_CHECKING

import pytest
from scripted_server import ScriptedServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted server on a free loopback TCP port."""
    server = ScriptedServer("127.0.0.1:0")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scripted_unix_server() -> Iterator[ScriptedServer]:
    """A scripted server on a Unix socket (short path: socket paths are limited to ~107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="cf-") as folder:
        server = ScriptedServer(f"unix:{os.path.join(folder, 'grpc.sock')}")  # noqa: PTH118
        server.start()
        yield server
        server.stop()
