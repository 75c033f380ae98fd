"""The lists of a chat scan cost the same number of queries for 1 or many chats."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from conftest import make_staff
from onthaal.quality.models import ChatScan, ScanReview
from onthaal.quality.tests.helpers import draw, feedback

pytestmark = pytest.mark.django_db


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_scan_and_feedback_lists_do_not_grow_with_the_chats(
    finished_chat: Any, coordinator_client: Client
) -> None:
    lotte = make_staff(username="lotte", pseudonym="Lotte")
    finished_chat(lotte)
    scan_id = draw(coordinator_client).json()["id"]
    feedback(coordinator_client, ScanReview.objects.get().pk)
    client = Client()
    client.force_login(lotte)
    urls = [
        "/api/v1/quality/scans",
        f"/api/v1/quality/scans/{scan_id}",
        f"/kwaliteit/chatscans/{scan_id}/",
        "/kwaliteit/",
    ]
    one = [queries(coordinator_client, url) for url in urls]
    mine_one = [
        queries(client, u) for u in ("/api/v1/quality/feedback", "/kwaliteit/mijn-feedback/")
    ]

    ChatScan.objects.all().delete()
    for _ in range(3):
        finished_chat(lotte)
    for name in ("Bo", "Cas", "Dirk"):
        finished_chat(make_staff(username=name.lower(), pseudonym=name))
    scan_id = draw(coordinator_client, per_operator=5).json()["id"]
    for review in ScanReview.objects.filter(conversation__operator=lotte):
        feedback(coordinator_client, review.pk)
    urls[1:3] = [f"/api/v1/quality/scans/{scan_id}", f"/kwaliteit/chatscans/{scan_id}/"]
    assert [queries(coordinator_client, url) for url in urls] == one
    assert [
        queries(client, u) for u in ("/api/v1/quality/feedback", "/kwaliteit/mijn-feedback/")
    ] == mine_one
