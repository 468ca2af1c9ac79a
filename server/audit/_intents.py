"""Write-ahead records: intents, their completions, and which intents are still open.

A mutation sent to AWS leaves two records: an *intent* (``"stage": "intent"``),
durable before AWS is called, and a *completion* (``"stage": "completion"``)
whose ``intentID`` is the intent's ``eventID``. Every other record is an
*outcome* (``"stage": "outcome"``): the one record of a call that sent no
change to AWS. An intent without a completion is a mutation whose fate the
log does not know (the process died in between); a restarted server asks AWS
and writes the completion, then a *checkpoint* record: every intent before it
has its completion, so the next start reads the log back to there and no further.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connfacade.server.audit._chain import RESTART_KEY, rotated_files
from connfacade.server.audit._recovery import lines_backward

if TYPE_CHECKING:
    from pathlib import Path

STAGE = "stage"
INTENT = "intent"
COMPLETION = "completion"
OUTCOME = "outcome"
INTENT_ID = "intentID"
CHECKPOINT = "checkpoint"
"""The value of ``audit_chain`` in a checkpoint record."""


def checkpoint_record(time: str, recovered: int) -> dict[str, Any]:
    """The record a server writes at start once every intent before it has a completion."""
    return {
        RESTART_KEY: CHECKPOINT,
        "time": time,
        "recovered": recovered,
        "note": "every intent before this record has its completion",
    }


@dataclass(slots=True)
class Pairing:
    """Pairs completions with intents, over records in chain order (`verify`'s findings)."""

    open: dict[str, str] = field(default_factory=dict)
    """Intent eventID -> where it is (``FILE:LINE``), for intents with no completion yet."""
    intents: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, stage: str, event_id: str, intent_id: str, where: str) -> None:
        """Takes one record's stage and links into account."""
        if stage == INTENT and event_id:
            self.intents += 1
            if event_id in self.open:
                self.problems.append(f"{where}: a second intent {event_id} ({self.open[event_id]})")
            self.open[event_id] = where
        elif stage == COMPLETION and self.open.pop(intent_id, None) is None:
            self.problems.append(
                f"{where}: a completion of intent {intent_id or '(none named)'}, which is not an "
                "open intent before it (never written, or already completed)"
            )

    def findings(self) -> list[str]:
        """``FILE:LINE: what`` for every intent without completion, then every other pairing problem."""
        unresolved = [
            f"{where}: intent {event_id} has no completion" for event_id, where in self.open.items()
        ]
        return unresolved + self.problems


@dataclass(slots=True)
class LogScan:
    """What a restarted server needs from the end of its log."""

    unresolved: list[dict[str, Any]] = field(default_factory=list)
    """Intents with no completion (after the last checkpoint), newest first."""
    completed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    """(intent, completion) pairs whose intent is at or after ``since``, newest first."""
    records: int = 0
    """Records read."""


def scan_log(path: Path, since: float) -> LogScan:
    """Reads the log whose live file is ``path`` backwards, to its last checkpoint and on to time ``since``.

    ``since`` is a POSIX time: pairs whose intent is older are not needed
    (the idempotency window). Lines that are not records are skipped: the
    chain is `verify`'s business, not this scan's.
    """
    files = [f for f in [path, *reversed(rotated_files(path))] if f.is_file()]
    scan = LogScan()
    completions: dict[str, dict[str, Any]] = {}
    passed_checkpoint = False
    with contextlib.closing(lines_backward(files)) as lines:
        for _name, raw, complete in lines:
            record = _record(raw) if complete else None
            if record is None:
                continue
            scan.records += 1
            if record.get(RESTART_KEY) == CHECKPOINT:
                passed_checkpoint = True
                continue
            when = record_time(record)
            if passed_checkpoint and when is not None and when < since:
                break
            stage = record.get(STAGE)
            if stage == COMPLETION and isinstance(link := record.get(INTENT_ID), str):
                completions[link] = record
            elif stage == INTENT and isinstance(event_id := record.get("eventID"), str):
                done = completions.pop(event_id, None)
                if done is not None:
                    if when is None or when >= since:
                        scan.completed.append((record, done))
                elif not passed_checkpoint:
                    scan.unresolved.append(record)
    return scan


def record_time(record: dict[str, Any]) -> float | None:
    """A record's ``eventTime`` as a POSIX time (None if it has none that parses)."""
    value = record.get("eventTime")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def _record(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
