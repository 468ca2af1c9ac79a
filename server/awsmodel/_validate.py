"""Walk an operation's input shape and report every constraint a request violates."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, OperationNotFoundError, Shape, StructureShape

from connfacade.server.awsmodel._model import service_model

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    """One constraint of the service model that one member of a request breaks."""

    path: Path
    """AWS member path, e.g. ``("Tags", 0, "Key")``."""
    constraint: str
    """One of required, type, min_length, max_length, pattern, enum, min, max, min_items, max_items."""
    message: str
    """AWS's sentence for the constraint, e.g. "Member must have length less than or equal to 32"."""
    value: object | None
    """The offending value (None for a missing required member)."""


def validate(service: str, operation: str, params: Mapping[str, Any]) -> list[Violation]:
    """Return every violation of ``operation``'s input shape in ``params``, in input path order.

    Raises ``ValueError`` when the service model has no such operation.
    """
    try:
        op = service_model(service).operation_model(operation)
    except OperationNotFoundError as exc:
        raise ValueError(f"{service} has no operation {operation!r}") from exc
    shape = op.input_shape
    if shape is None:
        return [] if not params else list(_unknown_members({}, params, (), operation))
    return list(_check(shape, params, ()))


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# The Python types each model type accepts; bool is excluded from the numbers
# explicitly because it is an int subclass that JSON keeps distinct.
_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "boolean": (bool,),
    "blob": (str, bytes, bytearray),
    "timestamp": (int, float, str, dt.datetime),
}
_NUMERIC = frozenset({"integer", "long", "float", "double", "timestamp"})


def _type_ok(shape: Shape, value: object) -> bool:
    kind = shape.type_name
    if kind in ("structure", "map"):
        return isinstance(value, Mapping)
    if kind == "list":
        return isinstance(value, list | tuple)
    if kind in _NUMERIC and isinstance(value, bool):
        return False
    return isinstance(value, _SCALAR_TYPES.get(kind, (object,)))


def _check(shape: Shape, value: object, path: Path) -> Iterator[Violation]:
    if not _type_ok(shape, value):
        yield Violation(path, "type", f"Member must be of type {shape.type_name}", value)
        return
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        yield from _check_structure(shape, value, path)
    elif isinstance(shape, ListShape) and isinstance(value, list | tuple):
        yield from _check_list(shape, value, path)
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        yield from _check_map(shape, value, path)
    elif isinstance(value, str):
        yield from _check_string(shape, value, path)
    elif isinstance(value, int | float) and shape.type_name in ("integer", "long", "float", "double"):
        yield from _check_number(shape, value, path)


def _check_structure(shape: StructureShape, value: Mapping[str, Any], path: Path) -> Iterator[Violation]:
    required = set(shape.required_members)
    for name, member in shape.members.items():
        child = value.get(name)
        if child is None:
            if name in required:
                yield Violation((*path, name), "required", "Member must not be null", None)
            continue
        yield from _check(member, child, (*path, name))
    yield from _unknown_members(shape.members, value, path, shape.name)


def _unknown_members(
    known: Mapping[str, Shape], value: Mapping[Any, Any], path: Path, owner: str
) -> Iterator[Violation]:
    for name, child in value.items():
        if name not in known:
            key = name if isinstance(name, str | int) else str(name)
            message = f"Unknown member {name!r}: not a member of {owner}"
            yield Violation((*path, key), "type", message, child)


def _check_list(shape: ListShape, value: Sequence[Any], path: Path) -> Iterator[Violation]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        yield Violation(path, "min_items", f"Member must have length greater than or equal to {low}", value)
    if high is not None and len(value) > high:
        yield Violation(path, "max_items", f"Member must have length less than or equal to {high}", value)
    for index, item in enumerate(value):
        if item is None:
            # A null inside a list is a missing member: AWS reports it as null.
            yield Violation((*path, index), "required", "Member must not be null", None)
            continue
        yield from _check(shape.member, item, (*path, index))


def _check_map(shape: MapShape, value: Mapping[Any, Any], path: Path) -> Iterator[Violation]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and len(value) < low:
        yield Violation(path, "min_items", f"Member must have length greater than or equal to {low}", value)
    if high is not None and len(value) > high:
        yield Violation(path, "max_items", f"Member must have length less than or equal to {high}", value)
    for key, item in value.items():
        key_path = (*path, str(key))
        yield from _check(shape.key, key, key_path)
        yield from _check(shape.value, item, key_path)


def _check_string(shape: Shape, value: str, path: Path) -> Iterator[Violation]:
    meta = shape.metadata
    low, high, pattern = meta.get("min"), meta.get("max"), meta.get("pattern")
    if low is not None and len(value) < low:
        yield Violation(path, "min_length", f"Member must have length greater than or equal to {low}", value)
    if high is not None and len(value) > high:
        yield Violation(path, "max_length", f"Member must have length less than or equal to {high}", value)
    if pattern is not None and _compiled(pattern).fullmatch(value) is None:
        yield Violation(path, "pattern", f"Member must satisfy regular expression pattern: {pattern}", value)
    enum: list[str] | None = meta.get("enum")
    if enum and value not in enum:
        yield Violation(path, "enum", f"Member must satisfy enum value set: [{', '.join(enum)}]", value)


def _check_number(shape: Shape, value: float, path: Path) -> Iterator[Violation]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield Violation(path, "min", f"Member must have value greater than or equal to {low}", value)
    if high is not None and value > high:
        yield Violation(path, "max", f"Member must have value less than or equal to {high}", value)
