"""botocore's retries on a real facade: throttling is retried, then reported with RetryInfo.

Attempts are counted in the emulator's request log.
"""

from __future__ import annotations

import grpc
import pytest
from fault_helpers import MAX_ATTEMPTS, aws_requests, create, error_info, failing, retry_info


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
