#!/usr/bin/env bash
# Set up everything the test suite needs on this machine, then run all of it:
#
#   bash scripts/test.sh [extra pytest arguments]
#
# 1. Debian packages (chromium, postgresql, redis-server, fonts, npm) — only
#    the missing ones, with one `apt-get update` first.
# 2. .venv with Python 3.12+ and `pip install -e '.[test]'` — skipped while
#    pyproject.toml is unchanged since the last install.
# 3. `npm ci` for axe-core — skipped while node_modules matches the lock file.
# 4. `ruff check .`
# 5. pytest on SQLite (the default settings, development mode).
# 6. pytest again (without the browser tests) against a throwaway PostgreSQL cluster and Redis server,
#    both started here on 127.0.0.1 and stopped on exit, whatever happens.
#
# Extra arguments go to both pytest runs. Exits non-zero if any step fails
# (including pytest's exit 5, "no tests collected"). Lint and both test runs
# always all run, so one report shows every failure.
#
# Knobs (all optional): ONTHAAL_PYTHON (interpreter for a new .venv),
# ONTHAAL_TEST_BACKENDS ("sqlite postgres" by default; e.g. "sqlite" for a
# quick local run), ONTHAAL_TEST_KEEP_TMP=1 (keep the server data and logs).
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ONTHAAL_ROOT"

BACKENDS="${ONTHAAL_TEST_BACKENDS:-sqlite postgres}"
# libpango: WeasyPrint renders the annual report (PDF) with it.
DEBIAN_PACKAGES=(chromium postgresql redis-server fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0)
PG_PORT_FIRST=54329
REDIS_PORT_FIRST=63799
PG_ROLE=onthaal
PG_PASSWORD=onthaal
PG_DB=onthaal

WORK_TMP=""
PG_DIR=""
PG_BIN=""
PG_PORT=""
PG_STARTED=0
REDIS_DIR=""
REDIS_PORT=""
REDIS_STARTED=0
FAILURES=()
TOTAL_START=$SECONDS

