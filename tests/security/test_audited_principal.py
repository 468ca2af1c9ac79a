"""The audit record's principal is the one authentication found, never what the caller says."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import grpc
import pytest
from security_helpers import bearer

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.audit import FileSink

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def auditor(audit_path: Path) -> AsyncIterator[Auditor]:
    sink = FileSink(audit_path, fsync="always")
    await sink.open()
    auditor = Auditor([sink])
    yield auditor
    await auditor.aclose()


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_mutation_records_the_authenticated_principal(
    apprunner: pb_grpc.ConnectionServiceStub, audit_path: Path
):
    """A create with the editor's token: userIdentity.principal is `editor`, in its intent and completion."""
    await apprunner.CreateConnection(
        pb.CreateConnectionRequest(connection_name="audited", provider_type=pb.PROVIDER_TYPE_GITHUB),
        metadata=(*bearer("editor"), ("x-connfacade-workload", "claims-to-be-admin")),
    )
    intent, completion = records(audit_path)
    assert intent["userIdentity"]["principal"] == "editor"  # type: ignore[index]
    assert completion["userIdentity"]["principal"] == "editor"  # type: ignore[index]


async def test_a_denied_mutation_is_recorded_with_its_principal(
    apprunner: pb_grpc.ConnectionServiceStub, audit_path: Path
):
    """A viewer's refused delete is on record: principal `viewer`, PERMISSION_DENIED."""
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.DeleteConnection(
            pb.DeleteConnectionRequest(connection_arn="arn:aws:apprunner:us-east-1:1:connection/x/y"),
            metadata=bearer("viewer"),
        )
    [record] = records(audit_path)
    assert (record["userIdentity"]["principal"], record["statusCode"]) == ("viewer", "PERMISSION_DENIED")  # type: ignore[index]


async def test_an_unauthenticated_mutation_is_recorded_without_a_principal(
    apprunner: pb_grpc.ConnectionServiceStub, audit_path: Path
):
    """A create with a bad token is on record, principal null, UNAUTHENTICATED."""
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.CreateConnection(
            pb.CreateConnectionRequest(connection_name="x", provider_type=pb.PROVIDER_TYPE_GITHUB),
            metadata=(("authorization", "Bearer nope"),),
        )
    [record] = records(audit_path)
    assert (record["userIdentity"]["principal"], record["statusCode"]) == (None, "UNAUTHENTICATED")  # type: ignore[index]
    assert "nope" not in json.dumps(record)
