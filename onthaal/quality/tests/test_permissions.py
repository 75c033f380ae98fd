"""Who may do what in the chat scan: coordinators draw, read and review;
an operator reads only the feedback on their own chats; analysts and
anonymous callers nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from conftest import logged_in_client
from onthaal.quality.models import ScanReview
from onthaal.quality.tests.helpers import draw, feedback
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviews(
    finished_chat: Any, operator: User, other_operator: User, coordinator_client: Client
) -> dict[str, ScanReview]:
    """One drawn chat of Lotte (operator) and one of Jonas (other_operator), both reviewed."""
    finished_chat(operator)
    finished_chat(other_operator)
    assert draw(coordinator_client).status_code == 201
    by_operator = {
        r.conversation.operator_id: r for r in ScanReview.objects.select_related("conversation")
    }
    own, others = by_operator[operator.pk], by_operator[other_operator.pk]
    assert feedback(coordinator_client, own.pk, strengths="Lotte: sterk").status_code == 200
    assert feedback(coordinator_client, others.pk, strengths="Jonas: sterk").status_code == 200
    return {"own": own, "others": others}


def api_calls(client: Client, review: ScanReview) -> list[tuple[str, Any]]:
    """Every chat scan endpoint, called with a valid body: (url, response)."""
    return [
        ("draw", draw(client)),
        ("list", client.get("/api/v1/quality/scans")),
        ("scan", client.get(f"/api/v1/quality/scans/{review.scan_id}")),
        ("review", client.get(f"/api/v1/quality/reviews/{review.pk}")),
        ("feedback", feedback(client, review.pk)),
        ("mine", client.get("/api/v1/quality/feedback")),
    ]


def page_urls(review_id: int, scan_id: int) -> list[str]:
    return [
        "/kwaliteit/",
        f"/kwaliteit/chatscans/{scan_id}/",
        f"/kwaliteit/chats/{review_id}/",
        "/kwaliteit/mijn-feedback/",
    ]


def test_an_operator_cannot_draw_list_or_review(
    finished_chat: Any, operator: User, other_operator: User, operator_client: Client
) -> None:
    finished_chat(other_operator)
    response = draw(operator_client)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert operator_client.get("/api/v1/quality/scans").status_code == 403
    # The page sends them to their own feedback, and a POST draws nothing.
    assert operator_client.get("/kwaliteit/")["Location"] == "/kwaliteit/mijn-feedback/"
    operator_client.post("/kwaliteit/", {"per_operator": 2})
    assert not ScanReview.objects.exists()


def test_an_operator_reads_no_one_elses_review(
    reviews: dict[str, ScanReview], operator_client: Client
) -> None:
    others = reviews["others"]
    response = operator_client.get(f"/api/v1/quality/reviews/{others.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # The same answer as for an id that does not exist.
    assert operator_client.get("/api/v1/quality/reviews/999999").json() == response.json()
    assert operator_client.get(f"/kwaliteit/chats/{others.pk}/").status_code == 404
    assert operator_client.get(f"/api/v1/quality/scans/{others.scan_id}").status_code == 403
    assert operator_client.get(f"/kwaliteit/chatscans/{others.scan_id}/").status_code == 403
    assert feedback(operator_client, others.pk).status_code == 403


def test_an_operator_reads_their_own_feedback_only(
    reviews: dict[str, ScanReview], operator_client: Client
) -> None:
    own = reviews["own"]
    listed = operator_client.get("/api/v1/quality/feedback").json()["reviews"]
    assert [r["id"] for r in listed] == [own.pk]
    assert listed[0]["feedback"]["strengths"] == "Lotte: sterk"

    detail = operator_client.get(f"/api/v1/quality/reviews/{own.pk}").json()
    assert detail["feedback"]["strengths"] == "Lotte: sterk"
    assert [m["name"] for m in detail["transcript"]] == ["Bezoeker", "Lotte"]

    page = operator_client.get("/kwaliteit/mijn-feedback/")
    assert page.status_code == 200
    assert "Lotte: sterk" in page.text
    assert "Jonas: sterk" not in page.text
    assert f"/kwaliteit/chats/{own.pk}/" in page.text


def test_an_operator_does_not_see_an_open_review_of_their_chat(
    finished_chat: Any, operator: User, coordinator_client: Client, operator_client: Client
) -> None:
    finished_chat(operator)
    draw(coordinator_client)
    review = ScanReview.objects.get()
    assert operator_client.get(f"/api/v1/quality/reviews/{review.pk}").status_code == 404
    assert operator_client.get("/api/v1/quality/feedback").json() == {"reviews": []}
    assert "nog geen feedback" in operator_client.get("/kwaliteit/mijn-feedback/").text


def test_a_coordinator_does_not_review_their_own_chat(
    finished_chat: Any, coordinator: User, second_coordinator: User
) -> None:
    """Drawn by a colleague, a coordinator's chat is hidden from them until reviewed."""
    finished_chat(coordinator)
    colleague = logged_in_client(second_coordinator)
    own = logged_in_client(coordinator)
    assert draw(colleague).status_code == 201
    review = ScanReview.objects.get()
    assert own.get(f"/api/v1/quality/reviews/{review.pk}").status_code == 404
    assert feedback(own, review.pk).status_code == 404
    assert own.post(f"/kwaliteit/chats/{review.pk}/", {"strengths": "x"}).status_code == 404
    assert feedback(colleague, review.pk).status_code == 200
    assert own.get("/api/v1/quality/feedback").json()["reviews"][0]["id"] == review.pk


