"""redact: credentials out, configured fields out, positions (page and resume tokens) kept."""

from __future__ import annotations

import pytest

from connfacade.server.audit import REDACTED, redact


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "client_secret",
        "SecretAccessKey",
        "session_token",
        "SessionToken",
        "access_token",
        "x-amz-security-token",
        "Authorization",
        "proxy-authorization",
        "credentials",
        "AwsCredential",
        "cookie",
        "Set-Cookie",
        "api_key",
        "X-Api-Key",
        "private_key",
        "PrivateKeyPem",
        "passphrase",
        "ClientToken",  # an idempotency token: not a page position, so it is not kept
    ],
)
def test_secret_keys_are_redacted(key):
    """Any key naming a credential, token or authorization header, in any spelling."""
    assert redact({key: "s3cr3t"}) == {key: REDACTED}


@pytest.mark.parametrize(
    "key",
    ["next_token", "NextToken", "resume_token", "page_token", "next_page_token", "ContinuationToken"],
)
def test_page_and_resume_tokens_are_kept(key):
    """They are positions in a listing or a stream, not credentials."""
    assert redact({key: "opaque-position"}) == {key: "opaque-position"}


@pytest.mark.parametrize("key", ["tls_certificate", "connection_arn", "Key", "tags", "status", "host_arn"])
def test_ordinary_keys_are_kept(key):
    """A certificate is public; a tag's Key is not a key."""
    assert redact({key: "value"}) == {key: "value"}


def test_secrets_are_redacted_at_any_depth():
    """Inside nested objects and lists, however deep."""
    params = {
        "outer": {"inner": [{"password": "p", "name": "n"}, {"deeper": {"api_key": "k"}}]},
        "headers": {"Authorization": "Bearer t", "user-agent": "ua"},
    }
    assert redact(params) == {
        "outer": {"inner": [{"password": REDACTED, "name": "n"}, {"deeper": {"api_key": REDACTED}}]},
        "headers": {"Authorization": REDACTED, "user-agent": "ua"},
    }


def test_a_secret_subtree_is_redacted_whole():
    """A credentials object is replaced, not searched."""
    assert redact({"credentials": {"access_key_id": "AKIA", "expires": 1}}) == {"credentials": REDACTED}


def test_headers_as_name_value_pairs_are_redacted():
    """gRPC metadata travels as (name, value) pairs."""
    metadata = [("authorization", "Bearer t"), ("x-request-id", "r1"), ["cookie", "c"]]
    assert redact({"metadata": metadata}) == {
        "metadata": [("authorization", REDACTED), ("x-request-id", "r1"), ["cookie", REDACTED]]
    }


def test_configured_field_paths_are_redacted():
    """Dotted paths from the configuration; lists are transparent; matching ignores case and underscores."""
    params = {
        "connection_name": "c",
        "tags": [{"key": "team", "value": "x"}],
        "vpc_configuration": {"vpc_id": "v", "tls_certificate": "PEM"},
        "VpcConfiguration": {"VpcId": "v", "TlsCertificate": "PEM"},
        "hosts": [{"provider_endpoint": "https://a"}, {"provider_endpoint": "https://b"}],
    }
    fields = ["tags", "vpc_configuration.tls_certificate", "hosts.provider_endpoint", ""]
    assert redact(params, fields=fields) == {
        "connection_name": "c",
        "tags": REDACTED,
        "vpc_configuration": {"vpc_id": "v", "tls_certificate": REDACTED},
        "VpcConfiguration": {"VpcId": "v", "TlsCertificate": REDACTED},
        "hosts": [{"provider_endpoint": REDACTED}, {"provider_endpoint": REDACTED}],
    }


def test_a_path_matches_only_from_the_top():
    """``tls_certificate`` alone does not reach into vpc_configuration."""
    params = {"vpc_configuration": {"tls_certificate": "PEM"}}
    assert redact(params, fields=["tls_certificate"]) == params


def test_the_result_is_a_deep_copy_and_the_input_is_untouched():
    params = {"a": {"b": [1, {"c": [2]}]}, "token": "t"}
    result = redact(params)
    result["a"]["b"][1]["c"].append(3)

    assert params == {"a": {"b": [1, {"c": [2]}]}, "token": "t"}
    assert result["token"] == REDACTED
