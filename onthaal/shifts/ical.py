"""The iCalendar (RFC 5545) feed of one operator's shifts.

Built with the ``icalendar`` package. Times are written in UTC (``…Z``), so
the feed needs no VTIMEZONE component and every calendar app shows the
shift at the right local time. An event carries only the block's times and
the helpline's name: nothing about visitors or colleagues.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from onthaal.shifts.models import ShiftBlock

PRODUCT_ID = "-//Onthaal//Diensten//NL"


def shift_calendar(
    *, blocks: Iterable[ShiftBlock], operator_id: int, domain: str, stamp: datetime, link: str
) -> bytes:
    """The feed as bytes (CRLF line ends, long lines folded).

    ``domain`` makes each event's UID globally unique; ``stamp`` is the
    DTSTAMP (when the feed was made); ``link`` is the absolute address of the
    operator's shifts page.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("CLBch@t-diensten"))
    for block in blocks:
        event = Event()
        # One UID per block and operator: signing up again after withdrawing
        # gives the same event back.
        event.add("uid", f"shift-{block.pk}-{operator_id}@{domain}")
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", block.starts_at.astimezone(UTC))
        event.add("dtend", block.ends_at.astimezone(UTC))
        event.add("summary", _("Dienst CLBch@t"))
        event.add("url", link)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
