"""Writes of history: importing conversations from an earlier tool, demo years.

Both write many rows at once. They bypass the chat's state machine on
purpose: these conversations are over, nobody is connected to them, and
nothing is broadcast. They get the same rows a live chat leaves behind
(conversation, registration with topics and results, the events queued,
accepted, ended, rated, registered), marked with their ``origin``:
``imported`` (with the source tool's ``external_id``) or ``demo``.

Speed: rows go in per batch with one ``executemany`` per table (see
:class:`_BulkInsert` for why not ``bulk_create``), the taxonomy and the
accounts are loaded once, and each batch costs a fixed number of queries
whatever its size (docs/performance.md, "Import").
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

from onthaal.chat.models import (
    Conversation,
    ConversationEvent,
    EndReason,
    EventKind,
    Message,
    Origin,
    Status,
    hash_token,
)
from onthaal.errors import Conflict, InvalidInput
from onthaal.history import figures, synthetic
from onthaal.history.formats import SourceRow
from onthaal.history.records import ConversationRecord, RecordParser, RowError
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.hours.selectors import opening_periods
from onthaal.hours.services import school_calendar_generate, weekly_hours_seed_defaults
from onthaal.registration.models import Registration, Result, Topic
from onthaal.staff.models import Discipline, Role, User

logger = logging.getLogger("onthaal.history")

BATCH_SIZE = 5_000
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
IMPORT_USERNAME = "import"
IMPORT_PSEUDONYM = "Import"
DEMO_USERNAME_PREFIX = "demo-"

Progress = Callable[[int], None]


# --- the bulk writer -----------------------------------------------------------------


class _BulkInsert:
    """``INSERT`` of many rows of one model, with plain parameters.

    Why not ``bulk_create``: for the import's target (a million rows in
    minutes) it is too slow. Measured on 10,000 rows, building model
    instances and the SQL of ``bulk_create`` took 85 % of the time and the
    database 7 %. This writes the same columns: every concrete field of the
    model, the ones not given set to the field's default, so a field added
    to the model later is still filled.

    PostgreSQL gets ``COPY … FROM STDIN``: with ``executemany`` each row
    was a round trip to the server, four times slower (100,000 rows: 153 s
    against 37 s). SQLite, in the same process, gets ``executemany``, its
    fastest path. So does any other database.
    """

    def __init__(self, model: type[Model], given: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
        unknown = set(given) - set(fields)
        assert not unknown, f"{model.__name__} has no field(s) {unknown}"
        rest = [f for name, f in fields.items() if name not in given]
        self.tail = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
        quote = connection.ops.quote_name
        columns = [fields[name].column for name in given] + [f.column for f in rest]
        table = quote(model._meta.db_table)
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        self.sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
        self.copy = f"COPY {table} ({names}) FROM STDIN"

    def run(self, rows: Iterable[tuple[Any, ...]]) -> None:
        tail = self.tail
        full = [row + tail for row in rows]
        if not full:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # psycopg's own cursor: Django's wrapper has no copy().
                with cursor.cursor.copy(self.copy) as copy:
                    for row in full:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, full)


def _datetime_adapter() -> Callable[[datetime | None], Any]:
    """The database's form of an aware datetime (or None)."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor != "sqlite":
        return adapt
    # What Django's SQLite adapter does (naive text in the connection's time
    # zone), without its checks per value: a tenth of the import's time went
    # there. Every value here is aware (the records hold aware datetimes).
    zone = connection.timezone

    def sqlite_text(value: datetime | None) -> Any:
        return None if value is None else str(value.astimezone(zone).replace(tzinfo=None))

    return sqlite_text


