"""TLS for TCP listeners: server certificate, and client certificates when mTLS is on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc

if TYPE_CHECKING:
    from pathlib import Path


def server_credentials(cert: Path, key: Path, client_ca: Path | None = None) -> grpc.ServerCredentials:
    """Credentials for ``add_secure_port``; with ``client_ca``, clients must present a certificate it signed.

    gRPC offers no "ask but do not require" mode: a client without a valid
    certificate fails the TLS handshake, before any call, so it sees
    UNAVAILABLE rather than UNAUTHENTICATED.
    """
    pair = (key.read_bytes(), cert.read_bytes())
    if client_ca is None:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca.read_bytes(), require_client_auth=True
    )
