"""Message text is encrypted at rest, and the key can be rotated."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from onthaal.chat import services
from onthaal.chat.models import Message, Sender


def _stored_body(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM chat_message WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_message_text_is_encrypted_in_the_database(chat_open: Any, make_conversation: Any) -> None:
    conversation, _ = make_conversation()
    message, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="ik word gepest", client_id="a1"
    )
    stored = _stored_body(message.pk)
    assert stored.startswith("enc1:")
    assert "gepest" not in stored
    assert Message.objects.get(pk=message.pk).body == "ik word gepest"


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key(
    chat_open: Any, make_conversation: Any, settings: Any
) -> None:
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    settings.ONTHAAL_MESSAGE_KEYS = [old_key]
    conversation, _ = make_conversation()
    message, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="geheim", client_id="a1"
    )
    before = _stored_body(message.pk)

    settings.ONTHAAL_MESSAGE_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("messagekey", "rotate", stdout=out)
    assert "1 message(s) re-encrypted" in out.getvalue()
    assert _stored_body(message.pk) != before

    # The old key can go: everything reads with the new key alone.
    settings.ONTHAAL_MESSAGE_KEYS = [new_key]
    assert Message.objects.get(pk=message.pk).body == "geheim"
    # And without the right key nothing reads.
    settings.ONTHAAL_MESSAGE_KEYS = [old_key]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        Message.objects.get(pk=message.pk)


def test_new_key_prints_a_usable_key() -> None:
    out = StringIO()
    call_command("messagekey", "new", stdout=out)
    Fernet(out.getvalue().strip().encode())