@contextmanager
def _large_sqlite_cache() -> Iterator[None]:
    """Give SQLite a 256 MiB page cache on this connection while it imports.

    The default (2 MiB) is far smaller than the indexes a large import
    updates at random places (token hashes, external ids); measured on
    100,000 rows, the larger cache saved a tenth of the CPU time and a third
    of the wall time. Other databases: no change.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB:d}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous):d}")


def _pairs_where_in(model: type[Model], field: str, values: Sequence[Any]) -> list[tuple[Any, int]]:
    """(value of ``field``, id) of the rows whose ``field`` is one of ``values``.

    The same as ``filter(field__in=values).values_list(field, "pk")``, less
    the ORM's preparation of each value, which took a tenth of the import's
    time. ``values`` are plain strings or ids, ready for the database.
    """
    quote = connection.ops.quote_name
    column = quote(model._meta.get_field(field).column)
    pk = quote(model._meta.pk.column)
    table = quote(model._meta.db_table)
    pairs: list[tuple[Any, int]] = []
    size = min(connection.features.max_query_params or 1000, 10_000)
    with connection.cursor() as cursor:
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {column}, {pk} FROM {table} WHERE {column} IN ({marks})",  # noqa: S608
                chunk,
            )
            pairs.extend(cursor.fetchall())
    return pairs


_CONVERSATION_COLUMNS = (
    "channel",
    "origin",
    "external_id",
    "status",
    "end_reason",
    "audience",
    "age",
    "gender",
    "referral_source",
    "device_class",
    "language",
    "queued_at",
    "accepted_at",
    "ended_at",
    "operator_id",
    "token_hash",
    "visitor_seen_at",
    "rating",
)
_REGISTRATION_COLUMNS = (
    "conversation_id",
    "operator_id",
    "prank_suspected",
    "created_at",
    "updated_at",
)
_EVENT_COLUMNS = ("conversation_id", "kind", "at", "actor_id", "data")


def _records_write(
    records: list[ConversationRecord], *, origin: Origin, placeholder: Callable[[], int]
) -> int:
    """Insert the conversations of ``records`` with everything a live chat leaves.

    ``placeholder`` gives the account for registrations without an operator.
    Returns the number of registrations written. Six INSERTs (executemany)
    and two SELECTs of the new ids, whatever the number of records.
    """
    moment = _datetime_adapter()
    data_field = ConversationEvent._meta.get_field("data")
    data_cache: dict[tuple[str, Any], Any] = {}

    def data(key: str, value: Any) -> Any:
        # Few distinct values (end reasons, 1–5 stars): encode each once.
        if (key, value) not in data_cache:
            data_cache[key, value] = data_field.get_db_prep_save({key: value}, connection)
        return data_cache[key, value]

    empty = data_field.get_db_prep_save({}, connection)
    # Each time is adapted for the database once, then used in several rows.
    times = [
        (
            moment(r.queued_at),
            moment(r.accepted_at),
            moment(r.ended_at),
            moment(r.ended_at or r.accepted_at or r.queued_at),
        )
        for r in records
    ]
    # Nobody holds a token for a conversation of history: the hash of a random
    # string that is thrown away keeps it closed to everyone. It also tells
    # the new rows apart when their ids are read back.
    tokens = [hash_token(secrets.token_urlsafe(32)) for _ in records]
    _BulkInsert(Conversation, _CONVERSATION_COLUMNS).run(
        (
            r.channel,
            origin,
            r.external_id,
            Status.ENDED,
            r.end_reason,
            r.audience,
            r.age,
            r.gender,
            r.referral_source,
            r.device_class,
            r.language,
            queued,
            accepted,
            ended,
            r.operator_id,
            token,
            ended if ended is not None else queued,
            r.rating,
        )
        for r, token, (queued, accepted, ended, _last) in zip(records, tokens, times, strict=True)
    )
    ids = dict(_pairs_where_in(Conversation, "token_hash", tokens))

    registrations: list[tuple[Any, ...]] = []
    registered: dict[int, ConversationRecord] = {}
    events: list[tuple[Any, ...]] = []
    for r, token, (queued, accepted, ended, last) in zip(records, tokens, times, strict=True):
        pk = ids[token]
        events.append((pk, EventKind.QUEUED, queued, None, empty))
        if accepted is not None:
            events.append((pk, EventKind.ACCEPTED, accepted, r.operator_id, empty))
        if ended is not None:
            ender = r.operator_id if r.end_reason == EndReason.OPERATOR_ENDED else None
            events.append((pk, EventKind.ENDED, ended, ender, data("reason", r.end_reason)))
        if r.rating is not None:
            events.append((pk, EventKind.RATED, last, None, data("rating", r.rating)))
        if r.registered:
            operator_id = r.operator_id or placeholder()
            at = last if r.registered_at is None else moment(r.registered_at)
            registrations.append((pk, operator_id, r.prank_suspected, at, at))
            registered[pk] = r
            correction = data("correction", False)
            events.append((pk, EventKind.REGISTERED, at, operator_id, correction))

    _BulkInsert(Registration, _REGISTRATION_COLUMNS).run(registrations)
    registration_ids = _pairs_where_in(Registration, "conversation_id", list(registered))
    topic_links: list[tuple[int, int]] = []
    result_links: list[tuple[int, int]] = []
    for conversation_id, registration_id in registration_ids:
        r = registered[conversation_id]
        topic_links.extend((registration_id, topic_id) for topic_id in r.topic_ids)
        result_links.extend((registration_id, result_id) for result_id in r.result_ids)
    _BulkInsert(Registration.topics.through, ("registration_id", "topic_id")).run(topic_links)
    _BulkInsert(Registration.results.through, ("registration_id", "result_id")).run(result_links)
    _BulkInsert(ConversationEvent, _EVENT_COLUMNS).run(events)
    return len(registrations)


def _batches[T](items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- import --------------------------------------------------------------------------


@dataclass(frozen=True)
class InvalidRow:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportResult:
    """What an import found and did.

    ``new`` counts the valid rows whose external_id was not in the database
    yet; they were written only if ``written``. ``already_present`` rows are
    left as they are.
    """

    rows: int = 0
    new: int = 0
    already_present: int = 0
    registrations: int = 0
    invalid: list[InvalidRow] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False


class _Rejected(Exception):
    """Rolls the import back when a row was invalid and nothing may be written."""


def import_account_get_or_create() -> User:
    """The inactive placeholder account that imported registrations without a
    known operator are filed under (username ``import``, no usable password).

    Raises Conflict if an account named ``import`` exists that can sign in.
    """
    user = User.objects.filter(username=IMPORT_USERNAME).first()
    if user is None:
        return User.objects.create(
            username=IMPORT_USERNAME,
            pseudonym=IMPORT_PSEUDONYM,
            role=Role.OPERATOR,
            is_active=False,
            password=make_password(None),
        )
    if user.is_active or user.has_usable_password():
        raise Conflict(
            f"an account named '{IMPORT_USERNAME}' exists and can sign in; it cannot serve as "
            "the placeholder for imported registrations",
            code="import_account_taken",
        )
    return user


def conversations_import(
    *,
    rows: Iterable[SourceRow],
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Import ended conversations (and their registrations) from ``rows``.

    Every row is checked. Without ``skip_invalid``, one invalid row means
    nothing is written (one transaction, rolled back) and the result lists
    every invalid row; with it, the valid rows are written and the invalid
    ones listed. A row whose external_id is in the database already is
    left alone, so running an import twice adds nothing. A repeated
    external_id inside the input is invalid. ``dry_run`` checks everything
    and writes nothing. ``progress`` is called with the number of rows done
    after each batch.

    Raises ImportFileError (from the reader) when the file as a whole is
    unreadable, and Conflict when the placeholder account is taken.
    """
    now = now or timezone.now()
    result = ImportResult(dry_run=dry_run)
    try:
        with _large_sqlite_cache(), transaction.atomic():
            _import_rows(
                rows,
                result=result,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=progress,
                now=now,
                batch_size=batch_size,
            )
            if dry_run or (result.invalid and not skip_invalid):
                raise _Rejected
    except _Rejected:
        result.registrations = 0
    else:
        result.written = True
        logger.info(
            "imported %s conversations (%s already present, %s invalid rows skipped)",
            result.new,
            result.already_present,
            len(result.invalid),
        )
    return result


