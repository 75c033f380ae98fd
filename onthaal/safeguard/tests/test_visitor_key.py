"""The returning-visitor key: only a keyed hash is stored, never the key."""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from onthaal.chat.models import Conversation
from onthaal.safeguard.keys import visitor_key_hash
from onthaal.safeguard.models import ConversationVisitor
from onthaal.safeguard.tests.conftest import new_key, open_chat

pytestmark = pytest.mark.django_db


def test_the_key_is_stored_only_as_a_keyed_hash(chat_open: Any) -> None:
    key = new_key()
    response = open_chat(key)
    assert response.status_code == 201
    link = ConversationVisitor.objects.get(conversation_id=response.json()["id"])
    assert link.visitor_hash == visitor_key_hash(key)
    assert len(link.visitor_hash) == 64
    # Keyed: not the plain SHA-256 anyone could compute from the key.
    assert link.visitor_hash != hashlib.sha256(key.encode()).hexdigest()

    # Grep the whole database: the raw key is nowhere.
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert key not in dump.getvalue()
    assert link.visitor_hash in dump.getvalue()


def test_the_same_key_links_each_chat_to_the_same_hash(chat_open: Any) -> None:
    key = new_key()
    first = open_chat(key).json()["id"]
    second = open_chat(key).json()["id"]
    other = open_chat(new_key()).json()["id"]
    hashes = dict(ConversationVisitor.objects.values_list("conversation_id", "visitor_hash"))
    assert hashes[first] == hashes[second] != hashes[other]


def test_the_hash_key_is_a_setting(chat_open: Any, settings: Any) -> None:
    key = new_key()
    derived = visitor_key_hash(key)
    settings.ONTHAAL_VISITOR_KEY = "a-dedicated-visitor-key-from-the-environment"
    dedicated = visitor_key_hash(key)
    assert dedicated != derived
    settings.SECRET_KEY = "another-secret-key-entirely-for-this-test-only-0123456789"
    # A dedicated key does not change with the secret key.
    assert visitor_key_hash(key) == dedicated
    settings.ONTHAAL_VISITOR_KEY = ""
    assert visitor_key_hash(key) not in {derived, dedicated}


def test_without_a_key_the_chat_opens_and_nothing_is_linked(chat_open: Any) -> None:
    response = open_chat("")
    assert response.status_code == 201
    assert Conversation.objects.filter(pk=response.json()["id"]).exists()
    assert not ConversationVisitor.objects.exists()


@pytest.mark.parametrize("bad", ["short", "x" * 129, "é" * 40, "a b" * 20, "<script>" * 5])
def test_a_malformed_key_is_a_clear_error(chat_open: Any, bad: str) -> None:
    response = open_chat(bad)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_visitor_key"
    assert body["message"] == "De bezoekerssleutel is ongeldig."
    assert not Conversation.objects.exists()


def test_the_visitor_never_sees_the_hash_nor_an_alert(chat_open: Any) -> None:
    key = new_key()
    body = open_chat(key).json()
    text = str(body)
    assert visitor_key_hash(key) not in text
    assert "visitor_alert" not in body["conversation"]
