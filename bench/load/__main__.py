"""Load benchmark of Onthaal's chat (see bench/load/__init__.py).

Two scenarios, each in one run:

- **chats** (``--chats N``): N visitors open a conversation over HTTP, N/k
  operators each accept k of them, everyone connects a websocket, and every
  chat sends one message each way every ``--interval`` seconds (receipts and
  pings as the pages send them). Prints delivery latency, throughput, lost
  messages, sockets and server memory per socket, and the same traffic
  through a raw ``websockets`` relay, this machine's baseline, measured in
  turns with it (``--alternate``).
- **queue** (``--queue N``): N visitors wait in the queue with their
  websocket open; an operator takes the first in line ``--queue-rounds``
  times, and every waiting visitor should get its new position. Prints how
  long that takes to reach all of them.

Servers: either ``--url`` (repeatable) for servers already running (run
the benchmark in the servers' own environment, the same
ONTHAAL_DATABASE_URL and ONTHAAL_SECRET_KEY: operators and their sessions
are created with ``onthaal shell``; give ``--pid`` for memory figures), or
``--database-url``/``--redis-url`` with ``--processes`` to start
``onthaal serve`` processes here. Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bench.load import servers as srv
from bench.load.clients import (
    Peer,
    Stats,
    operator_connect,
    relay_pair,
    visitor_connect,
)
from bench.load.http import request
from bench.load.system import MachineCpu, cpu_seconds, percentile, rss_bytes, tree_cpu_seconds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    target = parser.add_argument_group("servers")
    target.add_argument(
        "--url",
        action="append",
        default=[],
        help="a running server, e.g. http://127.0.0.1:8000 (repeat for several processes)",
    )
    target.add_argument("--pid", type=int, action="append", default=[], help="its process id")
    target.add_argument(
        "--watch-pid",
        type=int,
        action="append",
        default=[],
        metavar="PID",
        help="also report the CPU time of this process and its children, e.g. the "
        "PostgreSQL postmaster and redis-server (repeatable)",
    )
    target.add_argument("--database-url", help="PostgreSQL URL: start the servers here")
    target.add_argument("--redis-url", help="Redis URL for the servers started here")
    target.add_argument(
        "--processes",
        type=int,
        default=2,
        help="servers to start (default 2; on two cores one does better: docs/operations.md)",
    )
    target.add_argument(
        "--flush-redis",
        action="store_true",
        help="empty the Redis database first (it must be the benchmark's own): group "
        "members left by killed servers stay for a day and slow every broadcast",
    )
    target.add_argument(
        "--persistent-db",
        action="store_true",
        help="experiment: servers keep their database connections open "
        "(CONN_MAX_AGE=600; bench/load/settings_experiment.py)",
    )
    target.add_argument(
        "--db-threads",
        type=int,
        metavar="N",
        help="experiment: threads running the consumers' database calls per process "
        "(default 1; bench/load/settings_experiment.py)",
    )
    target.add_argument(
        "--redis-socket-timeout",
        type=float,
        metavar="SECONDS",
        help="experiment: socket_timeout of the channel layer's Redis connections "
        "(bench/load/settings_experiment.py)",
    )
    target.add_argument(
        "--channel-layer",
        choices=["core", "pubsub"],
        help="experiment: channels-redis' default layer (core) or its pub/sub layer "
        "unchanged, instead of Onthaal's (bench/load/settings_experiment.py)",
    )

    chats = parser.add_argument_group("chats scenario")
    chats.add_argument("--chats", type=int, default=0, help="concurrent active chats")
    chats.add_argument(
        "--chats-per-operator",
        type=int,
        default=1,
        help="chats each operator console holds (default 1: one console per chat)",
    )
    chats.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="seconds between two messages of one side of a chat (default 5)",
    )
    chats.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    chats.add_argument("--warmup", type=float, default=10, help="seconds before measuring")
    chats.add_argument("--no-receipts", action="store_true", help="clients send no receipts")
    chats.add_argument("--no-baseline", action="store_true", help="skip the raw relay")
    chats.add_argument(
        "--alternate",
        type=float,
        default=10,
        metavar="SECONDS",
        help="measure Onthaal and the relay in turns of this many seconds, both sets of "
        "sockets open throughout, each side for --duration seconds in all (default 10), so "
        "that the machine's drift hits both alike; 0: the relay afterwards, on its own",
    )
    chats.add_argument(
        "--baseline-duration",
        type=float,
        default=30,
        help="measured seconds of the relay when it runs on its own (--alternate 0)",
    )

    queue = parser.add_argument_group("queue scenario")
    queue.add_argument("--queue", type=int, default=0, help="visitors waiting in the queue")
    queue.add_argument("--queue-rounds", type=int, default=3, help="takes to measure (default 3)")
    queue.add_argument(
        "--queue-operators", type=int, default=2, help="consoles open meanwhile (default 2)"
    )
    queue.add_argument(
        "--queue-timeout",
        type=float,
        default=60,
        help="how long a round waits for every position update (default 60 s)",
    )

    parser.add_argument("--no-ping", action="store_true", help="clients send no presence pings")
    parser.add_argument(
        "--open-via",
        choices=["http", "shell"],
        default="http",
        help="how visitors open their conversation and operators accept it: over HTTP "
        "(POST /api/v1/conversations, POST …/accept; default), or through the services "
        "in one `onthaal shell` (quicker for thousands; the websockets are the same)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=32, help="connections opened at once (default 32)"
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    if not args.url and not args.database_url:
        parser.error("give --url (running servers) or --database-url/--redis-url (start them)")
    if args.database_url and not args.redis_url and args.processes > 1:
        parser.error("several processes need --redis-url")
    if not args.chats and not args.queue:
        parser.error("give --chats N and/or --queue N")
    return args


# --- helpers -----------------------------------------------------------------------------


def _quiet_collector() -> None:
    """Keep the load generator's own garbage collector from pausing it while
    it measures (its pauses would count as delivery latency): freeze what
    exists once the sockets are open, and collect the young generations less
    often, as ``onthaal serve`` does (onthaal/cli.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)


