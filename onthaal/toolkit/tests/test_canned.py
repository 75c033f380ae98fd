"""Canned responses: who sees and edits which, and what a valid one is."""

from __future__ import annotations

import pytest
from django.test import Client

from onthaal.errors import InvalidInput, NotFound, PermissionDenied
from onthaal.staff.models import User
from onthaal.toolkit import selectors, services
from onthaal.toolkit.models import CannedResponse
from onthaal.toolkit.tests.conftest import send

pytestmark = pytest.mark.django_db


def make(client: Client, **body: object) -> dict:
    body = {"scope": "personal", "code": "welkom", "title": "Welkom", "body": "Hoi!", **body}
    response = send(client, "POST", "/canned-responses", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_coordinator_makes_a_shared_response_that_every_operator_lists(
    coordinator_client: Client, operator_client: Client, other_operator_client: Client
) -> None:
    made = make(
        coordinator_client, scope="shared", code="/Welkom", body="Dag, fijn dat je er bent."
    )
    assert made["scope"] == "shared"
    assert made["code"] == "welkom"
    assert made["shortcut"] == "/welkom"

    for client in (operator_client, other_operator_client):
        listed = send(client, "GET", "/canned-responses").json()["responses"]
        assert [(r["shortcut"], r["scope"], r["editable"]) for r in listed] == [
            ("/welkom", "shared", False)
        ]


def test_an_operator_cannot_make_change_or_delete_a_shared_response(
    coordinator_client: Client, operator_client: Client
) -> None:
    shared = make(coordinator_client, scope="shared")

    response = send(
        operator_client,
        "POST",
        "/canned-responses",
        {"scope": "shared", "code": "x1", "title": "t", "body": "b"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert (
        send(
            operator_client, "PATCH", f"/canned-responses/{shared['id']}", {"body": "Anders"}
        ).status_code
        == 403
    )
    assert send(operator_client, "DELETE", f"/canned-responses/{shared['id']}").status_code == 403
    assert CannedResponse.objects.get(pk=shared["id"]).body == "Hoi!"


def test_personal_responses_are_seen_by_their_owner_only(
    operator_client: Client,
    other_operator_client: Client,
    coordinator_client: Client,
    administrator_client: Client,
) -> None:
    mine = make(operator_client, code="doei", body="Tot later!")
    assert mine["scope"] == "personal"
    assert mine["editable"] is True

    for client in (other_operator_client, coordinator_client, administrator_client):
        assert send(client, "GET", "/canned-responses").json()["responses"] == []
        for method, body in (("GET", None), ("PATCH", {"body": "x"}), ("DELETE", None)):
            response = send(client, method, f"/canned-responses/{mine['id']}", body)
            # The same answer as an unknown id: nobody learns it exists.
            assert response.status_code == 404, (method, response.content)
            assert response.json()["code"] == "not_found"
    assert (
        send(operator_client, "GET", f"/canned-responses/{mine['id']}").json()["body"]
        == "Tot later!"
    )


def test_the_owner_changes_and_deletes_their_own(operator_client: Client) -> None:
    mine = make(operator_client)
    changed = send(
        operator_client,
        "PATCH",
        f"/canned-responses/{mine['id']}",
        {"code": "hallo", "body": "Hallo!"},
    )
    assert changed.status_code == 200
    assert (changed.json()["code"], changed.json()["body"], changed.json()["title"]) == (
        "hallo",
        "Hallo!",
        "Welkom",
    )
    assert send(operator_client, "DELETE", f"/canned-responses/{mine['id']}").status_code == 204
    assert not CannedResponse.objects.exists()


def test_a_coordinator_edits_shared_ones_and_an_administrator_too(
    coordinator_client: Client, administrator_client: Client
) -> None:
    shared = make(coordinator_client, scope="shared")
    assert (
        send(
            administrator_client,
            "PATCH",
            f"/canned-responses/{shared['id']}",
            {"title": "Begroeting"},
        ).status_code
        == 200
    )
    assert CannedResponse.objects.get(pk=shared["id"]).title == "Begroeting"
    assert (
        send(administrator_client, "DELETE", f"/canned-responses/{shared['id']}").status_code == 204
    )


def test_analysts_and_anonymous_callers_get_nothing(
    analyst_client: Client, coordinator_client: Client
) -> None:
    make(coordinator_client, scope="shared")
    assert send(analyst_client, "GET", "/canned-responses").status_code == 403
    assert (
        send(
            analyst_client, "POST", "/canned-responses", {"code": "aa", "title": "t", "body": "b"}
        ).status_code
        == 403
    )
    assert send(Client(), "GET", "/canned-responses").status_code == 401


def test_a_code_is_unique_per_scope(
    operator_client: Client, other_operator_client: Client, coordinator_client: Client
) -> None:
    make(coordinator_client, scope="shared", code="welkom")
    duplicate = send(
        coordinator_client,
        "POST",
        "/canned-responses",
        {"scope": "shared", "code": "/WELKOM", "title": "t", "body": "b"},
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "code_taken"

    # A personal one may repeat a shared code, once per operator.
    make(operator_client, code="welkom")
    make(other_operator_client, code="welkom")
    again = send(
        operator_client, "POST", "/canned-responses", {"code": "welkom", "title": "t", "body": "b"}
    )
    assert again.status_code == 409

    second = make(operator_client, code="tweede")
    rename = send(operator_client, "PATCH", f"/canned-responses/{second['id']}", {"code": "welkom"})
    assert rename.status_code == 409
    assert rename.json()["details"]["fields"] == {"code": "taken"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "a"}, "code"),  # too short
        ({"code": "x" * 31}, "code"),  # too long
        ({"code": "wel kom"}, "code"),  # a space
        ({"code": "/"}, "code"),
        ({"code": "café"}, "code"),  # letters a-z only
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 81}, "title"),
        ({"body": ""}, "body"),
        ({"body": "b" * 2001}, "body"),
        ({"body": "nul\x00teken"}, "body"),  # text_check
        ({"title": "bel\x07"}, "title"),
        ({"scope": "iedereen"}, "scope"),
    ],
)
def test_invalid_input_is_refused_with_the_field_named(
    coordinator_client: Client, body: dict, field: str
) -> None:
    full = {"scope": "shared", "code": "welkom", "title": "Welkom", "body": "Hoi!", **body}
    response = send(coordinator_client, "POST", "/canned-responses", full)
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]["fields"]
    assert response.json()["message"]
    assert not CannedResponse.objects.exists()


