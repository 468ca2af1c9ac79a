"""Checks an audit log's hash chain and names the first record that was edited, removed, reordered or cut.

The chain proves order and integrity against edits that do not rewrite every
later record and the head file too: it is a checksum chain, not a signature.
Anchoring the head's hash somewhere else (another system, a ticket) is what
guards against a complete rewrite.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from connfacade.server.audit._chain import (
    HEAD_SUFFIX,
    LOCK_SUFFIX,
    ZERO_HASH,
    Head,
    Link,
    head_path,
    parse_line,
    read_head,
    rotated_files,
    split_rotated,
)
from connfacade.server.audit._intents import Pairing

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Sequence
    from typing import BinaryIO


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of `verify`: ok (an intact chain), or the first problem and where it is (``FILE:LINE``).

    ``findings`` are about the records of an intact chain: intents without a
    completion, and completions that name no open intent (``FILE:LINE: what``).
    """

    ok: bool
    records: int
    """Records checked (up to the problem, if any)."""
    files: int
    problem: str = ""
    where: str = ""
    intents: int = 0
    """Intents seen (mutations sent to AWS)."""
    findings: tuple[str, ...] = ()


def verify(paths: Sequence[Path]) -> VerifyResult:
    """Checks the audit logs at ``paths``: files, or directories (every audit file in them).

    The files of one log (the live file, its rotated files, its head file
    next to them) are checked as one chain, ordered by the sequence of their
    first record. A chain must start at record 1: checking only the newest
    files of a log reports the older records as missing. Raises
    FileNotFoundError for a path that does not exist and ValueError when
    there is nothing to check.
    """
    logs = _discover(paths)
    records = files = intents = 0
    findings: list[str] = []
    for log in logs:
        outcome = _verify_log(log)
        records += outcome.records
        files += outcome.files
        if outcome.problem:
            return VerifyResult(False, records, files, outcome.problem, outcome.where)
        intents += outcome.pairing.intents
        findings += outcome.pairing.findings()
    return VerifyResult(True, records, files, intents=intents, findings=tuple(findings))


# --- which files ------------------------------------------------------------


@dataclass(slots=True)
class _Log:
    live: Path
    files: set[Path] = field(default_factory=set)
    listed: bool = False
    """Found by listing a directory: listed again when checked, as a live log may have rotated since."""


def _discover(paths: Sequence[Path]) -> list[_Log]:
    if not paths:
        raise ValueError("no path given")
    logs: dict[Path, _Log] = {}
    for given in map(Path, paths):
        if given.is_dir():
            for child in sorted(given.iterdir()):
                if child.is_file() and not child.name.startswith("."):
                    _add(logs, child, listed=True)
        elif given.is_file():
            _add(logs, given, listed=False)
        elif not given.exists():
            raise FileNotFoundError(f"no such file or directory: {given}")
        else:
            raise ValueError(f"not a file or directory: {given}")
    if not logs:
        raise ValueError(f"no audit files in {', '.join(map(str, paths))}")
    return [logs[live] for live in sorted(logs)]


def _add(logs: dict[Path, _Log], path: Path, *, listed: bool) -> None:
    name = path.name
    if name.endswith(LOCK_SUFFIX):
        return
    if name.endswith(HEAD_SUFFIX):  # a head without files still says how far the chain went
        live = path.with_name(name.removesuffix(HEAD_SUFFIX))
        logs.setdefault(live, _Log(live)).listed |= listed
        return
    live = path.with_name(split_rotated(name)[0])
    log = logs.setdefault(live, _Log(live))
    log.files.add(path)
    log.listed |= listed


def _open_files(log: _Log, stack: contextlib.ExitStack) -> list[tuple[Path, BinaryIO]]:
    """The log's files, opened, in chain order.

    A listed log's live file is opened before its rotated files are listed.
    An open file survives the rename of a rotation, so each record written
    before then is read once, from the live file opened or from a rotated
    file listed after its rename; the two are one file (same inode), which
    is read once, under its newer name.
    """
    opened: dict[tuple[int, int], tuple[Path, BinaryIO]] = {}

    def add(path: Path) -> None:
        f = stack.enter_context(path.open("rb"))
        stat = os.fstat(f.fileno())
        opened[stat.st_dev, stat.st_ino] = (path, f)

    if log.listed:
        with contextlib.suppress(FileNotFoundError):  # a crash between a rotation's rename and the new file
            add(log.live)
        for path in rotated_files(log.live):
            add(path)
    else:
        for path in sorted(log.files):
            add(path)
    return sorted(opened.values(), key=_chain_order)


