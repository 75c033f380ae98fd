"""Operations: readiness, Prometheus metrics and structured logs.

- ``views``: ``/readyz`` and ``/metrics`` (docs/operations.md, "Readiness and metrics").
- ``metrics``: the metrics themselves, and the small hooks the websocket
  consumers call (sockets opened/closed, a message delivered).
- ``logs``: the JSON-lines log formatter (``ONTHAAL_LOG_FORMAT=json``).

Nothing here writes the helpline's data; it only observes it.
"""
