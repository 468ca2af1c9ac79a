"""Opaque, tamper-evident NextTokens and the paging they drive."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_MAC_BYTES = 16


class InvalidTokenError(Exception):
    """A NextToken that this emulator did not issue for this very query."""


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


Item = TypeVar("Item", bound=_Sequenced)


class PageTokens:
    """Issues and checks NextTokens.

    A token holds the creation sequence number of the last item returned (so
    deletions between pages never skip or repeat an item) and a digest of the
    query's filters, signed with a secret of this emulator: a token replayed
    with other filters, or edited, or minted elsewhere is rejected like AWS
    rejects it.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def issue(self, query: Mapping[str, object], after: int) -> str:
        """A token for the items of ``query`` created after sequence number ``after``."""
        payload = json.dumps({"a": after, "q": _digest(query)}, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        return _b64(payload) + "." + _b64(mac)

    def resolve(self, query: Mapping[str, object], token: str) -> int:
        """Return the position a token stands for; raise ``InvalidTokenError`` if it is not ours."""
        try:
            payload_b64, mac_b64 = token.split(".")
            payload, mac = _unb64(payload_b64), _unb64(mac_b64)
        except (ValueError, binascii.Error) as exc:
            raise InvalidTokenError(token) from exc
        expected = hmac.new(self._secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]
        if not hmac.compare_digest(mac, expected):
            raise InvalidTokenError(token)
        data = json.loads(payload)
        if data.get("q") != _digest(query) or not isinstance(data.get("a"), int):
            raise InvalidTokenError(token)
        after: int = data["a"]
        return after


def page(items: Sequence[Item], after: int, limit: int | None) -> tuple[list[Item], int | None]:
    """Items created after ``after`` (in creation order), at most ``limit`` of them.

    Returns the page and, when more items follow, the position to continue from.
    """
    rest = [item for item in items if item.seq > after]
    if limit is None or len(rest) <= limit:
        return rest, None
    chosen = rest[:limit]
    return chosen, chosen[-1].seq if chosen else after


def _digest(query: Mapping[str, object]) -> str:
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
