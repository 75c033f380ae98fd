"""Who may see which figures: the one access check of the statistics.

- Coordinators and administrators see every figure, and may narrow them to
  one operator.
- Analysts see every aggregate figure, but no figure of one operator: they
  cannot narrow to an operator, and the list of chats per operator is
  left out (``figures_for_viewer``); the counts by discipline stay.
- Operators see only the chats they held themselves: their filters always
  carry their own id, and asking for someone else's is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.errors import PermissionDenied
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.staff.models import Role, User
from onthaal.stats.figures import Filters, school_year_dates, school_year_of
from onthaal.stats.models import Foreword


def current_school_year() -> int:
    """The school year today (Europe/Brussels) lies in."""
    return school_year_of(timezone.localdate(timezone=HELPLINE_TIMEZONE))


def sees_everyone(viewer: User) -> bool:
    """Whether the viewer's figures cover every operator's chats."""
    return viewer.is_coordinator or viewer.role == Role.ANALYST


def writes_foreword(viewer: User) -> bool:
    """Whether the viewer may write the foreword of an annual report:
    coordinators and administrators (analysts read the report only)."""
    return viewer.is_coordinator


def foreword_get(school_year: int) -> Foreword | None:
    """The coordinators' own foreword of a school year's report, if any. The
    report is published, so the foreword is no secret: whoever may read the
    report may read it."""
    return Foreword.objects.filter(school_year=school_year).first()


def sees_operators(viewer: User) -> bool:
    """Whether the viewer may see figures of individual operators."""
    return viewer.is_coordinator


def viewer_operator_id(*, viewer: User, operator_id: int | None) -> int | None:
    """The operator the viewer's figures are narrowed to.

    An operator gets their own id whatever they ask, and an analyst None;
    asking for (another) operator's figures raises PermissionDenied.
    Coordinators get what they asked for (None: everyone).
    """
    if sees_operators(viewer):
        return operator_id
    own = None if sees_everyone(viewer) else viewer.pk
    if operator_id is not None and operator_id != own:
        raise PermissionDenied(
            _("Je ziet alleen je eigen cijfers."),
            code="forbidden",
            fields={"operator": operator_id},
        )
    return own


def filters_for_viewer(
    *,
    viewer: User,
    start: date | None = None,
    end: date | None = None,
    channel: str | None = None,
    audience: str | None = None,
    operator_id: int | None = None,
) -> Filters:
    """Filters as the viewer may use them; the period defaults to the current school year.

    Raises InvalidInput for a bad period, channel or audience, and
    PermissionDenied for a narrowing to an operator the viewer may not see.
    """
    default_start, default_end = school_year_dates(current_school_year())
    return Filters(
        start=start or default_start,
        end=end or default_end,
        channel=channel or None,
        audience=audience or None,
        operator_id=viewer_operator_id(viewer=viewer, operator_id=operator_id),
    )


def figures_for_viewer(*, viewer: User, figures: dict[str, Any]) -> dict[str, Any]:
    """``figures`` as the viewer may see them: without the chats per operator
    for a viewer who may not see individual operators (an analyst). An
    operator's own figures list only themselves and are left as they are."""
    if sees_operators(viewer) or not sees_everyone(viewer):
        return figures
    operators = {**figures["operators"], "per_operator": []}
    return {**figures, "operators": operators}
