"""botocore's retries on a real facade: throttling is retried, then reported with RetryInfo;
a quota answer, or a host that is not AVAILABLE, is answered after one AWS call.

Attempts are counted in the emulator's request log.
"""

from __future__ import annotations

import grpc
import pytest
from botocore.retries import quota
from fault_helpers import (
    MAX_ATTEMPTS,
    aws_requests,
    create,
    error_info,
    failing,
    precondition_failure,
    quota_failure,
    retry_info,
)

from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2
from connfacade.server.domain import QuotaExceeded, Service
from connfacade.server.emulator import Quotas

CODESTAR = Service.CODESTAR.value
GHES = types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER


async def codestar_requests(control, operation: str) -> int:
    """How many CodeStar calls of ``operation`` reached the emulator."""
    return len(await control.requests(service=CODESTAR, operation=operation))


async def full_of_tags(codestar) -> str:
    """The ARN of a CodeStar connection that has as many tags as CodeStar allows."""
    limit = Quotas().codestar_tags_per_resource
    tags = [types_pb2.Tag(key=f"k{i}", value="v") for i in range(limit)]
    created = await codestar.CreateConnection(
        cs.CreateConnectionRequest(
            connection_name="full", provider_type=types_pb2.PROVIDER_TYPE_GITHUB, tags=tags
        )
    )
    return created.connection_arn


@pytest.mark.parametrize("retry_mode", ["standard", "adaptive"])
async def test_throttling_that_stops_is_retried_until_the_call_succeeds(apprunner, control, retry_mode):
    """Two throttled attempts, then success: the caller sees only the success, AWS saw three attempts."""
    await control.inject_fault(operation="CreateConnection", kind="throttle", count=2)
    created = await apprunner.CreateConnection(create("after-two-throttles"))
    assert created.connection.connection_name == "after-two-throttles"
    assert await aws_requests(control, "CreateConnection") == 3


async def test_throttling_on_every_attempt_is_unavailable_with_retry_info(apprunner, control):
    """Throttled on every attempt: UNAVAILABLE with RetryInfo after exactly the configured attempts."""
    await control.inject_fault(operation="CreateConnection", kind="throttle")
    err = await failing(apprunner.CreateConnection(create("always-throttled")))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert retry_info(err) is not None
    assert error_info(err).reason == "ThrottlingException"
    assert await aws_requests(control, "CreateConnection") == MAX_ATTEMPTS


async def test_a_tag_past_the_quota_is_resource_exhausted_after_one_aws_call(codestar, control):
    """One tag more than CodeStar allows: RESOURCE_EXHAUSTED with QuotaFailure at once, one AWS call.

    botocore counts LimitExceededException as throttling, and the codeconnections
    model answers it with HTTP 429; neither may turn a quota into retries.
    """
    arn = await full_of_tags(codestar)
    err = await failing(
        codestar.TagResource(
            cs.TagResourceRequest(resource_arn=arn, tags=[types_pb2.Tag(key="x", value="v")])
        )
    )
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert quota_failure(err) is not None
    assert error_info(err).reason == "LimitExceededException"
    assert await codestar_requests(control, "TagResource") == 1


async def test_a_host_past_the_quota_is_resource_exhausted_after_one_aws_call(hosts, control):
    """CreateHost past the account's host quota: RESOURCE_EXHAUSTED with QuotaFailure, one AWS call."""
    await control.configure(quotas={"CodeStarHostsPerAccount": 0})
    err = await failing(
        hosts.CreateHost(
            hs.CreateHostRequest(name="h", provider_type=GHES, provider_endpoint="https://h.example")
        )
    )
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert quota_failure(err) is not None
    assert await codestar_requests(control, "CreateHost") == 1


async def test_throttling_answered_with_429_is_still_retried(codestar, control):
    """CodeStar throttling with the codeconnections model's 429 keeps all its attempts."""
    await control.inject_fault(
        service=CODESTAR, operation="CreateConnection", kind="throttle", http_status=429
    )
    err = await failing(
        codestar.CreateConnection(
            cs.CreateConnectionRequest(connection_name="c", provider_type=types_pb2.PROVIDER_TYPE_GITHUB)
        )
    )
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert retry_info(err) is not None
    assert await codestar_requests(control, "CreateConnection") == MAX_ATTEMPTS


async def test_quota_answers_leave_botocores_retry_budget_to_throttling(backend, control, codestar):
    """However many quota answers come first, throttling after them is still retried.

    botocore's retry quota pays for each retry out of a bounded budget; a
    quota answer must not be charged as a throttling retry it never makes.
    """
    arn = await full_of_tags(codestar)
    spent_if_charged = quota.RetryQuota.INITIAL_CAPACITY // 5 + 1  # botocore charges 5 per throttling retry
    for _ in range(spent_if_charged):
        with pytest.raises(QuotaExceeded):
            await backend.call(
                Service.CODESTAR, "TagResource", {"ResourceArn": arn, "Tags": [{"Key": "x", "Value": "v"}]}
            )
    await control.inject_fault(service=CODESTAR, operation="ListConnections", kind="throttle", count=2)
    await backend.call(Service.CODESTAR, "ListConnections", {})
    assert await codestar_requests(control, "ListConnections") == MAX_ATTEMPTS


async def test_a_connection_through_a_host_that_is_not_available_is_failed_precondition(
    codestar, hosts, control
):
    """CreateConnection on a PENDING host: FAILED_PRECONDITION naming the host, after one AWS call.

    Only a person completing the host's setup can make it succeed, so the
    answer carries no RetryInfo: retrying, by botocore or the caller, cannot help.
    """
    host = await hosts.CreateHost(
        hs.CreateHostRequest(name="h", provider_type=GHES, provider_endpoint="https://h.example")
    )
    err = await failing(
        codestar.CreateConnection(cs.CreateConnectionRequest(connection_name="c", host_arn=host.host_arn))
    )
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(err).reason == "ResourceUnavailableException"
    unmet = precondition_failure(err)
    assert [(v.type, v.subject) for v in unmet.violations] == [("HOST_NOT_AVAILABLE", host.host_arn)]
    assert retry_info(err) is None
    assert await codestar_requests(control, "CreateConnection") == 1
