"""Prometheus metrics of one server process.

Two kinds, on one registry (:data:`REGISTRY`, served at ``/metrics``):

- **Per process**, kept in memory and reset when the process restarts: open
  websockets by side, the message-delivery latency, chats started and ended.
  Prometheus scrapes every ``onthaal serve`` process on its own port and adds
  an ``instance`` label; ``sum()`` over instances gives the whole site.
- **Site-wide, from the database**, computed at scrape time by
  :class:`HelplineCollector` with one aggregate query per table: queue
  length, longest wait, active chats, available operators. Every process
  reports the same values; use ``max()`` over instances, not ``sum()``.

The consumers call :func:`socket_opened`, :func:`socket_closed` and
:func:`message_delivered`; nothing else in the app needs to know about
Prometheus.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger("onthaal.ops")

REGISTRY = CollectorRegistry()
# The standard process metrics (resident memory, CPU seconds, open file
# descriptors) and the Python runtime's, as the default registry has them.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

SIDES = ("visitor", "operator")

OPEN_SOCKETS = Gauge(
    "onthaal_open_sockets",
    "Websockets open in this process, by side.",
    ["side"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "onthaal_message_delivery_seconds",
    "From a message's creation (stored) to the moment this process sends it "
    "to the other side's socket, by receiving side.",
    ["to"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
CHATS_STARTED = Counter(
    "onthaal_chats_started",
    "Chats accepted by an operator (committed by this process).",
    registry=REGISTRY,
)
CHATS_ENDED = Counter(
    "onthaal_chats_ended",
    "Chats ended (committed by this process), by end reason.",
    ["reason"],
    registry=REGISTRY,
)
for _side in SIDES:
    OPEN_SOCKETS.labels(side=_side)
    DELIVERY_SECONDS.labels(to=_side)

# The side of every open socket of this process, so that a close counts only
# a socket that was counted open (a refused operator socket never was).
_open_sockets: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def socket_opened(consumer: object, side: str) -> None:
    """A websocket of ``side`` ("visitor" or "operator") was accepted."""
    if consumer not in _open_sockets:
        _open_sockets[consumer] = side
        OPEN_SOCKETS.labels(side=side).inc()


def socket_closed(consumer: object) -> None:
    """A websocket closed; a no-op for one that was never counted open."""
    side = _open_sockets.pop(consumer, None)
    if side is not None:
        OPEN_SOCKETS.labels(side=side).dec()


def message_delivered(consumer: object, message: dict[str, Any]) -> None:
    """``consumer`` is sending ``message`` (a message frame) to its client now.

    Only deliveries to the other side count: the sender's own consoles and
    pages get their message back too, but that is an echo, not a delivery.
    """
    side = _open_sockets.get(consumer)
    if side is None or message.get("sender") == side:
        return
    try:
        created = datetime.fromisoformat(str(message["created_at"]))
    except (KeyError, ValueError):
        return
    seconds = (timezone.now() - created).total_seconds()
    DELIVERY_SECONDS.labels(to=side).observe(max(0.0, seconds))


def _conversation_event_saved(
    sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """Count chats started and ended from the event row each transition writes.

    Why a signal, against the house rule: counting is observation, not a
    rule of the state machine, and this way every transition is counted,
    whichever service, process or sweeper made it, without the services
    knowing about Prometheus. Counted after commit, so a rolled-back
    transition is not counted.
    """
    if not created or raw:
        return
    kind = str(instance.kind)
    if kind == "accepted":
        transaction.on_commit(CHATS_STARTED.inc)
    elif kind == "ended":
        reason = str((instance.data or {}).get("reason", "")) or "unknown"
        transaction.on_commit(CHATS_ENDED.labels(reason=reason).inc)


post_save.connect(
    _conversation_event_saved,
    sender="chat.ConversationEvent",
    dispatch_uid="onthaal.ops.metrics.conversation_event_saved",
)


class HelplineCollector:
    """Site-wide gauges read from the database at scrape time.

    Two cheap aggregate queries: one over the queued and active
    conversations (the ``status, queued_at`` index), one count of available
    operators. If the database does not answer, ``onthaal_database_up`` is 0
    and the other gauges are left out rather than reported as zero.
    """

    def collect(self) -> Iterator[Metric]:
        from django.db.models import Count, Min, Q

        from onthaal.chat.models import Conversation, Status
        from onthaal.staff.models import Availability, User

        up = GaugeMetricFamily(
            "onthaal_database_up", "1 when the database answered this scrape's queries."
        )
        try:
            row = Conversation.objects.filter(status__in=[Status.QUEUED, Status.ACTIVE]).aggregate(
                queued=Count("pk", filter=Q(status=Status.QUEUED)),
                active=Count("pk", filter=Q(status=Status.ACTIVE)),
                oldest=Min("queued_at", filter=Q(status=Status.QUEUED)),
            )
            available = User.objects.filter(
                is_active=True, availability=Availability.AVAILABLE
            ).count()
        except Exception:
            logger.warning("metrics: database query failed", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = timezone.now()
        oldest = row["oldest"]
        yield GaugeMetricFamily(
            "onthaal_queue_length", "Visitors waiting in the queue now.", value=row["queued"]
        )
        yield GaugeMetricFamily(
            "onthaal_queue_longest_wait_seconds",
            "How long the longest-waiting visitor has waited (0 when nobody waits).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "onthaal_active_chats", "Conversations active now.", value=row["active"]
        )
        yield GaugeMetricFamily(
            "onthaal_operators_available",
            "Staff accounts set to available now.",
            value=available,
        )


REGISTRY.register(HelplineCollector())
