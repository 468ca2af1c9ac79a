"""StdoutSink: one JSON line per record through structlog, marked as audit, flushed."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from connfacade.server.audit import REDACTED, AuditSinkError, StdoutSink


@pytest.fixture(autouse=True)
def _reset_structlog():
    """The sink must not depend on, or change, the process's structlog set-up."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


class FlushCounter(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


async def test_each_record_is_one_json_line_marked_audit_and_flushed():
    stream = FlushCounter()
    sink = StdoutSink(stream)
    await sink.write({"eventName": "CreateConnection", "requestParameters": {"connection_name": "c"}})
    await sink.write({"eventName": "DeleteConnection"})

    out = stream.getvalue().splitlines()
    assert len(out) == 2
    assert out[0].startswith('{"audit": true, ')
    assert json.loads(out[0]) == {
        "audit": True,
        "eventName": "CreateConnection",
        "requestParameters": {"connection_name": "c"},
    }
    assert stream.flushes >= 2


async def test_by_default_records_go_to_stdout(capsys):
    await StdoutSink().write({"eventName": "TagResource"})

    assert json.loads(capsys.readouterr().out) == {"audit": True, "eventName": "TagResource"}


async def test_the_process_logging_set_up_does_not_change_audit_lines():
    """Level filtering and console rendering are for application logs, not for audit records."""
    structlog.configure(
        processors=[structlog.dev.ConsoleRenderer(colors=False)],
        wrapper_class=structlog.make_filtering_bound_logger(50),
    )
    stream = io.StringIO()
    await StdoutSink(stream).write({"eventName": "X"})

    assert json.loads(stream.getvalue()) == {"audit": True, "eventName": "X"}


async def test_any_field_name_is_carried_and_the_marker_cannot_be_overwritten():
    """Fields named like the logger's own arguments (event, method_name) are just fields."""
    stream = io.StringIO()
    await StdoutSink(stream).write({"event": "e", "method_name": "m", "audit": False})

    assert json.loads(stream.getvalue()) == {"audit": True, "event": "e", "method_name": "m"}


async def test_secrets_are_redacted():
    stream = io.StringIO()
    await StdoutSink(stream).write({"headers": {"authorization": "Bearer t"}, "resume_token": "r"})

    assert json.loads(stream.getvalue()) == {
        "audit": True,
        "headers": {"authorization": REDACTED},
        "resume_token": "r",
    }


async def test_a_stream_that_cannot_be_written_fails_the_write():
    """Fail closed: a closed stdout raises AuditSinkError, and observe sees the failure."""
    stream = io.StringIO()
    seen = []
    sink = StdoutSink(stream, observe=lambda _seconds, ok: seen.append(ok))
    await sink.write({"n": 1})
    stream.close()
    with pytest.raises(AuditSinkError, match="stdout audit sink"):
        await sink.write({"n": 2})
    assert seen == [True, False]


async def test_writes_after_close_fail():
    sink = StdoutSink(io.StringIO())
    await sink.aclose()
    with pytest.raises(AuditSinkError, match="closed"):
        await sink.write({})
