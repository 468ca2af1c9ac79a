"""Hypothesis strategies for request bytes that a protobuf library would never produce.

Generic clients, other languages' libraries and attackers send bytes, not
messages: arbitrary bytes, valid encodings cut short or with a byte changed,
and over-long encodings (a length prefix claiming more bytes than follow,
tags and numbers padded with redundant varint bytes). Some of these still
decode (unknown fields, padding protobuf accepts); the rest must be refused
as bad requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import strategies as st
from proto_strategies import messages

if TYPE_CHECKING:
    from google.protobuf import descriptor

_LEN = 2
_MAX_FIELD = 2**29 - 1


def varint(value: int, padding: int = 0) -> bytes:
    """``value`` as a varint, with ``padding`` redundant bytes (0x80 ... 0x00) that keep its value."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value and not padding:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)
        if not value:
            out += b"\x80" * (padding - 1) + b"\x00"
            return bytes(out)


@st.composite
def _cut(draw: st.DrawFn, desc: descriptor.Descriptor) -> bytes:
    data = draw(messages(desc)).SerializeToString()
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


@st.composite
def _changed(draw: st.DrawFn, desc: descriptor.Descriptor) -> bytes:
    data = bytearray(draw(messages(desc)).SerializeToString() or b"\x00")
    data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def _overlong(draw: st.DrawFn, desc: descriptor.Descriptor) -> bytes:
    body = draw(messages(desc)).SerializeToString()
    number = draw(st.sampled_from([f.number for f in desc.fields]) | st.integers(1, _MAX_FIELD))
    kind = draw(st.sampled_from(("length", "tag", "number")))
    if kind == "length":  # a length-delimited field claiming more than follows
        return varint(number << 3 | _LEN) + varint(len(body) + draw(st.integers(1, 2**32))) + body
    padding = draw(st.integers(0, 10))
    if kind == "tag":
        return varint(number << 3, padding) + b"\x01" + body
    return varint(number << 3) + varint(draw(st.integers(0, 2**64 - 1)), padding) + body


def encodings(desc: descriptor.Descriptor) -> st.SearchStrategy[bytes]:
    """Request bytes for ``desc``'s RPC: arbitrary, truncated, altered or over-long encodings."""
    return st.one_of(st.binary(max_size=512), _cut(desc), _changed(desc), _overlong(desc))