def _chain_order(item: tuple[Path, BinaryIO]) -> tuple[int, str]:
    """By the first record's sequence; else by the sequence in a rotated name; else last."""
    path, f = item
    raw = f.readline()
    f.seek(0)
    first = None
    with contextlib.suppress(ValueError):
        first = parse_line(raw.removesuffix(b"\n")).sequence
    if first is None:
        first = split_rotated(path.name)[1]
    return (first if first is not None else 2**63, path.name)


# --- one chain ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    file: Path
    line: int
    link: Link | None
    error: str = ""
    complete: bool = True

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class _Outcome:
    records: int
    files: int = 0
    problem: str = ""
    where: str = ""
    pairing: Pairing = field(default_factory=Pairing)


def _verify_log(log: _Log) -> _Outcome:
    head_file = head_path(log.live)
    try:
        # Before the files: a writer appends, then moves the head, so every
        # record up to the head's is in the files read after it.
        head = read_head(head_file)
    except ValueError as err:
        return _Outcome(0, problem=str(err), where=f"{head_file}:1")
    with contextlib.ExitStack() as stack:
        opened = _open_files(log, stack)
        entries = stack.enter_context(contextlib.closing(_entries(opened)))
        outcome = _Walk(head, head_file, [path for path, _ in opened], entries).run()
        return dataclasses.replace(outcome, files=len(opened))


def _entries(opened: list[tuple[Path, BinaryIO]]) -> Generator[_Entry]:
    for path, f in opened:
        for number, raw in enumerate(f, start=1):
            complete = raw.endswith(b"\n")
            line = raw[:-1] if complete else raw
            try:
                link, error = parse_line(line), ""
            except ValueError as err:
                link, error = None, str(err)
            yield _Entry(path, number, link, error, complete)


