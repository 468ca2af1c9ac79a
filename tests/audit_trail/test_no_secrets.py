"""Credentials never reach a log: the AWS secret key and bearer tokens are in no output."""

from __future__ import annotations

import asyncio

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.audit import verify
from connfacade.server.testing import CONNFACADE, serve

SECRET_KEY = "test-secret-key-7f3a9c-never-log-me"
BEARER = "test-bearer-token-5e1d2b-never-log-me"


async def test_secrets_appear_in_no_output_of_a_real_server(emulator, tmp_path):
    """A server on the `aws` backend (credentials from the environment) logs and audits no secret."""
    audit_file = tmp_path / "audit.jsonl"
    env = {"AWS_ACCESS_KEY_ID": "AKIATESTKEY", "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1"}
    served = await serve(
        *("--backend", "aws", "--aws-endpoint-url", emulator.url, "--listen", "127.0.0.1:0"),
        *("--log-level", "debug", "--audit-file", str(audit_file), "--audit-read-level", "request_response"),
        env=env,
    )
    secret_metadata = (("authorization", f"Bearer {BEARER}"), ("x-api-token", BEARER))
    async with grpc.aio.insecure_channel(served.address) as channel:
        stub = ar_grpc.ConnectionServiceStub(channel)
        created = await stub.CreateConnection(
            ar.CreateConnectionRequest(connection_name="no-secrets", provider_type=ar.PROVIDER_TYPE_GITHUB),
            metadata=secret_metadata,
        )
        await stub.ListConnections(ar.ListConnectionsRequest(), metadata=secret_metadata)
        await stub.DeleteConnection(
            ar.DeleteConnectionRequest(connection_arn=created.connection.connection_arn),
            metadata=secret_metadata,
        )
    ended = await served.stop()
    assert ended.code == 0
    outputs = {"stdout": ended.out.encode(), "stderr": ended.err.encode(), "audit": audit_file.read_bytes()}
    assert b'"eventName":"CreateConnection"' in outputs["audit"]  # the scan covers real records
    for name, data in outputs.items():
        for secret in (SECRET_KEY, BEARER):
            assert secret.encode() not in data, f"{secret} leaked into {name}"
    assert verify([audit_file]).ok


async def test_connfacade_audit_verify_checks_a_log(tmp_path):
    """`connfacade audit verify` is reachable from the console script and reports OK."""
    from connfacade.server.audit import FileSink  # noqa: PLC0415

    async with FileSink(tmp_path / "audit.jsonl") as sink:
        await sink.write({"eventName": "CreateConnection"})
    proc = await asyncio.create_subprocess_exec(
        str(CONNFACADE),
        "audit",
        "verify",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    assert out.decode().startswith("OK: 1 records in 1 files, 0 intents")
