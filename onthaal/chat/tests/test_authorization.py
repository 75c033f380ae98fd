"""Who may reach which conversation, through the HTTP API."""

from __future__ import annotations

import pytest
from django.test import Client

from onthaal.chat.models import Message, Status
from onthaal.registration.models import Registration

pytestmark = pytest.mark.django_db

NOT_FOUND = {"code": "not_found", "message": "Dit gesprek bestaat niet."}
NOT_AUTHENTICATED = {"code": "not_authenticated", "message": "Meld je aan of gebruik je sleutel."}

REGISTRATION = {"topic_ids": [], "result_ids": [1], "prank_suspected": False, "note": ""}


def call(client: Client, method: str, path: str, body: dict | None = None, **extra):
    if method == "get":
        return client.get(path, **extra)
    return getattr(client, method)(path, body or {}, content_type="application/json", **extra)


# (method, path suffix, body): every visitor route that names a conversation.
VISITOR_ROUTES = [
    ("get", "", None),
    ("get", "/messages", None),
    ("post", "/messages", {"client_id": "a", "body": "Hoi"}),
    ("post", "/end", None),
    ("post", "/rating", {"rating": 5}),
]

# Every staff route that names a conversation (accept is tested apart).
STAFF_ROUTES = [
    ("get", "", None),
    ("get", "/messages", None),
    ("post", "/messages", {"client_id": "a", "body": "Hoi"}),
    ("post", "/end", None),
    ("get", "/registration", None),
    ("put", "/registration", REGISTRATION),
]


# --- visitors -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix", "body"), VISITOR_ROUTES)
def test_a_token_opens_only_its_own_conversation(
    make_active_conversation, make_conversation, operator, chat_open, method, suffix, body
) -> None:
    _mine, my_token = make_conversation()
    theirs, _ = make_active_conversation(operator)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {my_token}"}

    someone_elses = call(
        Client(), method, f"/api/v1/conversations/{theirs.pk}{suffix}", body, **bearer
    )
    nonexistent = call(
        Client(), method, f"/api/v1/conversations/{theirs.pk + 99}{suffix}", body, **bearer
    )

    assert someone_elses.status_code == nonexistent.status_code == 404
    assert someone_elses.json() == nonexistent.json() == NOT_FOUND
    theirs.refresh_from_db()
    assert theirs.status == Status.ACTIVE
    assert not Message.objects.exists()


@pytest.mark.parametrize(("method", "suffix", "body"), VISITOR_ROUTES)
@pytest.mark.parametrize("authorization", [None, "Bearer ", "Bearer nope", "Basic abc"])
def test_visitor_routes_need_the_token(
    make_conversation, chat_open, method, suffix, body, authorization
) -> None:
    conversation, _ = make_conversation()
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = call(
        Client(), method, f"/api/v1/conversations/{conversation.pk}{suffix}", body, **extra
    )

    if authorization == "Bearer nope":  # a token, just not this conversation's
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    else:
        assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)


def test_the_visitors_own_token_works(make_conversation, visitor_client, chat_open) -> None:
    conversation, token = make_conversation()
    visitor = visitor_client(token, conversation.pk)
    response = visitor.get(visitor.url())
    assert response.status_code == 200
    frame = response.json()["conversation"]
    assert frame["id"] == conversation.pk
    # The visitor's view leaves out the intake and the operator's account.
    assert "operator_id" not in frame
    assert "audience" not in frame


# --- operators and coordinators ---------------------------------------------------------


@pytest.mark.parametrize(("method", "suffix", "body"), STAFF_ROUTES)
def test_an_operator_cannot_reach_a_colleagues_conversation(
    make_ended_conversation,
    make_active_conversation,
    operator,
    other_operator,
    operator_client,
    chat_open,
    method,
    suffix,
    body,
) -> None:
    active, _ = make_active_conversation(other_operator)
    ended, _ = make_ended_conversation(other_operator)

    for conversation in (active, ended):
        response = call(
            operator_client, method, f"/api/v1/conversations/{conversation.pk}{suffix}", body
        )
        assert (response.status_code, response.json()) == (404, NOT_FOUND), conversation
        nonexistent = call(
            operator_client, method, f"/api/v1/conversations/{conversation.pk + 99}{suffix}", body
        )
        assert nonexistent.json() == response.json()
    active.refresh_from_db()
    assert active.status == Status.ACTIVE
    assert not Message.objects.exists()
    assert not Registration.objects.exists()


