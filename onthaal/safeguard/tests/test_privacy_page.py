"""The privacy page tells the visitor, in plain Dutch, about the
returning-visitor key: what, why, how long, how to clear it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_privacy_page_explains_the_returning_visitor_key(settings: Any) -> None:
    settings.ONTHAAL_TRANSCRIPT_RETENTION_DAYS = 30
    settings.ONTHAAL_PRANK_HOLD_MAX_DAYS = 45
    settings.ONTHAAL_PRANK_MARK_DAYS = 120
    page = Client(HTTP_ACCEPT_LANGUAGE="nl-BE").get("/privacy/").content.decode()
    assert "Als je terugkomt" in page
    assert "willekeurige code" in page
    assert "niets te maken met je naam, je toestel of je internetverbinding" in page
    assert "Jij ziet zo’n waarschuwing nooit." in page
    assert "na 30 dagen" in page
    assert "hoogstens 45 dagen" in page
    assert "120 dagen" in page
    assert "24 uur, 7 dagen of 30 dagen" in page
    assert 'id="forget-device"' in page
    assert "Snel weg" in page
    assert "Ook daarvoor bewaren we je IP-adres niet" in page


def test_the_privacy_page_in_english() -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/privacy/").content.decode()
    assert "If you come back" in page
    assert "Clear the code on this device" in page
