"""Render violations the way AWS and the facade each name a member."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from botocore import xform_name

if TYPE_CHECKING:
    from connfacade.server.awsmodel._validate import Path, Violation


def validation_exception_message(violations: Sequence[Violation]) -> str:
    """Return the message of AWS's ``ValidationException`` for ``violations``.

    ``1 validation error detected: Value 'x' at 'connectionName' failed to satisfy
    constraint: ...``; several are joined with ``; `` after ``N validation errors detected: ``.
    """
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value {_render_value(v.value)} at '{_aws_path(v.path)}' failed to satisfy constraint: {v.message}"
        for v in violations
    )
    return f"{count} validation {noun} detected: {details}"


def snake_path(path: Path) -> str:
    """Name a member the facade's way: ``("Tags", 0, "Key")`` -> ``tags[0].key``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + xform_name(part)
    return out


def _aws_path(path: Path) -> str:
    # AWS (Coral) names list items 1-based with a ".member" suffix and members in
    # lowerCamel: ("Tags", 0, "Key") -> "tags.1.member.key".
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.extend((str(part + 1), "member"))
        else:
            parts.append(part[:1].lower() + part[1:])
    return ".".join(parts)


def _render_value(value: object) -> str:
    if value is None:
        return "null"
    return f"'{_render(value)}'"


def _render(value: object) -> str:
    # Java's toString of the deserialized value, which is what AWS echoes back.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return str(value)