def test_an_operator_cannot_see_a_queued_conversation_by_id(
    make_conversation, operator_client, chat_open
) -> None:
    conversation, _ = make_conversation()
    response = operator_client.get(f"/api/v1/conversations/{conversation.pk}")
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_coordinator_reads_any_conversation(
    make_active_conversation, operator, coordinator_client, visitor_client, chat_open
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)
    visitor.post(visitor.url("/messages"), {"client_id": "1", "body": "Ik pest niet graag"})

    detail = coordinator_client.get(f"/api/v1/conversations/{conversation.pk}")
    messages = coordinator_client.get(f"/api/v1/conversations/{conversation.pk}/messages")

    assert detail.status_code == 200
    assert detail.json()["conversation"]["operator_id"] == operator.pk
    assert detail.json()["conversation"]["audience"] == "pupil"
    assert [m["body"] for m in messages.json()["messages"]] == ["Ik pest niet graag"]


def test_a_coordinator_reading_along_neither_writes_nor_ends(
    make_active_conversation, operator, coordinator_client, chat_open
) -> None:
    conversation, _ = make_active_conversation(operator)

    posted = coordinator_client.post(
        f"/api/v1/conversations/{conversation.pk}/messages",
        {"client_id": "c", "body": "Hallo"},
        content_type="application/json",
    )
    ended = coordinator_client.post(f"/api/v1/conversations/{conversation.pk}/end")

    assert (posted.status_code, posted.json()["code"]) == (403, "forbidden")
    assert (ended.status_code, ended.json()) == (404, NOT_FOUND)
    conversation.refresh_from_db()
    assert conversation.status == Status.ACTIVE


