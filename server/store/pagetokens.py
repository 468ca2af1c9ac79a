"""Opaque page tokens for listings served from memory, bound to their filter.

A token names the last item of the previous page by its stable sequence
number (keyset pagination: inserts and deletes do not shift later pages) and
carries a digest of the filter; an HMAC makes forged tokens detectable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets

from connfacade.server.domain import FieldViolation, InvalidArgument

FIELD = "next_token"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Issues and checks page tokens; the secret lives as long as the process."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _filter_digest(self, filter_key: str) -> str:
        return hashlib.sha256(filter_key.encode()).hexdigest()[:16]

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:16]

    def issue(self, last_seq: int, filter_key: str) -> str:
        """A token continuing after ``last_seq`` for exactly this filter."""
        body = json.dumps(
            {"s": last_seq, "f": self._filter_digest(filter_key)}, separators=(",", ":")
        ).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def resume_after(self, token: str, filter_key: str) -> int:
        """The sequence number to continue after; INVALID_ARGUMENT for a forged or foreign token."""
        if not token:
            return 0
        try:
            body_text, mac_text = token.split(".", 1)
            body = _unb64(body_text)
            valid = hmac.compare_digest(self._mac(body), _unb64(mac_text))
            data = json.loads(body) if valid else {}
        except (ValueError, binascii.Error):
            valid, data = False, {}
        if not valid or not isinstance(data.get("s"), int):
            raise InvalidArgument(
                [FieldViolation(FIELD, "not a page token this server issued; start the listing again")]
            )
        if data.get("f") != self._filter_digest(filter_key):
            raise InvalidArgument(
                [FieldViolation(FIELD, "the page token belongs to a listing with other filters")]
            )
        return int(data["s"])
