"""Opaque page tokens for listings served from memory, bound to their filter.

A token names the last item of the previous page by its stable sequence
number (keyset pagination: inserts and deletes do not shift later pages) and
carries a digest of the filter; an HMAC makes forged tokens detectable.
"""

from __future__ import annotations

import hashlib

from connfacade.server.domain import FieldViolation, InvalidArgument
from connfacade.server.store._signing import Signer

FIELD = "next_token"


class PageTokens:
    """Issues and checks page tokens; the secret lives as long as the process."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._signer = Signer(secret)

    @staticmethod
    def _filter_digest(filter_key: str) -> str:
        return hashlib.sha256(filter_key.encode()).hexdigest()[:16]

    def issue(self, last_seq: int, filter_key: str) -> str:
        """A token continuing after ``last_seq`` for exactly this filter."""
        return self._signer.sign({"s": last_seq, "f": self._filter_digest(filter_key)})

    def resume_after(self, token: str, filter_key: str) -> int:
        """The sequence number to continue after; INVALID_ARGUMENT for a forged or foreign token."""
        if not token:
            return 0
        data = self._signer.open(token)
        if data is None or not isinstance(data.get("s"), int):
            raise InvalidArgument(
                [FieldViolation(FIELD, "not a page token this server issued; start the listing again")]
            )
        if data.get("f") != self._filter_digest(filter_key):
            raise InvalidArgument(
                [FieldViolation(FIELD, "the page token belongs to a listing with other filters")]
            )
        return int(data["s"])
