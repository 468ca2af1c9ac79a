"""FileSink: concurrency, rotation, restart, fsync policies, failures."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
import structlog
from audit_helpers import head, lines, parsed, record, rewrite, sha, write_log

from connfacade.server.audit import AuditSinkError, FileSink, verify


@pytest.fixture
def path(tmp_path):
    return tmp_path / "logs" / "audit.jsonl"


def assert_chain(all_lines: list[bytes]) -> None:
    previous = "0" * 64
    for n, line in enumerate(all_lines, start=1):
        fields = parsed(line)
        assert (fields["sequence"], fields["previous_hash"]) == (n, previous)
        previous = sha(line)


def log_files(path):
    """The live file's rotated files (oldest first), then the live file."""
    return [*sorted(path.parent.glob(path.name + ".[0-9]*")), path]


class FsyncCounter:
    """An fsync that counts its calls and records how many bytes each one covered."""

    def __init__(self) -> None:
        self.calls = 0
        self.covered: list[int] = []
        self.fail = False

    def __call__(self, fd: int) -> None:
        if self.fail:
            raise OSError(5, "Input/output error")
        size = os.fstat(fd).st_size
        os.fsync(fd)
        self.calls += 1
        self.covered.append(size)


# --- concurrency ------------------------------------------------------------


@pytest.mark.parametrize("policy", ["always", "batch", "never"])
async def test_concurrent_writers_get_one_line_each_in_one_strict_chain(path, policy):
    """200 concurrent writes: 200 whole lines, sequence 1..200, each linked to the line before."""
    async with FileSink(path, fsync=policy) as sink:
        await asyncio.gather(*(sink.write(record(i)) for i in range(200)))
        assert sink.sequence == 200

    written = lines(path)
    assert len(written) == 200
    assert_chain(written)
    assert sorted(parsed(line)["i"] for line in written) == list(range(200))
    assert verify([path]) == verify([path.parent])
    assert verify([path]).ok


@pytest.mark.parametrize("policy", ["always", "batch", "never"])
async def test_cancelled_writers_leave_the_chain_intact(path, policy):
    """A writer cancelled mid-write (a client gone) never leaves half a record or a broken link."""
    async with FileSink(path, fsync=policy) as sink:
        tasks = [asyncio.create_task(sink.write(record(i))) for i in range(40)]
        await asyncio.sleep(0)
        for task in tasks[::2]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sink.write(record(99))

    assert_chain(lines(path))
    assert verify([path.parent]).ok


# --- rotation ---------------------------------------------------------------


async def test_rotation_splits_the_log_by_size_and_the_chain_runs_across_files(path):
    """Full files become <path>.<first sequence, 12 digits>; the chain runs on across them."""
    await write_log(path, 60, max_bytes=2_000)

    files = log_files(path)
    assert len(files) >= 4
    for rotated in files[:-1]:
        first = parsed(lines(rotated)[0])["sequence"]
        assert rotated.name == f"audit.jsonl.{first:012d}"
        assert rotated.stat().st_size <= 2_000
    assert files[0].name == "audit.jsonl.000000000001"
    assert_chain([line for f in files for line in lines(f)])
    assert head(path)["sequence"] == 60
    assert verify([path.parent]) == verify(files)
    result = verify([path.parent])
    assert (result.ok, result.records, result.files) == (True, 60, len(files))


async def test_a_record_larger_than_max_bytes_gets_a_file_of_its_own(path):
    """Rotation never splits a record: a file holds at least one whole record."""
    async with FileSink(path, max_bytes=100) as sink:
        await sink.write({"big": "x" * 300})
        await sink.write({"big": "y" * 300})

    assert [len(lines(f)) for f in log_files(path)] == [1, 1]
    assert verify([path.parent]).ok


async def test_rotation_refuses_to_overwrite_an_existing_file(path):
    """A file already at the rotated name is evidence, not space: the write fails closed instead."""
    async with FileSink(path, max_bytes=300) as sink:
        await sink.write(record(0))
        path.with_name("audit.jsonl.000000000001").write_text("someone else's\n")
        with pytest.raises(AuditSinkError, match="already exists"):
            await sink.write(record(1))


