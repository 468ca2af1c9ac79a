"""Scope matching: name prefixes, ARN prefixes, and CodeStar's two ARN spellings."""

from __future__ import annotations

import pytest

from connfacade.server.security import Principal, Role

OLD = "arn:aws:codestar-connections:us-east-1:123456789012:"
NEW = "arn:aws:codeconnections:us-east-1:123456789012:"
CONNECTION = "connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61"


@pytest.mark.parametrize(
    ("scope", "arn"),
    [(OLD, OLD + CONNECTION), (OLD, NEW + CONNECTION), (NEW, OLD + CONNECTION), (NEW, NEW + CONNECTION)],
    ids=["old-scope-old-arn", "old-scope-new-arn", "new-scope-old-arn", "new-scope-new-arn"],
)
def test_an_arn_scope_matches_either_spelling_of_a_codestar_arn(scope, arn):
    """AWS renamed CodeStar connections in 2024: both ARN prefixes name the same resources."""
    assert Principal("team", Role.VIEWER, scopes=(scope,)).may_access(arn=arn)


def test_an_arn_scope_of_another_account_does_not_match():
    """The rename is the only equivalence: the account still has to match."""
    other = "arn:aws:codeconnections:us-east-1:999999999999:"
    assert not Principal("team", Role.VIEWER, scopes=(other,)).may_access(arn=OLD + CONNECTION)


def test_a_name_scope_matches_by_prefix_only():
    """Name scopes are prefixes of the resource's name, never of its ARN."""
    principal = Principal("team", Role.VIEWER, scopes=("team-a-",))
    assert principal.may_access(name="team-a-web")
    assert not principal.may_access(name="team-b-web", arn="arn:aws:apprunner:team-a-")
