"""Every setting of `connfacade serve` arrives, by flag and by environment variable."""

from __future__ import annotations

import pytest

from connfacade.server import config

# A value unlike the default for each setting, as text (flag/env) and as the parsed result.
SAMPLES = {
    bool: ("off", False),
    int: ("7", 7),
    float: ("2.5", 2.5),
    tuple: ("a,b", ("a", "b")),
    str: ("something", "something"),
}
SPECIAL = {  # settings whose values are constrained by choices
    "backend": ("aws", "aws"),
    "log_level": ("debug", "debug"),
    "log_format": ("console", "console"),
    "audit_fsync": ("always", "always"),
    "aws_retry_mode": ("adaptive", "adaptive"),
    "audit_read_level": ("metadata", "metadata"),
    "listen": ("unix:/tmp/x.sock", ("unix:/tmp/x.sock",)),
    "audit_stdout": ("off", False),
    "audit_fail_open_reads": ("on", True),
}


def sample(name):
    if name in SPECIAL:
        return SPECIAL[name]
    default = getattr(config.Settings(), name)
    kind = type(default) if default is not None else str
    return SAMPLES[kind]


def flag_of(name):
    for action in config.parser()._actions:
        if action.dest == name:
            return action.option_strings[0]
    raise AssertionError(f"no flag for {name}")


@pytest.mark.parametrize("name", sorted(config._ENV))
def test_each_flag_reaches_the_settings(name):
    """`--flag VALUE` sets the field."""
    text, expected = sample(name)
    settings = config.load([flag_of(name), text], environ={})
    assert getattr(settings, name) == expected


@pytest.mark.parametrize("name", sorted(config._ENV))
def test_each_environment_variable_reaches_the_settings(name):
    """CONNFACADE_* sets the field when no flag does."""
    text, expected = sample(name)
    settings = config.load([], environ={config._ENV[name]: text})
    assert getattr(settings, name) == expected


def test_flags_win_over_the_environment():
    """A flag overrides its environment variable."""
    settings = config.load(["--poll-fast", "3"], environ={"CONNFACADE_POLL_FAST": "9"})
    assert settings.poll_fast == 3.0


def test_store_settings_carry_every_store_field():
    """What the flags say about the store reaches the store."""
    settings = config.load(
        [
            "--max-staleness",
            "1",
            "--stale-limit",
            "2",
            "--poll-fast",
            "3",
            "--poll-slow",
            "4",
            "--poll-max-backoff",
            "5",
            "--watch-buffer",
            "6",
            "--max-watchers",
            "7",
            "--bookmark-interval",
            "8",
            "--history-limit",
            "9",
            "--poll-pending-window",
            "10",
        ],
        environ={},
    )
    store = settings.store_settings
    assert (store.max_staleness, store.stale_limit) == (1.0, 2.0)
    assert (store.intervals.fast, store.intervals.slow, store.intervals.max_backoff) == (3.0, 4.0, 5.0)
    assert store.intervals.pending_window == 10.0
    assert (store.watch_buffer, store.max_watchers, store.bookmark_interval, store.history_limit) == (
        6,
        7,
        8.0,
        9,
    )


def test_metrics_can_be_switched_off():
    """--metrics-address off serves no metrics."""
    assert config.load(["--metrics-address", "off"], environ={}).metrics_host_port is None


def test_region_falls_back_to_aws_region():
    """Without CONNFACADE_REGION, AWS_REGION names the region."""
    assert config.load([], environ={"AWS_REGION": "eu-west-1"}).region == "eu-west-1"


def test_a_bad_number_is_a_usage_error():
    """Nonsense values stop the command with exit code 2."""
    with pytest.raises(SystemExit) as caught:
        config.load([], environ={"CONNFACADE_POLL_FAST": "soon"})
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONNFACADE_HISTORY_LIMIT", "0"),
        ("CONNFACADE_WATCH_BUFFER", "0"),
        ("CONNFACADE_RATE_LIMIT", "-1"),
        ("CONNFACADE_MAX_STALENESS", "nan"),
        ("CONNFACADE_STALE_LIMIT", "inf"),
        ("CONNFACADE_POLL_FAST", "0"),
        ("CONNFACADE_AUTH_FAILURE_BURST", "0"),
    ],
    ids=[
        "no-history",
        "no-watch-buffer",
        "negative-rate",
        "nan-staleness",
        "infinite-stale-limit",
        "busy-poll",
        "no-failure-burst",
    ],
)
def test_a_number_out_of_its_range_is_a_usage_error_naming_the_setting(variable, value, capsys):
    """A value the server could not run with stops it at start, not at its first write-through."""
    with pytest.raises(SystemExit) as caught:
        config.load([], environ={variable: value})
    assert caught.value.code == 2
    name = next(n for n, v in config._ENV.items() if v == variable)
    assert name in capsys.readouterr().err


def test_an_environment_value_outside_the_choices_is_a_usage_error():
    """CONNFACADE_AWS_RETRY_MODE gets the same check of its choices as --aws-retry-mode."""
    with pytest.raises(SystemExit) as caught:
        config.load([], environ={"CONNFACADE_AWS_RETRY_MODE": "eager"})
    assert caught.value.code == 2


def test_breaker_settings_carry_both_breaker_fields():
    """What the flags say about the circuit breaker reaches it."""
    breaker = config.load(["--breaker-failures", "0", "--breaker-reset", "3"], environ={}).breaker_settings
    assert (breaker.failures, breaker.reset_after) == (0, 3.0)
