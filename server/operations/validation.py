"""Model validation before any AWS call, reported in proto field names."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from connfacade.server.awsmodel import snake_path, validate
from connfacade.server.domain import FieldViolation, InvalidArgument, Service

if TYPE_CHECKING:
    from collections.abc import Mapping

# Limits AWS documents but its service models do not state. Everything else
# comes from the models; keep this table to what the models cannot say.
APPRUNNER_MAX_TAGS = 50
_TAG_LIMITS = {
    (Service.APPRUNNER, "CreateConnection"): APPRUNNER_MAX_TAGS,
    (Service.APPRUNNER, "TagResource"): APPRUNNER_MAX_TAGS,
}


def check(service: Service, operation: str, params: Mapping[str, Any]) -> None:
    """Raises InvalidArgument naming every field of ``params`` that AWS would reject.

    Proto fields are the AWS members in snake_case, so the model's member path
    names the proto field the caller set.
    """
    # Validation is a pure function of its input, and hot reads repeat the same
    # few flat requests (an ARN, a name): their verdicts are remembered.
    if all(isinstance(v, (str, int)) for v in params.values()):
        violations = _flat_violations(service, operation, tuple(params.items()))
    else:
        violations = _violations(service, operation, params)
    if violations:
        raise InvalidArgument(list(violations))


@functools.lru_cache(maxsize=4096)
def _flat_violations(
    service: Service, operation: str, items: tuple[tuple[str, str | int], ...]
) -> tuple[FieldViolation, ...]:
    return _violations(service, operation, dict(items))


def _violations(service: Service, operation: str, params: Mapping[str, Any]) -> tuple[FieldViolation, ...]:
    reasons: dict[str, list[str]] = {}  # one FieldViolation per bad field, every reason in it
    for v in validate(service.value, operation, params):
        reasons.setdefault(snake_path(v.path), []).append(v.message)
    limit = _TAG_LIMITS.get((service, operation))
    tags = params.get("Tags")
    if limit is not None and isinstance(tags, list) and len(tags) > limit:
        reasons.setdefault("tags", []).append(f"at most {limit} tags per resource; got {len(tags)}")
    return tuple(FieldViolation(field, "; ".join(messages)) for field, messages in reasons.items())
