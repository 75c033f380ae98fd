"""``conversation_accept`` on PostgreSQL: row locks instead of waiting in line.

Another transaction (a colleague's take, in another process) holds the row
lock of the longest-waiting visitor. Taking "the next visitor" then skips
that row (``SELECT … FOR UPDATE SKIP LOCKED``) instead of waiting for it;
taking that very visitor waits for the colleague's transaction and then
knows the answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from onthaal.chat import services
from onthaal.chat.models import Conversation, Status
from onthaal.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


class GaveUp(Exception):
    pass


@pytest.fixture
def held_lock() -> Iterator[Callable[..., threading.Event]]:
    """``hold(pk, then=None)``: a colleague's transaction locks row ``pk`` until
    released; ``then`` runs inside it just before it commits."""
    taken = threading.Event()
    release = threading.Event()
    pool = ThreadPoolExecutor(1)
    futures = []

    def colleague(pk: int, then: Callable[[], None] | None) -> None:
        try:
            with transaction.atomic():
                Conversation.objects.select_for_update().get(pk=pk)
                taken.set()
                release.wait(timeout=30)
                if then is not None:
                    then()
        except GaveUp:
            pass  # rolled back, as a failed request would be
        finally:
            connection.close()

    def hold(pk: int, then: Callable[[], None] | None = None) -> threading.Event:
        futures.append(pool.submit(colleague, pk, then))
        assert taken.wait(timeout=10)
        return release

    yield hold
    release.set()
    for future in futures:
        future.result(timeout=30)
    pool.shutdown()


def test_taking_the_next_visitor_skips_one_a_colleague_is_taking(
    held_lock, make_conversation, operator, chat_open
):
    first, _ = make_conversation()
    second, _ = make_conversation()
    held_lock(first.pk)

    started = time.monotonic()
    taken = services.conversation_accept(conversation_id=None, operator=operator)

    assert taken.pk == second.pk
    assert time.monotonic() - started < 10, "it waited for the colleague's lock (30 s)"


def test_when_everyone_waiting_is_being_taken_the_answer_is_a_colleague_was_first(
    held_lock, make_conversation, operator, chat_open
):
    only, _ = make_conversation()
    held_lock(only.pk)

    with pytest.raises(Conflict) as raised:
        services.conversation_accept(conversation_id=None, operator=operator)

    assert raised.value.code == "not_in_queue"
    assert Conversation.objects.get(pk=only.pk).status == Status.QUEUED


def test_taking_a_named_visitor_waits_for_the_colleague_and_loses_to_them(
    held_lock, make_conversation, operator, other_operator, chat_open
):
    visitor, _ = make_conversation()

    def colleague_takes_it() -> None:
        Conversation.objects.filter(pk=visitor.pk).update(
            status=Status.ACTIVE, operator=other_operator
        )

    release = held_lock(visitor.pk, then=colleague_takes_it)
    threading.Timer(0.5, release.set).start()

    started = time.monotonic()
    with pytest.raises(Conflict) as raised:
        services.conversation_accept(conversation_id=visitor.pk, operator=operator)

    assert time.monotonic() - started >= 0.4  # it waited for the lock
    assert raised.value.code == "not_in_queue"
    assert Conversation.objects.get(pk=visitor.pk).operator_id == other_operator.pk


def test_taking_a_named_visitor_wins_when_the_colleague_rolls_back(
    held_lock, make_conversation, operator, chat_open
):
    visitor, _ = make_conversation()

    def colleague_gives_up() -> None:
        raise GaveUp

    release = held_lock(visitor.pk, then=colleague_gives_up)
    threading.Timer(0.3, release.set).start()

    taken = services.conversation_accept(conversation_id=visitor.pk, operator=operator)

    assert taken.operator_id == operator.pk
