"""Write-ahead audit: an intent before AWS, one completion before the answer; reads by level; fail closed."""

from __future__ import annotations

import asyncio
import os
import uuid

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.api.audit_trail import Auditor, Level
from connfacade.server.audit import FileSink, verify


def create_request(name):
    return ar.CreateConnectionRequest(
        connection_name=name,
        provider_type=ar.PROVIDER_TYPE_GITHUB,
        tags=[ar.Tag(key="team", value="secret-team")],
    )


def completions(found):
    return [r for r in found if r["stage"] == "completion"]


async def test_concurrent_mutations_each_get_an_intent_and_exactly_one_completion(apprunner, audit_records):
    """N concurrent creates (some failing in AWS) give N intents and N completions, each linked to its own."""
    names = [f"conn-{i:02d}" for i in range(20)] + ["conn-00"]  # one duplicate name fails in AWS
    results = await asyncio.gather(
        *(apprunner.CreateConnection(create_request(n)) for n in names), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(failures) == 1
    found = audit_records()
    intents = [r for r in found if r["stage"] == "intent"]
    done = completions(found)
    assert (len(intents), len(done)) == (len(names), len(names))
    assert len({r["eventID"] for r in found}) == 2 * len(names)
    assert sorted(r["intentID"] for r in done) == sorted(r["eventID"] for r in intents)
    assert sorted(r["statusCode"] for r in done) == sorted(["INVALID_ARGUMENT"] + ["OK"] * 20)
    ok = next(r for r in done if r["statusCode"] == "OK")
    assert ok["eventName"] == "CreateConnection"
    assert ok["eventSource"] == "apprunner.amazonaws.com"
    assert ok["readOnly"] is False
    assert ok["awsRequestID"]
    assert ok["responseElements"]["connection"]["connection_arn"].startswith("arn:aws:apprunner:")
    failed = next(r for r in done if r["statusCode"] != "OK")
    assert failed["errorCode"] == "InvalidRequestException"
    assert failed["awsOutcome"] == "InvalidRequestException"


async def test_a_failed_create_under_a_request_id_records_awss_request_id(apprunner, audit_records):
    """With a UUID x-request-id the AWS call runs apart from the caller; its failure still names AWS's id."""
    await apprunner.CreateConnection(create_request("taken"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(
            create_request("taken"), metadata=(("x-request-id", str(uuid.uuid4())),)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # AWS: the name exists
    failed = next(r for r in completions(audit_records()) if r["statusCode"] != "OK")
    assert failed["awsRequestID"]
    assert dict(caught.value.trailing_metadata())["x-aws-request-id"] == failed["awsRequestID"]


async def test_the_intent_and_completion_are_written_before_the_answer(apprunner, audit_records):
    """When the caller has its answer, its intent (with the parameters) and completion are in the file."""
    await apprunner.CreateConnection(create_request("recorded-first"))
    intent, completion = audit_records()
    assert intent["stage"] == "intent"
    assert intent["requestParameters"]["connection_name"] == "recorded-first"
    assert (completion["stage"], completion["intentID"]) == ("completion", intent["eventID"])
    assert "requestParameters" not in completion  # they are in the intent


async def test_validation_failures_are_one_outcome_without_intent(apprunner, audit_records, control):
    """A request rejected by validation never reaches AWS: one outcome record, no intent."""
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.CreateConnection(ar.CreateConnectionRequest(connection_name="x"))
    (record,) = audit_records()
    assert record["stage"] == "outcome"
    assert record["statusCode"] == "INVALID_ARGUMENT"
    assert "connection_name" in record["errorMessage"]
    assert await control.requests() == []


async def test_cancelled_calls_are_recorded(apprunner, audit_records, control):
    """A mutation the caller gives up on (cancels) is recorded as CANCELLED."""
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=5000, count=1)
    call = apprunner.CreateConnection(create_request("too-slow"))
    async with asyncio.timeout(10):
        while await control.faults():  # the fault is used up once the call reaches AWS
            await asyncio.sleep(0.02)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    async with asyncio.timeout(10):
        while not completions(audit_records()):
            await asyncio.sleep(0.02)
    (completion,) = completions(audit_records())
    assert completion["statusCode"] == "CANCELLED"
    assert completion["awsOutcome"] == "NoAnswer"  # sent, and cut off before AWS answered


async def test_identity_and_request_ids_are_recorded(apprunner, audit_records):
    """Peer, user agent, the declared workload (marked declared) and the request id are in the record."""
    call = apprunner.DeleteConnection(
        ar.DeleteConnectionRequest(
            connection_arn="arn:aws:apprunner:us-east-1:123456789012:connection/x/" + "0" * 32
        ),
        metadata=(("x-request-id", "req-77"), ("x-connfacade-workload", "billing-api")),
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await call
    intent, record = audit_records()
    assert intent["userIdentity"] == record["userIdentity"]
    identity = record["userIdentity"]
    assert identity["peerAddress"].startswith("ipv")
    assert "grpc" in identity["userAgent"]
    assert identity["workload"] == {"name": "billing-api", "declared": True}
    assert identity["principal"] is None
    assert record["requestID"] == "req-77"
    assert record["statusCode"] == "NOT_FOUND"


async def test_configured_fields_are_redacted(apprunner, audit_records):
    """Fields listed for redaction never reach the record."""
    await apprunner.CreateConnection(create_request("redacted-tags"))
    text = str(audit_records())
    assert "secret-team" not in text
    assert "[REDACTED]" in text


class TestReadLevels:
    @pytest.fixture
    def read_levels(self):
        return {
            "ListConnections": Level.METADATA,
            "GetConnection": Level.REQUEST,
            "ListTagsForResource": Level.REQUEST_RESPONSE,
        }

    async def test_each_read_records_what_its_level_says_and_nothing_more(self, apprunner, audit_records):
        """metadata: no parameters; request: parameters; request_response: and the answer; none: nothing."""
        created = (await apprunner.CreateConnection(create_request("read-me"))).connection
        await apprunner.ListConnections(ar.ListConnectionsRequest())
        await apprunner.GetConnection(ar.GetConnectionRequest(connection_arn=created.connection_arn))
        await apprunner.ListTagsForResource(
            ar.ListTagsForResourceRequest(resource_arn=created.connection_arn)
        )
        await apprunner.WaitForConnection(
            ar.WaitForConnectionRequest(
                connection_arn=created.connection_arn, statuses=[ar.CONNECTION_STATUS_PENDING_HANDSHAKE]
            )
        )
        by_name = {r["eventName"]: r for r in audit_records()}
        assert set(by_name) == {"CreateConnection", "ListConnections", "GetConnection", "ListTagsForResource"}
        assert "requestParameters" not in by_name["ListConnections"]
        assert by_name["GetConnection"]["requestParameters"] == {"connection_arn": created.connection_arn}
        assert "responseElements" not in by_name["GetConnection"]
        assert by_name["ListTagsForResource"]["responseElements"] == {"tags": "[REDACTED]"}  # redacted: tags
        assert all(r["readOnly"] for n, r in by_name.items() if n != "CreateConnection")


class TestFailingSink:
    @pytest.fixture
    async def auditor(self, audit_path):
        disk_full = False

        def disk(fd):
            if disk_full:
                raise OSError(28, "No space left on device")
            os.fsync(fd)

        sink = FileSink(audit_path, fsync="always", fsync_fn=disk)
        await sink.open()
        disk_full = True  # the disk fills up once the server runs
        return Auditor([sink])

    async def test_mutations_fail_closed_when_the_sink_cannot_write(self, apprunner, control):
        """No intent, no AWS call: UNAVAILABLE with the reason, and AWS never hears of the mutation."""
        for name in ("unrecorded", "refused"):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await apprunner.CreateConnection(create_request(name))
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "audit log cannot be written (No space left on device)" in caught.value.details()
        assert await control.requests(operation="CreateConnection") == []


async def test_the_log_verifies_and_continues_across_a_restart(backend, audit_path, tmp_path):
    """Two server lives on one file give one chain that verifies."""
    from connfacade.server.app import start_facade  # noqa: PLC0415
    from connfacade.server.store import StoreSettings  # noqa: PLC0415

    for life in range(2):
        sink = FileSink(audit_path, fsync="batch")
        await sink.open()
        facade = await start_facade(
            backend, ["127.0.0.1:0"], store_settings=StoreSettings(poll=False), auditor=Auditor([sink])
        )
        async with grpc.aio.insecure_channel(facade.addresses[0]) as channel:
            from connfacade.apprunner.v1 import connection_service_pb2_grpc as g  # noqa: PLC0415

            stub = g.ConnectionServiceStub(channel)
            for i in range(3):
                await stub.CreateConnection(create_request(f"life{life}-conn{i}"))
        await facade.stop(1)
    result = verify([audit_path.parent])
    assert result.ok, result
    assert (result.records, result.intents, result.findings) == (12, 6, ())


class TestRecoveringSink:
    @pytest.fixture
    async def auditor(self, audit_path):
        self.disk_full = False

        def disk(fd):
            if self.disk_full:
                raise OSError(28, "No space left on device")
            os.fsync(fd)

        sink = FileSink(audit_path, fsync="always", fsync_fn=disk)
        await sink.open()
        return Auditor([sink])

    async def test_mutations_resume_once_the_sink_can_write_again(self, apprunner, audit_records):
        """After the disk recovers, the next mutation's intent is written (the probe) and it goes through."""
        self.disk_full = True
        with pytest.raises(grpc.aio.AioRpcError):
            await apprunner.CreateConnection(create_request("while-full"))
        self.disk_full = False
        await apprunner.CreateConnection(create_request("after-recovery"))
        intent, _ = audit_records()[-2:]
        assert intent["requestParameters"]["connection_name"] == "after-recovery"