class _Walk:
    """One pass over a chain's lines, with one line of lookahead."""

    def __init__(
        self, head: Head | None, head_file: Path, files: list[Path], entries: Iterator[_Entry]
    ) -> None:
        self.head = head
        self.head_file = head_file
        self.files = files
        self.entries = entries
        self.peeked: _Entry | None = None
        self.prev: _Entry | None = None
        self.records = 0
        self.pairing = Pairing()

    def run(self) -> _Outcome:
        while (entry := self._next()) is not None:
            if (outcome := self._check(entry)) is not None:
                return outcome
            self.records += 1
            self.prev = entry
            if (link := entry.link) is not None and link.stage:
                self.pairing.add(link.stage, link.event_id, link.intent_id, entry.where)
        outcome = self._check_end()
        return outcome if outcome.problem else dataclasses.replace(outcome, pairing=self.pairing)

    def _next(self) -> _Entry | None:
        if self.peeked is not None:
            entry, self.peeked = self.peeked, None
            return entry
        return next(self.entries, None)

    def _peek(self) -> _Entry | None:
        if self.peeked is None:
            self.peeked = next(self.entries, None)
        return self.peeked

    def _check(self, entry: _Entry) -> _Outcome | None:  # noqa: PLR0911 - one return per kind of problem
        if not entry.complete:
            return self._fail(
                entry,
                "truncated: the last line is incomplete (no newline), a record was cut short"
                + self._head_says(),
            )
        if entry.link is None:
            return self._fail(entry, f"malformed line: {entry.error}")
        link = entry.link
        if link.restart is not None:
            return self._fail(
                entry, f"the chain was broken here; on restart the server found: {link.restart}"
            )
        if self.prev is None or self.prev.link is None:
            if link.sequence != 1:
                return self._fail(
                    entry,
                    f"the chain starts at record {link.sequence}: records 1..{link.sequence - 1} are missing "
                    "(an earlier rotated file was removed, or not given)",
                )
            if link.previous_hash != ZERO_HASH:
                return self._fail(entry, "record 1 was edited: its previous_hash should be 64 zeros")
        elif (outcome := self._check_link(self.prev, self.prev.link, entry, link)) is not None:
            return outcome
        if self.head is not None and link.sequence == self.head.sequence and link.hash != self.head.hash:
            return self._fail(
                entry,
                f"record {link.sequence} was edited: its SHA-256 does not match the head file "
                f"({self.head_file.name})",
            )
        return None

    def _check_link(  # noqa: PLR0911 - one return per kind of problem
        self, prev: _Entry, p: Link, entry: _Entry, link: Link
    ) -> _Outcome | None:
        linked = link.previous_hash == p.hash
        if linked and link.sequence == p.sequence + 1:
            return None
        if linked:
            return self._fail(
                entry,
                f"record {p.sequence + 1} was edited: its sequence says {link.sequence}, "
                f"though it links to record {p.sequence} before it",
            )
        if link.sequence == p.sequence + 1:
            # Either the previous record changed (so its hash did), or this one's
            # previous_hash did. If the next record (or the head) still vouches
            # for this one, this one is intact and the previous one was edited.
            if self._vouched_for(link):
                return self._fail(
                    prev,
                    f"record {p.sequence} was edited: its SHA-256 no longer matches the previous_hash "
                    f"of record {link.sequence} ({entry.where})",
                )
            return self._fail(
                entry,
                f"record {link.sequence} was edited: its previous_hash does not match record {p.sequence} "
                f"({prev.where})",
            )
        if link.sequence > p.sequence + 1:
            return self._gap(prev, p, entry, link)
        if link.sequence == p.sequence and link.hash == p.hash:
            return self._fail(
                entry, f"record {link.sequence} is duplicated: the same line is at {prev.where}"
            )
        return self._fail(entry, f"records out of order: record {link.sequence} follows record {p.sequence}")

    def _vouched_for(self, link: Link) -> bool:
        after = self._peek()
        if after is not None and after.link is not None:
            return after.link.previous_hash == link.hash
        if after is None and self.head is not None:
            return self.head.sequence == link.sequence and self.head.hash == link.hash
        return False

    def _gap(self, prev: _Entry, p: Link, entry: _Entry, link: Link) -> _Outcome:
        missing = range(p.sequence + 1, link.sequence)
        # Not len(missing): sequences come from the file, and a range that long has no len().
        one = link.sequence - p.sequence == 2  # noqa: PLR2004 - one number between the two
        span = f"record {missing[0]} is" if one else f"records {missing[0]}..{missing[-1]} are"
        found, marker = self._scan_rest(missing)
        if found is not None:
            problem = (
                f"records out of order: record {link.sequence} comes before record {missing[0]} ({found})"
            )
        elif entry.file != prev.file and entry.line == 1:
            problem = (
                f"{span} missing between {prev.file.name} and {entry.file.name}: a rotated file was removed"
            )
        else:
            problem = f"{span} missing (removed): the sequence jumps from {p.sequence} to {link.sequence}"
        return self._outcome(entry.where, problem, marker)

    def _check_end(self) -> _Outcome:
        last = self.prev
        head = self.head
        if last is None or last.link is None:
            if head is None or head.sequence == 0:
                return _Outcome(self.records)
            where = f"{self.files[0]}:1" if self.files else f"{self.head_file}:1"
            return self._outcome(
                where,
                f"truncated: the head file says the chain ends at record {head.sequence}, "
                "but the files hold no record",
                None,
            )
        if head is None:
            return self._outcome(
                last.where,
                f"the head file {self.head_file.name} is missing: records cut from the end could not be seen",
                None,
            )
        if head.sequence > last.link.sequence:
            return self._outcome(
                f"{last.file}:{last.line + 1}",
                f"truncated: the head file says the chain ends at record {head.sequence} (in {head.file}), "
                f"but the files end at record {last.link.sequence}: "
                f"records {last.link.sequence + 1}..{head.sequence} were cut from the end",
                None,
            )
        return _Outcome(self.records)

    def _head_says(self) -> str:
        if self.head is None:
            return ""
        return f"; the head file says the chain ends at record {self.head.sequence}"

    def _fail(self, entry: _Entry, problem: str) -> _Outcome:
        _, marker = self._scan_rest(range(0))
        return self._outcome(entry.where, problem, marker)

    def _outcome(self, where: str, problem: str, marker: str | None) -> _Outcome:
        if marker is not None and marker != where:
            problem += f" (the server noted a break when it restarted, at {marker})"
        return _Outcome(self.records, problem=problem, where=where)

    def _scan_rest(self, missing: range) -> tuple[str | None, str | None]:
        """In the lines not read yet: (where the first of ``missing`` is, where the first marker is)."""
        found: str | None = None
        marker: str | None = None
        while (entry := self._next()) is not None and (found is None or marker is None):
            if entry.link is None:
                continue
            if found is None and entry.link.sequence in missing:
                found = entry.where
            if marker is None and entry.link.restart is not None:
                marker = entry.where
        return found, marker
