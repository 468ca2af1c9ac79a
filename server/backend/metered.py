"""An `AwsBackend` that counts and times every AWS call it passes on."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import DomainError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.backend.protocol import AwsBackend
    from connfacade.server.domain import Service
    from connfacade.server.metrics import Metrics


class MeteredBackend:
    """Wraps a backend: ``connfacade_upstream_calls`` by operation and outcome, and latency."""

    def __init__(self, inner: AwsBackend, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Calls the wrapped backend; the outcome is `ok` or the AWS/domain error code."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self._inner.call(service, operation, params)
        except DomainError as err:
            outcome = err.aws_code or type(err).__name__
            raise
        except Exception as err:
            outcome = type(err).__name__  # a bug of the facade's, e.g. botocore refusing the request
            raise
        finally:
            self._metrics.upstream_calls.labels(service.value, operation, outcome).inc()
            self._metrics.upstream_latency.labels(service.value, operation).observe(
                time.perf_counter() - started
            )