def _import_rows(
    rows: Iterable[SourceRow],
    *,
    result: ImportResult,
    skip_invalid: bool,
    dry_run: bool,
    progress: Progress | None,
    now: datetime,
    batch_size: int,
) -> None:
    parser = RecordParser(now=now)
    first_line: dict[str, int] = {}  # external_id -> the line it first appeared on
    placeholder_id: int | None = None

    def placeholder() -> int:
        nonlocal placeholder_id
        if placeholder_id is None:
            placeholder_id = import_account_get_or_create().pk
        return placeholder_id

    for batch in _batches(rows, batch_size):
        records: list[ConversationRecord] = []
        for row in batch:
            try:
                record = parser.parse(row)
            except RowError as exc:
                result.invalid.append(InvalidRow(row.line, str(exc)))
                continue
            assert record.external_id is not None
            seen = first_line.setdefault(record.external_id, row.line)
            if seen != row.line:
                result.invalid.append(
                    InvalidRow(
                        row.line,
                        f"external_id '{record.external_id}' appears twice (first on line {seen})",
                    )
                )
                continue
            records.append(record)
        result.rows += len(batch)

        present = {
            external_id
            for external_id, _pk in _pairs_where_in(
                Conversation, "external_id", [r.external_id for r in records]
            )
        }
        new = [r for r in records if r.external_id not in present]
        result.already_present += len(records) - len(new)
        result.new += len(new)
        # Once a row is invalid and nothing may be written, keep checking only.
        if new and not dry_run and (skip_invalid or not result.invalid):
            result.registrations += _records_write(
                new, origin=Origin.IMPORTED, placeholder=placeholder
            )
        if progress is not None:
            progress(len(batch))


