"""Whatever a caller puts in `authorization`, the authenticator answers a principal or UNAUTHENTICATED."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connfacade.server.domain import Unauthenticated
from connfacade.server.security import Authenticator, hash_token, parse_principals

TOKEN = "the-one-good-token-0123456789"
DIRECTORY = parse_principals(
    f'[[principals]]\nname = "p"\nrole = "viewer"\ntoken_sha256 = "{hash_token(TOKEN)}"\n'
    '[[principals]]\nname = "c"\nrole = "viewer"\ntls_subject = "CN=c,O=Example"\n'
)
AUTH = Authenticator(DIRECTORY)


def no_certificate() -> dict[str, list[bytes]]:
    return {}


@given(st.text())
def test_any_authorization_value_is_answered_without_a_crash(value: str):
    """Random header values never raise anything but Unauthenticated, and never find a principal by luck."""
    try:
        principal = AUTH.authenticate({"authorization": value}, no_certificate)
    except Unauthenticated:
        return
    assert value.strip()[7:].strip() == TOKEN  # only the real token gets in
    assert principal.name == "p"


@given(st.binary())
def test_any_certificate_subject_is_answered_without_a_crash(subject: bytes):
    """Whatever bytes TLS reports as the subject, the answer is a principal or Unauthenticated."""
    try:
        principal = AUTH.authenticate({}, lambda: {"x509_subject": [subject]})
    except Unauthenticated:
        return
    assert principal.name == "c"


def test_the_scheme_is_case_insensitive():
    """`bearer`, `Bearer` and `BEARER` are the same scheme (RFC 6750 follows RFC 7235)."""
    for scheme in ("bearer", "Bearer", "BEARER"):
        assert AUTH.authenticate({"authorization": f"{scheme} {TOKEN}"}, no_certificate).name == "p"


def test_without_a_directory_everyone_is_anonymous():
    assert (
        Authenticator().authenticate({"authorization": "Bearer whatever"}, no_certificate).name == "anonymous"
    )
