#!/usr/bin/env bash
# Deployment test: the real nginx, running deploy/nginx.conf (only ports rewritten), in front of
# a real authd on a fresh database. Checks what a deployment depends on: proxying, client
# addresses that cannot be forged, and auth_request guarding another service by token and role.
# Needs DATABASE_URL (any database on the server; scripts/test provides it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# ensure_cargo_on_path, find_pg_tool
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

say() { printf 'deploy: %s\n' "$*" >&2; }
fail() {
    say "FAIL: $*"
    exit 1
}

if ! command -v nginx >/dev/null && [[ ! -x /usr/sbin/nginx ]]; then
    say "installing nginx"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx >/dev/null ||
        { $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx >/dev/null; }
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || shuf -i 20000-60000 -n 1; }

work=$(mktemp -d /tmp/authd-deploy.XXXXXX)
chmod 755 "$work"
authd_pid=""
cleanup() {
    [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    [[ -n $authd_pid ]] && kill "$authd_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

: "${DATABASE_URL:?set DATABASE_URL (scripts/test does)}"
db_url=$(scripts/dev-db authd_deploy)
# A fresh database: drop what an earlier run left.
base=${db_url%/authd_deploy*}
psql_bin=$(find_pg_tool psql) || fail "psql not found"
"$psql_bin" -X -q -d "$base/postgres" -c "DROP DATABASE IF EXISTS authd_deploy WITH (FORCE)" -c "CREATE DATABASE authd_deploy" >/dev/null

ensure_cargo_on_path
cargo build -q --bin authd
bin=${CARGO_TARGET_DIR:-target}/debug/authd
app_port=$(free_port)
guarded_port=$(free_port)
edge_port=$(free_port)
admin_password="deploy-admin-$(head -c 9 /dev/urandom | base64 | tr '+/' '-_')"

DATABASE_URL=$db_url AUTHD_BIND=127.0.0.1:$app_port AUTHD_COOKIE_SECURE=false RUST_LOG=warn \
    AUTHD_BOOTSTRAP_ADMIN="admin:$admin_password" "$bin" serve >"$work/authd.log" 2>&1 &
authd_pid=$!

# The site file as shipped, with only addresses rewritten; its includes beside it.
sed -e "s/server 127.0.0.1:8080;/server 127.0.0.1:$app_port;/" \
    -e "s/server 127.0.0.1:9000;/server 127.0.0.1:$guarded_port;/" \
    -e "s/listen 80;/listen 127.0.0.1:$edge_port;/" deploy/nginx.conf >"$work/site.conf"
cp deploy/authd_identity.conf deploy/authd_subrequest.conf "$work/"
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    include $work/site.conf;
    # The guarded service: echoes who nginx says is calling.
    server {
        listen 127.0.0.1:$guarded_port;
        location / {
            default_type text/plain;
            return 200 "path=\$uri user=\$http_x_auth_username roles=\$http_x_auth_roles id=\$http_x_auth_user_id\n";
        }
    }
}
CONF
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf" || fail "nginx -t rejected deploy/nginx.conf"
"$nginx_bin" -p "$work" -c "$work/nginx.conf"

edge=http://127.0.0.1:$edge_port
for _ in $(seq 1 150); do
    curl -sf "http://127.0.0.1:$app_port/readyz" >/dev/null 2>&1 && break
    kill -0 "$authd_pid" 2>/dev/null || { cat "$work/authd.log" >&2; fail "authd exited"; }
    sleep 0.2
done
curl -sf "$edge/readyz" >/dev/null || fail "readyz through nginx"

checks=0
expect() { # expect LABEL WANT GOT
    checks=$((checks + 1))
    [[ $3 == "$2" ]] || fail "$1: expected '$2', got '$3'"
}
contains() { # contains LABEL NEEDLE HAYSTACK
    checks=$((checks + 1))
    [[ $3 == *"$2"* ]] || fail "$1: '$2' not in: $3"
}
json_field() { sed -E "s/.*\"$1\":\"([^\"]*)\".*/\\1/"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

J='content-type: application/json'
password='deploy-user-passphrase'
expect "register through nginx" 201 "$(status -X POST "$edge/api/auth/register" -H "$J" \
    -d "{\"username\":\"alice\",\"password\":\"$password\"}")"
# A forged X-Forwarded-For from the client must not become the recorded address.
pair=$(curl -s -X POST "$edge/api/auth/login" -H "$J" -H 'X-Forwarded-For: 203.0.113.7' \
    -d "{\"username\":\"alice\",\"password\":\"$password\"}")
token=$(json_field access_token <<<"$pair")
[[ -n $token && $token != "$pair" ]] || fail "login through nginx: $pair"
sessions=$(curl -s "$edge/api/auth/sessions" -H "Authorization: Bearer $token")
contains "session records the real client address" '"ip":"127.0.0.1"' "$sessions"
[[ $sessions != *203.0.113.7* ]] || fail "a forged X-Forwarded-For was believed: $sessions"
contains "request id through nginx" "x-request-id" "$(curl -s -D - -o /dev/null "$edge/healthz" | tr 'A-Z' 'a-z')"

# Metrics: served to whoever reaches authd itself, refused at the edge however the path is spelt.
expect "metrics on authd's own address" 200 "$(status "http://127.0.0.1:$app_port/metrics")"
for path in /metrics '/metrics?x=1' //metrics /%6Detrics /./metrics; do
    expect "metrics through nginx ($path)" 403 "$(status --path-as-is "$edge$path")"
done

# auth_request: no token, a forged identity header, a good token, a role gate.
expect "guarded without a token" 401 "$(status "$edge/app/hello")"
expect "guarded with a bad token" 401 "$(status "$edge/app/hello" -H 'Authorization: Bearer not.a.token')"
expect "guarded with only a forged header" 401 "$(status "$edge/app/hello" -H 'X-Auth-Username: admin')"
body=$(curl -s "$edge/app/hello" -H "Authorization: Bearer $token" -H 'X-Auth-Username: admin')
contains "guarded service sees the caller" "path=/hello user=alice roles=user" "$body"
expect "admin area for a user" 403 "$(status "$edge/app/admin/panel" -H "Authorization: Bearer $token")"
admin_token=$(curl -s -X POST "$edge/api/auth/login" -H "$J" \
    -d "{\"username\":\"admin\",\"password\":\"$admin_password\"}" | json_field access_token)
contains "admin area for an admin" "path=/admin/panel user=admin roles=admin,user" \
    "$(curl -s "$edge/app/admin/panel" -H "Authorization: Bearer $admin_token")"
# The admin gate holds however the path is spelt: the guarded service must never see an admin
# path from a plain user.
for path in /app/admin /app/admin/ '/app/admin;x' /app//admin /app/ADMIN /app/Admin/panel \
    /app/%61dmin /app/%41DMIN/x /app/./admin /app/x/../admin '/app/admin?x=1' /app/admin.json; do
    expect "admin area for a user ($path)" 403 \
        "$(status --path-as-is "$edge$path" -H "Authorization: Bearer $token")"
    expect "admin area without a token ($path)" 401 "$(status --path-as-is "$edge$path")"
    contains "admin area for an admin ($path)" "user=admin roles=admin,user" \
        "$(curl -s --path-as-is "$edge$path" -H "Authorization: Bearer $admin_token")"
done
contains "other paths stay open to users" "path=/hello/admin user=alice" \
    "$(curl -s "$edge/app/hello/admin" -H "Authorization: Bearer $token")"

# Revocation reaches the edge at once.
expect "logout through nginx" 204 "$(status -X POST "$edge/api/auth/logout" -H "Authorization: Bearer $token")"
expect "guarded after logout" 401 "$(status "$edge/app/hello" -H "Authorization: Bearer $token")"

# The dashboard through the proxy: same-origin POSTs pass the Origin check behind nginx.
expect "dashboard redirects to login" 303 "$(status "$edge/admin")"
jar=$work/cookies
login_page=$(curl -s -c "$jar" -b "$jar" "$edge/admin/login")
csrf=$(grep -o 'name="csrf_token" value="[^"]*"' <<<"$login_page" | cut -d'"' -f4)
expect "dashboard login through nginx" 303 "$(status -c "$jar" -b "$jar" -X POST "$edge/admin/login" \
    -H "Origin: $edge" --data-urlencode username=admin --data-urlencode "password=$admin_password" \
    --data-urlencode "csrf_token=$csrf")"
expect "dashboard page through nginx" 200 "$(status -b "$jar" "$edge/admin/users")"

# Last (it empties the buckets of 127.0.0.1): a burst of unauthenticated POSTs is cut short by
# nginx's limit_req with 429 (nginx's own HTML answer, not authd's problem+json).
nginx_429=0
for _ in $(seq 1 40); do
    answer=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -X POST "$edge/api/auth/refresh" \
        -H "$J" -d '{"refresh_token":"not-a-token"}')
    [[ $answer == "429 text/html"* ]] && nginx_429=$((nginx_429 + 1))
done
checks=$((checks + 1))
((nginx_429 >= 10)) || fail "nginx answers 429 to a refresh burst: only $nginx_429 of 40"
expect "nginx answers 429 to a login burst" 429 "$(status -X POST "$edge/api/auth/login" -H "$J" \
    -d '{"username":"alice","password":"whatever it is"}')"
expect "the sign-in form still loads after the burst" 200 "$(status "$edge/admin/login")"

say "all $checks checks passed (nginx $("$nginx_bin" -v 2>&1 | sed 's/.*\///'))"
