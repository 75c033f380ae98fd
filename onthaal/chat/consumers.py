"""The two websocket endpoints: the visitor's and the operator console's.

Consumers stay thin: they validate a frame, call a service or selector through
``database_sync_to_async``, and map channel-layer events to frames. The frames
are documented in docs/api.md.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper
from django.utils.translation import gettext as _

from onthaal.assignment.consumers import HANDLERS as offer_handlers
from onthaal.assignment.consumers import OfferConsumerMixin, offers_snapshot
from onthaal.audit.services import audit_transcript_opened
from onthaal.chat import events, selectors, services
from onthaal.chat.models import Conversation, EndReason, Sender, Status
from onthaal.errors import InvalidInput, ServiceError
from onthaal.ops import metrics as ops_metrics
from onthaal.ops.dbcalls import database_sync_to_async  # a few threads on PostgreSQL
from onthaal.ratelimit import LocalRateLimit
from onthaal.staff.models import User
from onthaal.supervision import selectors as supervision_selectors
from onthaal.supervision import services as supervision

logger = logging.getLogger("onthaal.chat")

# Close codes (4000–4999 are ours): documented in docs/api.md.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
MAX_FRAME_BYTES = 64 * 1024
# Message ids a socket remembers having forwarded (see message_new).
FORWARDED_IDS_KEPT = 256

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def _int_field(content: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = content.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**62:
        raise InvalidInput(
            _("Het veld %(name)s moet een positief geheel getal zijn.") % {"name": name},
            code="invalid_frame",
        )
    return value


def _str_field(content: dict[str, Any], name: str) -> str:
    value = content.get(name)
    if not isinstance(value, str):
        raise InvalidInput(
            _("Het veld %(name)s ontbreekt of is geen tekst.") % {"name": name},
            code="invalid_frame",
        )
    return value


# Pings: presence is written for all sockets of a process at once, every
# SEEN_FLUSH_SECONDS (one UPDATE instead of one per ping: 5,000 waiting
# visitors ping 250 times a second). Far below the reconnect grace and the
# consoles' presence timeout.
SEEN_FLUSH_SECONDS = 5.0


class _Batched:
    """Keys noted by many sockets, written by ``write`` in one call a few
    seconds later (one flusher task per event loop)."""

    def __init__(self, write: Callable[[list[Any]], None], what: str) -> None:
        self.write = write
        self.what = what
        self.pending: set[Any] = set()
        self._flushers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    def add(self, key: Any) -> None:
        self.pending.add(key)
        loop = asyncio.get_running_loop()
        flusher = self._flushers.get(loop)
        if flusher is None or flusher.done():
            for stale in [other for other in self._flushers if other.is_closed()]:
                del self._flushers[stale]
            self._flushers[loop] = loop.create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(SEEN_FLUSH_SECONDS)
        keys = list(self.pending)
        self.pending.clear()
        if not keys:
            return
        try:
            await database_sync_to_async(self.write)(keys)
        except Exception:
            logger.warning("writing %s %s failed", len(keys), self.what, exc_info=True)


_visitors_seen = _Batched(
    lambda ids: services.conversations_visitor_seen(conversation_ids=ids), "visitors' presence"
)
_consoles_seen = _Batched(
    lambda names: supervision.presences_touch(channel_names=names), "consoles' presence"
)


# Messages per conversation and side, counted in this process (no round trip
# per frame); the HTTP API counts the same limit in the cache.
message_rate = LocalRateLimit(limit_setting="ONTHAAL_RATE_MESSAGES_PER_MINUTE", window_seconds=60)


def _past_session_wrapper(send: Any) -> Any:
    """The server's ``send`` behind Channels' session middleware.

    The middleware wraps ``send`` to save a changed session when an HTTP
    response starts; a websocket sends none (a consumer saves a session
    itself), so its frames need not pass through the wrapper.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper):
        return wrapper.real_send
    return send


Inbox = asyncio.Queue[Any]


