import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_probe(chat_open, make_conversation, visitor_client, operator_client, operator):
    conv, token = make_conversation()
    v = visitor_client(token, conv.pk)
    c = Client()
    r = c.post("/api/v1/conversations", "{bad", content_type="application/json")
    print("malformed", r.status_code, r.content)
    r = c.post("/api/v1/conversations", "[]", content_type="application/json")
    print("list body", r.status_code, r.content)
    r = c.post(
        "/api/v1/conversations", {"age": "abc", "audience": 5}, content_type="application/json"
    )
    print("age abc", r.status_code, r.content)
    r = v.get("/api/v1/conversations/99999999999999999999999")
    print("huge", r.status_code, r.content)
    r = v.get("/api/v1/conversations/abc")
    print("abc", r.status_code, r.content)
    r = v.get(v.url("/messages?after=99999999999999999999999"))
    print("after huge", r.status_code, r.content)
    r = operator_client.get("/api/v1/conversations/99999999999999999999999/registration")
    print("reg huge", r.status_code, r.content)
    r = operator_client.post("/api/v1/conversations/99999999999999999999999/accept")
    print("accept huge", r.status_code, r.content)
    r = operator_client.post("/api/v1/conversations/12345/accept")
    print("accept unknown", r.status_code, r.content)
    r = v.post(v.url("/rating"), {"rating": "x"})
    print("rating x", r.status_code, r.content)
    r = v.post(v.url("/rating"), {"rating": 6})
    print("rating 6", r.status_code, r.content)
    r = v.post(v.url("/messages"), {"client_id": "a", "body": "x" * 4001})
    print("long", r.status_code, r.content[:300])
    r = operator_client.patch("/api/v1/operator/me", "{bad", content_type="application/json")
    print("patch bad", r.status_code, r.content[:300])
    r = Client().get("/api/v1/queue")
    print("unauth", r.status_code, r.content[:300])
    r = Client().get("/api/v1/status")
    print("status", r.status_code, r.content[:300])
    from onthaal.chat import services
    from onthaal.chat.models import Sender

    try:
        services.conversation_receipt(conversation=conv, side=Sender.VISITOR, read_id=2**70)
    except Exception as e:
        print("receipt overflow", type(e), e)
