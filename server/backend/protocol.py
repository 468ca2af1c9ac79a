"""The one interface the rest of the server needs from AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.domain import Service


class AwsBackend(Protocol):
    """Calls an AWS operation with already-validated parameters.

    Returns AWS's JSON response as a dict. Failures of AWS, or of reaching
    it, are `connfacade.server.domain.DomainError` subclasses; anything else
    (botocore refusing parameters the facade should never have passed) is a
    bug of the facade and leaves as it is, to be answered INTERNAL.
    """

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Calls ``operation`` (its AWS name, e.g. ``CreateConnection``) of ``service``."""
        ...
