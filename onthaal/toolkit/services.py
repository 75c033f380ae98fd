"""Every write of canned responses and the social map.

Each write is one service function: the permission check and the
validation first, then the write. Codes are unique per scope: among the
shared responses, and among one operator's personal ones (a personal code
may repeat a shared one: in the console the personal one wins).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.errors import Conflict, InvalidInput, NotFound
from onthaal.registration.models import Domain
from onthaal.staff.models import User
from onthaal.text import text_check
from onthaal.toolkit import selectors
from onthaal.toolkit.models import (
    BODY_MAX_LENGTH,
    CODE_MAX_LENGTH,
    CODE_MIN_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    THEME_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    URL_MAX_LENGTH,
    CannedResponse,
    ResourceAudience,
    ResourceKind,
    SocialMapEntry,
)

_CODE = re.compile(r"[a-z0-9][a-z0-9_-]*")
_PHONE = re.compile(r"[0-9][0-9 ]*")
AGE_MIN, AGE_MAX = 4, 99


def _invalid(message: str, field: str, reason: str) -> InvalidInput:
    return InvalidInput(message, code="invalid", fields={field: reason})


def _text(value: object, *, field: str, label: str, minimum: int, maximum: int) -> str:
    """Stripped text between ``minimum`` and ``maximum`` characters, with
    no control characters (onthaal.text)."""
    if not isinstance(value, str):
        raise _invalid(_("%(label)s moet tekst zijn.") % {"label": label}, field, "text")
    value = text_check(value.strip(), field=field)
    if len(value) < minimum:
        if minimum <= 1:
            message = _("%(label)s is verplicht.") % {"label": label}
        else:
            message = _("%(label)s moet minstens %(n)s tekens lang zijn.") % {
                "label": label,
                "n": minimum,
            }
        raise _invalid(message, field, "too_short")
    if len(value) > maximum:
        raise _invalid(
            _("%(label)s mag hoogstens %(n)s tekens lang zijn.") % {"label": label, "n": maximum},
            field,
            "too_long",
        )
    return value


def canned_code_normalize(value: object) -> str:
    """``/Welkom`` → ``welkom``: no slash, lower case, letters, digits, ``-`` and ``_``."""
    if not isinstance(value, str):
        raise _invalid(_("De code moet tekst zijn."), "code", "text")
    code = value.strip().lstrip("/").lower()
    code = _text(
        code, field="code", label=_("De code"), minimum=CODE_MIN_LENGTH, maximum=CODE_MAX_LENGTH
    )
    if not _CODE.fullmatch(code):
        raise _invalid(
            _(
                "De code bestaat uit kleine letters, cijfers, - en _, zonder spaties "
                "(bijvoorbeeld /welkom)."
            ),
            "code",
            "format",
        )
    return code


def _body_max() -> int:
    return min(BODY_MAX_LENGTH, int(settings.ONTHAAL_MAX_MESSAGE_CHARS))


def _canned_code_taken(*, code: str, owner: User | None, exclude_id: int | None) -> bool:
    rows = CannedResponse.objects.filter(code=code, owner=owner)
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return rows.exists()


def _code_conflict(code: str) -> Conflict:
    return Conflict(
        _("De code /%(code)s bestaat al.") % {"code": code},
        code="code_taken",
        fields={"code": "taken"},
    )


def canned_response_create(
    *,
    actor: User,
    shared: bool,
    code: str,
    title: str,
    body: str,
    now: datetime | None = None,
) -> CannedResponse:
    """A shared response (coordinators and administrators) or a personal one
    of ``actor`` (everyone who takes chats)."""
    selectors.require_staff_who_chat(actor)
    if shared:
        selectors.require_coordinator(actor)
    owner = None if shared else actor
    code = canned_code_normalize(code)
    title = _text(title, field="title", label=_("De titel"), minimum=1, maximum=TITLE_MAX_LENGTH)
    body = _text(body, field="body", label=_("De tekst"), minimum=1, maximum=_body_max())
    now = now or timezone.now()
    if _canned_code_taken(code=code, owner=owner, exclude_id=None):
        raise _code_conflict(code)
    try:
        with transaction.atomic():
            return CannedResponse.objects.create(
                owner=owner, code=code, title=title, body=body, created_at=now, updated_at=now
            )
    except IntegrityError:  # the same code created at the same moment
        raise _code_conflict(code) from None


def canned_response_update(
    *,
    actor: User,
    response: CannedResponse,
    code: str | None = None,
    title: str | None = None,
    body: str | None = None,
    now: datetime | None = None,
) -> CannedResponse:
    """Change the given fields. Preconditions: ``response`` came from
    :func:`selectors.canned_response_get_for_viewer` for ``actor``; a shared
    one needs a coordinator, a personal one its owner."""
    _require_may_edit(actor, response)
    fields = ["updated_at"]
    if code is not None:
        response.code = canned_code_normalize(code)
        fields.append("code")
    if title is not None:
        response.title = _text(
            title, field="title", label=_("De titel"), minimum=1, maximum=TITLE_MAX_LENGTH
        )
        fields.append("title")
    if body is not None:
        response.body = _text(
            body, field="body", label=_("De tekst"), minimum=1, maximum=_body_max()
        )
        fields.append("body")
    owner = None if response.owner_id is None else response.owner
    if "code" in fields and _canned_code_taken(
        code=response.code, owner=owner, exclude_id=response.pk
    ):
        raise _code_conflict(response.code)
    response.updated_at = now or timezone.now()
    try:
        with transaction.atomic():
            response.save(update_fields=fields)
    except IntegrityError:
        raise _code_conflict(response.code) from None
    return response


def canned_response_delete(*, actor: User, response: CannedResponse) -> None:
    _require_may_edit(actor, response)
    response.delete()


def _require_may_edit(actor: User, response: CannedResponse) -> None:
    selectors.require_staff_who_chat(actor)
    if response.owner_id is None:
        selectors.require_coordinator(actor)
    elif response.owner_id != actor.pk:
        # Only reachable by a caller who skipped the access selector: the
        # same answer as an unknown id.
        raise NotFound(_("Dit snelantwoord bestaat niet."))


# --- social map ----------------------------------------------------------------


def _url(value: object) -> str:
    url = _text(value, field="url", label=_("Het webadres"), minimum=1, maximum=URL_MAX_LENGTH)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or " " in url:
        raise _invalid(
            _("Het webadres moet met https:// beginnen (bijvoorbeeld https://www.awel.be)."),
            "url",
            "https",
        )
    return url


def _phone(value: object) -> str:
    if value is None or value == "":
        return ""
    phone = _text(
        value, field="phone", label=_("Het telefoonnummer"), minimum=0, maximum=PHONE_MAX_LENGTH
    )
    if phone and not _PHONE.fullmatch(phone):
        raise _invalid(
            _("Een telefoonnummer bestaat uit cijfers (bijvoorbeeld 1813)."), "phone", "format"
        )
    return phone


def _age(value: object, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not AGE_MIN <= value <= AGE_MAX:
        raise _invalid(
            _("Een leeftijd ligt tussen %(min)s en %(max)s.") % {"min": AGE_MIN, "max": AGE_MAX},
            field,
            "range",
        )
    return value


def _choice(value: object, choices: type[ResourceKind] | type[ResourceAudience], field: str) -> str:
    if value not in choices.values:
        raise _invalid(_("Kies een van de mogelijkheden."), field, "choice")
    return str(value)


def _domains(codes: Iterable[str]) -> list[Domain]:
    wanted = {str(c).upper() for c in codes}
    found = list(Domain.objects.filter(code__in=wanted))
    unknown = sorted(wanted - {d.code for d in found})
    if unknown:
        raise InvalidInput(
            _("Onbekend domein: %(codes)s.") % {"codes": ", ".join(unknown)},
            code="invalid",
            fields={"domains": unknown},
        )
    return found


def _social_map_values(
    *,
    name: object,
    url: object,
    kind: object,
    phone: object,
    theme: object,
    audience: object,
    age_min: object,
    age_max: object,
    description: object,
) -> dict[str, object]:
    values: dict[str, object] = {
        "name": _text(name, field="name", label=_("De naam"), minimum=2, maximum=NAME_MAX_LENGTH),
        "url": _url(url),
        "kind": _choice(kind, ResourceKind, "kind"),
        "phone": _phone(phone),
        "theme": _text(
            theme or "", field="theme", label=_("Het thema"), minimum=0, maximum=THEME_MAX_LENGTH
        ),
        "audience": _choice(audience, ResourceAudience, "audience"),
        "age_min": _age(age_min, "age_min"),
        "age_max": _age(age_max, "age_max"),
        "description": _text(
            description,
            field="description",
            label=_("De beschrijving"),
            minimum=10,
            maximum=DESCRIPTION_MAX_LENGTH,
        ),
    }
    low, high = values["age_min"], values["age_max"]
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise _invalid(
            _("De leeftijd ‘vanaf’ ligt hoger dan ‘tot en met’."), "age_max", "below_age_min"
        )
    return values


def _name_conflict(name: object) -> Conflict:
    return Conflict(
        _("Er is al een item met de naam ‘%(name)s’.") % {"name": name},
        code="name_taken",
        fields={"name": "taken"},
    )


def social_map_entry_create(
    *,
    actor: User,
    name: str,
    url: str,
    description: str,
    kind: str = ResourceKind.TOOL,
    phone: str = "",
    domains: Iterable[str] = (),
    theme: str = "",
    audience: str = ResourceAudience.ALL,
    age_min: int | None = None,
    age_max: int | None = None,
    is_active: bool = True,
    offer_while_waiting: bool = True,
    now: datetime | None = None,
) -> SocialMapEntry:
    """A new entry of the social map (coordinators and administrators)."""
    selectors.require_coordinator(actor)
    values = _social_map_values(
        name=name,
        url=url,
        kind=kind,
        phone=phone,
        theme=theme,
        audience=audience,
        age_min=age_min,
        age_max=age_max,
        description=description,
    )
    domain_rows = _domains(domains)
    if SocialMapEntry.objects.filter(name__iexact=values["name"]).exists():
        raise _name_conflict(values["name"])
    now = now or timezone.now()
    try:
        with transaction.atomic():
            entry = SocialMapEntry.objects.create(
                **values,
                is_active=bool(is_active),
                offer_while_waiting=bool(offer_while_waiting),
                created_at=now,
                updated_at=now,
            )
            entry.domains.set(domain_rows)
    except IntegrityError:
        raise _name_conflict(values["name"]) from None
    return entry


def social_map_entry_update(
    *,
    actor: User,
    entry: SocialMapEntry,
    changes: dict[str, object],
    now: datetime | None = None,
) -> SocialMapEntry:
    """Change the fields in ``changes`` (any of the fields of
    :func:`social_map_entry_create`); the rest stays (coordinators)."""
    selectors.require_coordinator(actor)
    allowed = {
        "name", "url", "kind", "phone", "domains", "theme",
        "audience", "age_min", "age_max", "description", "is_active",
        "offer_while_waiting",
    }  # fmt: skip
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput(
            _("Onbekend veld."), code="invalid", fields={field: "unknown" for field in unknown}
        )
    current = {
        "name": entry.name,
        "url": entry.url,
        "kind": entry.kind,
        "phone": entry.phone,
        "theme": entry.theme,
        "audience": entry.audience,
        "age_min": entry.age_min,
        "age_max": entry.age_max,
        "description": entry.description,
    }
    merged = {k: changes.get(k, v) for k, v in current.items()}
    values = _social_map_values(**merged)
    domain_rows = _domains(changes["domains"]) if "domains" in changes else None  # type: ignore[arg-type]
    if SocialMapEntry.objects.filter(name__iexact=values["name"]).exclude(pk=entry.pk).exists():
        raise _name_conflict(values["name"])
    for field, value in values.items():
        setattr(entry, field, value)
    for flag in ("is_active", "offer_while_waiting"):
        if flag in changes:
            setattr(entry, flag, bool(changes[flag]))
    entry.updated_at = now or timezone.now()
    try:
        with transaction.atomic():
            entry.save(update_fields=[*values, "is_active", "offer_while_waiting", "updated_at"])
            if domain_rows is not None:
                entry.domains.set(domain_rows)
    except IntegrityError:
        raise _name_conflict(values["name"]) from None
    return entry


def social_map_entry_delete(*, actor: User, entry: SocialMapEntry) -> None:
    selectors.require_coordinator(actor)
    entry.delete()
