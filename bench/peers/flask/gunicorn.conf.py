# gthread, 4 workers x 4 threads: the configuration of the project's earlier measurement.
import os

bind = os.environ.get("PEER_BIND", "127.0.0.1:8091")
worker_class = "gthread"
workers = 4
threads = 4
loglevel = "warning"
accesslog = None


def on_starting(server):
    # Create the tables once, in the master, before any worker exists.
    import psycopg

    from app import SCHEMA

    with psycopg.connect(os.environ["PEER_DATABASE_URL"], autocommit=True) as conn:
        conn.execute(SCHEMA)


def post_fork(server, worker):
    from app import pool

    pool.open(wait=True)
