"""``connfacade auth``: make bearer tokens and the hashes a principals file stores.

``new-token`` prints a fresh random token (give it to the caller) and its
SHA-256 (put it in the principals file). ``hash-token`` reads a token from
standard input, so it never shows up in the shell history or process list.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import TYPE_CHECKING

from connfacade.server import cliargs
from connfacade.server.security._principals import hash_token

if TYPE_CHECKING:
    from collections.abc import Sequence

TOKEN_BYTES = 32
EXIT_OK = 0
EXIT_USAGE = cliargs.EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``auth`` with ``argv``; returns the exit code."""
    parser = _parser()
    args = cliargs.parse(parser, argv)
    if isinstance(args, int):
        return args
    if args.command == "new-token":
        token = secrets.token_urlsafe(TOKEN_BYTES)
        sys.stdout.write(f'token: {token}\ntoken_sha256 = "{hash_token(token)}"\n')
        return EXIT_OK
    token = sys.stdin.readline().strip()
    if not token:
        sys.stderr.write(f"{parser.prog} hash-token: no token on standard input\n")
        return EXIT_USAGE
    sys.stdout.write(f"{hash_token(token)}\n")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="connfacade auth", description="Bearer token tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "new-token", help="print a new random token and the token_sha256 line for the principals file"
    )
    commands.add_parser("hash-token", help="print the SHA-256 of the token read from standard input")
    return parser
