"""Change events the store records, in revision order."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connfacade.server.domain import Connection


class EventType(enum.Enum):
    """What happened to a connection."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change: the connection as it is after it (as it was, for DELETED)."""

    revision: int
    type: EventType
    connection: Connection
