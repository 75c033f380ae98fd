"""Writes of the statistics: the coordinators' foreword of an annual report.

The figures themselves are never written: they are read from the
conversations and registrations (``figures``).
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.errors import InvalidInput, PermissionDenied
from onthaal.staff.models import User
from onthaal.stats.figures import school_year_parse
from onthaal.stats.models import FOREWORD_MAX_CHARS, FOREWORD_MAX_PARAGRAPHS, Foreword
from onthaal.text import text_check

_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def foreword_paragraphs(text: str) -> list[str]:
    """The paragraphs of a foreword: blocks separated by a blank line, each
    stripped; a single line break inside one stays (the report shows it)."""
    return [p.strip() for p in _BLANK_LINES.split(text.strip()) if p.strip()]


def foreword_clean(text: str) -> str:
    """A foreword as it is stored: line ends as ``\\n``, spaces at the ends of
    lines and paragraphs and extra blank lines removed.

    Raises InvalidInput for a control character (``invalid_character``),
    more than ``FOREWORD_MAX_CHARS`` characters or ``FOREWORD_MAX_PARAGRAPHS``
    paragraphs (``too_long``). An empty result is allowed: it means "no own
    foreword".
    """
    text_check(text, field="foreword")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [
        "\n".join(line.strip() for line in paragraph.split("\n"))
        for paragraph in foreword_paragraphs(text)
    ]
    cleaned = "\n\n".join(paragraphs)
    if len(cleaned) > FOREWORD_MAX_CHARS:
        raise InvalidInput(
            _("Het voorwoord is te lang: hoogstens %(max)s tekens, dit zijn er %(n)s.")
            % {"max": FOREWORD_MAX_CHARS, "n": len(cleaned)},
            code="too_long",
            fields={"foreword": len(cleaned)},
        )
    if len(paragraphs) > FOREWORD_MAX_PARAGRAPHS:
        raise InvalidInput(
            _("Het voorwoord heeft te veel alinea’s: hoogstens %(max)s.")
            % {"max": FOREWORD_MAX_PARAGRAPHS},
            code="too_long",
            fields={"foreword": len(paragraphs)},
        )
    return cleaned


@transaction.atomic
def foreword_set(*, actor: User, school_year: int | str, text: str) -> Foreword | None:
    """Store the foreword of a school year's annual report, replacing the one
    before; an empty ``text`` removes it, so that the report writes its own
    again. Returns the foreword, or None when it was removed.

    Only coordinators and administrators may (PermissionDenied otherwise);
    InvalidInput for a bad school year or text (``foreword_clean``).
    """
    if not actor.is_coordinator:
        raise PermissionDenied(
            _("Alleen coördinatoren schrijven het voorwoord van het jaarverslag."),
            code="forbidden",
        )
    year = school_year_parse(school_year)
    cleaned = foreword_clean(text)
    if not cleaned:
        Foreword.objects.filter(school_year=year).delete()
        return None
    foreword, _created = Foreword.objects.select_for_update().update_or_create(
        school_year=year,
        defaults={"text": cleaned, "updated_at": timezone.now(), "updated_by": actor},
    )
    return foreword