async def _dispatch_in_turn(
    sources: list[tuple[Callable[[], Awaitable[dict[str, Any]]], bool]],
    dispatch: Callable[[dict[str, Any]], Awaitable[None]],
    inbox: Inbox,
) -> None:
    """Hand the events of ``sources`` and ``inbox`` to ``dispatch`` one at a
    time until ``dispatch`` or a source raises.

    Channels' ``await_many_dispatch`` starts a new task and an
    ``asyncio.wait`` for every event (several per chat message per socket);
    here each source has one task for the socket's life. A source marked
    ``True`` (the client's frames) is dispatched by its own task as soon as
    it is read: the task the frame's arrival wakes runs its handler, with no
    queue and second task in between. It is read again only after that, as
    Channels does: the server stops reading a socket whose frames are not
    yet handled (uvicorn pauses the transport). A source marked ``False`` (a
    channel layer's ``receive``) is read on at once into ``inbox``: its
    events already wait in a queue, and its reader must always be inside
    ``receive`` when it is cancelled (the layer ends the channel's
    subscription there). Events put in ``inbox`` directly (by the Redis
    layer's reading task: see ``_LayerSink``) need no reader. The calling
    task dispatches ``inbox`` in its order. A lock gives the turns: one
    event at a time, first come first served. A source's task that ends (it
    raised) is put in ``inbox`` too, and its exception is raised there; no
    event is dispatched after it.
    """
    turn = asyncio.Lock()

    async def handle(event: dict[str, Any]) -> None:
        async with turn:
            await dispatch(event)

    async def dispatch_as_read(source: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        while True:
            await handle(await source())

    async def read_into_inbox(source: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        while True:
            inbox.put_nowait(await source())

    tasks = [
        asyncio.ensure_future(dispatch_as_read(source) if in_turn else read_into_inbox(source))
        for source, in_turn in sources
    ]
    for task in tasks:
        task.add_done_callback(inbox.put_nowait)
    try:
        while True:
            event = await inbox.get()
            async with turn:
                # A source's task that ended (a disconnect ends the frames'
                # with StopConsumer) ends the socket, before any event that
                # waited for this turn meanwhile.
                ended = (
                    event
                    if isinstance(event, asyncio.Future)
                    else next((task for task in tasks if task.done()), None)
                )
                if ended is not None:
                    ended.result()  # raises what ended it
                    raise RuntimeError("a consumer's source ended")
                await dispatch(event)
    finally:
        for task in tasks:
            task.remove_done_callback(inbox.put_nowait)
            task.cancel()
        for task in tasks:
            # What ended one was raised above already.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class _LayerSink:
    """A consumer's channel for the Redis layer (``new_channel_to``): the
    layer's reading task puts each event straight in the consumer's inbox
    (no reader task to wake), and leaves out, as it arrives, an event the
    consumer would drop anyway (``wanted``)."""

    __slots__ = ("inbox", "wanted")

    def __init__(self, inbox: Inbox, wanted: Callable[[dict[str, Any]], bool]) -> None:
        self.inbox = inbox
        self.wanted = wanted

    def put_nowait(self, event: dict[str, Any]) -> None:
        try:
            wanted = self.wanted(event)
        except Exception:  # a malformed event: its handler reports it
            wanted = True
        if wanted:
            self.inbox.put_nowait(event)


class _BaseConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Frame dispatch and error reporting shared by both endpoints."""

    handlers: dict[str, str] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # As Channels' AsyncConsumer.__call__, with _dispatch_in_turn in
        # place of its await_many_dispatch.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = _past_session_wrapper(send)
        sources = [(receive, True)]
        inbox: Inbox = asyncio.Queue()
        new_channel_to = getattr(self.channel_layer, "new_channel_to", None)
        if new_channel_to is not None:  # the Redis layer (onthaal/ops/channel_layer.py)
            self.channel_name = await new_channel_to(_LayerSink(inbox, self.wants))
        elif self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append((self.channel_receive, False))
        try:
            with contextlib.suppress(StopConsumer):
                await _dispatch_in_turn(sources, self.dispatch, inbox)
        finally:
            if new_channel_to is not None:
                await self.channel_layer.close_channel(self.channel_name)

    def wants(self, event: dict[str, Any]) -> bool:
        """Whether a channel-layer event arriving now may still concern this
        socket's client: False for a broadcast of what this socket itself
        sent (its message, already in its acknowledgement; its receipt),
        which its handler would drop after its turn in the inbox."""
        kind = event["type"]
        if kind == "message.new":
            return event["message"]["id"] not in self.__dict__.get("_forwarded", ())
        if kind == "receipt":
            return bool(event["receipt"] != self.own_receipt)
        return True

    async def send_json(self, content: Any, close: bool = False) -> None:
        # Straight to the server: Channels' send_json goes through three
        # more layers for every frame.
        await self.base_send({"type": "websocket.send", "text": json.dumps(content)})
        if close:
            await self.close(close)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not text_data:
            await self._error(
                InvalidInput(
                    _("Elk bericht is een JSON-object met een type."), code="invalid_frame"
                )
            )
            return
        # The limit is in bytes: a character may take up to four.
        if len(text_data) * 4 > MAX_FRAME_BYTES and (
            len(text_data.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
        ):
            await self._error(InvalidInput(_("Dit bericht is te groot."), code="frame_too_large"))
            return
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return await super().decode_json(text_data)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error(
                InvalidInput(
                    _("Elk bericht is een JSON-object met een type."), code="invalid_frame"
                )
            )
            return
        name = self.handlers.get(content["type"])
        if name is None:
            await self._error(
                InvalidInput(_("Onbekend berichttype."), code="unknown_type"), content
            )
            return
        try:
            await getattr(self, name)(content)
        except ServiceError as exc:
            await self._error(exc, content)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale database connections, in the
        # database thread, for every frame and every channel-layer event,
        # even those that never touch the database: under load that hop was
        # a queue of its own behind the database calls. Every database call
        # of these consumers goes through database_sync_to_async, which does
        # the same check around the call.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _error(self, exc: ServiceError, content: dict[str, Any] | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", **exc.as_dict()}
        if content is not None:
            frame["in_reply_to"] = content.get("type")
            if isinstance(content.get("client_id"), str):
                frame["client_id"] = content["client_id"]
        await self.send_json(frame)

    # Channel-layer events common to both sides.

    def _first_time(self, message_id: int) -> bool:
        """Whether this socket has not yet given its client message
        ``message_id`` (and from now on, it has)."""
        forwarded: dict[int, None] = self.__dict__.setdefault("_forwarded", {})
        if message_id in forwarded:
            return False
        forwarded[message_id] = None
        if len(forwarded) > FORWARDED_IDS_KEPT:
            del forwarded[next(iter(forwarded))]
        return True

    async def _acknowledge(self, client_id: str, frame: dict[str, Any]) -> None:
        # The ack carries the message: the broadcast's copy of it is not sent
        # back to this socket (the sender's other sockets still get it).
        self._first_time(frame["id"])
        await self.send_json({"type": "message.ack", "client_id": client_id, "message": frame})

    async def message_new(self, event: dict[str, Any]) -> None:
        # A resend re-broadcasts a stored message (its first broadcast may have
        # been lost in a crash): forward each id once per socket.
        if not self._first_time(event["message"]["id"]):
            return
        await self.send_json({"type": "message.new", "message": event["message"]})
        # Counted once written: the frame does not wait for the histogram.
        ops_metrics.message_delivered(self, event["message"])

    # The receipt this socket's own last receipt frame produced: its
    # broadcast tells this socket's client nothing new (other sockets of the
    # same side still get it).
    own_receipt: dict[str, int] | None = None

    async def receipt(self, event: dict[str, Any]) -> None:
        if event["receipt"] == self.own_receipt:
            return
        await self.send_json({"type": "receipt", "receipt": event["receipt"]})


class VisitorConsumer(_BaseConsumer):
    """``/ws/v1/visitor/``: one anonymous visitor, one conversation.

    The first frame must be ``hello`` with the conversation id and token (a
    token never travels in a URL, so that no proxy log holds it).
    """

    handlers = {
        "hello": "on_hello",
        "message.send": "on_message_send",
        "typing": "on_typing",
        "receipt": "on_receipt",
        "ping": "on_ping",
        "end": "on_end",
    }

    conversation_id: int | None = None
    # While waiting: the conversation's queue sort key (selectors.queue_key)
    # and the time of the queue state last shown.
    queue_key: list[int] | None = None
    queue_seen_at: float = 0.0
    conversation: Conversation | None = None

    async def connect(self) -> None:
        self.conversation_id = None
        self.token = ""
        await self.accept()
        ops_metrics.socket_opened(self, "visitor")

    async def disconnect(self, code: int) -> None:
        ops_metrics.socket_closed(self)
        if self.conversation_id is not None:
            _visitors_seen.pending.discard(self.conversation_id)  # written now
            await database_sync_to_async(services.conversation_visitor_seen)(
                conversation_id=self.conversation_id
            )
            await self.channel_layer.group_discard(
                events.conversation_group(self.conversation_id), self.channel_name
            )
            await self.channel_layer.group_discard(events.QUEUE_VISITORS_GROUP, self.channel_name)

    async def _conversation(self) -> Conversation:
        if self.conversation_id is None:
            raise InvalidInput(_("Stuur eerst hello."), code="hello_required")
        conversation: Conversation = await database_sync_to_async(
            selectors.conversation_get_for_visitor
        )(conversation_id=self.conversation_id, token=self.token)
        return conversation

    def _known_conversation(self) -> Conversation:
        """The conversation as read at ``hello`` or at its last change, without
        a query: for frames whose service re-reads it anyway (the token was
        checked at ``hello`` and cannot change)."""
        if self.conversation is None:
            raise InvalidInput(_("Stuur eerst hello."), code="hello_required")
        return self.conversation

    async def on_hello(self, content: dict[str, Any]) -> None:
        conversation_id = _int_field(content, "conversation_id")
        token = _str_field(content, "token")
        after = _int_field(content, "after", required=False) or 0
        assert conversation_id is not None
        try:
            conversation = await database_sync_to_async(selectors.conversation_get_for_visitor)(
                conversation_id=conversation_id, token=token
            )
        except ServiceError as exc:
            await self._error(exc, content)
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if self.conversation_id is None:
            self.conversation_id = conversation.pk
            self.token = token
            await self.channel_layer.group_add(
                events.conversation_group(conversation.pk), self.channel_name
            )
        if conversation.pk == self.conversation_id:
            self.conversation = conversation
        # Before the snapshot's read: a queue broadcast read earlier is older.
        self.queue_seen_at = time.time()
        await self._follow_queue(conversation)
        await database_sync_to_async(services.conversation_visitor_seen)(
            conversation_id=conversation.pk
        )
        snapshot = await database_sync_to_async(selectors.visitor_snapshot)(
            conversation=conversation, after_id=after
        )
        await self.send_json({"type": "welcome", **snapshot})

    async def on_message_send(self, content: dict[str, Any]) -> None:
        conversation = self._known_conversation()
        client_id = _str_field(content, "client_id")
        body = _str_field(content, "body")
        message_rate.hit(f"{conversation.pk}:{Sender.VISITOR}")
        frame = await services.message_post_async(
            conversation=conversation, sender=Sender.VISITOR, body=body, client_id=client_id
        )
        await self._acknowledge(client_id, frame)

    async def on_typing(self, content: dict[str, Any]) -> None:
        conversation = self._known_conversation()
        if conversation.status == Status.ACTIVE:
            await services.conversation_typing(
                conversation_id=conversation.pk,
                side=Sender.VISITOR,
                active=bool(content.get("active")),
            )

    async def on_receipt(self, content: dict[str, Any]) -> None:
        conversation = self._known_conversation()
        self.own_receipt = await services.conversation_receipt_async(
            conversation=conversation,
            side=Sender.VISITOR,
            delivered_id=_int_field(content, "delivered_id", required=False),
            read_id=_int_field(content, "read_id", required=False),
        )

    async def on_ping(self, content: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            _visitors_seen.add(self.conversation_id)
        await self.send_json({"type": "pong"})

    async def on_end(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation()
        await database_sync_to_async(services.conversation_end)(
            conversation=conversation, reason=EndReason.VISITOR_ENDED
        )

    # Channel-layer events.

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        try:
            conversation = await self._conversation()
        except ServiceError:
            return
        self.conversation = conversation
        await self._follow_queue(conversation)
        snapshot = await database_sync_to_async(selectors.visitor_snapshot)(
            conversation=conversation, after_id=2**62
        )
        await self.send_json(
            {
                "type": "conversation",
                "conversation": snapshot["conversation"],
                "queue": snapshot["queue"],
            }
        )

    async def _follow_queue(self, conversation: Conversation) -> None:
        """Be in the waiting visitors' group exactly while queued."""
        if conversation.status == Status.QUEUED and conversation.pk == self.conversation_id:
            if self.queue_key is None:
                await self.channel_layer.group_add(events.QUEUE_VISITORS_GROUP, self.channel_name)
            self.queue_key = selectors.queue_key(conversation)
        elif self.queue_key is not None:
            self.queue_key = None
            await self.channel_layer.group_discard(events.QUEUE_VISITORS_GROUP, self.channel_name)

    async def queue_positions(self, event: dict[str, Any]) -> None:
        """The queue changed: find our place in the broadcast sort keys (no
        query; services._queue_broadcast)."""
        key = self.queue_key
        if key is None or event["at"] < self.queue_seen_at:
            return
        self.queue_seen_at = event["at"]
        keys = event["keys"]
        index = bisect.bisect_left(keys, key)
        if index == len(keys) or list(keys[index]) != key:
            return  # no longer waiting: a "conversation" frame follows
        position = index + 1
        wait = selectors.wait_from_inputs(position=position, inputs=event["estimate"])
        await self.send_json(
            {"type": "queue", "queue": {"position": position, "estimated_wait_seconds": wait}}
        )

    async def typing(self, event: dict[str, Any]) -> None:
        if event["typing"]["side"] != Sender.VISITOR:
            await self.send_json({"type": "typing", "typing": event["typing"]})


class OperatorConsumer(OfferConsumerMixin, _BaseConsumer):
    """``/ws/v1/operator/``: one console of a signed-in staff member.

    Authentication is the Django session (which exists only after the second
    factor); the queue and every conversation assigned to the operator arrive
    on this one socket.
    """

    handlers = {
        "message.send": "on_message_send",
        "typing": "on_typing",
        "receipt": "on_receipt",
        "resume": "on_resume",
        "ping": "on_ping",
        # Supervision (onthaal.supervision): docs/api.md.
        "support.request": "on_support_request",
        "whisper.send": "on_whisper_send",
        "transfer": "on_transfer",
        # Automatic assignment (onthaal.assignment): docs/api.md.
        **offer_handlers,
    }

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if not user.can_chat:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user: User = user
        # The conversations this console follows, as last read (their access
        # checked then): their frames need no query to find them.
        self.joined: dict[int, Conversation] = {}
        await self.accept()
        ops_metrics.socket_opened(self, "operator")
        await self.channel_layer.group_add(events.QUEUE_GROUP, self.channel_name)
        await self.channel_layer.group_add(events.operator_group(user.pk), self.channel_name)
        if user.is_coordinator:
            await self.channel_layer.group_add(events.SUPPORT_GROUP, self.channel_name)
        await database_sync_to_async(supervision.presence_open)(
            user=user, channel_name=self.channel_name
        )
        snapshot, followed = await database_sync_to_async(_operator_snapshot)(self.user)
        for conversation in followed:
            await self._join(conversation)
        await self.send_json({"type": "snapshot", **snapshot})

    async def disconnect(self, code: int) -> None:
        ops_metrics.socket_closed(self)
        if not hasattr(self, "user"):
            return
        await self.channel_layer.group_discard(events.QUEUE_GROUP, self.channel_name)
        await self.channel_layer.group_discard(
            events.operator_group(self.user.pk), self.channel_name
        )
        await self.channel_layer.group_discard(events.SUPPORT_GROUP, self.channel_name)
        await database_sync_to_async(supervision.presence_close)(channel_name=self.channel_name)
        for conversation_id in self.joined:
            await self.channel_layer.group_discard(
                events.conversation_group(conversation_id), self.channel_name
            )
            await self.channel_layer.group_discard(
                events.staff_conversation_group(conversation_id), self.channel_name
            )

    async def _join(self, conversation: Conversation) -> None:
        followed = conversation.pk in self.joined
        self.joined[conversation.pk] = conversation
        if not followed:
            await self.channel_layer.group_add(
                events.conversation_group(conversation.pk), self.channel_name
            )
            await self.channel_layer.group_add(
                events.staff_conversation_group(conversation.pk), self.channel_name
            )

    async def _followed(self, content: dict[str, Any]) -> Conversation:
        """The conversation of a chat frame: as last read when this console
        follows it (it is re-read on every change and dropped on a transfer;
        the services re-check what they write), else read and checked now."""
        conversation_id = _int_field(content, "conversation_id")
        known = self.joined.get(conversation_id)  # type: ignore[arg-type]
        return known if known is not None else await self._conversation(content)

    async def _conversation(self, content: dict[str, Any]) -> Conversation:
        conversation_id = _int_field(content, "conversation_id")
        assert conversation_id is not None
        conversation: Conversation = await database_sync_to_async(
            selectors.conversation_get_for_staff
        )(user=self.user, conversation_id=conversation_id)
        return conversation

    async def on_message_send(self, content: dict[str, Any]) -> None:
        conversation = await self._followed(content)
        client_id = _str_field(content, "client_id")
        body = _str_field(content, "body")
        message_rate.hit(f"{conversation.pk}:{Sender.OPERATOR}")
        frame = await services.message_post_async(
            conversation=conversation,
            sender=Sender.OPERATOR,
            author=self.user,
            body=body,
            client_id=client_id,
        )
        await self._acknowledge(client_id, frame)

    async def on_typing(self, content: dict[str, Any]) -> None:
        conversation = await self._followed(content)
        if conversation.status == Status.ACTIVE and conversation.operator_id == self.user.pk:
            await services.conversation_typing(
                conversation_id=conversation.pk,
                side=Sender.OPERATOR,
                active=bool(content.get("active")),
            )

    async def on_receipt(self, content: dict[str, Any]) -> None:
        conversation = await self._followed(content)
        if conversation.operator_id != self.user.pk:
            return  # a coordinator reading along does not mark messages read
        self.own_receipt = await services.conversation_receipt_async(
            conversation=conversation,
            side=Sender.OPERATOR,
            operator=self.user,
            delivered_id=_int_field(content, "delivered_id", required=False),
            read_id=_int_field(content, "read_id", required=False),
        )

    async def on_resume(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        after = _int_field(content, "after", required=False) or 0
        await database_sync_to_async(audit_transcript_opened)(
            user=self.user, conversation_id=conversation.pk, operator_id=conversation.operator_id
        )
        frame = await database_sync_to_async(_conversation_bundle)(conversation, after)
        await self._join(conversation)
        await self.send_json({"type": "conversation", **frame})

    async def on_ping(self, content: dict[str, Any]) -> None:
        _consoles_seen.add(self.channel_name)
        await self.send_json({"type": "pong"})

    async def on_support_request(self, content: dict[str, Any]) -> None:
        conversation_id = _int_field(content, "conversation_id")
        assert conversation_id is not None
        await database_sync_to_async(supervision.support_request)(
            conversation_id=conversation_id, operator=self.user
        )
        await self.send_json({"type": "support.ack", "conversation_id": conversation_id})

    async def on_whisper_send(self, content: dict[str, Any]) -> None:
        conversation_id = _int_field(content, "conversation_id")
        assert conversation_id is not None
        await database_sync_to_async(supervision.whisper_post)(
            conversation_id=conversation_id, author=self.user, body=_str_field(content, "body")
        )

    async def on_transfer(self, content: dict[str, Any]) -> None:
        conversation_id = _int_field(content, "conversation_id")
        to_operator_id = _int_field(content, "operator_id")
        assert conversation_id is not None and to_operator_id is not None
        note = content.get("note", "")
        await database_sync_to_async(supervision.conversation_transfer)(
            conversation_id=conversation_id,
            actor=self.user,
            to_operator_id=to_operator_id,
            note=note if isinstance(note, str) else "",
        )
        await self.send_json({"type": "transfer.ack", "conversation_id": conversation_id})

    # Channel-layer events of supervision.

    async def conversation_released(self, event: dict[str, Any]) -> None:
        """The chat went to a colleague (a transfer or a takeover): stop
        following it, and tell the console."""
        conversation_id = event["conversation_id"]
        self.joined.pop(conversation_id, None)
        await self.channel_layer.group_discard(
            events.conversation_group(conversation_id), self.channel_name
        )
        await self.channel_layer.group_discard(
            events.staff_conversation_group(conversation_id), self.channel_name
        )
        await self.send_json(
            {
                "type": "conversation.released",
                "conversation_id": conversation_id,
                "kind": event["kind"],
                "to_pseudonym": event["to_pseudonym"],
            }
        )

    async def whisper_new(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "whisper", "whisper": event["whisper"]})

    async def supervision_readers(self, event: dict[str, Any]) -> None:
        readers = await database_sync_to_async(supervision_selectors.readers_of)(
            conversation_id=event["conversation_id"]
        )
        await self.send_json(
            {"type": "readers", "conversation_id": event["conversation_id"], "readers": readers}
        )

    async def supervision_support(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "support.pending", "conversation_id": event["conversation_id"]}
        )

    async def support_requested(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "support.requested", "support": event["support"]})

    # Channel-layer events.

    async def queue_changed(self, event: dict[str, Any]) -> None:
        # The service read the queue once for every console (queue_announce).
        if "queue" in event:
            queue, total = event["queue"], event["queue_total"]
        else:
            queue, total = await database_sync_to_async(_queue_list)()
        await self.send_json({"type": "queue", "queue": queue, "queue_total": total})

    async def conversation_assigned(self, event: dict[str, Any]) -> None:
        await self._send_conversation(event["conversation_id"], with_messages=True)

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        await self._send_conversation(event["conversation_id"], with_messages=False)

    async def _send_conversation(self, conversation_id: int, *, with_messages: bool) -> None:
        try:
            conversation = await database_sync_to_async(selectors.conversation_get_for_staff)(
                user=self.user, conversation_id=conversation_id
            )
        except ServiceError:
            return
        await self._join(conversation)
        frame = await database_sync_to_async(_conversation_bundle)(
            conversation, 0 if with_messages else None
        )
        await self.send_json({"type": "conversation", **frame})

    async def typing(self, event: dict[str, Any]) -> None:
        if event["typing"]["side"] != Sender.OPERATOR:
            await self.send_json({"type": "typing", "typing": event["typing"]})


