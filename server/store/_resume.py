"""Resume tokens of watch streams: a signed (process epoch, revision) pair.

Revisions are meaningful only within one store of one process, so a token
names the process (a random epoch) that issued it. A token of another
process, or one older than the history kept, cannot be resumed from: the
watcher must list again (OUT_OF_RANGE), never silently miss events.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from connfacade.server.domain import FieldViolation, InvalidArgument, OutOfRange
from connfacade.server.store._signing import Signer

FIELD = "resume_token"
RESYNC = "list again and watch without a resume token"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a stream stands: after ``revision``; ``in_snapshot`` if before its SYNCED marker."""

    revision: int
    in_snapshot: bool = False


class ResumeTokens:
    """Issues and reads resume tokens for one store."""

    def __init__(self, scope: str, secret: bytes | None = None) -> None:
        self._scope = scope
        self._signer = Signer(secret)
        self.epoch = secrets.token_hex(8)

    def issue(self, position: Position) -> str:
        """The token of a stream standing at ``position``."""
        data: dict[str, object] = {"e": self.epoch, "r": position.revision, "s": self._scope}
        if position.in_snapshot:
            data["p"] = 1
        return self._signer.sign(data)

    def read(self, token: str) -> Position:
        """The position a token names; INVALID_ARGUMENT if malformed, OUT_OF_RANGE if of another process."""
        data = self._signer.open(token)
        if data is None or data.get("s") != self._scope or not isinstance(data.get("r"), int):
            # A token this store did not sign. One from an earlier process of
            # this server cannot be told apart from a forged one, so both get
            # the same advice; only malformed text is an argument error.
            if token.count(".") != 1:
                raise InvalidArgument([FieldViolation(FIELD, "not a resume token")])
            raise OutOfRange(
                "the resume token was not issued by this server process (it may have restarted); "
                "list again and watch without a resume token",
                reason="RESUME_TOKEN_UNKNOWN",
                action=RESYNC,
            )
        return Position(int(data["r"]), in_snapshot=bool(data.get("p")))