def test_the_body_is_never_longer_than_a_message(coordinator: User, settings) -> None:
    settings.ONTHAAL_MAX_MESSAGE_CHARS = 50
    with pytest.raises(InvalidInput):
        services.canned_response_create(
            actor=coordinator, shared=True, code="lang", title="t", body="x" * 51
        )


def test_services_check_permissions_themselves(
    operator: User, other_operator: User, coordinator: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.canned_response_create(actor=operator, shared=True, code="ab", title="t", body="b")
    shared = services.canned_response_create(
        actor=coordinator, shared=True, code="ab", title="t", body="b"
    )
    with pytest.raises(PermissionDenied):
        services.canned_response_update(actor=operator, response=shared, body="x")
    mine = services.canned_response_create(
        actor=operator, shared=False, code="ab", title="t", body="b"
    )
    with pytest.raises(NotFound):
        services.canned_response_delete(actor=other_operator, response=mine)
    with pytest.raises(NotFound):
        services.canned_response_update(actor=coordinator, response=mine, body="x")
    with pytest.raises(NotFound):
        selectors.canned_response_get_for_viewer(viewer=coordinator, response_id=mine.pk)


def test_the_list_is_one_query(
    operator: User, coordinator: User, django_assert_num_queries
) -> None:
    for n in range(5):
        services.canned_response_create(
            actor=coordinator, shared=True, code=f"s{n}x", title="t", body="b"
        )
        services.canned_response_create(
            actor=operator, shared=False, code=f"p{n}x", title="t", body="b"
        )
    with django_assert_num_queries(1):
        rows = selectors.canned_responses_for_user(user=operator)
        frames = [selectors.canned_response_frame(r, viewer=operator) for r in rows]
    assert [f["scope"] for f in frames] == ["shared"] * 5 + ["personal"] * 5
