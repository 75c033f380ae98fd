"""Property-based fuzzing of the frames of both websockets.

Hypothesis makes frames of every known type with hostile field values (wrong
types, huge and negative numbers, control characters and lone surrogates,
long strings up to and past the 64 KiB frame limit, fields missing, extra
fields, nested objects), arbitrary JSON values, unknown types, text that is
not JSON and binary frames, and sends them one by one down one live socket.

After each frame the test sends a ``ping``: the consumer handles a socket's
frames in order, so everything it answers to the fuzzed frame arrives before
the ``pong``. The properties:

- the consumer never raises (``receive_output`` would re-raise it) and the
  socket stays open; the one documented close is a refused ``hello`` (4404),
  after which the test opens a new socket;
- every frame the server sends has a documented type; every error frame is
  ``{"type": "error", "code": str, "message": str, ...}``;
- a frame that is binary or empty, over 64 KiB of UTF-8, not JSON, not an
  object with a string type, or of an unknown type is answered by exactly one
  error with the documented code;
- a frame of a known type gets only documented frames back, its errors say
  ``in_reply_to`` that type; a ``ping`` gets its ``pong``;
- after the fuzzing a ``ping`` still gets ``pong`` and a message still goes
  from visitor to console and back.

The consumers reach the database from a worker thread, so the tests are
transactional; one event loop (an ``asyncio.Runner``) carries the socket
across Hypothesis' synchronous examples.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from onthaal.asgi import application
from onthaal.chat.consumers import MAX_FRAME_BYTES, OperatorConsumer, VisitorConsumer
from onthaal.chat.tests.communicator import WebsocketCommunicator
from onthaal.staff.models import User
from tests.fuzz.strategies import (
    client_ids,
    contains_surrogate,
    edge_integers,
    field_values,
    json_values,
    long_text,
    nasty_text,
    scaled,
)

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost")
TIMEOUT = 5

# Examples per kind of frame and socket (see KINDS below).
EXAMPLES = {
    "known types": 120,
    "json values": 30,
    "unknown types": 15,
    "raw text": 30,
    "near the size limit": 8,
    "binary": 4,
}

FUZZ_SETTINGS = settings(
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# What the server may send (docs/api.md), besides "error" and "pong".
BROADCASTS = {"conversation", "queue", "message.new", "typing", "receipt"}
VISITOR_SENDS = BROADCASTS | {"welcome", "message.ack", "error", "pong"}
OPERATOR_SENDS = BROADCASTS | {"snapshot", "message.ack", "error", "pong"}


# --- driving a socket from synchronous Hypothesis code ------------------------------


async def _output(socket: WebsocketCommunicator, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The next message the app sends; if the app crashed, its exception, at
    once (``receive_output`` would first wait out the whole timeout)."""
    getter = asyncio.ensure_future(socket.output_queue.get())
    done, _ = await asyncio.wait(
        {getter, socket.future}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if getter in done:
        message: dict[str, Any] = getter.result()
        return message
    getter.cancel()
    if socket.future.done():
        socket.future.result()  # raises what the consumer raised
        raise AssertionError("the consumer stopped without closing the socket")
    raise TimeoutError(f"no answer within {timeout} s")


async def _frame(socket: WebsocketCommunicator) -> dict[str, Any]:
    output = await _output(socket)
    assert output["type"] == "websocket.send", output
    frame: dict[str, Any] = json.loads(output["text"])
    return frame


@dataclass
class Exchange:
    """What the server sent back to one fuzzed frame (the pong excluded)."""

    frames: list[dict[str, Any]]
    pongs: int
    closed_with: int | None = None


@dataclass
class Driver:
    """One socket at a time, on one event loop, opened again after a documented close."""

    runner: asyncio.Runner
    open_socket: Callable[[], Awaitable[WebsocketCommunicator]]
    socket: WebsocketCommunicator | None = None
    closes: list[int] = field(default_factory=list)

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return self.runner.run(coroutine)  # type: ignore[arg-type]

    async def current(self) -> WebsocketCommunicator:
        if self.socket is None:
            self.socket = await self.open_socket()
        return self.socket

    async def exchange(self, message: dict[str, Any], pongs: int) -> Exchange:
        """Send ``message`` then a ping; collect until ``pongs`` pongs came."""
        socket = await self.current()
        await socket.send_input(message)
        await socket.send_json_to({"type": "ping"})
        result = Exchange(frames=[], pongs=0)
        while result.pongs < pongs:
            output = await _output(socket)
            if output["type"] == "websocket.close":
                result.closed_with = output.get("code", 1000)
                self.closes.append(result.closed_with)
                await socket.send_input({"type": "websocket.disconnect", "code": 1000})
                await socket.wait(TIMEOUT)  # re-raises what the consumer raised
                self.socket = None
                return result
            assert output["type"] == "websocket.send", output
            assert output.get("text") is not None, output  # JSON text frames only
            frame = json.loads(output["text"])
            if frame.get("type") == "pong":
                result.pongs += 1
            else:
                result.frames.append(frame)
        return result

    async def close(self) -> None:
        # After a crash there is nothing left to close (the test reports the crash).
        if self.socket is not None and not self.socket.future.done():
            await self.socket.disconnect(timeout=TIMEOUT)
        self.socket = None


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


def _cookie(client: Any) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def _visitor_socket(conversation_id: int, token: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    await socket.send_json_to({"type": "hello", "conversation_id": conversation_id, "token": token})
    welcome = await socket.receive_json_from(timeout=TIMEOUT)
    assert welcome["type"] == "welcome", welcome
    return socket


async def _operator_socket(client: Any) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(
        application, "/ws/v1/operator/", headers=[_cookie(client), ORIGIN]
    )
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, code
    snapshot = await socket.receive_json_from(timeout=TIMEOUT)
    assert snapshot["type"] == "snapshot", snapshot
    return socket


async def _next_of_type(
    socket: WebsocketCommunicator, kind: str, where: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    while True:
        frame = await _frame(socket)
        if frame["type"] == kind and where(frame):
            return frame


# --- frames --------------------------------------------------------------------------


class Frame:
    """One ``websocket.receive`` message, with a repr short enough for
    Hypothesis' reports (it warns about a 65 kB one, and warnings are errors).
    Not a dataclass: Hypothesis would print a dataclass field by field."""

    def __init__(self, message: dict[str, Any]) -> None:
        self.message = message

    def __repr__(self) -> str:
        data = self.message.get("text", self.message.get("bytes"))
        shown = repr(data)
        if len(shown) > 300:
            shown = f"{shown[:300]}... ({len(data or '')} characters)"
        return f"Frame({shown})"


def _text_message(text: str) -> Frame:
    return Frame({"type": "websocket.receive", "text": text})


def _known_frames(fields: dict[str, dict[str, st.SearchStrategy[Any]]]) -> st.SearchStrategy[Any]:
    """A frame of a known type with its fields (some left out now and then)
    and a few extra fields."""

    def build(kind: str) -> st.SearchStrategy[dict[str, Any]]:
        names = sorted(fields[kind])
        left_out = st.sets(st.sampled_from(names), max_size=len(names)) if names else st.just(set())
        return st.tuples(
            st.fixed_dictionaries(fields[kind]),
            left_out,
            st.dictionaries(nasty_text, json_values, max_size=2),
        ).map(
            lambda parts: {
                **parts[2],
                **{k: v for k, v in parts[0].items() if k not in parts[1]},
                "type": kind,
            }
        )

    return st.sampled_from(sorted(fields)).flatmap(build)


def _visitor_fields(conversation_id: int, token: str) -> dict[str, dict[str, Any]]:
    ids = field_values(edge_integers, st.integers(0, 50))
    return {
        "hello": {
            "conversation_id": field_values(st.just(conversation_id)),
            "token": field_values(st.just(token), nasty_text),
            "after": ids,
        },
        "message.send": {
            "client_id": field_values(client_ids),
            "body": field_values(nasty_text, long_text(4100)),
        },
        "typing": {"active": field_values(st.booleans())},
        "receipt": {"delivered_id": ids, "read_id": ids},
        "ping": {},
    }


def _operator_fields(conversation_ids: list[int]) -> dict[str, dict[str, Any]]:
    ids = field_values(edge_integers, st.integers(0, 50))
    conversation = field_values(st.sampled_from(conversation_ids), edge_integers)
    return {
        "message.send": {
            "conversation_id": conversation,
            "client_id": field_values(client_ids),
            "body": field_values(nasty_text, long_text(4100)),
        },
        "typing": {"conversation_id": conversation, "active": field_values(st.booleans())},
        "receipt": {"conversation_id": conversation, "delivered_id": ids, "read_id": ids},
        "resume": {"conversation_id": conversation, "after": ids},
        "ping": {},
    }


def _text(value: Any) -> st.SearchStrategy[str]:
    """JSON text of ``value``: ASCII-escaped, or (without surrogates, which
    a UTF-8 text frame cannot carry raw) as UTF-8."""
    options = [st.just(json.dumps(value))]
    if not contains_surrogate(value):
        options.append(st.just(json.dumps(value, ensure_ascii=False)))
    return st.one_of(options)


def _as_text_frame(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Frame]:
    return strategy.flatmap(_text).map(_text_message)


def _raw_text() -> st.SearchStrategy[str]:
    almost_json = st.sampled_from(
        [
            "",
            " ",
            "{",
            "}",
            "null",
            "true",
            "0",
            "[]",
            "{}",
            '""',
            '{"type": NaN}',
            '{"type": "ping", "x": Infinity}',
            '{"type": "receipt", "read_id": -Infinity}',
            '{"type": "ping"',
            '{"type": "ping"}{"type": "ping"}',
            '{"type": "ping",}',
            "{'type': 'ping'}",
            '{"type": "\\ud800"}',
            '{"type": "ping", "type": "shout"}',
            '{"type": "ping"}\x00',
            "\ufeff" + '{"type": "ping"}',
            "1" * 5000,  # over Python's 4,300-digit int limit
            '{"type": "receipt", "read_id": 1e999}',
        ]
    )
    return st.one_of(almost_json, nasty_text, st.text())


def _near_the_limit() -> st.SearchStrategy[Frame]:
    """A ping padded to just under, at, or just over 64 KiB of UTF-8, in one-
    to four-byte characters."""

    def pad(pair: tuple[str, int]) -> Frame:
        char, size = pair
        head, tail = '{"type": "ping", "pad": "', '"}'
        room = max(size - len(head) - len(tail), 0) // len(char.encode())
        return _text_message(head + char * room + tail)

    return st.tuples(
        st.sampled_from(["x", "é", "€", "\U0001f600"]),
        st.integers(MAX_FRAME_BYTES - 4, MAX_FRAME_BYTES + 4),
    ).map(pad)


def _kinds(fields: dict[str, dict[str, Any]]) -> dict[str, st.SearchStrategy[Frame]]:
    unknown = st.one_of(
        st.sampled_from(["Ping", "ping ", "PING", "message", "message.ack", "welcome", "error"]),
        nasty_text,
    ).filter(lambda kind: kind not in fields)
    return {
        "known types": _as_text_frame(_known_frames(fields)),
        "json values": _as_text_frame(json_values),
        "unknown types": _as_text_frame(
            st.fixed_dictionaries(
                {"type": unknown}, optional={"client_id": field_values(client_ids)}
            )
        ),
        "raw text": _raw_text().map(_text_message),
        "near the size limit": _near_the_limit(),
        "binary": st.binary(max_size=64).map(
            lambda data: Frame({"type": "websocket.receive", "bytes": data})
        ),
    }


# --- what the answers must be ---------------------------------------------------------


def _decoded(message: dict[str, Any]) -> tuple[str, Any]:
    """How the consumer should see a websocket.receive message (docs/api.md):
    ("not_json", None) for a binary or empty frame or one that is not JSON,
    ("too_large", None) over 64 KiB of UTF-8, else ("json", value)."""
    text = message.get("text")
    if not text:
        return "not_json", None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        return "too_large", None
    try:
        return "json", json.loads(text)
    except (ValueError, RecursionError):
        return "not_json", None


def _check_error_frame(frame: dict[str, Any]) -> None:
    assert isinstance(frame.get("code"), str) and frame["code"], frame
    assert isinstance(frame.get("message"), str) and frame["message"], frame
    assert set(frame) <= {"type", "code", "message", "in_reply_to", "client_id", "details"}, frame


def _check_exchange(
    message: dict[str, Any],
    answer: Exchange,
    handlers: dict[str, str],
    allowed: set[str],
) -> None:
    for frame in answer.frames:
        assert frame.get("type") in allowed, frame
        if frame["type"] == "error":
            _check_error_frame(frame)
    errors = [f for f in answer.frames if f["type"] == "error"]
    how, value = _decoded(message)
    expected_code = None
    if how == "too_large":
        expected_code = "frame_too_large"
    elif how == "not_json" or not isinstance(value, dict) or not isinstance(value.get("type"), str):
        expected_code = "invalid_frame"
    elif value["type"] not in handlers:
        expected_code = "unknown_type"
    if expected_code is not None:
        assert [e["code"] for e in errors] == [expected_code], answer
        assert answer.closed_with is None, answer
        if expected_code == "unknown_type":
            assert errors[0]["in_reply_to"] == value["type"], errors
            if isinstance(value.get("client_id"), str):
                assert errors[0]["client_id"] == value["client_id"], errors
        else:
            assert "in_reply_to" not in errors[0], errors
        return
    kind = value["type"]
    assert len(errors) <= 1, answer
    for error in errors:
        assert error["in_reply_to"] == kind, error
    if answer.closed_with is not None:
        # The one documented close: a hello for an unknown conversation or wrong token.
        assert kind == "hello", answer
        assert answer.closed_with == 4404, answer
        assert [e["code"] for e in errors] == ["not_found"], answer


def _pongs_expected(message: dict[str, Any], handlers: dict[str, str]) -> int:
    how, value = _decoded(message)
    is_ping = how == "json" and isinstance(value, dict) and value.get("type") == "ping"
    return 2 if is_ping and "ping" in handlers else 1


def _fuzz(driver: Driver, handlers: dict[str, str], allowed: set[str], kinds: Any) -> None:
    for kind, strategy in kinds.items():

        @settings(FUZZ_SETTINGS, max_examples=scaled(EXAMPLES[kind]))
        @given(frame=strategy)
        def fuzz(frame: Frame) -> None:
            message = frame.message
            answer = driver.run(driver.exchange(message, _pongs_expected(message, handlers)))
            _check_exchange(message, answer, handlers, allowed)

        try:
            fuzz()
        except Exception as exc:
            exc.add_note(f"(frames: {kind})")
            raise


# --- the tests ------------------------------------------------------------------------


async def _round_trip(
    visitor: WebsocketCommunicator, console: WebsocketCommunicator, conversation_id: int
) -> None:
    """A message from the visitor reaches the console, and one back."""
    await visitor.send_json_to({"type": "message.send", "client_id": "after-v", "body": "Hoi"})
    ack = await _next_of_type(visitor, "message.ack", lambda f: f["client_id"] == "after-v")
    new = await _next_of_type(
        console, "message.new", lambda f: f["message"]["id"] == ack["message"]["id"]
    )
    assert new["message"]["body"] == "Hoi"
    await console.send_json_to(
        {
            "type": "message.send",
            "conversation_id": conversation_id,
            "client_id": "after-o",
            "body": "Dag!",
        }
    )
    ack = await _next_of_type(console, "message.ack", lambda f: f["client_id"] == "after-o")
    new = await _next_of_type(
        visitor, "message.new", lambda f: f["message"]["id"] == ack["message"]["id"]
    )
    assert (new["message"]["sender"], new["message"]["body"]) == ("operator", "Dag!")


def test_visitor_frames(
    runner: asyncio.Runner,
    chat_open: Any,
    operator: User,
    operator_client: Any,
    make_active_conversation: Any,
    make_conversation: Any,
) -> None:
    conversation, token = make_active_conversation(operator)
    make_conversation()  # someone waiting: queue frames happen
    driver = Driver(runner, lambda: _visitor_socket(conversation.pk, token))
    handlers = VisitorConsumer.handlers
    # No "end" among the fields: it would end the chat (see test_visitor_end_with_junk_fields).
    fields = _visitor_fields(conversation.pk, token)
    try:
        _fuzz(driver, handlers, VISITOR_SENDS, _kinds(fields))

        async def after() -> None:
            visitor = await driver.current()
            await visitor.send_json_to({"type": "ping"})
            await _next_of_type(visitor, "pong", lambda f: True)
            console = await _operator_socket(operator_client)
            await _round_trip(visitor, console, conversation.pk)
            await console.disconnect(timeout=TIMEOUT)

        driver.run(after())
        assert set(driver.closes) <= {4404}
    finally:
        driver.run(driver.close())


def test_visitor_frames_before_hello(runner: asyncio.Runner, chat_open: Any) -> None:
    """Without hello, every frame but hello and ping is refused; none crashes."""

    async def unauthenticated() -> WebsocketCommunicator:
        socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
        assert (await socket.connect(timeout=TIMEOUT))[0]
        return socket

    driver = Driver(runner, unauthenticated)
    fields = {k: v for k, v in _visitor_fields(1, "x").items() if k != "hello"}
    try:

        @settings(FUZZ_SETTINGS, max_examples=scaled(40))
        @given(frame=_as_text_frame(_known_frames(fields)))
        def fuzz(frame: Frame) -> None:
            message = frame.message
            handlers = VisitorConsumer.handlers
            answer = driver.run(driver.exchange(message, _pongs_expected(message, handlers)))
            _check_exchange(message, answer, handlers, VISITOR_SENDS)
            kind = json.loads(message["text"])["type"]
            if kind != "ping":
                codes = [f["code"] for f in answer.frames if f["type"] == "error"]
                assert codes == ["hello_required"], answer

        fuzz()
    finally:
        driver.run(driver.close())


def test_operator_frames(
    runner: asyncio.Runner,
    chat_open: Any,
    operator: User,
    other_operator: User,
    operator_client: Any,
    make_active_conversation: Any,
    make_ended_conversation: Any,
    make_conversation: Any,
) -> None:
    active, token = make_active_conversation(operator)
    ended, _ = make_ended_conversation(operator)
    colleagues, _ = make_active_conversation(other_operator)
    queued, _ = make_conversation()
    driver = Driver(runner, lambda: _operator_socket(operator_client))
    fields = _operator_fields([active.pk, ended.pk, colleagues.pk, queued.pk])
    try:
        _fuzz(driver, OperatorConsumer.handlers, OPERATOR_SENDS, _kinds(fields))

        async def after() -> None:
            console = await driver.current()
            await console.send_json_to({"type": "ping"})
            await _next_of_type(console, "pong", lambda f: True)
            visitor = await _visitor_socket(active.pk, token)
            await _round_trip(visitor, console, active.pk)
            await visitor.disconnect(timeout=TIMEOUT)

        driver.run(after())
        assert driver.closes == []
    finally:
        driver.run(driver.close())


def test_visitor_end_with_junk_fields(
    runner: asyncio.Runner, chat_open: Any, operator: User, make_active_conversation: Any
) -> None:
    """``end`` (left out of the fuzzing above, where it would end the chat)
    ignores its fields; a second one is an error frame, not a crash."""
    conversation, token = make_active_conversation(operator)

    async def scenario() -> None:
        visitor = await _visitor_socket(conversation.pk, token)
        await visitor.send_json_to({"type": "end", "reason": {"x": [1, None]}, "client_id": 5})
        changed = await _next_of_type(visitor, "conversation", lambda f: True)
        assert changed["conversation"]["status"] == "ended"
        await visitor.send_json_to({"type": "end", "client_id": "again"})
        await visitor.send_json_to({"type": "ping"})
        frames = []
        while (frame := await _frame(visitor))["type"] != "pong":
            frames.append(frame)
        for frame in frames:
            assert frame["type"] in VISITOR_SENDS, frame
            if frame["type"] == "error":
                _check_error_frame(frame)
                assert (frame["in_reply_to"], frame["client_id"]) == ("end", "again")
        await visitor.disconnect(timeout=TIMEOUT)

    runner.run(scenario())


# --- bugs the fuzzing found, fixed in e82621e: regression tests ----------------------
#
# Each of these crashed the consumer (the socket died, uvicorn closes 1011):
# BUG 3: deeply nested JSON: RecursionError in json.loads, and decode_json
#   caught only ValueError.
# BUG 1: a lone surrogate in a message body: UnicodeEncodeError in the
#   encryption of the body (text_check let category Cs through).
# BUG 4: a lone surrogate in the hello token: UnicodeEncodeError in
#   models.hash_token (token.encode()).
# BUG 6: an empty text frame: Channels' AsyncJsonWebsocketConsumer.receive
#   raises ValueError for a falsy text, and receive checked only for None.
# And one that did not crash but broke docs/api.md:
# BUG 5: the 64 KiB limit counted characters, so 40,000 "€" (120 KB) passed.


async def _answer_to(socket: WebsocketCommunicator, text: str) -> dict[str, Any]:
    """The first frame the consumer answers ``text`` with; a crash re-raises here."""
    await socket.send_to(text)
    return await _frame(socket)


@pytest.mark.parametrize("side", ["visitor", "operator"])
def test_deeply_nested_json_is_an_invalid_frame(
    runner: asyncio.Runner, chat_open: Any, operator_client: Any, side: str
) -> None:
    async def scenario() -> None:
        if side == "visitor":
            socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
            assert (await socket.connect(timeout=TIMEOUT))[0]
        else:
            socket = await _operator_socket(operator_client)
        nested = "[" * 30_000 + "]" * 30_000  # 60,000 characters: under the frame limit
        error = await _answer_to(socket, nested)
        assert (error["type"], error["code"]) == ("error", "invalid_frame")
        await socket.disconnect(timeout=TIMEOUT)

    runner.run(scenario())


@pytest.mark.parametrize("side", ["visitor", "operator"])
def test_a_lone_surrogate_in_a_message_is_an_error_frame(
    runner: asyncio.Runner,
    chat_open: Any,
    operator: User,
    operator_client: Any,
    make_active_conversation: Any,
    side: str,
) -> None:
    conversation, token = make_active_conversation(operator)

    async def scenario() -> None:
        if side == "visitor":
            socket = await _visitor_socket(conversation.pk, token)
            frame = {"type": "message.send", "client_id": "s", "body": "Hoi \ud800"}
        else:
            socket = await _operator_socket(operator_client)
            frame = {
                "type": "message.send",
                "conversation_id": conversation.pk,
                "client_id": "s",
                "body": "Hoi \ud800",
            }
        error = await _answer_to(socket, json.dumps(frame))
        assert (error["type"], error["code"]) == ("error", "invalid_character")
        await socket.disconnect(timeout=TIMEOUT)

    runner.run(scenario())


def test_a_lone_surrogate_in_the_hello_token_is_refused(
    runner: asyncio.Runner, chat_open: Any, make_conversation: Any
) -> None:
    conversation, _token = make_conversation()

    async def scenario() -> None:
        socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
        assert (await socket.connect(timeout=TIMEOUT))[0]
        hello = {"type": "hello", "conversation_id": conversation.pk, "token": "a\ud800"}
        error = await _answer_to(socket, json.dumps(hello))
        assert (error["type"], error["code"]) == ("error", "not_found")
        assert (await _output(socket))["code"] == 4404

    runner.run(scenario())


def test_the_frame_limit_is_in_bytes(runner: asyncio.Runner, chat_open: Any) -> None:
    async def scenario() -> None:
        socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
        assert (await socket.connect(timeout=TIMEOUT))[0]
        text = json.dumps({"type": "ping", "pad": "€" * 40_000}, ensure_ascii=False)
        assert len(text) < MAX_FRAME_BYTES < len(text.encode())
        answer = await _answer_to(socket, text)
        assert (answer["type"], answer.get("code")) == ("error", "frame_too_large")
        await socket.disconnect(timeout=TIMEOUT)

    runner.run(scenario())


@pytest.mark.parametrize("side", ["visitor", "operator"])
def test_an_empty_text_frame_is_an_invalid_frame(
    runner: asyncio.Runner, chat_open: Any, operator_client: Any, side: str
) -> None:
    async def scenario() -> None:
        if side == "visitor":
            socket = WebsocketCommunicator(application, "/ws/v1/visitor/", headers=[ORIGIN])
            assert (await socket.connect(timeout=TIMEOUT))[0]
        else:
            socket = await _operator_socket(operator_client)
        error = await _answer_to(socket, "")
        assert (error["type"], error["code"]) == ("error", "invalid_frame")
        await socket.disconnect(timeout=TIMEOUT)

    runner.run(scenario())
