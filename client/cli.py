"""The ``connfacade`` command."""


def main() -> None:
    raise SystemExit("not yet")
