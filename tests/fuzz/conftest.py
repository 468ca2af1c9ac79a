"""The fuzzed facade authenticates: credentials, roles and scopes are input to fuzz too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from metadata_strategies import TOKENS

from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.security import hash_token

if TYPE_CHECKING:
    from pathlib import Path

PRINCIPALS = f"""
[[principals]]
name = "editor"
role = "editor"
token_sha256 = "{hash_token(TOKENS["editor"])}"

[[principals]]
name = "scoped-editor"
role = "editor"
token_sha256 = "{hash_token(TOKENS["scoped-editor"])}"
scopes = ["fuzz-", "a", "arn:aws:codestar-connections:us-east-1:123456789012:"]

[[principals]]
name = "viewer"
role = "viewer"
token_sha256 = "{hash_token(TOKENS["viewer"])}"
scopes = ["A", "arn:aws:apprunner:"]
"""


@pytest.fixture
def facade_options(facade_options: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Bearer tokens on TCP loopback, built the way `connfacade serve` builds it."""
    principals = tmp_path / "principals.toml"
    principals.write_text(PRINCIPALS)
    settings = config.Settings(listen=("127.0.0.1:0",), principals_file=str(principals))
    return facade_options | {"listen": settings.listen, "access": build_access(settings)}
