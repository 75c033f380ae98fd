"""Hypothesis strategies for hostile input, shared by the HTTP and websocket fuzzers."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import strategies as st

# The example counts are sized for CI (the folder in under a minute on two
# cores); ONTHAAL_FUZZ_SCALE=10 fuzzes ten times as hard.
SCALE = float(os.environ.get("ONTHAAL_FUZZ_SCALE", "1"))


def scaled(examples: int) -> int:
    return max(1, round(examples * SCALE))


# Characters that break naive code: NUL and other controls, a lone surrogate
# of each half (JSON can carry them as \\ud800 escapes; UTF-8 cannot), the
# byte-order mark, right-to-left override, markup and quoting characters.
SPECIAL_CHARACTERS = [
    "\x00",
    "\x01",
    "\x1b",
    "\x7f",
    "\x85",
    "\n",
    "\r",
    "\t",
    "\ud800",
    "\udfff",
    "\ufeff",
    "\u202e",
    "\u2028",
    "\U0001f600",
    "<",
    ">",
    "&",
    '"',
    "'",
    "\\",
]

characters = st.one_of(
    st.characters(),  # any code point but surrogates
    st.characters(categories=["Cs"]),  # lone surrogates
    st.sampled_from(SPECIAL_CHARACTERS),
)


def _text(min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    # Not st.text(characters): it merges the alphabets into one range, in
    # which the 2,048 surrogates are one code point in 500.
    return st.lists(characters, min_size=min_size, max_size=max_size).map("".join)


nasty_text = _text()

# What a client_id may be: 1-64 printable ASCII characters.
client_ids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=64)

# Integers around every boundary the app has: 0, the 2**62 the consumers
# accept, SQLite's and PostgreSQL's signed 64 bits, and far beyond.
edge_integers = st.one_of(
    st.integers(-5, 5),
    st.sampled_from(
        [
            2**31 - 1,
            2**31,
            2**53 + 1,
            2**62 - 1,
            2**62,
            2**63 - 1,
            2**63,
            2**64,
            -(2**63),
            -(2**63) - 1,
            10**30,
            -(10**30),
        ]
    ),
    st.integers(),
)


def long_text(max_chars: int) -> st.SearchStrategy[str]:
    """A long string cheaply: one character (or a short pattern) repeated."""
    return st.builds(
        lambda pattern, n: (pattern * (n // max(len(pattern), 1) + 1))[:n],
        _text(min_size=1, max_size=3),
        st.integers(0, max_chars),
    )


scalars = st.one_of(
    st.none(),
    st.booleans(),
    edge_integers,
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has neither
    nasty_text,
)

json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(nasty_text, children, max_size=4),
    ),
    max_leaves=12,
)


def field_values(*good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value for a known field: two times in three a plausible one (so that
    the other fields get checked too), else anything at all."""
    plausible = st.one_of(*good)
    anything = st.one_of(scalars, json_values, long_text(5000))
    return st.integers(0, 2).flatmap(lambda n: plausible if n < 2 else anything)


def contains_surrogate(value: Any) -> bool:
    """Whether a (nested) JSON value holds a string with a lone surrogate."""
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(contains_surrogate(k) or contains_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_surrogate(v) for v in value)
    return False
