"""Supervision's HTTP API and page through the test client, per role."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import logged_in_client
from onthaal.staff.models import Role
from onthaal.supervision import services

pytestmark = pytest.mark.django_db


def test_overview_per_role(coordinator_client, operator_client, staff_factory):
    assert coordinator_client.get("/api/v1/supervision/overview").status_code == 200
    assert operator_client.get("/api/v1/supervision/overview").json()["code"] == (
        "not_a_coordinator"
    )
    analyst = logged_in_client(staff_factory(role=Role.ANALYST))
    assert analyst.get("/api/v1/supervision/overview").status_code == 403
    assert Client().get("/api/v1/supervision/overview").status_code == 401


def test_overview_page_per_role(coordinator_client, operator_client):
    page = coordinator_client.get("/toezicht/")
    assert page.status_code == 200
    assert b"overview-config" in page.content
    assert operator_client.get("/toezicht/").status_code == 403
    assert Client().get("/toezicht/").status_code == 302


def test_support_whisper_and_take_over_over_http(
    operator, operator_client, coordinator, coordinator_client, make_active_conversation, chat_open
):
    conversation, _ = make_active_conversation(operator)
    base = f"/api/v1/conversations/{conversation.pk}"

    assert operator_client.post(f"{base}/support").status_code == 200
    assert coordinator_client.post(f"{base}/support").status_code == 403

    read = coordinator_client.post(f"{base}/read-along")
    assert read.status_code == 200
    assert read.json()["conversation"]["id"] == conversation.pk
    assert operator_client.post(f"{base}/read-along").status_code == 403

    sent = coordinator_client.post(
        f"{base}/whispers", {"body": "Ik lees mee."}, content_type="application/json"
    )
    assert sent.status_code == 200
    notes = operator_client.get(f"{base}/notes").json()["notes"]
    assert [n["body"] for n in notes] == ["Ik lees mee."]

    assert operator_client.post(f"{base}/take-over").status_code == 403
    taken = coordinator_client.post(f"{base}/take-over?from_operator_id={operator.pk}")
    assert taken.status_code == 200
    assert taken.json()["conversation"]["operator_id"] == coordinator.pk
    # The former operator reaches the chat no more.
    assert operator_client.get(f"{base}/notes").status_code == 404


def test_transfer_over_http(
    operator,
    operator_client,
    other_operator,
    other_operator_client,
    make_active_conversation,
    chat_open,
):
    services.presence_open(user=other_operator, channel_name="colleague")
    conversation, _ = make_active_conversation(operator)
    base = f"/api/v1/conversations/{conversation.pk}"

    targets = operator_client.get(f"{base}/transfer-targets").json()["operators"]
    assert [t["id"] for t in targets] == [other_operator.pk]
    assert (
        other_operator_client.post(
            f"{base}/transfer", {"operator_id": operator.pk}, content_type="application/json"
        ).status_code
        == 404
    )

    bad = operator_client.post(
        f"{base}/transfer", {"operator_id": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400

    moved = operator_client.post(
        f"{base}/transfer",
        {"operator_id": other_operator.pk, "note": "Over studiekeuze"},
        content_type="application/json",
    )
    assert moved.status_code == 200
    assert moved.json()["conversation"]["operator_id"] == other_operator.pk
    notes = other_operator_client.get(f"{base}/notes").json()["notes"]
    assert [(n["kind"], n["body"]) for n in notes] == [("transfer_note", "Over studiekeuze")]
