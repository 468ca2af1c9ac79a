"""docs/deploy.md keeps up with the settings and the files it documents."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from connfacade.server import config
from connfacade.server.testing import serve

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "deploy.md").read_text()
# `docker run` options that take a value; the first other word that is not an option is the image.
DOCKER_VALUE_OPTIONS = frozenset({"-e", "--env", "-p", "--publish", "--tmpfs", "-v", "--volume", "--name"})


def test_every_setting_the_server_reads_is_documented():
    documented = set(re.findall(r"`(CONNFACADE_[A-Z_]+)`", DOC))
    assert set(config._ENV.values()) <= documented, set(config._ENV.values()) - documented


def test_every_deploy_file_named_in_the_doc_exists():
    for path in re.findall(r"`((?:deploy|tests)/[\w./-]+)`", DOC):
        assert (REPO / path).exists(), path


def docker_run_example() -> tuple[dict[str, list[str]], list[str]]:
    """The doc's `docker run` example: its options by name, and the words after the image name."""
    (block,) = re.findall(r"```sh\n(docker run .*?)```", DOC, re.DOTALL)
    words = shlex.split(block.replace("\\\n", " "))[2:]
    options: dict[str, list[str]] = {}
    while words[0].startswith("-"):
        name = words.pop(0)
        options.setdefault(name, []).append(words.pop(0) if name in DOCKER_VALUE_OPTIONS else "")
    return options, words[1:]


def _free_port(address: str) -> str:
    """The same host on port 0: tests run side by side and must not clash on fixed ports."""
    if address.startswith("unix:") or address in {"", "off"}:
        return address
    return f"{address.rpartition(':')[0]}:0"


def test_the_docker_example_publishes_the_api_on_the_hosts_loopback_only():
    """The example's API has no authentication, so only the machine running Docker may reach it."""
    options, _ = docker_run_example()
    published = options.get("-p", []) + options.get("--publish", [])
    assert published
    assert all(p.startswith("127.0.0.1:") for p in published), published


async def test_the_docker_example_starts_with_the_settings_it_documents(image_env: dict[str, str]):
    """The image's environment plus the example's `-e` settings: the server starts and stops cleanly.

    Only port numbers change (to free ones); hosts, backend and every other setting are the example's.
    """
    options, argv = docker_run_example()
    settings = dict(image_env) | dict(e.split("=", 1) for e in options.get("-e", []))
    settings.setdefault("CONNFACADE_EMULATOR_ADDRESS", config.DEFAULT_EMULATOR)
    for name in ("CONNFACADE_LISTEN", "CONNFACADE_HEALTH_ADDRESS", "CONNFACADE_METRICS_ADDRESS"):
        settings[name] = ",".join(_free_port(a) for a in settings[name].split(","))
    settings["CONNFACADE_EMULATOR_ADDRESS"] = _free_port(settings["CONNFACADE_EMULATOR_ADDRESS"])
    served = await serve(*argv, env=settings)
    try:
        assert re.fullmatch(r"0\.0\.0\.0:\d+", served.address)
    finally:
        ended = await served.stop()
    assert ended.code == 0, ended.err
