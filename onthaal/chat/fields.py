"""A text field stored encrypted (see onthaal.crypto)."""

from __future__ import annotations

from typing import Any

from django.db import models

from onthaal import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text that is encrypted before it reaches the database and decrypted
    when read. It cannot be searched or filtered on in SQL, by design."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)
