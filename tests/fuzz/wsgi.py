"""The app as a WSGI callable for Schemathesis, inside the test's transaction."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections


class InProcessWSGI:
    """Django's WSGI handler, called in the test's own thread and database
    transaction, as ``django.test.Client`` does it.

    Django closes "old" database connections when a request starts and
    finishes; inside a test that would close the connection in the middle of
    the test's transaction, so (like the test client) the handler runs with
    those two signal receivers disconnected. Exceptions that Django turns into
    a 500 page are kept in ``errors`` (with their traceback), so that a test
    can say which line failed, not just "500".
    """

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.errors: list[BaseException] = []

    def _record(self, sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            self.errors.append(exc)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        got_request_exception.connect(self._record)
        try:
            response = self.handler(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()  # sends request_finished, still disconnected
        finally:
            got_request_exception.disconnect(self._record)
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]
