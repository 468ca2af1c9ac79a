"""The deployment artifacts, read once per session."""

from __future__ import annotations

from pathlib import Path

import dockerfile_lite
import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="session")
def stages() -> list[dockerfile_lite.Stage]:
    """The build stages of deploy/Dockerfile."""
    return dockerfile_lite.stages((DEPLOY / "Dockerfile").read_text())


@pytest.fixture(scope="session")
def image_env(stages: list[dockerfile_lite.Stage]) -> dict[str, str]:
    """The environment the image sets (its final stage's ENV)."""
    return stages[-1].env()
