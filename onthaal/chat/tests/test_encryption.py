"""Message text is encrypted at rest (AES-256-GCM; Fernet values from before
still read), and the key can be rotated."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from onthaal import crypto
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
    assert stored.startswith("enc2:")
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


def _set_stored_body(pk: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE chat_message SET body = %s WHERE id = %s", [value, pk])


@pytest.mark.django_db
def test_fernet_values_from_before_still_read_and_rotate_to_the_new_format(
    chat_open: Any, make_conversation: Any, settings: Any
) -> None:
    key = Fernet.generate_key().decode()
    settings.ONTHAAL_MESSAGE_KEYS = [key]
    conversation, _ = make_conversation()
    message, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="x", client_id="a1"
    )
    # As an earlier version stored it.
    _set_stored_body(message.pk, "enc1:" + Fernet(key.encode()).encrypt(b"oud bericht").decode())
    assert Message.objects.get(pk=message.pk).body == "oud bericht"

    call_command("messagekey", "rotate", stdout=StringIO())
    assert _stored_body(message.pk).startswith("enc2:")
    assert Message.objects.get(pk=message.pk).body == "oud bericht"


def test_a_value_is_sealed_each_time_anew_and_any_change_is_refused(settings: Any) -> None:
    settings.ONTHAAL_MESSAGE_KEYS = [Fernet.generate_key().decode()]
    first, second = crypto.encrypt("ik ben bang"), crypto.encrypt("ik ben bang")
    assert first != second  # a fresh nonce each time
    assert crypto.decrypt(first) == crypto.decrypt(second) == "ik ben bang"

    raw = bytearray(base64.urlsafe_b64decode(first[len("enc2:") :]))
    raw[-1] ^= 1
    tampered = "enc2:" + base64.urlsafe_b64encode(bytes(raw)).decode()
    for broken in (tampered, "enc2:!!", "enc2:" + first[len("enc2:") :][:10]):
        with pytest.raises(ValueError, match="cannot be decrypted"):
            crypto.decrypt(broken)
    # Values from before encryption are returned as they are.
    assert crypto.decrypt("gewone tekst") == "gewone tekst"


def test_a_key_that_is_not_a_key_is_named(settings: Any) -> None:
    settings.ONTHAAL_MESSAGE_KEYS = ["te kort"]
    with pytest.raises(ValueError, match="must be Fernet keys"):
        crypto.encrypt("x")
