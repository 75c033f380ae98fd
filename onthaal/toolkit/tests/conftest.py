"""Fixtures of the toolkit tests: staff of every role and an API helper."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from conftest import logged_in_client, make_staff
from onthaal.staff.models import Availability, Role, User


@pytest.fixture
def administrator(db: None) -> User:
    return make_staff(username="beheerder", pseudonym="Beheer", role=Role.ADMINISTRATOR)


@pytest.fixture
def analyst(db: None) -> User:
    return make_staff(username="analist", role=Role.ANALYST, availability=Availability.OFFLINE)


@pytest.fixture
def administrator_client(administrator: User) -> Client:
    return logged_in_client(administrator)


@pytest.fixture
def analyst_client(analyst: User) -> Client:
    return logged_in_client(analyst)


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    """A JSON call to /api/v1/toolkit; returns the response."""
    return getattr(client, method.lower())(
        f"/api/v1/toolkit{path}",
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
    )
