# shellcheck shell=bash
# Shared helpers for scripts/serve.sh and scripts/test.sh. Sourced, not run.
#
# Everything here is idempotent: each step checks whether its work is already
# done and returns at once if so, so running a script a second time is fast.

# The repository root, whatever directory the caller started in.
ONTHAAL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ONTHAAL_ROOT/.venv"

# Django 6.1 needs Python 3.12 or newer.
MIN_PY_MAJOR=3
MIN_PY_MINOR=12

log() { printf '%s\n' "$*" >&2; }
die() {
    log ""
    log "ERROR: $*"
    exit 1
}

# Section header with a running clock, so CI logs show where the time goes.
_SECTION_NAME=""
_SECTION_START=0
section() {
    section_end
    _SECTION_NAME="$*"
    _SECTION_START=$SECONDS
    printf '\n==== %s ====\n' "$*"
}
section_end() {
    if [[ -n "$_SECTION_NAME" ]]; then
        printf -- '---- %s: %ss\n' "$_SECTION_NAME" "$((SECONDS - _SECTION_START))"
        _SECTION_NAME=""
    fi
}

# True when "$1" is a Python interpreter that actually starts and is new enough.
# pyenv shims exist on PATH for every installed version but exit 127 ("command
# not found") unless that version is selected, so existence alone proves nothing.
python_ok() {
    local py="$1"
    [[ -n "$py" ]] || return 1
    "$py" -c "import sys; sys.exit(0 if sys.version_info >= ($MIN_PY_MAJOR, $MIN_PY_MINOR) else 1)" \
        >/dev/null 2>&1
}

# Print the path of a usable Python >= 3.12, or fail with advice.
# Order: $ONTHAAL_PYTHON (explicit override), named interpreters on PATH, then
# pyenv's installed versions directly (bypassing the shims), oldest first so a
# fresh venv matches the floor in pyproject's requires-python.
find_python() {
    local candidate
    for candidate in "${ONTHAAL_PYTHON:-}" python3.13 python3.12 python3; do
        [[ -n "$candidate" ]] || continue
        if python_ok "$candidate"; then
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    local pyenv_root=""
    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root 2>/dev/null || true)"
    fi
    pyenv_root="${pyenv_root:-${PYENV_ROOT:-$HOME/.pyenv}}"
    local versions=()
    if [[ -d "$pyenv_root/versions" ]]; then
        # Plain CPython releases 3.12 and later; skip free-threaded ("t") and
        # other variants, whose wheels (psycopg-binary) may not exist.
        mapfile -t versions < <(
            find "$pyenv_root/versions" -mindepth 1 -maxdepth 1 -regextype posix-extended \
                -regex '.*/3\.(1[2-9]|[2-9][0-9])\.[0-9]+' -printf '%f\n' | sort -V
        )
    fi
    local v
    for v in "${versions[@]}"; do
        candidate="$pyenv_root/versions/$v/bin/python3"
        if python_ok "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    die "No Python $MIN_PY_MAJOR.$MIN_PY_MINOR or newer found (tried \$ONTHAAL_PYTHON, python3.13, python3.12, python3 and pyenv versions under ${pyenv_root}).
Onthaal needs Python $MIN_PY_MAJOR.$MIN_PY_MINOR+. Ask the administrator to install it, for example
  apt-get install python3.12 python3.12-venv   (on a distribution that packages it), or
  pyenv install 3.12
then run this script again, or point ONTHAAL_PYTHON at the interpreter."
}

# True when .venv exists, its interpreter runs, is new enough, and has pip.
# A venv whose base interpreter was removed or upgraded has a dangling python
# symlink; that one is rebuilt rather than trusted.
venv_healthy() {
    [[ -x "$VENV/bin/python" ]] || return 1
    python_ok "$VENV/bin/python" || return 1
    "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
    if venv_healthy; then
        log "Reusing $VENV ($("$VENV/bin/python" -V 2>&1))."
        return 0
    fi
    local py
    py="$(find_python)"
    if [[ -e "$VENV" ]]; then
        log "$VENV is broken or too old; recreating it."
        rm -rf "$VENV"
    fi
    log "Creating $VENV with $py ($("$py" -V 2>&1))."
    "$py" -m venv "$VENV" || die "Could not create $VENV with $py. On Debian the venv module may need the python3.X-venv package."
}

# A fingerprint of what the installed packages depend on: the project file and
# the interpreter. When it matches the stamp in the venv, pip is skipped.
_install_fingerprint() {
    {
        cat "$ONTHAAL_ROOT/pyproject.toml"
        "$VENV/bin/python" -V 2>&1
        printf '%s\n' "$ONTHAAL_ROOT"
    } | sha256sum | cut -d' ' -f1
}

# The editable install must point at *this* checkout (a copied or moved tree
# would otherwise import the code of the old one).
_editable_points_here() {
    local where
    where="$(cd / && "$VENV/bin/python" -c 'import onthaal, os; print(os.path.dirname(os.path.dirname(os.path.realpath(onthaal.__file__))))' 2>/dev/null)" || return 1
    [[ "$where" == "$(realpath "$ONTHAAL_ROOT")" ]]
}

# install_project [EXTRA]: pip install -e .[EXTRA] unless the stamp says this
# exact pyproject.toml is already installed (with that extra).
install_project() {
    local extra="${1:-}"
    local stamp="$VENV/.onthaal-installed${extra:+-$extra}"
    local target="."
    [[ -n "$extra" ]] && target=".[$extra]"
    local fp
    fp="$(_install_fingerprint)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$fp" ]] && _editable_points_here; then
        log "Python packages are up to date (pyproject.toml unchanged since the last install)."
        return 0
    fi
    log "Installing Onthaal and its dependencies: pip install -e '$target' (this takes a minute the first time)."
    # -qq: errors only. Plain -q would also print a warning per package for
    # every extra index in the machine's pip config that lacks it, burying
    # anything useful; a failure still prints pip's full error.
    (cd "$ONTHAAL_ROOT" && "$VENV/bin/python" -m pip install -qq --disable-pip-version-check -e "$target") ||
        die "pip install -e '$target' failed (see the messages above)."
    printf '%s\n' "$fp" >"$stamp"
    # A [test] install includes everything the plain install has.
    [[ -n "$extra" ]] && printf '%s\n' "$fp" >"$VENV/.onthaal-installed"
    return 0
}
