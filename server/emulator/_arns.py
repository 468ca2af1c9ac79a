"""ARNs in the formats AWS mints for connections and hosts."""

from __future__ import annotations

import re
import secrets
import uuid

# AWS renamed CodeStar connections to CodeConnections in 2024: both service
# names in an ARN name the same resource.
_CODESTAR_SERVICE = "codestar-connections"
_CODECONNECTIONS_SERVICE = "codeconnections"
_HOST_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_HOST_NAME_MAX = 32


def apprunner_connection_arn(region: str, account_id: str, name: str) -> str:
    """``arn:aws:apprunner:REGION:ACCOUNT:connection/NAME/<32 lowercase hex>``."""
    return f"arn:aws:apprunner:{region}:{account_id}:connection/{name}/{uuid.uuid4().hex}"


def codestar_connection_arn(region: str, account_id: str) -> str:
    """``arn:aws:codestar-connections:REGION:ACCOUNT:connection/<uuid4>``."""
    return f"arn:aws:{_CODESTAR_SERVICE}:{region}:{account_id}:connection/{uuid.uuid4()}"


def codestar_host_arn(region: str, account_id: str, name: str) -> str:
    """``arn:aws:codestar-connections:REGION:ACCOUNT:host/<name, truncated>-<8 hex>``.

    Host names may hold any character; the ARN keeps a readable, truncated
    stem of it and adds a random suffix so that equal names get distinct ARNs.
    """
    stem = _HOST_NAME_CHARS.sub("-", name)[:_HOST_NAME_MAX] or "host"
    return f"arn:aws:{_CODESTAR_SERVICE}:{region}:{account_id}:host/{stem}-{secrets.token_hex(4)}"


def canonical_codestar_arn(arn: str) -> str:
    """Name a CodeStar resource by its ``codestar-connections`` ARN, whichever prefix was used."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == _CODECONNECTIONS_SERVICE:  # noqa: PLR2004 - the six fields of an ARN
        parts[2] = _CODESTAR_SERVICE
        return ":".join(parts)
    return arn
