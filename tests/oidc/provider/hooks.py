"""The test provider's authentication levels.

A real identity provider says in the ID token how the person signed in:
``amr`` (the methods, RFC 8176) and ``acr`` (the level). This one decides by
the user's last name, which the fixture sets: "mfa" users signed in with a
password and a second factor at a "substantial" level, "pwd" users with a
password only at a "low" level.
"""

from __future__ import annotations

import hashlib
from typing import Any

LEVELS = {
    "mfa": (["pwd", "mfa"], "substantial"),
    "hwk": (["pwd", "hwk"], "high"),
    "pwd": (["pwd"], "low"),
}


def add_authentication_level(
    id_token: dict[str, Any], user: Any, token: Any, request: Any, **kwargs: Any
) -> dict[str, Any]:
    amr, acr = LEVELS.get(user.last_name, (["pwd"], "low"))
    id_token["amr"] = amr
    id_token["acr"] = acr
    return id_token


def userinfo(claims: dict[str, Any], user: Any) -> dict[str, Any]:
    """The standard claims the "profile" scope releases: only the username."""
    claims["preferred_username"] = user.username
    return claims


def opaque_subject(user: Any) -> str:
    """An opaque, stable ``sub`` per user, as real providers give."""
    return hashlib.sha256(f"test-provider:{user.username}".encode()).hexdigest()[:24]
