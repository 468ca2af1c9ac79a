"""The audit log: sinks for audit records, the hash chain of the file sink, its verification, redaction.

What goes into a record is decided at the RPC boundary (`connfacade.server.api`);
this package only writes records, durably and tamper-evidently, and checks them.
"""

from connfacade.server.audit._file import FileSink, FsyncPolicy
from connfacade.server.audit._intents import (
    COMPLETION,
    INTENT,
    INTENT_ID,
    OUTCOME,
    STAGE,
    LogScan,
    checkpoint_record,
    record_time,
    scan_log,
)
from connfacade.server.audit._redact import REDACTED, redact
from connfacade.server.audit._sink import AuditSink, AuditSinkError
from connfacade.server.audit._stdout import StdoutSink
from connfacade.server.audit._verify import VerifyResult, verify

__all__ = [
    "COMPLETION",
    "INTENT",
    "INTENT_ID",
    "OUTCOME",
    "REDACTED",
    "STAGE",
    "AuditSink",
    "AuditSinkError",
    "FileSink",
    "FsyncPolicy",
    "LogScan",
    "StdoutSink",
    "VerifyResult",
    "checkpoint_record",
    "record_time",
    "redact",
    "scan_log",
    "verify",
]