async def bounded[T](limit: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with semaphore:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else float("nan"),
    }


def show(label: str, values: list[float]) -> None:
    s = summary(values)
    print(
        f"  {label:<28} p50 {ms(s['p50']):>10}  p95 {ms(s['p95']):>10}  "
        f"p99 {ms(s['p99']):>10}  max {ms(s['max']):>10}  (n={s['count']})"
    )


@dataclass
class Run:
    urls: list[str]
    pids: list[int]
    env: srv.Environment
    watched: list[int] = field(default_factory=list)
    prefix: str = field(default_factory=lambda: f"bench-{secrets.token_hex(3)}-")
    results: dict[str, Any] = field(default_factory=dict)

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    def watched_cpu(self) -> dict[int, float]:
        return {pid: tree_cpu_seconds(pid) for pid in self.watched}

    def url(self, n: int) -> str:
        return self.urls[n % len(self.urls)]


class Meter:
    """Time and CPU summed over the measured windows of one side of a run:
    its server processes, the processes watched, the machine and the load
    generator itself."""

    def __init__(
        self,
        server_cpu: Callable[[], float],
        watched_cpu: Callable[[], dict[int, float]] = dict,
    ) -> None:
        self.server_cpu = server_cpu
        self.watched_cpu = watched_cpu
        self.elapsed = self.server = self.own = self.busy = self.total = 0.0
        self.watched: dict[int, float] = {}

    def _now(self) -> tuple[float, float, MachineCpu, float, dict[int, float]]:
        return (
            time.monotonic(),
            self.server_cpu(),
            MachineCpu.now(),
            cpu_seconds(os.getpid()),
            self.watched_cpu(),
        )

    async def measure(self, stats: Stats, seconds: float) -> None:
        """Measure the next ``seconds``: messages sent meanwhile count."""
        start = time.monotonic()
        stats.windows.append((start, start + seconds))
        t0, server0, machine0, own0, watched0 = self._now()
        await asyncio.sleep(seconds)
        t1, server1, machine1, own1, watched1 = self._now()
        self.elapsed += t1 - t0
        self.server += server1 - server0
        self.own += own1 - own0
        self.busy += machine1.busy - machine0.busy
        self.total += machine1.total - machine0.total  # machine_busy: their share
        for pid, seconds_used in watched1.items():
            self.watched[pid] = self.watched.get(pid, 0.0) + seconds_used - watched0.get(pid, 0.0)

    @property
    def machine_busy(self) -> float:
        return self.busy / self.total if self.total else 0.0


