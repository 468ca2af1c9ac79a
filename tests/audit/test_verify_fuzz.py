"""Whatever the head and record files hold, `verify`, the CLI and a restart's read of the log never crash.

A damaged or hostile log is what these tools exist for: each answer is a
result (OK, TAMPERED, UNRESOLVED, a chain break at start), never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connfacade.server.audit import scan_log, verify
from connfacade.server.audit._chain import chain_line, encode_body
from connfacade.server.audit._recovery import load
from connfacade.server.audit.cli import EXIT_OK, EXIT_TAMPERED, EXIT_UNRESOLVED, main

ZERO = "0" * 64


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    """JSON nested deeper than the parser's recursion limit allows."""
    return (opener * depth + closer * depth).encode()


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=2**62, max_value=10**40),  # sequences far past any range the checks can hold
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["intent", "completion", "outcome", "restart", "checkpoint", ZERO, "a" * 64]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
record_keys = st.sampled_from(
    ["sequence", "previous_hash", "stage", "eventID", "intentID", "audit_chain", "reason", "eventTime"]
)
records = st.dictionaries(record_keys | st.text(max_size=6), json_values, max_size=6)


sequences = st.integers(min_value=-1, max_value=8) | st.integers(min_value=2**62, max_value=10**40)
hashes = st.sampled_from([ZERO, "a" * 64, "0" * 63, "A" * 64])


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One line of a record file: well-formed, plausible, or garbage."""
    kind = draw(st.sampled_from(["link", "record", "json", "nested", "bytes"]))
    if kind == "link":  # chain fields of the right types, values anywhere
        fields = {"sequence": draw(sequences), "previous_hash": draw(hashes)}
        return json.dumps(fields | draw(records)).encode()
    if kind == "record":
        return json.dumps(draw(records)).encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "nested":
        return nested(
            draw(st.integers(min_value=1_000, max_value=200_000)), *draw(st.sampled_from(["[]", "{}"]))
        )
    return draw(st.binary(max_size=80))


@st.composite
def heads(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "nested", "json", "bytes", "head"]))
    if kind == "none":
        return None
    if kind == "nested":
        return nested(draw(st.integers(min_value=1_000, max_value=200_000)))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    head = {
        "sequence": draw(json_scalars),
        "hash": draw(st.sampled_from([ZERO, "a" * 64, "x"])),
        "file": "audit.jsonl",
    }
    return json.dumps(head).encode()


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[bytes], bytes | None, bool]:
    """(the live file's lines, the head file, whether the last line ends with a newline).

    Starts from a well-chained log and damages it, so that deep checks run too.
    """
    chained, previous = [], ZERO
    for sequence in range(1, draw(st.integers(min_value=0, max_value=5)) + 1):
        line = chain_line(
            encode_body(draw(records.filter(lambda r: not {"sequence", "previous_hash"} & set(r)))),
            sequence,
            previous,
        )
        chained.append(line)
        previous = hashlib.sha256(line).hexdigest()
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        chained.insert(draw(st.integers(min_value=0, max_value=len(chained))), draw(lines()))
    return chained, draw(heads()), draw(st.booleans())


HUGE_GAP = (
    [
        chain_line(encode_body({"eventName": "CreateConnection"}), 1, ZERO),
        json.dumps({"sequence": 10**30, "previous_hash": "a" * 64}).encode(),
    ],
    None,
    True,
)
NESTED_HEAD = ([], nested(100_000), True)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(log=logs())
@example(log=NESTED_HEAD)  # once a RecursionError traceback, and a server that would not start
@example(log=HUGE_GAP)  # once an OverflowError: the gap was counted with len(range)
def test_verify_the_cli_and_a_restarts_read_of_the_log_never_crash(
    log: tuple[list[bytes], bytes | None, bool],
) -> None:
    """Any head and record files: verify gives a result, the CLI an exit code, start-up a chain and a scan."""
    body, head, newline = log
    with tempfile.TemporaryDirectory() as folder:
        live = Path(folder) / "audit.jsonl"
        live.write_bytes(b"\n".join(body) + (b"\n" if newline and body else b""))
        if head is not None:
            live.with_name("audit.jsonl.head").write_bytes(head)

        result = verify([Path(folder)])
        assert result.ok or result.problem
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["verify", folder]) in {EXIT_OK, EXIT_TAMPERED, EXIT_UNRESOLVED}
        load(live)  # what a starting server reads to continue the chain (a break is a result, not an error)
        scan_log(live, since=time.time() - 600)
