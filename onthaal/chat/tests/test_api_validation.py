"""Bad input to the conversation API: always a 4xx JSON error with a code, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from onthaal.chat.models import Conversation, Message
from onthaal.hours.services import closure_create, weekly_hours_seed_defaults

pytestmark = pytest.mark.django_db

OPEN = "/api/v1/conversations"


def open_conversation(client: Client, payload: dict | str, **extra):
    return client.post(OPEN, payload, content_type="application/json", **extra)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


# --- intake ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("audience", "teacher"),
        ("audience", 5),
        ("gender", "m"),
        ("gender", "GIRL"),
        ("referral_source", "tv"),
        ("age", 2),
        ("age", 3),
        ("age", 100),
        ("age", 120),
        ("age", -1),
        ("age", "abc"),
        ("age", 15.5),
    ],
)
def test_each_invalid_intake_field_is_named(client, chat_open, field, value) -> None:
    body = assert_error(open_conversation(client, {field: value}), 400, "invalid")
    assert list(body["details"]["fields"]) == [field]
    assert body["details"]["fields"][field]
    assert not Conversation.objects.exists()


def test_every_invalid_intake_field_is_named_at_once(client, chat_open) -> None:
    response = open_conversation(
        client, {"audience": "x", "gender": "y", "referral_source": "z", "age": 2}
    )
    body = assert_error(response, 400, "invalid")
    assert set(body["details"]["fields"]) == {"audience", "gender", "referral_source", "age"}


@pytest.mark.parametrize("age", [4, 99, None])
def test_the_bounds_of_age_are_accepted(client, chat_open, age) -> None:
    response = open_conversation(client, {"age": age, "audience": "parent", "gender": "x"})
    assert response.status_code == 201
    conversation = Conversation.objects.get(pk=response.json()["id"])
    assert (conversation.age, conversation.audience, conversation.gender) == (age, "parent", "x")


def test_every_intake_answer_may_be_skipped(client, chat_open) -> None:
    response = open_conversation(client, {})
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert (conversation.audience, conversation.age, conversation.gender) == ("", None, "")
    assert conversation.referral_source == ""


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", OPEN),
        ("post", "/api/v1/conversations/{id}/messages"),
        ("post", "/api/v1/conversations/{id}/rating"),
    ],
)
@pytest.mark.parametrize("raw", ["{not json", '{"body": ', "\x00\xff"])
def test_malformed_json_is_a_400_with_a_code(
    make_conversation, chat_open, method, path, raw
) -> None:
    conversation, token = make_conversation()
    response = getattr(Client(), method)(
        path.replace("{id}", str(conversation.pk)),
        raw,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert_error(response, 400, "http_error")


def test_a_form_encoded_intake_is_refused(client, chat_open) -> None:
    response = client.post(OPEN, {"audience": "pupil"})  # multipart, not JSON
    assert 400 <= response.status_code < 500
    assert response.json()["code"]


def test_opening_while_closed_is_a_conflict(client) -> None:
    weekly_hours_seed_defaults()
    today = timezone.localdate()
    closure_create(name="Test", start=today, end=today)  # whatever the weekly hours say
    assert_error(open_conversation(client, {}), 409, "chat_closed")
    assert not Conversation.objects.exists()


# --- rating --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"rating": 0}, "invalid_rating"),
        ({"rating": 6}, "invalid_rating"),
        ({"rating": -3}, "invalid_rating"),
        ({"rating": "x"}, "invalid"),
        ({"rating": None}, "invalid"),
        ({}, "invalid"),
        ({"rating": 3, "comment": "x" * 2001}, "comment_too_long"),
    ],
)
def test_invalid_ratings_are_refused(
    make_ended_conversation, operator, visitor_client, chat_open, payload, code
) -> None:
    conversation, token = make_ended_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    body = assert_error(visitor.post(visitor.url("/rating"), payload), 400, code)

    if code in {"invalid", "invalid_rating"}:
        assert "rating" in body["details"]["fields"]
    conversation.refresh_from_db()
    assert conversation.rating is None


def test_a_rating_through_the_api(
    make_ended_conversation, operator, visitor_client, chat_open
) -> None:
    conversation, token = make_ended_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    first = visitor.post(visitor.url("/rating"), {"rating": 5, "comment": "Top"})
    second = visitor.post(visitor.url("/rating"), {"rating": 1})

    assert first.status_code == 200
    assert first.json()["conversation"]["rating"] == 5
    assert_error(second, 409, "already_rated")


def test_rating_before_the_end_is_a_conflict(
    make_active_conversation, operator, visitor_client, chat_open
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)
    assert_error(visitor.post(visitor.url("/rating"), {"rating": 4}), 409, "not_ratable")


def test_posting_in_an_ended_conversation_is_a_conflict(
    make_ended_conversation, operator, visitor_client, chat_open
) -> None:
    conversation, token = make_ended_conversation(operator)
    visitor = visitor_client(token, conversation.pk)
    response = visitor.post(visitor.url("/messages"), {"client_id": "late", "body": "Hallo?"})
    assert_error(response, 409, "conversation_ended")
    assert not Message.objects.exists()


# --- rate limits -----------------------------------------------------------------------


def test_conversation_opening_is_rate_limited_per_address(
    chat_open, settings, frozen_rate_clock
) -> None:
    settings.ONTHAAL_RATE_CONVERSATIONS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="198.51.100.7")

    statuses = [open_conversation(client, {}).status_code for _ in range(2)]
    limited = open_conversation(client, {})

    assert statuses == [201, 201]
    assert_error(limited, 429, "rate_limited")
    assert limited["Retry-After"] == "3600"
    assert Conversation.objects.count() == 2
    # Another address is not held back.
    other = Client(REMOTE_ADDR="198.51.100.8")
    assert open_conversation(other, {}).status_code == 201


def test_messages_are_rate_limited_per_conversation_and_side(
    make_active_conversation,
    operator,
    operator_client,
    visitor_client,
    chat_open,
    settings,
    frozen_rate_clock,
) -> None:
    settings.ONTHAAL_RATE_MESSAGES_PER_MINUTE = 2
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    statuses = [
        visitor.post(visitor.url("/messages"), {"client_id": f"m{n}", "body": "hoi"}).status_code
        for n in range(2)
    ]
    limited = visitor.post(visitor.url("/messages"), {"client_id": "m2", "body": "hoi"})

    assert statuses == [201, 201]
    assert_error(limited, 429, "rate_limited")
    assert limited["Retry-After"] == "60"
    assert Message.objects.count() == 2
    # The operator's side has its own budget.
    answer = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages",
        {"client_id": "o1", "body": "Rustig maar."},
        content_type="application/json",
    )
    assert answer.status_code == 201


# --- control characters ----------------------------------------------------------------
# PostgreSQL cannot store NUL; the other control characters have no place in
# typed text either. Line breaks and tabs are text.


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_a_control_character_in_a_message_is_refused(
    make_active_conversation, operator, visitor_client, chat_open, char
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    response = visitor.post(visitor.url("/messages"), {"client_id": "c", "body": f"a{char}b"})

    body = assert_error(response, 400, "invalid_character")
    assert list(body["details"]["fields"]) == ["body"]
    assert not Message.objects.exists()


def test_line_breaks_and_tabs_are_text(
    make_active_conversation, operator, visitor_client, chat_open
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)
    text = "Eerste regel\r\nTweede\tregel"

    response = visitor.post(visitor.url("/messages"), {"client_id": "nl", "body": text})

    assert response.status_code == 201
    assert Message.objects.get().body == text


def test_a_control_character_in_a_rating_comment_is_refused(
    make_ended_conversation, operator, visitor_client, chat_open
) -> None:
    conversation, token = make_ended_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    response = visitor.post(visitor.url("/rating"), {"rating": 4, "comment": "a\x00b"})

    body = assert_error(response, 400, "invalid_character")
    assert list(body["details"]["fields"]) == ["comment"]
    conversation.refresh_from_db()
    assert (conversation.rating, conversation.rating_comment) == (None, "")