@dataclass
class Turn:
    """Whose clients send now, in an alternating run: "onthaal" or "relay"."""

    now: str = "onthaal"


def start_talking(
    talkers: Iterable[tuple[Peer, int]], interval: float, turn: Turn | None, side: str
) -> list[asyncio.Task[None]]:
    """Each peer sends a message in its conversation every ``interval``
    seconds, at its own random phase; in an alternating run only while it is
    its side's turn (it skips its beat otherwise, so that a turn starts
    without a burst)."""

    async def talk(peer: Peer, conversation_id: int) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        while True:
            if turn is None or turn.now == side:
                await peer.send_message(conversation_id)
            await asyncio.sleep(interval)

    return [asyncio.create_task(talk(peer, cid)) for peer, cid in talkers]


async def open_conversations(run: Run, count: int, concurrency: int) -> list[tuple[int, str, str]]:
    """``count`` visitors POST the intake; returns (id, token, server url)."""

    async def one(n: int) -> tuple[int, str, str]:
        url = run.url(n)
        status, body = await request(url, "POST", "/api/v1/conversations", {"audience": "pupil"})
        if status != 201:
            raise RuntimeError(f"POST /api/v1/conversations: {status} {body}")
        return body["id"], body["token"], url

    return await bounded(concurrency, (lambda n=n: one(n) for n in range(count)))


def csrf_headers(session: str) -> dict[str, str]:
    # Django's CSRF check compares the cookie with the header; any 32
    # letters and digits make a valid token.
    token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return {"Cookie": f"sessionid={session}; csrftoken={token}", "X-CSRFToken": token}


async def accept(url: str, session: str, conversation_id: int) -> None:
    status, body = await request(
        url,
        "POST",
        f"/api/v1/conversations/{conversation_id}/accept",
        headers=csrf_headers(session),
    )
    if status != 200:
        raise RuntimeError(f"accept {conversation_id}: {status} {body}")


# --- the chats scenario -----------------------------------------------------------------