# --- restart ----------------------------------------------------------------


async def test_a_restarted_sink_continues_the_chain_from_disk(path):
    """Close, open a new sink on the same path, write more: one continuous chain."""
    await write_log(path, 5)
    await write_log(path, 5, start=5)

    written = lines(path)
    assert [parsed(line)["i"] for line in written] == list(range(10))
    assert_chain(written)
    result = verify([path])
    assert (result.ok, result.records, result.files) == (True, 10, 1)


async def test_restart_continues_across_rotated_files(path):
    """After rotation and a restart the chain goes on from the newest file."""
    await write_log(path, 30, max_bytes=1_500)
    await write_log(path, 30, start=30, max_bytes=1_500)

    all_lines = [line for f in log_files(path) for line in lines(f)]
    assert len(all_lines) == 60
    assert_chain(all_lines)
    assert verify([path.parent]).ok


async def test_restart_after_a_crash_between_append_and_head_update_needs_no_break(path):
    """A head one record behind the file (the process died in between) is caught up, not reported."""
    await write_log(path, 4)
    last_two = lines(path)[-2:]
    head_file = path.with_name("audit.jsonl.head")
    head_file.write_text(f'{{"sequence": 3, "hash": "{sha(last_two[0])}", "file": "audit.jsonl"}}\n')
    assert verify([path]).ok  # records after the head's are fine if they link to it

    async with FileSink(path) as sink:
        assert sink.chain_break == ""
        await sink.write(record(4))

    assert head(path)["sequence"] == 5
    assert_chain(lines(path))


async def test_restart_after_an_incomplete_last_line_starts_a_new_file_with_a_marker(path):
    """A write cut short (power loss) is set aside; a restart marker names the break; verify reports it."""
    await write_log(path, 5)
    data = path.read_bytes()
    path.write_bytes(data[:-20])  # the last record, cut mid-line

    async with FileSink(path) as sink:
        assert "incomplete line" in sink.chain_break
        await sink.write(record(5))

    set_aside = path.with_name("audit.jsonl.000000000001")
    assert len(lines(set_aside)) == 5
    marker, after = (parsed(line) for line in lines(path))
    assert marker["audit_chain"] == "restart"
    assert "incomplete line" in marker["reason"]
    assert "set aside as audit.jsonl.000000000001" in marker["reason"]
    assert marker["sequence"] == 6  # past every sequence the head had given out
    assert marker["previous_hash"] == sha(lines(set_aside)[3])  # links to the last intact record
    assert after["sequence"] == 7

    result = verify([path.parent])
    assert not result.ok
    assert result.where == f"{set_aside}:5"
    assert "incomplete" in result.problem
    assert f"the server noted a break when it restarted, at {path}:1" in result.problem


async def test_restart_when_the_head_names_records_that_are_gone_writes_a_marker(path):
    """Records cut from the end are not silently papered over: the marker says which are lost."""
    await write_log(path, 6)
    rewrite(path, lines(path)[:4])

    async with FileSink(path) as sink:
        assert "records 5..6 are lost" in sink.chain_break

    result = verify([path.parent])
    assert not result.ok
    assert result.where == f"{path}:1"
    assert "records 5..6 are lost" in result.problem


async def test_restart_when_the_head_file_is_missing_writes_a_marker(path):
    """Without the head, cuts at the end could go unseen: the restart says so in the chain."""
    await write_log(path, 3)
    path.with_name("audit.jsonl.head").unlink()

    async with FileSink(path) as sink:
        assert "head file is missing" in sink.chain_break
        await sink.write(record(3))

    assert not verify([path.parent]).ok


async def test_restart_after_a_crash_between_rotation_rename_and_the_new_file(path):
    """No live file, only rotated ones: the chain continues from the newest rotated file, no break."""
    await write_log(path, 20, max_bytes=1_000)
    newest = path.with_name(f"audit.jsonl.{parsed(lines(path)[0])['sequence']:012d}")
    path.rename(newest)  # as if the process died right after the rename

    async with FileSink(path, max_bytes=1_000) as sink:
        assert sink.chain_break == ""
        await sink.write(record(20))

    assert parsed(lines(path)[0])["sequence"] == 21
    assert verify([path.parent]).ok


