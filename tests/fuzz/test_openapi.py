"""Schemathesis against the served OpenAPI schema, ``/api/v1/openapi.json``.

Every operation of the schema is fuzzed in-process (Django's WSGI handler in
the test's own thread and transaction, see ``wsgi.InProcessWSGI``) as three
callers:

- **anonymous**: no credentials, or the random ones Schemathesis makes up;
- **visitor**: the bearer token of an existing, active conversation;
- **operator**: a signed-in operator's session cookie with the CSRF cookie
  and ``X-CSRFToken`` header.

Per operation and caller, several kinds of cases run, each with its own
examples: positive (valid by the schema) and negative (violating it) cases
with generated path ids; cases whose ``conversation_id`` is one the caller
knows (the visitor's own conversation; the operator's active and ended chats,
a colleague's chat, a queued one); and hand-made hostile bodies for the
operations with free text or ids (strategies.py: control characters, lone
surrogates, boundary integers, long strings, wrong types, extra fields).
Every response must pass ``not_a_server_error`` and
``response_schema_conformance``, and every error must be the documented JSON
error object (``code`` and ``message``, docs/api.md). Counts are small and the
run is derandomized, so it is repeatable and fast; ONTHAAL_FUZZ_SCALE=10 runs
ten times as many examples.

Further down: what the schema declares against what the API answers (strict
xfails, until the routes declare their error responses and bodies), and
regression tests for the bugs the fuzzing found.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from onthaal.registration.models import Result, Topic
from onthaal.staff.models import User
from tests.fuzz.strategies import (
    client_ids,
    edge_integers,
    field_values,
    json_values,
    long_text,
    nasty_text,
    scaled,
)
from tests.fuzz.wsgi import InProcessWSGI

pytestmark = pytest.mark.django_db

OPENAPI_PATH = "/api/v1/openapi.json"

# Examples per operation and kind of case (positive, negative, known ids,
# hand-made bodies: twice this); see strategies.SCALE to fuzz harder.
EXAMPLES = {"anonymous": 3, "visitor": 8, "operator": 4}

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: a failure is reported as found (the known bugs are
    # pinned down by the deterministic tests at the end of this module).
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# --- the schema -------------------------------------------------------------------


@cache
def _served_schema() -> dict[str, Any]:
    """The schema as ``/api/v1/openapi.json`` serves it (no database needed)."""
    from onthaal.api import api

    schema: dict[str, Any] = api.get_openapi_schema()
    return schema


def _operations() -> list[tuple[str, str, frozenset[str]]]:
    """(METHOD, path, security schemes) of every operation; none = public."""
    result = []
    for path, methods in _served_schema()["paths"].items():
        for method, operation in methods.items():
            schemes = frozenset(
                name for requirement in operation.get("security", []) for name in requirement
            )
            result.append((method.upper(), path, schemes))
    return result


OPERATIONS = _operations()


def _callers(schemes: frozenset[str]) -> list[str]:
    callers = ["anonymous"]
    if "VisitorToken" in schemes:
        callers.append("visitor")
    if "StaffSession" in schemes:  # onthaal/staff/session_auth.py
        callers.append("operator")
    return callers


def test_the_schema_names_both_ways_of_signing_in() -> None:
    """The callers above follow the schema's scheme names: a renamed scheme
    would leave its operations to the anonymous caller alone."""
    schemes = frozenset().union(*(schemes for _method, _path, schemes in OPERATIONS))
    assert {"VisitorToken", "StaffSession"} <= schemes


FUZZ_CASES = [
    pytest.param(caller, method, path, id=f"{caller}-{method} {path}")
    for method, path, schemes in OPERATIONS
    for caller in _callers(schemes)
]


@cache
def _app() -> InProcessWSGI:
    return InProcessWSGI()


@cache
def _schema() -> Any:
    """Loaded once through the app itself, as a client would fetch it."""
    return schemathesis.openapi.from_wsgi(OPENAPI_PATH, _app())


def test_the_served_schema_is_what_the_fuzzers_fuzz(db: None) -> None:
    served = Client().get(OPENAPI_PATH)
    assert served.status_code == 200
    paths = served.json()["paths"]
    assert sorted((m.upper(), p) for p, ms in paths.items() for m in ms) == sorted(
        (m, p) for m, p, _ in OPERATIONS
    )


# --- callers ----------------------------------------------------------------------


@dataclass
class Caller:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    # Ids worth putting in the conversation_id path parameter.
    conversation_ids: list[int] = field(default_factory=list)
    # Hand-made request bodies (strategies) per "METHOD path", next to the generated ones.
    bodies: dict[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    # Remove the credentials Schemathesis generates for the security schemes.
    drop_generated_credentials: bool = False


MESSAGES = "POST /api/v1/conversations/{conversation_id}/messages"
RATING = "POST /api/v1/conversations/{conversation_id}/rating"
REGISTRATION = "PUT /api/v1/conversations/{conversation_id}/registration"
PROFILE = "PATCH /api/v1/operator/me"
OPEN = "POST /api/v1/conversations"


def _message_bodies() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "client_id": field_values(client_ids),
            "body": field_values(nasty_text, long_text(4100)),
        },
        optional={"extra": json_values},
    )


@pytest.fixture
def anonymous_caller(chat_open: Any) -> Caller:
    return Caller(
        "anonymous",
        bodies={
            OPEN: st.fixed_dictionaries(
                {},
                optional={
                    "audience": field_values(st.sampled_from(["pupil", "parent", ""])),
                    "age": field_values(st.integers(0, 120)),
                    "gender": field_values(st.sampled_from(["girl", "boy", "x", ""])),
                    "referral_source": field_values(st.sampled_from(["smartschool", "other"])),
                    "touch": field_values(st.booleans()),
                },
            )
        },
    )


@pytest.fixture
def visitor_caller(chat_open: Any, make_active_conversation: Any, other_operator: User) -> Caller:
    conversation, token = make_active_conversation(other_operator)
    return Caller(
        "visitor",
        headers={"Authorization": f"Bearer {token}"},
        conversation_ids=[conversation.pk],
        bodies={
            MESSAGES: _message_bodies(),
            RATING: st.fixed_dictionaries(
                {"rating": field_values(st.integers(0, 6))},
                optional={"comment": field_values(nasty_text, long_text(2100))},
            ),
        },
        drop_generated_credentials=True,
    )


@pytest.fixture
def operator_caller(
    chat_open: Any,
    operator: User,
    other_operator: User,
    make_conversation: Any,
    make_active_conversation: Any,
    make_ended_conversation: Any,
) -> Caller:
    active, _ = make_active_conversation(operator)
    ended, _ = make_ended_conversation(operator)
    colleagues, _ = make_active_conversation(other_operator)
    queued, _ = make_conversation()
    make_conversation()  # a second visitor waits, for queue/take

    client = Client()
    client.force_login(operator)
    client.get("/medewerker/")  # the console page sets the CSRF cookie
    session, csrf = client.cookies["sessionid"].value, client.cookies["csrftoken"].value

    topic_ids = st.sampled_from(
        list(Topic.objects.filter(is_active=True).values_list("pk", flat=True))
    )
    result_ids = st.sampled_from(
        list(Result.objects.filter(is_active=True).values_list("pk", flat=True))
    )
    return Caller(
        "operator",
        headers={"X-CSRFToken": csrf},
        cookies={"sessionid": session, "csrftoken": csrf},
        conversation_ids=[active.pk, ended.pk, colleagues.pk, queued.pk],
        bodies={
            MESSAGES: _message_bodies(),
            REGISTRATION: st.fixed_dictionaries(
                {
                    "topic_ids": field_values(st.lists(topic_ids | edge_integers, max_size=3)),
                    "result_ids": field_values(st.lists(result_ids | edge_integers, max_size=2)),
                },
                optional={
                    "prank_suspected": field_values(st.booleans()),
                    "note": field_values(nasty_text, long_text(2100)),
                },
            ),
            PROFILE: st.fixed_dictionaries(
                {},
                optional={
                    "pseudonym": field_values(nasty_text, st.just("Lotte")),
                    "availability": field_values(
                        st.sampled_from(["available", "paused", "offline"])
                    ),
                },
            ),
        },
        drop_generated_credentials=True,
    )


# --- strategies and checks -----------------------------------------------------------


def _can_be_negative(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _variants(operation: Any, caller: Caller) -> list[tuple[str, st.SearchStrategy[Any]]]:
    """The kinds of cases to try, each run on its own with its own examples, so
    that every kind is tried (Hypothesis' one_of would favour the first)."""
    label = f"{operation.method.upper()} {operation.path}"
    variants = [("positive", operation.as_strategy(generation_mode=GenerationMode.POSITIVE))]
    # Credentials are checked before anything else: without them, negative
    # cases of a protected operation would only test that again.
    public = not operation.definition.raw.get("security")
    if _can_be_negative(operation) and (caller.name != "anonymous" or public):
        variants.append(
            ("negative", operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        )
    has_id = "{conversation_id}" in operation.path
    if has_id and caller.conversation_ids:
        variants.append(
            (
                "known conversation ids",
                st.sampled_from(caller.conversation_ids).flatmap(
                    lambda cid: operation.as_strategy(path_parameters={"conversation_id": cid})
                ),
            )
        )
    if label in caller.bodies:
        ids = st.sampled_from(caller.conversation_ids) if has_id else st.none()
        variants.append(
            (
                "hand-made bodies",
                st.tuples(ids, caller.bodies[label]).flatmap(
                    lambda pair: operation.as_strategy(
                        path_parameters={"conversation_id": pair[0]} if has_id else None,
                        body=pair[1],
                    )
                ),
            )
        )
    return variants


def errors_are_the_documented_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """docs/api.md: "Errors are always JSON with a stable code and a human message"."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    return None


CHECKS = [not_a_server_error, response_schema_conformance, errors_are_the_documented_json]


def _server_errors(app: InProcessWSGI) -> str:
    return "\n".join(
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) for exc in app.errors
    )


def _drop_credentials(case: Any) -> None:
    for name in list(case.headers or {}):
        if name.lower() == "authorization":
            del case.headers[name]
    if case.cookies:
        case.cookies.pop("sessionid", None)


# --- the fuzzing --------------------------------------------------------------------


@pytest.fixture
def caller_named(request: pytest.FixtureRequest) -> Callable[[str], Caller]:
    def get(name: str) -> Caller:
        caller: Caller = request.getfixturevalue(f"{name}_caller")
        return caller

    return get


@pytest.mark.parametrize(("caller_name", "method", "path"), FUZZ_CASES)
def test_fuzz_operation(
    caller_name: str,
    method: str,
    path: str,
    caller_named: Callable[[str], Caller],
    chat_open: Any,
) -> None:
    caller = caller_named(caller_name)
    operation = _schema()[path][method]

    def fuzz(case: Any) -> None:
        if caller.drop_generated_credentials:
            _drop_credentials(case)
        app = _app()
        app.errors.clear()
        response = case.call(headers=caller.headers, cookies=caller.cookies)
        assert not app.errors, _server_errors(app)
        case.validate_response(response, checks=CHECKS)

    for variant, strategy in _variants(operation, caller):
        examples = scaled(EXAMPLES[caller_name] * (2 if variant == "hand-made bodies" else 1))
        run = settings(FUZZ_SETTINGS, max_examples=examples)(given(case=strategy)(fuzz))
        try:
            run()
        except Exception as exc:
            exc.add_note(f"(cases: {variant}, as {caller_name})")
            raise


# --- documented status codes ----------------------------------------------------------

# The operations of the chat, staff and registration routers (the ones the
# security issue is about; routers added later are fuzzed above but not listed here).
CORE_OPERATIONS = [
    ("GET", "/api/v1/status"),
    ("POST", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{conversation_id}"),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"),
    ("POST", "/api/v1/conversations/{conversation_id}/end"),
    ("POST", "/api/v1/conversations/{conversation_id}/rating"),
    ("GET", "/api/v1/operator/me"),
    ("PATCH", "/api/v1/operator/me"),
    ("GET", "/api/v1/operator/conversations"),
    ("GET", "/api/v1/queue"),
    ("POST", "/api/v1/queue/take"),
    ("POST", "/api/v1/conversations/{conversation_id}/accept"),
    ("GET", "/api/v1/taxonomy"),
    ("GET", "/api/v1/conversations/{conversation_id}/registration"),
    ("PUT", "/api/v1/conversations/{conversation_id}/registration"),
]


def _probe_statuses(method: str, path: str, staff: Caller, visitor: Caller) -> set[int]:
    """Statuses the API answers to ordinary mistakes on this operation: no
    credentials at all; a signed-out console (CSRF cookie and header, no
    session); an unknown conversation; a body that is not valid; and (for the
    visitor) calling twice on their own conversation."""
    statuses: set[int] = set()
    has_body = method in {"POST", "PUT", "PATCH"}
    bad_body = {"pseudonym": 5, "topic_ids": "x", "client_id": 5, "rating": "x", "age": "x"}

    def send(caller: Caller | None, conversation_id: int, body: Any = None) -> None:
        client = Client(enforce_csrf_checks=True)
        for name, value in (caller.cookies if caller else {}).items():
            client.cookies[name] = value
        response = client.generic(
            method,
            path.replace("{conversation_id}", str(conversation_id)),
            json.dumps(body if body is not None else {}) if has_body else "",
            content_type="application/json",
            headers=caller.headers if caller else {},
        )
        statuses.add(response.status_code)

    unknown = 999_999
    send(None, unknown)
    csrf = staff.cookies["csrftoken"]
    send(Caller("signed out", headers={"X-CSRFToken": csrf}, cookies={"csrftoken": csrf}), unknown)
    send(staff, unknown)
    if has_body:
        send(staff, unknown, bad_body)
    if "{conversation_id}" in path and "visitor" in _callers(_schemes(method, path)):
        own = visitor.conversation_ids[0]
        send(visitor, unknown)
        if has_body:
            send(visitor, own, bad_body)
        send(visitor, own, {"client_id": "x", "body": "Hallo", "rating": 4})
        send(visitor, own, {"client_id": "x", "body": "Hallo", "rating": 4})
    return statuses


def _schemes(method: str, path: str) -> frozenset[str]:
    (schemes,) = [s for m, p, s in OPERATIONS if (m, p) == (method, path)]
    return schemes


def _documented(method: str, path: str) -> set[int]:
    responses = _served_schema()["paths"][path][method.lower()]["responses"]
    return {int(code) for code in responses}


# What each operation answers but does not declare, today.
UNDOCUMENTED: dict[str, str] = {}


def _status_params() -> Iterator[Any]:
    for method, path in CORE_OPERATIONS:
        label = f"{method} {path}"
        marks = []
        if label in UNDOCUMENTED:
            marks.append(
                pytest.mark.xfail(
                    strict=True,
                    reason=(
                        f"BUG: {label} answers {UNDOCUMENTED[label]} without declaring it: "
                        "add them to the route's response={...} with the Error schema"
                    ),
                )
            )
        yield pytest.param(method, path, id=label, marks=marks)


@pytest.mark.parametrize(("method", "path"), list(_status_params()))
def test_every_error_status_is_documented(
    method: str, path: str, operator_caller: Caller, visitor_caller: Caller
) -> None:
    observed = _probe_statuses(method, path, operator_caller, visitor_caller)
    undocumented = sorted(observed - _documented(method, path))
    assert not undocumented, f"{method} {path}: answers {undocumented}, not in the schema"


# --- bugs the fuzzing found, fixed in e82621e: regression tests ------------------------
#
# BUG 1: a lone surrogate ("\ud800" in the JSON) in free text passed
# text_check and crashed where the text was encoded (Fernet encryption of a
# message, SQLite for comment, note and pseudonym): UnicodeEncodeError, a 500.
# BUG 2: a registration topic or result id >= 2**63 reached
# Topic/Result.objects.filter(pk__in=...): OverflowError from SQLite, a 500.

SURROGATE = "Hallo \ud800 daar"  # JSON can carry it ("\ud800"); UTF-8 cannot


def _raw_json(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: the surrogate travels as \ud800


@pytest.mark.parametrize("field", ["message", "operator message", "comment", "note", "pseudonym"])
def test_a_lone_surrogate_in_free_text_is_refused(
    field: str,
    chat_open: Any,
    operator: User,
    make_active_conversation: Any,
    make_ended_conversation: Any,
) -> None:
    client = Client(raise_request_exception=False)
    staff = Client(raise_request_exception=False)
    staff.force_login(operator)
    topic = Topic.objects.filter(is_active=True).first()
    assert topic is not None
    if field == "message":
        conversation, token = make_active_conversation(operator)
        response = client.post(
            f"/api/v1/conversations/{conversation.pk}/messages",
            _raw_json({"client_id": "c1", "body": SURROGATE}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    elif field == "operator message":
        conversation, _token = make_active_conversation(operator)
        response = staff.post(
            f"/api/v1/conversations/{conversation.pk}/messages",
            _raw_json({"client_id": "c1", "body": SURROGATE}),
            content_type="application/json",
        )
    elif field == "comment":
        conversation, token = make_ended_conversation(operator)
        response = client.post(
            f"/api/v1/conversations/{conversation.pk}/rating",
            _raw_json({"rating": 4, "comment": SURROGATE}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    elif field == "note":
        conversation, _token = make_ended_conversation(operator)
        response = staff.put(
            f"/api/v1/conversations/{conversation.pk}/registration",
            _raw_json({"topic_ids": [topic.pk], "note": SURROGATE}),
            content_type="application/json",
        )
    else:
        response = staff.patch(
            "/api/v1/operator/me",
            _raw_json({"pseudonym": SURROGATE}),
            content_type="application/json",
        )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] == "invalid_character"


@pytest.mark.parametrize("key", ["topic_ids", "result_ids"])
def test_a_registration_id_beyond_64_bits_is_refused(
    key: str, chat_open: Any, operator: User, make_ended_conversation: Any
) -> None:
    conversation, _token = make_ended_conversation(operator)
    staff = Client(raise_request_exception=False)
    staff.force_login(operator)
    response = staff.put(
        f"/api/v1/conversations/{conversation.pk}/registration",
        json.dumps({key: [2**63]}),
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["code"] in {"invalid", "unknown_choice"}


# --- declared response bodies ------------------------------------------------------------


def _declares_a_body(response: dict[str, Any]) -> bool:
    """A JSON schema that says something: not absent, not a bare open object."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return False
    return not (schema.get("type") == "object" and not schema.get("properties"))


# Success responses declared without a body (ninja's default for a view that
# returns dict[str, Any] without response=...), where response_schema_conformance
# would have nothing to check: none left among the core operations.
UNDECLARED_BODIES: set[str] = set()


def _body_params() -> Iterator[Any]:
    for method, path in CORE_OPERATIONS:
        label = f"{method} {path}"
        marks = []
        if label in UNDECLARED_BODIES:
            marks.append(
                pytest.mark.xfail(
                    strict=True,
                    reason=(
                        f"BUG (schema): {label} declares no response body (or a bare "
                        "dict[str, Any]): give the route response={2xx: <a Schema of its "
                        "JSON>} so that the schema describes it and can be checked"
                    ),
                )
            )
        yield pytest.param(method, path, id=label, marks=marks)


@pytest.mark.parametrize(("method", "path"), list(_body_params()))
def test_success_responses_declare_their_body(method: str, path: str) -> None:
    responses = _served_schema()["paths"][path][method.lower()]["responses"]
    successes = {code: r for code, r in responses.items() if str(code).startswith("2")}
    assert successes
    loose = sorted(code for code, r in successes.items() if not _declares_a_body(r))
    assert not loose, f"{method} {path}: responses {loose} declare no body"


def test_an_unexpected_error_is_still_a_json_error(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onthaal.chat.api

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the database went away, say")

    # What /api/v1/status asks for the opening hours (renamed while the
    # closing-time cut-off was added).
    name = "intake_status" if hasattr(onthaal.chat.api, "intake_status") else "opening_status"
    monkeypatch.setattr(onthaal.chat.api, name, broken)
    response = Client(raise_request_exception=False).get("/api/v1/status")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    assert isinstance(response.json()["code"], str)
