"""The public face of the API: health, schema, status, and what is (not) stored."""

from __future__ import annotations

import warnings
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from onthaal.chat.models import Conversation
from onthaal.hours.services import (
    closure_create,
    school_calendar_generate,
    weekly_hours_seed_defaults,
)

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
FIREFOX_DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
ANDROID_TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
IPAD_AS_MAC_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_openapi_schema_lists_the_api(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/conversations",
        "/api/v1/queue/take",
        "/api/v1/conversations/{conversation_id}/registration",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/status",
    } <= set(schema["paths"])
    assert {"get", "put"} <= set(
        schema["paths"]["/api/v1/conversations/{conversation_id}/registration"]
    )


def test_status_while_open(client, chat_open) -> None:
    body = client.get("/api/v1/status").json()
    assert body["open"] is True
    assert body["next_opening"] is None
    closes_at = datetime.fromisoformat(body["closes_at"])
    assert closes_at == datetime.combine(timezone.localdate(), time(23, 59), tzinfo=BRUSSELS)
    assert [h["phone"] for h in body["helplines"]] == ["1813", "102", "112"]


def test_status_while_closed_says_when_it_opens(client) -> None:
    weekly_hours_seed_defaults()
    school_calendar_generate(school_year=timezone.localdate().year - 1)
    school_calendar_generate(school_year=timezone.localdate().year)
    today = timezone.localdate()
    closure_create(name="Test", start=today, end=today)

    body = client.get("/api/v1/status").json()

    assert body["open"] is False
    assert body["closes_at"] is None
    assert body["next_opening"] is not None
    next_opening = datetime.fromisoformat(body["next_opening"])
    assert next_opening.astimezone(BRUSSELS).date() > today
    assert {"name", "phone", "url"} <= set(body["helplines"][0])


@pytest.mark.parametrize(
    ("user_agent", "touch", "device_class"),
    [
        (IPHONE_UA, False, "mobile"),
        (ANDROID_TABLET_UA, False, "mobile"),
        (FIREFOX_DESKTOP_UA, False, "desktop"),
        (IPAD_AS_MAC_UA, False, "desktop"),
        (IPAD_AS_MAC_UA, True, "mobile"),  # iPadOS presents as a Mac; the page saw touch
        (None, False, "desktop"),
    ],
)
def test_the_device_class_comes_from_the_user_agent(
    chat_open, operator_client, user_agent, touch, device_class
) -> None:
    extra = {"HTTP_USER_AGENT": user_agent} if user_agent else {}
    response = Client().post(
        "/api/v1/conversations", {"touch": touch}, content_type="application/json", **extra
    )
    assert response.status_code == 201
    assert Conversation.objects.get().device_class == device_class
    queue = operator_client.get("/api/v1/queue").json()["queue"]
    assert queue[0]["device_class"] == device_class


def test_no_user_agent_or_address_is_stored(chat_open) -> None:
    user_agent = IPHONE_UA + " OnthaalProbe/9.9"
    address = "203.0.113.77"
    response = Client(REMOTE_ADDR=address).post(
        "/api/v1/conversations",
        {"audience": "pupil"},
        content_type="application/json",
        HTTP_USER_AGENT=user_agent,
        HTTP_X_FORWARDED_FOR=address,
    )
    assert response.status_code == 201

    names = {field.name for field in Conversation._meta.get_fields()}
    for forbidden in ("agent", "ip", "address", "remote", "host"):
        assert not [name for name in names if forbidden in name.split("_")], names
    # Nothing in any table holds them either.
    for model in apps.get_models():
        for row in model._default_manager.values_list():
            text = repr(row)
            assert "OnthaalProbe" not in text, model
            assert address not in text, model


def test_api_views_use_no_deprecated_ninja_api(visitor_client, chat_open) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opened = Client().post("/api/v1/conversations", {}, content_type="application/json")
        visitor = visitor_client(opened.json()["token"], opened.json()["id"])
        sent = visitor.post(visitor.url("/messages"), {"client_id": "1", "body": "Hoi"})

    assert (opened.status_code, sent.status_code) == (201, 201)
    deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecations == []


@pytest.mark.parametrize(("accept_language", "language"), [("en", "en"), ("fr-BE,fr", "nl-be")])
def test_the_conversation_keeps_the_visitors_language(chat_open, accept_language, language) -> None:
    response = Client().post(
        "/api/v1/conversations",
        {},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=accept_language,
    )
    assert response.status_code == 201
    assert Conversation.objects.get().language == language


def test_the_visitor_ends_through_the_api(
    make_conversation, make_active_conversation, operator, visitor_client, chat_open
) -> None:
    queued, queued_token = make_conversation()
    active, active_token = make_active_conversation(operator)

    left_queue = visitor_client(queued_token, queued.pk)
    ended = visitor_client(active_token, active.pk)
    first = ended.post(ended.url("/end"))
    again = ended.post(ended.url("/end"))

    assert left_queue.post(left_queue.url("/end")).json()["conversation"]["end_reason"] == "missed"
    assert first.status_code == again.status_code == 200
    assert first.json()["conversation"]["end_reason"] == "visitor_ended"
    assert again.json() == first.json()
    assert active.events.filter(kind="ended").count() == 1
