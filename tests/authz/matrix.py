"""The authorization matrix: who may do what, on every route and websocket action.

test_matrix.py makes every request below, for every role, and checks the
outcome; it also fails when a route or websocket action of the project has
no entry here (a new route must be added here to pass CI), and when an
entry names a route that no longer exists. routes.py finds the routes.

HOW TO ADD AN ENTRY (one line, usually)
=======================================

Key: what ``pytest tests/authz -k coverage`` prints as missing:

    "GET /api/v1/queue"                JSON API operation (method + OpenAPI path)
    "staff:console"                    a Django page by its URL name
    "WS /ws/v1/operator/ resume"       a websocket frame type (or "connect")
    "admin"                            everything under /beheer/

Value: ``api(...)``, ``page(...)`` or ``ws(...)`` (or a list of them, to
check one route on several objects: own chat vs a colleague's). Each takes
the expected outcome per role as keywords:

    anonymous      no credentials at all
    visitor        the holder of conversation ``active``'s token (Bearer
                   header over HTTP; a ``hello`` first on the visitor socket)
    operator       a signed-in operator (holds ``active`` and ``ended``)
    coordinator, administrator, analyst   signed in with that role

Every signed-in session here has passed the second factor (that is the
only way a Django session gets logged in; ``Client.force_login`` stands for
it), but not recently: adding or removing a passkey, which asks for a
second factor within ONTHAAL_REAUTH_MINUTES, is refused here (403).
Defaults: ``visitor`` = what ``anonymous`` gets; ``administrator`` =
what ``coordinator`` gets; ``staff=X`` sets the four staff roles at once
(any of them given explicitly wins); ``api()`` has ``anonymous=401``,
``page()`` has ``anonymous=LOGIN``.

Outcomes:

    200, 201, 204, 302, 400, 401, 403, 404, 405, 409 ...   exactly that status
    (200, 503)         any of these statuses
    OK                 any 2xx
    LOGIN              a redirect to the sign-in page
    to("stats:dashboard")   a redirect to that page (3xx to where it is meant
                       to go) with no error message flashed
    refused("shifts:overview")   a redirect to that page with an error message
                       flashed (a form view that says no and goes back)
    websocket only:
    OK                 no error frame and not closed
    frame("pong")      a frame of that type came back
    error("not_found") an error frame with that code
    closed(4401)       the socket was closed with that code

Request: ``method="POST"`` (``api()`` takes it from the key);
``params={"conversation_id": "@colleague_active"}`` fills path parameters
(unset ones use DEFAULT_PARAMS below); ``body={...}`` is sent as JSON
(``form={...}`` as a form); ``send={...}`` is the websocket frame
(default ``{"type": <the action>}``; the visitor role says ``hello`` first). A string
``"@name"`` anywhere in them is a world object (its pk for a model):
see world.py for the list, and add one there with ``@thing("name")``.
``needs=("queued",)`` builds world objects the request does not name (a
visitor waiting, for "take the next chat"); ``visitor_of="ended"`` gives
the visitor role that conversation's token instead of ``active``'s.
``query={"format": "html"}`` adds a query string; ``path="/beheer/..."``
requests a fixed path (the admin group).
``why="..."`` says in words why the rule is what it is, where that is not obvious.

Denied means 401/403/404, a redirect to the sign-in page, a close code or
an error frame: which of them, exactly, is part of the contract, so it is
written down (404 for "not yours" and "does not exist" alike, see
docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("anonymous", "visitor", "operator", "coordinator", "administrator", "analyst")

OK = "ok"
LOGIN = "login"


def to(url_name: str) -> str:
    return f"to:{url_name}"


def refused(url_name: str) -> str:
    return f"refused:{url_name}"


def frame(kind: str) -> str:
    return f"frame:{kind}"


def error(code: str) -> str:
    return f"error:{code}"


def closed(code: int) -> str:
    return f"closed:{code}"


Expect = int | str | tuple[int, ...]


@dataclass(frozen=True)
class Case:
    kind: str  # "api", "page" or "ws"
    expect: dict[str, Expect]
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    form: Any = None
    send: Any = None
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    visitor_of: str = "active"
    why: str = ""


def _roles(
    *,
    anonymous: Expect | None,
    visitor: Expect | None,
    operator: Expect | None,
    coordinator: Expect | None,
    administrator: Expect | None,
    analyst: Expect | None,
    staff: Expect | None,
) -> dict[str, Expect]:
    expect = {
        "anonymous": anonymous,
        "visitor": visitor if visitor is not None else anonymous,
        "operator": operator if operator is not None else staff,
        "coordinator": coordinator if coordinator is not None else staff,
        "analyst": analyst if analyst is not None else staff,
    }
    expect["administrator"] = (
        administrator
        if administrator is not None
        else (staff if staff is not None and coordinator is None else expect["coordinator"])
    )
    missing = [role for role in ROLES if expect.get(role) is None]
    assert not missing, f"matrix entry without an outcome for {missing}"
    return {role: expect[role] for role in ROLES}  # type: ignore[misc]


def api(
    *,
    anonymous: Expect = 401,
    visitor: Expect | None = None,
    operator: Expect | None = None,
    coordinator: Expect | None = None,
    administrator: Expect | None = None,
    analyst: Expect | None = None,
    staff: Expect | None = None,
    params: dict[str, Any] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    needs: tuple[str, ...] = (),
    visitor_of: str = "active",
    why: str = "",
) -> Case:
    return Case(
        "api",
        _roles(
            anonymous=anonymous,
            visitor=visitor,
            operator=operator,
            coordinator=coordinator,
            administrator=administrator,
            analyst=analyst,
            staff=staff,
        ),
        params=params or {},
        body=body,
        query=query or {},
        needs=needs,
        visitor_of=visitor_of,
        why=why,
    )


def page(
    method: str = "GET",
    *,
    anonymous: Expect = LOGIN,
    visitor: Expect | None = None,
    operator: Expect | None = None,
    coordinator: Expect | None = None,
    administrator: Expect | None = None,
    analyst: Expect | None = None,
    staff: Expect | None = None,
    params: dict[str, Any] | None = None,
    form: Any = None,
    body: Any = None,
    path: str | None = None,
    query: dict[str, str] | None = None,
    needs: tuple[str, ...] = (),
    visitor_of: str = "active",
    why: str = "",
) -> Case:
    return Case(
        "page",
        _roles(
            anonymous=anonymous,
            visitor=visitor,
            operator=operator,
            coordinator=coordinator,
            administrator=administrator,
            analyst=analyst,
            staff=staff,
        ),
        method=method,
        params=params or {},
        form=form,
        body=body,
        path=path,
        query=query or {},
        needs=needs,
        visitor_of=visitor_of,
        why=why,
    )


def ws(
    *,
    anonymous: Expect,
    visitor: Expect | None = None,
    operator: Expect | None = None,
    coordinator: Expect | None = None,
    administrator: Expect | None = None,
    analyst: Expect | None = None,
    staff: Expect | None = None,
    send: dict[str, Any] | None = None,
    needs: tuple[str, ...] = (),
    visitor_of: str = "active",
    why: str = "",
) -> Case:
    return Case(
        "ws",
        _roles(
            anonymous=anonymous,
            visitor=visitor,
            operator=operator,
            coordinator=coordinator,
            administrator=administrator,
            analyst=analyst,
            staff=staff,
        ),
        send=send,
        needs=needs,
        visitor_of=visitor_of,
        why=why,
    )


# Path parameters a case does not set get these world objects.
DEFAULT_PARAMS: dict[str, Any] = {
    "conversation_id": "@active",
    "scan_id": "@scan",
    "review_id": "@review",
    "block_id": "@block",
    "passkey_id": "@my_passkey",
    "token": "@feed_token",
    "year": 2025,
    "response_id": "@my_canned",
    "entry_id": "@social_entry",
    "offer_id": "@my_offer",
}

# Bodies used by several entries.
REGISTRATION = {"topic_ids": [], "result_ids": ["@result"], "prank_suspected": False, "note": ""}
MESSAGE = {"client_id": "authz", "body": "Hallo"}

# Entries, grouped by area. Object-level cases come as lists: the first
# case on the caller's own object, the next on someone else's.
# (Not run through `ruff format`: one entry per line or two reads as a table.)
# fmt: off
ROUTES: dict[str, Case | list[Case]] = {
    # --- public pages and probes ---------------------------------------------------
    "visitor": page(anonymous=200, staff=200),
    "privacy": page(anonymous=200, staff=200),
    "healthz": page(anonymous=200, staff=200),
    "readyz": page(anonymous=(200, 503), staff=(200, 503), why="ready or not: anyone may ask"),
    "metrics": page(anonymous=403, staff=403, why="loopback or ONTHAAL_METRICS_TOKEN only"),
    "set_language": page("POST", anonymous=to("visitor"), staff=to("visitor"),
                         form={"language": "en"}),
    "api-v1:openapi-json": page(anonymous=200, staff=200),
    "api-v1:api-root": page(anonymous=404, staff=404, why="ninja's root: nothing there"),
    "admin": [
        page(anonymous=to("admin:login"), operator=to("admin:login"), coordinator=200,
             analyst=to("admin:login"), path="/beheer/"),
        page(anonymous=to("admin:login"), operator=to("admin:login"), coordinator=200,
             analyst=to("admin:login"), path="/beheer/staff/user/",
             why="accounts: coordinators manage them (not the superuser flag)"),
        page(anonymous=to("admin:login"), operator=to("admin:login"), coordinator=403,
             administrator=200, analyst=to("admin:login"), path="/beheer/audit/auditentry/",
             why="the audit log: administrators only"),
    ],
    # --- sign-in ----------------------------------------------------------------------
    "staff:login": page(anonymous=200, staff=to("staff:console")),
    "staff:login_second_factor": page(anonymous=to("staff:login"), staff=to("staff:login"),
                                      why="only after the password step of this session"),
    "staff:login_passkey_options": page("POST", anonymous=404, staff=404),
    "staff:login_passkey": page("POST", anonymous=404, staff=404),
    "staff:oidc_start": page("POST", anonymous=404, staff=404, why="single sign-on is off"),
    "staff:oidc_callback": page(anonymous=404, staff=404, why="single sign-on is off"),
    "staff:logout": page("POST", anonymous=to("staff:login"), staff=to("staff:login")),
    "staff:console": page(operator=200, coordinator=200, analyst=to("stats:dashboard")),
    # Passkeys: one's own only; adding or removing one asks for a recent second factor.
    "staff:passkeys": page(staff=200),
    "staff:passkey_register_options": page("POST", staff=403,
                                           why="no recent second factor in this session"),
    "staff:passkey_register": page("POST", staff=403, why="no recent second factor"),
    "staff:passkey_delete": [
        page("POST", staff=403, why="own passkey, but no recent second factor"),
        page("POST", staff=404, params={"passkey_id": "@passkey"}, why="someone else's"),
    ],
    # Confirming again: TOTP code (none enrolled here: 400), or a passkey (none: 404).
    "staff:reauth_totp": page("POST", staff=400, form={"code": "123456"}),
    "staff:reauth_passkey_options": page("POST", staff=404),
    "staff:reauth_passkey": page("POST", staff=400, why="no challenge handed out"),
    # --- the visitor's conversation and the console's -------------------------------------
    "GET /api/v1/status": api(anonymous=200, staff=200),
    "POST /api/v1/conversations": api(anonymous=201, staff=201, body={},
                                      why="anyone may open a chat, staff sessions too"),
    "GET /api/v1/conversations/{conversation_id}": [
        api(visitor=200, operator=200, coordinator=200, analyst=404),
        api(params={"conversation_id": "@colleague_active"},
            visitor=404, operator=404, coordinator=200, analyst=404),
    ],
    "GET /api/v1/conversations/{conversation_id}/messages": [
        api(visitor=200, operator=200, coordinator=200, analyst=404),
        api(params={"conversation_id": "@colleague_active"},
            visitor=404, operator=404, coordinator=200, analyst=404,
            why="a transcript: the holder, coordinators; never an analyst"),
    ],
    "POST /api/v1/conversations/{conversation_id}/messages": [
        api(body=MESSAGE, visitor=201, operator=201, coordinator=403, analyst=404),
        api(body=MESSAGE, params={"conversation_id": "@colleague_active"},
            visitor=404, operator=404, coordinator=403, analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/end": [
        api(visitor=200, operator=200, coordinator=404, analyst=404),
        api(params={"conversation_id": "@colleague_active"},
            visitor=404, operator=404, coordinator=404, analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/rating": [
        api(params={"conversation_id": "@ended"}, visitor_of="ended", body={"rating": 5},
            visitor=200, staff=401, why="the visitor's own, with its token only"),
        api(params={"conversation_id": "@colleague_ended"}, visitor_of="ended",
            body={"rating": 5}, visitor=404, staff=401),
    ],
    "POST /api/v1/conversations/{conversation_id}/accept": api(
        params={"conversation_id": "@queued"}, operator=200, coordinator=200, analyst=403
    ),
    "GET /api/v1/operator/me": api(staff=200),
    "PATCH /api/v1/operator/me": api(body={"availability": "paused"}, operator=200,
                                     coordinator=200, analyst=403, why="an analyst takes no chats"),
    "GET /api/v1/operator/conversations": api(operator=200, coordinator=200, analyst=403),
    "GET /api/v1/queue": api(operator=200, coordinator=200, analyst=403),
    "POST /api/v1/queue/take": api(needs=("queued",), operator=200, coordinator=200, analyst=403),
    "GET /api/v1/taxonomy": api(staff=200),
    "GET /api/v1/conversations/{conversation_id}/registration": [
        api(params={"conversation_id": "@registered"}, operator=200, coordinator=200,
            analyst=404),
        api(params={"conversation_id": "@colleague_registered"}, operator=404,
            coordinator=200, analyst=404),
    ],
    "PUT /api/v1/conversations/{conversation_id}/registration": [
        api(params={"conversation_id": "@ended"}, body=REGISTRATION, operator=200,
            coordinator=200, analyst=404,
            why="the operator who held the chat registers it; a coordinator may correct any"),
        api(params={"conversation_id": "@colleague_ended"}, body=REGISTRATION, operator=404,
            coordinator=200, analyst=404),
    ],
    # --- figures ----------------------------------------------------------------------
    "GET /api/v1/stats/figures": api(staff=200, why="an operator gets their own figures"),
    "GET /api/v1/stats/figures/school-year/{year}": api(staff=200),
    "GET /api/v1/stats/trends": api(staff=200),
    "GET /api/v1/stats/export.csv": api(staff=200),
    "GET /api/v1/stats/export.xlsx": api(staff=200),
    "stats:dashboard": page(staff=200),
    "stats:annual_report": page(operator=403, coordinator=200, analyst=200,
                                query={"format": "html"},
                                why="covers everyone's chats: not for a single operator"),
    "stats:foreword": [
        page(operator=403, coordinator=200, analyst=403,
             why="the report's foreword is the coordinators' to write; analysts read the report"),
        page("POST", form={"year": "2024-2025", "text": "Beste lezer"}, operator=403,
             coordinator=to("stats:foreword"), analyst=403),
    ],
    # --- chat scans ----------------------------------------------------------------------
    "GET /api/v1/quality/scans": api(operator=403, coordinator=200, analyst=403),
    "POST /api/v1/quality/scans": api(
        needs=("ended",), body={"period_start": "2000-01-01", "period_end": "2000-01-02",
                                "per_operator": 1},
        operator=403, coordinator=409, analyst=403, why="409: nothing to draw, but allowed"),
    "GET /api/v1/quality/scans/{scan_id}": api(operator=403, coordinator=200, analyst=403),
    "GET /api/v1/quality/reviews/{review_id}": [
        api(params={"review_id": "@reviewed"}, operator=200, coordinator=200, analyst=404,
            why="the operator reads the feedback on their own chat"),
        api(operator=404, coordinator=200, analyst=404, why="not while the review is open"),
        api(params={"review_id": "@colleague_review"}, operator=404, coordinator=200,
            analyst=404),
    ],
    "POST /api/v1/quality/reviews/{review_id}/feedback": [
        api(body={"scores": {}, "comment": "Goed"}, operator=403, coordinator=200,
            analyst=403),
    ],
    "GET /api/v1/quality/feedback": api(operator=200, coordinator=200, analyst=403),
    "quality:overview": page(operator=to("quality:my_feedback"), coordinator=200, analyst=403),
    "quality:scan": page(operator=403, coordinator=200, analyst=403),
    "quality:review": [
        page(params={"review_id": "@reviewed"}, operator=200, coordinator=200, analyst=404),
        page(operator=404, coordinator=200, analyst=404),
        page(params={"review_id": "@colleague_review"}, operator=404, coordinator=200,
             analyst=404),
    ],
    "quality:my_feedback": page(operator=200, coordinator=200, analyst=403),
    # --- shifts ---------------------------------------------------------------------------
    "GET /api/v1/shifts/blocks": api(staff=200),
    "POST /api/v1/shifts/blocks": api(body={"starts_at": "2000-01-01T17:00:00+01:00",
                                            "ends_at": "2000-01-01T20:00:00+01:00"},
                                      operator=403, coordinator=409, analyst=403,
                                      why="409: that block lies in the past, but allowed"),
    "POST /api/v1/shifts/blocks/generate": api(body={"start": "2000-01-01", "end": "2000-01-02"},
                                               operator=403, coordinator=OK, analyst=403),
    "DELETE /api/v1/shifts/blocks/{block_id}": api(operator=403, coordinator=204, analyst=403),
    "POST /api/v1/shifts/blocks/{block_id}/signup": api(
        params={"block_id": "@free_block"}, operator=201, coordinator=201, analyst=403),
    "DELETE /api/v1/shifts/blocks/{block_id}/signup": api(operator=200, coordinator=200,
                                                          analyst=403),
    "GET /api/v1/shifts/mine": api(operator=200, coordinator=200, analyst=403),
    "GET /api/v1/shifts/forecast": api(staff=200),
    "POST /api/v1/shifts/feed": api(operator=201, coordinator=201, analyst=403),
    "DELETE /api/v1/shifts/feed": api(staff=204),
    "shifts:overview": page(operator=to("shifts:mine"), coordinator=200, analyst=200),
    "shifts:mine": page(operator=200, coordinator=200, analyst=to("shifts:overview")),
    "shifts:block_create": page("POST", operator=refused("shifts:overview"),
                                coordinator=refused("shifts:overview"),
                                analyst=refused("shifts:overview")),
    "shifts:blocks_generate": page("POST", operator=refused("shifts:overview"),
                                   coordinator=refused("shifts:overview"),
                                   analyst=refused("shifts:overview")),
    "shifts:block_delete": page("POST", operator=refused("shifts:overview"),
                                coordinator=to("shifts:overview"),
                                analyst=refused("shifts:overview")),
    "shifts:signup_create": page("POST", params={"block_id": "@free_block"},
                                 operator=to("shifts:mine"), coordinator=to("shifts:mine"),
                                 analyst=refused("shifts:mine")),
    "shifts:signup_withdraw": page("POST", operator=to("shifts:mine"),
                                   coordinator=to("shifts:mine"), analyst=refused("shifts:mine")),
    "shifts:feed_regenerate": page("POST", operator=200, coordinator=200,
                                   analyst=refused("shifts:overview")),
    "shifts:feed_revoke": page("POST", staff=to("shifts:mine")),
    "shifts:feed": [
        page(anonymous=200, staff=200, why="the secret address is the credential"),
        page(anonymous=404, staff=404, params={"token": "@token"}, why="a wrong address"),
    ],
    # --- websockets ------------------------------------------------------------------------
    "WS /ws/v1/visitor/ connect": ws(anonymous=OK, staff=OK,
                                     why="anyone connects; hello with a token opens a chat"),
    "WS /ws/v1/visitor/ hello": [
        ws(send={"type": "hello", "conversation_id": "@active", "token": "@token"},
           anonymous=error("not_found"), visitor=frame("welcome"), staff=error("not_found")),
        ws(send={"type": "hello", "conversation_id": "@colleague_active", "token": "@token"},
           anonymous=error("not_found"), staff=error("not_found")),
    ],
    "WS /ws/v1/visitor/ message.send": ws(
        send={"type": "message.send", **MESSAGE}, anonymous=error("hello_required"),
        visitor=frame("message.ack"), staff=error("hello_required")),
    "WS /ws/v1/visitor/ typing": ws(send={"type": "typing", "active": True},
                                    anonymous=error("hello_required"), visitor=OK,
                                    staff=error("hello_required")),
    "WS /ws/v1/visitor/ receipt": ws(send={"type": "receipt", "read_id": 0},
                                     anonymous=error("hello_required"), visitor=OK,
                                     staff=error("hello_required")),
    "WS /ws/v1/visitor/ ping": ws(anonymous=frame("pong"), staff=frame("pong")),
    "WS /ws/v1/visitor/ end": ws(anonymous=error("hello_required"), visitor=OK,
                                 staff=error("hello_required")),
    "WS /ws/v1/operator/ connect": ws(anonymous=closed(4401), operator=frame("snapshot"),
                                      coordinator=frame("snapshot"), analyst=closed(4403)),
    "WS /ws/v1/operator/ message.send": [
        ws(send={"type": "message.send", "conversation_id": "@active", **MESSAGE},
           anonymous=closed(4401), operator=frame("message.ack"), coordinator=error("forbidden"),
           analyst=closed(4403)),
        ws(send={"type": "message.send", "conversation_id": "@colleague_active", **MESSAGE},
           anonymous=closed(4401), operator=error("not_found"), coordinator=error("forbidden"),
           analyst=closed(4403)),
    ],
    "WS /ws/v1/operator/ typing": ws(
        send={"type": "typing", "conversation_id": "@colleague_active", "active": True},
        anonymous=closed(4401), operator=error("not_found"), coordinator=OK,
        analyst=closed(4403)),
    "WS /ws/v1/operator/ receipt": ws(
        send={"type": "receipt", "conversation_id": "@colleague_active", "read_id": 0},
        anonymous=closed(4401), operator=error("not_found"), coordinator=OK,
        analyst=closed(4403)),
    "WS /ws/v1/operator/ resume": [
        ws(send={"type": "resume", "conversation_id": "@active"}, anonymous=closed(4401),
           operator=frame("conversation"), coordinator=frame("conversation"),
           analyst=closed(4403)),
        ws(send={"type": "resume", "conversation_id": "@colleague_active"},
           anonymous=closed(4401), operator=error("not_found"),
           coordinator=frame("conversation"), analyst=closed(4403)),
    ],
    "WS /ws/v1/operator/ ping": ws(anonymous=closed(4401), operator=frame("pong"),
                                   coordinator=frame("pong"), analyst=closed(4403)),
    # --- automatic assignment and missed chats (onthaal.assignment) --------------------------
    "GET /api/v1/offers": api(operator=200, coordinator=200, analyst=403),
    "POST /api/v1/offers/{offer_id}/accept": [
        api(params={"offer_id": "@my_offer"}, operator=200, coordinator=200, analyst=403),
        api(params={"offer_id": "@colleague_offer"}, operator=404, coordinator=404,
            analyst=403, why="an offer is for one operator only, coordinators included"),
    ],
    "POST /api/v1/offers/{offer_id}/decline": [
        api(params={"offer_id": "@my_offer"}, operator=200, coordinator=200, analyst=403),
        api(params={"offer_id": "@colleague_offer"}, operator=404, coordinator=404,
            analyst=403),
    ],
    "GET /api/v1/missed-chats": api(operator=403, coordinator=200, analyst=403,
                                    why="planning figures of the whole line: coordinators"),
    "WS /ws/v1/operator/ offer.accept": [
        ws(send={"type": "offer.accept", "offer_id": "@my_offer"}, anonymous=closed(4401),
           operator=OK, coordinator=OK, analyst=closed(4403)),
        ws(send={"type": "offer.accept", "offer_id": "@colleague_offer"},
           anonymous=closed(4401), operator=error("not_found"),
           coordinator=error("not_found"), analyst=closed(4403)),
    ],
    "WS /ws/v1/operator/ offer.decline": [
        ws(send={"type": "offer.decline", "offer_id": "@my_offer"}, anonymous=closed(4401),
           operator=OK, coordinator=OK, analyst=closed(4403)),
        ws(send={"type": "offer.decline", "offer_id": "@colleague_offer"},
           anonymous=closed(4401), operator=error("not_found"),
           coordinator=error("not_found"), analyst=closed(4403)),
    ],
    # --- toolkit: canned responses, social map, long-wait alternatives (onthaal.toolkit) -----
    "GET /api/v1/toolkit/canned-responses": api(operator=200, coordinator=200, analyst=403),
    "POST /api/v1/toolkit/canned-responses": [
        api(body={"code": "authz-new", "title": "t", "body": "b"}, operator=201,
            coordinator=201, analyst=403, why="a personal one: everyone who chats"),
        api(body={"scope": "shared", "code": "authz-new", "title": "t", "body": "b"},
            operator=403, coordinator=201, analyst=403, why="shared: coordinators"),
    ],
    "GET /api/v1/toolkit/canned-responses/{response_id}": [
        api(params={"response_id": "@my_canned"}, operator=200, coordinator=200, analyst=403),
        api(params={"response_id": "@colleague_canned"}, operator=404, coordinator=404,
            analyst=403, why="a personal response is its owner's alone, coordinators included"),
        api(params={"response_id": "@shared_canned"}, operator=200, coordinator=200,
            analyst=403),
    ],
    "PATCH /api/v1/toolkit/canned-responses/{response_id}": [
        api(params={"response_id": "@my_canned"}, body={"title": "x"}, operator=200,
            coordinator=200, analyst=403),
        api(params={"response_id": "@colleague_canned"}, body={"title": "x"}, operator=404,
            coordinator=404, analyst=403),
        api(params={"response_id": "@shared_canned"}, body={"title": "x"}, operator=403,
            coordinator=200, analyst=403),
    ],
    "DELETE /api/v1/toolkit/canned-responses/{response_id}": [
        api(params={"response_id": "@my_canned"}, operator=204, coordinator=204, analyst=403),
        api(params={"response_id": "@colleague_canned"}, operator=404, coordinator=404,
            analyst=403),
        api(params={"response_id": "@shared_canned"}, operator=403, coordinator=204,
            analyst=403),
    ],
    "GET /api/v1/toolkit/social-map": api(operator=200, coordinator=200, analyst=403),
    "POST /api/v1/toolkit/social-map": api(
        body={"name": "Authz nieuw", "url": "https://www.voorbeeld.be",
              "description": "Een voorbeeld voor de autorisatietest."},
        operator=403, coordinator=201, analyst=403),
    "GET /api/v1/toolkit/social-map/{entry_id}": api(
        params={"entry_id": "@social_entry"}, operator=200, coordinator=200, analyst=403),
    "PATCH /api/v1/toolkit/social-map/{entry_id}": api(
        params={"entry_id": "@social_entry"}, body={"theme": "x"}, operator=403,
        coordinator=200, analyst=403),
    "DELETE /api/v1/toolkit/social-map/{entry_id}": api(
        params={"entry_id": "@social_entry"}, operator=403, coordinator=204, analyst=403),
    "GET /api/v1/toolkit/conversations/{conversation_id}/alternatives": [
        api(visitor=200, staff=401, why="the waiting visitor's own token only"),
        api(params={"conversation_id": "@colleague_active"}, visitor=404, staff=401),
    ],
    "toolkit:canned": page(operator=200, coordinator=200, analyst=403),
    "toolkit:canned_edit": [
        page(params={"response_id": "@my_canned"}, operator=200, coordinator=200, analyst=403),
        page(params={"response_id": "@colleague_canned"}, operator=404, coordinator=404,
             analyst=403),
        page(params={"response_id": "@shared_canned"}, operator=403, coordinator=200,
             analyst=403),
    ],
    "toolkit:canned_delete": [
        page("POST", params={"response_id": "@my_canned"}, operator=to("toolkit:canned"),
             coordinator=to("toolkit:canned"), analyst=403),
        page("POST", params={"response_id": "@colleague_canned"}, operator=404,
             coordinator=404, analyst=403),
        page("POST", params={"response_id": "@shared_canned"}, operator=403,
             coordinator=to("toolkit:canned"), analyst=403),
    ],
    "toolkit:social_map": page(operator=200, coordinator=200, analyst=403),
    "toolkit:social_map_edit": page(params={"entry_id": "@social_entry"}, operator=403,
                                    coordinator=200, analyst=403),
    "toolkit:social_map_delete": page("POST", params={"entry_id": "@social_entry"},
                                      operator=403, coordinator=to("toolkit:social_map"),
                                      analyst=403),
    # --- prank reviews and blocks (onthaal.safeguard) -------------------------------------
    "GET /api/v1/safeguard/prank-reviews": api(operator=403, coordinator=200, analyst=403),
    "GET /api/v1/safeguard/prank-reviews/{conversation_id}": [
        api(params={"conversation_id": "@prank"}, operator=403, coordinator=200, analyst=403,
            why="reading the transcript is a coordinator's task (audited)"),
        api(params={"conversation_id": "@colleague_ended"}, operator=403, coordinator=404,
            analyst=403, why="not registered as a suspected prank: not in the queue"),
    ],
    "POST /api/v1/safeguard/prank-reviews/{conversation_id}/decision": api(
        params={"conversation_id": "@prank"}, body={"decision": "dismissed"}, operator=403,
        coordinator=200, analyst=403),
    "GET /api/v1/safeguard/blocks": api(operator=403, coordinator=200, analyst=403),
    "POST /api/v1/safeguard/blocks": api(
        body={"conversation_id": "@prank", "duration": "24h"}, operator=403, coordinator=201,
        analyst=403),
    "POST /api/v1/safeguard/blocks/{block_id}/lift": api(
        params={"block_id": "@visitor_block"}, operator=403, coordinator=200, analyst=403),
    "safeguard:overview": page(operator=403, coordinator=200, analyst=403),
    "safeguard:review": page(params={"conversation_id": "@prank"}, operator=403,
                             coordinator=200, analyst=403),
    "safeguard:block_lift": page("POST", params={"block_id": "@visitor_block"}, operator=403,
                                 coordinator=to("safeguard:overview"), analyst=403),
    # --- supervision: overview, support, read-along, whispers, takeover, transfer ----------
    "supervision:overview": page(operator=403, coordinator=200, analyst=403),
    "GET /api/v1/supervision/overview": api(operator=403, coordinator=200, analyst=403),
    "GET /api/v1/conversations/{conversation_id}/transfer-targets": [
        api(operator=200, coordinator=200, analyst=404),
        api(params={"conversation_id": "@colleague_active"}, operator=404, coordinator=200,
            analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/support": [
        api(operator=200, coordinator=403, analyst=404,
            why="only the operator holding the chat asks for support"),
        api(params={"conversation_id": "@colleague_active"}, operator=404, coordinator=403,
            analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/read-along": api(
        params={"conversation_id": "@colleague_active"}, operator=403, coordinator=200,
        analyst=403, why="reading along is for coordinators (audited)"),
    "DELETE /api/v1/conversations/{conversation_id}/read-along": api(
        operator=403, coordinator=200, analyst=403),
    "GET /api/v1/conversations/{conversation_id}/notes": [
        api(operator=200, coordinator=200, analyst=404),
        api(params={"conversation_id": "@colleague_active"}, operator=404, coordinator=200,
            analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/whispers": [
        api(body={"body": "Hoi"}, operator=200, coordinator=200, analyst=404),
        api(body={"body": "Hoi"}, params={"conversation_id": "@colleague_active"},
            operator=404, coordinator=200, analyst=404),
    ],
    "POST /api/v1/conversations/{conversation_id}/take-over": api(
        params={"conversation_id": "@colleague_active"}, operator=403, coordinator=200,
        analyst=403),
    "POST /api/v1/conversations/{conversation_id}/transfer": [
        api(body={"operator_id": "@colleague"}, operator=409, coordinator=409, analyst=404,
            why="allowed, but the colleague has no console open (target_not_online)"),
        api(body={"operator_id": "@operator"}, params={"conversation_id": "@colleague_active"},
            operator=404, coordinator=409, analyst=404),
    ],
    "WS /ws/v1/operator/ support.request": [
        ws(send={"type": "support.request", "conversation_id": "@active"},
           anonymous=closed(4401), operator=frame("support.ack"),
           coordinator=error("not_your_chat"),
           analyst=closed(4403)),
        ws(send={"type": "support.request", "conversation_id": "@colleague_active"},
           anonymous=closed(4401), operator=error("not_found"),
           coordinator=error("not_your_chat"),
           analyst=closed(4403)),
    ],
    "WS /ws/v1/operator/ whisper.send": [
        ws(send={"type": "whisper.send", "conversation_id": "@active", "body": "Hoi"},
           anonymous=closed(4401), operator=OK, coordinator=OK, analyst=closed(4403)),
        ws(send={"type": "whisper.send", "conversation_id": "@colleague_active", "body": "Hoi"},
           anonymous=closed(4401), operator=error("not_found"), coordinator=OK,
           analyst=closed(4403)),
    ],
    "WS /ws/v1/operator/ transfer": [
        ws(send={"type": "transfer", "conversation_id": "@active", "operator_id": "@colleague"},
           anonymous=closed(4401), operator=error("target_not_online"),
           coordinator=error("target_not_online"), analyst=closed(4403)),
        ws(send={"type": "transfer", "conversation_id": "@colleague_active",
                 "operator_id": "@operator"},
           anonymous=closed(4401), operator=error("not_found"),
           coordinator=error("target_not_online"), analyst=closed(4403)),
    ],
    "WS /ws/v1/overview/ connect": ws(anonymous=closed(4401), operator=closed(4403),
                                      coordinator=frame("overview"), analyst=closed(4403)),
    "WS /ws/v1/overview/ ping": ws(anonymous=closed(4401), operator=closed(4403),
                                   coordinator=frame("pong"), analyst=closed(4403)),
    "WS /ws/v1/overview/ read_along.start": ws(
        send={"type": "read_along.start", "conversation_id": "@colleague_active"},
        anonymous=closed(4401), operator=closed(4403), coordinator=frame("read_along"),
        analyst=closed(4403)),
    "WS /ws/v1/overview/ read_along.stop": ws(
        send={"type": "read_along.stop", "conversation_id": "@colleague_active"},
        anonymous=closed(4401), operator=closed(4403), coordinator=frame("read_along.stopped"),
        analyst=closed(4403)),
    "WS /ws/v1/overview/ whisper.send": ws(
        send={"type": "whisper.send", "conversation_id": "@colleague_active", "body": "Hoi"},
        anonymous=closed(4401), operator=closed(4403), coordinator=OK, analyst=closed(4403)),
    "WS /ws/v1/overview/ take_over": ws(
        send={"type": "take_over", "conversation_id": "@colleague_active"},
        anonymous=closed(4401), operator=closed(4403), coordinator=frame("take_over.ack"),
        analyst=closed(4403)),
    "WS /ws/v1/overview/ transfer": ws(
        send={"type": "transfer", "conversation_id": "@colleague_active",
              "operator_id": "@operator"},
        anonymous=closed(4401), operator=closed(4403), coordinator=error("target_not_online"),
        analyst=closed(4403)),
}
# fmt: on
