from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from onthaal.hours.models import Closure

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["weeklyhours", "schoolholiday", "closure", "extraopening"])
def test_admin_lists_and_add_forms_load(admin_client: Client, model: str) -> None:
    assert admin_client.get(reverse(f"admin:hours_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:hours_{model}_add")).status_code == 200


def test_admin_rejects_a_closure_that_ends_before_it_starts(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:hours_closure_add"),
        {"name": "Studiedag", "start": "2026-10-08", "end": "2026-10-07"},
    )
    assert response.status_code == 200
    assert "De einddatum mag niet voor de begindatum liggen." in response.content.decode()
    assert not Closure.objects.filter(name="Studiedag").exists()
