"""Reads of canned responses, the social map and the visitor's alternatives,
with the access checks in front of them.

Access, in one place:

- canned responses: everyone who takes chats (operators, coordinators,
  administrators) reads the shared ones and their *own* personal ones; a
  personal response of someone else is "not found", for coordinators too;
  analysts get ``forbidden``;
- social map: everyone who takes chats reads the active entries;
  coordinators (and administrators) also the inactive ones;
- alternatives while the wait is long: the visitor, through the token of
  their own queued conversation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat import selectors as chat_selectors
from onthaal.chat.models import Conversation
from onthaal.errors import NotFound, PermissionDenied
from onthaal.staff.models import User
from onthaal.text import text_check
from onthaal.toolkit.models import (
    CannedResponse,
    ResourceAudience,
    ResourceKind,
    SocialMapEntry,
)

SEARCH_MAX_CHARS = 100
DEFAULT_LONG_WAIT_MINUTES = 10.0


# --- access --------------------------------------------------------------------


def require_staff_who_chat(user: User) -> None:
    """Canned responses and the social map serve the chat: not for analysts."""
    if not user.is_active or not user.can_chat:
        raise PermissionDenied(_("Deze hulpmiddelen zijn er voor chatmedewerkers."))


def require_coordinator(user: User) -> None:
    if not user.is_active or not user.is_coordinator:
        raise PermissionDenied(
            _("Alleen coördinatoren beheren de gedeelde snelantwoorden en de sociale kaart.")
        )


# --- canned responses ----------------------------------------------------------


def canned_responses_for_user(*, user: User) -> list[CannedResponse]:
    """The shared responses and the user's own personal ones, shared first,
    each group by code."""
    require_staff_who_chat(user)
    rows = CannedResponse.objects.filter(Q(owner__isnull=True) | Q(owner=user))
    return sorted(rows, key=lambda r: (r.owner_id is not None, r.code, r.pk))


def canned_response_get_for_viewer(*, viewer: User, response_id: int) -> CannedResponse:
    """A shared response, or one of the viewer's own; anything else is
    "not found", the same as an unknown id."""
    require_staff_who_chat(viewer)
    response = (
        CannedResponse.objects.filter(pk=response_id)
        .filter(Q(owner__isnull=True) | Q(owner=viewer))
        .first()
    )
    if response is None:
        raise NotFound(_("Dit snelantwoord bestaat niet."))
    return response


def canned_response_may_edit(*, user: User, response: CannedResponse) -> bool:
    """Shared: coordinators and administrators; personal: only the owner."""
    if not user.is_active or not user.can_chat:
        return False
    if response.owner_id is None:
        return user.is_coordinator
    return response.owner_id == user.pk


def canned_response_frame(response: CannedResponse, *, viewer: User) -> dict[str, Any]:
    return {
        "id": response.pk,
        "scope": "shared" if response.owner_id is None else "personal",
        "code": response.code,
        "shortcut": f"/{response.code}",
        "title": response.title,
        "body": response.body,
        "editable": canned_response_may_edit(user=viewer, response=response),
        "updated_at": response.updated_at.isoformat(),
    }


# --- social map ----------------------------------------------------------------


def _entries() -> QuerySet[SocialMapEntry]:
    return SocialMapEntry.objects.prefetch_related("domains")


def social_map_search(
    *,
    viewer: User,
    query: str = "",
    domain: str = "",
    kind: str = "",
    age: int | None = None,
    include_inactive: bool = False,
) -> list[SocialMapEntry]:
    """Entries whose name, theme or description contains ``query`` (any case),
    of the CLB ``domain`` (code, e.g. ``PSF``) and fit for ``age``. Inactive
    entries only for coordinators who ask for them."""
    require_staff_who_chat(viewer)
    # A NUL in a filter is a 400, not a database error (PostgreSQL refuses it).
    for name, value in (("q", query), ("domain", domain), ("kind", kind)):
        text_check(value, field=name)
    rows = _entries()
    if not (include_inactive and viewer.is_coordinator):
        rows = rows.filter(is_active=True)
    query = query.strip()[:SEARCH_MAX_CHARS]
    for word in query.split():
        rows = rows.filter(
            Q(name__icontains=word) | Q(theme__icontains=word) | Q(description__icontains=word)
        )
    if domain:
        rows = rows.filter(domains__code__iexact=domain).distinct()
    if kind:
        rows = rows.filter(kind=kind)
    if age is not None:
        rows = rows.filter(_fits_age(age))
    return list(rows)


def _fits_age(age: int) -> Q:
    return (Q(age_min__isnull=True) | Q(age_min__lte=age)) & (
        Q(age_max__isnull=True) | Q(age_max__gte=age)
    )


def social_map_entry_get_for_viewer(*, viewer: User, entry_id: int) -> SocialMapEntry:
    """Active entries for everyone who chats; inactive ones only for coordinators."""
    require_staff_who_chat(viewer)
    rows = _entries().filter(pk=entry_id)
    if not viewer.is_coordinator:
        rows = rows.filter(is_active=True)
    entry = rows.first()
    if entry is None:
        raise NotFound(_("Dit item van de sociale kaart bestaat niet."))
    return entry


def social_map_entry_frame(entry: SocialMapEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "name": entry.name,
        "url": entry.url,
        "kind": entry.kind,
        "kind_label": str(entry.get_kind_display()),
        "phone": entry.phone,
        "domains": [d.code for d in entry.domains.all()],
        "theme": entry.theme,
        "audience": entry.audience,
        "audience_label": str(entry.get_audience_display()),
        "age_min": entry.age_min,
        "age_max": entry.age_max,
        "description": entry.description,
        "is_active": entry.is_active,
        "offer_while_waiting": entry.offer_while_waiting,
    }


# --- alternatives while the wait is long ---------------------------------------


def long_wait_seconds() -> int | None:
    """``ONTHAAL_LONG_WAIT_MINUTES`` in seconds; None when it is 0 (never offer)."""
    minutes = float(getattr(settings, "ONTHAAL_LONG_WAIT_MINUTES", DEFAULT_LONG_WAIT_MINUTES))
    if minutes <= 0:
        return None
    return max(1, round(minutes * 60))


def alternatives_for_visitor(
    *, conversation_id: int, token: str, now: datetime | None = None
) -> dict[str, Any]:
    """What the waiting visitor may be offered, for their own conversation only.

    ``offer`` is true once the visitor waited longer than the setting, or
    when the estimated wait exceeds it; the page also counts on from
    ``waited_seconds`` by itself, so it does not need to ask again. The
    entries fit the visitor's audience and age (both optional in the intake:
    when skipped, nothing is filtered on them). Never an error for a chat
    that has started or ended: then ``offer`` is false.
    """
    conversation = chat_selectors.conversation_get_for_visitor(
        conversation_id=conversation_id, token=token
    )
    now = now or timezone.now()
    threshold = long_wait_seconds()
    queue = chat_selectors.queue_state_for_visitor(conversation=conversation)
    waited = max(0, int((now - conversation.queued_at).total_seconds()))
    estimate = queue["estimated_wait_seconds"] if queue else None
    offer = bool(
        queue is not None
        and threshold is not None
        and (waited > threshold or (estimate is not None and estimate > threshold))
    )
    entries = _alternatives(conversation) if queue is not None and threshold is not None else []
    return {
        "long_wait_seconds": threshold,
        "waited_seconds": waited if queue is not None else None,
        "estimated_wait_seconds": estimate,
        "offer": offer,
        "helplines": [_alternative_frame(e) for e in entries if e.kind == ResourceKind.HELPLINE],
        "tools": [_alternative_frame(e) for e in entries if e.kind == ResourceKind.TOOL],
    }


def _alternatives(conversation: Conversation) -> list[SocialMapEntry]:
    rows = SocialMapEntry.objects.filter(is_active=True, offer_while_waiting=True)
    if conversation.audience:
        rows = rows.filter(audience__in=[ResourceAudience.ALL, conversation.audience])
    if conversation.age is not None:
        rows = rows.filter(_fits_age(conversation.age))
    return list(rows)


def _alternative_frame(entry: SocialMapEntry) -> dict[str, Any]:
    """What a visitor sees of an entry: no domains, nothing internal."""
    return {
        "name": entry.name,
        "url": entry.url,
        "phone": entry.phone,
        "description": entry.description,
    }
