"""Every call proves who it is: a bearer token or a client certificate, else UNAUTHENTICATED."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from conftest import TOKENS, bearer, mtls_channel
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from rich_details import detail
from tls_material import Authority

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from tls_material import KeyPair

    from connfacade.server.app import RunningFacade
    from connfacade.server.emulator import EmulatorControl

LIST = pb.ListConnectionsRequest()


def reason(err: grpc.aio.AioRpcError) -> str:
    info = detail(err, error_details_pb2.ErrorInfo)
    return info.reason if info else ""


async def test_a_call_without_credentials_is_unauthenticated(apprunner: pb_grpc.ConnectionServiceStub):
    """No token and no certificate: UNAUTHENTICATED, reason MISSING_CREDENTIALS."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(LIST)
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason(caught.value) == "MISSING_CREDENTIALS"


async def test_a_wrong_token_is_unauthenticated(apprunner: pb_grpc.ConnectionServiceStub):
    """A bearer token no principal holds: UNAUTHENTICATED, reason INVALID_TOKEN."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(LIST, metadata=(("authorization", "Bearer not-a-token"),))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason(caught.value) == "INVALID_TOKEN"


async def test_an_authorization_header_that_is_not_bearer_is_unauthenticated(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """`Basic ...` (or a bare token) is refused with reason BAD_HEADER, not guessed at."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(LIST, metadata=(("authorization", TOKENS["editor"]),))
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason(caught.value) == "BAD_HEADER"


async def test_a_valid_token_is_served(apprunner: pb_grpc.ConnectionServiceStub):
    """The editor's token: the call is answered."""
    response = await apprunner.ListConnections(LIST, metadata=bearer("editor"))
    assert list(response.connection_summary_list) == []


async def test_an_unauthenticated_call_never_reaches_aws(
    apprunner: pb_grpc.ConnectionServiceStub, control: EmulatorControl
):
    """A refused create makes no AWS call."""
    before = len(await control.requests())
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.CreateConnection(
            pb.CreateConnectionRequest(connection_name="nope", provider_type=pb.PROVIDER_TYPE_GITHUB)
        )
    assert len(await control.requests()) == before


async def test_health_and_reflection_need_no_credentials(channel: grpc.aio.Channel):
    """Probes and tooling work without a token."""
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    stream = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    async for answer in stream:
        names = {s.name for s in answer.list_services_response.service}
        assert "connfacade.apprunner.v1.ConnectionService" in names
        break


async def test_a_trusted_client_certificate_of_a_known_subject_is_served(
    mtls_facade: RunningFacade, authority: Authority
):
    """mTLS: the certificate's subject `CN=deployer,O=Example` is the principal `deployer`."""
    async with mtls_channel(mtls_facade, authority, authority.issue("deployer")) as channel:
        response = await pb_grpc.ConnectionServiceStub(channel).ListConnections(LIST)
    assert list(response.connection_summary_list) == []


async def test_a_trusted_certificate_of_an_unknown_subject_is_unauthenticated(
    mtls_facade: RunningFacade, authority: Authority
):
    """A certificate the CA signed, for a subject no principal has: UNAUTHENTICATED."""
    async with mtls_channel(mtls_facade, authority, authority.issue("stranger")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.ConnectionServiceStub(channel).ListConnections(LIST)
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert reason(caught.value) == "UNKNOWN_CERTIFICATE_SUBJECT"


async def test_a_certificate_from_another_authority_fails_the_handshake(
    mtls_facade: RunningFacade, authority: Authority
):
    """An untrusted certificate never gets a call through: TLS refuses the connection (UNAVAILABLE)."""
    impostor: KeyPair = Authority("impostor CA").issue("deployer")
    async with mtls_channel(mtls_facade, authority, impostor) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.ConnectionServiceStub(channel).ListConnections(LIST, timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_client_without_a_certificate_fails_the_handshake(
    mtls_facade: RunningFacade, authority: Authority
):
    """mTLS listeners require a certificate: without one the connection is refused."""
    async with mtls_channel(mtls_facade, authority, None) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.ConnectionServiceStub(channel).ListConnections(LIST, timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_token_decides_even_with_a_valid_certificate(
    mtls_facade: RunningFacade, authority: Authority
):
    """A wrong token is not rescued by a good certificate."""
    async with mtls_channel(mtls_facade, authority, authority.issue("deployer")) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await pb_grpc.ConnectionServiceStub(channel).ListConnections(
                LIST, metadata=(("authorization", "Bearer wrong"),)
            )
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
