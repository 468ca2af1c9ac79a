"""What a restarted server reads of its log: open intents back to the last checkpoint, pairs of the window."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from connfacade.server.audit import FileSink, checkpoint_record, scan_log


def at(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, tz=UTC).isoformat()


def intent(event_id: str, seconds_ago: float = 0) -> dict[str, object]:
    return {"stage": "intent", "eventID": event_id, "eventTime": at(seconds_ago)}


def completion(intent_id: str, seconds_ago: float = 0) -> dict[str, object]:
    return {
        "stage": "completion",
        "eventID": f"done-{intent_id}",
        "intentID": intent_id,
        "eventTime": at(seconds_ago),
    }


async def write(path, *records):
    async with FileSink(path, max_bytes=600) as sink:  # small files: the scan crosses rotations
        for record in records:
            await sink.write(record)


async def test_open_intents_are_those_after_the_last_checkpoint(tmp_path):
    """An intent without completion after the last checkpoint is open; the scan does not look before it."""
    path = tmp_path / "audit.jsonl"
    await write(
        path,
        intent("ancient", 7200),  # before the checkpoint: a checkpoint vouches that it was closed
        checkpoint_record(at(3600), 0),
        intent("closed", 5),
        intent("open", 4),
        completion("closed", 3),
    )
    scan = scan_log(path, since=time.time() - 600)
    assert [r["eventID"] for r in scan.unresolved] == ["open"]
    assert [(i["eventID"], c["eventID"]) for i, c in scan.completed] == [("closed", "done-closed")]


async def test_pairs_older_than_the_window_are_not_read_past_the_checkpoint(tmp_path):
    """Past the checkpoint, the scan stops at records older than the window: start-up cost stays bounded."""
    path = tmp_path / "audit.jsonl"
    await write(
        path,
        intent("old", 1200),
        completion("old", 1200),
        checkpoint_record(at(900), 0),
        intent("recent", 100),
        completion("recent", 100),
    )
    scan = scan_log(path, since=time.time() - 600)
    assert [i["eventID"] for i, _ in scan.completed] == ["recent"]
    assert scan.unresolved == []
    assert scan.records < 5  # it stopped before reaching the first record


async def test_without_a_checkpoint_every_open_intent_is_found(tmp_path):
    """A log no server has checkpointed yet (its first start since intents exist) is read to its start."""
    path = tmp_path / "audit.jsonl"
    await write(path, intent("long-open", 86_400), intent("done", 10), completion("done", 9))
    assert [r["eventID"] for r in scan_log(path, since=time.time() - 600).unresolved] == ["long-open"]
