"""Requests as bytes, decoded at the boundary: undecodable ones are INVALID_ARGUMENT, naming the field.

gRPC decodes a request before its handler runs, and bytes that are not the
request message would come back UNKNOWN, naming Python classes, before
authentication, with no request id, log line or audit record. So every
method is registered with `EncodedRequest` as its "deserializer" (it only
keeps the bytes), and the RPC boundary decodes them, telling the caller what
was wrong only once it has authenticated.

When protobuf's parser refuses the bytes it does not say where; `diagnose`
walks the wire format against the message's descriptor to name the field
(``tags[1].value``) whose encoding broke, as far as the bytes tell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError

from connfacade.server.domain import FieldViolation, InvalidArgument

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.message import Message

_VARINT, _I64, _LEN, _START_GROUP, _END_GROUP, _I32 = range(6)
_MAX_VARINT_BYTES = 10
_MAX_TAG = 2**32 - 1
_MAX_TAG_BYTES = 5  # a tag is a 32-bit varint: longer encodings are refused even when padded with zeros
_MAX_DEPTH = 100  # protobuf's own limit on nested messages and groups
_PACKED_VARINTS = frozenset(
    {
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_BOOL,
    }
)


class UndecodableRequest(InvalidArgument):
    """The request's bytes are not an encoding of its message; ``size`` is how many there were."""

    def __init__(self, message_type: str, size: int, field: str, reason: str) -> None:
        where = f"{field}: " if field else ""
        super().__init__(
            [FieldViolation(field, reason)],
            f"the request is not a valid {message_type}: {where}{reason}",
        )
        self.size = size


class EncodedRequest:
    """A request's bytes and the message class they should decode to."""

    __slots__ = ("data", "message_class")

    def __init__(self, data: bytes, message_class: type[Message]) -> None:
        self.data = data
        self.message_class = message_class

    def decode(self) -> Message:
        """The request message; raises UndecodableRequest."""
        try:
            return self.message_class.FromString(self.data)
        except DecodeError:
            descriptor = cast("Descriptor", self.message_class.DESCRIPTOR)
            field, reason = diagnose(self.data, descriptor)
            raise UndecodableRequest(descriptor.full_name, len(self.data), field, reason) from None


class _Corrupt(Exception):  # a signal inside the walk, never raised out of it
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def diagnose(data: bytes, descriptor: Descriptor) -> tuple[str, str]:
    """Where ``data`` stops being an encoding of ``descriptor``'s message, and why.

    The field is a proto field path, empty when the break is in no field the
    message declares (then it concerns the request as a whole).
    """
    try:
        _message(data, 0, len(data), descriptor, path="", depth=0)
    except _Corrupt as err:
        return err.field, err.reason
    return "", "not a valid protobuf encoding"  # refused for a reason this walk does not check


def _varint(data: bytes, pos: int, end: int, field: str, what: str) -> tuple[int, int]:
    value = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= end:
            raise _Corrupt(field, f"the bytes end inside {what} (byte {pos})")
        byte = data[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise _Corrupt(field, f"{what} is longer than {_MAX_VARINT_BYTES} bytes (byte {pos})")


def _tag(data: bytes, pos: int, end: int, field: str) -> tuple[int, int]:
    key, after = _varint(data, pos, end, field, "a field tag")
    if key >> 3 == 0 or key > _MAX_TAG or after - pos > _MAX_TAG_BYTES:
        raise _Corrupt(field, f"not a field tag (byte {pos})")
    return key, after


def _skip(pos: int, size: int, end: int, field: str) -> int:
    if pos + size > end:
        raise _Corrupt(field, f"the bytes end inside a {size}-byte value (byte {pos})")
    return pos + size


def _path(parent: str, field: FieldDescriptor, counts: dict[int, int]) -> str:
    name = f"{parent}.{field.name}" if parent else field.name
    if not field.is_repeated:
        return name
    index = counts.get(field.number, 0)
    counts[field.number] = index + 1
    return f"{name}[{index}]"


def _message(
    data: bytes, pos: int, end: int, descriptor: Descriptor | None, *, path: str, depth: int
) -> None:
    """Walks the fields in ``data[pos:end]``; raises _Corrupt at the first break."""
    if depth > _MAX_DEPTH:
        raise _Corrupt(path, f"nested more than {_MAX_DEPTH} levels deep")
    counts: dict[int, int] = {}
    while pos < end:
        key, pos = _tag(data, pos, end, path)
        number, wire = key >> 3, key & 7
        field = descriptor.fields_by_number.get(number) if descriptor is not None else None
        where = _path(path, field, counts) if field is not None else path
        pos = _value(data, pos, end, wire, number=number, field=field, where=where, depth=depth)


def _value(
    data: bytes,
    pos: int,
    end: int,
    wire: int,
    *,
    number: int,
    field: FieldDescriptor | None,
    where: str,
    depth: int,
) -> int:
    """Skips (checking) one value of wire type ``wire``; the position after it."""
    if wire == _VARINT:
        return _varint(data, pos, end, where, "a number")[1]
    if wire == _I64:
        return _skip(pos, 8, end, where)
    if wire == _I32:
        return _skip(pos, 4, end, where)
    if wire == _START_GROUP:
        return _group(data, pos, end, number, where=where, depth=depth + 1)
    if wire == _END_GROUP:
        raise _Corrupt(where, f"an end-group tag without its start (field {number})")
    if wire != _LEN:
        raise _Corrupt(where, f"wire type {wire} does not exist (field {number})")
    length, pos = _varint(data, pos, end, where, "a length")
    if length > end - pos:
        raise _Corrupt(where, f"a length of {length} bytes, but only {end - pos} follow (byte {pos})")
    if field is not None:
        _contents(data, pos, pos + length, field, where=where, depth=depth)
    return pos + length


def _contents(data: bytes, pos: int, end: int, field: FieldDescriptor, *, where: str, depth: int) -> None:
    """Checks what a length-delimited value of a declared field holds."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        _message(data, pos, end, field.message_type, path=where, depth=depth + 1)
    elif field.type == FieldDescriptor.TYPE_STRING:
        try:
            data[pos:end].decode("utf-8")
        except UnicodeDecodeError:
            raise _Corrupt(where, "a string that is not valid UTF-8") from None
    elif field.type in _PACKED_VARINTS and field.is_repeated:
        while pos < end:
            pos = _varint(data, pos, end, where, "a packed number")[1]


def _group(data: bytes, pos: int, end: int, number: int, *, where: str, depth: int) -> int:
    """Skips an (unknown) group up to its end tag; the position after it."""
    if depth > _MAX_DEPTH:
        raise _Corrupt(where, f"nested more than {_MAX_DEPTH} levels deep")
    while pos < end:
        key, pos = _tag(data, pos, end, where)
        inner, wire = key >> 3, key & 7
        if wire == _END_GROUP:
            if inner != number:
                raise _Corrupt(where, f"group {number} ends with the end tag of field {inner}")
            return pos
        pos = _value(data, pos, end, wire, number=inner, field=None, where=where, depth=depth)
    raise _Corrupt(where, f"the bytes end inside group {number}")
