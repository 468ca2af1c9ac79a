"""Audit records of RPCs: who did what, from where, and what AWS answered.

After AWS CloudTrail's record (and its levels after Kubernetes' audit policy):
every mutating RPC produces exactly one record, success or failure, written
before the response; reads are recorded at the level the policy gives their
method. The sinks (stdout, the hash-chained file) live in
`connfacade.server.audit`; this module decides what goes in a record.
"""

from __future__ import annotations

import enum
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from connfacade.server.audit import AuditSinkError, redact
from connfacade.server.domain import Unavailable

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    import grpc

    from connfacade.server.audit import AuditSink
    from connfacade.server.metrics import Metrics

EVENT_VERSION = "1.0"
MUTATIONS = frozenset(
    {
        "CreateConnection",
        "DeleteConnection",
        "TagResource",
        "UntagResource",
        "CreateHost",
        "DeleteHost",
        "UpdateHost",
    }
)
SOURCES = {"apprunner": "apprunner.amazonaws.com", "codestar": "codestar-connections.amazonaws.com"}
WORKLOAD_KEY = "x-connfacade-workload"
MAX_UNKNOWN_CALLER_TEXT = 128  # characters of a caller's own text kept on the record of an unknown caller


class AuditUnavailable(Unavailable):
    """The audit log cannot be written: mutations are refused (fail closed)."""

    def __init__(self) -> None:
        super().__init__(
            "the audit log cannot be written, so no change is accepted until it can; retry later",
            aws_code="AuditUnavailable",
        )


class Level(enum.Enum):
    """How much of a call a record holds (Kubernetes' audit levels)."""

    NONE = "none"
    METADATA = "metadata"  # who, what, when, outcome
    REQUEST = "request"  # and the request parameters
    REQUEST_RESPONSE = "request_response"  # and the response elements


