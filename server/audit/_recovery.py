"""Where a restarted server picks the chain up: the last record on disk, checked against the head file.

Only the end of the log is read (backwards, from the newest file), so a
restart costs the same whatever the log's size. If the end is damaged — an
incomplete or malformed last line, a head file naming records the files do not
hold, a last record that does not match the head — the chain cannot simply
continue: the caller starts a new file with a restart marker naming the break.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connfacade.server.audit._chain import (
    ZERO_HASH,
    Head,
    Link,
    head_path,
    parse_line,
    read_head,
    rotated_files,
)

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from pathlib import Path

_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class DiskChain:
    """The chain as found on disk."""

    sequence: int
    """The last intact record's sequence (0: none)."""
    hash: str
    """The hash of its line (64 zeros: none)."""
    file: str
    """The name of the file that holds it ("" if none)."""
    live_first: int | None
    """The sequence of the live file's first record (None: no live file, or no record in it)."""
    head_behind: bool
    """The head file is missing or names an earlier record: rewrite it."""
    problem: str = ""
    """Why the chain cannot continue as it is ("" if it can)."""
    next_sequence: int = 0
    """After a break: the sequence of the restart marker (past every sequence the head or files used)."""


def load(path: Path) -> DiskChain:
    """Reads the end of the chain whose live file is ``path``."""
    try:
        head = read_head(head_path(path))
        head_problem = ""
    except ValueError as err:
        head, head_problem = None, str(err)
    files = [f for f in [path, *reversed(rotated_files(path))] if f.is_file()]
    with contextlib.closing(lines_backward(files)) as lines:
        return _load(path, head, head_problem, lines)


def _load(
    path: Path, head: Head | None, head_problem: str, lines: Iterator[tuple[str, bytes, bool]]
) -> DiskChain:
    damage: list[str] = []
    last: tuple[str, Link] | None = None
    for name, raw, complete in lines:
        if not complete:
            damage.append(f"{name} ends with an incomplete line (a write cut short)")
            continue
        try:
            last = name, parse_line(raw)
        except ValueError as err:
            damage.append(f"{name} ends with a malformed line ({err})")
            continue
        break

    problem = "; ".join(damage) or head_problem
    head_behind = False
    if last is None:
        if head is not None and head.sequence > 0 and not problem:
            problem = f"the head file names record {head.sequence} in {head.file}, but no record is on disk"
    elif not problem:
        problem, head_behind = _check_head(head, last[1], lines)

    live_first = _first_sequence(path) if path.is_file() else None
    seq = last[1].sequence if last else 0
    return DiskChain(
        sequence=seq,
        hash=last[1].hash if last else ZERO_HASH,
        file=last[0] if last else "",
        live_first=live_first,
        head_behind=head_behind,
        problem=problem,
        next_sequence=max(seq, head.sequence if head else 0) + 1,
    )


def _check_head(  # noqa: PLR0911 - one return per way the end can disagree with the head
    head: Head | None, last: Link, older: Iterator[tuple[str, bytes, bool]]
) -> tuple[str, bool]:
    """(why the end does not match the head or "", whether the head is behind the files)."""
    if head is None:
        return "the head file is missing, so records cut from the end could not be seen", False
    if head.sequence > last.sequence:
        return (
            f"the head file names record {head.sequence} in {head.file}, but the files end at record "
            f"{last.sequence}: records {last.sequence + 1}..{head.sequence} are lost"
        ), False
    if head.sequence == last.sequence:
        if head.hash != last.hash:
            return f"the last record ({last.sequence}) does not match the head file: it was changed", False
        return "", False
    # The head is behind: records were appended after the head was last
    # written (a crash in between). They must still link back to the head's record.
    expected_seq, expected_hash = last.sequence - 1, last.previous_hash
    for name, raw, complete in older:
        try:
            link = parse_line(raw) if complete else None
        except ValueError:
            link = None
        if link is None or link.sequence != expected_seq or link.hash != expected_hash:
            return f"the records after the head file's record {head.sequence} do not link ({name})", False
        if link.sequence == head.sequence:
            if link.hash != head.hash:
                return f"record {head.sequence} does not match the head file: it was changed", False
            return "", True
        expected_seq, expected_hash = link.sequence - 1, link.previous_hash
    return f"the head file names record {head.sequence}, which is not on disk", False


def lines_backward(files: list[Path]) -> Generator[tuple[str, bytes, bool]]:
    """(file name, line without newline, complete) from the last line of the first file backwards.

    A file's bytes after its last newline come first, as an incomplete line
    (skipped when empty).
    """
    for path in files:
        with path.open("rb") as f:
            pos = f.seek(0, os.SEEK_END)
            if pos == 0:
                continue
            carry = b""  # the start of the line being read, leftwards
            at_end = True  # the next part found is what follows the file's last newline
            while pos > 0:
                step = min(_BLOCK, pos)
                pos -= step
                f.seek(pos)
                parts = (f.read(step) + carry).split(b"\n")
                carry = parts[0]
                for part in reversed(parts[1:]):
                    if at_end:
                        at_end = False
                        if part:
                            yield path.name, part, False
                        continue
                    yield path.name, part, True
            yield path.name, carry, not at_end  # the first line (incomplete if the file has no newline)


def _first_sequence(path: Path) -> int | None:
    """The sequence of the first parseable record in ``path``."""
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                return None
            try:
                return parse_line(raw[:-1]).sequence
            except ValueError:
                continue
    return None
