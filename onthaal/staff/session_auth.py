"""The staff session as the API's authentication (docs/api.md,
"Conventions"): django-ninja's ``django_auth``, answering 401
``not_authenticated`` to a request without a signed-in session.

Ninja's session authentication checks the CSRF token first, so an unsafe
request without a session got 403 ``http_error`` "CSRF check Failed",
where the documented answer is 401. Here the CSRF check comes after: a
request from nobody is refused as such, and a signed-in session still
needs the token for every unsafe method.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import SessionAuth


class StaffSession(SessionAuth):  # type: ignore[misc]
    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None  # not authenticated: 401, whatever the method
        key: str | None = super()._get_key(request)  # the CSRF check
        return key


staff_session = StaffSession()
