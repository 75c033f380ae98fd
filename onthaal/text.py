"""Checks on free text that people type (messages, comments, notes, names)."""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext as _

from onthaal.errors import InvalidInput

_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def text_check(value: str, *, field: str) -> str:
    """Refuse control characters (NUL among them: PostgreSQL cannot store it)
    other than line breaks and tabs, and lone surrogates (JSON lets a client
    send ``\ud800``, which no UTF-8 encoder accepts); return the value
    unchanged otherwise."""
    for char in value:
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) in {"Cc", "Cs"}:
            raise InvalidInput(
                _("De tekst bevat een ongeldig teken."),
                code="invalid_character",
                fields={field: "control character"},
            )
    return value
