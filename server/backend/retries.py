"""botocore's retries, except that a quota answer is final.

botocore's standard and adaptive modes count ``LimitExceededException`` as
throttling (its list of throttling codes is shared by every service), so a
CodeStar quota answer was retried with throttling's one-second backoff, two
more AWS calls for an answer that cannot change. A quota is not a rate: more
attempts only delay RESOURCE_EXHAUSTED.

botocore decides on the ``needs-retry`` event, where every handler runs and
the first answer that is not None wins. A handler that only said "no" first
would still let botocore's own one run, which takes retry capacity from the
client's retry quota for each quota answer and never gives it back: enough
quota answers in a row and real throttling is no longer retried. So botocore's
handler is replaced by one that asks it only about answers that are no quota.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiobotocore.retries import standard

from connfacade.server.backend.errors import QUOTA_CODES

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


def _error_code(response: tuple[Any, dict[str, Any]] | None) -> str | None:
    """AWS's error code in a needs-retry ``response`` (None: no answer, or no error)."""
    if response is None:
        return None
    error = response[1].get("Error")
    return error.get("Code") if isinstance(error, dict) else None


def _final_quota(
    decide: Callable[..., Awaitable[float | bool | None]],
) -> Callable[..., Awaitable[float | bool | None]]:
    async def needs_retry(**kwargs: Any) -> float | bool | None:
        if _error_code(kwargs.get("response")) in QUOTA_CODES:
            return None  # no retry, and no retry capacity spent on deciding so
        return await decide(**kwargs)

    return needs_retry


def answer_quotas_at_once(client: Any) -> None:
    """Makes ``client`` (an aiobotocore client in standard or adaptive mode) never retry a quota answer.

    Everything else keeps botocore's standard decision: the same attempts,
    backoff and retry quota.
    """
    service = client.meta.service_model.service_id.hyphenize()
    event, unique_id = f"needs-retry.{service}", f"retry-config-{service}"
    # botocore registered its standard handler under this id; a new one, whose
    # decisions are wrapped, takes its place (it registers its own quota refunds).
    client.meta.events.unregister(event, unique_id=unique_id)
    handler = standard.register_retry_handler(
        client, max_attempts=client.meta.config.retries.get("total_max_attempts")
    )
    client.meta.events.unregister(event, unique_id=unique_id)
    client.meta.events.register(event, _final_quota(handler.needs_retry), unique_id=unique_id)
