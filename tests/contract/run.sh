#!/usr/bin/env bash
# tests/contract/run.sh - contract fuzzing: schemathesis (pinned in tests/tools/requirements.txt)
# against /api/openapi.json of a fresh authd, checking that no request gets a server error and
# that every answer's status, content type and body are the ones the document declares.
#   1. builds authd (`cargo build --bin authd`, honouring CARGO_TARGET_DIR),
#   2. installs the Python tools into target/tools-venv when they are missing or changed,
#   3. drops and recreates the database authd_contract (on the server scripts/dev-db finds),
#   4. starts authd on a free loopback port with a random bootstrap admin, waits for /readyz,
#   5. registers a user, logs in as that user and as the admin with curl,
#   6. runs schemathesis twice, as the user and as the admin (tests/contract/hooks.py keeps the
#      run's Bearer token alive: the fuzzer revokes its own sessions too), and always stops
#      authd afterwards.
# Exits non-zero on any finding; the failing request is printed with a curl line to replay it.
#
# Overrides:
#   AUTHD_CONTRACT_BIN       use this authd binary and skip the build
#   AUTHD_CONTRACT_DB        database name                                  [authd_contract]
#   AUTHD_CONTRACT_EXAMPLES  test cases per operation and phase             [100]
#   AUTHD_CONTRACT_SEED      schemathesis seed, to replay a run             [random]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
# log, die, ensure_cargo_on_path, ensure_tools_venv, find_pg_tool
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
log_tag='contract'

# --- authd and the tools -------------------------------------------------------------------
target=${CARGO_TARGET_DIR:-target}
[[ $target == /* ]] || target=$repo/$target
bin=$(authd_binary "${AUTHD_CONTRACT_BIN:-}")
ensure_tools_venv
schemathesis=$target/tools-venv/bin/schemathesis
[[ -x $schemathesis ]] || die "schemathesis is missing from $target/tools-venv"

# --- a fresh database ------------------------------------------------------------------------
db=${AUTHD_CONTRACT_DB:-authd_contract}
db_url=$(recreate_database "$db")

# --- start authd on a port of its choosing --------------------------------------------------
workdir=$(mktemp -d "${TMPDIR:-/tmp}/authd-contract.XXXXXX")
authd_pid=''
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
    stop_process "$authd_pid"
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
admin_user='contract-admin'
admin_password="contract-$(secret)"
user='contract-user'
user_password="contract-$(secret)"
authd_log=$workdir/authd.log

# .env in the repo must not leak in: run from the work dir (authd reads ./.env).
# Mail goes to a dead relay: verify-request queues (202) instead of the 503 of an instance
# without mail, which api/mail.rs tests; schemathesis counts every 503 as a server error.
(
    cd "$workdir"
    exec env DATABASE_URL="$db_url" \
        AUTHD_BIND=127.0.0.1:0 \
        AUTHD_COOKIE_SECURE=false \
        AUTHD_BOOTSTRAP_ADMIN="$admin_user:$admin_password" \
        AUTHD_RATE_IP_PER_MINUTE=1000000 AUTHD_RATE_IP_BURST=1000000 \
        AUTHD_SMTP_URL=smtp://127.0.0.1:9 AUTHD_MAIL_FROM=authd@example.org \
        AUTHD_LOGIN_MAX_FAILURES=1000000 \
        RUST_LOG=info \
        "$bin" serve
) >"$authd_log" 2>&1 &
authd_pid=$!
url=''
deadline=$((SECONDS + 60))
while kill -0 "$authd_pid" 2>/dev/null && ((SECONDS < deadline)); do
    url=$(grep -o 'authd listening on http://[0-9.]*:[0-9]*' "$authd_log" | head -n 1 | sed 's/.* on //') || true
    if [[ -n $url && $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz") == 200 ]]; then
        break
    fi
    url=''
    sleep 0.2
done
if [[ -z $url ]]; then
    log "authd did not become ready; its log:"
    tail -n 40 "$authd_log" >&2
    exit 1
fi
log "authd is ready at $url"

# --- accounts and tokens ---------------------------------------------------------------------
post_json() { curl -sS --fail-with-body --max-time 10 -H 'content-type: application/json' -d "$2" "$url$1"; }
token_of() {
    post_json /api/auth/login "{\"username\":\"$1\",\"password\":\"$2\"}" |
        "$target/tools-venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
post_json /api/auth/register "{\"username\":\"$user\",\"password\":\"$user_password\"}" >/dev/null ||
    die "could not register $user"
user_token=$(token_of "$user" "$user_password") || die "could not log in as $user"
admin_token=$(token_of "$admin_user" "$admin_password") || die "could not log in as $admin_user"

# --- the runs --------------------------------------------------------------------------------
examples=${AUTHD_CONTRACT_EXAMPLES:-100}
seed_args=()
[[ -z ${AUTHD_CONTRACT_SEED:-} ]] || seed_args=(--seed "$AUTHD_CONTRACT_SEED")
fuzz() {
    local who=$1 name=$2 password=$3 token=$4
    log "schemathesis as $who ($name), $examples examples per operation"
    # From the work dir: schemathesis keeps a .schemathesis/ cache where it runs.
    (cd "$workdir" &&
        AUTHD_CONTRACT_BASE_URL=$url AUTHD_CONTRACT_USERNAME=$name AUTHD_CONTRACT_PASSWORD=$password \
        AUTHD_CONTRACT_TOKEN=$token SCHEMATHESIS_HOOKS=$repo/tests/contract/hooks.py \
        "$schemathesis" run "$url/api/openapi.json" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,coverage,fuzzing,stateful \
        --max-examples "$examples" \
        --generation-database none \
        --request-timeout 10 \
        --no-color \
        "${seed_args[@]}")
}
status=0
fuzz user "$user" "$user_password" "$user_token" || status=$?
fuzz admin "$admin_user" "$admin_password" "$admin_token" || status=$?

if ((status != 0)); then
    log "findings (exit $status); server errors in the authd log:"
    grep -E ' (5[0-9][0-9]) |ERROR' "$authd_log" | tail -n 20 >&2 || true
fi
exit "$status"
