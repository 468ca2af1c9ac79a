"""The deployment artifacts, read once per session: the Dockerfile, the composed manifests, the IAM policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dockerfile_lite
import kustomize_lite
import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUSTOMIZATIONS = {
    "base": DEPLOY / "k8s" / "base",
    "shared": DEPLOY / "k8s" / "overlays" / "shared",
}


@pytest.fixture(scope="session")
def stages() -> list[dockerfile_lite.Stage]:
    """The build stages of deploy/Dockerfile."""
    return dockerfile_lite.stages((DEPLOY / "Dockerfile").read_text())


@pytest.fixture(scope="session")
def image_env(stages: list[dockerfile_lite.Stage]) -> dict[str, str]:
    """The environment the image sets (its final stage's ENV)."""
    return stages[-1].env()


@pytest.fixture(scope="session")
def composed() -> dict[str, list[dict[str, Any]]]:
    """Every kustomization's resources, as `kustomize build` would print them."""
    return {name: kustomize_lite.build(path) for name, path in KUSTOMIZATIONS.items()}


@pytest.fixture(scope="session")
def policy() -> dict[str, Any]:
    """deploy/iam/policy.json."""
    return json.loads((DEPLOY / "iam" / "policy.json").read_text())
