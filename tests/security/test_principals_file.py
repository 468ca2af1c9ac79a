"""The principals file: what it accepts, and the precise error for what it does not."""

from __future__ import annotations

import pytest

from connfacade.server.security import PrincipalsFileError, Role, hash_token, parse_principals

TOKEN = "s3cret-token-value"
DIGEST = hash_token(TOKEN)


def test_a_token_finds_its_principal_with_role_scopes_and_limits():
    """Every field of an entry is read."""
    directory = parse_principals(
        f"""
        [[principals]]
        name = "billing"
        role = "editor"
        token_sha256 = "{DIGEST}"
        scopes = ["billing-", "arn:aws:apprunner:us-east-1:123456789012:connection/shared-"]
        rate_limit = 2.5
        rate_burst = 5
        max_calls = 7
        max_watchers = 3
        """
    )
    principal = directory.by_token(TOKEN)
    assert principal is not None
    assert (
        principal.name,
        principal.role,
        principal.rate_limit,
        principal.rate_burst,
        principal.max_calls,
        principal.max_watchers,
    ) == (
        "billing",
        Role.EDITOR,
        2.5,
        5,
        7,
        3,
    )
    assert principal.scopes == ("billing-", "arn:aws:apprunner:us-east-1:123456789012:connection/shared-")


def test_an_unknown_token_finds_nobody():
    directory = parse_principals(f'[[principals]]\nname = "a"\nrole = "viewer"\ntoken_sha256 = "{DIGEST}"\n')
    assert directory.by_token("other") is None


def test_a_certificate_subject_finds_its_principal():
    directory = parse_principals(
        '[[principals]]\nname = "d"\nrole = "viewer"\ntls_subject = "CN=d,O=Example"\n'
    )
    principal = directory.by_subject("CN=d,O=Example")
    assert principal is not None
    assert principal.name == "d"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('role = "viewer"\ntoken_sha256 = "{d}"', "principals[0].name: required"),
        ('name = "a"\nrole = "admin"\ntoken_sha256 = "{d}"', "principals[0].role: must be one of"),
        ('name = "a"\nrole = "viewer"', "needs token_sha256 or tls_subject"),
        ('name = "a"\nrole = "viewer"\ntoken_sha256 = "plaintext-token"', "64 lowercase hex digits"),
        ('name = "a"\nrole = "viewer"\ntoken_sha256 = "{d}"\nscopes = "team-"', "principals[0].scopes"),
        ('name = "a"\nrole = "viewer"\ntoken_sha256 = "{d}"\nrate_limit = -1', "principals[0].rate_limit"),
        ('name = "a"\nrole = "viewer"\ntoken_sha256 = "{d}"\nmax_calls = 2.5', "principals[0].max_calls"),
        ('name = "a"\nrole = "viewer"\ntoken_sha256 = "{d}"\ncolour = "red"', "unknown keys ['colour']"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(entry: str, message: str):
    with pytest.raises(PrincipalsFileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_principals("[[principals]]\n" + entry.format(d=DIGEST) + "\n")


def test_the_same_name_twice_is_refused():
    entry = f'[[principals]]\nname = "a"\nrole = "viewer"\ntoken_sha256 = "{DIGEST}"\n'
    other = f'[[principals]]\nname = "a"\nrole = "viewer"\ntoken_sha256 = "{hash_token("x")}"\n'
    with pytest.raises(PrincipalsFileError, match="appears twice"):
        parse_principals(entry + other)


def test_the_same_token_for_two_principals_is_refused():
    first = f'[[principals]]\nname = "a"\nrole = "viewer"\ntoken_sha256 = "{DIGEST}"\n'
    second = f'[[principals]]\nname = "b"\nrole = "editor"\ntoken_sha256 = "{DIGEST}"\n'
    with pytest.raises(PrincipalsFileError, match="the same token twice"):
        parse_principals(first + second)


def test_text_that_is_not_toml_is_refused():
    with pytest.raises(PrincipalsFileError, match="not valid TOML"):
        parse_principals("[[principals]\nname=")