async def chats_scenario(run: Run, args: argparse.Namespace) -> None:
    per_operator = max(1, args.chats_per_operator)
    operator_count = math.ceil(args.chats / per_operator)
    print(f"\n== chats: {args.chats} active chats, {operator_count} operator consoles ==")
    t0 = time.monotonic()
    operators = await asyncio.to_thread(
        srv.create_operators, run.env, prefix=run.prefix + "c", count=operator_count
    )
    takers = [operators[n // per_operator]["id"] for n in range(args.chats)]
    if args.open_via == "shell":
        opened = await asyncio.to_thread(srv.open_conversations_in_shell, run.env, takers=takers)
        visitors = [(cid, token, run.url(n)) for n, (cid, token) in enumerate(opened)]
    else:
        visitors = await open_conversations(run, args.chats, args.concurrency)
    print(
        f"  {len(visitors)} conversations opened ({args.open_via}, {time.monotonic() - t0:.1f} s)"
    )

    # Operator k holds visitors k*per_operator...; its console is on the
    # next process after its first visitor's, so that (with 2+ processes)
    # every message crosses from one process to another through Redis.
    plan = []
    for k, operator in enumerate(operators):
        mine = visitors[k * per_operator : (k + 1) * per_operator]
        if mine:
            home = run.url(run.urls.index(mine[0][2]) + 1)
            plan.append((operator, home, mine))
    if args.open_via == "http":
        t1 = time.monotonic()
        await bounded(
            args.concurrency,
            (
                lambda op=op, home=home, cid=cid: accept(home, str(op["session"]), cid)
                for op, home, mine in plan
                for cid, _token, _url in mine
            ),
        )
        print(f"  {len(visitors)} chats accepted over HTTP ({time.monotonic() - t1:.1f} s)")

    stats = Stats()
    await asyncio.sleep(2)
    rss_before = run.rss()
    t2 = time.monotonic()
    consoles: list[Peer] = await bounded(
        args.concurrency,
        (
            lambda op=op, home=home, mine=mine: operator_connect(
                home,
                str(op["session"]),
                [cid for cid, _t, _u in mine],
                stats,
                receipts=not args.no_receipts,
            )
            for op, home, mine in plan
        ),
    )
    pages: list[Peer] = await bounded(
        args.concurrency,
        (
            lambda cid=cid, token=token, url=url: visitor_connect(
                url, cid, token, stats, receipts=not args.no_receipts
            )
            for cid, token, url in visitors
        ),
    )
    sockets = len(consoles) + len(pages)
    print(f"  {sockets} websockets connected ({time.monotonic() - t2:.1f} s)")
    _quiet_collector()
    await asyncio.sleep(3)
    rss_after = run.rss()

    relay, turn = None, None
    if not args.no_baseline and args.alternate > 0:
        relay, turn = await Relay.start(args), Turn()

    tasks: list[asyncio.Task[None]] = []
    if not args.no_ping:
        tasks += [asyncio.create_task(p.ping_forever()) for p in (*consoles, *pages)]
    talkers = [(page, page.conversations[0]) for page in pages]
    talkers += [(console, cid) for console in consoles for cid in console.conversations]
    tasks += start_talking(talkers, args.interval, turn, "onthaal")
    if relay is not None:
        tasks += relay.start_talking(args.interval, turn)

    await asyncio.sleep(args.warmup)
    meter = Meter(run.cpu, run.watched_cpu)
    # The 1-minute load average: the cores are shared (docs/performance.md).
    load0 = os.getloadavg()[0]
    if relay is None or turn is None:
        await meter.measure(stats, args.duration)
    else:
        turn.now = "relay"
        await asyncio.sleep(min(args.warmup, 5))
        # Turns of --alternate seconds; the first half second of each is
        # not measured (the other side's last deliveries).
        measured = max(0.1, args.alternate - TURN_SETTLE_SECONDS)
        for _ in range(max(1, math.ceil(args.duration / args.alternate))):
            for side, side_stats, side_meter in (
                ("onthaal", stats, meter),
                ("relay", relay.stats, relay.meter),
            ):
                turn.now = side
                await asyncio.sleep(TURN_SETTLE_SECONDS)
                await side_meter.measure(side_stats, measured)
    load1 = os.getloadavg()[0]
    elapsed = meter.elapsed
    for task in tasks:
        task.cancel()
    # Drain: until everything sent has arrived (or 30 s).
    deadline = time.monotonic() + 30
    while stats.lost and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    open_sockets = sum(1 for p in (*consoles, *pages) if not p.reader.done())
    for peer in (*pages, *consoles):
        await peer.close()

    delivered = len(stats.latency["visitor"]) + len(stats.latency["operator"])
    everything = stats.latency["visitor"] + stats.latency["operator"]
    result = {
        "chats": args.chats,
        "sockets": sockets,
        "sockets_open_at_end": open_sockets,
        "interval_s": args.interval,
        "duration_s": round(elapsed, 1),
        "alternate_s": args.alternate if relay is not None else None,
        "offered_messages_per_s": round(2 * args.chats / args.interval, 1),
        "delivered_messages_per_s": round(delivered / elapsed, 1),
        "delivery": summary(everything),
        "delivery_to_operator": summary(stats.latency["operator"]),
        "delivery_to_visitor": summary(stats.latency["visitor"]),
        "ack": summary(stats.ack_latency),
        "sent": stats.sent_total,
        "lost": stats.lost,
        "duplicates": stats.duplicates,
        "errors": dict(stats.errors),
        "closed_early": dict(stats.close_reasons),
        "server_rss_before_mb": round(rss_before / 2**20, 1),
        "server_rss_after_mb": round(rss_after / 2**20, 1),
        "server_kb_per_socket": round((rss_after - rss_before) / 1024 / sockets, 1)
        if run.pids
        else None,
        "server_cpu_share_of_one_core": round(meter.server / elapsed, 2) if run.pids else None,
        "server_cpu_ms_per_message": round(meter.server / delivered * 1000, 2)
        if run.pids and delivered
        else None,
        "watched_cpu_ms_per_message": {
            pid: round(used / delivered * 1000, 2) for pid, used in meter.watched.items()
        }
        if delivered
        else {},
        "machine_cpu_busy": round(meter.machine_busy, 2),
        "load_average": [round(load0, 2), round(load1, 2)],
        "loadgen_cpu_share_of_one_core": round(meter.own / elapsed, 2),
    }
    run.results["chats"] = result
    if relay is None:
        print(f"  measured {elapsed:.0f} s after {args.warmup:.0f} s warm-up")
    else:
        print(
            f"  measured {elapsed:.0f} s after {args.warmup:.0f} s warm-up, in turns of "
            f"{args.alternate:.0f} s with the relay (its figures below)"
        )
    show("delivery (both ways)", everything)
    show("  visitor → operator", stats.latency["operator"])
    show("  operator → visitor", stats.latency["visitor"])
    show("send → message.ack", stats.ack_latency)
    print(
        f"  messages: offered {result['offered_messages_per_s']}/s, delivered "
        f"{result['delivered_messages_per_s']}/s; sent {stats.sent_total}, "
        f"LOST {stats.lost}, duplicates {stats.duplicates}, errors {dict(stats.errors)}"
    )
    print(f"  sockets held: {open_sockets} of {sockets}; closed early: {dict(stats.close_reasons)}")
    if run.pids:
        print(
            f"  server RSS {result['server_rss_before_mb']} MB → "
            f"{result['server_rss_after_mb']} MB: {result['server_kb_per_socket']} kB per socket"
        )
        print(
            f"  server CPU {result['server_cpu_share_of_one_core']} cores "
            f"({result['server_cpu_ms_per_message']} ms per delivered message); machine busy "
            f"{result['machine_cpu_busy']:.0%}; load generator "
            f"{result['loadgen_cpu_share_of_one_core']} cores"
        )
    print(f"  load average (1 min) {load0:.2f} at the start, {load1:.2f} at the end")
    for pid, per_message in result["watched_cpu_ms_per_message"].items():
        print(f"  process {pid} and its children: {per_message} ms CPU per delivered message")

    await asyncio.to_thread(
        srv.end_everything,
        run.env,
        prefix=run.prefix,
        conversation_ids=[cid for cid, _t, _u in visitors],
    )
    if relay is not None:
        await relay.stop()
        relay.report(run, args)
    elif not args.no_baseline:
        relay = await Relay.start(args)
        try:
            relay.start_talking(args.interval, None)
            await asyncio.sleep(min(args.warmup, 5))
            await relay.meter.measure(relay.stats, args.baseline_duration)
        finally:
            await relay.stop()
        relay.report(run, args)


# An alternating run's first half second of each turn is not measured.
TURN_SETTLE_SECONDS = 0.5


class Relay:
    """The baseline: the same pairs and message pattern through a raw
    websocket relay (bench/load/relay.py) in its own process."""

    def __init__(
        self, process: subprocess.Popen[bytes], pairs: list[tuple[Peer, Peer]], stats: Stats
    ) -> None:
        self.process = process
        self.pairs = pairs
        self.stats = stats
        self.meter = Meter(lambda: cpu_seconds(process.pid))
        self.tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def start(cls, args: argparse.Namespace) -> Relay:
        port = srv.free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.load.relay", "--port", str(port)],
            cwd=srv.REPO,
            stdout=subprocess.DEVNULL,
        )
        try:
            await asyncio.sleep(1.5)
            stats = Stats()
            relay_url = f"ws://127.0.0.1:{port}"
            pairs = await bounded(
                args.concurrency,
                (lambda n=n: relay_pair(relay_url, n, stats) for n in range(args.chats)),
            )
        except BaseException:
            process.terminate()
            process.wait(timeout=10)
            raise
        _quiet_collector()
        return cls(process, pairs, stats)

    def start_talking(self, interval: float, turn: Turn | None) -> list[asyncio.Task[None]]:
        talkers = [(peer, n) for n, pair in enumerate(self.pairs) for peer in pair]
        self.tasks = start_talking(talkers, interval, turn, "relay")
        return self.tasks

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.sleep(1)
        try:
            for pair in self.pairs:
                for peer in pair:
                    await peer.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=10)

    def report(self, run: Run, args: argparse.Namespace) -> None:
        everything = self.stats.latency["visitor"] + self.stats.latency["operator"]
        base = summary(everything)
        ours = run.results["chats"]["delivery"]
        run.results["baseline"] = {
            "delivery": base,
            "duration_s": round(self.meter.elapsed, 1),
            "relay_cpu_ms_per_message": round(self.meter.server / base["count"] * 1000, 3)
            if base["count"]
            else None,
            "machine_cpu_busy": round(self.meter.machine_busy, 2),
            "ratio_p50": ours["p50"] / base["p50"] if base["count"] else None,
            "ratio_p99": ours["p99"] / base["p99"] if base["count"] else None,
        }
        how = "in turns with Onthaal" if args.alternate > 0 else "after Onthaal"
        print(f"\n== baseline: raw websockets relay, {args.chats} pairs, same pattern, {how} ==")
        show("delivery (both ways)", everything)
        print(
            f"  relay CPU {run.results['baseline']['relay_cpu_ms_per_message']} ms per message; "
            f"machine busy {self.meter.machine_busy:.0%}"
        )
        if base["count"]:
            print(
                f"  Onthaal / relay: p50 ×{ours['p50'] / base['p50']:.2f}, "
                f"p99 ×{ours['p99'] / base['p99']:.2f}"
            )