def _conversation_bundle(conversation: Conversation, after: int | None) -> dict[str, Any]:
    """A conversation as the console shows it, with messages after ``after``
    (none when ``after`` is None)."""
    bundle: dict[str, Any] = {"conversation": events.conversation_frame_for_staff(conversation)}
    if after is not None:
        bundle["messages"] = [
            events.message_frame(m)
            for m in selectors.messages_after(conversation=conversation, after_id=after)
        ]
    return bundle


def _queue_list() -> tuple[list[dict[str, Any]], int]:
    """The first QUEUE_LIST_LIMIT waiting visitors, and how many wait."""
    entries = selectors.queue_entries(limit=events.QUEUE_LIST_LIMIT)
    if len(entries) < events.QUEUE_LIST_LIMIT:
        return entries, len(entries)
    return entries, Conversation.objects.filter(status=Status.QUEUED).count()


def _operator_snapshot(user: User) -> tuple[dict[str, Any], list[Conversation]]:
    """The console's first frame, and the conversations it follows."""
    queue, queue_total = _queue_list()
    followed = list(selectors.operator_active_conversations(operator=user))
    snapshot = {
        "operator": {
            "id": user.pk,
            "pseudonym": user.pseudonym,
            "availability": user.availability,
            "max_chats": user.chat_limit,
        },
        "queue": queue,
        "queue_total": queue_total,
        "conversations": [_conversation_bundle(c, 0) for c in followed],
        "todo": [
            events.conversation_frame_for_staff(c) for c in selectors.operator_todo(operator=user)
        ],
        "offers": offers_snapshot(user),
    }
    return snapshot, followed
