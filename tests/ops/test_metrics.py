"""``/metrics``: who may read it, and what it says.

The gauges read from the database are checked against rows made through the
services; the per-process ones against sockets and messages driven through
the ASGI application, as a browser would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from onthaal.asgi import application
from onthaal.chat import services
from onthaal.chat.models import EndReason
from onthaal.chat.tests.communicator import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 3
sync = database_sync_to_async


def scrape(client: Client | None = None, **extra: Any) -> str:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"].startswith("max-age=0")
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` in a scrape; fails when it is missing."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"{name}{labels} not in the scrape")


# --- who may read it ----------------------------------------------------------------


def test_loopback_may_read_without_a_token():
    text = scrape(REMOTE_ADDR="127.0.0.1")
    assert "onthaal_queue_length" in text
    assert scrape(REMOTE_ADDR="::1")


def test_another_address_is_refused_without_a_token_configured():
    response = Client().get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert b"onthaal_" not in response.content


def test_a_request_through_a_proxy_is_not_loopback(settings):
    # nginx on the same machine connects from 127.0.0.1, but says for whom.
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 403
    response = Client().get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    assert response.status_code == 403


def test_the_bearer_token_opens_it_from_elsewhere(settings):
    settings.ONTHAAL_METRICS_TOKEN = "s3cret-metrics-token"
    far = {"REMOTE_ADDR": "203.0.113.9"}

    missing = Client().get("/metrics", **far)
    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"].startswith("Bearer")
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-tokeN", **far)
    assert wrong.status_code == 401
    assert "onthaal_queue_length" in scrape(HTTP_AUTHORIZATION="Bearer s3cret-metrics-token", **far)


def test_only_get():
    assert Client().post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_openmetrics_when_the_scraper_asks_for_it():
    response = Client().get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_ACCEPT="application/openmetrics-text"
    )
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


# --- what it says -----------------------------------------------------------------------


def test_queue_and_chat_gauges_come_from_the_database(make_conversation, operator, chat_open):
    text = scrape()
    assert value(text, "onthaal_queue_length") == 0
    assert value(text, "onthaal_queue_longest_wait_seconds") == 0
    assert value(text, "onthaal_database_up") == 1

    make_conversation(now=timezone.now() - timedelta(minutes=3))
    make_conversation()
    third, _ = make_conversation()
    services.conversation_accept(conversation_id=third.pk, operator=operator)

    text = scrape()
    assert value(text, "onthaal_queue_length") == 2
    assert value(text, "onthaal_active_chats") == 1
    assert 180 <= value(text, "onthaal_queue_longest_wait_seconds") < 240
    assert value(text, "onthaal_operators_available") == 1


def test_the_gauges_cost_two_queries(django_assert_max_num_queries, make_conversation, chat_open):
    for _ in range(5):
        make_conversation()
    with django_assert_max_num_queries(2):
        scrape()


def test_chats_started_and_ended_are_counted_by_reason(make_conversation, operator, chat_open):
    before = scrape()
    first, _ = make_conversation()
    second, _ = make_conversation()
    services.conversation_accept(conversation_id=first.pk, operator=operator)
    services.conversation_end(conversation=first, reason=EndReason.OPERATOR_ENDED, actor=operator)
    services.conversation_end(conversation=second, reason=EndReason.VISITOR_ENDED)
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        try:
            old = value(before, name, **labels)
        except AssertionError:
            old = 0.0
        return value(after, name, **labels) - old

    assert delta("onthaal_chats_started_total") == 1
    assert delta("onthaal_chats_ended_total", reason="operator_ended") == 1
    # A visitor who stops waiting is a missed chat.
    assert delta("onthaal_chats_ended_total", reason="missed") == 1


async def test_open_sockets_and_delivery_latency(
    make_active_conversation, operator, operator_client, chat_open
):
    conversation, token = await sync(make_active_conversation)(operator)
    before = await sync(scrape)()

    console = WebsocketCommunicator(
        application,
        "/ws/v1/operator/",
        headers=[
            (b"cookie", f"sessionid={operator_client.cookies['sessionid'].value}".encode()),
            ORIGIN,
        ],
    )
    assert (await console.connect(timeout=TIMEOUT))[0]
    assert (await console.receive_json_from(timeout=TIMEOUT))["type"] == "snapshot"
    visitor = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    await visitor.send_json_to(
        {"type": "hello", "conversation_id": conversation.pk, "token": token, "after": 0}
    )
    assert (await visitor.receive_json_from(timeout=TIMEOUT))["type"] == "welcome"
    # A console that is not signed in is refused and never counted.
    refused = WebsocketCommunicator(application, "/ws/v1/operator/", headers=[ORIGIN])
    assert not (await refused.connect(timeout=TIMEOUT))[0]

    during = await sync(scrape)()
    assert value(during, "onthaal_open_sockets", side="visitor") == (
        value(before, "onthaal_open_sockets", side="visitor") + 1
    )
    assert value(during, "onthaal_open_sockets", side="operator") == (
        value(before, "onthaal_open_sockets", side="operator") + 1
    )

    await visitor.send_json_to({"type": "message.send", "client_id": "v1", "body": "Hallo"})
    while (await console.receive_json_from(timeout=TIMEOUT))["type"] != "message.new":
        pass
    while (await visitor.receive_json_from(timeout=TIMEOUT))["type"] != "message.ack":
        pass  # the sending socket gets its message in the ack, not as a delivery

    await visitor.disconnect()
    await console.disconnect()
    after = await sync(scrape)()

    count = "onthaal_message_delivery_seconds_count"
    assert value(after, count, to="operator") == value(before, count, to="operator") + 1
    assert value(after, count, to="visitor") == value(before, count, to="visitor")
    assert value(after, "onthaal_message_delivery_seconds_bucket", to="operator", le="5.0") == (
        value(before, "onthaal_message_delivery_seconds_bucket", to="operator", le="5.0") + 1
    )
    for side in ("visitor", "operator"):
        assert value(after, "onthaal_open_sockets", side=side) == value(
            before, "onthaal_open_sockets", side=side
        )


def test_process_metrics_are_there():
    text = scrape()
    assert value(text, "process_resident_memory_bytes") > 0
