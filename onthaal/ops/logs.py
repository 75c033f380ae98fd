"""JSON-lines logs (``ONTHAAL_LOG_FORMAT=json``).

One JSON object per line: time, level, logger, an ``event`` name, the
formatted message, and only the extra fields named in :data:`SAFE_FIELDS`
(ids, reasons, counts). Whatever else a caller passes in ``extra=`` (a
request object, a message) is left out, so that a log line can never carry a
message text or anything that identifies a visitor. Onthaal's own log calls
name ids and reasons only (never a body); this list is the second line of
defence.

Imported by the logging configuration before Django's apps are loaded, so it
imports nothing from Django.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

SAFE_FIELDS = frozenset(
    {
        "event",
        "conversation_id",
        "operator_id",
        "message_id",
        "reason",
        "status",
        "count",
        "side",
        "duration_ms",
    }
)


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "event", None)
        if not isinstance(event, str) or not event:
            # Without an explicit event name the unformatted message is one:
            # "conversation %s ended: %s" is the same string for every chat.
            event = str(record.msg)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "event": event,
            "message": record.getMessage(),
        }
        for name in SAFE_FIELDS - {"event"}:
            value = getattr(record, name, None)
            if isinstance(value, str | int | float | bool):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
