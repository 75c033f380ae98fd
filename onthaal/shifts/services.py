"""Every write of shifts: blocks, sign-ups and calendar feeds.

Preconditions are checked first, then the row is written, in one
transaction. Errors are ``onthaal.errors`` kinds with stable codes
(docs/api.md, "Shifts").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.selectors import opening_periods
from onthaal.shifts.models import (
    DEFAULT_MIN_OPERATORS,
    CalendarFeed,
    ShiftBlock,
    ShiftSignup,
    feed_token_hash,
)
from onthaal.shifts.rules import block_length_ok, split_period
from onthaal.staff.models import User

#: The most days one generation may span (a school year and some).
MAX_GENERATE_DAYS = 400
#: The largest minimum a block may ask for.
MAX_MIN_OPERATORS = 50


def _require_coordinator(actor: User) -> None:
    if not actor.is_coordinator:
        raise PermissionDenied(
            _("Alleen coördinatoren plannen diensten."), code="coordinator_required"
        )


def _require_chatter(operator: User) -> None:
    if not operator.can_chat:
        raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            _("Geef een tijdstip met tijdzone."), code="invalid", fields={name: "naive datetime"}
        )
    return value


def _validate_min_operators(min_operators: int) -> None:
    if not 1 <= min_operators <= MAX_MIN_OPERATORS:
        raise InvalidInput(
            _("Het minimum aantal chatmedewerkers ligt tussen 1 en %(max)s.")
            % {"max": MAX_MIN_OPERATORS},
            code="invalid",
            fields={"min_operators": f"1–{MAX_MIN_OPERATORS}"},
        )


def _block_fits_opening_hours(*, starts_at: datetime, ends_at: datetime) -> None:
    day = starts_at.astimezone(HELPLINE_TIMEZONE).date()
    periods = opening_periods(start=day, end=day)
    if not periods:
        raise Conflict(
            _("De chat is gesloten op %(day)s (bv. een feestdag of sluiting).")
            % {"day": day.isoformat()},
            code="day_closed",
        )
    if not any(opens <= starts_at and ends_at <= closes for opens, closes in periods):
        raise Conflict(
            _("Een dienstblok moet binnen de openingsuren van die dag vallen."),
            code="outside_opening_hours",
            periods=[
                {"opens": opens.isoformat(), "closes": closes.isoformat()}
                for opens, closes in periods
            ],
        )


@transaction.atomic
def shift_block_create(
    *,
    starts_at: datetime,
    ends_at: datetime,
    created_by: User,
    min_operators: int = DEFAULT_MIN_OPERATORS,
    medical_required: bool = True,
    now: datetime | None = None,
) -> ShiftBlock:
    """Plan a block from ``starts_at`` to ``ends_at`` (aware datetimes).

    Preconditions: ``created_by`` is a coordinator or administrator; the block
    lasts 2.5–3 hours (``rules``), starts in the future, lies inside one
    opening period of its date (so never on a public holiday or a closure),
    and no block with the same start and end exists. Blocks may overlap (a
    handover).
    """
    now = now or timezone.now()
    _require_coordinator(created_by)
    _aware(starts_at, "starts_at")
    _aware(ends_at, "ends_at")
    _validate_min_operators(min_operators)
    if not block_length_ok(starts_at=starts_at, ends_at=ends_at):
        raise InvalidInput(_("Een dienstblok duurt 2,5 tot 3 uur."), code="invalid_block_length")
    if starts_at <= now:
        raise Conflict(_("Dit dienstblok is al begonnen."), code="block_started")
    _block_fits_opening_hours(starts_at=starts_at, ends_at=ends_at)
    exists = Conflict(_("Dit dienstblok bestaat al."), code="block_exists")
    if ShiftBlock.objects.filter(starts_at=starts_at, ends_at=ends_at).exists():
        raise exists
    try:
        # A savepoint: two coordinators planning the same block at once meet
        # the unique constraint, and the loser gets block_exists, not a 500.
        with transaction.atomic():
            return ShiftBlock.objects.create(
                starts_at=starts_at,
                ends_at=ends_at,
                min_operators=min_operators,
                medical_required=medical_required,
                created_by=created_by,
                created_at=now,
            )
    except IntegrityError as exc:
        raise exists from exc


@transaction.atomic
def shift_block_delete(*, block_id: int, actor: User, now: datetime | None = None) -> None:
    """Remove a block that has not started, with its sign-ups.

    Preconditions: ``actor`` is a coordinator or administrator; the block
    exists and has not started (a past block is history).
    """
    now = now or timezone.now()
    _require_coordinator(actor)
    block = ShiftBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise NotFound(_("Niet gevonden."))
    if block.starts_at <= now:
        raise Conflict(_("Dit dienstblok is al begonnen."), code="block_started")
    block.delete()


@dataclass
class GenerateResult:
    created: list[ShiftBlock] = field(default_factory=list)
    # Opening periods left alone: (opens, closes, reason), reason one of
    # "already_planned", "too_short", "started".
    skipped: list[tuple[datetime, datetime, str]] = field(default_factory=list)


@transaction.atomic
def shift_blocks_generate(
    *,
    start: date,
    end: date,
    created_by: User,
    min_operators: int = DEFAULT_MIN_OPERATORS,
    medical_required: bool = True,
    now: datetime | None = None,
) -> GenerateResult:
    """Create the default blocks (``rules.split_period``) for every opening
    period on the dates ``start`` to ``end`` inclusive.

    A period that already has a block overlapping it is left as the
    coordinator planned it, as is a period that has begun or is shorter than
    2.5 hours; so generating twice creates nothing new. Preconditions:
    ``created_by`` is a coordinator or administrator; ``start <= end`` and the
    range spans at most ``MAX_GENERATE_DAYS`` days.
    """
    now = now or timezone.now()
    _require_coordinator(created_by)
    _validate_min_operators(min_operators)
    if start > end or (end - start).days + 1 > MAX_GENERATE_DAYS:
        raise InvalidInput(
            _("Kies een begindatum vóór de einddatum, hoogstens %(days)s dagen uit elkaar.")
            % {"days": MAX_GENERATE_DAYS},
            code="invalid_range",
        )
    periods = opening_periods(start=start, end=end)
    result = GenerateResult()
    if not periods:
        return result
    existing = list(
        ShiftBlock.objects.filter(
            starts_at__lt=periods[-1][1], ends_at__gt=periods[0][0]
        ).values_list("starts_at", "ends_at")
    )
    new_blocks: list[ShiftBlock] = []
    for opens, closes in periods:
        if any(s < closes and e > opens for s, e in existing):
            result.skipped.append((opens, closes, "already_planned"))
            continue
        if opens <= now:
            result.skipped.append((opens, closes, "started"))
            continue
        pieces = split_period(opens=opens, closes=closes)
        if not pieces:
            result.skipped.append((opens, closes, "too_short"))
            continue
        new_blocks.extend(
            ShiftBlock(
                starts_at=s,
                ends_at=e,
                min_operators=min_operators,
                medical_required=medical_required,
                created_by=created_by,
                created_at=now,
            )
            for s, e in pieces
        )
    result.created = ShiftBlock.objects.bulk_create(new_blocks)
    return result


def shift_signup_create(
    *, block_id: int, operator: User, now: datetime | None = None
) -> ShiftSignup:
    """Sign ``operator`` up for a block.

    Preconditions: the operator's role takes chats (not an analyst); the block
    exists and has not started; the operator has not signed up for it yet.
    """
    now = now or timezone.now()
    _require_chatter(operator)
    try:
        with transaction.atomic():
            block = ShiftBlock.objects.select_for_update().filter(pk=block_id).first()
            if block is None:
                raise NotFound(_("Niet gevonden."))
            if block.starts_at <= now:
                raise Conflict(
                    _("Inschrijven kan niet meer: dit dienstblok is al begonnen."),
                    code="block_started",
                )
            if ShiftSignup.objects.filter(block=block, operator=operator).exists():
                raise Conflict(
                    _("Je bent al ingeschreven voor dit dienstblok."), code="already_signed_up"
                )
            return ShiftSignup.objects.create(block=block, operator=operator, created_at=now)
    except IntegrityError as exc:
        # Two requests of one operator at once: the unique constraint decides.
        raise Conflict(
            _("Je bent al ingeschreven voor dit dienstblok."), code="already_signed_up"
        ) from exc


@transaction.atomic
def shift_signup_withdraw(*, block_id: int, operator: User, now: datetime | None = None) -> None:
    """Withdraw ``operator`` from a block.

    Preconditions: the block exists and has not started; the operator is
    signed up for it.
    """
    now = now or timezone.now()
    block = ShiftBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise NotFound(_("Niet gevonden."))
    if block.starts_at <= now:
        raise Conflict(
            _("Uitschrijven kan niet meer: dit dienstblok is al begonnen."),
            code="block_started",
        )
    deleted, _rows = ShiftSignup.objects.filter(block=block, operator=operator).delete()
    if not deleted:
        raise Conflict(_("Je bent niet ingeschreven voor dit dienstblok."), code="not_signed_up")


@transaction.atomic
def calendar_feed_regenerate(*, operator: User, now: datetime | None = None) -> str:
    """Give ``operator`` a new secret calendar-feed token; the old address
    stops working. Returns the token (shown once; only its hash is stored).

    Preconditions: the operator's role takes chats (an analyst has no shifts).
    """
    now = now or timezone.now()
    _require_chatter(operator)
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        operator=operator,
        defaults={"token_hash": feed_token_hash(token), "created_at": now},
    )
    return token


@transaction.atomic
def calendar_feed_revoke(*, operator: User) -> bool:
    """Revoke ``operator``'s calendar feed. Returns whether there was one."""
    deleted, _rows = CalendarFeed.objects.filter(operator=operator).delete()
    return bool(deleted)
