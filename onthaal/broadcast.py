"""Channel-layer sends that wait for the database commit.

Only services broadcast, and only after commit, so a client never sees a
change that the database then rolled back.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("onthaal.broadcast")


def broadcast_on_commit(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to ``group`` once the surrounding transaction commits."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, payload)
        except Exception:
            # A lost broadcast is repaired by the client's resume ("everything
            # after id N"); it must never undo a committed write.
            logger.exception("broadcast to %s failed", group)

    transaction.on_commit(send)