class Auditor:
    """Writes records to every sink; mutations fail closed when a sink cannot write."""

    def __init__(
        self,
        sinks: Sequence[AuditSink],
        *,
        read_level: Level = Level.NONE,
        method_levels: Mapping[str, Level] | None = None,
        redact_fields: Collection[str] = (),
        fail_open_reads: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        self._sinks = list(sinks)
        self._read_level = read_level
        self._method_levels = dict(method_levels or {})
        self._redact_fields = tuple(redact_fields)
        self.fail_open_reads = fail_open_reads
        self._metrics = metrics
        self.failing = False  # the last write failed: mutations are refused until a write succeeds

    def audits(self, event_name: str) -> bool:
        """Whether calls of this method produce a record at all (reads at level none do not)."""
        return self.level(event_name) is not Level.NONE

    def level(self, event_name: str) -> Level:
        """The level of a method: mutations always carry request and response."""
        if event_name in MUTATIONS:
            return Level.REQUEST_RESPONSE
        return self._method_levels.get(event_name, self._read_level)

    async def write(self, record: dict[str, Any]) -> None:
        """Writes ``record`` to every sink, durably per their policies; raises AuditSinkError."""
        started = time.perf_counter()
        try:
            for sink in self._sinks:
                await sink.write(record)
        except AuditSinkError:
            self.failing = True
            self._observe(record, "sink_error", started)
            raise
        except OSError as err:
            self.failing = True
            self._observe(record, "sink_error", started)
            raise AuditSinkError(str(err)) from err
        self.failing = False
        self._observe(record, "error" if record.get("errorCode") else "ok", started)

    def _observe(self, record: Mapping[str, Any], outcome: str, started: float) -> None:
        if self._metrics is None:
            return
        self._metrics.audit_records.labels(outcome).inc()
        self._metrics.audit_write_latency.observe(time.perf_counter() - started)
        if outcome == "sink_error":
            self._metrics.audit_sink_errors.inc()

    async def writable(self) -> bool:
        """Whether records can be written; after a failure, probes the sinks (reopening them) first."""
        if not self.failing:
            return True
        try:
            for sink in self._sinks:
                probe = getattr(sink, "open", None)
                if probe is not None:
                    await probe()
        except (AuditSinkError, OSError):
            return False
        self.failing = False
        return True

    async def aclose(self) -> None:
        """Flushes and closes every sink."""
        for sink in self._sinks:
            await sink.aclose()

    def params(self, message: Any) -> dict[str, Any] | None:
        """A proto message as redacted JSON-ready parameters."""
        if not isinstance(message, Message):
            return None
        return redact(MessageToDict(message, preserving_proto_field_name=True), fields=self._redact_fields)


def caller_identity(
    context: grpc.aio.ServicerContext[Any, Any], metadata: Mapping[str, str], principal: str | None = None
) -> dict[str, Any]:
    """Who called: authenticated principal, TLS peer subject, peer address, user agent, declared workload.

    The principal comes only from authentication (never from what a caller
    says); without authentication configured it is null.
    """
    auth = context.auth_context() or {}
    subjects = [
        v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        for v in auth.get("x509_subject", ()) or auth.get("x509_common_name", ())
    ]
    identity: dict[str, Any] = {
        "principal": principal,
        "tlsSubject": subjects[0] if subjects else None,
        "peerAddress": context.peer(),
        "userAgent": metadata.get("user-agent"),
    }
    if workload := metadata.get(WORKLOAD_KEY):
        identity["workload"] = {"name": workload[:128], "declared": True}  # the caller's word, not verified
    return identity


def new_record(
    *, method: str, level: Level, request_id: str, identity: dict[str, Any], started_at: float
) -> dict[str, Any]:
    """The fields every record has, whatever its level."""
    area, _, event_name = method.partition(".")
    return {
        "eventVersion": EVENT_VERSION,
        "eventID": str(uuid.uuid4()),
        "eventTime": None,  # set at completion
        "eventSource": SOURCES.get(area, area),
        "eventName": event_name,
        "method": method,
        "readOnly": event_name not in MUTATIONS,
        "level": level.value,
        "userIdentity": identity,
        "requestID": request_id,
        "startTime": datetime.fromtimestamp(started_at, tz=UTC).isoformat(),
    }


def complete(
    record: dict[str, Any],
    *,
    started: float,
    code: str,
    error_message: str = "",
    aws_code: str = "",
    aws_request_id: str = "",
) -> dict[str, Any]:
    """Adds the outcome: time, duration, error, AWS request id."""
    record["eventTime"] = datetime.now(tz=UTC).isoformat()
    record["durationMs"] = round((time.perf_counter() - started) * 1000, 3)
    record["statusCode"] = code
    if code != "OK":
        record["errorCode"] = aws_code or code
        record["errorMessage"] = error_message
    if aws_request_id:
        record["awsRequestID"] = aws_request_id
    return record


class CallAudit:
    """The audit record of one call, from its start to its one write."""

    def __init__(
        self,
        auditor: Auditor,
        *,
        method: str,
        context: grpc.aio.ServicerContext[Any, Any],
        metadata: Mapping[str, str],
        request_id: str,
        started: float,
    ) -> None:
        self.auditor = auditor
        self.event_name = method.partition(".")[2]
        self.level = auditor.level(self.event_name)
        self.mutation = self.event_name in MUTATIONS
        self._started = started
        self.record: dict[str, Any] | None = None
        if self.level is Level.NONE:
            return
        self.record = new_record(
            method=method,
            level=self.level,
            request_id=request_id,
            identity=caller_identity(context, metadata),
            started_at=time.time(),
        )

    def parameters(self, request: Any) -> None:
        """Records the request's parameters at the levels that hold them; only once the caller is known."""
        if self.record is not None and self.level in {Level.REQUEST, Level.REQUEST_RESPONSE}:
            self.record["requestParameters"] = self.auditor.params(request)

    def unknown_caller(self, *, request_bytes: int, metadata_bytes: int, unrecorded: int = 0) -> None:
        """Keeps the record of a call refused before its caller was known compact: sizes, never contents.

        Whoever has no credentials must not fill the log with what they send:
        the method, the peer, the request id and the sizes show a flood for
        what it is. ``unrecorded`` counts the peer's refusals since its
        previous record that have no record of their own.
        """
        if self.record is None:
            return
        identity = self.record["userIdentity"]
        if user_agent := identity.get("userAgent"):
            identity["userAgent"] = user_agent[:MAX_UNKNOWN_CALLER_TEXT]  # the caller's own text
        if self.level in {Level.REQUEST, Level.REQUEST_RESPONSE}:
            self.record["requestParameters"] = None
        extra = {"requestBytes": request_bytes, "metadataBytes": metadata_bytes}
        if unrecorded:
            extra["refusedUnrecorded"] = unrecorded
        self.record["additionalEventData"] = extra

    def identify(self, principal: str) -> None:
        """Records the principal authentication found (the only source of ``userIdentity.principal``)."""
        if self.record is not None:
            self.record["userIdentity"]["principal"] = principal

    def undecodable(self, size: int) -> None:
        """Records that the request's bytes were no request message: their size, never their content."""
        if self.record is not None:
            self.record["additionalEventData"] = {"undecodableRequestBytes": size}

    async def refused(self) -> bool:
        """A mutation must not start while its record cannot be written."""
        return self.mutation and not await self.auditor.writable()

    async def finish(
        self,
        *,
        code: str,
        response: Any = None,
        error_message: str = "",
        aws_code: str = "",
        aws_request_id: str = "",
    ) -> None:
        """Completes and writes the record; raises AuditSinkError if it could not be written."""
        if self.record is None:
            return
        complete(
            self.record,
            started=self._started,
            code=code,
            error_message=error_message,
            aws_code=aws_code,
            aws_request_id=aws_request_id,
        )
        if self.level is Level.REQUEST_RESPONSE and code == "OK":
            self.record["responseElements"] = self.auditor.params(response)
        await self.auditor.write(self.record)

    @property
    def must_succeed(self) -> bool:
        """Whether a failed write must fail the call (mutations always; reads unless fail-open)."""
        return self.mutation or not self.auditor.fail_open_reads
