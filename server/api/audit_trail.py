"""Audit records of RPCs: who did what, from where, and what AWS answered.

After AWS CloudTrail's record (and its levels after Kubernetes' audit policy).
A mutation that is sent to AWS leaves an *intent*, durable before the AWS call
(no intent, no call), and a *completion* linked to it, written before the
response; any other call (a mutation refused before AWS, a replayed answer, a
read at a level other than none) leaves one *outcome* record. The sinks
(stdout, the hash-chained file) live in `connfacade.server.audit`; this module
decides what goes in a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from connfacade.client import policy
from connfacade.server.audit import (
    COMPLETION,
    INTENT,
    INTENT_ID,
    OUTCOME,
    STAGE,
    AuditSinkError,
    FileSink,
    redact,
)
from connfacade.server.domain import AuditUnavailable
from connfacade.server.operations.idempotency import IDEMPOTENT_OPERATIONS, fingerprint, idempotency_key

if TYPE_CHECKING:
    from collections.abc import Collection, Coroutine, Mapping, Sequence
    from pathlib import Path

    import grpc

    from connfacade.server.audit import AuditSink
    from connfacade.server.domain import Service
    from connfacade.server.metrics import Metrics

log = structlog.get_logger("connfacade.audit")

EVENT_VERSION = "1.0"
MUTATIONS = policy.MUTATIONS  # always recorded, written ahead (connfacade.client.policy)
SOURCES = {"apprunner": "apprunner.amazonaws.com", "codestar": "codestar-connections.amazonaws.com"}
WORKLOAD_KEY = "x-connfacade-workload"
NOT_SENT = "NotSent"
"""AWS outcome of a mutation whose caller went away once its intent was written, before AWS was called."""
CLOSE_WAIT = 10.0  # seconds aclose waits for completions that wait for AWS's answer
MAX_UNKNOWN_CALLER_TEXT = 128  # characters of a caller's own text kept on the record of an unknown caller


def _reason(err: AuditSinkError) -> str:
    """What the caller may learn of a sink failure: the OS's words, not the file's path."""
    cause = err.__cause__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return "the audit sink failed"


class Level(enum.Enum):
    """How much of a call a record holds (Kubernetes' audit levels)."""

    NONE = "none"
    METADATA = "metadata"  # who, what, when, outcome
    REQUEST = "request"  # and the request parameters
    REQUEST_RESPONSE = "request_response"  # and the response elements


class Auditor:
    """Writes records to every sink; mutations fail closed when a sink cannot write.

    ``write_ahead=False`` writes no intents (one record per call, after AWS
    answered): only for measuring what the intent costs (bench/audit.py).
    """

    def __init__(
        self,
        sinks: Sequence[AuditSink],
        *,
        read_level: Level = Level.NONE,
        method_levels: Mapping[str, Level] | None = None,
        redact_fields: Collection[str] = (),
        fail_open_reads: bool = False,
        metrics: Metrics | None = None,
        write_ahead: bool = True,
    ) -> None:
        self._sinks = list(sinks)
        self._read_level = read_level
        self._method_levels = dict(method_levels or {})
        self._redact_fields = tuple(redact_fields)
        self.fail_open_reads = fail_open_reads
        self._metrics = metrics
        self.write_ahead = write_ahead
        self._unwritten: list[dict[str, Any]] = []  # completions a failing sink refused: written first, later
        self._deferred: set[asyncio.Task[None]] = set()  # completions waiting for AWS's answer

    @property
    def log_path(self) -> Path | None:
        """The live file of the hash-chained log, if a file sink is configured (start-up reads it)."""
        for sink in self._sinks:
            if isinstance(sink, FileSink):
                return sink.path
        return None

    @property
    def metrics(self) -> Metrics | None:
        """Where the audit's counters go (None: nowhere)."""
        return self._metrics

    def audits(self, event_name: str) -> bool:
        """Whether calls of this method produce a record at all (reads at level none do not)."""
        return self.level(event_name) is not Level.NONE

    def level(self, event_name: str) -> Level:
        """The level of a method: mutations always carry request and response."""
        if event_name in MUTATIONS:
            return Level.REQUEST_RESPONSE
        return self._method_levels.get(event_name, self._read_level)

    async def write(self, record: dict[str, Any]) -> None:
        """Writes ``record`` to every sink, durably per their policies; raises AuditSinkError.

        Completions a failing sink refused earlier are written first, so that
        nothing (an intent above all) is written while they are not.
        """
        await self._flush()
        await self._write(record)

    async def _flush(self) -> None:
        while self._unwritten:
            await self._write(self._unwritten[0])
            self._unwritten.pop(0)

    async def write_completion(self, record: dict[str, Any]) -> None:
        """Writes a completion; if a sink refuses it, it is kept and written before the next record."""
        try:
            await self.write(record)
        except AuditSinkError:
            self._unwritten.append(record)
            raise

    def defer(self, completion: Coroutine[Any, Any, None]) -> None:
        """Runs a completion that waits for AWS's answer after its caller was answered; `aclose` awaits it."""
        task = asyncio.get_running_loop().create_task(completion)
        self._deferred.add(task)
        task.add_done_callback(self._deferred.discard)

    async def _write(self, record: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            for sink in self._sinks:
                await sink.write(record)
        except AuditSinkError:
            self._observe(record, "sink_error", started)
            raise
        except OSError as err:
            self._observe(record, "sink_error", started)
            raise AuditSinkError(str(err)) from err
        self._observe(record, "error" if record.get("errorCode") else "ok", started)

    def _observe(self, record: Mapping[str, Any], outcome: str, started: float) -> None:
        if self._metrics is None:
            return
        self._metrics.audit_records.labels(outcome).inc()
        self._metrics.audit_write_latency.observe(time.perf_counter() - started)
        if outcome == "sink_error":
            self._metrics.audit_sink_errors.inc()

    async def aclose(self, wait: float = CLOSE_WAIT) -> None:
        """Writes the completions waiting for AWS (up to ``wait`` s) or refused earlier; closes the sinks.

        A completion not written by then is left to the next start's recovery.
        """
        if self._deferred:
            _, late = await asyncio.wait(set(self._deferred), timeout=wait)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        with contextlib.suppress(AuditSinkError):
            await self._flush()
        if self._unwritten:
            log.error("audit.completions_unwritten", count=len(self._unwritten))
        for sink in self._sinks:
            await sink.aclose()

    def fingerprint(self, service: Service, operation: str, params: Mapping[str, Any]) -> str:
        """What an intent records of its parameters for idempotency: a hash of them, redacted per policy.

        Redacted first, so that the hash tells no more than the record does.
        """
        return fingerprint(service, operation, redact(dict(params), fields=self._redact_fields))

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
    record["eventTime"] = _now()
    record["durationMs"] = round((time.perf_counter() - started) * 1000, 3)
    record["statusCode"] = code
    if code != "OK":
        record["errorCode"] = aws_code or code
        record["errorMessage"] = error_message
    if aws_request_id:
        record["awsRequestID"] = aws_request_id
    return record


def recovered_completion(intent: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, Any]:
    """The completion a restarted server writes for an intent whose process died before completing it.

    ``statusCode`` is null: what the caller saw (if it saw anything) is not known.
    """
    record = {key: intent[key] for key in _COMPLETION_COPIES if key in intent}
    record |= {
        "eventID": str(uuid.uuid4()),
        "eventTime": _now(),
        STAGE: COMPLETION,
        INTENT_ID: intent.get("eventID"),
        "statusCode": None,
        "recovered": dict(found),
    }
    if isinstance(arn := found.get("arn"), str) and arn:
        record["resources"] = [{"ARN": arn}]
    return record


# What a completion repeats of its intent (it leaves out the parameters: they are in the intent).
_COMPLETION_COPIES = (
    "eventVersion",
    "eventSource",
    "eventName",
    "method",
    "readOnly",
    "level",
    "userIdentity",
    "requestID",
    "startTime",
)


def _now() -> str:
    return datetime.now(tz=UTC).isoformat()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the caller gets (or got): its status, and the answer or error."""

    code: str
    response: Any
    error_message: str
    aws_code: str
    aws_request_id: str


class CallAudit:
    """The audit of one call: an intent before its AWS mutation, then one completion or outcome record."""

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
        self._intent_id = ""  # the intent's eventID, once its write began
        self._intent_write: asyncio.Future[None] | None = None
        self._aws_done = asyncio.Event()  # the AWS call the intent announced has ended
        self._aws_request_id = ""
        self._aws_outcome = ""
        self._created = ""
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

    def write_ahead(self) -> CallAudit | None:
        """What the layer before AWS writes the call's intent to: this audit for a mutation, else None."""
        return self if self.mutation else None

    def identify(self, principal: str) -> None:
        """Records the principal authentication found (the only source of ``userIdentity.principal``)."""
        if self.record is not None:
            self.record["userIdentity"]["principal"] = principal

    def undecodable(self, size: int) -> None:
        """Records that the request's bytes were no request message: their size, never their content."""
        if self.record is not None:
            self.record["additionalEventData"] = {"undecodableRequestBytes": size}

    async def intent(self, service: Service, operation: str, params: Mapping[str, Any]) -> None:
        """Writes the intent, durable per the sinks' policies, before AWS is called (`WriteAhead`).

        The write is the probe of the log's health: if it fails, AWS must not
        be called, and `AuditUnavailable` says why. A caller that goes away
        meanwhile waits for the write to end, so that an intent on disk is
        always known here and gets its completion.
        """
        if self.record is None or not self.auditor.write_ahead:
            return
        if self._intent_write is not None:
            raise RuntimeError(f"a second AWS mutation ({operation}) in one call: one intent per call")
        intent = {**self.record, "eventID": str(uuid.uuid4()), "eventTime": _now(), STAGE: INTENT}
        if operation in IDEMPOTENT_OPERATIONS and (key := idempotency_key()) is not None:
            # What a restarted server needs to answer a retry of this call without calling AWS again.
            intent["idempotencyKey"] = key
            intent["requestFingerprint"] = self.auditor.fingerprint(service, operation, params)
        self._intent_id = intent["eventID"]
        write = self._intent_write = asyncio.ensure_future(self.auditor.write(intent))
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            await asyncio.wait([write])
            if self._intent_written():
                self.answered("", NOT_SENT)
            raise
        except AuditSinkError as err:
            log.error("audit.intent_unwritten", error=str(err), operation=operation)  # noqa: TRY400
            raise AuditUnavailable(_reason(err)) from err

    def answered(self, aws_request_id: str, outcome: str, resource_arn: str = "") -> None:
        """Notes how the AWS call the intent announced ended (`callcontext.WriteAhead`)."""
        self._aws_request_id = aws_request_id
        self._aws_outcome = outcome
        self._created = resource_arn
        self._aws_done.set()

    def _intent_written(self) -> bool:
        write = self._intent_write
        return write is not None and write.done() and not write.cancelled() and write.exception() is None

    async def finish(
        self,
        *,
        code: str,
        response: Any = None,
        error_message: str = "",
        aws_code: str = "",
        aws_request_id: str = "",
    ) -> None:
        """Writes the call's completion (or outcome); raises AuditSinkError if it could not be written.

        ``code`` is the status the caller gets (or got). A caller answered
        while its intent is being written or AWS still works on its mutation
        (its deadline passed, it cancelled) gets its completion once AWS
        answers, so that the completion names AWS's request id and outcome.
        """
        if self.record is None:
            return
        outcome = _Outcome(code, response, error_message, aws_code, aws_request_id)
        write = self._intent_write
        aws_working = self._intent_written() and not self._aws_done.is_set()
        if write is not None and (not write.done() or aws_working):
            self.auditor.defer(self._finish_when_settled(outcome))
            return
        await self._write_final(outcome)

    async def _finish_when_settled(self, outcome: _Outcome) -> None:
        if self._intent_write is not None:
            await asyncio.wait([self._intent_write])
        if self._intent_written():
            try:
                await self._aws_done.wait()
            except asyncio.CancelledError:
                log.warning("audit.completion_unwritten", intent=self._intent_id, reason="AWS never answered")
                raise
        try:
            await self._write_final(outcome)
        except AuditSinkError as err:
            log.error("audit.write_failed", error=str(err))  # noqa: TRY400 - no traceback needed

    async def _write_final(self, outcome: _Outcome) -> None:
        assert self.record is not None  # noqa: S101 - finish() returned early otherwise
        if not self._intent_written():
            record = self.record
            record[STAGE] = OUTCOME
            self._fill(record, outcome)
            await self.auditor.write(record)
            return
        record = {key: self.record[key] for key in _COMPLETION_COPIES if key in self.record}
        record |= {"eventID": str(uuid.uuid4()), STAGE: COMPLETION, INTENT_ID: self._intent_id}
        self._fill(record, outcome)
        await self.auditor.write_completion(record)

    def _fill(self, record: dict[str, Any], outcome: _Outcome) -> None:
        complete(
            record,
            started=self._started,
            code=outcome.code,
            error_message=outcome.error_message,
            aws_code=outcome.aws_code,
            aws_request_id=self._aws_request_id or outcome.aws_request_id,
        )
        if self._intent_written():
            record["awsOutcome"] = self._aws_outcome
            if self._created:  # also when the caller gave up first: what a restart needs to answer a retry
                record["resources"] = [{"ARN": self._created}]
        if self.level is Level.REQUEST_RESPONSE and outcome.code == "OK":
            record["responseElements"] = self.auditor.params(outcome.response)

    @property
    def must_succeed(self) -> bool:
        """Whether a failed write must fail the call (mutations always; reads unless fail-open)."""
        return self.mutation or not self.auditor.fail_open_reads
