"""Who may do what: coordinators and administrators only; operators see the
alert only in their own chats; analysts and visitors nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from onthaal.chat import services as chat_services
from onthaal.safeguard.models import PrankReview, VisitorBlock
from onthaal.safeguard.tests.conftest import new_key
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

API = "/api/v1/safeguard"


@pytest.fixture
def prank(chat_with_key: Any, other_operator: User) -> Any:
    # Held by a colleague, so that no role here reviews its own chat.
    return chat_with_key(new_key(), operator=other_operator, prank=True)


def _requests(conversation_id: int, block_id: int) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("get", f"{API}/prank-reviews", {}),
        ("get", f"{API}/prank-reviews/{conversation_id}", {}),
        ("post", f"{API}/prank-reviews/{conversation_id}/decision", {"decision": "dismissed"}),
        ("get", f"{API}/blocks", {}),
        ("post", f"{API}/blocks", {"conversation_id": conversation_id, "duration": "24h"}),
        ("post", f"{API}/blocks/{block_id}/lift", {}),
    ]


def _call(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    if method == "get":
        return client.get(path)
    return client.post(path, body, content_type="application/json")


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("operator", 403), ("analyst", 403)]
)
def test_the_api_refuses_everyone_but_coordinators(
    clients: dict[str, Client], prank: Any, coordinator: User, role: str, status: int
) -> None:
    block = VisitorBlock.objects.create(
        visitor_hash="0" * 64,
        duration="24h",
        starts_at=prank.ended_at,
        ends_at=prank.ended_at.replace(year=prank.ended_at.year + 1),
        created_by=coordinator,
    )
    for method, path, body in _requests(prank.pk, block.pk):
        response = _call(clients[role], method, path, body)
        assert response.status_code == status, (role, method, path, response.content)
    assert not PrankReview.objects.exists()
    assert VisitorBlock.objects.count() == 1
    assert VisitorBlock.objects.get().lifted_at is None


def test_a_visitor_token_opens_nothing_here(prank: Any, chat_with_key: Any) -> None:
    from onthaal.safeguard.tests.conftest import open_chat

    token = open_chat(new_key()).json()["token"]
    response = Client().get(f"{API}/prank-reviews", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["coordinator", "administrator"])
def test_coordinators_and_administrators_may(
    clients: dict[str, Client], prank: Any, role: str
) -> None:
    client = clients[role]
    assert client.get(f"{API}/prank-reviews").status_code == 200
    assert client.get(f"{API}/prank-reviews/{prank.pk}").status_code == 200
    created = client.post(
        f"{API}/blocks",
        {"conversation_id": prank.pk, "duration": "24h"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert client.get(f"{API}/blocks").status_code == 200
    assert client.post(f"{API}/blocks/{created.json()['id']}/lift").status_code == 200
    assert (
        client.post(
            f"{API}/prank-reviews/{prank.pk}/decision",
            {"decision": "dismissed"},
            content_type="application/json",
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("operator", 403), ("analyst", 403), ("coordinator", 200), ("administrator", 200)],
)
def test_the_pages(clients: dict[str, Client], prank: Any, role: str, status: int) -> None:
    assert clients[role].get("/nepoproepen/").status_code == status
    assert clients[role].get(f"/nepoproepen/chats/{prank.pk}/").status_code == status
    posted = clients[role].post(
        f"/nepoproepen/chats/{prank.pk}/", {"action": "decide", "decision": "confirmed"}
    )
    assert posted.status_code == (302 if status == 200 else status)


def test_anonymous_is_sent_to_sign_in(prank: Any) -> None:
    response = Client().get("/nepoproepen/")
    assert response.status_code == 302
    assert "/medewerker/" in response["Location"]


def test_an_operator_sees_the_alert_only_in_their_own_chat(
    chat_with_key: Any,
    operator: User,
    other_operator: User,
    coordinator_client: Client,
    clients: dict[str, Client],
) -> None:
    key = new_key()
    marked = chat_with_key(key, operator=other_operator, prank=True)
    coordinator_client.post(
        f"{API}/prank-reviews/{marked.pk}/decision",
        {"decision": "confirmed"},
        content_type="application/json",
    )
    again = chat_with_key(key)
    # Queued: the queue every operator sees carries no alert.
    queue = clients["operator"].get("/api/v1/queue").json()
    assert "visitor_alert" not in str(queue)
    assert "nepoproep" not in str(queue)
    chat_services.conversation_accept(conversation_id=again.pk, operator=other_operator)
    # Not theirs: "not found", alert and all.
    assert clients["operator"].get(f"/api/v1/conversations/{again.pk}").status_code == 404
    assert clients["analyst"].get(f"/api/v1/conversations/{again.pk}").status_code == 404
