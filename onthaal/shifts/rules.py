"""The rules of a shift block, as pure functions (no database).

- A block lasts 2.5 to 3 hours (``MIN_BLOCK`` … ``MAX_BLOCK``, both
  inclusive), measured as elapsed time.
- A block lies inside one opening period of its date (``hours.selectors``).
- Default blocks for an opening period (``split_period``): the fewest blocks
  of at most 3 hours that cover the period, ``n = ceil(length / 3 h)``, each
  ``max(2.5 h, length / n)`` long (rounded up to the minute); the first
  starts at opening, the last ends at closing, and the others are spread
  evenly in between. Where the period cannot be cut into equal blocks of
  2.5–3 h, consecutive blocks overlap: the overlap is the handover.
  17:00–21:00 gives 17:00–19:30 and 18:30–21:00; 14:00–21:00 gives
  14:00–16:30, 16:15–18:45 and 18:30–21:00. A period shorter than 2.5 hours
  gets no default block (the coordinator decides).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

MIN_BLOCK = timedelta(hours=2, minutes=30)
MAX_BLOCK = timedelta(hours=3)


def block_length_ok(*, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a block from ``starts_at`` to ``ends_at`` lasts 2.5–3 hours."""
    return MIN_BLOCK <= ends_at - starts_at <= MAX_BLOCK


def split_period(*, opens: datetime, closes: datetime) -> list[tuple[datetime, datetime]]:
    """The default blocks covering the opening period ``opens``–``closes``
    (aware datetimes), in order; empty when the period is shorter than 2.5 h.

    Times are returned in the time zone of ``opens``; the arithmetic runs in
    UTC, so a block is exactly as long as it says even on a DST change.
    """
    zone = opens.tzinfo
    start = opens.astimezone(UTC)
    length = math.floor((closes - opens).total_seconds() / 60)  # whole minutes
    shortest = int(MIN_BLOCK.total_seconds() // 60)
    longest = int(MAX_BLOCK.total_seconds() // 60)
    if length < shortest:
        return []
    count = math.ceil(length / longest)
    block = max(shortest, math.ceil(length / count))
    offsets = [0] if count == 1 else [i * (length - block) // (count - 1) for i in range(count)]
    return [
        (
            (start + timedelta(minutes=offset)).astimezone(zone),
            (start + timedelta(minutes=offset + block)).astimezone(zone),
        )
        for offset in offsets
    ]
