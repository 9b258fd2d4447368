# shellcheck shell=bash
# scripts/lib.sh - small shell helpers shared by scripts/run, scripts/test, scripts/dev-db,
# tests/e2e/run.sh, tests/deploy/run.sh and bench/run, so that each snippet has one home.
#
# Sourced, not executed (bash only):
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # from a script in scripts/, before any cd
#     . scripts/lib.sh                           # once the working directory is the repo root
# with `# shellcheck source=scripts/lib.sh` above it; lint from the repo root with shellcheck -x.
#
# It only defines functions: no shell options, no output, no cd, no variables set, so the
# caller's `set -euo pipefail`, nullglob, stdout and working directory stay as they were.
#
#   log MESSAGE...         "$log_tag: MESSAGE" on stderr (log_tag: set it after sourcing;
#                          default: the script's file name)
#   die MESSAGE...         log "error: MESSAGE" and exit 1
#   as_root CMD...         run CMD as root: directly, else with sudo, else die
#   apt_install PKG...     apt-get install PKG... (no recommends), all output on stderr; on
#                          failure update the package lists once and retry
#   ensure_cargo_on_path   put ${CARGO_HOME:-~/.cargo}/bin on PATH if cargo is not on PATH
#   find_pg_tool NAME      print the path of a PostgreSQL program: from PATH, else the newest
#                          /usr/lib/postgresql/*/bin/NAME; return 1 if there is none
#   redact_url URL         print URL with its password (if any) replaced by ***
#   authd_binary [PATH]    (from the repo root) print the authd binary to test: PATH when given,
#                          else build it (cargo build --locked --bin authd) and print its path
#   recreate_database NAME (from the repo root) drop database NAME on the server dev-db finds
#                          and create it afresh; print its URL
#   stop_process PID       TERM, then up to 5 s later KILL, then reap PID (if it still runs)
#   ensure_tools_venv      (from the repo root) the pinned Python tools of the tests
#                          (tests/tools/requirements.txt) in ${CARGO_TARGET_DIR:-target}/tools-venv,
#                          installed when missing or changed; exports AUTHD_TEST_PYTHON

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    echo "scripts/lib.sh is sourced, not run: . scripts/lib.sh" >&2
    exit 2
fi

log() { printf '%s: %s\n' "${log_tag:-${0##*/}}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "not root and no sudo: cannot run: $*"
    fi
}

apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
    local cmd=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300
        install --no-install-recommends "$@")
    log "installing $* with apt-get"
    # apt-get's output goes to stderr: a script's stdout may be its result (dev-db).
    # A fresh machine may have empty or stale package lists: update only then.
    # 3>&-: a server that a package's postinst starts must not inherit fd 3 (dev-db's stdout).
    if ! as_root "${cmd[@]}" >&2 3>&-; then
        log "apt-get install failed; updating the package lists and retrying"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update >&2 3>&-
        as_root "${cmd[@]}" >&2 3>&-
    fi
}

# cargo from rustup may not be on PATH in a non-login shell (CI).
ensure_cargo_on_path() {
    if ! command -v cargo >/dev/null && [[ -x ${CARGO_HOME:-$HOME/.cargo}/bin/cargo ]]; then
        PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    fi
}

# Debian puts only wrappers, or nothing, on PATH; the programs live in
# /usr/lib/postgresql/<major>/bin. Works with and without nullglob.
find_pg_tool() {
    local t found=()
    if t=$(command -v "$1"); then
        printf '%s\n' "$t"
        return 0
    fi
    for t in /usr/lib/postgresql/*/bin/"$1"; do
        if [[ -x $t ]]; then found+=("$t"); fi
    done
    ((${#found[@]})) || return 1
    printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

# For messages: postgres://user:secret@host/db -> postgres://user:***@host/db.
redact_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# The Python tools the tests call (an independent JWT verifier, schemathesis), pinned in
# tests/tools/requirements.txt, in a venv under target/ so nothing outside it changes.
ensure_tools_venv() {
    local venv=${CARGO_TARGET_DIR:-target}/tools-venv
    local stamp=$venv/.requirements fresh=()
    # A venv copied from another checkout (a copied target/) runs scripts of the original one,
    # and pip would install there: start afresh.
    if [[ -f $venv/bin/pip ]] && ! head -n 1 "$venv/bin/pip" | grep -qF "$(cd "$venv" && pwd)/bin/"; then
        fresh=(--clear)
        rm -f "$stamp"
    fi
    if ! cmp -s tests/tools/requirements.txt "$stamp" ||
        ! "$venv/bin/python" -c 'import jwt, schemathesis, aiosmtpd' 2>/dev/null; then
        log "python3 -m venv ${fresh[*]} $venv; pip install -r tests/tools/requirements.txt"
        command -v python3 >/dev/null || apt_install python3 python3-venv
        python3 -m venv "${fresh[@]}" "$venv" 2>/dev/null || {
            apt_install python3-venv
            python3 -m venv "${fresh[@]}" "$venv"
        } || die "could not create a Python venv at $venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check \
            -r tests/tools/requirements.txt >&2 ||
            die "could not install tests/tools/requirements.txt"
        cp tests/tools/requirements.txt "$stamp"
    fi
    AUTHD_TEST_PYTHON=$(cd "$venv/bin" && pwd)/python
    export AUTHD_TEST_PYTHON
}

recreate_database() {
    local db=$1 maint_url psql
    maint_url=$(scripts/dev-db postgres) || die "no PostgreSQL server (scripts/dev-db postgres failed)"
    psql=$(find_pg_tool psql) || die "psql not found"
    log "recreating database $db"
    PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" "$psql" -X -w -q -v ON_ERROR_STOP=1 \
        -d "$maint_url" -v db="$db" <<<'drop database if exists :"db" with (force)' >&2 ||
        die "could not drop database $db"
    scripts/dev-db "$db" || die "could not create database $db"
}

stop_process() {
    local pid=$1
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

authd_binary() {
    local bin=${1:-}
    if [[ -z $bin ]]; then
        local target=${CARGO_TARGET_DIR:-target}
        [[ $target == /* ]] || target=$PWD/$target
        ensure_cargo_on_path
        command -v cargo >/dev/null || die "no Rust toolchain (cargo) found"
        log "cargo build --bin authd"
        cargo build --locked --bin authd >&2 || die "cargo build failed"
        bin=$target/debug/authd
    fi
    [[ -x $bin ]] || die "no authd binary at $bin"
    printf '%s\n' "$bin"
}
