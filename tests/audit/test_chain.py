"""The chain fields and the head file, as written by FileSink."""

from __future__ import annotations

import pytest
from audit_helpers import head, lines, parsed, record, sha, write_log

from connfacade.server.audit import REDACTED, FileSink, verify


@pytest.fixture
def path(tmp_path):
    return tmp_path / "logs" / "audit.jsonl"


async def test_records_are_numbered_from_one_and_each_holds_the_hash_of_the_line_before(path):
    """Record n carries sequence n and the SHA-256 of line n-1 (64 zeros for the first)."""
    await write_log(path, 12)

    written = lines(path)
    assert len(written) == 12
    previous = "0" * 64
    for n, line in enumerate(written, start=1):
        fields = parsed(line)
        assert fields["sequence"] == n
        assert fields["previous_hash"] == previous
        assert fields["i"] == n - 1
        previous = sha(line)


async def test_head_file_names_the_last_record_its_hash_and_its_file(path):
    """The head is what truncation at the end is checked against, and where a restart continues."""
    await write_log(path, 3)

    assert head(path) == {"sequence": 3, "hash": sha(lines(path)[-1]), "file": "audit.jsonl"}


async def test_chain_fields_come_first_and_the_record_follows_unchanged(path):
    """A line is the record's JSON behind sequence and previous_hash; the caller's dict is untouched."""
    original = record(7)
    given = {**original}
    async with FileSink(path) as sink:
        await sink.write(given)

    line = lines(path)[0]
    assert line.startswith(b'{"sequence":1,"previous_hash":"' + b"0" * 64 + b'","eventName"')
    assert {k: v for k, v in parsed(line).items() if k not in {"sequence", "previous_hash"}} == original
    assert given == original


async def test_an_empty_record_is_a_valid_line(path):
    """A record with no fields still gets a well-formed line."""
    async with FileSink(path) as sink:
        await sink.write({})

    assert parsed(lines(path)[0]) == {"sequence": 1, "previous_hash": "0" * 64}


async def test_every_record_is_one_line_whatever_its_strings_hold(path):
    """Newlines, U+2028 and non-ASCII text are escaped, so no record spans two lines."""
    tricky = {"message": "a\nb\rc\u2028d\u00e9\U0001f600", "nested": {"k": ["x\ny"]}}
    async with FileSink(path) as sink:
        await sink.write(tricky)
        await sink.write({"after": True})

    written = lines(path)
    assert len(written) == 2
    assert written[0].isascii()
    assert parsed(written[0])["message"] == tricky["message"]
    assert verify([path]).ok


async def test_values_json_cannot_hold_are_written_as_text(path):
    """A stray non-JSON value (a set, a Path) is written as its str() rather than failing the mutation."""
    async with FileSink(path) as sink:
        await sink.write({"where": path, "ids": {1}})

    fields = parsed(lines(path)[0])
    assert fields["where"] == str(path)
    assert fields["ids"] == "{1}"


async def test_records_may_not_carry_the_chain_fields(path):
    """The sink owns sequence and previous_hash: a record that sets them is a programming error."""
    async with FileSink(path) as sink:
        with pytest.raises(ValueError, match="chain fields"):
            await sink.write({"sequence": 99})

    assert not path.exists() or lines(path) == []


async def test_credentials_never_reach_the_file_even_if_the_caller_forgot_to_redact(path):
    """Redaction of secret keys is also the sink's last line of defence."""
    async with FileSink(path) as sink:
        await sink.write(
            {
                "requestParameters": {"authorization": "Bearer abc", "next_token": "page-2"},
                "userIdentity": {"session_token": "xyz"},
            }
        )

    fields = parsed(lines(path)[0])
    assert fields["requestParameters"] == {"authorization": REDACTED, "next_token": "page-2"}
    assert fields["userIdentity"] == {"session_token": REDACTED}
    assert b"abc" not in path.read_bytes()
    assert b"xyz" not in path.read_bytes()
