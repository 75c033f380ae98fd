"""The versioned JSON API, ``/api/v1/``; its OpenAPI schema is served at
``/api/v1/openapi.json``. Every error is JSON with a stable ``code`` and a
human ``message`` (docs/api.md lists the codes)."""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from onthaal.assignment.api import router as assignment_router
from onthaal.chat.api import router as chat_router
from onthaal.errors import ServiceError
from onthaal.quality.api import router as quality_router
from onthaal.registration.api import router as registration_router
from onthaal.safeguard.api import router as safeguard_router
from onthaal.shifts.api import router as shifts_router
from onthaal.staff.api import router as staff_router
from onthaal.stats.api import router as stats_router
from onthaal.supervision.api import router as supervision_router
from onthaal.toolkit.api import router as toolkit_router

logger = logging.getLogger("onthaal.api")

api = NinjaAPI(
    title="Onthaal API",
    version="1",
    description="Anonymous chat helpline: visitor, operator and registration API.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    # The interactive docs page would load its scripts from a CDN.
    docs_url=None,
)
api.add_router("", chat_router)
api.add_router("", staff_router)
api.add_router("", registration_router)
api.add_router("/stats", stats_router)
api.add_router("/quality", quality_router)
api.add_router("/shifts", shifts_router)
api.add_router("", assignment_router)
api.add_router("/safeguard", safeguard_router)
api.add_router("", supervision_router)
api.add_router("/toolkit", toolkit_router)


def _error(
    request: HttpRequest, status: int, code: str, message: str, **extra: Any
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    if exc.status == 429 and "retry_after" in exc.details:
        response["Retry-After"] = str(exc.details["retry_after"])
    return response


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for error in exc.errors:
        location = [
            str(part)
            for part in error.get("loc", ())
            if part not in {"body", "payload", "intake", "query", "path"}
        ]
        fields[".".join(location) or "body"] = str(error.get("msg", ""))
    return _error(
        request,
        400,
        "invalid",
        _("Niet alle gegevens zijn geldig."),
        details={"fields": fields},
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("Meld je aan of gebruik je sleutel."))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Niet gevonden."))


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Even a bug answers with the documented JSON error, never an HTML page."""
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return _error(request, 500, "server_error", _("Er liep iets mis aan onze kant."))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))
