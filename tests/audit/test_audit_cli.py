"""``connfacade audit verify``: output and exit codes."""

from __future__ import annotations

import pytest
from audit_helpers import lines, rewrite, write_log

from connfacade.server.audit import FileSink
from connfacade.server.audit.cli import main


@pytest.fixture
async def log(tmp_path):
    path = tmp_path / "audit.jsonl"
    await write_log(path, 6, max_bytes=1_000)
    return path


async def test_an_intact_log_prints_ok_and_exits_0(log, capsys):
    files = len(list(log.parent.glob("audit.jsonl*"))) - 2  # not the head, not the lock

    assert main(["verify", str(log.parent)]) == 0
    assert capsys.readouterr().out == f"OK: 6 records in {files} files, 0 intents, each with its completion\n"


async def write_pairs(path, *, completed):
    """Two intents; the completions of those in ``completed`` (by index) follow them."""
    async with FileSink(path) as sink:
        for i in range(2):
            await sink.write({"stage": "intent", "eventID": f"intent-{i}", "eventName": "CreateConnection"})
        for n, i in enumerate(completed):
            await sink.write({"stage": "completion", "eventID": f"done-{n}", "intentID": f"intent-{i}"})


async def test_intents_each_with_a_completion_verify_ok(tmp_path, capsys):
    """An intact log whose every intent has its completion: OK, exit 0, with the count of intents."""
    await write_pairs(tmp_path / "audit.jsonl", completed=[1, 0])

    assert main(["verify", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "OK: 4 records in 1 files, 2 intents, each with its completion\n"


async def test_an_intent_without_completion_is_a_finding_with_exit_3(tmp_path, capsys):
    """An intact log with an intent without completion: UNRESOLVED at the intent's line, exit 3 (not 1)."""
    path = tmp_path / "audit.jsonl"
    await write_pairs(path, completed=[0])

    assert main(["verify", str(tmp_path)]) == 3
    assert capsys.readouterr().out.splitlines() == [
        f"UNRESOLVED: {path}:2: intent intent-1 has no completion",
        "chain intact: 3 records in 1 files, 2 intents; 1 unresolved",
    ]


async def test_a_completion_of_no_open_intent_is_a_finding(tmp_path, capsys):
    """A second completion of one intent is reported where it is, exit 3."""
    path = tmp_path / "audit.jsonl"
    await write_pairs(path, completed=[0, 1, 1])

    assert main(["verify", str(tmp_path)]) == 3
    assert capsys.readouterr().out.splitlines()[0] == (
        f"UNRESOLVED: {path}:5: a completion of intent intent-1, which is not an open intent before it "
        "(never written, or already completed)"
    )


async def test_a_tampered_log_prints_where_and_what_and_exits_1(log, capsys):
    written = lines(log)
    rewrite(log, written[:-1])

    assert main(["verify", str(log.parent)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        f"TAMPERED: {log}:{len(written)}: truncated: the head file says the chain ends at record 6"
    )
    assert out.count("\n") == 1


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main([]) == 2
    assert main(["verify"]) == 2
    assert main(["frobnicate", "x"]) == 2
    assert main(["verify", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
    assert "no audit files" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["verify", "--help"]) == 0
    assert "PATH" in capsys.readouterr().out
