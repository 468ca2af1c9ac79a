"""Principals, tokens and channels the security tests share (imported by name: conftest is not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

from connfacade.server.security import hash_token

if TYPE_CHECKING:
    from tls_material import Authority, KeyPair

    from connfacade.server.app import RunningFacade

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
rate_limit = 0.05
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


def mtls_channel(facade: RunningFacade, authority: Authority, client: KeyPair | None) -> grpc.aio.Channel:
    """A channel that trusts ``authority`` and presents ``client`` (or no certificate)."""
    credentials = grpc.ssl_channel_credentials(
        authority.cert, client.key if client else None, client.cert if client else None
    )
    port = facade.addresses[0].rpartition(":")[2]
    return grpc.aio.secure_channel(
        f"localhost:{port}", credentials, options=(("grpc.max_reconnect_backoff_ms", 100),)
    )
