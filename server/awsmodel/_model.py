"""Access to botocore's service models, loaded once per process."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import botocore.session

if TYPE_CHECKING:
    from botocore.model import ServiceModel

APPRUNNER = "apprunner"
CODESTAR = "codestar-connections"


@functools.cache
def _session() -> botocore.session.Session:
    # One botocore session for all models: its loader caches the parsed JSON.
    return botocore.session.get_session()


@functools.cache
def service_model(service: str) -> ServiceModel:
    """Return botocore's model of ``service`` (a botocore service name such as ``apprunner``)."""
    return _session().get_service_model(service)
