"""The ``onthaal`` command: serve, migrate, createoperator, and every Django
management command.

``onthaal serve`` runs uvicorn with the ASGI app. Its access log is off,
because an access log line holds the client's IP address.
"""

from __future__ import annotations

import gc
import os
import sys


def _serve(argv: list[str]) -> int:
    import argparse
    import logging

    parser = argparse.ArgumentParser(prog="onthaal serve", description="Serve Onthaal.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("ONTHAAL_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-For is trusted (default 127.0.0.1)",
    )
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="on SIGTERM, how long open websockets get to close before the process "
        "exits anyway (default 10); clients reconnect to another process",
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=2048,
        help="pending connections the kernel queues; raise it if thousands of "
        "clients reconnect at once after a restart (default 2048)",
    )
    args = parser.parse_args(argv)

    import django
    import uvicorn

    django.setup()
    from django.conf import settings

    shown_host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host  # noqa: S104
    base = f"http://{shown_host}:{args.port}"
    from onthaal import config

    if config.load().log_format == "json":
        # Every line of output is JSON then, for the log collector.
        logging.getLogger("onthaal.serve").info(
            "serving on %s/", base, extra={"event": "server.started"}
        )
    else:
        print(f"Onthaal is running on {base}/")
        print(f"  visitor page:     {base}/")
        print(f"  operator console: {base}/medewerker/")
        print(f"  admin:            {base}/beheer/")
        print("  first account:    onthaal createoperator --role administrator")
        if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
            print(f"  database:         SQLite ({settings.DATABASES['default']['NAME']})")
        if not os.environ.get("ONTHAAL_REDIS_URL"):
            print("  channel layer:    in memory (single process only)")
    sys.stdout.flush()
    from onthaal.asgi import application

    _tune_garbage_collector()
    uvicorn.run(
        application,
        host=args.host,
        port=args.port,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        lifespan="on",
        ws="websockets-sansio",
        # Off by default: chat frames are a few hundred bytes, and compression
        # kept ~40 kB per socket and ~10 % CPU (docs/performance.md).
        ws_per_message_deflate=config.load().ws_compression,
        log_level="warning",
        # uvicorn's own records go through Django's LOGGING (plain or JSON).
        log_config=None,
        server_header=False,
        timeout_graceful_shutdown=args.graceful_timeout,
        backlog=args.backlog,
    )
    return 0


# The cyclic garbage collector's thresholds in a server process (Python's
# defaults: 700, 10, 10); see _tune_garbage_collector.
GC_THRESHOLDS = (10_000, 20, 100)


def _tune_garbage_collector() -> None:
    """Shorter and rarer pauses of the cyclic garbage collector while serving.

    With 1,000 chats on a process, a full collection walked some 380,000
    objects and stopped the process for 0.1–0.5 s every ten seconds or so,
    the largest part of the slowest deliveries (docs/performance.md,
    "Load"). What is loaded at start (Django, the apps, the URL
    configuration) lives as long as the process: it is frozen, so that no
    collection walks it again; and the young generations are larger, so
    that the short-lived objects of a frame die before a collection sees
    them and long-lived ones reach the oldest generation less often. Memory
    held by reference cycles is still freed, later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onthaal.settings")
    from onthaal.config import ConfigError

    try:
        from onthaal import config

        # A fresh data directory (ONTHAAL_DATA_DIR) is created on first use.
        config.load().data_dir.mkdir(parents=True, exist_ok=True)
        if argv and argv[0] == "serve":
            return _serve(argv[1:])
        from django.core.management import execute_from_command_line

        if not argv:
            argv = ["help"]
        execute_from_command_line(["onthaal", *argv])
    except ConfigError as exc:
        print(f"onthaal: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