# --- the queue scenario -------------------------------------------------------------------


def _db_commits(database_url: str | None) -> int | None:
    """Transactions committed in the database so far (each autocommit query is one)."""
    if not database_url or not database_url.startswith(("postgres://", "postgresql://")):
        return None
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else None


async def queue_scenario(run: Run, args: argparse.Namespace) -> None:
    print(f"\n== queue: {args.queue} visitors waiting, {args.queue_operators} consoles ==")
    operators = await asyncio.to_thread(
        srv.create_operators,
        run.env,
        prefix=run.prefix + "q",
        count=max(1, args.queue_operators),
    )
    status, body = await request(
        run.url(0), "GET", "/api/v1/queue", headers=csrf_headers(str(operators[0]["session"]))
    )
    already = len(body["queue"]) if status == 200 else "?"
    if already:
        print(
            f"  WARNING: {already} visitors are already waiting (an earlier run?); "
            "the sweeper ending them will add queue changes to the measurement"
        )
    t0 = time.monotonic()
    if args.open_via == "shell":
        opened = await asyncio.to_thread(
            srv.open_conversations_in_shell, run.env, takers=[None] * args.queue
        )
        visitors = [(cid, token, run.url(n)) for n, (cid, token) in enumerate(opened)]
    else:
        visitors = await open_conversations(run, args.queue, args.concurrency)
    print(
        f"  {len(visitors)} conversations opened ({args.open_via}, {time.monotonic() - t0:.1f} s)"
    )
    stats = Stats()
    await asyncio.sleep(2)
    rss_before = run.rss()
    t1 = time.monotonic()
    pages: list[Peer] = await bounded(
        args.concurrency,
        (
            lambda cid=cid, token=token, url=url: visitor_connect(
                url, cid, token, stats, receipts=False
            )
            for cid, token, url in visitors
        ),
    )
    consoles: list[Peer] = await bounded(
        args.concurrency,
        (
            lambda n=n, op=op: operator_connect(
                run.url(n), str(op["session"]), [], stats, receipts=False
            )
            for n, op in enumerate(operators[: args.queue_operators])
        ),
    )
    print(f"  {len(pages) + len(consoles)} websockets connected ({time.monotonic() - t1:.1f} s)")
    _quiet_collector()
    await asyncio.sleep(3)
    rss_after = run.rss()
    pings = [] if args.no_ping else [asyncio.create_task(p.ping_forever()) for p in pages]

    positions = {}
    for page in pages:
        welcome = page.first_frame or {}
        positions[id(page)] = (welcome.get("queue") or {}).get("position")
    taker = operators[0]
    rounds = []
    waiting = list(pages)
    for round_number in range(1, args.queue_rounds + 1):
        for page in waiting:
            page.queue_frames.clear()
        for console in consoles:
            console.queue_frames.clear()
        commits0, cpu0 = _db_commits(run.env.variables.get("ONTHAAL_DATABASE_URL")), run.cpu()
        load0 = os.getloadavg()[0]
        started = time.monotonic()
        status, body = await request(
            run.url(0), "POST", "/api/v1/queue/take", headers=csrf_headers(str(taker["session"]))
        )
        if status != 200:
            raise RuntimeError(f"queue/take: {status} {body}")
        taken = body["conversation"]["id"]
        waiting = [p for p in waiting if p.conversations[0] != taken]
        lags: dict[int, float] = {}
        deadline = started + args.queue_timeout
        while time.monotonic() < deadline:
            for page in waiting:
                if id(page) in lags:
                    continue
                expected = (positions[id(page)] or 0) - 1
                for arrived, frame in page.queue_frames:
                    if (frame.get("queue") or {}).get("position") == expected:
                        lags[id(page)] = arrived - started
                        break
            if len(lags) == len(waiting) and all(c.queue_frames for c in consoles):
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        for page in waiting:
            positions[id(page)] = (positions[id(page)] or 0) - 1
        console_lags = [
            console.queue_frames[0][0] - started for console in consoles if console.queue_frames
        ]
        commits1, cpu1 = _db_commits(run.env.variables.get("ONTHAAL_DATABASE_URL")), run.cpu()
        values = list(lags.values())
        item = {
            "round": round_number,
            "waiting": len(waiting),
            "updated": len(values),
            "update_lag": summary(values),
            "console_lag": summary(console_lags),
            "seconds": round(elapsed, 1),
            "server_cpu_seconds": round(cpu1 - cpu0, 1) if run.pids else None,
            "db_transactions": (commits1 - commits0) if commits0 is not None else None,
            "load_average": round(load0, 2),
        }
        rounds.append(item)
        print(
            f"  take {round_number}: {len(values)}/{len(waiting)} waiting visitors got their "
            f"new position within {args.queue_timeout:.0f} s; server CPU "
            f"{item['server_cpu_seconds']} s; database transactions {item['db_transactions']}; "
            f"load average {load0:.2f}"
        )
        show("    position update lag", values)
        show("    console queue update", console_lags)
        await asyncio.sleep(2)

    for task in pings:
        task.cancel()
    open_sockets = sum(1 for p in (*pages, *consoles) if not p.reader.done())
    for peer in (*pages, *consoles):
        await peer.close()
    sockets = len(pages) + len(consoles)
    run.results["queue"] = {
        "visitors": args.queue,
        "consoles": len(consoles),
        "sockets_open_at_end": open_sockets,
        "closed_early": dict(stats.close_reasons),
        "rounds": rounds,
        "errors": dict(stats.errors),
        "server_kb_per_socket": round((rss_after - rss_before) / 1024 / sockets, 1)
        if run.pids
        else None,
    }
    print(
        f"  sockets held: {open_sockets} of {sockets}; closed early: "
        f"{dict(stats.close_reasons)}; errors {dict(stats.errors)}"
    )
    if run.pids:
        print(f"  server memory: {run.results['queue']['server_kb_per_socket']} kB per socket")
    await asyncio.to_thread(
        srv.end_everything,
        run.env,
        prefix=run.prefix,
        conversation_ids=[cid for cid, _t, _u in visitors],
    )


