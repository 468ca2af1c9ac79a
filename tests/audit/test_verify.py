"""verify: an untouched log passes; each kind of tampering is named, with FILE:LINE of the first problem."""

from __future__ import annotations

import json

import pytest
from audit_helpers import lines, parsed, rewrite, sha, write_log

from connfacade.server.audit import verify


@pytest.fixture
async def log(tmp_path):
    """Ten records in one file, with its head."""
    path = tmp_path / "audit.jsonl"
    await write_log(path, 10)
    return path


@pytest.fixture
async def rotated(tmp_path):
    """Forty records over several files."""
    path = tmp_path / "audit.jsonl"
    await write_log(path, 40, max_bytes=1_500)
    files = sorted(tmp_path.glob("audit.jsonl.[0-9]*"))
    assert len(files) >= 3
    return path, files


def edit(line: bytes, **changes) -> bytes:
    fields = parsed(line)
    fields.update(changes)
    return json.dumps(fields, separators=(",", ":")).encode()


def problem_at(paths, where):
    result = verify(paths)
    assert not result.ok
    assert result.where == str(where)
    return result.problem


async def test_an_untouched_log_passes_with_its_counts(log):
    """OK, with the number of records and files checked."""
    assert verify([log]) == verify([log.parent])
    result = verify([log])
    assert (result.ok, result.records, result.files, result.problem, result.where) == (True, 10, 1, "", "")


async def test_an_untouched_log_passes_across_rotation_and_restarts(rotated):
    """Rotation and restarts keep one chain that verifies end to end."""
    path, _ = rotated
    await write_log(path, 5, start=40, max_bytes=1_500)
    await write_log(path, 5, start=45, fsync="always", max_bytes=1_500)

    result = verify([path.parent])
    assert (result.ok, result.records) == (True, 50)
    assert result.files == len(list(path.parent.glob("audit.jsonl.[0-9]*"))) + 1


async def test_an_edited_field_is_reported_at_the_edited_record(log):
    """Changing any field of record 5 breaks record 6's link: record 5 is named, at its line."""
    written = lines(log)
    written[4] = edit(written[4], eventName="DeleteConnection")
    rewrite(log, written)

    problem = problem_at([log], f"{log}:5")
    assert problem.startswith(
        "record 5 was edited: its SHA-256 no longer matches the previous_hash of record 6"
    )


async def test_an_edited_link_is_reported_at_the_record_that_holds_it(log):
    """Changing record 5's previous_hash breaks links on both sides of it: record 5 is named."""
    written = lines(log)
    written[4] = edit(written[4], previous_hash="a" * 64)
    rewrite(log, written)

    assert problem_at([log], f"{log}:5").startswith("record 5 was edited: its previous_hash does not match")


async def test_an_edited_sequence_is_reported(log):
    """A renumbered record still links to its predecessor, so it is an edit, not a removal."""
    written = lines(log)
    written[4] = edit(written[4], sequence=7)
    rewrite(log, written)

    assert problem_at([log], f"{log}:5").startswith("record 5 was edited: its sequence says 7")


async def test_an_edited_first_record_is_reported(log):
    """Record 1's link is the 64 zeros; a change to record 1 shows at record 2."""
    written = lines(log)
    written[0] = edit(written[0], i=100)
    rewrite(log, written)

    assert problem_at([log], f"{log}:1").startswith("record 1 was edited")


async def test_an_edited_last_record_is_reported_through_the_head_file(log):
    """No record follows the last one: the head file's hash is what it is checked against."""
    written = lines(log)
    written[-1] = edit(written[-1], i=100)
    rewrite(log, written)

    problem = problem_at([log], f"{log}:10")
    assert problem == "record 10 was edited: its SHA-256 does not match the head file (audit.jsonl.head)"


async def test_a_removed_record_is_reported_where_it_was(log):
    """A gap in the sequence names the missing record(s), at the line where they should be."""
    written = lines(log)
    del written[4]
    rewrite(log, written)

    assert problem_at([log], f"{log}:5") == "record 5 is missing (removed): the sequence jumps from 4 to 6"


async def test_several_removed_records_are_reported_as_a_range(log):
    written = lines(log)
    del written[3:6]
    rewrite(log, written)

    assert (
        problem_at([log], f"{log}:4") == "records 4..6 are missing (removed): the sequence jumps from 3 to 7"
    )


async def test_swapped_records_are_reported_as_out_of_order(log):
    """Two lines swapped: the first out-of-place line is named, and where the skipped record went."""
    written = lines(log)
    written[2], written[3] = written[3], written[2]
    rewrite(log, written)

    problem = problem_at([log], f"{log}:3")
    assert problem == f"records out of order: record 4 comes before record 3 ({log}:4)"


async def test_a_record_moved_back_is_reported_as_out_of_order(log):
    written = lines(log)
    written.insert(7, written.pop(2))  # record 3 now after record 8
    rewrite(log, written)

    assert problem_at([log], f"{log}:3") == f"records out of order: record 4 comes before record 3 ({log}:8)"


async def test_a_duplicated_record_is_reported(log):
    written = lines(log)
    written.insert(5, written[4])
    rewrite(log, written)

    assert problem_at([log], f"{log}:6") == f"record 5 is duplicated: the same line is at {log}:5"


async def test_cutting_whole_records_from_the_end_is_reported_through_the_head_file(log):
    """The files end earlier than the head says: truncation, at the line where the cut starts."""
    rewrite(log, lines(log)[:8])

    problem = problem_at([log], f"{log}:9")
    assert problem == (
        "truncated: the head file says the chain ends at record 10 (in audit.jsonl), "
        "but the files end at record 8: records 9..10 were cut from the end"
    )