def test_an_analyst_sees_nothing(reviews: dict[str, ScanReview], analyst_client: Client) -> None:
    review = reviews["own"]
    for url, response in api_calls(analyst_client, review):
        assert response.status_code in {403, 404}, url
        assert "transcript" not in response.json(), url
    assert draw(analyst_client).status_code == 403
    assert analyst_client.get(f"/api/v1/quality/reviews/{review.pk}").status_code == 404
    for url in page_urls(review.pk, review.scan_id):
        assert analyst_client.get(url).status_code in {403, 404}, url


def test_anonymous_callers_must_sign_in(reviews: dict[str, ScanReview]) -> None:
    review = reviews["own"]
    client = Client()
    for url, response in api_calls(client, review):
        assert response.status_code == 401, url
        assert response.json()["code"] == "not_authenticated"
    for url in page_urls(review.pk, review.scan_id):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/medewerker/aanmelden/"), url


def test_session_calls_need_the_csrf_token(
    finished_chat: Any, operator: User, coordinator: User
) -> None:
    finished_chat(operator)
    client = logged_in_client(coordinator, enforce_csrf_checks=True)
    assert draw(client).status_code == 403
    assert not ScanReview.objects.exists()


def test_feedback_is_given_once_and_validated(
    finished_chat: Any, operator: User, coordinator_client: Client
) -> None:
    finished_chat(operator)
    draw(coordinator_client)
    review = ScanReview.objects.get()

    too_high = feedback(coordinator_client, review.pk, scores={"welcome": 6})
    assert (too_high.status_code, too_high.json()["code"]) == (400, "invalid_score")
    unknown = feedback(coordinator_client, review.pk, scores={"charm": 3})
    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid")
    empty = feedback(coordinator_client, review.pk, scores={}, strengths="", improvements="")
    assert (empty.status_code, empty.json()["code"]) == (400, "feedback_empty")
    control = feedback(coordinator_client, review.pk, comment="a\x00b")
    assert (control.status_code, control.json()["code"]) == (400, "invalid_character")
    long = feedback(coordinator_client, review.pk, comment="x" * 4001)
    assert (long.status_code, long.json()["code"]) == (400, "feedback_too_long")

    first = feedback(coordinator_client, review.pk)
    assert first.status_code == 200
    assert first.json()["status"] == "reviewed"
    assert first.json()["feedback"]["scores"] == {
        "welcome": 5,
        "clarifying": 4,
        "information": 4,
        "support": 5,
        "referral": None,
        "closing": 3,
    }
    again = feedback(coordinator_client, review.pk, strengths="anders")
    assert (again.status_code, again.json()["code"]) == (409, "review_closed")
    review.refresh_from_db()
    assert review.strengths == "Warm onthaal, goede open vragen."
