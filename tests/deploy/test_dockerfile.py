"""deploy/Dockerfile and its ignore file, checked statically (no Docker engine here)."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path

import dockerfile_lite
import pytest

REPO = Path(__file__).resolve().parents[2]
IGNORE_FILE = REPO / "deploy" / "Dockerfile.dockerignore"
COMPILERS = re.compile(r"\b(gcc|g\+\+|cc|clang|build-essential|make|cmake|python3?-dev|libc6?-dev)\b")


def runs(stage: dockerfile_lite.Stage) -> list[str]:
    return [i.arguments for i in stage.all("RUN")]


def command_words(run: str) -> list[str]:
    """A RUN's shell words without its leading --mount/--network flags."""
    words = shlex.split(run)
    while words and words[0].startswith("--"):
        words.pop(0)
    return words


def test_the_image_is_built_in_stages_on_slim_python_3_11(stages):
    assert len(stages) >= 2
    assert {stage.base for stage in stages} == {"python:3.11-slim"}


def test_the_first_stage_builds_the_server_wheels_under_the_pinned_constraints(stages):
    commands = [command_words(command) for command in runs(stages[0])]
    (wheel,) = [c for c in commands if c[:2] == ["pip", "wheel"]]
    constraint = wheel[wheel.index("--constraint") + 1]
    assert constraint == "constraints.txt"
    assert ".[server]" in wheel
    assert (REPO / constraint).is_file()


def test_the_final_stage_installs_from_the_built_wheels_only(stages):
    installs = [c for c in runs(stages[-1]) if "pip install" in c]
    assert installs
    for command in installs:
        assert "--no-index" in shlex.split(command)
        assert "from=build" in command  # the first stage's wheels, bind-mounted


def test_the_final_stage_installs_no_compiler(stages):
    for command in runs(stages[-1]):
        assert not COMPILERS.search(command), command


def test_the_final_stage_runs_as_a_numeric_non_root_user(stages):
    user = stages[-1].all("USER")[-1].arguments
    assert re.fullmatch(r"\d+(:\d+)?", user), "a numeric user lets Kubernetes check runAsNonRoot"
    assert all(int(part) != 0 for part in user.split(":"))


def test_the_entrypoint_is_the_exec_form_of_a_declared_console_script(stages):
    (entrypoint,) = stages[-1].all("ENTRYPOINT")
    words = dockerfile_lite.exec_form(entrypoint)
    assert words == ["connfacade", "serve"], "exec form: Python is PID 1 and gets SIGTERM itself"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert words[0] in scripts
    assert not stages[-1].all("CMD")


def test_the_environment_suits_a_read_only_root_filesystem_and_real_aws(image_env):
    assert image_env["CONNFACADE_BACKEND"] == "aws"
    assert image_env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert image_env["HOME"] == image_env["TMPDIR"] == "/tmp"  # noqa: S108 - an emptyDir in Kubernetes
    assert image_env["CONNFACADE_LISTEN"].startswith("unix:/var/run/connfacade/")
    assert image_env["CONNFACADE_HEALTH_ADDRESS"].startswith("0.0.0.0:")
    assert image_env["CONNFACADE_METRICS_ADDRESS"].startswith("0.0.0.0:")


# --- the build context ------------------------------------------------------------


@pytest.fixture(scope="module")
def rules() -> list[tuple[bool, re.Pattern[str]]]:
    return dockerfile_lite.ignore_rules(IGNORE_FILE.read_text())


def copied(stages: list[dockerfile_lite.Stage]) -> list[str]:
    return [src for i in stages[0].all("COPY") for src in dockerfile_lite.copy_sources(i)]


def test_everything_the_build_copies_is_in_the_context(stages, rules):
    sources = copied(stages)
    assert sources
    for source in sources:
        path = REPO / source
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        assert files, source
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            if "__pycache__" in relative or file.suffix == ".pyc":
                continue
            assert not dockerfile_lite.is_ignored(relative, rules), relative


def test_the_build_copies_every_package_folder_and_the_readme(stages):
    """setup.py maps folders onto the package; pyproject's readme is read while building."""
    setup = ast.parse((REPO / "setup.py").read_text())
    (roots,) = [
        ast.literal_eval(node.value)
        for node in setup.body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["ROOTS"]
    ]
    sources = {s.rstrip("/") for s in copied(stages)}
    for folder in roots.values():
        assert any(folder == s or folder.startswith(s + "/") for s in sources), folder
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["readme"] in sources


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        "bench/reads.py",
        "deploy/Dockerfile",
        "connfacade.egg-info/PKG-INFO",
        "server/__pycache__/app.cpython-311.pyc",
        "client/_generated/connfacade/__pycache__/x.pyc",
        ".aws/credentials",
    ],
)
def test_the_context_leaves_out_what_the_image_does_not_need(rules, path):
    assert dockerfile_lite.is_ignored(path, rules)
