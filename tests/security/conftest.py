"""Facades with authentication on: bearer tokens on plain TCP, and mTLS.

Both are built from `Settings` through `build_access`, the path `connfacade
serve` takes, and listen on TCP loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from tls_material import Authority, KeyPair

from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.app import RunningFacade, start_facade
from connfacade.server.security import hash_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.backend import AioBotoBackend
    from connfacade.server.store import StoreSettings

TOKENS = {
    "editor": "editor-token-0123456789abcdef",
    "viewer": "viewer-token-0123456789abcdef",
    "team-a": "team-a-token-0123456789abcdef",
    "team-a-viewer": "team-a-viewer-token-0123456789",
    "limited": "limited-token-0123456789abcdef",
}
PRINCIPALS = f"""
[[principals]]
name = "editor"
role = "editor"
token_sha256 = "{hash_token(TOKENS["editor"])}"

[[principals]]
name = "viewer"
role = "viewer"
token_sha256 = "{hash_token(TOKENS["viewer"])}"

[[principals]]
name = "team-a"
role = "editor"
token_sha256 = "{hash_token(TOKENS["team-a"])}"
scopes = ["team-a-"]

[[principals]]
name = "team-a-viewer"
role = "viewer"
token_sha256 = "{hash_token(TOKENS["team-a-viewer"])}"
scopes = ["team-a-"]

[[principals]]
name = "limited"
role = "viewer"
token_sha256 = "{hash_token(TOKENS["limited"])}"
rate_limit = 0.5
rate_burst = 3
max_watchers = 1

[[principals]]
name = "deployer"
role = "editor"
tls_subject = "CN=deployer,O=Example"
"""


def bearer(principal: str) -> tuple[tuple[str, str]]:
    """Call metadata carrying ``principal``'s token."""
    return (("authorization", f"Bearer {TOKENS[principal]}"),)


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


def mtls_channel(facade: RunningFacade, authority: Authority, client: KeyPair | None) -> grpc.aio.Channel:
    """A channel that trusts ``authority`` and presents ``client`` (or no certificate)."""
    credentials = grpc.ssl_channel_credentials(
        authority.cert, client.key if client else None, client.cert if client else None
    )
    port = facade.addresses[0].rpartition(":")[2]
    return grpc.aio.secure_channel(
        f"localhost:{port}", credentials, options=(("grpc.max_reconnect_backoff_ms", 100),)
    )
