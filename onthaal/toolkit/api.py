"""HTTP API of canned responses, the social map and the waiting visitor's
alternatives, mounted at ``/api/v1/toolkit`` (docs/api.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from onthaal.api_schemas import responses
from onthaal.chat.api import VisitorToken
from onthaal.errors import InvalidInput
from onthaal.staff.models import User
from onthaal.staff.session_auth import staff_session
from onthaal.toolkit import selectors, services

router = Router(tags=["toolkit"], auth=staff_session)


class CannedIn(Schema):
    scope: str = Field("personal", description="personal | shared (coordinators)")
    code: str = Field(description="short code, e.g. welkom or /welkom (2–30 characters)")
    title: str
    body: str


class CannedPatch(Schema):
    code: str | None = None
    title: str | None = None
    body: str | None = None


class SocialMapIn(Schema):
    name: str
    url: str = Field(description="https:// address")
    description: str = Field(description="short Dutch description (10–500 characters)")
    kind: str = Field("tool", description="tool | helpline")
    phone: str = ""
    domains: list[str] = Field([], description="CLB domain codes: OLB, PSF, L&S, PGZ")
    theme: str = ""
    audience: str = Field("all", description="all | pupil | parent")
    age_min: int | None = None
    age_max: int | None = None
    is_active: bool = True
    offer_while_waiting: bool = Field(True, description="offered to visitors who wait long")


class SocialMapPatch(Schema):
    name: str | None = None
    url: str | None = None
    description: str | None = None
    kind: str | None = None
    phone: str | None = None
    domains: list[str] | None = None
    theme: str | None = None
    audience: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    is_active: bool | None = None
    offer_while_waiting: bool | None = None


class SocialMapSearch(Schema):
    q: str = ""
    domain: str = ""
    kind: str = ""
    age: int | None = None
    include_inactive: bool = False


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


# --- canned responses ----------------------------------------------------------


@router.get("/canned-responses", response=responses())
def canned_list(request: HttpRequest) -> dict[str, Any]:
    """The shared canned responses and the caller's own personal ones."""
    user = _user(request)
    return {
        "responses": [
            selectors.canned_response_frame(r, viewer=user)
            for r in selectors.canned_responses_for_user(user=user)
        ]
    }


@router.post("/canned-responses", response=responses(status=201))
def canned_create(request: HttpRequest, payload: CannedIn) -> Status[dict[str, Any]]:
    """A personal canned response, or (coordinators) a shared one."""
    user = _user(request)
    if payload.scope not in {"personal", "shared"}:
        raise InvalidInput(
            _("Kies ‘personal’ of ‘shared’."), code="invalid", fields={"scope": "choice"}
        )
    response = services.canned_response_create(
        actor=user,
        shared=payload.scope == "shared",
        code=payload.code,
        title=payload.title,
        body=payload.body,
    )
    return Status(201, selectors.canned_response_frame(response, viewer=user))


@router.get("/canned-responses/{response_id}", response=responses())
def canned_detail(request: HttpRequest, response_id: int) -> dict[str, Any]:
    user = _user(request)
    response = selectors.canned_response_get_for_viewer(viewer=user, response_id=response_id)
    return selectors.canned_response_frame(response, viewer=user)


@router.patch("/canned-responses/{response_id}", response=responses())
def canned_update(request: HttpRequest, response_id: int, payload: CannedPatch) -> dict[str, Any]:
    """Change a shared response (coordinators) or one's own personal one."""
    user = _user(request)
    response = selectors.canned_response_get_for_viewer(viewer=user, response_id=response_id)
    response = services.canned_response_update(
        actor=user, response=response, code=payload.code, title=payload.title, body=payload.body
    )
    return selectors.canned_response_frame(response, viewer=user)


@router.delete("/canned-responses/{response_id}", response=responses(None, 204))
def canned_delete(request: HttpRequest, response_id: int) -> Status[None]:
    user = _user(request)
    response = selectors.canned_response_get_for_viewer(viewer=user, response_id=response_id)
    services.canned_response_delete(actor=user, response=response)
    return Status(204, None)


# --- social map ----------------------------------------------------------------


@router.get("/social-map", response=responses())
def social_map_list(request: HttpRequest, filters: Query[SocialMapSearch]) -> dict[str, Any]:
    """Search the social map: ``q`` in name, theme and description; ``domain``
    (CLB domain code), ``kind``, ``age``; ``include_inactive`` (coordinators)."""
    entries = selectors.social_map_search(
        viewer=_user(request),
        query=filters.q,
        domain=filters.domain,
        kind=filters.kind,
        age=filters.age,
        include_inactive=filters.include_inactive,
    )
    return {"entries": [selectors.social_map_entry_frame(e) for e in entries]}


@router.post("/social-map", response=responses(status=201))
def social_map_create(request: HttpRequest, payload: SocialMapIn) -> Status[dict[str, Any]]:
    """A new entry (coordinators)."""
    entry = services.social_map_entry_create(actor=_user(request), **payload.dict())
    return Status(201, selectors.social_map_entry_frame(entry))


@router.get("/social-map/{entry_id}", response=responses())
def social_map_detail(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    entry = selectors.social_map_entry_get_for_viewer(viewer=_user(request), entry_id=entry_id)
    return selectors.social_map_entry_frame(entry)


@router.patch("/social-map/{entry_id}", response=responses())
def social_map_update(
    request: HttpRequest, entry_id: int, payload: SocialMapPatch
) -> dict[str, Any]:
    """Change the fields that are sent (coordinators); the others stay. An
    age bound sent as null removes it."""
    user = _user(request)
    entry = selectors.social_map_entry_get_for_viewer(viewer=user, entry_id=entry_id)
    changes = payload.dict(exclude_unset=True)
    required = ("name", "url", "description", "kind", "audience", "domains")
    for field in (*required, "is_active", "offer_while_waiting"):
        if field in changes and changes[field] is None:
            raise InvalidInput(
                _("Dit veld mag niet leeg zijn."), code="invalid", fields={field: "null"}
            )
    entry = services.social_map_entry_update(actor=user, entry=entry, changes=changes)
    return selectors.social_map_entry_frame(entry)


@router.delete("/social-map/{entry_id}", response=responses(None, 204))
def social_map_delete(request: HttpRequest, entry_id: int) -> Status[None]:
    user = _user(request)
    entry = selectors.social_map_entry_get_for_viewer(viewer=user, entry_id=entry_id)
    services.social_map_entry_delete(actor=user, entry=entry)
    return Status(204, None)


# --- the waiting visitor -------------------------------------------------------


@router.get(
    "/conversations/{conversation_id}/alternatives",
    auth=VisitorToken(),
    response=responses(),
)
def visitor_alternatives(request: HttpRequest, conversation_id: int) -> dict[str, Any]:
    """For the visitor of this queued conversation (Bearer token): other
    helplines and self-help tools that fit their audience and age, and
    whether the wait is long enough to offer them."""
    return selectors.alternatives_for_visitor(
        conversation_id=conversation_id,
        token=request.auth,  # type: ignore[attr-defined]
    )
