"""Facades with authentication on: bearer tokens on plain TCP, and mTLS.

Both are built from `Settings` through `build_access`, the path `connfacade
serve` takes, and listen on TCP loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from security_helpers import PRINCIPALS
from tls_material import Authority, KeyPair

from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.app import RunningFacade, start_facade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.backend import AioBotoBackend
    from connfacade.server.store import StoreSettings


@pytest.fixture
def principals_file(tmp_path: Path) -> Path:
    path = tmp_path / "principals.toml"
    path.write_text(PRINCIPALS)
    return path


@pytest.fixture(scope="session")
def authority() -> Authority:
    return Authority()


@pytest.fixture(scope="session")
def server_pair(authority: Authority) -> KeyPair:
    return authority.issue("localhost", server=True)


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


async def _start(
    backend: AioBotoBackend, settings: config.Settings, store_settings: StoreSettings, auditor: Auditor | None
) -> RunningFacade:
    return await start_facade(
        backend,
        settings.listen,
        store_settings=store_settings,
        auditor=auditor,
        access=build_access(settings),
        max_message_bytes=settings.max_message_bytes,
    )


@pytest.fixture
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, auditor: Auditor | None, principals_file: Path
) -> AsyncIterator[RunningFacade]:
    """Tokens on plain TCP loopback (replaces the open facade of the root conftest)."""
    settings = config.Settings(listen=("127.0.0.1:0",), principals_file=str(principals_file))
    running = await _start(backend, settings, store_settings, auditor)
    yield running
    await running.stop(0)


@pytest.fixture
async def mtls_facade(
    backend: AioBotoBackend,
    store_settings: StoreSettings,
    principals_file: Path,
    authority: Authority,
    server_pair: KeyPair,
    tmp_path: Path,
) -> AsyncIterator[RunningFacade]:
    """TLS with client certificates signed by ``authority`` required."""
    settings = config.Settings(
        listen=("127.0.0.1:0",),
        principals_file=str(principals_file),
        tls_cert=_write(tmp_path, "server.pem", server_pair.cert),
        tls_key=_write(tmp_path, "server.key", server_pair.key),
        tls_client_ca=_write(tmp_path, "ca.pem", authority.cert),
    )
    running = await _start(backend, settings, store_settings, None)
    yield running
    await running.stop(0)
