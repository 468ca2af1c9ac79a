"""A request botocore refuses to send is the facade's own bug: INTERNAL with a request id.

The facade validates every request against the model before AWS is called,
so botocore's own parameter validation (ParamValidationError) cannot fail
today. If it ever does, nothing about AWS is learned and a retry cannot
help. The backend here is the real aiobotocore one behind a wrapper that
adds a member the model does not have: the bug botocore then catches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import pytest
from botocore.exceptions import ParamValidationError
from status_details import details_of, trailer

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.backend.breaker import Verdict, verdict_of
from connfacade.server.domain import Service

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.backend import AioBotoBackend

NOT_IN_THE_MODEL = "NotInTheModel"


class ForgetsTheModel:
    """Passes every call on with one parameter more than the operation's input has."""

    def __init__(self, inner: AioBotoBackend) -> None:
        self._inner = inner

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return await self._inner.call(service, operation, {**params, NOT_IN_THE_MODEL: "x"})


@pytest.fixture
def facade_options(facade_options: dict[str, Any], backend: AioBotoBackend) -> dict[str, Any]:
    return facade_options | {"backend": ForgetsTheModel(backend)}


async def test_a_request_botocore_refuses_is_internal_with_a_request_id(apprunner, control):
    """INTERNAL (not UNAVAILABLE: retrying cannot help), RequestInfo and message naming the request id."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(
            ar.CreateConnectionRequest(connection_name="conn-1", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )
    err = caught.value
    request_id = trailer(err, "x-request-id")
    assert err.code() == grpc.StatusCode.INTERNAL
    assert details_of(err)["RequestInfo"].request_id == request_id
    assert request_id in err.details()
    assert NOT_IN_THE_MODEL not in err.details()  # the cause goes to the server log, not the caller
    assert await control.requests() == []  # botocore sent nothing


async def test_a_request_botocore_refuses_is_not_counted_as_a_successful_aws_call(apprunner, facade):
    """The upstream call metric names botocore's refusal as the outcome, not ``ok``."""
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.CreateConnection(
            ar.CreateConnectionRequest(connection_name="conn-1", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )
    registry = facade.metrics.registry
    labels = {"service": "apprunner", "operation": "CreateConnection"}
    assert registry.get_sample_value("connfacade_upstream_calls_total", {**labels, "outcome": "ok"}) is None
    assert (
        registry.get_sample_value(
            "connfacade_upstream_calls_total", {**labels, "outcome": "ParamValidationError"}
        )
        == 1
    )


async def test_a_request_botocore_refuses_says_nothing_about_aws_health(backend, control):
    """The backend lets botocore's refusal out as it is, so the circuit breaker learns nothing from it."""
    with pytest.raises(ParamValidationError) as caught:
        await backend.call(Service.APPRUNNER, "ListConnections", {NOT_IN_THE_MODEL: "x"})
    assert verdict_of(caught.value) is Verdict.NONE
    assert await control.requests() == []
