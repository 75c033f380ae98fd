"""Benchmark of ``onthaal import``: rows per second into a throwaway SQLite database.

    .venv/bin/python bench/import_bench.py [--rows 100000] [--keep]

Generates a CSV file of N conversations (about half registered, with topics
and results given as codes and Dutch labels), migrates a fresh database in a
temporary ONTHAAL_DATA_DIR, then times:

- a baseline: reading the same file with the csv module and nothing else;
- the import, through the ``onthaal import`` command (--quiet);
- a second run of the same import (everything already present).

It prints rows per second, the extrapolation to 1,000,000 rows and the ratio
to the baseline. Not part of the test suite. Record results in
docs/performance.md ("Import").

With ONTHAAL_DATABASE_URL set, it uses that database instead (PostgreSQL:
give it an empty one).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import resource
import sys
import tempfile
import time
from contextlib import redirect_stderr
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
TARGET_ROWS = 1_000_000
TARGET_SECONDS = 5 * 60

TOPICS = [
    "OLB:studiekeuze / schoolloopbaan",
    "interactie gezin / gezinsconflicten",
    "PSF:relatievaardigheid",
    "zelfmoordgedachten",
    "PSF:pesten / cyberpesten",
    "PGZ:seksualiteit",
    "L&S:leermoeilijkheden",
    "motivatie",
]
RESULTS = ["info_advice", "support", "referral_clb", "doorverwezen naar CLB", "broke_off"]
SOURCES = ["smartschool", "earlier_visit", "internet", "clb_website", "awel", ""]
OPERATORS = [f"bench{n}" for n in range(1, 21)]
COLUMNS = [
    "external_id",
    "queued_at",
    "accepted_at",
    "ended_at",
    "end_reason",
    "audience",
    "age",
    "gender",
    "referral_source",
    "device_class",
    "rating",
    "operator",
    "topics",
    "results",
    "prank_suspected",
]


def local(moment: datetime) -> str:
    """ISO 8601 in Brussels time with its offset, as an export from the old tool."""
    return moment.astimezone(BRUSSELS).isoformat()


def generate_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    # Arithmetic in UTC: wall-clock arithmetic in Brussels would make times that
    # do not exist at the spring DST change (and the import rightly refuses
    # a chat that then seems to end before it started).
    start = datetime(2016, 9, 1, 15, 0, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for n in range(rows):
            queued = start + timedelta(minutes=3 * n + rng.randint(0, 2))
            missed = rng.random() < 0.07
            pupil = rng.random() < 0.81
            if missed:
                accepted = ""
                end_reason = "missed"
                operator = topics = results = rating = ""
                ended = local(queued + timedelta(minutes=rng.randint(1, 10)))
            else:
                accepted_at = queued + timedelta(seconds=rng.randint(10, 600))
                accepted = local(accepted_at)
                ended = local(accepted_at + timedelta(minutes=rng.randint(2, 60)))
                end_reason = rng.choice(["visitor_ended", "operator_ended", "broke_off"])
                operator = rng.choice(OPERATORS) if rng.random() < 0.6 else ""
                topics = "|".join(rng.sample(TOPICS, rng.randint(0, 2)))
                results = "|".join(rng.sample(RESULTS, rng.randint(1, 2)))
                rating = str(rng.randint(1, 5)) if rng.random() < 0.5 else ""
            writer.writerow(
                [
                    f"sit-{n:08d}",
                    local(queued),
                    accepted,
                    ended,
                    end_reason,
                    "pupil" if pupil else "ouder",
                    rng.randint(10, 20) if pupil else "",
                    rng.choice(["girl", "boy", "x"]) if pupil else "",
                    rng.choice(SOURCES),
                    rng.choice(["mobile", "desktop"]),
                    rating,
                    operator,
                    topics,
                    results,
                    "true" if (not missed and rng.random() < 0.05) else "",
                ]
            )


def load() -> str:
    """The 1-minute load average, as a hint that other work shared the CPUs."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def baseline(path: Path) -> tuple[int, float]:
    """Plain reading of the file with the csv module: the floor for any import."""
    began = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as stream:
        count = sum(1 for _row in csv.reader(stream)) - 1
    return count, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to generate (100000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="onthaal-import-bench-"))
    os.environ["ONTHAAL_DATA_DIR"] = str(folder)
    os.environ.setdefault("ONTHAAL_DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onthaal.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(f"load average before: {load()}")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # ONTHAAL_DEBUG=true spares the bench a production configuration, but a
    # production server runs without Django's debug cursor, which records
    # every query with its parameters (for SQLite quoting each of them in an
    # extra query): that is not the import's cost.
    settings.DEBUG = False

    from onthaal.chat.models import Conversation
    from onthaal.registration.models import Registration
    from onthaal.staff.models import User

    print(f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), {platform.machine()}")
    path = folder / "conversations.csv"
    began = time.perf_counter()
    generate_csv(path, args.rows)
    size = path.stat().st_size / 1e6
    print(f"generated {args.rows:,} rows ({size:.1f} MB) in {time.perf_counter() - began:.1f} s")

    call_command("migrate", verbosity=0)
    User.objects.bulk_create(
        [User(username=name, pseudonym=name.title(), is_active=False) for name in OPERATORS]
    )

    rows, base_seconds = baseline(path)
    print(
        f"baseline csv.reader: {rows:,} rows in {base_seconds:.2f} s "
        f"({rows / base_seconds:,.0f} rows/s)"
    )

    out = io.StringIO()
    began, cpu_began = time.perf_counter(), time.process_time()
    with redirect_stderr(io.StringIO()):
        call_command("import", str(path), quiet=True, stdout=out)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    print(out.getvalue().strip())
    rate = rows / seconds
    extrapolated = TARGET_ROWS / rate
    verdict = "within" if extrapolated < TARGET_SECONDS else "OVER"
    print(f"import: {rows:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s")
    # CPU time of this process: what the import costs when the machine is
    # shared (wall time then also counts the waits for a core).
    print(f"  CPU time {cpu:.1f} s = {rows / cpu:,.0f} rows per CPU second; load {load()}")
    print(
        f"  extrapolated to {TARGET_ROWS:,} rows: {extrapolated:.0f} s "
        f"({verdict} the {TARGET_SECONDS} s target)"
    )
    print(f"  ratio to the csv baseline: {seconds / base_seconds:.0f}x")
    print(
        f"  rows written: {Conversation.objects.count():,} conversations, "
        f"{Registration.objects.count():,} registrations"
    )

    out = io.StringIO()
    began = time.perf_counter()
    call_command("import", str(path), quiet=True, stdout=out)
    again = time.perf_counter() - began
    print(
        f"second run (all present): {again:.1f} s = {rows / again:,.0f} rows/s; "
        f"{out.getvalue().strip()}"
    )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")
    files = list(folder.glob("onthaal.sqlite3*"))
    if files:
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"SQLite database with its WAL: {size:.0f} MB")
    if args.keep:
        print(f"kept {folder}")
    else:
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
