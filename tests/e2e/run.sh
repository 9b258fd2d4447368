#!/usr/bin/env bash
# tests/e2e/run.sh [TEST FILE...] - the end-to-end browser tests of the admin dashboard:
#   1. installs Debian's chromium with apt-get if /usr/bin/chromium is missing,
#   2. `npm ci` in tests/e2e (playwright-core, exact-pinned; it downloads no browser),
#   3. builds authd (`cargo build --bin authd`, honouring CARGO_TARGET_DIR),
#   4. drops and recreates the database authd_e2e (on the server scripts/dev-db finds),
#   5. starts authd on a free loopback port with a random bootstrap admin and waits for /readyz,
#   6. runs `node --test` (default: tests/e2e/*.test.mjs) with AUTHD_URL, ADMIN_USER and
#      ADMIN_PASSWORD, and always stops authd afterwards.
# Exits with the tests' exit code. Screenshots land in SCREENSHOT_DIR, by default
# target/e2e-screenshots/ (under CARGO_TARGET_DIR if set): a test run changes nothing in git.
#
# Overrides:
#   AUTHD_E2E_BIN       use this authd binary and skip the build
#   AUTHD_E2E_DB        database name                                  [authd_e2e]
#   AUTHD_E2E_DEMO      1: fill the database with `authd demo-seed` first, and sign in as its
#                       administrator instead of a bootstrap admin (scripts/screenshots does)
#   SCREENSHOT_DIR      where the tests save screenshots               [target/e2e-screenshots]
#   CHROMIUM_PATH       the browser                                    [/usr/bin/chromium]
#   AUTHD_E2E_TIMEOUT   seconds to wait for authd to become ready      [60]
set -euo pipefail

orig=$PWD
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
# log, die, apt_install, ensure_cargo_on_path, find_pg_tool
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
log_tag='e2e'

# --- the browser ------------------------------------------------------------------------------
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM_PATH ]]; then
    [[ $CHROMIUM_PATH == /usr/bin/chromium ]] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not executable"
    # The fonts are for the screenshots.
    apt_install chromium fonts-dejavu-core fonts-liberation
    [[ -x $CHROMIUM_PATH ]] || die "still no $CHROMIUM_PATH after installing chromium"
fi
log "browser: $("$CHROMIUM_PATH" --version 2>/dev/null || echo "$CHROMIUM_PATH")"

# --- node dependencies -----------------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm are needed (Node.js 20 or later)"
fi
log "npm ci in tests/e2e"
# playwright-core downloads nothing on install; this keeps any other browser fetch off as well.
(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2)

# --- authd ---------------------------------------------------------------------------------
target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target=$repo/$target
bin=$(authd_binary "${AUTHD_E2E_BIN:-}")

# --- a fresh database --------------------------------------------------------------------------
db=${AUTHD_E2E_DB:-authd_e2e}
db_url=$(recreate_database "$db")

# --- start authd -------------------------------------------------------------------------------
workdir=$(mktemp -d "${TMPDIR:-/tmp}/authd-e2e.XXXXXX")
authd_pid=''
# shellcheck disable=SC2317 # called from the EXIT trap
stop_authd() {
    stop_process "$authd_pid"
    authd_pid=''
}
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
    stop_authd
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

admin_user='admin'
admin_password="e2e-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
if [[ -n ${AUTHD_E2E_DEMO:-} ]]; then
    log "authd demo-seed"
    # As for serve below: run from the work dir, so that the repo's .env stays out.
    seeded=$(cd "$workdir" && DATABASE_URL="$db_url" RUST_LOG=warn "$bin" demo-seed) ||
        die "authd demo-seed failed"
    log "$(head -n 1 <<<"$seeded")"
    admin_user=$(sed -n 's/^admin: //p' <<<"$seeded")
    admin_password=$(sed -n 's/^password: //p' <<<"$seeded")
    [[ -n $admin_user && -n $admin_password ]] || die "demo-seed printed no admin and password"
    # The bootstrap admin below then finds an administrator and adds nobody.
fi
timeout=${AUTHD_E2E_TIMEOUT:-60}
authd_log=$workdir/authd.log
url=''

# A free port can be taken between asking and binding: try a few.
for attempt in 1 2 3; do
    port=$(free_port)
    url=http://127.0.0.1:$port
    log "starting $bin on $url (attempt $attempt)"
    # .env in the repo must not leak in: cd to the work dir (authd reads ./.env).
    (
        cd "$workdir"
        exec env DATABASE_URL="$db_url" \
            AUTHD_BIND="127.0.0.1:$port" \
            AUTHD_COOKIE_SECURE=false \
            AUTHD_BOOTSTRAP_ADMIN="$admin_user:$admin_password" \
            AUTHD_RATE_IP_PER_MINUTE=1000000 AUTHD_RATE_IP_BURST=1000000 \
            AUTHD_LOGIN_MAX_FAILURES=1000000 \
            RUST_LOG=warn \
            "$bin" serve
    ) >"$authd_log" 2>&1 &
    authd_pid=$!
    deadline=$((SECONDS + timeout))
    ready=''
    while kill -0 "$authd_pid" 2>/dev/null && ((SECONDS < deadline)); do
        if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" 2>/dev/null) == 200 ]]; then
            ready=1
            break
        fi
        sleep 0.2
    done
    [[ -n $ready ]] && break
    if kill -0 "$authd_pid" 2>/dev/null; then
        log "authd did not become ready within ${timeout}s; its log:"
        tail -n 40 "$authd_log" >&2
        exit 1
    fi
    wait "$authd_pid" 2>/dev/null || true
    authd_pid=''
    log "authd exited before becoming ready; its log:"
    tail -n 40 "$authd_log" >&2
    grep -qi 'address already in use\|addrinuse' "$authd_log" || exit 1
done
[[ -n $authd_pid ]] || die "could not start authd"
log "authd is ready at $url"

# --- the tests ---------------------------------------------------------------------------------
files=()
for f in "$@"; do
    [[ $f == /* ]] || f=$orig/$f
    files+=("$f")
done
((${#files[@]})) || files=("$here"/*.test.mjs)
shots=${SCREENSHOT_DIR:-$target/e2e-screenshots}
[[ $shots == /* ]] || shots=$orig/$shots
status=0
(
    cd "$here"
    AUTHD_URL=$url ADMIN_USER=$admin_user ADMIN_PASSWORD=$admin_password \
        SCREENSHOT_DIR="$shots" \
        node --test --test-concurrency=1 "${files[@]}"
) || status=$?

if ((status != 0)); then
    log "tests failed (exit $status); last lines of the authd log:"
    tail -n 40 "$authd_log" >&2
fi
exit "$status"
