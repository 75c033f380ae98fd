"""Erlang C: how many operators keep the mean wait in the queue under a target.

Pure arithmetic, no database. The queue is modelled as M/M/s: chats arrive at
random (Poisson, ``λ`` per hour), a chat lasts an exponential time with mean
``1/μ`` hours, and every free "server" takes the next chat in line. An
operator holds up to ``c`` chats at once (``ONTHAAL_MAX_CHATS_PER_OPERATOR``)
and counts as ``c`` servers: an approximation that treats each concurrent
chat slot as a separate agent.

With ``A = λ/μ`` erlangs offered to ``s`` servers:

- Erlang B (blocking): ``B(0) = 1``, ``B(k) = A·B(k-1) / (k + A·B(k-1))``.
  The recursion never forms ``A^s`` or ``s!``, so it stays exact to floating
  point for thousands of servers, where the textbook formula overflows.
- Erlang C (probability a chat has to wait), for ``A < s``:
  ``C = s·B(s) / (s - A·(1 - B(s)))``; for ``A ≥ s`` the queue grows without
  bound and ``C = 1``.
- Mean wait: ``W_q = C / (s·μ - λ)`` hours (infinite for ``A ≥ s``).
"""

from __future__ import annotations

import math

#: Where the search for a number of operators gives up (a misconfiguration,
#: e.g. thousands of chats an hour).
MAX_OPERATORS = 1000


def erlang_b(*, servers: int, load: float) -> float:
    """Blocking probability of ``load`` erlangs offered to ``servers`` servers."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(*, servers: int, load: float) -> float:
    """Probability that an arriving chat waits (1.0 when ``load >= servers``)."""
    if servers < 0 or load < 0:
        raise ValueError("servers and load must not be negative")
    if load == 0:
        return 0.0
    if load >= servers:
        return 1.0
    blocking = erlang_b(servers=servers, load=load)
    return servers * blocking / (servers - load * (1 - blocking))


def mean_wait_hours(*, servers: int, arrivals_per_hour: float, mean_chat_hours: float) -> float:
    """Erlang C mean wait in the queue, in hours; ``math.inf`` when unstable."""
    if mean_chat_hours <= 0:
        raise ValueError("mean_chat_hours must be positive")
    if arrivals_per_hour <= 0:
        return 0.0
    load = arrivals_per_hour * mean_chat_hours
    if load >= servers:
        return math.inf
    service_rate = 1 / mean_chat_hours
    return erlang_c(servers=servers, load=load) / (servers * service_rate - arrivals_per_hour)


def operators_needed(
    *,
    arrivals_per_hour: float,
    mean_chat_hours: float,
    chats_per_operator: int,
    target_wait_hours: float,
) -> int:
    """The smallest number of operators ``N`` whose ``N × chats_per_operator``
    servers keep the Erlang C mean wait at or under ``target_wait_hours``.

    No arrivals need no operators (0). Raises ValueError for a non-positive
    target, chat length or concurrency, or when even ``MAX_OPERATORS`` would
    not do.
    """
    if target_wait_hours <= 0:
        raise ValueError("target_wait_hours must be positive")
    if chats_per_operator < 1:
        raise ValueError("chats_per_operator must be at least 1")
    if mean_chat_hours <= 0:
        raise ValueError("mean_chat_hours must be positive")
    if arrivals_per_hour <= 0:
        return 0
    load = arrivals_per_hour * mean_chat_hours
    # Fewer servers than the load is unstable: start at the first stable count.
    operators = max(1, math.floor(load / chats_per_operator) + 1)
    while operators <= MAX_OPERATORS:
        wait = mean_wait_hours(
            servers=operators * chats_per_operator,
            arrivals_per_hour=arrivals_per_hour,
            mean_chat_hours=mean_chat_hours,
        )
        if wait <= target_wait_hours:
            return operators
        operators += 1
    raise ValueError(f"more than {MAX_OPERATORS} operators would be needed")
