"""Who may do what: anonymous, analyst, operator, coordinator."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from conftest import logged_in_client, make_staff
from onthaal.shifts import services
from onthaal.shifts.models import ShiftBlock
from onthaal.shifts.tests.conftest import at
from onthaal.staff.models import Role, User

pytestmark = pytest.mark.django_db

API = "/api/v1/shifts"


@pytest.fixture
def block(coordinator: User, open_sunday: date) -> ShiftBlock:
    return services.shift_block_create(
        starts_at=at(open_sunday, "17:00"), ends_at=at(open_sunday, "19:30"), created_by=coordinator
    )


def calls(block: ShiftBlock, day: date) -> list[tuple[str, str, dict[str, object]]]:
    return [
        ("get", f"{API}/blocks", {}),
        ("get", f"{API}/forecast", {}),
        ("get", f"{API}/mine", {}),
        (
            "post",
            f"{API}/blocks",
            {
                "starts_at": at(day, "18:00").isoformat(),
                "ends_at": at(day, "20:30").isoformat(),
            },
        ),
        ("post", f"{API}/blocks/generate", {"start": day.isoformat(), "end": day.isoformat()}),
        ("delete", f"{API}/blocks/{block.pk}", {}),
        ("post", f"{API}/blocks/{block.pk}/signup", {}),
        ("delete", f"{API}/blocks/{block.pk}/signup", {}),
        ("post", f"{API}/feed", {}),
        ("delete", f"{API}/feed", {}),
    ]


def call(client: Client, method: str, url: str, data: dict[str, object]) -> tuple[int, str]:
    if method == "get":
        response = client.get(url, data)
    else:
        response = getattr(client, method)(url, data, content_type="application/json")
    code = response.json().get("code", "") if response.content else ""
    return response.status_code, code


def test_anonymous_gets_nothing(block: ShiftBlock, open_sunday: date) -> None:
    for method, url, data in calls(block, open_sunday):
        assert call(Client(), method, url, data) == (401, "not_authenticated"), (method, url)


def test_the_session_api_needs_the_csrf_token(coordinator: User, block: ShiftBlock) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.delete(f"{API}/blocks/{block.pk}")
    assert response.status_code == 403
    assert ShiftBlock.objects.filter(pk=block.pk).exists()


def test_an_analyst_reads_aggregates_only(
    analyst_client: Client, block: ShiftBlock, open_sunday: date
) -> None:
    expected = [
        (200, ""),  # GET blocks
        (200, ""),  # GET forecast
        (403, "role_cannot_chat"),  # GET mine
        (403, "coordinator_required"),  # POST blocks
        (403, "coordinator_required"),  # POST blocks/generate
        (403, "coordinator_required"),  # DELETE blocks/{id}
        (403, "role_cannot_chat"),  # POST signup
        (403, "role_cannot_chat"),  # DELETE signup
        (403, "role_cannot_chat"),  # POST feed
        (204, ""),  # DELETE feed: revoking nothing is harmless
    ]
    results = [call(analyst_client, *request) for request in calls(block, open_sunday)]
    assert results == expected
    listing = analyst_client.get(f"{API}/blocks").json()["blocks"]
    assert listing and all("operators" not in item for item in listing)


def test_an_operator_signs_up_but_does_not_plan(
    operator_client: Client, block: ShiftBlock, open_sunday: date
) -> None:
    day = open_sunday.isoformat()
    assert call(operator_client, "post", f"{API}/blocks/generate", {"start": day, "end": day}) == (
        403,
        "coordinator_required",
    )
    assert call(operator_client, "delete", f"{API}/blocks/{block.pk}", {}) == (
        403,
        "coordinator_required",
    )
    created = call(
        operator_client,
        "post",
        f"{API}/blocks",
        {
            "starts_at": at(open_sunday, "18:00").isoformat(),
            "ends_at": at(open_sunday, "20:30").isoformat(),
        },
    )
    assert created == (403, "coordinator_required")
    assert call(operator_client, "post", f"{API}/blocks/{block.pk}/signup", {})[0] == 201
    listing = operator_client.get(f"{API}/blocks").json()["blocks"]
    assert listing[0]["you_signed_up"] is True
    assert "operators" not in listing[0]
    assert ShiftBlock.objects.count() == 1


def test_a_coordinator_sees_names(
    coordinator_client: Client, operator_client: Client, block: ShiftBlock
) -> None:
    operator_client.post(f"{API}/blocks/{block.pk}/signup")
    (item,) = coordinator_client.get(f"{API}/blocks").json()["blocks"]
    assert item["operators"] == [
        {"id": item["operators"][0]["id"], "pseudonym": "Lotte", "discipline": "psycho_pedagogue"}
    ]
    assert item["you_signed_up"] is False


def test_an_administrator_plans_like_a_coordinator(open_sunday: date) -> None:
    client = logged_in_client(make_staff(username="beheerder", role=Role.ADMINISTRATOR))
    response = client.post(
        f"{API}/blocks",
        {
            "starts_at": at(open_sunday, "17:00").isoformat(),
            "ends_at": at(open_sunday, "19:30").isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 201


def test_the_schema_declares_the_error_answers(db: None) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    shifts = {path: ops for path, ops in paths.items() if path.startswith("/api/v1/shifts")}
    assert len(shifts) == 7
    for path, operations in shifts.items():
        for method, operation in operations.items():
            assert {"400", "401"} <= set(operation["responses"]), (method, path)
