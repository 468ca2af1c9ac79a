"""Hypothesis strategies built from protobuf descriptors alone.

Every field gets values a caller could send on the wire: plausible ones (ARNs,
names, defined enum numbers) mixed with hostile ones (empty, very long, control
characters, undefined enum numbers, dozens of repeated items), so the server's
validation is exercised both where it should accept and where it should refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor, message_factory
from hypothesis import strategies as st

if TYPE_CHECKING:
    from google.protobuf.message import Message

FieldDescriptor = descriptor.FieldDescriptor

MAX_REPEATED = 60  # above AWS's 50-tag limit, so count limits are reached
MAX_TEXT = 2000

ARNS = (
    "arn:aws:apprunner:us-east-1:123456789012:connection/name/0123456789abcdef0123456789abcdef",
    "arn:aws:apprunner:eu-west-1:123456789012:connection/x/00000000000000000000000000000000",
    "arn:aws:codestar-connections:us-east-1:123456789012:connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61",
    "arn:aws:codeconnections:us-east-1:123456789012:connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61",
    "arn:aws:codestar-connections:us-east-1:123456789012:host/name-0123abcd",
    "arn:aws:apprunner:us-east-1:123456789012:connection/",
    "arn:aws:",
    "arn",
)

_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", fullmatch=True)
_ascii_ids = st.from_regex(r"(subnet|sg|vpc)-[0-9a-f]{8,17}", fullmatch=True)
_control = st.text(st.characters(codec="utf-8", max_codepoint=0x1F), max_size=8)
_arbitrary = st.text(st.characters(codec="utf-8"), max_size=64)
_long = st.integers(0, MAX_TEXT).map(lambda n: "a" * n) | st.text(min_size=200, max_size=MAX_TEXT)

STRINGS = st.one_of(
    st.just(""),
    st.sampled_from(ARNS),
    _names,
    _ascii_ids,
    st.sampled_from(("https://github.example.com", "GitHub", "Bitbucket", "GitLabSelfManaged")),
    _arbitrary,
    _control,
    _long,
    st.tuples(st.sampled_from(ARNS), _arbitrary).map("".join),
)

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    edges = [v for v in (0, 1, -1, 5, 50, 100, 101, 1000, lo, hi, hi - 1) if lo <= v <= hi]
    return st.sampled_from(edges) | st.integers(lo, hi)


def _enum(enum: descriptor.EnumDescriptor) -> st.SearchStrategy[int]:
    defined = [v.number for v in enum.values]
    undefined = st.integers(-(2**31), 2**31 - 1).filter(lambda n: n not in defined)
    return st.sampled_from(defined) | undefined


_FIXED: dict[int, st.SearchStrategy[Any]] = {
    FieldDescriptor.TYPE_STRING: STRINGS,
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=256),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
    FieldDescriptor.TYPE_FLOAT: st.floats(width=32),
    FieldDescriptor.TYPE_DOUBLE: st.floats(),
}


def _scalar(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum(field.enum_type)
    if kind in {FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP}:
        return messages(field.message_type, depth + 1)
    return _ints(*_INT_RANGES[kind])


def _has_presence(field: FieldDescriptor) -> bool:
    # Messages and proto3 `optional` scalars distinguish "unset" from "zero".
    return field.message_type is not None or field.containing_oneof is not None


@st.composite
def _build(draw: st.DrawFn, desc: descriptor.Descriptor, depth: int) -> Message:
    message = message_factory.GetMessageClass(desc)()
    for field in desc.fields:
        if _is_repeated(field):
            items = draw(st.lists(_scalar(field, depth), max_size=MAX_REPEATED))
            container = getattr(message, field.name)
            if field.message_type is not None:
                for item in items:
                    container.add().CopyFrom(item)
            else:
                container.extend(items)
            continue
        if _has_presence(field) and not draw(st.booleans()):
            continue  # left unset: presence is part of what the server must handle
        value = draw(_scalar(field, depth))
        if field.message_type is not None:
            getattr(message, field.name).CopyFrom(value)
        else:
            setattr(message, field.name, value)
    return message


def _is_repeated(field: FieldDescriptor) -> bool:
    # `is_repeated` is the newer spelling; `label` is deprecated in recent protobuf.
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return field.label == FieldDescriptor.LABEL_REPEATED


def messages(desc: descriptor.Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of type ``desc``, every field filled from a strategy chosen by its type."""
    if depth > 4:  # no recursive message types today; this only guards against one
        return st.just(message_factory.GetMessageClass(desc)())
    return _build(desc, depth)
