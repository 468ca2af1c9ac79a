"""Resume tokens of watch streams: a signed (process epoch, revision) pair.

Revisions are meaningful only within one store of one process, so a token
names the process (a random epoch) that issued it. A token of another
process, or one older than the history kept, cannot be resumed from: the
watcher must list again (OUT_OF_RANGE), never silently miss events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from connfacade.server.domain import FieldViolation, InvalidArgument, OutOfRange

FIELD = "resume_token"
RESYNC = "list again and watch without a resume token"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a stream stands: after ``revision``; ``in_snapshot`` if before its SYNCED marker."""

    revision: int
    in_snapshot: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ResumeTokens:
    """Issues and reads resume tokens for one store."""

    def __init__(self, scope: str, secret: bytes | None = None) -> None:
        self._scope = scope
        self._secret = secret or secrets.token_bytes(32)
        self.epoch = secrets.token_hex(8)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, body, hashlib.sha256).digest()[:16]

    def issue(self, position: Position) -> str:
        """The token of a stream standing at ``position``."""
        data = {"e": self.epoch, "r": position.revision, "s": self._scope}
        if position.in_snapshot:
            data["p"] = 1
        body = json.dumps(data, separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def read(self, token: str) -> Position:
        """The position a token names; INVALID_ARGUMENT if forged, OUT_OF_RANGE if of another process."""
        try:
            body_text, mac_text = token.split(".", 1)
            body = _unb64(body_text)
            data = json.loads(body)
            unsigned = not isinstance(data, dict) or not hmac.compare_digest(
                self._mac(body), _unb64(mac_text)
            )
        except (ValueError, binascii.Error):
            unsigned, data = True, {}
        if unsigned or data.get("s") != self._scope or not isinstance(data.get("r"), int):
            # A token this store did not sign. One from an earlier process of
            # this server cannot be told apart from a forged one, so both get
            # the same advice.
            raise (
                OutOfRange(
                    "the resume token was not issued by this server process (it may have restarted); "
                    "list again and watch without a resume token",
                    reason="RESUME_TOKEN_UNKNOWN",
                    action=RESYNC,
                )
                if token.count(".") == 1
                else InvalidArgument([FieldViolation(FIELD, "not a resume token")])
            )
        return Position(int(data["r"]), in_snapshot=bool(data.get("p")))
