"""Two operators on two processes take the same visitors at the same moment:
each visitor goes to exactly one of them, never to both."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.multiprocess.conftest import Cluster, Operator, visitor_open

ROUNDS = 20


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _queue_is_empty(cluster: Cluster, operator: Operator) -> bool:
    status, body = operator.http.json("GET", cluster.a, "/api/v1/queue")
    assert status == 200, body
    return body["queue"] == []


def _accepted_events(cluster: Cluster, ids: list[int]) -> Counter[int]:
    rows = cluster.query(
        "SELECT conversation_id FROM chat_conversationevent"
        " WHERE kind = 'accepted' AND conversation_id = ANY(%s)",
        ids,
    )
    return Counter(row[0] for row in rows)


def _end_all(cluster: Cluster, taken: dict[int, Operator]) -> None:
    for conversation_id, operator in taken.items():
        status, body = operator.post(cluster.a, f"/api/v1/conversations/{conversation_id}/end")
        assert status == 200, body


def test_two_operators_accepting_the_same_visitor_at_once(cluster: Cluster):
    first, second = cluster.operators(2)
    assert _queue_is_empty(cluster, first)
    taken: dict[int, Operator] = {}
    for n in range(ROUNDS):
        visitor = visitor_open(cluster.a if n % 2 else cluster.b)
        path = f"/api/v1/conversations/{visitor.conversation_id}/accept"
        results = _at_once(
            [lambda p=path: first.post(cluster.a, p), lambda p=path: second.post(cluster.b, p)]
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 409], results
        loser = next(body for status, body in results if status == 409)
        assert loser["code"] == "not_in_queue"
        winner = first if results[0][0] == 200 else second
        assert (
            next(body for status, body in results if status == 200)["conversation"]["operator_id"]
            == cluster.query(
                "SELECT operator_id FROM chat_conversation WHERE id = %s", visitor.conversation_id
            )[0][0]
        )
        taken[visitor.conversation_id] = winner

    assert _accepted_events(cluster, list(taken)) == Counter({pk: 1 for pk in taken})
    _end_all(cluster, taken)


def test_two_operators_taking_from_the_queue_at_once(cluster: Cluster):
    first, second = cluster.operators(2)
    assert _queue_is_empty(cluster, first)
    waiting = [
        visitor_open(cluster.a if n % 2 else cluster.b).conversation_id for n in range(ROUNDS)
    ]

    taken: dict[int, Operator] = {}
    rounds: list[set[int]] = []
    while True:
        results = _at_once(
            [
                lambda: first.post(cluster.a, "/api/v1/queue/take"),
                lambda: second.post(cluster.b, "/api/v1/queue/take"),
            ]
        )
        rounds.append(set())
        for (status, body), operator in zip(results, (first, second), strict=True):
            if status == 200:
                rounds[-1].add(body["conversation"]["id"])
                conversation_id = body["conversation"]["id"]
                assert conversation_id not in taken, "one visitor given to two operators"
                taken[conversation_id] = operator
            else:
                assert status == 409, body
                # SKIP LOCKED: a colleague taking someone is never a reason to
                # come back empty-handed while others still wait.
                assert body["code"] == "queue_empty", body
        if all(status == 409 for status, _ in results):
            break

    assert sorted(taken) == sorted(waiting)
    # Longest-waiting first: each round the two took the two who waited longest.
    assert [r for r in rounds if r] == [set(waiting[i : i + 2]) for i in range(0, ROUNDS, 2)]
    assert _accepted_events(cluster, waiting) == Counter({pk: 1 for pk in waiting})
    _end_all(cluster, taken)
