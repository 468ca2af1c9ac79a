"""What a restarted server does with its audit log before it serves.

1. Intents without a completion (the last process died between the two) are
   closed: AWS is asked what the mutation did (`operations.recovery`), and a
   completion saying ``recovered``, with what was found, is written. Each is
   logged (``audit.intent_recovered``) and counted
   (``connfacade_audit_recovered_intents_total``).
2. When every intent has its completion, a checkpoint record says so: the next
   start reads the log back to there, and no further.
3. The idempotency memory is rebuilt from the intents and completions of the
   window, so that a retry after the restart gets the first answer instead of
   a second AWS create.

An intent AWS cannot be asked about now stays open (logged, counted as
``unreachable``): no checkpoint is written, the next start tries again, and a
retry of it meanwhile is refused rather than sent to AWS a second time.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from connfacade.server.api.audit_trail import recovered_completion
from connfacade.server.audit import AuditSinkError, checkpoint_record, record_time, scan_log
from connfacade.server.domain import DomainError, arn_key
from connfacade.server.operations.recovery import APPLIED, NOT_APPLIED, Finding, Recovery

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.backend import AwsBackend
    from connfacade.server.operations.idempotency import IdempotencyCache

log = structlog.get_logger("connfacade.audit")

UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Resumed:
    """What start-up found in the audit log and did about it."""

    records_read: int
    recovered: int
    """Open intents closed with a ``recovered`` completion."""
    unresolved: int
    """Open intents AWS could not be asked about: still open."""
    restored: int
    """Request ids whose first answer the idempotency memory holds again."""


async def resume_from_audit_log(
    auditor: Auditor, backend: AwsBackend, idempotency: IdempotencyCache
) -> Resumed | None:
    """Recovers open intents, writes the checkpoint, rebuilds the idempotency memory (None: no audit file)."""
    path = auditor.log_path
    if path is None:
        return None
    idempotency.record_fingerprint = auditor.fingerprint
    since = time.time() - max(idempotency.window, 0)
    scan = await asyncio.to_thread(scan_log, path, since)
    claimed = {arn_key(arn) for _, completion in scan.completed if (arn := _made(completion))}
    recovery = Recovery(backend)
    pairs = list(scan.completed)
    still_open: list[dict[str, Any]] = []
    for intent in reversed(scan.unresolved):  # oldest first
        # Once AWS could not be asked, the rest wait for the next start rather than hold this one up.
        finding = None if still_open else await _ask(recovery, intent, claimed)
        if finding is None:
            still_open.append(intent)
            _count(auditor, UNREACHABLE)
            continue
        completion = recovered_completion(intent, finding.as_record())
        try:
            await auditor.write(completion)
        except AuditSinkError as err:
            log.error("audit.recovery_unwritten", intent=intent.get("eventID"), error=str(err))  # noqa: TRY400
            still_open.append(intent)
            continue
        log.warning(
            "audit.intent_recovered",
            intent=intent.get("eventID"),
            method=intent.get("method"),
            request_id=intent.get("requestID"),
            result=finding.result,
            arn=finding.arn,
            found=finding.found,
        )
        _count(auditor, finding.result)
        pairs.append((intent, completion))
        if finding.arn:
            claimed.add(arn_key(finding.arn))
    if not still_open:
        now = datetime.now(tz=UTC).isoformat()
        await auditor.write(checkpoint_record(now, len(scan.unresolved)))
    restored = sum(_restore(idempotency, intent, completion) for intent, completion in pairs)
    restored += sum(_restore(idempotency, intent, None) for intent in still_open)
    resumed = Resumed(scan.records, len(scan.unresolved) - len(still_open), len(still_open), restored)
    log.info(
        "audit.resumed",
        records_read=resumed.records_read,
        recovered=resumed.recovered,
        unresolved=resumed.unresolved,
        request_ids_restored=resumed.restored,
    )
    return resumed


async def _ask(recovery: Recovery, intent: Mapping[str, Any], claimed: set[str]) -> Finding | None:
    try:
        return await recovery.what_happened(intent, claimed)
    except DomainError as err:
        log.warning(
            "audit.intent_unrecovered",
            intent=intent.get("eventID"),
            method=intent.get("method"),
            request_id=intent.get("requestID"),
            error=err.message,
        )
        return None


def _count(auditor: Auditor, result: str) -> None:
    if (metrics := auditor.metrics) is not None:
        metrics.audit_recovered_intents.labels(result).inc()


def _made(completion: Mapping[str, Any]) -> str:
    """The ARN a completion names as made by its mutation ("" if none)."""
    resources = completion.get("resources")
    if isinstance(resources, list) and resources and isinstance(resources[0], dict):
        arn = resources[0].get("ARN")
        if isinstance(arn, str):
            return arn
    return ""


def _restore(
    idempotency: IdempotencyCache, intent: Mapping[str, Any], completion: Mapping[str, Any] | None
) -> bool:
    """Gives the idempotency memory one recorded first answer; False if there is none to give.

    A mutation AWS refused, or one whose answer never came, is not
    remembered (as in a running server, a retry of a failure really retries).
    """
    key, print_ = intent.get("idempotencyKey"), intent.get("requestFingerprint")
    started = record_time(dict(intent))
    if not isinstance(key, str) or not isinstance(print_, str) or started is None:
        return False
    age = max(time.time() - started, 0.0)
    if completion is None:
        idempotency.restore(key, fingerprint=print_, age=age, settled=False)
        return True
    recovered = completion.get("recovered")
    if isinstance(recovered, dict):
        result = recovered.get("result")
        if result == NOT_APPLIED:
            return False
        idempotency.restore(
            key, fingerprint=print_, age=age, arn=_made(completion), settled=result == APPLIED
        )
        return True
    if completion.get("statusCode") == "OK" or completion.get("awsOutcome") == "OK":
        idempotency.restore(key, fingerprint=print_, age=age, arn=_made(completion))
        return True
    return False
