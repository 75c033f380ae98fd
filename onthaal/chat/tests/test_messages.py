"""Messages: stored exactly once per client_id, validated, kept as plain text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from onthaal.chat import services
from onthaal.chat.models import EndReason, Message, Sender
from onthaal.errors import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


def test_a_resend_with_the_same_client_id_is_stored_once(make_conversation, chat_open) -> None:
    conversation, _ = make_conversation()

    first, created = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Hallo?", client_id="c-1"
    )
    again, created_again = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Hallo?", client_id="c-1"
    )

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert list(Message.objects.values_list("body", "client_id", "sender")) == [
        ("Hallo?", "c-1", "visitor")
    ]


def test_the_same_client_id_from_the_other_side_is_another_message(
    make_active_conversation, operator, chat_open
) -> None:
    conversation, _ = make_active_conversation(operator)
    visitor_message, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Hoi", client_id="1"
    )
    operator_message, created = services.message_post(
        conversation=conversation,
        sender=Sender.OPERATOR,
        author=operator,
        body="Dag",
        client_id="1",
    )
    assert created is True
    assert operator_message.pk != visitor_message.pk
    assert operator_message.author == operator


def test_a_visitor_may_write_while_queued_but_not_after_the_end(
    make_conversation, chat_open
) -> None:
    conversation, _ = make_conversation()
    _message, created = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Ben je daar?", client_id="q1"
    )
    assert created
    services.conversation_end(conversation=conversation, reason=EndReason.VISITOR_ENDED)

    with pytest.raises(Conflict) as caught:
        services.message_post(
            conversation=conversation, sender=Sender.VISITOR, body="Nog iets", client_id="q2"
        )
    assert caught.value.code == "conversation_ended"
    assert Message.objects.count() == 1


def test_a_resend_after_the_end_is_answered_with_the_stored_message(
    make_active_conversation, operator, chat_open
) -> None:
    """A client that saw no acknowledgement resends; the chat may have ended
    meanwhile, but what was stored is still acknowledged, and nothing new
    is stored."""
    conversation, _ = make_active_conversation(operator)
    first, _created = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Laatste", client_id="v9"
    )
    mine, _created = services.message_post(
        conversation=conversation,
        sender=Sender.OPERATOR,
        author=operator,
        body="Dag!",
        client_id="o9",
    )
    services.conversation_end(conversation=conversation, reason=EndReason.VISITOR_ENDED)

    again, created = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="Laatste", client_id="v9"
    )
    assert (again.pk, created) == (first.pk, False)
    again, created = services.message_post(
        conversation=conversation,
        sender=Sender.OPERATOR,
        author=operator,
        body="Dag!",
        client_id="o9",
    )
    assert (again.pk, created) == (mine.pk, False)
    with pytest.raises(Conflict):
        services.message_post(
            conversation=conversation, sender=Sender.VISITOR, body="Nieuw", client_id="v10"
        )
    assert Message.objects.count() == 2


def test_an_operator_posts_only_in_their_own_chat(
    make_active_conversation, operator, other_operator, chat_open
) -> None:
    conversation, _ = make_active_conversation(operator)
    with pytest.raises(PermissionDenied):
        services.message_post(
            conversation=conversation,
            sender=Sender.OPERATOR,
            author=other_operator,
            body="Hallo",
            client_id="x",
        )
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty_message"),
        ("   \n\t ", "empty_message"),
        ("x" * 4001, "message_too_long"),
    ],
)
def test_invalid_bodies_are_refused(make_conversation, chat_open, body, code) -> None:
    conversation, _ = make_conversation()
    with pytest.raises(InvalidInput) as caught:
        services.message_post(
            conversation=conversation, sender=Sender.VISITOR, body=body, client_id="b"
        )
    assert caught.value.code == code
    assert not Message.objects.exists()


def test_a_message_of_exactly_the_limit_is_accepted(make_conversation, chat_open) -> None:
    conversation, _ = make_conversation()
    message, _ = services.message_post(
        conversation=conversation, sender=Sender.VISITOR, body="y" * 4000, client_id="max"
    )
    assert len(message.body) == 4000


@pytest.mark.parametrize("client_id", ["", "x" * 65, "é", "a\nb", None, 7])
def test_invalid_client_ids_are_refused(make_conversation, chat_open, client_id) -> None:
    conversation, _ = make_conversation()
    with pytest.raises(InvalidInput) as caught:
        services.message_post(
            conversation=conversation, sender=Sender.VISITOR, body="Hoi", client_id=client_id
        )
    assert caught.value.code == "invalid_client_id"


# --- over HTTP -------------------------------------------------------------------


def test_http_resend_answers_200_with_the_stored_message(
    make_conversation, visitor_client, chat_open
) -> None:
    conversation, token = make_conversation()
    visitor = visitor_client(token, conversation.pk)

    first = visitor.post(visitor.url("/messages"), {"client_id": "k1", "body": "Hallo"})
    again = visitor.post(visitor.url("/messages"), {"client_id": "k1", "body": "Hallo"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["message"] == first.json()["message"]
    assert first.json()["message"]["body"] == "Hallo"
    assert first.json()["message"]["sender"] == "visitor"
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"client_id": "a", "body": "x" * 4001}, "message_too_long"),
        ({"client_id": "a", "body": "  "}, "empty_message"),
        ({"client_id": "", "body": "Hoi"}, "invalid_client_id"),
        ({"client_id": "x" * 65, "body": "Hoi"}, "invalid_client_id"),
        ({"body": "Hoi"}, "invalid"),
        ({"client_id": "a"}, "invalid"),
    ],
)
def test_http_refuses_invalid_messages(
    make_conversation, visitor_client, chat_open, payload, code
) -> None:
    conversation, token = make_conversation()
    visitor = visitor_client(token, conversation.pk)

    response = visitor.post(visitor.url("/messages"), payload)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Message.objects.exists()


def test_message_too_long_names_the_limit(make_conversation, visitor_client, chat_open) -> None:
    conversation, token = make_conversation()
    visitor = visitor_client(token, conversation.pk)
    response = visitor.post(visitor.url("/messages"), {"client_id": "a", "body": "x" * 4001})
    assert response.json()["details"] == {"max_chars": 4000}


def test_markup_is_stored_verbatim_and_returned_as_json_text(
    make_active_conversation, operator, operator_client, visitor_client, chat_open
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)

    sent = visitor.post(visitor.url("/messages"), {"client_id": "xss", "body": SCRIPT})

    assert sent.status_code == 201
    assert sent["Content-Type"].startswith("application/json")
    assert Message.objects.get().body == SCRIPT
    listed = operator_client.get(f"/api/v1/conversations/{conversation.pk}/messages")
    assert listed["Content-Type"].startswith("application/json")
    assert [m["body"] for m in listed.json()["messages"]] == [SCRIPT]


def test_pages_never_render_message_data_as_html() -> None:
    """Messages reach the pages only through JSON and the scripts set them as
    text; the templates must not switch escaping off anywhere."""
    templates = Path(django_settings.BASE_DIR) / "templates"
    for template in templates.rglob("*.html"):
        source = template.read_text()
        assert "|safe" not in source, template
        assert "autoescape off" not in source, template
    static = Path(django_settings.BASE_DIR) / "static" / "onthaal"
    html_sinks = re.compile(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write")
    for script in static.glob("*.js"):
        # Comments may name the sinks; code may not use them.
        code = re.sub(r"//[^\n]*|/\*.*?\*/", "", script.read_text(), flags=re.DOTALL)
        assert not html_sinks.search(code), script


def test_the_visitor_page_loads(client, chat_open) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_posting_a_message_runs_a_bounded_number_of_queries(
    make_active_conversation,
    operator,
    visitor_client,
    chat_open,
    django_assert_max_num_queries,
) -> None:
    conversation, token = make_active_conversation(operator)
    visitor = visitor_client(token, conversation.pk)
    visitor.post(visitor.url("/messages"), {"client_id": "warm", "body": "eerste"})

    # Measured: 5 (access check, savepoint, the status check that also notes
    # the visitor's presence, insert, release). More means a query crept into
    # the hot path.
    with django_assert_max_num_queries(5):
        response = visitor.post(visitor.url("/messages"), {"client_id": "n2", "body": "tweede"})
    assert response.status_code == 201


def test_message_post_service_runs_a_bounded_number_of_queries(
    make_active_conversation, operator, chat_open, django_assert_max_num_queries
) -> None:
    conversation, _ = make_active_conversation(operator)
    # Measured: 4 (savepoint, locked read, insert, release); the idempotency
    # check is the unique constraint.
    with django_assert_max_num_queries(4):
        services.message_post(
            conversation=conversation,
            sender=Sender.OPERATOR,
            author=operator,
            body="Hoe gaat het?",
            client_id="op-1",
        )
