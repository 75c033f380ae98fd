"""Benchmark of the figures (onthaal/stats/figures.py); not part of the test suite.

Generates conversations with registrations into a throwaway database, then
times the figures the dashboard, the API and the annual report use:

- ``school_year_figures`` for a school year of ``--year-chats`` chats
  (default 10,000) inside a table of ``--chats`` conversations;
- ``trends`` over the ``--years`` school years (default 10) that hold all
  ``--chats`` conversations, with two topics followed;
- the baseline: a plain ``SELECT COUNT(*)`` over the same table, same run.

The machine is shared, so next to each wall-clock time it prints the CPU
time the work took (this process, and on PostgreSQL on loopback also the
server process serving it, read from /proc) and the load average.

Targets (docs/performance.md): a school year of 10,000 chats under 0.5 s on
SQLite; a ten-year trend over 1,000,000 conversations under 5 s.

    .venv/bin/python bench/stats_bench.py                   # 100,000 conversations
    .venv/bin/python bench/stats_bench.py --chats 1000000   # the trend target
    .venv/bin/python bench/stats_bench.py --index           # with the proposed indexes

By default the database is SQLite in a temporary ONTHAAL_DATA_DIR, removed
afterwards; ``--database-url postgres://…`` runs against an (empty,
throwaway!) PostgreSQL database instead — its tables are flushed first.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
BATCH = 20_000

# An optional covering index measured for docs/performance.md; ``--index``
# creates it with plain SQL to measure what it gains. The targets are met
# without it.
PROPOSED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS chat_conv_stats_cover ON chat_conversation "
    "(queued_at, accepted_at, end_reason, audience, rating)",
)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=100_000, help="conversations in all")
    parser.add_argument(
        "--year-chats", type=int, default=10_000, help="conversations in the measured school year"
    )
    parser.add_argument("--years", type=int, default=10, help="school years the data spans")
    parser.add_argument("--last-year", type=int, default=2024, help="last school year of the data")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each figure")
    parser.add_argument("--seed", type=int, default=20250901)
    parser.add_argument("--index", action="store_true", help="add the proposed indexes first")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument(
        "--profile", action="store_true", help="print the slowest queries of each function"
    )
    parser.add_argument(
        "--data-dir",
        default="",
        help="SQLite data directory to use and keep; a database generated there before "
        "with the same --chats is reused",
    )
    return parser.parse_args()


def _setup(args: argparse.Namespace) -> Path:
    if args.data_dir:
        data_dir = Path(args.data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        args.keep = True
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="onthaal-stats-bench-"))
    os.environ["ONTHAAL_DATA_DIR"] = str(data_dir)
    os.environ["ONTHAAL_DEBUG"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onthaal.settings")
    if args.database_url:
        os.environ["ONTHAAL_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("ONTHAAL_DATABASE_URL", None)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def _opening_moment(rng: random.Random, school_year: int) -> datetime:
    """A random moment in opening-like hours (Mon–Thu 14:00–21:00) of a school year."""
    first = date(school_year, 9, 1)
    while True:
        day = first + timedelta(days=rng.randrange(365))
        if day.weekday() <= 3 and not ((day.month == 7 and day.day > 14) or day.month == 8):
            break
    seconds = rng.randrange(14 * 3600, 21 * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=BRUSSELS) + timedelta(seconds=seconds)


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection, transaction

    from onthaal.chat.models import Conversation
    from onthaal.registration.models import Registration, Result, Topic
    from onthaal.staff.models import Discipline, User

    rng = random.Random(args.seed)
    if args.database_url or args.data_dir:
        with connection.cursor() as cursor:
            for table in (
                "registration_registration_topics",
                "registration_registration_results",
                "registration_registration",
                "chat_conversationevent",
                "chat_message",
                "chat_conversation",
            ):
                cursor.execute(f"DELETE FROM {table}")
        User.objects.filter(username__startswith="bench").delete()

    disciplines = (
        [Discipline.PSYCHO_PEDAGOGUE] * 48
        + [Discipline.SOCIAL_WORKER] * 33
        + [Discipline.NURSE] * 18
        + [Discipline.DOCTOR]
    )
    operators = User.objects.bulk_create(
        User(
            username=f"bench{i}",
            pseudonym=f"Medewerker {i}",
            discipline=disciplines[i % len(disciplines)],
            password="!",  # unusable
        )
        for i in range(180)
    )
    operator_ids = [u.pk for u in operators]
    topic_ids = list(Topic.objects.values_list("pk", flat=True))
    result_ids = list(Result.objects.values_list("pk", flat=True))
    topic_weights = [8 if i % 5 == 0 else 2 for i in range(len(topic_ids))]

    years = list(range(args.last_year - args.years + 1, args.last_year + 1))
    rest = args.chats - args.year_chats
    per_year = {y: rest // (len(years) - 1) for y in years[:-1]} if len(years) > 1 else {}
    if per_year:
        per_year[years[0]] += rest - sum(per_year.values())
    per_year[args.last_year] = args.year_chats if len(years) > 1 else args.chats

    # Rows go in with executemany: bulk_create on SQLite splits inserts into
    # statements of 999 parameters (about 40 conversations), several times
    # slower for a million rows. The columns are the models' own.
    conversation_columns = (
        "id", "channel", "origin", "status", "end_reason", "audience", "age", "gender",
        "referral_source", "device_class", "language", "queued_at", "accepted_at", "ended_at",
        "operator_id", "token_hash", "visitor_seen_at", "visitor_delivered_id",
        "visitor_read_id", "operator_delivered_id", "operator_read_id", "rating",
        "rating_comment",
    )  # fmt: skip
    registration_columns = (
        "id", "conversation_id", "operator_id", "prank_suspected", "note", "created_at",
        "updated_at",
    )  # fmt: skip
    TopicLink = Registration.topics.through
    ResultLink = Registration.results.through

    def insert_sql(table: str, columns: tuple[str, ...]) -> str:
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        marks = ", ".join(["%s"] * len(columns))
        return f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})"

    statements = {
        "conversations": insert_sql(Conversation._meta.db_table, conversation_columns),
        "registrations": insert_sql(Registration._meta.db_table, registration_columns),
        "topics": insert_sql(TopicLink._meta.db_table, ("registration_id", "topic_id")),
        "results": insert_sql(ResultLink._meta.db_table, ("registration_id", "result_id")),
    }
    pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in statements}
    adapt = connection.ops.adapt_datetimefield_value

    def flush() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for name, sql in statements.items():
                if pending[name]:
                    cursor.executemany(sql, pending[name])
                pending[name].clear()

    started = time.perf_counter()
    next_id = 1
    for school_year, count in per_year.items():
        # In queued order, as live chats get their ids: a range of queued_at
        # then reads neighbouring rows, as it would in production.
        for queued in sorted(_opening_moment(rng, school_year) for _ in range(count)):
            held = rng.random() < 0.9
            accepted = queued + timedelta(seconds=rng.randrange(10, 900)) if held else None
            ended = (
                accepted + timedelta(seconds=rng.randrange(60, 3600))
                if accepted
                else queued + timedelta(seconds=rng.randrange(30, 1200))
            )
            audience = "pupil" if rng.random() < 0.8 else "parent"
            end_reason = (
                rng.choice(["visitor_ended", "operator_ended", "operator_ended", "broke_off"])
                if held
                else rng.choice(["missed", "missed", "closed"])
            )
            operator_id = rng.choice(operator_ids) if held else None
            pending["conversations"].append(
                (
                    next_id, "chat", "demo", "ended", end_reason, audience,
                    rng.randrange(10, 19) if audience == "pupil" else rng.randrange(30, 55),
                    rng.choice(["girl", "girl", "girl", "boy", "x"]),
                    rng.choice(
                        ["smartschool", "earlier_visit", "internet", "clb_website", "awel", ""]
                    ),
                    "mobile" if rng.random() < 0.43 else "desktop", "nl-be",
                    adapt(queued), adapt(accepted), adapt(ended), operator_id,
                    f"{next_id:064x}", adapt(ended), 0, 0, 0, 0,
                    rng.randrange(1, 6) if held and rng.random() < 0.5 else None, "",
                )
            )  # fmt: skip
            if held:
                pending["registrations"].append(
                    (next_id, next_id, operator_id, rng.random() < 0.05, "", adapt(ended),
                     adapt(ended))
                )  # fmt: skip
                for topic in set(rng.choices(topic_ids, weights=topic_weights, k=2)):
                    pending["topics"].append((next_id, topic))
                for result in set(rng.choices(result_ids, k=2)):
                    pending["results"].append((next_id, result))
            next_id += 1
            if len(pending["conversations"]) >= BATCH:
                flush()
    flush()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"generate_s": time.perf_counter() - started, "per_year": per_year}


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3 is index 0)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _server_cpu_seconds() -> float:
    """CPU seconds (user + system) that the PostgreSQL server spent for this
    connection, when it runs on this machine and /proc shows it; else 0.

    The backend's own time, plus its parallel query workers': they exit
    after each query, and the postmaster that reaps them adds their time to
    its children's time (so an autovacuum worker ending meanwhile counts too).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        backend = _proc_stat(pid)
        postmaster = _proc_stat(int(backend[1]))
    except OSError:
        return 0.0
    ticks = int(backend[11]) + int(backend[12]) + int(postmaster[13]) + int(postmaster[14])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Timing:
    wall: float  # median seconds
    cpu: float  # median CPU seconds of this process
    server_cpu: float  # median CPU seconds of the PostgreSQL backend (0 on SQLite)

    def show(self) -> str:
        text = f"{self.wall * 1000:8.1f} ms (CPU {self.cpu * 1000:.0f} ms"
        if self.server_cpu:
            text += f" + server {self.server_cpu * 1000:.0f} ms"
        return text + ")"


