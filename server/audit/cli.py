"""``connfacade audit verify PATH...``: checks audit logs' hash chains.

Exit status: 0 when every log is intact and every intent has its completion;
1 when a log is not intact (the first problem is printed as
``TAMPERED: FILE:LINE: what``); 2 for a usage error; 3 when the logs are intact
but hold intents without a completion, or completions without an open intent
(each printed as ``UNRESOLVED: FILE:LINE: what``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from connfacade.server import cliargs
from connfacade.server.audit._verify import verify

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_USAGE = cliargs.EXIT_USAGE
EXIT_UNRESOLVED = 3
MAX_FINDINGS_SHOWN = 50  # the rest are counted: a log of a long outage could hold thousands


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``audit`` with ``argv`` (default: the process's arguments after the program name)."""
    parser = _parser()
    args = cliargs.parse(parser, argv)
    if isinstance(args, int):
        return args
    try:
        result = verify(args.paths)
    except (OSError, ValueError) as err:
        sys.stderr.write(f"{parser.prog}: error: {err}\n")
        return EXIT_USAGE
    if not result.ok:
        sys.stdout.write(f"TAMPERED: {result.where}: {result.problem}\n")
        return EXIT_TAMPERED
    summary = f"{result.records} records in {result.files} files, {result.intents} intents"
    if not result.findings:
        sys.stdout.write(f"OK: {summary}, each with its completion\n")
        return EXIT_OK
    for finding in result.findings[:MAX_FINDINGS_SHOWN]:
        sys.stdout.write(f"UNRESOLVED: {finding}\n")
    if (more := len(result.findings) - MAX_FINDINGS_SHOWN) > 0:
        sys.stdout.write(f"UNRESOLVED: ... and {more} more\n")
    sys.stdout.write(f"chain intact: {summary}; {len(result.findings)} unresolved\n")
    return EXIT_UNRESOLVED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connfacade audit", description="Audit log tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser(
        "verify",
        help="check the hash chain of audit logs",
        description="Checks the hash chain of audit logs and reports OK or the first record that was edited, "
        "removed, reordered or cut off, with its FILE:LINE; in an intact log, also every intent (a mutation "
        "sent to AWS) without its completion. Exit 0: intact and complete; 1: tampered; 3: unresolved "
        "intents.",
    )
    check.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="an audit file, or a directory holding a log (live file, rotated files, head file)",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