# --- main ----------------------------------------------------------------------------------


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="onthaal-bench-") as tmp:
        env = srv.Environment.for_run(
            database_url=args.database_url,
            redis_url=args.redis_url,
            data_dir=Path(tmp),
            max_chats_per_operator=max(args.chats_per_operator, 2),
            settings_module="bench.load.settings_experiment"
            if args.persistent_db
            or args.redis_socket_timeout
            or args.db_threads
            or args.channel_layer
            else None,
        )
        if args.persistent_db:
            env.variables["ONTHAAL_BENCH_CONN_MAX_AGE"] = "600"
        if args.redis_socket_timeout:
            env.variables["ONTHAAL_BENCH_REDIS_SOCKET_TIMEOUT"] = str(args.redis_socket_timeout)
        if args.db_threads:
            env.variables["ONTHAAL_BENCH_DB_THREADS"] = str(args.db_threads)
        if args.channel_layer:
            env.variables["ONTHAAL_BENCH_CHANNEL_LAYER"] = args.channel_layer
        managed = None
        if args.url:
            run = Run(
                urls=[u.rstrip("/") for u in args.url],
                pids=args.pid,
                env=env,
                watched=args.watch_pid,
            )
        else:
            print(f"Starting {args.processes} onthaal serve process(es) …")
            env.onthaal("migrate", "--no-input")
            managed = srv.ManagedServers(env=env, count=args.processes, log_dir=Path(tmp))
            started = managed.start()
            run = Run(
                urls=[s.url for s in started],
                pids=[s.pid for s in started],
                env=env,
                watched=args.watch_pid,
            )
        run.results["setup"] = {
            "urls": run.urls,
            "processes": len(run.urls),
            "persistent_db": args.persistent_db,
            "redis_socket_timeout": args.redis_socket_timeout,
            "db_threads": args.db_threads,
            "command": " ".join(["python -m bench.load", *sys.argv[1:]]),
        }
        try:
            if args.chats:
                await chats_scenario(run, args)
            if args.queue:
                await queue_scenario(run, args)
        finally:
            if managed is not None:
                managed.stop()
                kept = Path(tempfile.mkdtemp(prefix="onthaal-bench-logs-"))
                for n, server in enumerate(managed.servers):
                    text = server.log.read_text(errors="replace")
                    (kept / f"server-{n}.log").write_text(text)
                    errors = text.count("Traceback")
                    if errors:
                        print(f"  {server.url}: {errors} tracebacks in its log")
                print(f"  server logs kept in {kept}")
        return run.results


def _stop_on_sigterm(signum: int, frame: object) -> None:
    # Unwind through the finally blocks, which stop the servers started here.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.flush_redis and args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    # uvloop, as the servers and the relay: the clients share the machine.
    results = uvloop.run(main_async(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