# ---------------------------------------------------------------------------
# Clean-up: runs on every exit (success, failure, Ctrl-C, TERM from CI).
# ---------------------------------------------------------------------------
cleanup() {
    local rc=$?
    set +e
    section_end
    stop_redis
    stop_postgres
    if [[ -n "$WORK_TMP" && -d "$WORK_TMP" ]]; then
        if [[ "${ONTHAAL_TEST_KEEP_TMP:-}" == 1 ]]; then
            log "Kept server data and logs in $WORK_TMP"
        else
            rm -rf "$WORK_TMP"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------
deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_debian_packages() {
    local missing=() pkg
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    # Node.js and npm come with this machine's image; Debian's npm is the
    # fallback where they don't.
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if ((${#missing[@]} == 0)); then
        log "All Debian packages are installed: ${DEBIAN_PACKAGES[*]}."
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "Missing packages (${missing[*]}) and no apt-get to install them; install them by hand."
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "Missing packages (${missing[*]}); run as root or install them by hand."
        # No terminal (CI): sudo must not wait for a password that never comes.
        if [[ -t 0 ]]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    log "Installing missing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        die "apt-get update failed."
    # --no-install-recommends: headless Chromium needs none of the desktop
    # extras Chromium recommends, and skipping them saves minutes.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null ||
        die "apt-get install ${missing[*]} failed."
}

# ---------------------------------------------------------------------------
# npm (axe-core for the accessibility checks in the browser tests)
# ---------------------------------------------------------------------------
ensure_node_modules() {
    local stamp="node_modules/.onthaal-lock.sha256" want
    want="$(sha256sum package-lock.json | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f node_modules/axe-core/axe.min.js ]]; then
        log "node_modules matches package-lock.json."
        return 0
    fi
    # --include=dev: axe-core is a devDependency and NODE_ENV=production
    # would otherwise leave it out.
    npm ci --include=dev --no-audit --no-fund --loglevel=error || die "npm ci failed."
    [[ -f node_modules/axe-core/axe.min.js ]] || die "npm ci did not produce node_modules/axe-core/axe.min.js."
    printf '%s\n' "$want" >"$stamp"
}

# ---------------------------------------------------------------------------
# Throwaway PostgreSQL and Redis on loopback
# ---------------------------------------------------------------------------
# First port at or after $1 that nothing on 127.0.0.1 is bound to. Fixed
# starting points keep the ports predictable; the search avoids clashes with
# another run or a developer's own servers.
free_port() {
    "$VENV/bin/python" - "$1" <<'EOF'
import socket
import sys

start = int(sys.argv[1])
for port in range(start, start + 200):
    with socket.socket() as sock:
        # As the servers do: a port whose old connections linger in TIME_WAIT
        # is still free to listen on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    sys.exit(0)
sys.exit(f"no free port in {start}..{start + 199}")
EOF
}

make_work_tmp() {
    [[ -n "$WORK_TMP" ]] && return 0
    # Outside the repository so a fresh clone stays clean; world-traversable
    # so the postgres user can reach its data directory inside.
    WORK_TMP="$(mktemp -d "${TMPDIR:-/tmp}/onthaal-test.XXXXXX")"
    chmod 755 "$WORK_TMP"
}

# PostgreSQL refuses to run as root, so as root its commands run as the
# `postgres` user (created by Debian's package); anyone else runs them as
# themselves. `cd /` because postgres may not be allowed into the caller's cwd.
as_pg() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

find_pg_bin() {
    local dir
    # Debian keeps the server binaries out of PATH, one directory per major
    # version; take the newest installed.
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/postgres" ]]; then
        printf '%s\n' "$dir"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    else
        die "PostgreSQL server binaries not found (is the postgresql package installed?)."
    fi
}

start_postgres() {
    make_work_tmp
    PG_BIN="$(find_pg_bin)"
    PG_PORT="$(free_port "$PG_PORT_FIRST")"
    PG_DIR="$WORK_TMP/postgres"
    mkdir -p "$PG_DIR"
    ((EUID == 0)) && chown postgres:postgres "$PG_DIR"
    log "Starting PostgreSQL ($("$PG_BIN/postgres" --version)) on 127.0.0.1:$PG_PORT, data in $PG_DIR"
    # Local socket connections are trusted (to create the role below); TCP,
    # which the tests use, needs the password, as a real deployment would.
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$WORK_TMP/initdb.log" 2>&1; then
        cat "$WORK_TMP/initdb.log" >&2
        die "initdb failed."
    fi
    # Loopback only, socket in our own directory (not /var/run/postgresql,
    # which may not exist or belong to the system cluster), and durability
    # off: the data is thrown away, and fsync is the slow part on CI disks.
    cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# --- added by scripts/test.sh ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null; then
        cat "$PG_DIR/postgres.log" >&2 || true
        die "PostgreSQL did not start."
    fi
    PG_STARTED=1
    # A role like production's: not a superuser, but allowed to create the
    # test database pytest-django makes (test_onthaal).
    as_pg "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" \
        -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >/dev/null ||
        die "Could not create the $PG_ROLE role and database."
    # Prove the URL the tests get works before handing it over.
    PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" \
        -tAc 'SELECT 1' >/dev/null || die "Cannot log in to PostgreSQL over TCP as $PG_ROLE."
}

stop_postgres() {
    ((PG_STARTED)) || return 0
    PG_STARTED=0
    log "Stopping PostgreSQL."
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
        log "Warning: PostgreSQL did not stop; see $PG_DIR/postgres.log"
}

start_redis() {
    make_work_tmp
    command -v redis-server >/dev/null 2>&1 || die "redis-server not found (is the redis-server package installed?)."
    REDIS_PORT="$(free_port "$REDIS_PORT_FIRST")"
    REDIS_DIR="$WORK_TMP/redis"
    mkdir -p "$REDIS_DIR"
    log "Starting Redis ($(redis-server --version | awk '{sub(/^v=/, "", $3); print $3}')) on 127.0.0.1:$REDIS_PORT"
    # No persistence: nothing is written but the log and the pid file.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
        --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
        --dir "$REDIS_DIR" || die "redis-server did not start."
    REDIS_STARTED=1
    local i
    for ((i = 0; i < 100; i++)); do
        if [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; then
            return 0
        fi
        sleep 0.1
    done
    cat "$REDIS_DIR/redis.log" >&2 || true
    die "Redis did not answer on 127.0.0.1:$REDIS_PORT."
}

stop_redis() {
    ((REDIS_STARTED)) || return 0
    REDIS_STARTED=0
    log "Stopping Redis."
    local pid=""
    [[ -f "$REDIS_DIR/redis.pid" ]] && pid="$(cat "$REDIS_DIR/redis.pid")"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    if [[ -n "$pid" ]]; then
        local i
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------------------
# Checks: a failure is recorded and the next check still runs.
# ---------------------------------------------------------------------------
check() {
    local name="$1"
    shift
    local rc=0
    "$@" || rc=$?
    if ((rc != 0)); then
        FAILURES+=("$name (exit $rc)")
        log "FAILED: $name (exit $rc)"
    fi
}

# Settings shared by both runs: development mode (no secret key needed), a
# data directory outside the repository, and no services unless given below.
pytest_env() {
    env -u ONTHAAL_DATABASE_URL -u ONTHAAL_REDIS_URL \
        ONTHAAL_DEBUG=true ONTHAAL_DATA_DIR="$WORK_TMP/data" "$@"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
section "Debian packages"
ensure_debian_packages

section "Python environment (.venv)"
ensure_venv
install_project test

section "npm packages (axe-core)"
ensure_node_modules

make_work_tmp
mkdir -p "$WORK_TMP/data"

section "Lint: ruff check ."
check "ruff check" "$VENV/bin/ruff" check .

if [[ " $BACKENDS " == *" sqlite "* ]]; then
    section "pytest on SQLite"
    check "pytest on SQLite" pytest_env "$VENV/bin/python" -m pytest "$@"
fi

if [[ " $BACKENDS " == *" postgres "* ]]; then
    section "Start PostgreSQL and Redis"
    start_postgres
    start_redis

    # The browser tests ran in the SQLite pass; what they drive (pages,
    # scripts) does not depend on the database, and the two-process tests
    # (tests/multiprocess) drive real servers on PostgreSQL + Redis. Skipping
    # them here keeps the whole run well under CI's 30 minutes.
    section "pytest on PostgreSQL + Redis"
    check "pytest on PostgreSQL + Redis" pytest_env \
        ONTHAAL_DATABASE_URL="postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB" \
        ONTHAAL_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
        "$VENV/bin/python" -m pytest -m "not browser" "$@"
fi

section_end
printf '\n==== Summary (%ss in all) ====\n' "$((SECONDS - TOTAL_START))"
if ((${#FAILURES[@]})); then
    printf 'FAILED: %s\n' "${FAILURES[@]}"
    exit 1
fi
printf 'All steps passed.\n'
