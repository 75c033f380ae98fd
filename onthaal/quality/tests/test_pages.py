"""The chat scan pages: Dutch, accessible, no inline script or style, and
message text shown as text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from onthaal.chat.models import Message
from onthaal.quality.models import ReviewStatus, ScanReview
from onthaal.quality.tests.helpers import draw
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(finished_chat: Any, operator: User, coordinator_client: Client) -> ScanReview:
    finished_chat(operator)
    assert draw(coordinator_client).status_code == 201
    return ScanReview.objects.select_related("conversation").get()


def assert_strict_page(response: Any) -> None:
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert re.search(r"<h1>", html)


def test_the_review_page_shows_the_chat_and_the_form(
    review: ScanReview, coordinator_client: Client
) -> None:
    response = coordinator_client.get(f"/kwaliteit/chats/{review.pk}/")
    assert_strict_page(response)
    html = response.text
    # The transcript, with markup in a message shown as text.
    assert "Ik word gepest op school &lt;b&gt;echt&lt;/b&gt;." in html
    assert "<b>echt</b>" not in html
    assert "Fijn dat je het vertelt." in html
    # Operator pseudonym and intake; nothing else about the visitor.
    assert "Gevoerd door Lotte." in html
    assert "leerling" in html and "15 jaar" in html and "Smartschool" in html
    # Each score is a fieldset with a legend; each field has a label.
    assert html.count('<fieldset class="score">') == 6
    assert "<legend>Onthaal en contact</legend>" in html
    for field in ("strengths", "improvements", "comment"):
        assert f'<label for="id_{field}">' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_submitting_the_form_closes_the_review(
    review: ScanReview, coordinator_client: Client, operator_client: Client
) -> None:
    url = f"/kwaliteit/chats/{review.pk}/"
    empty = coordinator_client.post(url, {})
    assert empty.status_code == 200
    assert "Geef minstens één score" in empty.text

    response = coordinator_client.post(
        url,
        {
            "score_welcome": "5",
            "score_clarifying": "4",
            "score_information": "",
            "score_support": "3",
            "score_referral": "",
            "score_closing": "4",
            "strengths": "Mooi doorgevraagd.",
            "improvements": "Vat samen voor je afsluit.",
            "comment": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    review.refresh_from_db()
    assert review.status == ReviewStatus.REVIEWED
    assert (review.score_welcome, review.score_information) == (5, None)
    closed = coordinator_client.get(url)
    assert "Feedback bewaard" in closed.text
    assert '<form method="post" novalidate>' not in closed.text
    # A second POST is refused.
    assert coordinator_client.post(url, {"strengths": "nog eens"}).status_code == 403

    mine = operator_client.get("/kwaliteit/mijn-feedback/")
    assert_strict_page(mine)
    assert "Mooi doorgevraagd." in mine.text
    assert "Vat samen voor je afsluit." in mine.text
    assert "5 – sterk" in mine.text or "sterk" in mine.text
    assert "niet van toepassing" in mine.text
    own = operator_client.get(url)
    assert_strict_page(own)
    assert "Fijn dat je het vertelt." in own.text

    # Once retention deleted the transcript, the feedback page says so.
    Message.objects.filter(conversation_id=review.conversation_id).delete()
    assert "intussen gewist" in operator_client.get("/kwaliteit/mijn-feedback/").text
    assert "gewist" in operator_client.get(url).text


def test_overview_and_scan_pages(review: ScanReview, coordinator_client: Client) -> None:
    overview = coordinator_client.get("/kwaliteit/")
    assert_strict_page(overview)
    assert '<label for="id_period_start">' in overview.text
    assert "<legend>Periode</legend>" in overview.text
    scan = coordinator_client.get(f"/kwaliteit/chatscans/{review.scan_id}/")
    assert_strict_page(scan)
    assert f"/kwaliteit/chats/{review.pk}/" in scan.text
    assert "transcript bewaard tot uiterlijk" in scan.text


def test_the_pages_speak_english_too(review: ScanReview, coordinator_client: Client) -> None:
    response = coordinator_client.get(f"/kwaliteit/chats/{review.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<legend>Welcome and contact</legend>" in response.text
    assert "Save feedback and close" in response.text
    overview = coordinator_client.get("/kwaliteit/", HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Chat scans</h1>" in overview.text
