#!/usr/bin/env bash
# Start Onthaal on this machine with nothing else set up:
#
#   bash scripts/serve.sh [options for `onthaal serve`]
#
# Creates .venv (Python 3.12+) and installs Onthaal into it the first time,
# applies database migrations, then runs the server in the foreground. Without
# ONTHAAL_SECRET_KEY it runs in development mode (ONTHAAL_DEBUG=true) with the
# embedded SQLite database, so it works with no configuration at all. For a
# production setup see docs/operations.md.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ONTHAAL_ROOT"

# The settings refuse to start without a secret key unless debug is on; a
# first local run has neither, so choose development mode for it. An explicit
# ONTHAAL_DEBUG (either way) is respected.
if [[ -z "${ONTHAAL_SECRET_KEY:-}" ]]; then
    export ONTHAAL_DEBUG="${ONTHAAL_DEBUG:-true}"
fi

ensure_venv
install_project ""

"$VENV/bin/onthaal" migrate
# exec: the server becomes this process, so Ctrl-C and signals from a
# process supervisor reach it directly.
exec "$VENV/bin/onthaal" serve "$@"
