"""The waiting visitor's alternatives: offered once the wait is long, fit
for their audience and age, only through their own token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import VisitorClient
from onthaal.staff.models import Availability, User
from onthaal.toolkit.models import SocialMapEntry

pytestmark = pytest.mark.django_db


def alternatives(conversation_id: int, token: str) -> dict:
    response = VisitorClient(token, conversation_id).get(
        f"/api/v1/toolkit/conversations/{conversation_id}/alternatives"
    )
    assert response.status_code == 200, response.content
    return response.json()


def names(frame: dict, key: str) -> list[str]:
    return [e["name"] for e in frame[key]]


def test_no_offer_while_the_wait_is_short(
    make_conversation, operator: User, chat_open, settings
) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 10
    conversation, token = make_conversation()
    frame = alternatives(conversation.pk, token)
    assert frame["offer"] is False
    assert frame["long_wait_seconds"] == 600
    assert 0 <= frame["waited_seconds"] < 60
    assert frame["estimated_wait_seconds"] == 0
    # The lists come along, so that the page can show them by itself later.
    assert names(frame, "helplines")[:3] == ["Zelfmoordlijn 1813", "Awel", "Tele-Onthaal"]


def test_offered_after_a_long_actual_wait(make_conversation, chat_open, settings) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 10
    conversation, token = make_conversation(now=timezone.now() - timedelta(minutes=11))
    frame = alternatives(conversation.pk, token)
    assert frame["offer"] is True
    assert frame["waited_seconds"] >= 660


def test_offered_when_the_estimate_is_long(
    make_conversation, make_active_conversation, operator: User, chat_open, settings
) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 10
    settings.ONTHAAL_MAX_CHATS_PER_OPERATOR = 1
    make_active_conversation(operator)  # the only slot is busy: a 20-minute estimate
    conversation, token = make_conversation()
    frame = alternatives(conversation.pk, token)
    assert frame["estimated_wait_seconds"] > 600
    assert frame["offer"] is True


def test_a_setting_of_zero_never_offers(make_conversation, chat_open, settings) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 0
    conversation, token = make_conversation(now=timezone.now() - timedelta(hours=1))
    frame = alternatives(conversation.pk, token)
    assert (frame["offer"], frame["long_wait_seconds"], frame["tools"]) == (False, None, [])


def test_a_fraction_of_a_minute_works(make_conversation, chat_open, settings) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 0.05
    conversation, token = make_conversation(now=timezone.now() - timedelta(seconds=10))
    frame = alternatives(conversation.pk, token)
    assert (frame["long_wait_seconds"], frame["offer"]) == (3, True)


def test_the_entries_fit_the_visitors_audience_and_age(make_conversation, chat_open) -> None:
    pupil, pupil_token = make_conversation(audience="pupil", age=13)
    frame = alternatives(pupil.pk, pupil_token)
    assert "NokNok" in names(frame, "tools")  # 12–16
    assert "Geluksdriehoek" not in names(frame, "tools")  # 16+
    assert "m-Path" not in names(frame, "tools")  # not for waiting visitors
    assert "Awel" in names(frame, "helplines")
    assert set(frame["tools"][0]) == {"name", "url", "phone", "description"}

    parent, parent_token = make_conversation(audience="parent", age=45)
    frame = alternatives(parent.pk, parent_token)
    assert "Awel" not in names(frame, "helplines")  # for children and young people
    assert "Tele-Onthaal" in names(frame, "helplines")
    assert "NokNok" not in names(frame, "tools")
    assert "Onderwijskiezer" in names(frame, "tools")

    skipped, skipped_token = make_conversation(audience="", age=None)
    frame = alternatives(skipped.pk, skipped_token)
    assert {"NokNok", "Geluksdriehoek"} <= set(names(frame, "tools"))


def test_inactive_entries_are_not_offered(make_conversation, chat_open) -> None:
    SocialMapEntry.objects.filter(name="Tele-Onthaal").update(is_active=False)
    conversation, token = make_conversation()
    assert "Tele-Onthaal" not in names(alternatives(conversation.pk, token), "helplines")


def test_only_the_visitors_own_token_opens_it(
    make_conversation, operator_client: Client, chat_open
) -> None:
    _first, first_token = make_conversation()
    second, _ = make_conversation()
    url = f"/api/v1/toolkit/conversations/{second.pk}/alternatives"
    assert VisitorClient(first_token, second.pk).get(url).status_code == 404
    assert Client().get(url).status_code == 401
    # Staff have no use for it: a session is no visitor token.
    assert operator_client.get(url).status_code == 401


def test_nothing_is_offered_once_the_chat_started(
    make_active_conversation, operator: User, chat_open, settings
) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 0.05
    conversation, token = make_active_conversation(
        operator, now=timezone.now() - timedelta(minutes=5)
    )
    frame = alternatives(conversation.pk, token)
    assert (frame["offer"], frame["waited_seconds"], frame["helplines"]) == (False, None, [])


def test_no_operator_available_means_no_estimate_but_the_clock_still_counts(
    make_conversation, staff_factory, chat_open, settings
) -> None:
    settings.ONTHAAL_LONG_WAIT_MINUTES = 10
    staff_factory(availability=Availability.PAUSED)
    conversation, token = make_conversation(now=timezone.now() - timedelta(minutes=2))
    frame = alternatives(conversation.pk, token)
    assert (frame["estimated_wait_seconds"], frame["offer"]) == (None, False)
