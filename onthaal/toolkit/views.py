"""Pages of the toolkit: canned responses (everyone who chats: their own;
coordinators also the shared ones) and the social map (everyone who chats
reads and searches it; coordinators manage it). Plain forms, no script."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from onthaal.errors import NotFound, PermissionDenied, ServiceError
from onthaal.staff.models import User
from onthaal.toolkit import selectors, services
from onthaal.toolkit.forms import (
    CannedResponseForm,
    SocialMapEntryForm,
    SocialMapSearchForm,
    add_service_error,
)
from onthaal.toolkit.models import SocialMapEntry


def _staff_page[View: Callable[..., HttpResponse]](view: View) -> View:
    """Signed in, never cached, and access errors as Django's 403 and 404."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from None

    return wrapper  # type: ignore[return-value]


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


# --- canned responses ----------------------------------------------------------


@_staff_page
@require_http_methods(["GET", "POST"])
def canned_overview(request: HttpRequest) -> HttpResponse:
    """The shared responses and the user's own; a form for a new one."""
    user = _user(request)
    rows = selectors.canned_responses_for_user(user=user)
    form = CannedResponseForm(
        request.POST if request.method == "POST" else None, may_share=user.is_coordinator
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = services.canned_response_create(
                actor=user,
                shared=form.cleaned_data.get("scope") == "shared",
                code=form.cleaned_data["code"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request, _("Snelantwoord /%(code)s bewaard.") % {"code": response.code}
            )
            return redirect("toolkit:canned")
    return render(
        request,
        "toolkit/canned.html",
        {
            "shared": [
                {"row": r, "editable": selectors.canned_response_may_edit(user=user, response=r)}
                for r in rows
                if r.owner_id is None
            ],
            "personal": [r for r in rows if r.owner_id is not None],
            "form": form,
            "nav": "canned",
        },
    )


@_staff_page
@require_http_methods(["GET", "POST"])
def canned_edit(request: HttpRequest, response_id: int) -> HttpResponse:
    user = _user(request)
    response = selectors.canned_response_get_for_viewer(viewer=user, response_id=response_id)
    if not selectors.canned_response_may_edit(user=user, response=response):
        raise DjangoPermissionDenied
    initial = {"code": response.code, "title": response.title, "body": response.body}
    form = CannedResponseForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        may_share=False,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.canned_response_update(
                actor=user,
                response=response,
                code=form.cleaned_data["code"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("Snelantwoord bewaard."))
            return redirect("toolkit:canned")
    return render(
        request,
        "toolkit/canned_edit.html",
        {"response": response, "form": form, "nav": "canned"},
    )


@_staff_page
@require_POST
def canned_delete(request: HttpRequest, response_id: int) -> HttpResponse:
    user = _user(request)
    response = selectors.canned_response_get_for_viewer(viewer=user, response_id=response_id)
    services.canned_response_delete(actor=user, response=response)
    messages.success(request, _("Snelantwoord /%(code)s verwijderd.") % {"code": response.code})
    return redirect("toolkit:canned")


# --- social map ----------------------------------------------------------------


def _entry_values(form: SocialMapEntryForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["domains"] = list(data.get("domains") or [])
    return data


@_staff_page
@require_http_methods(["GET", "POST"])
def social_map_overview(request: HttpRequest) -> HttpResponse:
    """Everyone who chats searches the list; coordinators add to it."""
    user = _user(request)
    search = SocialMapSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    entries = selectors.social_map_search(
        viewer=user, query=query, include_inactive=user.is_coordinator
    )
    form = None
    if user.is_coordinator:
        form = SocialMapEntryForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = services.social_map_entry_create(actor=user, **_entry_values(form))
            except ServiceError as exc:
                add_service_error(form, exc)
            else:
                messages.success(request, _("‘%(name)s’ toegevoegd.") % {"name": entry.name})
                return redirect("toolkit:social_map")
    elif request.method == "POST":
        raise DjangoPermissionDenied
    return render(
        request,
        "toolkit/social_map.html",
        {"entries": entries, "search": search, "query": query, "form": form, "nav": "social_map"},
    )


@_staff_page
@require_http_methods(["GET", "POST"])
def social_map_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _user(request)
    selectors.require_coordinator(user)
    entry = selectors.social_map_entry_get_for_viewer(viewer=user, entry_id=entry_id)
    initial = _entry_initial(entry)
    form = SocialMapEntryForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.social_map_entry_update(actor=user, entry=entry, changes=_entry_values(form))
        except ServiceError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, _("‘%(name)s’ bewaard.") % {"name": entry.name})
            return redirect("toolkit:social_map")
    return render(
        request,
        "toolkit/social_map_edit.html",
        {"entry": entry, "form": form, "nav": "social_map"},
    )


def _entry_initial(entry: SocialMapEntry) -> dict[str, Any]:
    return {
        "name": entry.name,
        "url": entry.url,
        "kind": entry.kind,
        "phone": entry.phone,
        "domains": [d.code for d in entry.domains.all()],
        "theme": entry.theme,
        "audience": entry.audience,
        "age_min": entry.age_min,
        "age_max": entry.age_max,
        "description": entry.description,
        "is_active": entry.is_active,
        "offer_while_waiting": entry.offer_while_waiting,
    }


@_staff_page
@require_POST
def social_map_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _user(request)
    selectors.require_coordinator(user)
    entry = selectors.social_map_entry_get_for_viewer(viewer=user, entry_id=entry_id)
    services.social_map_entry_delete(actor=user, entry=entry)
    messages.success(request, _("‘%(name)s’ verwijderd.") % {"name": entry.name})
    return redirect("toolkit:social_map")
