"""``connfacade audit verify``: output and exit codes."""

from __future__ import annotations

import pytest
from audit_helpers import lines, rewrite, write_log

from connfacade.server.audit.cli import main


@pytest.fixture
async def log(tmp_path):
    path = tmp_path / "audit.jsonl"
    await write_log(path, 6, max_bytes=1_000)
    return path


async def test_an_intact_log_prints_ok_and_exits_0(log, capsys):
    files = len(list(log.parent.glob("audit.jsonl*"))) - 2  # not the head, not the lock

    assert main(["verify", str(log.parent)]) == 0
    assert capsys.readouterr().out == f"OK: 6 records in {files} files\n"


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
