"""Facades with authentication on: bearer tokens on plain TCP, and mTLS.

Both are built from `Settings` through `build_access`, the path `connfacade
serve` takes, and listen on TCP loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from security_helpers import PRINCIPALS
from tls_material import Authority, KeyPair

from connfacade.server import config
from connfacade.server.access import build_access

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from connfacade.server.app import RunningFacade


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


def _served_as(settings: config.Settings) -> dict[str, Any]:
    """The `start_facade` arguments `connfacade serve` derives from ``settings``."""
    return {
        "listen": settings.listen,
        "access": build_access(settings),
        "max_message_bytes": settings.max_message_bytes,
    }


@pytest.fixture
def facade_options(facade_options: dict[str, Any], principals_file: Path) -> dict[str, Any]:
    """Tokens on plain TCP loopback (replaces the open facade of the root conftest)."""
    settings = config.Settings(listen=("127.0.0.1:0",), principals_file=str(principals_file))
    return facade_options | _served_as(settings)


@pytest.fixture
async def mtls_facade(
    facades: Callable[..., Awaitable[RunningFacade]],
    principals_file: Path,
    authority: Authority,
    server_pair: KeyPair,
    tmp_path: Path,
) -> RunningFacade:
    """TLS with client certificates signed by ``authority`` required."""
    settings = config.Settings(
        listen=("127.0.0.1:0",),
        principals_file=str(principals_file),
        tls_cert=_write(tmp_path, "server.pem", server_pair.cert),
        tls_key=_write(tmp_path, "server.key", server_pair.key),
        tls_client_ca=_write(tmp_path, "ca.pem", authority.cert),
    )
    return await facades(**_served_as(settings), auditor=None)
