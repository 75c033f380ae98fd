"""Schemas shared by every API router: the error body and the error statuses."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Error(Schema):
    """Every error: a stable ``code``, a human ``message``, sometimes ``details``."""

    code: str
    message: str
    details: dict[str, Any] | None = None


# What any authenticated route may answer besides success (docs/api.md lists the codes).
ERRORS: dict[int, Any] = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    409: Error,
    429: Error,
    500: Error,
}


def responses(ok: Any = dict[str, Any], status: int = 200) -> dict[int, Any]:
    return {status: ok, **ERRORS}
