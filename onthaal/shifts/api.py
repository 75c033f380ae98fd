"""HTTP API of shifts, mounted at ``/api/v1/shifts`` (docs/api.md, "Shifts").

Coordinators plan blocks; everyone who takes chats signs up and withdraws;
an analyst reads coverage and the forecast without names.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from onthaal.errors import InvalidInput, PermissionDenied
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.shifts import selectors, services
from onthaal.shifts.models import DEFAULT_MIN_OPERATORS, ShiftBlock
from onthaal.shifts.selectors import (
    DEFAULT_TARGET_WAIT_SECONDS,
    MAX_RANGE_DAYS,
    BlockCoverage,
    BlockForecast,
)
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session

router = Router(tags=["shifts"], auth=staff_session)

#: The range a listing covers when none is asked for: today and 27 days on.
DEFAULT_RANGE_DAYS = 28


class Error(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class BlockIn(Schema):
    starts_at: datetime = Field(description="ISO 8601 with offset")
    ends_at: datetime = Field(description="ISO 8601 with offset; 2.5–3 h after starts_at")
    min_operators: int = Field(DEFAULT_MIN_OPERATORS, description="1–50")
    medical_required: bool = Field(True, description="a doctor or nurse must be among them")


class GenerateIn(Schema):
    start: date
    end: date
    min_operators: int = DEFAULT_MIN_OPERATORS
    medical_required: bool = True


def _errors(*codes: int) -> dict[int, Any]:
    """The error answers of a route for its schema: every route may answer
    400 (malformed input) and 401 (not signed in), plus ``codes``."""
    return dict.fromkeys((400, 401, *codes), Error)


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _chatter(request: HttpRequest) -> User:
    user = _user(request)
    if not user.can_chat:
        raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
    return user


def date_range(start: date | None, end: date | None) -> tuple[date, date]:
    """The asked range, or today and the next ``DEFAULT_RANGE_DAYS - 1`` days."""
    today = timezone.localdate(timezone=HELPLINE_TIMEZONE)
    start = start or today
    end = end or start + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end or (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            _("Kies een begindatum vóór de einddatum, hoogstens %(days)s dagen uit elkaar.")
            % {"days": MAX_RANGE_DAYS},
            code="invalid_range",
        )
    return start, end


def block_frame(block: ShiftBlock) -> dict[str, Any]:
    return {
        "id": block.pk,
        "starts_at": block.starts_at.astimezone(HELPLINE_TIMEZONE).isoformat(),
        "ends_at": block.ends_at.astimezone(HELPLINE_TIMEZONE).isoformat(),
        "min_operators": block.min_operators,
        "medical_required": block.medical_required,
    }


def coverage_frame(coverage: BlockCoverage, *, viewer: User) -> dict[str, Any]:
    """A block with its coverage. Names of who signed up only for coordinators."""
    frame = {
        **block_frame(coverage.block),
        "signed_up": coverage.count,
        "medical_signed_up": coverage.medical_count,
        "flags": coverage.flags,
        "ok": coverage.ok,
        "you_signed_up": any(user.pk == viewer.pk for user in coverage.operators),
    }
    if viewer.is_coordinator:
        frame["operators"] = [
            {"id": user.pk, "pseudonym": user.pseudonym, "discipline": user.discipline}
            for user in coverage.operators
        ]
    return frame


def forecast_frame(forecast: BlockForecast, *, viewer: User) -> dict[str, Any]:
    return {
        **coverage_frame(forecast.coverage, viewer=viewer),
        "operators_needed": forecast.operators_needed,
        "recommended": forecast.recommended,
        "shortfall": forecast.shortfall,
        "hours": [
            {
                "starts_at": hour.starts_at.isoformat(),
                "arrivals_per_hour": round(hour.arrivals_per_hour, 2),
                "weeks": hour.weeks,
                "operators_needed": hour.operators_needed,
            }
            for hour in forecast.hours
        ],
    }


@router.get("/blocks", response={200: dict[str, Any], **_errors()})
def blocks_list(
    request: HttpRequest, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """Blocks starting on the dates ``start``–``end`` (default: 28 days from
    today) with their coverage and flags."""
    viewer = _user(request)
    start, end = date_range(start, end)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "blocks": [
            coverage_frame(coverage, viewer=viewer)
            for coverage in selectors.coverage_in_range(start=start, end=end)
        ],
    }


@router.post("/blocks", response={201: dict[str, Any], **_errors(403, 409)})
def blocks_create(request: HttpRequest, payload: BlockIn) -> Status[dict[str, Any]]:
    """Plan a block (coordinators)."""
    block = services.shift_block_create(
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        min_operators=payload.min_operators,
        medical_required=payload.medical_required,
        created_by=_user(request),
    )
    return Status(
        201, {"block": coverage_frame(selectors.coverage_for(block), viewer=_user(request))}
    )


@router.post("/blocks/generate", response={201: dict[str, Any], **_errors(403)})
def blocks_generate(request: HttpRequest, payload: GenerateIn) -> Status[dict[str, Any]]:
    """Create the default blocks for every opening period in a date range
    (coordinators); periods that already have a block are left alone."""
    result = services.shift_blocks_generate(
        start=payload.start,
        end=payload.end,
        min_operators=payload.min_operators,
        medical_required=payload.medical_required,
        created_by=_user(request),
    )
    return Status(
        201,
        {
            "created": [block_frame(block) for block in result.created],
            "skipped": [
                {
                    "opens": opens.isoformat(),
                    "closes": closes.isoformat(),
                    "reason": reason,
                }
                for opens, closes, reason in result.skipped
            ],
        },
    )


@router.delete("/blocks/{block_id}", response={204: None, **_errors(403, 404, 409)})
def blocks_delete(request: HttpRequest, block_id: int) -> Status[None]:
    """Remove a block that has not started, with its sign-ups (coordinators)."""
    services.shift_block_delete(block_id=block_id, actor=_user(request))
    return Status(204, None)


@router.post("/blocks/{block_id}/signup", response={201: dict[str, Any], **_errors(403, 404, 409)})
def signup_create(request: HttpRequest, block_id: int) -> Status[dict[str, Any]]:
    """Sign yourself up for a block that has not started."""
    user = _chatter(request)
    signup = services.shift_signup_create(block_id=block_id, operator=user)
    return Status(201, {"block": coverage_frame(selectors.coverage_for(signup.block), viewer=user)})


@router.delete(
    "/blocks/{block_id}/signup", response={200: dict[str, Any], **_errors(403, 404, 409)}
)
def signup_withdraw(request: HttpRequest, block_id: int) -> dict[str, Any]:
    """Withdraw from a block that has not started."""
    user = _chatter(request)
    services.shift_signup_withdraw(block_id=block_id, operator=user)
    block = ShiftBlock.objects.get(pk=block_id)
    return {"block": coverage_frame(selectors.coverage_for(block), viewer=user)}


@router.get("/mine", response={200: dict[str, Any], **_errors(403)})
def mine(request: HttpRequest) -> dict[str, Any]:
    """Your shifts that have not ended yet, and whether you have a calendar feed."""
    user = _chatter(request)
    return {
        "shifts": [
            block_frame(block)
            for block in selectors.operator_shifts(operator=user, since=timezone.now())
        ],
        "calendar_feed": selectors.calendar_feed_exists(operator=user),
    }


@router.get("/forecast", response={200: dict[str, Any], **_errors()})
def forecast(
    request: HttpRequest,
    start: date | None = None,
    end: date | None = None,
    target_wait_seconds: int = Query(DEFAULT_TARGET_WAIT_SECONDS, ge=1, le=3600),
) -> dict[str, Any]:
    """Forecast chats per hour and the operators needed (Erlang C) for every
    block on the dates ``start``–``end`` that has not ended, next to who
    signed up. ``target_wait_seconds``: the mean wait to stay under (1–3600)."""
    viewer = _user(request)
    start, end = date_range(start, end)
    result = selectors.staffing_forecast(
        start=start, end=end, target_wait_seconds=target_wait_seconds
    )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "target_wait_seconds": result.target_wait_seconds,
        "mean_chat_minutes": round(result.mean_chat_minutes, 1),
        "chat_length_sample": result.chat_length_sample,
        "chats_per_operator": result.chats_per_operator,
        "blocks": [forecast_frame(block, viewer=viewer) for block in result.blocks],
    }


@router.post("/feed", response={201: dict[str, Any], **_errors(403)})
def feed_create(request: HttpRequest) -> Status[dict[str, Any]]:
    """A new secret calendar address for your shifts (shown once); the old
    one stops working."""
    token = services.calendar_feed_regenerate(operator=_chatter(request))
    url = request.build_absolute_uri(reverse("shifts:feed", args=[token]))
    return Status(201, {"url": url})


@router.delete("/feed", response={204: None, **_errors()})
def feed_revoke(request: HttpRequest) -> Status[None]:
    """Revoke your calendar address."""
    services.calendar_feed_revoke(operator=_user(request))
    return Status(204, None)