def _time(function: Callable[[], Any], repeat: int) -> tuple[Timing, Any]:
    """Median wall and CPU seconds of ``repeat`` runs after one warm-up run, and the result."""
    result = function()  # warm the caches: the timed runs are the steady state
    walls, cpus, servers = [], [], []
    for _ in range(repeat):
        server = _server_cpu_seconds()
        cpu = time.process_time()
        started = time.perf_counter()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        servers.append(_server_cpu_seconds() - server)
    return Timing(
        statistics.median(walls), statistics.median(cpus), statistics.median(servers)
    ), result


def _load() -> str:
    return "load average " + " ".join(f"{n:.2f}" for n in os.getloadavg())


def main() -> int:
    args = _parse()
    if args.year_chats > args.chats:
        sys.exit("--year-chats cannot exceed --chats")
    data_dir = _setup(args)
    try:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from onthaal.chat.models import Conversation
        from onthaal.stats.figures import school_year_figures, trends

        if args.data_dir and Conversation.objects.count() == args.chats:
            generated = {"generate_s": 0.0}
        else:
            generated = _generate(args)
        if args.index:
            with connection.cursor() as cursor:
                for statement in PROPOSED_INDEXES:
                    cursor.execute(statement)
                cursor.execute("ANALYZE")
        print(
            f"database: {connection.vendor}; {args.chats:,} conversations over "
            f"{args.years} school years, generated in {generated['generate_s']:.1f} s"
            f"{'; with the proposed indexes' if args.index else ''}"
        )
        print(f"before timing: {_load()} ({os.cpu_count()} CPUs)")
        baseline, total = _time(lambda: Conversation.objects.count(), args.repeat)
        year = args.last_year
        first_year = year - args.years + 1
        year_s, year_figures = _time(lambda: school_year_figures(year), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            school_year_figures(year)
        trend_s, trend = _time(
            lambda: trends(first_year, year, topics=["zelfmoordgedachten", "pesten / cyberpesten"]),
            args.repeat,
        )
        with CaptureQueriesContext(connection) as trend_queries:
            trends(first_year, year, topics=["zelfmoordgedachten", "pesten / cyberpesten"])
        print(f"SELECT COUNT(*) over {total:,} rows (baseline): {baseline.show()}")
        print(
            f"school_year_figures({year}), {year_figures['totals']['queued']:,} chats, "
            f"{len(queries)} queries: {year_s.show()}  "
            f"(× {year_s.wall / baseline.wall:.1f} baseline; target < 500 ms)"
        )
        print(
            f"trends({first_year}–{year}), {args.years} years, 2 topics, "
            f"{len(trend_queries)} queries: {trend_s.show()}  "
            f"(× {trend_s.wall / baseline.wall:.1f} baseline; target < 5000 ms at 1,000,000)"
        )
        print(f"after timing: {_load()}")
        if args.profile:
            for name, captured in (("school_year_figures", queries), ("trends", trend_queries)):
                slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
                print(f"  slowest queries of {name} (one run, seconds):")
                for query in slowest[:6]:
                    print(f"    {float(query['time']):6.3f}  {query['sql'][:110]}")
        totals = year_figures["totals"]
        print(
            f"  figures {year}: held {totals['held']:,}, missed {totals['missed']:,}, "
            f"per opening day {totals['held_per_opening_day'] or 0:.1f}, "
            f"mean duration {(year_figures['duration']['mean'] or 0) / 60:.1f} min, "
            f"median wait {(year_figures['wait']['median'] or 0) / 60:.1f} min"
        )
        for row in trend["years"]:
            topics = ", ".join(
                f"{t['name']} {t['years'][row['school_year'] - first_year]['count']:,}"
                for t in trend["topics"]
            )
            print(f"  {row['label']}: held {row['held']:,}; {topics}")
    finally:
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
