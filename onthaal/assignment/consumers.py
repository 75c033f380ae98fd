"""The operator console's side of automatic assignment, mixed into
``chat.consumers.OperatorConsumer``: the ``offer.accept`` and
``offer.decline`` actions and the ``offer`` / ``offer.closed`` frames
(docs/api.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.assignment import selectors, services
from onthaal.errors import InvalidInput
from onthaal.staff.models import User

HANDLERS = {
    "offer.accept": "on_offer_accept",
    "offer.decline": "on_offer_decline",
}


def _offer_id(content: dict[str, Any]) -> int:
    value = content.get("offer_id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**62:
        raise InvalidInput(
            _("Het veld %(name)s moet een positief geheel getal zijn.") % {"name": "offer_id"},
            code="invalid_frame",
        )
    return value


def offers_snapshot(user: User) -> list[dict[str, Any]]:
    """The operator's open offers, for the console's snapshot on (re)connect."""
    return [
        selectors.offer_frame(offer)
        for offer in selectors.offers_for_operator(operator=user, now=timezone.now())
    ]


class OfferConsumerMixin:
    """Needs ``self.user`` and ``send_json`` (the operator consumer's)."""

    user: User

    if TYPE_CHECKING:

        async def send_json(self, content: Any, close: bool = False) -> None: ...

    async def on_offer_accept(self, content: dict[str, Any]) -> None:
        # The chat arrives as a ``conversation`` frame (conversation.assigned).
        await database_sync_to_async(services.offer_accept)(
            offer_id=_offer_id(content), operator=self.user
        )

    async def on_offer_decline(self, content: dict[str, Any]) -> None:
        await database_sync_to_async(services.offer_decline)(
            offer_id=_offer_id(content), operator=self.user
        )

    # Channel-layer events (sent to the operator's own group).

    async def offer_new(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "offer", "offer": event["offer"]})

    async def offer_closed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "offer.closed", "offer": event["offer"]})
