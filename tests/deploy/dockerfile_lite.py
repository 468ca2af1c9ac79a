"""Reads a Dockerfile and a .dockerignore as Docker does, for the checks in test_dockerfile.py.

Without a Docker engine the image cannot be built here; these readers let
the tests check its shape statically. Dockerfile: comment lines (parser
directives included) are dropped, ``\\`` continues a line, instructions are
grouped into stages at each FROM, and ``${VAR}`` in FROM resolves against the
global ARG defaults. .dockerignore: the moby pattern rules (``*``, ``?``,
``**``, ``!`` exceptions, the last matching pattern wins, a pattern that
matches a parent directory matches everything under it).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction: its keyword in capitals, its arguments as written."""

    keyword: str
    arguments: str


@dataclass(slots=True)
class Stage:
    """A build stage: its base image, its name, its instructions after FROM."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        """The stage's instructions with ``keyword``."""
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """What the stage's ENV instructions set, later ones winning."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = shlex.split(instruction.arguments)
            if "=" in words[0]:
                for word in words:
                    key, _, value = word.partition("=")
                    values[key] = value
            else:  # the legacy form, `ENV KEY value with spaces`
                values[words[0]] = instruction.arguments.split(None, 1)[1]
        return values


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, continuation lines joined."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = (pending + line).strip()
        pending = ""
        if logical:
            keyword, _, arguments = logical.partition(" ")
            found.append(Instruction(keyword.upper(), arguments.strip()))
    if pending:
        raise ValueError("the Dockerfile ends inside a continued line")
    return found


def stages(text: str) -> list[Stage]:
    """The build stages of a Dockerfile, in order."""
    args: dict[str, str] = {}
    result: list[Stage] = []
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m[1] or m[2]], words[0])
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(base, name))
        elif not result:
            if instruction.keyword != "ARG":
                raise ValueError(f"{instruction.keyword} before the first FROM")
            key, _, default = instruction.arguments.partition("=")
            args[key] = default
        else:
            result[-1].instructions.append(instruction)
    return result


def exec_form(instruction: Instruction) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT/RUN; None for the shell form."""
    if not instruction.arguments.startswith("["):
        return None
    words = json.loads(instruction.arguments)
    if not (isinstance(words, list) and all(isinstance(w, str) for w in words)):
        raise ValueError(f"not an exec form: {instruction.arguments}")
    return words


def copy_sources(instruction: Instruction) -> list[str]:
    """The context paths a COPY reads (none when it copies from another stage)."""
    words = shlex.split(instruction.arguments)
    flags = [w for w in words if w.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        return []
    return [w for w in words if not w.startswith("--")][:-1]


# --- .dockerignore ------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out)


def ignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """The (is_exception, regex) rules of a .dockerignore, in order."""
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        rules.append((exception, _pattern_regex(pattern)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether ``path`` (relative to the context, with /) stays out of the build context."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for exception, regex in rules:
        if any(regex.fullmatch(candidate) for candidate in candidates):
            ignored = not exception
    return ignored
