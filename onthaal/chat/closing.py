"""Closing time: the intake stops ``ONTHAAL_CLOSING_CUTOFF_MINUTES`` before the
chat closes, so that whoever is already waiting can still be helped.

Visitors still queued when the chat closes are ended as ``closed`` by the
sweeper (``services.conversations_sweep``); their page says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from onthaal.errors import Conflict
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.selectors import OpeningStatus, opening_status


@dataclass(frozen=True)
class IntakeStatus:
    is_open: bool  # the chat is open (chats held now go on)
    accepting: bool  # a new visitor may join the queue
    closes_at: datetime | None  # when open: the end of the current period
    intake_closes_at: datetime | None  # when open: the last moment to join the queue
    next_opening: datetime | None  # when not accepting: the next time one may join


def intake_status(*, at: datetime, status: OpeningStatus | None = None) -> IntakeStatus:
    """Whether a new visitor may join the queue at ``at``, and else when next.

    ``status`` is ``opening_status(at=at)`` when the caller has it already.
    Runs four queries (none with ``status``), four more in the cut-off (the
    next opening after closing time).
    """
    opening = status or opening_status(at=at)
    if not opening.is_open or opening.closes_at is None:
        return IntakeStatus(
            is_open=False,
            accepting=False,
            closes_at=None,
            intake_closes_at=None,
            next_opening=opening.next_opening,
        )
    intake_closes_at = opening.closes_at - timedelta(
        minutes=settings.ONTHAAL_CLOSING_CUTOFF_MINUTES
    )
    if at < intake_closes_at:
        return IntakeStatus(
            is_open=True,
            accepting=True,
            closes_at=opening.closes_at,
            intake_closes_at=intake_closes_at,
            next_opening=None,
        )
    return IntakeStatus(
        is_open=True,
        accepting=False,
        closes_at=opening.closes_at,
        intake_closes_at=intake_closes_at,
        next_opening=opening_status(at=opening.closes_at).next_opening,
    )


def _when(moment: datetime) -> str:
    """'dinsdag 7 oktober om 17:00' in the active language, Brussels time."""
    local = moment.astimezone(HELPLINE_TIMEZONE)
    return _("%(day)s om %(time)s") % {
        "day": formats.date_format(local, "l j F"),
        "time": formats.time_format(local, "H:i"),
    }


def intake_closing_check(*, at: datetime, status: OpeningStatus | None = None) -> None:
    """Refuse a new visitor in the last minutes before closing time.

    Preconditions: the chat is open at ``at`` (``status``: as in ``intake_status``).
    """
    intake = intake_status(at=at, status=status)
    if intake.accepting or not intake.is_open:
        return
    assert intake.closes_at is not None
    closes = formats.time_format(intake.closes_at.astimezone(HELPLINE_TIMEZONE), "H:i")
    if intake.next_opening is not None:
        message = _(
            "De chat sluit om %(closes)s en start geen nieuwe gesprekken meer. "
            "We zijn er weer op %(next)s."
        ) % {"closes": closes, "next": _when(intake.next_opening)}
    else:
        message = _("De chat sluit om %(closes)s en start geen nieuwe gesprekken meer.") % {
            "closes": closes
        }
    raise Conflict(
        message,
        code="chat_closing",
        closes_at=intake.closes_at.isoformat(),
        next_opening=intake.next_opening.isoformat() if intake.next_opening else None,
    )
