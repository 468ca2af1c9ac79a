"""The completion says what the caller saw and what AWS did, also when the caller stopped waiting first."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.audit import FileSink, verify


def create_request(name):
    return ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)


async def records_until(audit_records, enough):
    async with asyncio.timeout(20):
        while not enough(found := audit_records()):
            await asyncio.sleep(0.02)
    return found


def finals(found):
    return [r for r in found if r["stage"] != "intent"]


async def test_a_create_past_its_deadline_records_awss_request_id_once_aws_answers(
    apprunner, audit_records, control
):
    """Deadline first, AWS later: the completion says DEADLINE_EXCEEDED, AWS's request id, OK, the ARN."""
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=1500, count=1)
    request_id = (("x-request-id", str(uuid.uuid4())),)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(create_request("slow-aws"), metadata=request_id, timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    intent, completion = await records_until(audit_records, lambda found: len(found) == 2)
    assert completion["intentID"] == intent["eventID"]
    assert completion["statusCode"] == "DEADLINE_EXCEEDED"  # what the caller saw
    assert completion["awsOutcome"] == "OK"  # what AWS did
    assert (
        completion["awsRequestID"] == (await control.requests(operation="CreateConnection"))[0]["RequestId"]
    )
    assert completion["resources"][0]["ARN"].startswith("arn:aws:apprunner:")


async def test_a_retry_joining_a_running_create_records_awss_request_id(apprunner, audit_records, control):
    """The retry that joins the still-running first call is recorded OK with that call's AWS request id."""
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=1500, count=1)
    request_id = (("x-request-id", str(uuid.uuid4())),)
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.CreateConnection(create_request("joined"), metadata=request_id, timeout=0.5)
    answer = await apprunner.CreateConnection(create_request("joined"), metadata=request_id, timeout=20)

    first, retry = sorted(
        finals(await records_until(audit_records, lambda found: len(finals(found)) == 2)),
        key=lambda r: r["stage"],  # completion, then outcome
    )
    assert (retry["stage"], retry["statusCode"]) == ("outcome", "OK")  # it sent nothing to AWS itself
    assert retry["awsRequestID"] == first["awsRequestID"] != ""
    assert retry["responseElements"]["connection"]["connection_arn"] == answer.connection.connection_arn


class TestSlowIntent:
    """The disk is slow: the intent's fsync outlasts the caller's deadline."""

    @pytest.fixture
    async def auditor(self, audit_path):
        self.slow = False

        def disk(fd):
            if self.slow:
                time.sleep(1.0)  # in the sink's worker thread, as a slow disk's fsync would be
            os.fsync(fd)

        sink = FileSink(audit_path, fsync="always", fsync_fn=disk)
        await sink.open()
        auditor = Auditor([sink])
        yield auditor
        await auditor.aclose()

    async def test_a_call_cut_off_by_its_deadline_is_recorded_deadline_exceeded_not_cancelled(
        self, apprunner, audit_records, control
    ):
        """gRPC cancels the handler at the deadline: the caller saw DEADLINE_EXCEEDED; so says the record."""
        created = await apprunner.CreateConnection(create_request("tag-me"))
        await control.clear_requests()
        self.slow = True
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await apprunner.TagResource(
                ar.TagResourceRequest(
                    resource_arn=created.connection.connection_arn, tags=[ar.Tag(key="k", value="v")]
                ),
                timeout=0.4,
            )
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

        found = await records_until(audit_records, lambda found: len(found) == 4)
        intent, completion = found[2:]
        assert (intent["eventName"], completion["intentID"]) == ("TagResource", intent["eventID"])
        assert completion["statusCode"] == "DEADLINE_EXCEEDED"
        assert completion["awsOutcome"] == "NotSent"  # its intent was written, AWS was never called
        assert await control.requests(operation="TagResource") == []


class TestCompletionRefused:
    """The disk fails between a mutation's intent and its completion."""

    @pytest.fixture
    async def auditor(self, audit_path):
        self.fsyncs, self.failing = 0, set()

        def disk(fd):
            self.fsyncs += 1
            if self.fsyncs in self.failing:
                raise OSError(5, "Input/output error")
            os.fsync(fd)

        sink = FileSink(audit_path, fsync="always", fsync_fn=disk)
        await sink.open()
        auditor = Auditor([sink])
        yield auditor
        await auditor.aclose()

    async def test_a_refused_completion_is_written_once_before_anything_else(
        self, apprunner, audit_records, audit_path
    ):
        """AWS acted, the completion's fsync failed: UNAVAILABLE; it is made durable once, before the rest."""
        self.failing = {self.fsyncs + 2}  # the intent's fsync, then the completion's
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await apprunner.CreateConnection(create_request("completion-refused"))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "the audit log cannot be written" in caught.value.details()

        await apprunner.CreateConnection(create_request("after-the-disk-came-back"))
        found = audit_records()
        intents = [r["eventID"] for r in found if r["stage"] == "intent"]
        assert [(r["stage"], r.get("intentID")) for r in found] == [
            ("intent", None),
            ("completion", intents[0]),  # appended before the failed fsync, not a second time
            ("intent", None),
            ("completion", intents[1]),
        ]
        assert verify([audit_path]).findings == ()
