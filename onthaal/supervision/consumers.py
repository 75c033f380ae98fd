"""``/ws/v1/overview/``: the coordinator's live overview, and the live chat
they read along in.

On connect, and again after anything the overview shows has changed (the
queue, a console opening or closing, a chat accepted, ended, transferred),
the socket sends a fresh ``overview`` frame, at most one per
``THROTTLE_SECONDS``. Frames are documented in docs/api.md.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.db import database_sync_to_async
from django.utils.translation import gettext as _

from onthaal.chat import events
from onthaal.chat.consumers import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_AUTHENTICATED,
    _BaseConsumer,
    _conversation_bundle,
    _int_field,
    _str_field,
)
from onthaal.errors import InvalidInput, ServiceError
from onthaal.staff.models import User
from onthaal.supervision import selectors, services

THROTTLE_SECONDS = 1.0


def _read_along_bundle(user: User, conversation_id: int) -> dict[str, Any]:
    conversation = services.read_along_start(conversation_id=conversation_id, coordinator=user)
    bundle = _conversation_bundle(conversation, 0)
    bundle["notes"] = selectors.staff_notes(conversation=conversation)
    bundle["readers"] = selectors.readers_of(conversation_id=conversation.pk)
    return bundle


class OverviewConsumer(_BaseConsumer):
    """One overview page of a coordinator or administrator."""

    handlers = {
        "ping": "on_ping",
        "read_along.start": "on_read_along_start",
        "read_along.stop": "on_read_along_stop",
        "whisper.send": "on_whisper_send",
        "take_over": "on_take_over",
        "transfer": "on_transfer",
    }

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if not user.is_coordinator or not user.can_chat:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user: User = user
        self.reading: set[int] = set()
        self._refresh: asyncio.Task[None] | None = None
        self._last_sent = 0.0
        await self.accept()
        for group in (events.OVERVIEW_GROUP, events.QUEUE_GROUP, events.SUPPORT_GROUP):
            await self.channel_layer.group_add(group, self.channel_name)
        await self._send_overview()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        if self._refresh is not None:
            self._refresh.cancel()
        for group in (events.OVERVIEW_GROUP, events.QUEUE_GROUP, events.SUPPORT_GROUP):
            await self.channel_layer.group_discard(group, self.channel_name)
        for conversation_id in list(self.reading):
            await self._leave(conversation_id)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Whatever else arrives on the groups this socket follows (a new kind
        # of queue event, say) may change the overview: refresh it rather
        # than fail for want of a handler.
        handler = message["type"].replace(".", "_")
        if not message["type"].startswith("websocket.") and not hasattr(self, handler):
            self._schedule()
            return
        await super().dispatch(message)

    # --- the overview --------------------------------------------------------------

    async def _send_overview(self) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        try:
            data = await database_sync_to_async(selectors.overview)(viewer=self.user)
        except ServiceError as exc:
            await self._error(exc)
            return
        await self.send_json({"type": "overview", "overview": data})

    def _schedule(self) -> None:
        """Send a fresh overview soon, at most one per THROTTLE_SECONDS."""
        if self._refresh is not None and not self._refresh.done():
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last_sent + THROTTLE_SECONDS - loop.time())

        async def later() -> None:
            await asyncio.sleep(delay)
            await self._send_overview()

        self._refresh = asyncio.ensure_future(later())

    async def overview_changed(self, event: dict[str, Any]) -> None:
        self._schedule()

    async def queue_changed(self, event: dict[str, Any]) -> None:
        self._schedule()

    async def support_requested(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "support.requested", "support": event["support"]})
        self._schedule()

    async def on_ping(self, content: dict[str, Any]) -> None:
        # Presence expires without an event (a process died): the page's
        # ping every 20 s also refreshes the overview.
        self._schedule()
        await self.send_json({"type": "pong"})

    # --- reading along ---------------------------------------------------------------

    def _conversation_id(self, content: dict[str, Any]) -> int:
        value = _int_field(content, "conversation_id")
        assert value is not None
        return value

    async def on_read_along_start(self, content: dict[str, Any]) -> None:
        conversation_id = self._conversation_id(content)
        # Join first, then read: a message stored in between arrives twice
        # (the page drops the copy by id) rather than never.
        await self.channel_layer.group_add(
            events.conversation_group(conversation_id), self.channel_name
        )
        await self.channel_layer.group_add(
            events.staff_conversation_group(conversation_id), self.channel_name
        )
        try:
            bundle = await database_sync_to_async(_read_along_bundle)(self.user, conversation_id)
        except ServiceError:
            if conversation_id not in self.reading:
                await self.channel_layer.group_discard(
                    events.conversation_group(conversation_id), self.channel_name
                )
                await self.channel_layer.group_discard(
                    events.staff_conversation_group(conversation_id), self.channel_name
                )
            raise
        self.reading.add(conversation_id)
        await self.send_json({"type": "read_along", **bundle})

    async def _leave(self, conversation_id: int) -> None:
        self.reading.discard(conversation_id)
        await self.channel_layer.group_discard(
            events.conversation_group(conversation_id), self.channel_name
        )
        await self.channel_layer.group_discard(
            events.staff_conversation_group(conversation_id), self.channel_name
        )
        await database_sync_to_async(services.read_along_stop)(
            conversation_id=conversation_id, coordinator=self.user
        )

    async def on_read_along_stop(self, content: dict[str, Any]) -> None:
        conversation_id = self._conversation_id(content)
        if conversation_id in self.reading:
            await self._leave(conversation_id)
        await self.send_json({"type": "read_along.stopped", "conversation_id": conversation_id})

    async def on_whisper_send(self, content: dict[str, Any]) -> None:
        conversation_id = self._conversation_id(content)
        note = await database_sync_to_async(services.whisper_post)(
            conversation_id=conversation_id, author=self.user, body=_str_field(content, "body")
        )
        if conversation_id not in self.reading:
            # Not following the chat: the echo would not come back on a group.
            frame = await database_sync_to_async(selectors.note_frame)(note)
            await self.send_json({"type": "whisper", "whisper": frame})

    async def on_take_over(self, content: dict[str, Any]) -> None:
        conversation_id = self._conversation_id(content)
        await database_sync_to_async(services.conversation_take_over)(
            conversation_id=conversation_id,
            coordinator=self.user,
            from_operator_id=_int_field(content, "from_operator_id", required=False),
        )
        if conversation_id in self.reading:
            await self._leave(conversation_id)
        await self.send_json({"type": "take_over.ack", "conversation_id": conversation_id})

    async def on_transfer(self, content: dict[str, Any]) -> None:
        conversation_id = self._conversation_id(content)
        to_operator_id = _int_field(content, "operator_id")
        assert to_operator_id is not None
        note = content.get("note", "")
        if not isinstance(note, str):
            raise InvalidInput(_("Een notitie is tekst."), code="invalid_frame")
        await database_sync_to_async(services.conversation_transfer)(
            conversation_id=conversation_id,
            actor=self.user,
            to_operator_id=to_operator_id,
            note=note,
        )
        await self.send_json({"type": "transfer.ack", "conversation_id": conversation_id})

    # --- the chat being read -------------------------------------------------------

    async def conversation_changed(self, event: dict[str, Any]) -> None:
        conversation_id = event["conversation_id"]
        if conversation_id in self.reading:
            try:
                conversation = await database_sync_to_async(
                    selectors.conversation_get_for_supervisor
                )(user=self.user, conversation_id=conversation_id)
            except ServiceError:
                return
            frame = await database_sync_to_async(_conversation_bundle)(conversation, None)
            await self.send_json({"type": "conversation", **frame})
        self._schedule()

    async def whisper_new(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "whisper", "whisper": event["whisper"]})

    async def supervision_readers(self, event: dict[str, Any]) -> None:
        readers = await database_sync_to_async(selectors.readers_of)(
            conversation_id=event["conversation_id"]
        )
        await self.send_json(
            {"type": "readers", "conversation_id": event["conversation_id"], "readers": readers}
        )

    async def supervision_support(self, event: dict[str, Any]) -> None:
        self._schedule()

    async def typing(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "typing", "typing": event["typing"]})

    async def conversation_assigned(self, event: dict[str, Any]) -> None:
        self._schedule()

    async def conversation_released(self, event: dict[str, Any]) -> None:
        self._schedule()