async def test_cutting_the_last_line_partway_is_reported(log):
    """A last line without its end (and its newline) is a cut record."""
    log.write_bytes(log.read_bytes()[:-30])

    problem = problem_at([log], f"{log}:10")
    assert problem.startswith("truncated: the last line is incomplete (no newline)")
    assert problem.endswith("the head file says the chain ends at record 10")


async def test_a_removed_newline_alone_is_reported(log):
    """Even an intact JSON object without its newline is a cut: the writer always ends a line."""
    log.write_bytes(log.read_bytes()[:-1])

    assert problem_at([log], f"{log}:10").startswith("truncated: the last line is incomplete")


async def test_a_malformed_line_is_reported(log):
    written = lines(log)
    written[6] = b"this is not a record"
    rewrite(log, written)

    assert problem_at([log], f"{log}:7").startswith("malformed line: not JSON")


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"", "empty line"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"previous_hash": "' + b"0" * 64 + b'"}', "no valid sequence"),
        (b'{"sequence": 7, "previous_hash": "xyz"}', "no valid previous_hash"),
        (b'{"sequence": true, "previous_hash": "' + b"0" * 64 + b'"}', "no valid sequence"),
    ],
)
async def test_lines_that_are_not_records_say_why(log, line, why):
    written = lines(log)
    written[2] = line
    rewrite(log, written)

    assert problem_at([log], f"{log}:3") == f"malformed line: {why}"


async def test_a_removed_rotated_file_is_reported_between_its_neighbours(rotated):
    """A whole middle file gone: the records it held are named, at the first line after the gap."""
    path, files = rotated
    before, gone, after = files[0], files[1], files[2]
    first_gone = parsed(lines(gone)[0])["sequence"]
    last_gone = parsed(lines(gone)[-1])["sequence"]
    gone.unlink()

    problem = problem_at([path.parent], f"{after}:1")
    assert problem == (
        f"records {first_gone}..{last_gone} are missing between {before.name} and {after.name}: "
        "a rotated file was removed"
    )


async def test_a_removed_oldest_file_is_reported(rotated):
    """The chain must start at record 1; without the oldest file it does not."""
    path, files = rotated
    start = parsed(lines(files[1])[0])["sequence"]
    files[0].unlink()

    problem = problem_at([path.parent], f"{files[1]}:1")
    assert problem.startswith(f"the chain starts at record {start}: records 1..{start - 1} are missing")


async def test_a_removed_live_file_is_reported_as_truncation(rotated):
    path, files = rotated
    last_rotated = files[-1]
    path.unlink()

    problem = problem_at([path.parent], f"{last_rotated}:{len(lines(last_rotated)) + 1}")
    assert problem.startswith("truncated: the head file says the chain ends at record 40")


async def test_files_are_put_in_chain_order_by_their_first_record_not_their_names(rotated):
    """Given in any order, or with rotated names mixed up, the files of a log are read in chain order."""
    path, files = rotated
    assert verify([path, *reversed(files)]).ok

    a, b = files[0], files[1]
    swap = a.with_name("swap")
    a.rename(swap)
    b.rename(a)
    swap.rename(b)
    assert verify([path.parent]).ok


async def test_a_missing_head_file_is_reported(log):
    """Without its head, cuts at the end of a log could not be seen."""
    log.with_name("audit.jsonl.head").unlink()

    problem = problem_at([log], f"{log}:10")
    assert problem == "the head file audit.jsonl.head is missing: records cut from the end could not be seen"


async def test_a_damaged_head_file_is_reported(log):
    head_file = log.with_name("audit.jsonl.head")
    head_file.write_text("{}")

    assert problem_at([log], f"{head_file}:1") == 'the head file is not {"sequence", "hash", "file"}'


async def test_a_head_file_without_any_log_file_is_reported(log):
    """Deleting every file of a log leaves the head to say it existed."""
    log.unlink()

    problem = problem_at([log.parent], f"{log.with_name('audit.jsonl.head')}:1")
    assert problem.startswith("truncated: the head file says the chain ends at record 10")


async def test_a_head_behind_the_files_passes_if_its_record_matches(log):
    """A crash between appending and updating the head leaves it behind: not tampering."""
    written = lines(log)
    head_file = log.with_name("audit.jsonl.head")
    head_file.write_text(json.dumps({"sequence": 9, "hash": sha(written[8]), "file": "audit.jsonl"}))
    assert verify([log]).ok

    head_file.write_text(json.dumps({"sequence": 9, "hash": "b" * 64, "file": "audit.jsonl"}))
    assert problem_at([log], f"{log}:9").startswith(
        "record 9 was edited: its SHA-256 does not match the head file"
    )


async def test_the_first_problem_is_reported_when_there_are_several(log):
    written = lines(log)
    written[7] = b"garbage"
    del written[2]
    rewrite(log, written)

    assert problem_at([log], f"{log}:3").startswith("record 3 is missing")


async def test_an_empty_log_passes(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.touch()

    result = verify([path])
    assert (result.ok, result.records, result.files) == (True, 0, 1)


async def test_several_logs_in_one_directory_are_checked_each_as_its_own_chain(tmp_path):
    await write_log(tmp_path / "a.jsonl", 3)
    await write_log(tmp_path / "b.jsonl", 4)

    result = verify([tmp_path])
    assert (result.ok, result.records, result.files) == (True, 7, 2)


def test_paths_that_do_not_exist_or_hold_nothing_are_errors_not_verdicts(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        verify([tmp_path / "nope"])
    with pytest.raises(ValueError, match="no audit files"):
        verify([tmp_path])
    with pytest.raises(ValueError, match="no path given"):
        verify([])