# --- demo ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoResult:
    school_year: int
    conversations: int
    held: int
    missed: int
    registrations: int
    operators_created: int


@dataclass(frozen=True)
class DemoRemoval:
    conversations: int
    registrations: int
    events: int
    accounts: int
    accounts_kept: int


def school_year_bounds(school_year: int) -> tuple[date, date]:
    """1 September of ``school_year`` to 31 August of the next year."""
    return date(school_year, 9, 1), date(school_year + 1, 8, 31)


def _demo_accounts() -> Q:
    # All three marks together: a real account named demo-… can sign in
    # (active, usable password), so it is never taken for a demo account.
    return Q(
        username__startswith=DEMO_USERNAME_PREFIX,
        is_active=False,
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
    )


def _demo_operators_ensure() -> tuple[list[synthetic.DemoOperator], int]:
    """The demo operator accounts demo-001 … demo-180, creating missing ones.

    Their disciplines follow the published shares and do not depend on the
    seed, so demo years generated one after the other share one team.
    """
    counts = synthetic.quota_counts(figures.OPERATORS, figures.DISCIPLINE_SHARES)
    disciplines = [d for d, count in counts.items() for _ in range(count)]
    # Made-up data, reproducible on purpose: no secret comes from these generators.
    random.Random("onthaal-demo-operators").shuffle(disciplines)  # noqa: S311
    names = [f"{DEMO_USERNAME_PREFIX}{n:03d}" for n in range(1, figures.OPERATORS + 1)]
    existing = {u.username: u for u in User.objects.filter(username__in=names)}
    taken = [name for name, u in existing.items() if u.is_active or u.has_usable_password()]
    if taken:
        raise Conflict(
            f"account(s) {', '.join(sorted(taken))} exist and are not demo accounts",
            code="demo_account_taken",
        )
    new = [
        User(
            username=name,
            pseudonym=f"Demo {name.removeprefix(DEMO_USERNAME_PREFIX)}",
            discipline=Discipline(discipline),
            role=Role.OPERATOR,
            is_active=False,
            password=make_password(None),
        )
        for name, discipline in zip(names, disciplines, strict=True)
        if name not in existing
    ]
    User.objects.bulk_create(new)
    accounts = User.objects.filter(username__in=names).order_by("username")
    return [synthetic.DemoOperator(u.pk, u.discipline) for u in accounts], len(new)