async def test_restart_when_the_live_file_holds_only_a_cut_line_links_to_the_rotated_file(path):
    """The last intact record may be in an older file; the marker links to it."""
    await write_log(path, 20, max_bytes=1_000)
    rotated = max(path.parent.glob("audit.jsonl.[0-9]*"))
    last_intact = lines(rotated)[-1]
    path.write_bytes(b'{"sequence":')

    async with FileSink(path, max_bytes=1_000) as sink:
        assert "incomplete line" in sink.chain_break

    marker = parsed(lines(path)[0])
    assert marker["previous_hash"] == sha(last_intact)
    assert marker["sequence"] == 21  # the head had reached 20


@pytest.mark.parametrize("content", [b"garbage", b'{"sequence": 1}'])
async def test_restart_with_an_unreadable_head_writes_a_marker(path, content):
    await write_log(path, 3)
    path.with_name("audit.jsonl.head").write_bytes(content)

    async with FileSink(path) as sink:
        assert "the head file is not" in sink.chain_break
        await sink.write(record(3))

    assert head(path)["sequence"] == 5
    result = verify([path.parent])
    assert result.where == f"{path}:1"
    assert "the head file is not" in result.problem


async def test_restart_with_a_head_but_no_files_writes_a_marker(path):
    """Every file deleted: the head still says how far the chain went, and the new one says so."""
    await write_log(path, 3)
    path.unlink()

    async with FileSink(path) as sink:
        assert sink.chain_break == "the head file names record 3 in audit.jsonl, but no record is on disk"

    marker = parsed(lines(path)[0])
    assert (marker["sequence"], marker["previous_hash"]) == (4, "0" * 64)


# --- fsync policies ---------------------------------------------------------


@pytest.mark.parametrize(("policy", "expected_fsyncs"), [("always", 10), ("batch", 10), ("never", 0)])
async def test_each_policy_writes_a_verifiable_log_with_its_fsyncs(path, policy, expected_fsyncs):
    """Sequential writes: always and batch fsync once per write (nothing to share), never not at all."""
    fsync = FsyncCounter()
    sink = FileSink(path, fsync=policy, fsync_fn=fsync)
    await sink.open()
    fsync.calls = 0  # the directory fsync of a new file
    for i in range(10):
        await sink.write(record(i))
        if policy != "never":
            assert fsync.covered[-1] == path.stat().st_size  # durable when write returned
    assert fsync.calls == expected_fsyncs
    await sink.aclose()
    assert fsync.calls == expected_fsyncs + 1  # closing fsyncs whatever the policy
    assert verify([path]).ok


async def test_batch_shares_one_fsync_among_concurrent_writers(path):
    """Group commit: 100 concurrent writes cost a couple of fsyncs; each returns only once it is covered."""
    fsync = FsyncCounter()
    async with FileSink(path, fsync="batch", fsync_fn=fsync) as sink:
        fsync.calls = 0

        async def write_and_check(i):
            await sink.write(record(i))
            durable = path.read_bytes()[: max(fsync.covered)]
            assert f'"i":{i}}}'.encode() in durable

        await asyncio.gather(*(write_and_check(i) for i in range(100)))
        assert 1 <= fsync.calls <= 3

    assert verify([path]).ok


async def test_batch_starts_another_fsync_when_one_runs_longer_than_the_interval(path):
    """A slow disk does not make writers queue behind it for longer than fsync_interval."""

    slow = False

    def slow_fsync(fd):
        os.fsync(fd)
        if slow:
            time.sleep(0.3)

    async with FileSink(path, fsync="batch", fsync_interval=0.02, fsync_fn=slow_fsync) as sink:
        slow = True
        first = asyncio.create_task(sink.write(record(0)))
        await asyncio.sleep(0.05)  # the first fsync is running (0.3 s)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await sink.write(record(1))
        waited = loop.time() - t0
        await first
        slow = False

    # Its fsync started 0.02 s after its append, alongside the first (0.32 s),
    # not after the first one ended (0.55 s).
    assert waited < 0.45
    assert verify([path]).ok


