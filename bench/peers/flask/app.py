"""Reference peer for authd's benchmarks: Flask + Flask-JWT-Extended.

The textbook shape of such a service: register, login (argon2id, m=19456 KiB, t=2, p=1, like
authd), a protected route, refresh, logout with a blocklist. Users and the blocklist live in
PostgreSQL (its own database; PEER_DATABASE_URL), so every worker process sees the same state.
Tokens are HS256 (Flask-JWT-Extended's default) signed with PEER_JWT_SECRET.

Served by gunicorn (see gunicorn.conf.py): gthread, 4 workers x 4 threads.
"""

import os
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
)
from psycopg_pool import ConnectionPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS token_blocklist (
    jti        text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

# argon2id with the OWASP parameters authd uses.
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = os.environ.get("PEER_JWT_SECRET", "bench-secret-" + "x" * 32)
app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(minutes=15)
app.config["JWT_REFRESH_TOKEN_EXPIRES"] = timedelta(days=30)
jwt = JWTManager(app)

pool = ConnectionPool(
    os.environ["PEER_DATABASE_URL"],
    min_size=1,
    max_size=int(os.environ.get("PEER_POOL_SIZE", "4")),
    open=False,
)


def init_db():  # the same, for use without gunicorn
    with pool.connection() as conn:
        conn.execute(SCHEMA)


@jwt.token_in_blocklist_loader
def check_if_token_revoked(_jwt_header, jwt_payload):
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT 1 FROM token_blocklist WHERE jti = %s", (jwt_payload["jti"],)
        ).fetchone()
    return row is not None


@app.post("/register")
def register():
    body = request.get_json(force=True, silent=True) or {}
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or len(password) < 12:
        return jsonify(error="invalid"), 400
    phc = hasher.hash(password)
    with pool.connection() as conn:
        cur = conn.execute(
            "INSERT INTO users (username, password_hash) VALUES (%s, %s) "
            "ON CONFLICT (username) DO NOTHING RETURNING id",
            (username, phc),
        )
        if cur.fetchone() is None:
            return jsonify(error="username taken"), 409
    return jsonify(username=username), 201


@app.post("/login")
def login():
    body = request.get_json(force=True, silent=True) or {}
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return jsonify(error="invalid"), 400
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT password_hash FROM users WHERE username = %s", (username,)
        ).fetchone()
    try:
        if row is None:
            raise VerificationError("unknown user")
        hasher.verify(row[0], password)
    except (VerificationError, InvalidHashError):
        return jsonify(error="invalid credentials"), 401
    return jsonify(
        access_token=create_access_token(identity=username),
        refresh_token=create_refresh_token(identity=username),
        token_type="Bearer",
    )


@app.get("/protected")
@jwt_required()
def protected():
    return jsonify(user=get_jwt_identity())


@app.post("/refresh")
@jwt_required(refresh=True)
def refresh():
    return jsonify(access_token=create_access_token(identity=get_jwt_identity()))


@app.post("/logout")
@jwt_required(verify_type=False)
def logout():
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO token_blocklist (jti) VALUES (%s) ON CONFLICT DO NOTHING",
            (get_jwt()["jti"],),
        )
    return jsonify(msg="revoked")


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
