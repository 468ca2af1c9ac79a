"""docs/deploy.md keeps up with the settings and the files it documents."""

from __future__ import annotations

import re
from pathlib import Path

from connfacade.server import config

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "deploy.md").read_text()


def test_every_setting_the_server_reads_is_documented():
    documented = set(re.findall(r"`(CONNFACADE_[A-Z_]+)`", DOC))
    assert set(config._ENV.values()) <= documented, set(config._ENV.values()) - documented


def test_every_deploy_file_named_in_the_doc_exists():
    for path in re.findall(r"`((?:deploy|tests)/[\w./-]+)`", DOC):
        assert (REPO / path).exists(), path