@pytest.mark.parametrize("policy", ["always", "batch"])
async def test_a_failing_fsync_fails_the_write_and_the_sink_recovers_when_the_disk_does(path, policy):
    """fsync errors raise AuditSinkError (fail closed); once fsync works, the sink reopens from disk."""
    fsync = FsyncCounter()
    async with FileSink(path, fsync=policy, fsync_fn=fsync) as sink:
        await sink.write(record(0))
        fsync.fail = True
        with pytest.raises(AuditSinkError, match="fsync failed"):
            await sink.write(record(1))
        with pytest.raises(AuditSinkError):
            await sink.write(record(2))
        fsync.fail = False
        await sink.write(record(3))
        assert sink.chain_break == ""

    assert_chain(lines(path))
    assert verify([path]).ok


async def test_an_unwritable_path_fails_open_and_write(tmp_path):
    """A log under a regular file cannot be created: AuditSinkError, not OSError."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    sink = FileSink(blocker / "audit.jsonl")
    with pytest.raises(AuditSinkError, match="opening failed"):
        await sink.open()
    with pytest.raises(AuditSinkError, match="opening failed"):
        await sink.write(record(0))


async def test_a_full_disk_fails_the_write_and_leaves_no_partial_line(tmp_path):
    """ENOSPC (a live file that is /dev/full) raises AuditSinkError."""
    path = tmp_path / "audit.jsonl"
    path.symlink_to("/dev/full")
    async with FileSink(path, fsync="never") as sink:
        with pytest.raises(AuditSinkError, match="appending failed"):
            await sink.write(record(0))


async def test_a_second_writer_on_the_same_log_is_refused(path):
    """Two writers would fork the chain; the second one fails to open."""
    async with FileSink(path):
        with pytest.raises(AuditSinkError, match="another writer"):
            await FileSink(path).open()
    async with FileSink(path):  # released on close
        pass


async def test_writes_after_close_fail(path):
    """A closed sink refuses records rather than dropping them silently."""
    sink = FileSink(path)
    await sink.write(record(0))
    await sink.aclose()
    await sink.aclose()
    with pytest.raises(AuditSinkError, match="closed"):
        await sink.write(record(1))


async def test_the_observe_hook_sees_every_write_and_its_outcome(path):
    """observe(seconds, ok) after each write; a failing hook never fails a write."""
    seen: list[tuple[float, bool]] = []
    fsync = FsyncCounter()
    async with FileSink(
        path, fsync="always", fsync_fn=fsync, observe=lambda s, ok: seen.append((s, ok))
    ) as sink:
        await sink.write(record(0))
        fsync.fail = True
        with pytest.raises(AuditSinkError):
            await sink.write(record(1))
        fsync.fail = False

    assert [ok for _, ok in seen] == [True, False]
    assert all(seconds >= 0 for seconds, _ in seen)

    def broken_hook(_seconds, _ok):
        raise RuntimeError

    async with FileSink(path, observe=broken_hook) as sink:
        await sink.write(record(2))


def test_options_are_checked():
    """A typo in the policy is an error at start-up, not a silent default."""
    with pytest.raises(ValueError, match="fsync must be one of"):
        FileSink(Path(os.devnull), fsync="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes"):
        FileSink(Path(os.devnull), max_bytes=0)


async def test_a_failing_metrics_hook_is_logged_once_and_never_fails_the_write(path):
    """The write stays durable and verifiable; the hook's error is logged once per kind, not per record."""

    def broken_hook(_seconds, _ok):
        raise LookupError("a metric with a label it does not have")

    with structlog.testing.capture_logs() as logs:
        async with FileSink(path, fsync="always", observe=broken_hook) as sink:
            for n in range(3):
                await sink.write(record(n))
    assert verify([path]).ok
    assert [entry["event"] for entry in logs] == ["audit.metrics_hook_failed"]
