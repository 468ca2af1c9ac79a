"""Hypothesis strategies for the request metadata the facade reads.

Metadata is not in the proto descriptors, but it is input like any field: the
read options, the request id, the caller's workload and its credentials. Each
key is left out, given a plausible value, or given hostile text (header-legal
ASCII only: gRPC's client refuses anything else before it is sent).
"""

from __future__ import annotations

from hypothesis import strategies as st

# Bearer tokens of the fuzz facade's principals (tests/fuzz/conftest.py).
TOKENS = {
    "editor": "fuzz-editor-token-0123456789abcdef",
    "scoped-editor": "fuzz-scoped-editor-token-0123456789",
    "viewer": "fuzz-viewer-token-0123456789abcdef",
}

_header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)
_digits = st.integers(0, 10**30).map(str) | st.integers(0, 6000).map(lambda n: "9" * n)

_BEARERS = (
    *[f"Bearer {TOKENS['editor']}"] * 12,  # the common case: a caller the facade knows, unscoped
    *[f"Bearer {TOKENS['scoped-editor']}"] * 3,
    *[f"Bearer {TOKENS['viewer']}"] * 3,
    "Bearer ",
)
# Mostly credentials the facade knows (else nearly every call stops at UNAUTHENTICATED).
_AUTHORIZATION = st.sampled_from(_BEARERS) | _header_text.map(lambda t: f"Bearer {t}") | _header_text


def _mostly(plausible: st.SearchStrategy[str], hostile: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Plausible values three times in four, so what follows the metadata checks is reached."""
    return st.integers(0, 3).flatmap(lambda n: hostile if n == 0 else plausible)


_VALUES = {
    "authorization": st.integers(0, 9).flatmap(
        lambda n: _AUTHORIZATION if n == 0 else st.sampled_from(_BEARERS)
    ),
    "x-request-id": _mostly(st.uuids().map(str), _header_text),
    "x-connfacade-max-staleness-ms": _mostly(st.integers(0, 86_400_000).map(str), _digits | _header_text),
    "x-connfacade-consistent-read": _mostly(
        st.sampled_from(("true", "false", "TRUE", " true ")), _header_text
    ),
    "x-connfacade-workload": _header_text,
}


@st.composite
def metadata(draw: st.DrawFn) -> tuple[tuple[str, str], ...]:
    """Request metadata: each key the facade reads, present or not, with any value."""
    pairs = []
    for key, values in _VALUES.items():
        present = draw(st.integers(0, 19)) < (19 if key == "authorization" else 6)
        if present:
            pairs.append((key, draw(values)))
    return tuple(pairs)
