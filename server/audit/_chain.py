"""The hash chain: how a record becomes a line, what links two lines, where the files and the head live.

One line per record: a JSON object whose first two members are the chain
fields, ``sequence`` (1, 2, 3, ... across files and restarts) and
``previous_hash`` (the hex SHA-256 of the previous record's line, without its
newline; 64 zeros for the first record). The head file next to the live file
names the last record written, so that cutting records off the end is seen.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

ZERO_HASH = "0" * 64
CHAIN_KEYS = ("sequence", "previous_hash")
RESTART_KEY = "audit_chain"
RESTART_VALUE = "restart"
HEAD_SUFFIX = ".head"
LOCK_SUFFIX = ".lock"

_HEX64 = re.compile(r"[0-9a-f]{64}")
_ROTATED = re.compile(r"(?P<base>.+)\.(?P<first>\d{12})")


def encode_body(record: Mapping[str, Any]) -> bytes:
    """The record as compact ASCII JSON; the chain fields are spliced in front by `chain_line`.

    ASCII keeps every record on one line whatever it holds (JSON escapes
    newlines, and ``\\u2028`` stays escaped too); values JSON cannot hold are
    written as their ``str()``.
    """
    reserved = [key for key in CHAIN_KEYS if key in record]
    if reserved:
        raise ValueError(f"audit records must not carry the chain fields {reserved}; the sink sets them")
    return json.dumps(record, separators=(",", ":"), default=str).encode("ascii")


def chain_line(body: bytes, sequence: int, previous_hash: str) -> bytes:
    """The line of record ``sequence`` (without its newline): chain fields first, then the body's members."""
    rest = body[1:]  # body is a JSON object: "{...}"
    sep = b"" if rest == b"}" else b","
    return b'{"sequence":%d,"previous_hash":"%s"%s%s' % (sequence, previous_hash.encode("ascii"), sep, rest)


def line_hash(line: bytes) -> str:
    """The hash the next record links to: SHA-256 of the exact line bytes, without the newline."""
    return hashlib.sha256(line).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """What the chain needs of one line."""

    sequence: int
    previous_hash: str
    hash: str
    restart: str | None = None
    """For a restart marker: the break the server found on disk when it started."""
    stage: str = ""
    """For a mutation's record: ``intent``, ``completion`` or ``outcome`` ("" if the record has none)."""
    event_id: str = ""
    intent_id: str = ""
    """For a completion: the eventID of its intent."""


def parse_line(line: bytes) -> Link:
    """The chain fields of a line (without newline); ValueError says why it is not a record."""
    if not line.strip():
        raise ValueError("empty line")
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"not JSON ({err})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 - bad data in a file, not a caller's bad type
    sequence = obj.get("sequence")
    if type(sequence) is not int or sequence < 1:
        raise ValueError("no valid sequence")
    previous = obj.get("previous_hash")
    if not isinstance(previous, str) or not _HEX64.fullmatch(previous):
        raise ValueError("no valid previous_hash")
    restart = None
    if obj.get(RESTART_KEY) == RESTART_VALUE:
        restart = str(obj.get("reason", "no reason given"))
    return Link(
        sequence,
        previous,
        line_hash(line),
        restart,
        stage=_text(obj.get("stage")),
        event_id=_text(obj.get("eventID")),
        intent_id=_text(obj.get("intentID")),
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def restart_marker(reason: str, time: str) -> dict[str, Any]:
    """The record a server writes when it could not continue the chain found on disk."""
    return {RESTART_KEY: RESTART_VALUE, "reason": reason, "time": time}


# --- files -------------------------------------------------------------------


def rotated_path(path: Path, first_sequence: int) -> Path:
    """Where a full live file goes: ``<path>.<sequence of its first record, 12 digits>``."""
    return path.with_name(f"{path.name}.{first_sequence:012d}")


def split_rotated(name: str) -> tuple[str, int | None]:
    """``audit.jsonl.000000000001`` -> (``audit.jsonl``, 1); any other name -> (name, None)."""
    match = _ROTATED.fullmatch(name)
    if match is None:
        return name, None
    return match["base"], int(match["first"])


def rotated_files(path: Path) -> list[Path]:
    """The rotated files of the live file ``path``, oldest first (by the first sequence in their name)."""
    found: list[tuple[int, Path]] = []
    if not path.parent.is_dir():
        return []
    for child in path.parent.iterdir():
        base, first = split_rotated(child.name)
        if first is not None and base == path.name and child.is_file():
            found.append((first, child))
    return [p for _, p in sorted(found)]


def head_path(path: Path) -> Path:
    """The head file of the live file ``path``."""
    return path.with_name(path.name + HEAD_SUFFIX)


@dataclass(frozen=True, slots=True)
class Head:
    """The last record written: its sequence, the hash of its line, the file that held it then."""

    sequence: int
    hash: str
    file: str


def read_head(path: Path) -> Head | None:
    """The head file's content; None if there is none; ValueError if it is not a head."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):  # nested too deep for the parser: not a head either
        raise ValueError("the head file is not JSON") from None
    if (
        not isinstance(obj, dict)
        or type(obj.get("sequence")) is not int
        or obj["sequence"] < 0
        or not isinstance(obj.get("hash"), str)
        or not _HEX64.fullmatch(obj["hash"])
        or not isinstance(obj.get("file"), str)
    ):
        raise ValueError('the head file is not {"sequence", "hash", "file"}')
    return Head(obj["sequence"], obj["hash"], obj["file"])


class HeadFile:
    """The head file, rewritten in place after every append.

    One write of 512 bytes at offset 0 — one disk sector, which disks write
    whole or not at all (PostgreSQL keeps ``pg_control`` under 512 bytes for
    the same reason). A temporary file renamed over the head would be the
    textbook atomic replace, but on ext4 each rename over a file forces
    writeback of the new one (``auto_da_alloc``): ~340 µs per record
    measured, more than an fsync, against ~3 µs for this write. A head torn
    anyway is not JSON, which a restart reports as a break; never accepted.
    """

    SIZE = 512

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, head: Head) -> None:
        """Replaces the content with ``head`` (JSON, space-padded to one sector, newline-terminated)."""
        data = json.dumps({"sequence": head.sequence, "hash": head.hash, "file": head.file}).encode()
        data = data.ljust(self.SIZE - 1) + b"\n"  # a file name too long for a sector makes it longer
        if os.pwrite(self._fd, data, 0) != len(data):
            raise OSError(errno.EIO, "short write of the head file")
        if self._size != len(data):
            os.ftruncate(self._fd, len(data))
            self._size = len(data)

    def close(self) -> None:
        os.close(self._fd)


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a short write is legal, if rare, on a regular file)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