def test_the_operator_holding_a_chat_reads_writes_and_ends_it(
    make_active_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_active_conversation(operator)
    base = f"/api/v1/conversations/{conversation.pk}"

    posted = operator_client.post(
        f"{base}/messages", {"client_id": "o", "body": "Dag!"}, content_type="application/json"
    )
    ended = operator_client.post(f"{base}/end")

    assert posted.status_code == 201
    assert posted.json()["message"]["sender"] == "operator"
    assert ended.status_code == 200
    assert ended.json()["conversation"]["end_reason"] == "operator_ended"


OPERATOR_ENDPOINTS = [
    ("get", "/api/v1/operator/me", None),
    ("patch", "/api/v1/operator/me", {"availability": "available"}),
    ("get", "/api/v1/operator/conversations", None),
    ("get", "/api/v1/queue", None),
    ("post", "/api/v1/queue/take", None),
    ("post", "/api/v1/conversations/1/accept", None),
    ("get", "/api/v1/taxonomy", None),
    ("get", "/api/v1/conversations/1/registration", None),
    ("put", "/api/v1/conversations/1/registration", REGISTRATION),
]


@pytest.mark.parametrize(("method", "path", "body"), OPERATOR_ENDPOINTS)
def test_operator_endpoints_need_a_session(
    make_conversation, chat_open, method, path, body
) -> None:
    _conversation, token = make_conversation()
    anonymous = call(Client(), method, path, body)
    with_visitor_token = call(Client(), method, path, body, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert (anonymous.status_code, anonymous.json()) == (401, NOT_AUTHENTICATED)
    assert (with_visitor_token.status_code, with_visitor_token.json()) == (401, NOT_AUTHENTICATED)


def test_staff_cannot_rate_in_the_visitors_place(
    make_ended_conversation, operator, operator_client, chat_open
) -> None:
    conversation, _ = make_ended_conversation(operator)
    response = operator_client.post(
        f"/api/v1/conversations/{conversation.pk}/rating",
        {"rating": 5},
        content_type="application/json",
    )
    assert response.status_code == 401
    conversation.refresh_from_db()
    assert conversation.rating is None


# --- unknown ids --------------------------------------------------------------------------


@pytest.mark.parametrize("conversation_id", ["0", "424242", "-1", "99999999999999999999999"])
@pytest.mark.parametrize(("method", "suffix", "body"), STAFF_ROUTES)
def test_unknown_ids_are_not_found_for_staff(
    coordinator_client, conversation_id, method, suffix, body
) -> None:
    response = call(
        coordinator_client, method, f"/api/v1/conversations/{conversation_id}{suffix}", body
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("conversation_id", ["0", "424242", "-1", "99999999999999999999999"])
@pytest.mark.parametrize(("method", "suffix", "body"), VISITOR_ROUTES)
def test_unknown_ids_are_not_found_for_visitors(
    make_conversation, chat_open, conversation_id, method, suffix, body
) -> None:
    _conversation, token = make_conversation()
    response = call(
        Client(),
        method,
        f"/api/v1/conversations/{conversation_id}{suffix}",
        body,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


@pytest.mark.parametrize("conversation_id", ["0", "424242", "99999999999999999999999"])
def test_accepting_an_unknown_id_is_not_in_queue(operator_client, conversation_id) -> None:
    # "Not in the queue" covers ids that never existed and chats a colleague took.
    response = operator_client.post(f"/api/v1/conversations/{conversation_id}/accept")
    assert response.status_code == 409
    assert response.json()["code"] == "not_in_queue"


@pytest.mark.parametrize(("method", "suffix", "body"), STAFF_ROUTES)
def test_a_non_numeric_id_is_a_validation_error(coordinator_client, method, suffix, body) -> None:
    response = call(coordinator_client, method, f"/api/v1/conversations/abc{suffix}", body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "conversation_id" in response.json()["details"]["fields"]


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(operator) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    return client


CSRF_SECRET = "a" * 32


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/queue/take", None),
        ("patch", "/api/v1/operator/me", {"availability": "paused"}),
        ("post", "/api/v1/conversations/{id}/accept", None),
    ],
)
def test_a_session_write_without_csrf_token_is_refused(
    make_conversation, csrf_client, operator, chat_open, method, path, body
) -> None:
    conversation, _ = make_conversation()
    path = path.replace("{id}", str(conversation.pk))

    refused = call(csrf_client, method, path, body)

    assert refused.status_code == 403
    assert refused.json()["code"]
    conversation.refresh_from_db()
    operator.refresh_from_db()
    assert conversation.status == Status.QUEUED
    assert operator.availability == "available"

    # The same request with the token goes through.
    csrf_client.cookies["csrftoken"] = CSRF_SECRET
    accepted = call(csrf_client, method, path, body, HTTP_X_CSRFTOKEN=CSRF_SECRET)
    assert accepted.status_code == 200, accepted.content


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/queue/take", None),
        ("patch", "/api/v1/operator/me", {"availability": "paused"}),
        ("post", "/api/v1/conversations/{id}/accept", None),
        ("post", "/api/v1/conversations/{id}/messages", {"client_id": "x", "body": "Hoi"}),
        ("post", "/api/v1/quality/scans", {}),
        ("delete", "/api/v1/shifts/blocks/1", None),
    ],
)
def test_a_write_without_a_session_is_not_authenticated(
    make_conversation, chat_open, method, path, body
) -> None:
    """Nobody signed in: 401 ``not_authenticated``, as documented, before any
    CSRF check (which answered 403 here before)."""
    conversation, _ = make_conversation()
    client = Client(enforce_csrf_checks=True)

    response = call(client, method, path.replace("{id}", str(conversation.pk)), body)

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "not_authenticated"
    conversation.refresh_from_db()
    assert conversation.status == Status.QUEUED
    assert not Message.objects.exists()


def test_a_session_message_without_csrf_token_is_refused(
    make_active_conversation, operator, csrf_client, chat_open
) -> None:
    conversation, _ = make_active_conversation(operator)
    response = call(
        csrf_client,
        "post",
        f"/api/v1/conversations/{conversation.pk}/messages",
        {"client_id": "x", "body": "Hoi"},
    )
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_logout_without_csrf_token_is_refused(csrf_client, operator) -> None:
    response = csrf_client.post("/medewerker/afmelden/")
    assert response.status_code == 403
    operator.refresh_from_db()
    assert operator.availability == "available"
    assert csrf_client.get("/api/v1/operator/me").status_code == 200


def test_visitors_need_no_csrf_token(visitor_client, chat_open) -> None:
    client = Client(enforce_csrf_checks=True)
    opened = client.post("/api/v1/conversations", {}, content_type="application/json")
    assert opened.status_code == 201
    visitor = visitor_client(opened.json()["token"], opened.json()["id"])
    visitor.client = Client(enforce_csrf_checks=True)
    response = visitor.post(visitor.url("/messages"), {"client_id": "1", "body": "Hoi"})
    assert response.status_code == 201