def _demo_taxonomy() -> synthetic.DemoTaxonomy:
    topics = {
        (code, name): pk
        for pk, code, name in Topic.objects.filter(is_active=True).values_list(
            "pk", "domain__code", "name"
        )
    }
    results = dict(Result.objects.values_list("code", "pk"))
    needed = {code for shares in figures.RESULT_SHARES.values() for code in shares} - {"crisis"}
    missing = sorted(needed - set(results))
    if missing:
        raise Conflict(
            f"the demo needs the result code(s) {', '.join(missing)}", code="demo_taxonomy"
        )
    return synthetic.DemoTaxonomy(topics=topics, results=results)


@transaction.atomic
def demo_year_generate(
    *, school_year: int, seed: int = 0, scale: float = 1.0, now: datetime | None = None
) -> DemoResult:
    """Fill one school year with made-up conversations calibrated to the
    published figures (see onthaal/history/figures.py), with origin ``demo``.

    The school calendar of that year is generated first (idempotent); chats
    fall only in its opening periods, and none after ``now``. The same seed
    and scale give the same year. Demo operators demo-001 … demo-180 are
    created if missing (inactive, no usable password).

    Raises InvalidInput for a scale outside (0, 10], Conflict when the year
    already holds demo conversations or a demo username is taken.
    """
    now = now or timezone.now()
    if not 0 < scale <= 10:
        raise InvalidInput(f"scale must lie in (0, 10], got {scale}", code="invalid_scale")
    try:
        school_calendar_generate(school_year=school_year)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_school_year") from exc
    weekly_hours_seed_defaults()
    start, end = school_year_bounds(school_year)
    if Conversation.objects.filter(
        origin=Origin.DEMO,
        queued_at__gte=_day_start(start),
        queued_at__lt=_day_start(end + timedelta(days=1)),
    ).exists():
        raise Conflict(
            f"school year {school_year}-{school_year + 1} holds demo conversations already; "
            "remove them first (onthaal demo --remove)",
            code="demo_exists",
        )
    operators, created = _demo_operators_ensure()
    records = synthetic.school_year_records(
        periods=opening_periods(start=start, end=end),
        operators=operators,
        taxonomy=_demo_taxonomy(),
        rng=random.Random(seed),  # noqa: S311
        scale=scale,
    )
    # Only what has happened by now: a demo of the running year stops today.
    records = [r for r in records if (r.registered_at or r.ended_at or r.queued_at) <= now]
    registrations = 0
    for batch in _batches(records, BATCH_SIZE):
        registrations += _records_write(batch, origin=Origin.DEMO, placeholder=_no_placeholder)
    held = sum(1 for r in records if r.accepted_at is not None)
    logger.info("demo year %s: %s conversations", school_year, len(records))
    return DemoResult(
        school_year=school_year,
        conversations=len(records),
        held=held,
        missed=len(records) - held,
        registrations=registrations,
        operators_created=created,
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=HELPLINE_TIMEZONE)


def _no_placeholder() -> int:
    raise AssertionError("every demo registration has its operator")


@transaction.atomic
def demo_remove() -> DemoRemoval:
    """Delete every demo conversation (with its messages, events and
    registration) and every demo account.

    A demo account that something else still refers to (e.g. an import that
    named it as operator) is kept and counted in ``accounts_kept``.
    Touches no live or imported row.
    """
    conversations = Conversation.objects.filter(origin=Origin.DEMO)
    counts = {
        "conversations": conversations.count(),
        "registrations": Registration.objects.filter(conversation__origin=Origin.DEMO).count(),
        "events": ConversationEvent.objects.filter(conversation__origin=Origin.DEMO).count(),
    }
    conversations.delete()

    accounts = User.objects.filter(_demo_accounts())
    in_use = (
        set(Conversation.objects.filter(operator__in=accounts).values_list("operator", flat=True))
        | set(Registration.objects.filter(operator__in=accounts).values_list("operator", flat=True))
        | set(ConversationEvent.objects.filter(actor__in=accounts).values_list("actor", flat=True))
        | set(Message.objects.filter(author__in=accounts).values_list("author", flat=True))
    )
    removable = accounts.exclude(pk__in=in_use)
    removed = removable.count()
    removable.delete()
    return DemoRemoval(
        conversations=counts["conversations"],
        registrations=counts["registrations"],
        events=counts["events"],
        accounts=removed,
        accounts_kept=len(in_use),
    )
