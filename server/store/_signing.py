"""Opaque, signed tokens: JSON made unforgeable with an HMAC and a per-process secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Turns small JSON objects into tokens and back; tokens of another secret do not verify."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:16]

    def sign(self, data: dict[str, Any]) -> str:
        """``data`` as a token."""
        body = json.dumps(data, separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def open(self, token: str) -> dict[str, Any] | None:
        """The data of a token this signer made; None for anything else."""
        try:
            body_text, mac_text = token.split(".", 1)
            body = _unb64(body_text)
            if not hmac.compare_digest(self._mac(body), _unb64(mac_text)):
                return None
            data = json.loads(body)
        except (ValueError, binascii.Error):
            return None
        return data if isinstance(data, dict) else None
