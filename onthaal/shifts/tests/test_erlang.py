"""Erlang C against values computed by hand.

The textbook formula, for ``A`` erlangs offered to ``N`` servers (A < N)::

    C(N, A) = (A^N / N!) · N/(N - A)  /  ( Σ_{k=0}^{N-1} A^k / k!  +  (A^N / N!) · N/(N - A) )

- A = 2, N = 3: Σ = 1 + 2 + 2 = 5; (8/6)·3 = 4; C = 4 / 9 = 0.4444…
- A = 1, N = 2: Σ = 1 + 1 = 2; (1/2)·2 = 1; C = 1 / 3 = 0.3333…
- A = 2, N = 4: Σ = 1 + 2 + 2 + 4/3 = 19/3; (16/24)·2 = 4/3; C = (4/3)/(23/3) = 4/23 = 0.17391…
- A = 10, N = 12: Σ_{k<12} 10^k/k! = 15 347.516; (10^12/12!)·6 = 2 087.676 · 6 = 12 526.054;
  C = 12 526.054 / 27 873.570 = 0.44939 (the value call-centre tables give, ≈ 0.449).
"""

from __future__ import annotations

import math

import pytest

from onthaal.shifts import erlang


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (3, 2.0, 4 / 9),
        (2, 1.0, 1 / 3),
        (4, 2.0, 4 / 23),
        (12, 10.0, 0.449388),
        (1, 0.5, 0.5),  # M/M/1: C = rho
    ],
)
def test_erlang_c_matches_hand_computed_values(servers: int, load: float, expected: float) -> None:
    assert erlang.erlang_c(servers=servers, load=load) == pytest.approx(expected, abs=1e-6)


def test_erlang_b_matches_hand_computed_value() -> None:
    # B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = (4/3) / (19/3) = 4/19.
    assert erlang.erlang_b(servers=3, load=2.0) == pytest.approx(4 / 19)


def test_erlang_c_is_stable_for_many_servers() -> None:
    # 2,000 servers: 2000! and A^2000 overflow a float, the recursion does not.
    value = erlang.erlang_c(servers=2000, load=1950.0)
    assert 0 < value < 1


def test_an_unstable_queue_always_waits() -> None:
    assert erlang.erlang_c(servers=3, load=3.0) == 1.0
    assert erlang.erlang_c(servers=3, load=5.0) == 1.0
    assert erlang.mean_wait_hours(servers=3, arrivals_per_hour=9, mean_chat_hours=1 / 3) == math.inf


def test_no_load_never_waits() -> None:
    assert erlang.erlang_c(servers=0, load=0.0) == 0.0
    assert erlang.mean_wait_hours(servers=0, arrivals_per_hour=0, mean_chat_hours=1 / 3) == 0.0


def test_mean_wait_by_hand() -> None:
    # 6 chats an hour of 20 minutes (μ = 3/h, A = 2) on 3 servers:
    # W_q = C / (Nμ - λ) = (4/9) / (9 - 6) = 4/27 h = 8.89 minutes.
    wait = erlang.mean_wait_hours(servers=3, arrivals_per_hour=6, mean_chat_hours=1 / 3)
    assert wait == pytest.approx(4 / 27)


def test_operators_needed_by_hand() -> None:
    # 6 chats an hour of 20 minutes, target 2 minutes (1/30 h).
    # One chat at a time: 3 operators wait 8.9 min; 4 operators:
    # W_q = (4/23) / (12 - 6) = 0.02899 h = 1.74 min ≤ 2. So 4.
    assert (
        erlang.operators_needed(
            arrivals_per_hour=6,
            mean_chat_hours=1 / 3,
            chats_per_operator=1,
            target_wait_hours=1 / 30,
        )
        == 4
    )
    # Two chats at a time: 1 operator = 2 servers for 2 erlangs: unstable;
    # 2 operators = 4 servers: 1.74 min. So 2.
    assert (
        erlang.operators_needed(
            arrivals_per_hour=6,
            mean_chat_hours=1 / 3,
            chats_per_operator=2,
            target_wait_hours=1 / 30,
        )
        == 2
    )


def test_no_arrivals_need_no_operators() -> None:
    assert (
        erlang.operators_needed(
            arrivals_per_hour=0, mean_chat_hours=1 / 3, chats_per_operator=2, target_wait_hours=0.1
        )
        == 0
    )


def test_a_load_above_the_servers_asks_for_more_operators() -> None:
    # 30 chats an hour of 20 minutes = 10 erlangs: 4 operators × 2 chats = 8
    # servers are unstable, so the answer is at least 5 operators (10 servers)
    # and in fact more, as 10 servers for 10 erlangs is still unstable.
    needed = erlang.operators_needed(
        arrivals_per_hour=30, mean_chat_hours=1 / 3, chats_per_operator=2, target_wait_hours=1 / 30
    )
    assert needed * 2 > 10
    wait = erlang.mean_wait_hours(servers=needed * 2, arrivals_per_hour=30, mean_chat_hours=1 / 3)
    assert wait <= 1 / 30
    fewer = erlang.mean_wait_hours(
        servers=(needed - 1) * 2, arrivals_per_hour=30, mean_chat_hours=1 / 3
    )
    assert fewer > 1 / 30


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_wait_hours": 0},
        {"chats_per_operator": 0},
        {"mean_chat_hours": 0},
    ],
)
def test_operators_needed_refuses_nonsense(kwargs: dict[str, float]) -> None:
    arguments = {
        "arrivals_per_hour": 6.0,
        "mean_chat_hours": 1 / 3,
        "chats_per_operator": 2,
        "target_wait_hours": 1 / 30,
        **kwargs,
    }
    with pytest.raises(ValueError):
        erlang.operators_needed(**arguments)  # type: ignore[arg-type]
