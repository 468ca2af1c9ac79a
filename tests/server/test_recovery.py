"""Recovery asks AWS (the emulator, through the real backend) what an open intent's mutation did."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from connfacade.server.domain import Service
from connfacade.server.operations.recovery import Recovery

HOST_ENDPOINT = "https://git.example.com"


def intent(method: str, seconds_ago: float = 0, **params: object) -> dict[str, object]:
    """An intent as the audit trail writes it (the parts recovery reads)."""
    when = datetime.fromtimestamp(time.time() - seconds_ago, tz=UTC).isoformat()
    return {"stage": "intent", "method": method, "eventTime": when, "requestParameters": params}


async def apprunner_connection(backend, name: str) -> str:
    out = await backend.call(
        Service.APPRUNNER, "CreateConnection", {"ConnectionName": name, "ProviderType": "GITHUB"}
    )
    return str(out["Connection"]["ConnectionArn"])


async def host(backend, name: str) -> str:
    out = await backend.call(
        Service.CODESTAR,
        "CreateHost",
        {"Name": name, "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": HOST_ENDPOINT},
    )
    return str(out["HostArn"])


async def test_a_create_that_reached_aws_is_applied_with_its_arn(backend):
    """The connection exists, made after the intent: applied, and the ARN it made."""
    arn = await apprunner_connection(backend, "made-by-intent")
    found = await Recovery(backend).what_happened(
        intent("apprunner.CreateConnection", connection_name="made-by-intent")
    )
    assert (found.result, found.arn) == ("applied", arn)


async def test_a_create_that_never_reached_aws_is_not_applied(backend):
    """No connection of that name: not applied."""
    found = await Recovery(backend).what_happened(
        intent("apprunner.CreateConnection", connection_name="never-made")
    )
    assert (found.result, found.arn) == ("not_applied", "")


async def test_a_connection_older_than_the_intent_is_not_the_intents(backend):
    """A connection of that name created well before the intent: the create must have failed on the name."""
    await apprunner_connection(backend, "already-there")
    later = intent("apprunner.CreateConnection", seconds_ago=-3600, connection_name="already-there")
    found = await Recovery(backend).what_happened(later)
    assert found.result == "not_applied"
    assert found.found["reason"] == "the connection existed before the intent"


async def test_a_delete_is_applied_when_the_connection_is_gone(backend):
    """DeleteConnection: applied once AWS lists it no more (or as DELETED), not applied while it is there."""
    arn = await apprunner_connection(backend, "to-delete")
    recovery = Recovery(backend)
    assert (
        await recovery.what_happened(intent("apprunner.DeleteConnection", connection_arn=arn))
    ).result == ("not_applied")
    await backend.call(Service.APPRUNNER, "DeleteConnection", {"ConnectionArn": arn})
    assert (
        await recovery.what_happened(intent("apprunner.DeleteConnection", connection_arn=arn))
    ).result == ("applied")


async def test_tags_are_applied_when_the_resource_has_them(backend):
    """TagResource: applied when every tag has the value asked for; UntagResource: when the keys are gone."""
    arn = await apprunner_connection(backend, "tagged")
    recovery = Recovery(backend)
    tags = [{"key": "team", "value": "payments"}]
    assert (
        await recovery.what_happened(intent("apprunner.TagResource", resource_arn=arn, tags=tags))
    ).result == ("not_applied")
    await backend.call(
        Service.APPRUNNER, "TagResource", {"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "payments"}]}
    )
    assert (
        await recovery.what_happened(intent("apprunner.TagResource", resource_arn=arn, tags=tags))
    ).result == ("applied")
    untag = intent("apprunner.UntagResource", resource_arn=arn, tag_keys=["team"])
    assert (await recovery.what_happened(untag)).result == "not_applied"


async def test_a_codestar_host_create_takes_the_one_unclaimed_host_of_its_name(backend):
    """Names need not be unique in CodeStar: a host another record claims is not this intent's."""
    arn = await host(backend, "shared-name")
    recovery = Recovery(backend)
    create = intent("codestar.CreateHost", name="shared-name")
    assert (await recovery.what_happened(create)).arn == arn
    assert (await recovery.what_happened(create, claimed=[arn])).result == "not_applied"


async def test_host_update_and_delete_compare_with_what_aws_has(backend):
    """UpdateHost: applied when the endpoint is the one asked for; DeleteHost: when the host is gone."""
    arn = await host(backend, "a-host")
    recovery = Recovery(backend)
    update = intent("codestar.UpdateHost", host_arn=arn, provider_endpoint="https://other.example.com")
    assert (await recovery.what_happened(update)).result == "not_applied"
    await backend.call(Service.CODESTAR, "DeleteHost", {"HostArn": arn})
    assert (await recovery.what_happened(intent("codestar.DeleteHost", host_arn=arn))).result == "applied"


async def test_a_redacted_name_is_unknown_rather_than_guessed(backend):
    """Parameters the policy redacted cannot be checked: unknown, saying why, and no AWS call decides it."""
    found = await Recovery(backend).what_happened(
        intent("apprunner.CreateConnection", connection_name="[REDACTED]")
    )
    assert found.result == "unknown"
    assert "connection_name" in found.found["reason"]
