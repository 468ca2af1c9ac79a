"""Redaction: credentials, tokens and authorization headers never reach a log.

A key is secret when its name, lowercased and without ``_`` and ``-``, holds
one of `_SECRET_PARTS` (so ``Authorization``, ``x-amz-security-token``,
``SecretAccessKey`` and ``client_secret`` all are). Page and resume tokens are
positions in a listing or a stream, not credentials: they are kept. A
certificate is public: kept. Configured field paths (``tags``,
``vpc_configuration.tls_certificate``) are matched the same way, segment by
segment, so ``vpc_configuration`` also matches AWS's ``VpcConfiguration``;
lists are transparent to paths (``tags.value`` is every tag's value).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Collection, Mapping
from typing import Any

REDACTED = "[REDACTED]"

_SECRET_PARTS = (
    "secret",
    "password",
    "passwd",
    "passphrase",
    "token",
    "authorization",
    "credential",
    "cookie",
    "apikey",
    "privatekey",
)
_POSITION_TOKENS = frozenset(
    {
        "nexttoken",
        "nextpagetoken",
        "pagetoken",
        "resumetoken",
        "continuationtoken",
        "paginationtoken",
        "startingtoken",
    }
)


def redact(params: Mapping[str, Any], *, fields: Collection[str] = ()) -> dict[str, Any]:
    """A deep copy of ``params`` with secret keys and the configured field paths set to `REDACTED`."""
    paths = [tuple(_norm(part) for part in field.split(".")) for field in fields if field]
    return {key: _redact_member(key, value, paths) for key, value in params.items()}


def is_secret(key: str) -> bool:
    """Whether a key names a credential, token or authorization header."""
    return _classify(key)[1]


@functools.lru_cache(maxsize=4096)  # records repeat the same few dozen keys
def _classify(key: str) -> tuple[str, bool]:
    """(normalized name, whether it is secret)."""
    name = _norm(key)
    return name, name not in _POSITION_TOKENS and any(part in name for part in _SECRET_PARTS)


def _redact_member(key: object, value: Any, paths: list[tuple[str, ...]]) -> Any:
    name, secret = _classify(key if isinstance(key, str) else str(key))
    if secret:
        return REDACTED
    if paths:
        if (name,) in paths:
            return REDACTED
        paths = [path[1:] for path in paths if len(path) > 1 and path[0] == name]
    return _redact_value(value, paths)


def _redact_value(value: Any, paths: list[tuple[str, ...]]) -> Any:
    if isinstance(value, Mapping):
        return {key: _redact_member(key, item, paths) for key, item in value.items()}
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str) and is_secret(value[0]):  # noqa: PLR2004 - a (key, value) pair
            items = [value[0], REDACTED]  # gRPC metadata and HTTP headers travel as (name, value) pairs
        else:
            items = [_redact_value(item, paths) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if value is None or isinstance(value, str | int | float | bytes):
        return value  # immutable: nothing to copy
    return copy.deepcopy(value)


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")
